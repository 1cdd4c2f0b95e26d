// Enveloped XML-DSig for the drop-folder files (DESIGN §9, xsd/flows/ppay-flows.xsd): one
// RSA-SHA256 signature over the whole document (Reference URI=""), appended as the root's last
// child. Verification trusts only a pinned certificate and hands back only what was signed.

import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';

import { SignedXml } from 'xml-crypto';

import { domainError, isDomainError } from '../domain/errors.ts';
import { parseUntrusted, XmlRejected } from './schema.ts';

export interface SigningKey {
  privateKeyPem: string;
  certificatePem: string;
}

/** The part of @xmldom/xmldom's DOM read here (xml-crypto verifies on that DOM). */
interface DomElement {
  readonly nodeType: number;
  readonly localName: string | null;
  readonly namespaceURI: string | null;
  readonly parentNode: DomElement | null;
  readonly childNodes: ArrayLike<DomElement>;
  hasAttribute(name: string): boolean;
  getAttribute(name: string): string | null;
}

interface DomDocument {
  readonly documentElement: DomElement | null;
}

// Loaded untyped on purpose: @xmldom/xmldom's type declarations pull the DOM lib into the whole
// program, which changes Node's own fetch/Buffer typings elsewhere.
const { DOMParser } = createRequire(import.meta.url)('@xmldom/xmldom') as {
  DOMParser: new () => { parseFromString(xml: string, mimeType: string): DomDocument };
};

const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** Signs the whole document and returns it with ds:Signature (KeyInfo: the certificate) as the root's last child. */
export function signEnveloped(xml: string, key: SigningKey): string {
  requireMatchingPair(key);
  const signer = new SignedXml({
    privateKey: key.privateKeyPem,
    publicCert: key.certificatePem,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  signer.addReference({
    xpath: '/*',
    transforms: [ENVELOPED, EXC_C14N],
    digestAlgorithm: SHA256,
    isEmptyUri: true,
  });
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
  return signer.getSignedXml();
}

/**
 * Checks the document's one enveloped signature against the pinned certificate (never the
 * document's own KeyInfo) and returns the signed content: the canonical XML of the document
 * without its signature and without comments. Callers must read that, not the input, so nothing
 * unsigned (signature wrapping, comments) ever reaches them.
 */
export function verifyEnveloped(xml: string, trustedCertificatePem: string): string {
  requireSafeXml(xml);
  const publicKey = pinnedKey(trustedCertificatePem);
  const dom = new DOMParser().parseFromString(xml, 'text/xml');
  const verifier = new SignedXml({ publicCert: publicKey, getCertFromKeyInfo: () => null });
  const signatures = verifier.findSignatures(dom) as DomElement[];
  const signature = onlyEnvelopedSignature(signatures, dom.documentElement);
  requireWholeDocumentReference(signature);
  let valid: boolean;
  try {
    verifier.loadSignature(signature);
    if (verifier.signatureAlgorithm !== RSA_SHA256) invalid('the signature algorithm is not RSA-SHA256');
    valid = verifier.checkSignature(xml);
  } catch (err) {
    // xml-crypto throws when the signature value does not match the key (wrong certificate) or
    // the signature is malformed; it returns false when the signed content was changed.
    if (isDomainError(err)) throw err;
    invalid(
      `the signature does not verify: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300),
    );
  }
  if (!valid) invalid('the signed content was changed after signing');
  const [content, ...more] = verifier.getSignedReferences();
  if (content === undefined || more.length > 0) invalid('the signature does not cover exactly one reference');
  return content;
}

function invalid(message: string): never {
  throw domainError('SIGNATURE_INVALID', message);
}

/** DOCTYPE (entities) and malformed input stop here, before xml-crypto's own parser sees them. */
function requireSafeXml(xml: string): void {
  try {
    parseUntrusted(xml).dispose();
  } catch (err) {
    if (err instanceof XmlRejected) {
      throw domainError('INVALID_DOCUMENT', `the signed document is rejected: ${err.message}`, {
        reason: err.reason,
      });
    }
    throw err;
  }
}

function certificateOf(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw domainError('CONFIG_INVALID', `the ${what} is not a PEM X.509 certificate`);
  }
}

/** The pinned certificate's public key: only this key may have made the signature. */
function pinnedKey(certificatePem: string): KeyObject {
  return certificateOf(certificatePem, 'trusted certificate').publicKey;
}

/** A key that does not belong to its certificate would write files no one can verify. */
function requireMatchingPair(key: SigningKey): void {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(key.privateKeyPem);
  } catch {
    throw domainError('CONFIG_INVALID', 'the signing key is not a PEM private key');
  }
  const certified = certificateOf(key.certificatePem, 'signing certificate').publicKey;
  if (!publicKey.equals(certified)) {
    throw domainError('CONFIG_INVALID', 'the signing key does not belong to the signing certificate');
  }
}

/** Exactly one ds:Signature, a child of the root element (enveloped). */
function onlyEnvelopedSignature(signatures: readonly DomElement[], root: DomElement | null): DomElement {
  const [signature, ...others] = signatures;
  if (signature === undefined) invalid('the document is not signed');
  if (others.length > 0) invalid(`the document carries ${signatures.length} signatures; one is allowed`);
  if (root === null || signature.parentNode !== root)
    invalid('the signature is not a child of the root element');
  return signature;
}

const ELEMENT_NODE = 1;

function childElements(parent: DomElement, localName: string): DomElement[] {
  return Array.from(parent.childNodes).filter(
    (n) => n.nodeType === ELEMENT_NODE && n.localName === localName,
  );
}

/**
 * One SignedInfo with one Reference whose URI is present and empty: the whole document. A
 * reference by Id signs only part of it, which is what signature wrapping feeds on. Children are
 * matched by local name in any namespace, as xml-crypto reads them.
 */
function requireWholeDocumentReference(signature: DomElement): void {
  const [signedInfo, ...otherSignedInfo] = childElements(signature, 'SignedInfo');
  if (signedInfo?.namespaceURI !== DSIG_NS || otherSignedInfo.length > 0) {
    invalid('the signature must have one ds:SignedInfo');
  }
  const references = childElements(signedInfo, 'Reference');
  const [reference] = references;
  if (reference === undefined || references.length > 1) {
    invalid(`the signature has ${references.length} references; exactly one is allowed`);
  }
  if (!reference.hasAttribute('URI') || reference.getAttribute('URI') !== '') {
    invalid('the signature does not cover the whole document (Reference URI must be "")');
  }
  // The digest is what the RSA-SHA256 signature vouches for: a SHA-1 digest would make it no stronger than SHA-1.
  const digestMethods = childElements(reference, 'DigestMethod');
  if (digestMethods.length !== 1 || digestMethods[0]?.getAttribute('Algorithm') !== SHA256) {
    invalid('the reference digest must be SHA-256');
  }
}

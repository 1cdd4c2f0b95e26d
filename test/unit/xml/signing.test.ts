// Enveloped XML-DSig of the drop-folder files: signing, verification against a pinned certificate
// only, and the forgeries a verifier must refuse (tampering, foreign keys, partial references,
// signature wrapping, DOCTYPE).
import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'chai';
import { SignedXml } from 'xml-crypto';

import { PROJECT_ROOT } from '../../../src/xml/paths.ts';
import { signEnveloped, verifyEnveloped, type SigningKey } from '../../../src/xml/signing.ts';
import { expectDomainError } from '../../support/expectDomainError.ts';

const KEYS = path.join(PROJECT_ROOT, 'fixtures/keys');
const read = (file: string) => fs.readFileSync(path.join(KEYS, file), 'utf8');

const SIGNER: SigningKey = {
  privateKeyPem: read('export-signer.key.pem'),
  certificatePem: read('export-signer.cert.pem'),
};
const UNRELATED: SigningKey = {
  privateKeyPem: read('unrelated.key.pem'),
  certificatePem: read('unrelated.cert.pem'),
};

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

const CONTENT =
  '<fl:payout xmlns:fl="urn:test:payout"><payload Id="p1"><iban>IT60X0542811101000000123456</iban>' +
  '<amountCents>12300</amountCents></payload><note>A &amp; B</note></fl:payout>';
const DOCUMENT = `<?xml version="1.0" encoding="UTF-8"?>${CONTENT}`;

/** The certificate's base64 body, as KeyInfo carries it. */
function certificateBody(pem: string): string {
  return pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
}

/** Signs with xml-crypto directly, for documents our signer would never produce. */
function signWith(
  xml: string,
  references: Array<{ xpath: string; isEmptyUri?: boolean }>,
  signatureAlgorithm = RSA_SHA256,
): string {
  const signer = new SignedXml({
    privateKey: SIGNER.privateKeyPem,
    publicCert: SIGNER.certificatePem,
    signatureAlgorithm,
    canonicalizationAlgorithm: EXC_C14N,
  });
  for (const ref of references) {
    signer.addReference({ ...ref, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: SHA256 });
  }
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
  return signer.getSignedXml();
}

describe('enveloped XML signature (src/xml/signing.ts)', () => {
  describe('signEnveloped', () => {
    const signed = signEnveloped(DOCUMENT, SIGNER);

    it('appends one ds:Signature as the last child of the root, after the untouched content', () => {
      expect(
        signed.startsWith(`<?xml version="1.0" encoding="UTF-8"?>${CONTENT.replace('</fl:payout>', '')}`),
      ).to.equal(true);
      expect(signed).to.match(
        /<ds:Signature xmlns:ds="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">.*<\/ds:Signature><\/fl:payout>$/,
      );
      expect(signed.match(/<ds:Signature /g)).to.have.length(1);
    });

    it('uses RSA-SHA256, exclusive C14N and one whole-document reference with the enveloped transform', () => {
      expect(signed).to.include(`<ds:CanonicalizationMethod Algorithm="${EXC_C14N}"/>`);
      expect(signed).to.include(`<ds:SignatureMethod Algorithm="${RSA_SHA256}"/>`);
      expect(signed.match(/<ds:Reference /g)).to.have.length(1);
      expect(signed).to.include(
        `<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="${ENVELOPED}"/>` +
          `<ds:Transform Algorithm="${EXC_C14N}"/></ds:Transforms><ds:DigestMethod Algorithm="${SHA256}"/>`,
      );
    });

    it('publishes the signing certificate in KeyInfo', () => {
      expect(signed).to.include(
        `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBody(SIGNER.certificatePem)}</ds:X509Certificate>`,
      );
    });

    it('refuses a private key that does not belong to the certificate (CONFIG_INVALID)', () => {
      expectDomainError(
        () =>
          signEnveloped(DOCUMENT, {
            privateKeyPem: UNRELATED.privateKeyPem,
            certificatePem: SIGNER.certificatePem,
          }),
        'CONFIG_INVALID',
      );
    });
  });

  describe('verifyEnveloped', () => {
    const signed = signEnveloped(DOCUMENT, SIGNER);

    it('returns the signed content (the document without its signature) for the pinned certificate', () => {
      expect(verifyEnveloped(signed, SIGNER.certificatePem)).to.equal(CONTENT);
    });

    it('rejects a tampered amount (SIGNATURE_INVALID)', () => {
      const tampered = signed.replace('<amountCents>12300</amountCents>', '<amountCents>99900</amountCents>');
      expect(tampered).not.to.equal(signed);
      expectDomainError(() => verifyEnveloped(tampered, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('rejects a document verified against another certificate (SIGNATURE_INVALID)', () => {
      expectDomainError(() => verifyEnveloped(signed, UNRELATED.certificatePem), 'SIGNATURE_INVALID');
    });

    it('never trusts the KeyInfo of the document: a foreign key with its own certificate is rejected', () => {
      const forged = signEnveloped(DOCUMENT, UNRELATED);
      expect(forged).to.include(certificateBody(UNRELATED.certificatePem));
      expectDomainError(() => verifyEnveloped(forged, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('rejects a document whose signature was removed (SIGNATURE_INVALID)', () => {
      const stripped = signed.replace(/<ds:Signature .*<\/ds:Signature>/, '');
      expect(stripped).to.equal(DOCUMENT);
      expectDomainError(() => verifyEnveloped(stripped, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('rejects a document carrying two signatures (SIGNATURE_INVALID)', () => {
      const twice = signEnveloped(signed, SIGNER);
      expect(twice.match(/<ds:Signature /g)).to.have.length(2);
      expectDomainError(() => verifyEnveloped(twice, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('rejects a signature made with RSA-SHA1 even by the pinned key (SIGNATURE_INVALID)', () => {
      const weak = signWith(
        DOCUMENT,
        [{ xpath: '/*', isEmptyUri: true }],
        'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
      );
      expectDomainError(() => verifyEnveloped(weak, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('rejects a DOCTYPE before any signature processing (INVALID_DOCUMENT, reason doctype)', () => {
      const withDoctype = signed.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE fl:payout [<!ENTITY x "12300">]>',
      );
      expectDomainError(() => verifyEnveloped(withDoctype, SIGNER.certificatePem), 'INVALID_DOCUMENT', {
        reason: 'doctype',
      });
    });

    it('refuses a pinned value that is not a certificate (CONFIG_INVALID)', () => {
      expectDomainError(() => verifyEnveloped(signed, SIGNER.privateKeyPem), 'CONFIG_INVALID');
    });
  });

  describe('signature wrapping and partial references', () => {
    const signed = signEnveloped(DOCUMENT, SIGNER);
    const EVIL = '<amountCents>1</amountCents>';

    it('rejects the signed document wrapped inside an attacker root with unsigned content', () => {
      const inner = signed.replace('<?xml version="1.0" encoding="UTF-8"?>', '');
      const wrapped = `<?xml version="1.0" encoding="UTF-8"?><fl:payout xmlns:fl="urn:test:payout">${EVIL}<archive>${inner}</archive></fl:payout>`;
      expectDomainError(() => verifyEnveloped(wrapped, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('rejects unsigned content added next to the signature inside the signed root', () => {
      const padded = signed.replace('<ds:Signature ', `${EVIL}<ds:Signature `);
      expectDomainError(() => verifyEnveloped(padded, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('rejects the signature moved into a child element with the attacker content around it', () => {
      const signature = /<ds:Signature .*<\/ds:Signature>/.exec(signed)![0];
      const moved = `<?xml version="1.0" encoding="UTF-8"?>${CONTENT.replace('<note>', `<note>${signature}`).replace('12300', '1')}`;
      expectDomainError(() => verifyEnveloped(moved, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('returns only signed content: a comment slipped into a valid document never comes back', () => {
      const commented = signed.replace('<note>', '<!--<amountCents>1</amountCents>--><note>');
      expect(verifyEnveloped(commented, SIGNER.certificatePem)).to.equal(CONTENT);
    });

    it('rejects a valid signature whose reference is an Id (#p1), with attacker content outside it', () => {
      const byId = signWith(DOCUMENT, [{ xpath: "//*[@Id='p1']" }]);
      expect(byId).to.include('<ds:Reference URI="#p1">');
      const attacked = byId.replace('<note>A &amp; B</note>', `<note>pay ${EVIL}</note>${EVIL}`);
      expectDomainError(() => verifyEnveloped(byId, SIGNER.certificatePem), 'SIGNATURE_INVALID');
      expectDomainError(() => verifyEnveloped(attacked, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('rejects the classic wrapping: the signed Id element hidden in the signature, a forged one in its place', () => {
      const byId = signWith(DOCUMENT, [{ xpath: "//*[@Id='p1']" }]);
      const original = /<payload Id="p1">.*<\/payload>/.exec(byId)![0];
      const forged = byId
        .replace(original, original.replace('12300', '1'))
        .replace('</ds:Signature>', `<ds:Object>${original}</ds:Object></ds:Signature>`);
      expectDomainError(() => verifyEnveloped(forged, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('rejects a signature with a second reference besides the whole document', () => {
      const two = signWith(DOCUMENT, [{ xpath: '/*', isEmptyUri: true }, { xpath: "//*[@Id='p1']" }]);
      expect(two.match(/<ds:Reference /g)).to.have.length(2);
      expectDomainError(() => verifyEnveloped(two, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('accepts the same whole-document signature made by xml-crypto directly (the format is standard)', () => {
      const direct = signWith(DOCUMENT, [{ xpath: '/*', isEmptyUri: true }]);
      expect(verifyEnveloped(direct, SIGNER.certificatePem)).to.equal(CONTENT);
      expect(direct).to.include(`xmlns:ds="${DSIG}"`);
    });
  });
});

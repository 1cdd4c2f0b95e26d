// SOAP 1.1 envelopes: locating the Header and the single Body child of an inbound message (parsed
// with libxml2, so nothing is read before the XSD check), and writing outbound envelopes and Faults.

import type { XmlDocument, XmlElement } from 'libxml2-wasm';
import { XmlElement as XmlElementClass } from 'libxml2-wasm';
import { document, el, type XmlNode } from '../xml/build.ts';

export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

export class EnvelopeError extends Error {}

export interface InboundEnvelope {
  header: XmlElement | null;
  body: XmlElement;
  /** The one element inside soap:Body: the operation's request element. */
  payload: XmlElement;
}

function elementChildren(node: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (let child = node.firstChild; child; child = child.next) {
    if (child instanceof XmlElementClass) out.push(child);
  }
  return out;
}

function isSoap(node: XmlElement, name: string): boolean {
  return node.name === name && node.namespaceUri === SOAP11_NS;
}

export function readEnvelope(doc: XmlDocument): InboundEnvelope {
  const root = doc.root;
  if (!isSoap(root, 'Envelope')) throw new EnvelopeError('the root is not a SOAP 1.1 Envelope');
  const parts = elementChildren(root);
  const header = parts.find((p) => isSoap(p, 'Header')) ?? null;
  const body = parts.find((p) => isSoap(p, 'Body'));
  if (!body) throw new EnvelopeError('the Envelope has no Body');
  const payload = elementChildren(body);
  if (payload.length !== 1 || !payload[0]) throw new EnvelopeError('the Body must hold exactly one element');
  return { header, body, payload: payload[0] };
}

/** Child elements of a header or body element with the given namespace and local name. */
export function childrenNamed(
  parent: XmlElement | null,
  namespace: string | null,
  name: string,
): XmlElement[] {
  if (!parent) return [];
  return elementChildren(parent).filter(
    (c) => c.name === name && (namespace === null || c.namespaceUri === namespace),
  );
}

/** Text of the first descendant element with this local name (any namespace), trimmed; null when absent. */
export function firstText(root: XmlElement, localName: string): string | null {
  const stack = [root];
  while (stack.length) {
    const node = stack.shift() as XmlElement;
    if (node.name === localName) return node.content.trim();
    stack.push(...elementChildren(node));
  }
  return null;
}

export function envelope(payload: XmlNode, header?: XmlNode | null): string {
  return document(
    el(
      'soapenv:Envelope',
      { 'xmlns:soapenv': SOAP11_NS },
      header ? el('soapenv:Header', null, header) : null,
      el('soapenv:Body', null, payload),
    ),
  );
}

export type FaultCode = 'soap:Client' | 'soap:Server';

/** A SOAP 1.1 Fault with a fixed, non-revealing text and, when known, the correlation id. */
export function soapFault(code: FaultCode, text: string, correlationId?: string): string {
  const local = code === 'soap:Client' ? 'Client' : 'Server';
  return envelope(
    el(
      'soapenv:Fault',
      null,
      el('faultcode', null, `soapenv:${local}`),
      el('faultstring', null, text),
      correlationId ? el('detail', null, el('correlationId', null, correlationId)) : null,
    ),
  );
}

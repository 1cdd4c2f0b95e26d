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
  // Exactly an optional Header then one Body: a second Header or Body, or any other element, is
  // refused, since node-soap would read it in ways no check here has covered.
  const header = parts[0] && isSoap(parts[0], 'Header') ? parts[0] : null;
  const body = parts[header ? 1 : 0];
  if (!body || !isSoap(body, 'Body')) throw new EnvelopeError('the Envelope has no Body');
  if (parts.length !== (header ? 2 : 1))
    throw new EnvelopeError('the Envelope holds more than Header and Body');
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
  // Breadth-first with a cursor, not shift(): a hostile body of 100 000 siblings stays linear.
  const queue = [root];
  for (let next = 0; next < queue.length; next++) {
    const node = queue[next] as XmlElement;
    if (node.name === localName) return node.content.trim();
    for (const child of elementChildren(node)) queue.push(child);
  }
  return null;
}

/** firstText for several names in one breadth-first pass (null for a name that is absent). */
export function firstTexts(root: XmlElement, localNames: readonly string[]): Map<string, string | null> {
  const found = new Map<string, string | null>(localNames.map((n) => [n, null]));
  const missing = new Set(localNames);
  const queue = [root];
  for (let next = 0; next < queue.length && missing.size > 0; next++) {
    const node = queue[next] as XmlElement;
    if (missing.delete(node.name)) found.set(node.name, node.content.trim());
    for (const child of elementChildren(node)) queue.push(child);
  }
  return found;
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

// What every callback request shares (wsdl/gestionale-callback.wsdl, DESIGN §3): the operation's
// description from the manifest, its request element with the notification head, the SOAP 1.1
// envelope, and the check of the request body (and later of the ack) against the callback schema.

import type { XmlElement } from 'libxml2-wasm';
import { el, leaf, type XmlChild, type XmlNode } from '../../xml/build.ts';
import { parseUntrusted, schemaSetFor, type CompiledSchema } from '../../xml/schema.ts';
import { envelope, EnvelopeError, firstText, readEnvelope } from '../../soap/envelope.ts';
import { loadManifest, type OperationDescription, type ServiceDescription } from '../../soap/manifest.ts';

/** The head every notification starts with (cb:notificationHead). */
export interface NotificationHead {
  notificationId: string;
  eventDateTime: string;
  enteFiscalCode: string;
}

let service: ServiceDescription | null = null;

/** The callback service of the manifest (the one with interface `callback`). */
export function callbackService(): ServiceDescription {
  if (!service) {
    const found = loadManifest().find((s) => s.interface === 'callback');
    if (!found) throw new Error('xsd/manifest has no callback service');
    service = found;
  }
  return service;
}

export function callbackSchema(): CompiledSchema {
  return schemaSetFor(callbackService().schemas);
}

export function callbackOperation(name: string): OperationDescription | null {
  return callbackService().operations.find((o) => o.name === name) ?? null;
}

/** The operation's request element: namespace-qualified root, unqualified children (as the schema says). */
export function requestElement(
  operation: OperationDescription,
  head: NotificationHead,
  ...children: XmlChild[]
): XmlNode {
  return el(
    `cb:${operation.input.localName}`,
    { 'xmlns:cb': operation.input.namespace },
    leaf('notificationId', head.notificationId),
    leaf('eventDateTime', head.eventDateTime),
    leaf('enteFiscalCode', head.enteFiscalCode),
    ...children,
  );
}

/** A child element holding the given children, omitted when the value it comes from is absent. */
export function group(name: string, present: unknown, ...children: XmlChild[]): XmlNode | null {
  return present === undefined || present === null ? null : el(name, null, ...children);
}

/** Text cut to a schema's maximum length; null for an empty or absent text. */
export function clip(value: string | null | undefined, max: number): string | null {
  const text = value?.trim() ?? '';
  return text ? text.slice(0, max) : null;
}

/** The first few schema complaints about an element, as one line. */
function complaintsOf(element: XmlElement): string | null {
  const verdict = callbackSchema().validateNode(element);
  if (verdict.ok) return null;
  return verdict.violations
    .slice(0, 3)
    .map((v) => v.message)
    .join(' ');
}

/**
 * The SOAP envelope for a request element, after checking the element against the callback
 * schema: a request we built that breaks the contract is never sent (the caller gets why).
 */
export function callbackEnvelope(body: XmlNode): { xml: string; problem: string | null } {
  const xml = envelope(body);
  const doc = parseUntrusted(xml);
  try {
    return { xml, problem: complaintsOf(readEnvelope(doc).payload) };
  } finally {
    doc.dispose();
  }
}

/** What the gestionale answered, once its body element has been checked. */
export type AckVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Reads the gestionale's answer: delivered only on HTTP 200 with the operation's response element,
 * valid against the callback schema, with outcome OK. Anything else says why it is not.
 */
export function readAck(operation: OperationDescription, httpStatus: number, text: string): AckVerdict {
  let doc;
  try {
    doc = parseUntrusted(text);
  } catch {
    return { ok: false, reason: `HTTP ${httpStatus}, the answer is not XML` };
  }
  try {
    const { payload } = readEnvelope(doc);
    if (payload.name === 'Fault') {
      const fault = [firstText(payload, 'faultcode'), firstText(payload, 'faultstring')].filter(Boolean);
      return { ok: false, reason: `HTTP ${httpStatus}, SOAP Fault ${fault.join(': ')}`.slice(0, 300) };
    }
    if (httpStatus !== 200) return { ok: false, reason: `HTTP ${httpStatus}` };
    const expected = operation.output;
    if (payload.name !== expected.localName || payload.namespaceUri !== expected.namespace) {
      return { ok: false, reason: `the answer is ${payload.name}, not ${expected.localName}` };
    }
    const problem = complaintsOf(payload);
    if (problem)
      return { ok: false, reason: `the answer breaks the callback schema: ${problem}`.slice(0, 300) };
    // The schema fixes the shape: outcome, then an optional fault with faultCode and faultString.
    if (firstText(payload, 'outcome') === 'OK') return { ok: true };
    const code = firstText(payload, 'faultCode');
    const why = firstText(payload, 'faultString');
    return { ok: false, reason: `outcome KO${code ? ` ${code}` : ''}${why ? `: ${why}` : ''}`.slice(0, 300) };
  } catch (err) {
    if (!(err instanceof EnvelopeError)) throw err;
    return { ok: false, reason: `HTTP ${httpStatus}, the answer is not a SOAP 1.1 envelope` };
  } finally {
    doc.dispose();
  }
}

// The node's SOAP calls to an EC station (the connector): node-soap clients built from OUR generated
// WSDLs with the endpoint pointed at the connector. Every request the emulator writes and every
// answer it reads is checked against our schemas: a bad request is an emulator bug (thrown); a bad
// answer, an HTTP error, a timeout or a refused connection is what the node reports to a PSP
// (PPT_STAZIONE_INT_PA_ERRORE_RESPONSE / _TIMEOUT / _IRRAGGIUNGIBILE, pagopa-facts §5).

import * as soap from 'soap';
import { XmlElement } from 'libxml2-wasm';
import { readEnvelope } from '../soap/envelope.ts';
import { loadManifest, type ServiceDescription } from '../soap/manifest.ts';
import { parseUntrusted, schemaSetFor } from '../xml/schema.ts';
import type { NodeFaultCode } from './faults.ts';
import { TEXT_DESERIALIZERS } from '../soap/textDeserializers.ts';

export type EcService = 'paForNode.wsdl' | 'PaPerNodo.wsdl' | 'PaPerNodoPagamentoPsp.wsdl';

/** How long the node waits for an EC (pagopa-facts §11): 7 s for verify/get, 15 s for receipts, 30 s legacy. */
export const EC_TIMEOUT_MS: Readonly<Record<string, number>> = {
  paVerifyPaymentNotice: 7_000,
  paGetPayment: 7_000,
  paGetPaymentV2: 7_000,
  paSendRT: 15_000,
  paSendRTV2: 15_000,
  paaVerificaRPT: 30_000,
  paaAttivaRPT: 30_000,
  paaInviaRT: 30_000,
};

const PPTHEAD_NS = 'http://ws.pagamenti.telematici.gov/ppthead';

// A WSDL cache of our own: node-soap's shared one is keyed by file alone, and would hand us a WSDL
// parsed with another client's deserializers (numbers and dates instead of text).
const wsdls = new Map<string, soap.WSDL>();
const WSDL_CACHE: soap.IWSDLCache = {
  has: (key) => wsdls.has(key),
  get: (key) => wsdls.get(key) as soap.WSDL,
  set: (key, wsdl) => void wsdls.set(key, wsdl),
};

export type CallResult =
  | { ok: true; answer: Record<string, unknown> }
  | { ok: false; faultCode: NodeFaultCode; description: string };

let services: Map<string, ServiceDescription> | undefined;

function serviceOf(wsdl: EcService): ServiceDescription {
  services ??= new Map(loadManifest().map((s) => [s.wsdl, s]));
  const service = services.get(wsdl);
  if (!service?.path) throw new Error(`${wsdl}: not in the manifest`);
  return service;
}

/** The problems of a SOAP message against the service's schemas (body element and header blocks). */
function problemsOf(service: ServiceDescription, xml: string): string[] {
  const schema = schemaSetFor(service.schemas);
  const doc = parseUntrusted(xml);
  try {
    const { header, payload } = readEnvelope(doc);
    const blocks = [payload];
    for (let node = header?.firstChild ?? null; node; node = node.next) {
      if (node instanceof XmlElement && node.namespaceUri === PPTHEAD_NS) blocks.push(node);
    }
    return blocks.flatMap((block) => {
      const result = schema.validateNode(block);
      return result.ok ? [] : result.violations.map((v) => v.message);
    });
  } finally {
    doc.dispose();
  }
}

function failure(err: unknown): CallResult {
  const e = err as { code?: string; message?: string; response?: { status?: number } };
  const message = e.message ?? String(err);
  if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' || /timeout/i.test(message)) {
    return { ok: false, faultCode: 'PPT_STAZIONE_INT_PA_TIMEOUT', description: message };
  }
  if (e.response) {
    return {
      ok: false,
      faultCode: 'PPT_STAZIONE_INT_PA_ERRORE_RESPONSE',
      description: `HTTP ${e.response.status ?? '?'}: ${message}`,
    };
  }
  return { ok: false, faultCode: 'PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE', description: message };
}

export interface CallOptions {
  /** SOAP header blocks in the ppthead namespace, e.g. { intestazionePPT: {...} }. */
  pptHeader?: Record<string, unknown>;
}

/** Calls one operation of an EC service of the connector at `connectorUrl` (its base URL). */
export async function callEc(
  connectorUrl: string,
  wsdl: EcService,
  operation: string,
  args: Record<string, unknown>,
  options: CallOptions = {},
): Promise<CallResult> {
  const service = serviceOf(wsdl);
  const client = await soap.createClientAsync(service.wsdlPath, {
    endpoint: `${connectorUrl.replace(/\/+$/, '')}${service.path}`,
    wsdlCache: WSDL_CACHE,
    ...({ customDeserializer: TEXT_DESERIALIZERS } as object),
  });
  if (options.pptHeader) client.addSoapHeader(options.pptHeader, '', 'ppthead', PPTHEAD_NS);
  const method = client[`${operation}Async`] as
    | ((args: object, options: object) => Promise<[Record<string, unknown>, string, unknown, string]>)
    | undefined;
  if (!method) throw new Error(`${wsdl}: no operation ${operation}`);
  let result: [Record<string, unknown>, string, unknown, string] | undefined;
  let error: unknown;
  try {
    result = await method.call(client, args, { timeout: EC_TIMEOUT_MS[operation] ?? 30_000 });
  } catch (err) {
    error = err;
  }
  // An invalid request is a bug in the emulator itself, never something to report as the EC's fault.
  const sentProblems = client.lastRequest ? problemsOf(service, client.lastRequest) : [];
  if (sentProblems.length)
    throw new Error(`emulator sent an invalid ${operation}: ${sentProblems.join(' ')}`);
  if (!result) return failure(error);
  const [answer, raw] = result;
  let problems: string[];
  try {
    problems = problemsOf(service, raw);
  } catch {
    problems = ['the answer is not a SOAP envelope'];
  }
  if (problems.length) {
    return {
      ok: false,
      faultCode: 'PPT_STAZIONE_INT_PA_ERRORE_RESPONSE',
      description: problems.slice(0, 3).join(' '),
    };
  }
  return { ok: true, answer: answer ?? {} };
}

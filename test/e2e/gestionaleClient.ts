// Test support for the gestionale API end to end: a connector server on port 0 (gestionale and
// pagoPA bindings, a small synchronous-upload threshold, an upload worker the test can wait for),
// node-soap clients built from the served WSDL with a WS-Security UsernameToken, and every answer
// validated against xsd/gestionale before the test reads it.

import { expect } from 'chai';
import * as soap from 'soap';
import type { Knex } from 'knex';
import type { Store } from '../../src/db/store.ts';
import { addClient, type AddClientInput } from '../../src/app/admin.ts';
import { UploadWorker } from '../../src/app/gestionale/uploadWorker.ts';
import { gestionaleBinding } from '../../src/soap/gestionale/bindings.ts';
import { pagopaBindings } from '../../src/soap/pagopa/bindings.ts';
import { loadManifest } from '../../src/soap/manifest.ts';
import { readEnvelope, firstText } from '../../src/soap/envelope.ts';
import { parseUntrusted, schemaSetFor, type CompiledSchema } from '../../src/xml/schema.ts';
import { post, startTestServer, type TestServer } from '../support/soapServer.ts';
import { WSSE_NS } from '../../src/soap/wsSecurity.ts';

export const EC = '01234567897';
export const EC2 = '98765432103';
export const DEMO = { username: 'demo-gestionale', password: 'demo-gestionale-password' };
/** The node's identity for the demo ente (seedDemo's broker and station). */
export const NODE_CALLER = {
  enteFiscalCode: EC,
  brokerFiscalCode: '12345678903',
  stationId: '12345678903_01',
};
export const IBAN = 'IT92F0306901000100000046001';
export const IBAN_2 = 'IT40M0200801000000100200300';
/** Uploads with more items than this are ACCEPTED in these tests. */
export const TEST_SYNC_MAX = 3;

/** An answer object as node-soap parses it: nested records, arrays for repeated elements (or not). */
export type Answer = Record<string, unknown> & {
  outcome: string;
  fault?: { faultCode: string; field?: string; description?: string };
};

let gestionaleSchema: CompiledSchema | null = null;

function schema(): CompiledSchema {
  if (!gestionaleSchema) {
    const service = loadManifest().find((s) => s.wsdl === 'gestionale.wsdl');
    if (!service) throw new Error('no gestionale service in xsd/manifest');
    gestionaleSchema = schemaSetFor(service.schemas);
  }
  return gestionaleSchema;
}

/** Asserts the response envelope's body element validates against our gestionale schemas. */
export function expectValidAnswer(xml: string): void {
  const doc = parseUntrusted(xml);
  try {
    const { payload } = readEnvelope(doc);
    expect(payload.name, xml).to.not.equal('Fault');
    expect(schema().validateNode(payload), `answer against xsd/gestionale: ${xml}`).to.deep.equal({
      ok: true,
    });
    expect(firstText(payload, 'outcome')).to.be.oneOf(['OK', 'KO']);
  } finally {
    doc.dispose();
  }
}

/** node-soap gives a repeated element as an array, a single one as an object. */
export function list<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export interface GestionaleClient {
  call(operation: string, args: Record<string, unknown>): Promise<Answer>;
}

export async function gestionaleClient(
  server: TestServer,
  credentials: { username: string; password: string } = DEMO,
): Promise<GestionaleClient> {
  const endpoint = `${server.url}/ws/gestionale`;
  const client = await soap.createClientAsync(`${endpoint}?wsdl`, { endpoint });
  client.setSecurity(
    new soap.WSSecurity(credentials.username, credentials.password, { passwordType: 'PasswordText' }),
  );
  return {
    async call(operation, args) {
      const method = (client as unknown as Record<string, (a: unknown) => Promise<[Answer]>>)[
        `${operation}Async`
      ];
      if (!method) throw new Error(`no operation ${operation} in the served WSDL`);
      const [answer] = await method.call(client, args);
      expectValidAnswer(client.lastResponse as string);
      return answer;
    },
  };
}

export interface RawAnswer {
  outcome: string | null;
  faultCode: string | null;
  /** The body element as text, to compare two answers or pick values out of. */
  body: string;
}

/** Sends a body written by hand, to compare two answers byte for byte. */
export async function rawCall(
  server: TestServer,
  operation: string,
  children: string,
  credentials: { username: string; password: string } = DEMO,
): Promise<RawAnswer> {
  const xml =
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header>` +
    `<wsse:Security xmlns:wsse="${WSSE_NS}"><wsse:UsernameToken><wsse:Username>${credentials.username}</wsse:Username>` +
    `<wsse:Password>${credentials.password}</wsse:Password></wsse:UsernameToken></wsse:Security></soapenv:Header>` +
    `<soapenv:Body><g:${operation}Request xmlns:g="http://ppay-connector.it/gestionale/v1">${children}` +
    `</g:${operation}Request></soapenv:Body></soapenv:Envelope>`;
  const res = await post(`${server.url}/ws/gestionale`, xml, { SOAPAction: `"${operation}"` });
  expect(res.status, res.text).to.equal(200);
  expectValidAnswer(res.text);
  const doc = parseUntrusted(res.text);
  try {
    const { payload } = readEnvelope(doc);
    return {
      outcome: firstText(payload, 'outcome'),
      faultCode: firstText(payload, 'faultCode'),
      body: payload.toString(),
    };
  } finally {
    doc.dispose();
  }
}

/** The notice numbers in a raw answer, in document order. */
export function noticeNumbersIn(body: string): string[] {
  return [...body.matchAll(/<noticeNumber>([0-9]{18})<\/noticeNumber>/g)].map((m) => m[1] as string);
}

export function expectKo(answer: Answer, faultCode: string): void {
  expect(answer.outcome, JSON.stringify(answer)).to.equal('KO');
  expect(answer.fault?.faultCode, JSON.stringify(answer)).to.equal(faultCode);
}

export function expectOk(answer: Answer): void {
  expect(answer.outcome, JSON.stringify(answer)).to.equal('OK');
}

export interface GestionaleServer {
  server: TestServer;
  worker: UploadWorker;
}

/** The connector's SOAP services over the suite's database, with the test threshold and worker. */
export async function startGestionaleServer(db: Knex, store: Store): Promise<GestionaleServer> {
  const worker = new UploadWorker(store, { chunkSize: 2 });
  const bindings = [
    ...pagopaBindings(store),
    gestionaleBinding(store, { syncUploadMaxItems: TEST_SYNC_MAX, uploadWorker: worker }),
  ];
  const server = await startTestServer(db, store, bindings);
  return { server, worker };
}

export async function addTestClient(
  store: Store,
  input: Omit<AddClientInput, 'password'> & { password: string },
): Promise<{ username: string; password: string }> {
  await addClient(store, input);
  return { username: input.username, password: input.password };
}

let sequence = 0;

/** A fresh id for positionIds, messageIds and requestIds, unique within the run. */
export function uid(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${sequence}`;
}

export interface TransferArgs {
  enteFiscalCode?: string;
  amountCents: number;
  iban?: string;
  category?: string;
}

/** A ctDebtPosition for node-soap, keys in schema order. */
export function positionArgs(
  positionId: string,
  options: Array<{ installment: number; amountCents: number; iuv?: string; transfers?: TransferArgs[] }>,
  extra: { description?: string; metadata?: Array<{ key: string; value: string }> } = {},
): Record<string, unknown> {
  const position: Record<string, unknown> = {
    positionId,
    description: extra.description ?? `TARI 2027 ${positionId}`,
    debtor: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Mario Rossi' },
  };
  if (extra.metadata) position.metadata = { entry: extra.metadata };
  position.option = options.map((o) => {
    const option: Record<string, unknown> = { installment: o.installment };
    if (o.iuv) option.iuv = o.iuv;
    option.amountCents = o.amountCents;
    option.dueDate = '2027-06-30';
    option.transfer = (o.transfers ?? [{ amountCents: o.amountCents }]).map((t) => {
      const transfer: Record<string, unknown> = {};
      if (t.enteFiscalCode) transfer.enteFiscalCode = t.enteFiscalCode;
      transfer.amountCents = t.amountCents;
      transfer.iban = t.iban ?? IBAN;
      transfer.category = t.category ?? '9/0101101IM/';
      return transfer;
    });
    return option;
  });
  return position;
}

export function insertItem(position: Record<string, unknown>): Record<string, unknown> {
  return { action: 'INSERT', position };
}

export function uploadArgs(
  messageId: string,
  items: Array<Record<string, unknown>>,
  serviceCode = 'TARI',
): Record<string, unknown> {
  return { enteFiscalCode: EC, serviceCode, messageId, item: items };
}

// Shared by the legacy (SANP 2.x) specs: the connector with the emulated node mounted beside it on
// port 0, the model 3 RPT sender attached to a NodeClient pointed at that emulator, a proxy that
// loses the node's paaInviaRT on the way to the connector, official-WSDL clients with the
// intestazionePPT header, and checks of RPT/RT documents against our schema and the official one.

import path from 'node:path';
import type { AddressInfo } from 'node:net';
import http, { type Server } from 'node:http';
import { expect } from 'chai';
import * as soap from 'soap';
import { XmlElement } from 'libxml2-wasm';
import type { DbContext } from '../support/db.ts';
import { OFFICIAL_DOCUMENTS, officialValidator, SPEC_DIR } from '../support/officialSchemas.ts';
import { TEST_MAX_BODY_BYTES } from '../support/soapServer.ts';
import { buildApp } from '../../src/main.ts';
import { createPosition } from '../../src/app/positions.ts';
import type { StoredPosition } from '../../src/db/repositories/positions.ts';
import { pagopaBindings } from '../../src/soap/pagopa/bindings.ts';
import { NodeClient } from '../../src/pagopa/nodeClient.ts';
import { RptDispatcher } from '../../src/app/pagopa/rptSender.ts';
import { createEmulatorDb, type EmulatorDb } from '../../src/emulator/db.ts';
import { loadManifest, XSD_DIR } from '../../src/soap/manifest.ts';
import { readEnvelope } from '../../src/soap/envelope.ts';
import { parseUntrusted, schemaFor, schemaSetFor } from '../../src/xml/schema.ts';

export const BROKER = '12345678903';
export const STATION = '12345678903_01';
export const COMUNE = '01234567897';
export const UNIONE = '98765432103';
export const PPTHEAD_NS = 'http://ws.pagamenti.telematici.gov/ppthead';
/** A PSP of the emulator's registry (src/emulator/db.ts SEED_PSPS). */
export const PSP = { idPSP: 'BCITITMM', idBrokerPSP: '00799960158', idChannel: '00799960158_01' };

export type Tree = { [name: string]: Tree | Tree[] | string | string[] };

/** An element as nested plain objects: leaves are text, repeated names are arrays. */
export function treeOf(element: XmlElement): Tree | string {
  const children: XmlElement[] = [];
  for (let c = element.firstChild; c; c = c.next) if (c instanceof XmlElement) children.push(c);
  if (children.length === 0) return element.content;
  const tree: Tree = {};
  for (const child of children) {
    const value = treeOf(child);
    const existing = tree[child.name];
    if (existing === undefined) tree[child.name] = value as Tree;
    else tree[child.name] = [...(Array.isArray(existing) ? existing : [existing]), value] as Tree[];
  }
  return tree;
}

/** The answer element of a raw response, after checking it against our schema and the official one. */
export function checkedAnswer(wsdl: string, raw: string): Tree {
  const service = loadManifest().find((s) => s.wsdl === wsdl)!;
  const doc = parseUntrusted(raw);
  try {
    const { payload } = readEnvelope(doc);
    expect(schemaSetFor(service.schemas).validateNode(payload), `ours: ${raw}`).to.deep.equal({ ok: true });
    expect(officialValidator(wsdl).validateNode(payload), `official: ${raw}`).to.deep.equal({ ok: true });
    return treeOf(payload) as Tree;
  } finally {
    doc.dispose();
  }
}

/** An RPT or RT document checked against our rpt-rt.xsd and the official PagInf_RPT_RT_6_2_0.xsd. */
export function expectValidDocument(xml: string): void {
  const ours = schemaFor(path.join(XSD_DIR, 'pagopa/documents/rpt-rt.xsd')).validateXml(xml);
  expect(ours, `ours: ${xml}`).to.deep.equal({ ok: true });
  const official = schemaFor(OFFICIAL_DOCUMENTS.rptRt()).validateXml(xml);
  expect(official, `official: ${xml}`).to.deep.equal({ ok: true });
}

/** A leaf of a Pagamenti document, by local name (first occurrence). */
export function documentField(xml: string, name: string): string | null {
  const doc = parseUntrusted(xml);
  try {
    const stack: XmlElement[] = [doc.root];
    while (stack.length) {
      const node = stack.shift()!;
      if (node.name === name) return node.content.trim();
      for (let c = node.firstChild; c; c = c.next) if (c instanceof XmlElement) stack.push(c);
    }
    return null;
  } finally {
    doc.dispose();
  }
}

export interface LegacyServer {
  url: string;
  node: NodeClient;
  dispatcher: RptDispatcher;
  edb: EmulatorDb;
  close(): Promise<void>;
}

/**
 * A proxy in front of the connector that answers HTTP 503 to paaInviaRT and forwards everything else:
 * the node's RT push is lost on the way, while the RT stays at the node.
 */
export async function rtBlackhole(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const action = String(req.headers.soapaction ?? '');
      if (/paaInviaRT/.test(action)) {
        res.writeHead(503, { 'Content-Type': 'text/plain' }).end('connector unreachable');
        return;
      }
      const answer = await fetch(`${target}${req.url ?? '/'}`, {
        method: req.method ?? 'POST',
        headers: { 'Content-Type': String(req.headers['content-type'] ?? 'text/xml'), SOAPAction: action },
        body: req.method === 'GET' ? undefined : Buffer.concat(chunks),
      });
      res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'text/xml' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.listen(0, '127.0.0.1', () => resolve());
    server.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The connector's pagoPA endpoints and the emulator on one server at port 0, with the RPT sender attached. */
export async function startLegacyServer(ctx: DbContext): Promise<LegacyServer> {
  const dispatcher = new RptDispatcher(ctx.store, () => undefined);
  const bindings = pagopaBindings(ctx.store, { rptSender: dispatcher });
  const app = await buildApp(
    ctx.db,
    ctx.store,
    { maxBodyBytes: TEST_MAX_BODY_BYTES, emulator: true },
    bindings,
  );
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1');
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const node = new NodeClient({ baseUrl: `${url}/emulator`, timeoutMs: 10_000, store: ctx.store });
  dispatcher.attach(node);
  const edb = createEmulatorDb(ctx.store.db);
  await edb.psps.ensureSeeded();
  return {
    url,
    node,
    dispatcher,
    edb,
    close: async () => {
      await dispatcher.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Demo station switched to the legacy dialect (SANP 2.x), as an ente still on RPT/RT would be configured. */
export async function useLegacyStation(ctx: DbContext): Promise<void> {
  const station = await ctx.store.stations.getByStationId(STATION);
  await ctx.store.stations.setDialect(station!.id, 'legacy');
}

export interface HeaderKey {
  ente?: string;
  iuv: string;
  ccp: string;
}

export function intestazionePPT(key: HeaderKey) {
  return {
    intestazionePPT: {
      identificativoIntermediarioPA: BROKER,
      identificativoStazioneIntermediarioPA: STATION,
      identificativoDominio: key.ente ?? COMUNE,
      identificativoUnivocoVersamento: key.iuv,
      codiceContestoPagamento: key.ccp,
    },
  };
}

const OFFICIAL_WSDL: Record<string, string> = {
  'PaPerNodoPagamentoPsp.wsdl': 'legacy/wsdl/PaPerNodoPagamentoPsp.wsdl',
  'PaPerNodo.wsdl': 'legacy/wsdl/PaPerNodo.wsdl',
  'PaPerNodoRichiestaAvvisi.wsdl': 'legacy/wsdl/PaPerNodoRichiestaAvvisi.wsdl',
};

const PPT_NS = 'http://ws.pagamenti.telematici.gov/';

/**
 * A node-soap client built from the OFFICIAL WSDL of a legacy EC service, aimed at the connector.
 * The official PaPerNodoPagamentoPsp.wsdl includes sac-common-types-1.0.xsd (elementFormDefault
 * qualified) into the ppt namespace; node-soap lets that setting leak onto the WSDL's own inline
 * schema, which per XSD stays unqualified (elementFormDefault is per schema document), and would
 * write every body child in the ppt namespace. The leaked setting is put back before any call.
 */
export async function officialClient(url: string, wsdl: keyof typeof OFFICIAL_WSDL): Promise<soap.Client> {
  const service = loadManifest().find((s) => s.wsdl === wsdl)!;
  const client = await soap.createClientAsync(path.join(SPEC_DIR, OFFICIAL_WSDL[wsdl]!), {
    endpoint: `${url}${service.path}`,
  });
  const schemas = (
    client as unknown as { wsdl: { definitions: { schemas: Record<string, Record<string, unknown>> } } }
  ).wsdl.definitions.schemas;
  const ppt = schemas[PPT_NS];
  if (ppt) delete ppt.$elementFormDefault;
  return client;
}

/** Calls one operation with the given header; returns the answer, checked against both schemas. */
export async function callLegacy(
  client: soap.Client,
  wsdl: string,
  operation: string,
  header: object,
  args: object,
): Promise<Tree> {
  client.clearSoapHeaders();
  client.addSoapHeader(header, '', 'ppthead', PPTHEAD_NS);
  const method = (client as unknown as Record<string, (a: object) => Promise<[unknown, string]>>)[
    `${operation}Async`
  ];
  const [, raw] = await method!.call(client, args);
  return checkedAnswer(wsdl, raw);
}

/** The inner answer element (paaXxxRisposta/paaXxxRisposta) of a legacy answer tree. */
export function inner(tree: Tree, name: string): Tree {
  return tree[name] as Tree;
}

export function faultCodeOf(answer: Tree): string | undefined {
  return (answer.fault as Tree | undefined)?.faultCode as string | undefined;
}

let ccpCounter = 0;
/** A fresh CCP, as a PSP would choose it (at most 35 characters). */
export function newCcp(prefix = 'CCP'): string {
  ccpCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${ccpCounter}`.slice(0, 35);
}

/**
 * A legacy (SANP 2.x) EC beside the demo data: a second station of the demo broker on the legacy
 * dialect, an ente on it (segregation code 01, the first demo ente's IBAN) with a TARI service.
 * Returns the new ente's fiscal code.
 */
export async function createLegacyEnte(
  store: DbContext['store'],
  opts: { brokerFiscalCode: string; stationId: string; iban: string; fiscalCode: string },
): Promise<string> {
  const broker = await store.brokers.getByFiscalCode(opts.brokerFiscalCode);
  const station = await store.stations.create({
    stationId: opts.stationId,
    brokerId: broker!.id,
    password: 'LegacyStation9',
    dialect: 'legacy',
  });
  const ente = await store.enti.create({
    fiscalCode: opts.fiscalCode,
    name: 'Comune legacy',
    stationId: station.id,
    segregationCode: '01',
    iban: opts.iban,
  });
  await store.services.create({
    enteId: ente.id,
    code: 'TARI',
    description: 'Tassa rifiuti',
    category: '9/0101101IM/',
    iban: opts.iban,
  });
  return opts.fiscalCode;
}

/** A single-payment TARI position (the service createLegacyEnte gives), as the ente's gestionale would load it. */
export function createLegacyTariPosition(
  store: DbContext['store'],
  opts: { enteFiscalCode: string; positionId: string; amountCents: number; iban: string; cause: string },
): Promise<StoredPosition> {
  const { amountCents, iban } = opts;
  return createPosition(store, {
    enteFiscalCode: opts.enteFiscalCode,
    serviceCode: 'TARI',
    draft: {
      positionId: opts.positionId,
      description: 'TARI 2026',
      debtor: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Mario Rossi' },
      options: [
        {
          installment: 0,
          amountCents,
          dueDate: '2027-01-31',
          transfers: [{ amountCents, iban, category: '9/0101101IM/' }],
        },
      ],
    },
    actor: 'mocha',
    cause: opts.cause,
  });
}

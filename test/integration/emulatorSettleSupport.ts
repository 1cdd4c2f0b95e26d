// Shared by the specs of the emulator's day settlement (src/emulator/settle.ts): the connector with
// the emulated node beside it on port 0 over the demo data plus a legacy (SANP 2.x) ente on a second
// station, PSPs paying notices there, a treasury folder in a temp dir, and the node's flow operations
// (nodoChiediElencoFlussiRendicontazione / nodoChiediFlussoRendicontazione) called over SOAP.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as soap from 'soap';
import { randomEnteFiscalCode, TEST_IBAN, type DbContext } from '../support/db.ts';
import { officialValidator, specAvailable } from '../support/officialSchemas.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { parseDecimalAmount } from '../../src/domain/money.ts';
import { payNotice } from '../../src/emulator/index.ts';
import { romeDate } from '../../src/pagopa/time.ts';
import { readRt } from '../../src/pagopa/rt.ts';
import { readEnvelope } from '../../src/soap/envelope.ts';
import { loadManifest } from '../../src/soap/manifest.ts';
import { parseUntrusted, schemaSetFor } from '../../src/xml/schema.ts';
import {
  createLegacyEnte,
  createLegacyTariPosition,
  startLegacyServer,
  type LegacyServer,
} from './pagopaLegacySupport.ts';

export const DEMO_STATION = { broker: '12345678903', station: '12345678903_01', password: 'DemoStation01' };
/** A second station of the demo broker, on the legacy dialect; createLegacyEnte's password. */
export const LEGACY_STATION = {
  broker: '12345678903',
  station: '12345678903_07',
  password: 'LegacyStation9',
};
export const COMUNE = '01234567897';
export const UNIONE = '98765432103';

export interface Notice {
  enteFiscalCode: string;
  noticeNumber: string;
  iuv: string;
  amountCents: number;
}

/** One payment as the reporting flow must show it: per beneficiary EC, IUV, IUR, index and amount. */
export interface PaidLine {
  psp: string;
  ente: string;
  iuv: string;
  iur: string;
  transferIndex: number;
  amountCents: number;
}

export interface SettleWorld {
  server: LegacyServer;
  demo: DemoSummary;
  dataDir: string;
  legacyEnte: string;
  /** The operating day of every payment of the run: today in Europe/Rome. */
  today: string;
  notice(positionId: string): Notice;
  legacyNotice(positionId: string, amountCents: number): Promise<Notice>;
  /** A PSP pays the notice (model 3); returns the lines its flows must carry. */
  pay(notice: Notice, psp: string): Promise<PaidLine[]>;
  close(): Promise<void>;
}

export async function startSettleWorld(ctx: DbContext): Promise<SettleWorld> {
  const demo = await seedDemo(ctx.store);
  const server = await startLegacyServer(ctx);
  const legacyEnte = await createLegacyEnte(ctx.store, {
    brokerFiscalCode: demo.broker.fiscalCode,
    stationId: LEGACY_STATION.station,
    iban: TEST_IBAN,
    fiscalCode: randomEnteFiscalCode(),
  });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-settle-'));

  const notice = (positionId: string): Notice => {
    const found = demo.positions.find((p) => p.positionId === positionId);
    if (!found) throw new Error(`no demo position ${positionId}`);
    return found;
  };

  const legacyNotice = async (positionId: string, amountCents: number): Promise<Notice> => {
    const created = await createLegacyTariPosition(ctx.store, {
      enteFiscalCode: legacyEnte,
      positionId,
      amountCents,
      iban: TEST_IBAN,
      cause: 'emulator settle spec',
    });
    const option = created.options[0]!;
    return { enteFiscalCode: legacyEnte, noticeNumber: option.noticeNumber!, iuv: option.iuv, amountCents };
  };

  const pay = async (n: Notice, psp: string): Promise<PaidLine[]> => {
    const result = await payNotice({
      store: ctx.store,
      connectorUrl: server.url,
      enteFiscalCode: n.enteFiscalCode,
      noticeNumber: n.noticeNumber,
      psp,
      rptWaitMs: 5_000,
    });
    expect(result.ok, JSON.stringify(result.steps)).to.equal(true);
    const token = result.paymentToken!;
    if (result.dialect === 'legacy') {
      const rt = await server.edb.rts.get({ idDominio: n.enteFiscalCode, iuv: n.iuv, ccp: token });
      return readRt(rt!.rtXml).payments.map((p, i) => ({
        psp,
        ente: n.enteFiscalCode,
        iuv: n.iuv,
        iur: p.iur,
        transferIndex: i + 1,
        amountCents: p.amountCents,
      }));
    }
    const payment = await server.edb.payments.get(token);
    const transfers = (payment!.receipt!.transferList as { transfer: Array<Record<string, string>> })
      .transfer;
    return (Array.isArray(transfers) ? transfers : [transfers]).map((t) => ({
      psp,
      ente: t.fiscalCodePA!,
      iuv: n.iuv,
      iur: token,
      transferIndex: Number(t.idTransfer),
      amountCents: parseDecimalAmount(t.transferAmount!),
    }));
  };

  return {
    server,
    demo,
    dataDir,
    legacyEnte,
    today: romeDate(new Date()),
    notice,
    legacyNotice,
    pay,
    close: async () => {
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type NodeAnswer = Record<string, unknown> & { fault?: { faultCode: string } };

/** The answer element of a node response, checked against our nodeForPa schemas and the official ones. */
function checkedNodeAnswer(raw: string): void {
  const service = loadManifest().find((s) => s.wsdl === 'nodeForPa.wsdl')!;
  const doc = parseUntrusted(raw);
  try {
    const { payload } = readEnvelope(doc);
    expect(schemaSetFor(service.schemas).validateNode(payload), `ours: ${raw}`).to.deep.equal({ ok: true });
    if (specAvailable()) {
      expect(officialValidator('nodeForPa.wsdl').validateNode(payload), `official: ${raw}`).to.deep.equal({
        ok: true,
      });
    }
  } finally {
    doc.dispose();
  }
}

/** Calls one node flow operation (nodeForPa) as a station; the raw answer is schema-checked. */
export async function callNode(
  url: string,
  operation: 'nodoChiediElencoFlussiRendicontazione' | 'nodoChiediFlussoRendicontazione',
  login: typeof DEMO_STATION,
  args: Record<string, string>,
): Promise<NodeAnswer> {
  const client = await soap.createClientAsync('wsdl/nodeForPa.wsdl', {
    endpoint: `${url}/emulator/ws/nodeForPa`,
    disableCache: true,
    ...({
      customDeserializer: { int: (t: string) => t, dateTime: (t: string) => t, boolean: (t: string) => t },
    } as object),
  });
  const method = (client as unknown as Record<string, (a: object) => Promise<[NodeAnswer, string]>>)[
    `${operation}Async`
  ]!;
  const [answer, raw] = await method.call(client, {
    identificativoIntermediarioPA: login.broker,
    identificativoStazioneIntermediarioPA: login.station,
    password: login.password,
    ...args,
  });
  checkedNodeAnswer(raw);
  return answer;
}

/** The flows the node lists for a station: identificativoFlusso → dataOraFlusso. */
export async function listedFlows(
  url: string,
  login: typeof DEMO_STATION,
  args: Record<string, string> = {},
): Promise<Map<string, string>> {
  const answer = await callNode(url, 'nodoChiediElencoFlussiRendicontazione', login, args);
  expect(answer.fault, JSON.stringify(answer.fault)).to.equal(undefined);
  const list = answer.elencoFlussiRendicontazione as {
    totRestituiti: string;
    idRendicontazione?: Array<Record<string, string>> | Record<string, string>;
  };
  const entries = list.idRendicontazione ?? [];
  const flows = (Array.isArray(entries) ? entries : [entries]).map(
    (e) => [e.identificativoFlusso!, e.dataOraFlusso!] as const,
  );
  expect(Number(list.totRestituiti)).to.equal(flows.length);
  return new Map(flows);
}

/** The XML of one flow as the node serves it, or the fault code. */
export async function fetchedFlow(
  url: string,
  login: typeof DEMO_STATION,
  flowId: string,
  args: Record<string, string> = {},
): Promise<{ xml: string | null; faultCode: string | null }> {
  const answer = await callNode(url, 'nodoChiediFlussoRendicontazione', login, {
    ...args,
    identificativoFlusso: flowId,
  });
  if (answer.fault) return { xml: null, faultCode: answer.fault.faultCode };
  return { xml: Buffer.from(String(answer.xmlRendicontazione), 'base64').toString('utf8'), faultCode: null };
}

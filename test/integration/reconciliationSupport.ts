// Shared by the reconciliation specs: the connector with the emulated node mounted beside it on port
// 0, fed by an in-memory FlowSource the test fills with flows built by buildFlussoRiversamento; a
// NodeClient pointed at it; flows and bank statements built from the receipts the connector stored.

import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { buildApp, defaultSoapBindings } from '../../src/main.ts';
import { RptDispatcher } from '../../src/app/pagopa/rptSender.ts';
import { mountEmulator, payNotice } from '../../src/emulator/index.ts';
import type { FlowQuery, FlowReference, FlowSource } from '../../src/emulator/flows.ts';
import type { Store } from '../../src/db/store.ts';
import { NodeClient } from '../../src/pagopa/nodeClient.ts';
import { buildFlussoRiversamento } from '../../src/pagopa/flussoRiversamento.ts';
import { readStoredReceipt } from '../../src/pagopa/storedReceipt.ts';
import type { BankEntry, BankStatement, FlowDocument, FlowPayment } from '../../src/reconciliation/model.ts';
import {
  buildCamt053,
  buildCashJournal,
  pagopaRemittance,
} from '../../src/reconciliation/statements/index.ts';
import type { Receipt } from '../../src/db/repositories/receipts.ts';
import { TEST_MAX_BODY_BYTES } from '../support/soapServer.ts';

export const COMUNE = '01234567897';
export const UNIONE = '98765432103';
export const IBAN_COMUNE = 'IT92F0306901000100000046001';

/** The node's flows, held in memory: each put() adds a revision, get() gives the latest one. */
export class MemoryFlowSource implements FlowSource {
  private readonly flows: Array<{ ente: string; psp: string; ref: FlowReference; xml: string }> = [];
  /** Flow ids whose get() answers with this text instead of the flow (a broken document). */
  readonly broken = new Map<string, string>();

  put(doc: FlowDocument, xml = buildFlussoRiversamento(doc)): void {
    this.flows.push({
      ente: doc.receiver.id,
      psp: doc.sender.id,
      ref: { identificativoFlusso: doc.flowId, dataOraFlusso: doc.flowDateTime },
      xml,
    });
  }

  /** Lists a flow whose document is whatever text is given. */
  putRaw(ente: string, psp: string, ref: FlowReference, xml: string): void {
    this.flows.push({ ente, psp, ref, xml });
  }

  private matching(query: FlowQuery) {
    return this.flows.filter(
      (f) =>
        (query.idDominio === null || f.ente === query.idDominio) &&
        (query.idPsp === null || f.psp === query.idPsp),
    );
  }

  list(query: FlowQuery): Promise<FlowReference[]> {
    return Promise.resolve(this.matching(query).map((f) => f.ref));
  }

  get(query: FlowQuery, flowId: string): Promise<string | null> {
    const found = this.matching(query).filter((f) => f.ref.identificativoFlusso === flowId);
    return Promise.resolve(found.at(-1)?.xml ?? null);
  }
}

export interface ReconciliationServer {
  url: string;
  flows: MemoryFlowSource;
  node: NodeClient;
  close(): Promise<void>;
}

/** The connector (with the model 3 RPT sender, for legacy stations) and the emulated node on port 0. */
export async function startReconciliationServer(db: Knex, store: Store): Promise<ReconciliationServer> {
  const flows = new MemoryFlowSource();
  const dispatcher = new RptDispatcher(store, () => undefined);
  const app = await buildApp(
    db,
    store,
    { maxBodyBytes: TEST_MAX_BODY_BYTES, emulator: false },
    defaultSoapBindings(store, { rptSender: dispatcher }),
  );
  await mountEmulator(app, { store, maxBodyBytes: TEST_MAX_BODY_BYTES, flows });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1');
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const node = new NodeClient({ baseUrl: `${url}/emulator`, timeoutMs: 10_000, store });
  dispatcher.attach(node);
  return {
    url,
    flows,
    node,
    close: async () => {
      await dispatcher.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The emulated PSP pays a notice (current model, paSendRTV2) on the server; returns the receipt stored. */
export async function payAndGetReceipt(
  store: Store,
  server: Pick<ReconciliationServer, 'url'>,
  opts: { ente: string; noticeNumber: string; psp: string },
): Promise<Receipt> {
  const result = await payNotice({
    store,
    connectorUrl: server.url,
    enteFiscalCode: opts.ente,
    noticeNumber: opts.noticeNumber,
    psp: opts.psp,
  });
  expect(result.ok, JSON.stringify(result.steps)).to.equal(true);
  const enteId = (await store.enti.getByFiscalCode(opts.ente))!.id;
  const position = await store.positions.findByNoticeNumber(enteId, opts.noticeNumber);
  const option = position!.options.find((o) => o.noticeNumber === opts.noticeNumber)!;
  return (await store.receipts.listByIuv(enteId, option.iuv)).at(-1)!;
}

/** The flow lines reporting a stored receipt's transfers to one ente, as a PSP writes them. */
export function linesOf(receipt: Receipt, enteFiscalCode: string, outcomeDate = '2026-11-26'): FlowPayment[] {
  const legacy = receipt.source === 'paaInviaRT';
  const details = readStoredReceipt(legacy ? 'rt' : 'current', receipt.document);
  return details.transfers
    .filter((t) => t.enteFiscalCode === enteFiscalCode)
    .map((t) => ({
      iuv: receipt.iuv,
      iur: legacy ? (t.iur ?? receipt.receiptId) : receipt.receiptId,
      transferIndex: t.index,
      amountCents: t.amountCents ?? 0,
      outcomeCode: '0' as const,
      outcomeDate,
    }));
}

export interface FlowSpec {
  flowId: string;
  flowDateTime?: string;
  trn?: string;
  settlementDate?: string;
  psp?: string;
  ente?: string;
  payments: FlowPayment[];
  /** Totals as written; by default the count and signed sum of the lines. */
  paymentCount?: number;
  totalAmountCents?: number;
}

export function flowDocument(spec: FlowSpec): FlowDocument {
  return {
    version: '1.0',
    flowId: spec.flowId,
    flowDateTime: spec.flowDateTime ?? '2026-11-26T14:00:00',
    trn: spec.trn ?? `TRN${spec.flowId.replace(/[^A-Za-z0-9]/g, '').slice(-20)}`,
    settlementDate: spec.settlementDate ?? '2026-11-26',
    sender: { idType: 'B', id: spec.psp ?? 'BCITITMM', name: 'Banca Esempio' },
    bic: null,
    receiver: { idType: 'G', id: spec.ente ?? COMUNE, name: 'Comune di Esempio' },
    paymentCount: spec.paymentCount ?? spec.payments.length,
    totalAmountCents: spec.totalAmountCents ?? spec.payments.reduce((sum, p) => sum + p.amountCents, 0),
    payments: spec.payments,
  };
}

/** The SCT crediting a flow, as the treasury books it. */
export function creditFor(
  doc: FlowDocument,
  opts: { amountCents?: number; entryRef?: string; valueDate?: string } = {},
): BankEntry {
  return {
    entryRef: opts.entryRef ?? `REF-${doc.trn}`,
    direction: 'CRDT',
    amountCents: opts.amountCents ?? doc.totalAmountCents,
    bookingDate: opts.valueDate ?? doc.settlementDate,
    valueDate: opts.valueDate ?? doc.settlementDate,
    trn: doc.trn,
    endToEndId: null,
    debtorName: 'Banca Esempio Servizio pagoPA',
    remittanceInformation: pagopaRemittance(doc.flowId),
  };
}

export function statement(
  entries: BankEntry[],
  opts: { statementId?: string; owner?: string | null } = {},
): BankStatement {
  return {
    format: 'camt053',
    statementId: opts.statementId ?? `STMT-${entries[0]?.valueDate ?? 'X'}`,
    createdAt: '2026-11-27T08:00:00',
    accountIban: IBAN_COMUNE,
    ownerFiscalCode: opts.owner === undefined ? COMUNE : opts.owner,
    entries,
  };
}

export function camtOf(s: BankStatement): string {
  return buildCamt053({ ...s, format: 'camt053' });
}

export function csvOf(s: BankStatement): string {
  return buildCashJournal({ ...s, format: 'csv' });
}

/** A data dir with the treasury folder of an ente; returns the data dir. */
export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'ppay-recon-'));
}

export function dropStatement(dataDir: string, ente: string, name: string, content: string): string {
  const dir = path.join(dataDir, 'treasury', ente, 'in');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

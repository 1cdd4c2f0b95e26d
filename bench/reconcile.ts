// Benchmark 3, reconciliation on SQLite: N positions imported by `ppay import`, each paid by a
// paSendRTV2 receipt (stored in bulk, as receiveReceipt leaves them: receipt with its option, option
// and position PAID), reported in flows of FLOW_LINES lines stored as fetched from the node, and a
// camt.053 statement crediting every flow in the treasury folder. Measured: reconcile() importing
// the statement and matching everything (options and positions REPORTED then RECONCILED).
// Baseline: the same matching as raw SQL in one transaction (lines joined to receipts, options and
// positions moved by set-based UPDATEs, rolled back), on the same database.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { reconcile } from '../src/app/reconciliation/reconcile.ts';
import { buildFlussoRiversamento } from '../src/pagopa/flussoRiversamento.ts';
import { buildCamt053, pagopaRemittance } from '../src/reconciliation/statements/index.ts';
import type { BankEntry, FlowDocument } from '../src/reconciliation/model.ts';
import { countOf, generateCsv, IBAN, importFile, openSite, type Site } from './lib/site.ts';
import { failedRow, fmtInt, fmtS, ratioOf, type BenchRow } from './lib/table.ts';

const FLOW_LINES = 1000;
const PSP = 'BCITITMM';
const PAID_AT = '2026-11-20T12:40:05';
const SETTLED_ON = '2026-11-23';
const AS_OF = '2026-11-24';
const MAX_SECONDS = 10;
const CHUNK = 200;

interface PaidOption {
  id: number;
  iuv: string;
  noticeNumber: string;
  amountCents: number;
  receiptId: string;
}

const euro = (cents: number) => (cents / 100).toFixed(2);

/** The <receipt> of a paSendRTV2 request, as the connector stores it (src/soap/pagopa/currentModel.ts). */
function receiptDocument(site: Site, o: PaidOption): string {
  return (
    `<receipt><receiptId>${o.receiptId}</receiptId><noticeNumber>${o.noticeNumber}</noticeNumber>` +
    `<fiscalCode>${site.enteFiscalCode}</fiscalCode><outcome>OK</outcome><creditorReferenceId>${o.iuv}</creditorReferenceId>` +
    `<paymentAmount>${euro(o.amountCents)}</paymentAmount><description>Generated position</description><companyName>Comune di Benchmark</companyName>` +
    `<debtor><uniqueIdentifier><entityUniqueIdentifierType>F</entityUniqueIdentifierType><entityUniqueIdentifierValue>RSSMRA80A01H501U</entityUniqueIdentifierValue></uniqueIdentifier><fullName>Mario Rossi</fullName></debtor>` +
    `<transferList><transfer><idTransfer>1</idTransfer><transferAmount>${euro(o.amountCents)}</transferAmount><fiscalCodePA>${site.enteFiscalCode}</fiscalCodePA>` +
    `<IBAN>${IBAN}</IBAN><remittanceInformation>/RFB/${o.iuv}/${euro(o.amountCents)}</remittanceInformation><transferCategory>0101108TS</transferCategory></transfer></transferList>` +
    `<idPSP>${PSP}</idPSP><pspFiscalCode>88888888888</pspFiscalCode><PSPCompanyName>Banca Esempio S.p.A.</PSPCompanyName><idChannel>88888888888_01</idChannel>` +
    `<channelDescription>app</channelDescription><paymentMethod>BPAY</paymentMethod><fee>1.00</fee><paymentDateTime>${PAID_AT}</paymentDateTime>` +
    `<applicationDate>2026-11-20</applicationDate><transferDate>2026-11-21</transferDate></receipt>`
  );
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Receipts, flows and the statement for every option of the site's ente. */
async function prepare(site: Site): Promise<{ options: number; flows: number }> {
  const rows: Array<{ id: number; iuv: string; notice_number: string; amount_cents: number | string }> =
    await site
      .db('payment_options')
      .where({ ente_id: site.enteId })
      .orderBy('id')
      .select('id', 'iuv', 'notice_number', 'amount_cents');
  const paid: PaidOption[] = rows.map((r, i) => ({
    id: r.id,
    iuv: r.iuv,
    noticeNumber: r.notice_number,
    amountCents: Number(r.amount_cents),
    receiptId: `bench${String(i).padStart(27, '0')}`,
  }));
  const receivedAt = new Date().toISOString();
  await site.db.transaction(async (trx) => {
    for (const part of chunks(paid, CHUNK)) {
      await trx('receipts').insert(
        part.map((o) => ({
          ente_id: site.enteId,
          iuv: o.iuv,
          receipt_id: o.receiptId,
          notice_number: o.noticeNumber,
          source: 'paSendRTV2',
          outcome: 'OK',
          amount_cents: o.amountCents,
          payment_date_time: PAID_AT,
          psp_id: PSP,
          document: receiptDocument(site, o),
          option_id: o.id,
          received_at: receivedAt,
        })),
      );
    }
    await trx('payment_options').where({ ente_id: site.enteId }).update({ status: 'PAID' });
    await trx('positions').where({ ente_id: site.enteId }).update({ status: 'PAID' });
  });
  const entries: BankEntry[] = [];
  let k = 0;
  for (const part of chunks(paid, FLOW_LINES)) {
    k += 1;
    const doc: FlowDocument = {
      version: '1.0',
      flowId: `${SETTLED_ON}${PSP}-${k}`,
      flowDateTime: '2026-11-22T10:00:00',
      trn: `TRNBENCH${String(k).padStart(8, '0')}`,
      settlementDate: SETTLED_ON,
      sender: { idType: 'B', id: PSP, name: 'Banca Esempio' },
      bic: null,
      receiver: { idType: 'G', id: site.enteFiscalCode, name: 'Comune di Benchmark' },
      paymentCount: part.length,
      totalAmountCents: part.reduce((sum, o) => sum + o.amountCents, 0),
      payments: part.map((o) => ({
        iuv: o.iuv,
        iur: o.receiptId,
        transferIndex: 1,
        amountCents: o.amountCents,
        outcomeCode: '0' as const,
        outcomeDate: '2026-11-20',
      })),
    };
    await site.store.reconciliationFlows.insertRevision(site.enteId, doc, buildFlussoRiversamento(doc), {
      cause: 'bench',
      actor: 'bench',
    });
    entries.push({
      entryRef: `REF-${doc.trn}`,
      direction: 'CRDT',
      amountCents: doc.totalAmountCents,
      bookingDate: SETTLED_ON,
      valueDate: SETTLED_ON,
      trn: doc.trn,
      endToEndId: null,
      debtorName: 'Banca Esempio Servizio pagoPA',
      remittanceInformation: pagopaRemittance(doc.flowId),
    });
  }
  const folder = path.join(site.dataDir, 'treasury', site.enteFiscalCode, 'in');
  await mkdir(folder, { recursive: true });
  const camt = buildCamt053({
    format: 'camt053',
    statementId: `STMT-BENCH-${SETTLED_ON}`,
    createdAt: `${SETTLED_ON}T08:00:00`,
    accountIban: IBAN,
    ownerFiscalCode: site.enteFiscalCode,
    entries,
  });
  await writeFile(path.join(folder, 'STMT-BENCH.xml'), camt);
  return { options: paid.length, flows: k };
}

/** The matching as raw SQL on its own connection, in one transaction rolled back; returns ms. */
function rawMatching(file: string, enteId: number): number {
  const started = performance.now();
  const db = new Database(file);
  db.exec('begin');
  try {
    db.prepare(
      `update reconciliation_flow_lines set receipt_row_id = (select r.id from receipts r
         where r.ente_id = ? and r.iuv = reconciliation_flow_lines.iuv and r.receipt_id = reconciliation_flow_lines.iur),
       status = 'MATCHED'`,
    ).run(enteId);
    db.prepare(
      `update payment_options set status = 'RECONCILED' where ente_id = ? and id in
         (select r.option_id from receipts r join reconciliation_flow_lines l on l.receipt_row_id = r.id)`,
    ).run(enteId);
    db.prepare(`update positions set status = 'RECONCILED' where ente_id = ? and status = 'PAID'`).run(
      enteId,
    );
  } finally {
    db.exec('rollback');
    db.close();
  }
  return performance.now() - started;
}

export async function benchReconcile(receipts: number, log: (line: string) => void): Promise<BenchRow[]> {
  const name = `${fmtInt(receipts)} receipts, ${fmtInt(Math.ceil(receipts / FLOW_LINES))} flows, 1 camt.053, SQLite`;
  const target = `≤ ${MAX_SECONDS} s`;
  let site: Site | null = null;
  try {
    site = await openSite('sqlite');
    log(`reconcile: importing ${receipts} positions`);
    const csv = await generateCsv(site, receipts, 0);
    await importFile(site, csv.file);
    log('reconcile: storing receipts, flows and the statement');
    const { options } = await prepare(site);
    log('reconcile: matching');
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const result = await reconcile({
      store: site.store,
      dataDir: site.dataDir,
      enteFiscalCode: site.enteFiscalCode,
      date: AS_OF,
    });
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMsPerReceipt = (cpu.user + cpu.system) / 1000 / options;
    const reconciled = await countOf(site.db, 'payment_options', {
      ente_id: site.enteId,
      status: 'RECONCILED',
    });
    if (reconciled !== options)
      throw new Error(
        `${reconciled} of ${options} options reconciled: ${JSON.stringify(result.enti[0] ?? result)} ${JSON.stringify(await site.db('reconciliation_anomalies').limit(3))}`,
      );
    const baseMs = rawMatching(site.databaseUrl.slice('sqlite:'.length), site.enteId);
    const rate = (options / ms) * 1000;
    const baseRate = (options / baseMs) * 1000;
    return [
      {
        benchmark: 'Reconciliation',
        case: name,
        measured: `${fmtS(ms)}, ${fmtInt(rate)} receipts/s, ${cpuMsPerReceipt.toFixed(3)} ms CPU/receipt (statement import + matching)`,
        baseline: `${fmtS(baseMs)}, ${fmtInt(baseRate)} receipts/s raw SQL join + set-based UPDATEs`,
        ratio: ratioOf(rate, baseRate),
        target,
        met: ms <= MAX_SECONDS * 1000,
      },
    ];
  } catch (err) {
    return [failedRow('Reconciliation', name, String(err instanceof Error ? err.message : err), target)];
  } finally {
    await site?.close();
  }
}

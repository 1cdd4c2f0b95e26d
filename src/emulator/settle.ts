// The emulated PSPs close an operating day (pagopa-facts §7–8, DESIGN §5): every payment the emulator
// completed that day goes, once, into a reporting flow (FlussoRiversamento) per PSP and beneficiary
// EC, with a fresh TRN and the next weekday as settlement date; the EC's treasury then books one
// credit per flow, written as a camt.053 and a CSV cash journal into <dataDir>/treasury/<EC>/in/.
// Credits are what the PSP really collected, whatever a flow reports, so injected reporting faults
// show up in reconciliation; settling a day again only adds what is new or still owed.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { domainError } from '../domain/errors.ts';
import { mod97 } from '../domain/iban.ts';
import { parseDecimalAmount } from '../domain/money.ts';
import { systemClock, type Clock } from '../db/rows.ts';
import { takeSqliteWriteLock } from '../db/knex.ts';
import type { Store } from '../db/store.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { readRt } from '../pagopa/rt.ts';
import { buildFlussoRiversamento } from '../pagopa/flussoRiversamento.ts';
import type { BankEntry, BankStatement, FlowDocument, FlowPayment } from '../reconciliation/model.ts';
import { buildCamt053 } from '../reconciliation/statements/camt053.ts';
import { buildCashJournal } from '../reconciliation/statements/cashJournal.ts';
import { pagopaRemittance } from '../reconciliation/statements/remittance.ts';
import { romeDateTime } from './clock.ts';
import { createEmulatorDb } from './db.ts';
import {
  createFlowStore,
  lineKeyText,
  type CollectedReceipt,
  type CollectedRt,
  type FlowStore,
  type SettledLine,
  type StoredFlow,
} from './flowStore.ts';

/**
 * Reporting errors a test can inject, each keyed by IUV. Flows stay self-consistent (their totals
 * are those of the lines they carry); bank credits stay the true collected amounts.
 */
export interface FlowFaults {
  /** The line is left out of its flow (it is settled there all the same, and credited). */
  dropLine?: readonly string[];
  /** The line is reported with this amount in cents instead of the collected one. */
  lineAmountCents?: Readonly<Record<string, number>>;
  /** The line appears twice in its flow. */
  duplicateLine?: readonly string[];
  /** No credit is written this time for any flow holding a payment of this IUV. */
  omitCredit?: readonly string[];
}

export interface SettleDayOptions {
  /** The connector's store: the emulator's tables live beside it. */
  store: Store;
  /** config.dataDir: statements go to <dataDir>/treasury/<EC fiscal code>/in/. */
  dataDir: string;
  /** The operating day, YYYY-MM-DD (Europe/Rome). */
  date: string;
  faults?: FlowFaults;
  /** Source of dataOraFlusso and of the statements' creation time. */
  clock?: Clock;
}

export interface FlowSummary {
  flowId: string;
  revision: number;
  pspId: string;
  enteFiscalCode: string;
  /** numeroTotalePagamenti / importoTotalePagamenti as the flow reports them. */
  paymentCount: number;
  totalAmountCents: number;
  /** What the PSP collected for the flow's payments (what the bank credits). */
  collectedCents: number;
  trn: string;
  settlementDate: string;
  flowDateTime: string;
}

export interface WrittenCredit {
  flowId: string;
  enteFiscalCode: string;
  amountCents: number;
  trn: string;
  /** AT-05: /PUR/LGPE-RIVERSAMENTO/URI/<flowId> (an integrative credit carries /TXT/<n>/). */
  remittance: string;
  statementId: string;
  entryRef: string;
  valueDate: string;
}

export interface WrittenStatement {
  enteFiscalCode: string;
  statementId: string;
  /** Absolute paths of the camt.053 (.xml) and the cash journal (.csv), same credits in both. */
  camt053File: string;
  cashJournalFile: string;
}

export interface SettleDayResult {
  date: string;
  settlementDate: string;
  /** 'unchanged': nothing new to report and nothing owed (a repeated settle); 'locked': another run is on. */
  status: 'settled' | 'unchanged' | 'locked';
  /** Flows created by this run. */
  flows: FlowSummary[];
  credits: WrittenCredit[];
  /** Credits held back by the omitCredit fault: still owed, written by a later settle. */
  withheldCredits: Array<{ flowId: string; enteFiscalCode: string; amountCents: number }>;
  statements: WrittenStatement[];
  /** Every file written (absolute paths). */
  files: string[];
  /** Collected payment lines of the day that earlier runs had already put in a flow. */
  alreadySettledLines: number;
}

export interface ReviseFlowOptions {
  store: Store;
  flowId: string;
  pspId?: string | null;
  clock?: Clock;
}

export interface RevisedFlow extends FlowSummary {
  previousRevision: number;
  xml: string;
}

const SETTLE_LOCK = 'emulator-settle';
const SETTLE_LOCK_TTL_MS = 10 * 60_000;
const DAY_MS = 24 * 60 * 60_000;
/** A payment is created (verify) moments before it is paid: this margin covers time zones and tokens. */
const WINDOW_MS = 2 * DAY_MS;
const FLOW_VERSION = '1.0';
const NO_FAULTS: FlowFaults = {};

type Obj = Record<string, unknown>;

const obj = (value: unknown): Obj => (value !== null && typeof value === 'object' ? (value as Obj) : {});
const list = (value: unknown): Obj[] =>
  value === undefined || value === null ? [] : (Array.isArray(value) ? value : [value]).map(obj);

function checkDate(date: string): void {
  const at = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : Number.NaN;
  // A day past the month's end (2026-02-30) is either NaN or rolls over: both are refused.
  const valid = !Number.isNaN(at) && new Date(at).toISOString().slice(0, 10) === date;
  if (!valid) throw domainError('INVALID_DATE', `not a calendar date (YYYY-MM-DD): ${date}`, { value: date });
}

/** dataRegolamento: the next weekday after the operating day (bank holidays are not modelled). */
export function nextWeekday(date: string): string {
  let at = Date.parse(`${date}T00:00:00Z`);
  do at += DAY_MS;
  while ([0, 6].includes(new Date(at).getUTCDay()));
  return new Date(at).toISOString().slice(0, 10);
}

const compact = (date: string) => date.replaceAll('-', '');

/** A TRN as the PSP's bank assigns it: unique, at most 35 characters. */
function newTrn(settlementDate: string, pspId: string): string {
  return `EMU${compact(settlementDate)}${pspId.slice(0, 4)}${randomBytes(8).toString('hex').toUpperCase()}`;
}

/** identificativoFlusso: <settlement date><idPSP>-<progressive> (our flusso-riversamento.xsd, FlowId). */
function flowIdOf(settlementDate: string, pspId: string, progressive: number): string {
  return `${settlementDate}${pspId}-${progressive}`;
}

/** A revision's dataOraFlusso: now, or one second after the previous one when the clock is not ahead. */
function laterThan(previous: string, now: string): string {
  if (now > previous) return now;
  return new Date(Date.parse(`${previous}Z`) + 1000).toISOString().slice(0, 19);
}

/** A payment line collected by a PSP, before or after it is settled in a flow. */
type CollectedLine = SettledLine & { pspId: string };

/** The transfers of the receipts paid on `date`: one line per transfer, for its own EC. */
function currentLines(receipts: readonly CollectedReceipt[], date: string): CollectedLine[] {
  const lines: CollectedLine[] = [];
  for (const { paymentToken, pspId, receipt } of receipts) {
    if (String(receipt.paymentDateTime ?? '').slice(0, 10) !== date) continue;
    for (const transfer of list(obj(receipt.transferList).transfer)) {
      lines.push({
        kind: 'current',
        pspId,
        idDominio: String(transfer.fiscalCodePA),
        iuv: String(receipt.creditorReferenceId),
        paymentToken,
        transferIndex: Number(transfer.idTransfer),
        iur: String(receipt.receiptId),
        amountCents: parseDecimalAmount(String(transfer.transferAmount)),
        paymentDate: date,
      });
    }
  }
  return lines;
}

/** The datiSingoloPagamento of the paid RTs of `date`; the PSP is the RT's istitutoAttestante. */
function legacyLines(rts: readonly CollectedRt[], date: string): CollectedLine[] {
  const lines: CollectedLine[] = [];
  for (const stored of rts) {
    const rt = readRt(stored.rtXml);
    if (rt.receiptDateTime.slice(0, 10) !== date) continue;
    rt.payments.forEach((payment, index) => {
      lines.push({
        kind: 'legacy',
        pspId: rt.pspId,
        idDominio: stored.idDominio,
        iuv: stored.iuv,
        paymentToken: stored.ccp,
        transferIndex: index + 1,
        iur: payment.iur,
        amountCents: payment.amountCents,
        paymentDate: date,
      });
    });
  }
  return lines;
}

/** Every line collected on `date`, settled or not (the window is narrowed in SQL, the day exactly here). */
async function collectedLines(flowStore: FlowStore, date: string): Promise<CollectedLine[]> {
  const day = Date.parse(`${date}T00:00:00Z`);
  const from = new Date(day - WINDOW_MS).toISOString();
  const to = new Date(day + DAY_MS + WINDOW_MS).toISOString();
  return [
    ...currentLines(await flowStore.collected.receipts(from, to), date),
    ...legacyLines(await flowStore.collected.paidRts(from, to), date),
  ];
}

/** The lines a flow reports: the settled ones, with the injected faults applied. */
function reportedLines(lines: readonly SettledLine[], faults: FlowFaults): FlowPayment[] {
  const reported: FlowPayment[] = [];
  for (const line of lines) {
    if (faults.dropLine?.includes(line.iuv)) continue;
    const entry: FlowPayment = {
      iuv: line.iuv,
      iur: line.iur,
      transferIndex: line.transferIndex,
      amountCents: faults.lineAmountCents?.[line.iuv] ?? line.amountCents,
      outcomeCode: '0',
      outcomeDate: line.paymentDate,
    };
    reported.push(entry);
    if (faults.duplicateLine?.includes(line.iuv)) reported.push({ ...entry });
  }
  return reported;
}

interface FlowHeader {
  flowId: string;
  flowDateTime: string;
  trn: string;
  settlementDate: string;
  pspId: string;
  idDominio: string;
}

/** Names written in a flow and a statement, read before any transaction (SQLite has one connection). */
interface Parties {
  pspName: string;
  enteName: string | null;
}

type PartiesOf = (pspId: string, idDominio: string) => Promise<Parties>;

function partiesOf(store: Store): PartiesOf {
  const edb = createEmulatorDb(store.db);
  return async (pspId, idDominio) => ({
    pspName: (await edb.psps.get(pspId))?.companyName ?? pspId,
    enteName: (await store.enti.getByFiscalCode(idDominio))?.name ?? null,
  });
}

function flowDocument(header: FlowHeader, payments: FlowPayment[], parties: Parties): FlowDocument {
  if (payments.length === 0) {
    throw domainError('INVALID_INPUT', `the injected faults leave flow ${header.flowId} without lines`, {
      flowId: header.flowId,
    });
  }
  let total = 0;
  for (const line of payments) total += line.amountCents;
  return {
    version: FLOW_VERSION,
    flowId: header.flowId,
    flowDateTime: header.flowDateTime,
    trn: header.trn,
    settlementDate: header.settlementDate,
    sender: { idType: 'B', id: header.pspId, name: parties.pspName.slice(0, 70) },
    bic: null,
    receiver: { idType: 'G', id: header.idDominio, name: parties.enteName?.slice(0, 70) ?? null },
    paymentCount: payments.length,
    totalAmountCents: total,
    payments,
  };
}

function summaryOf(flow: StoredFlow, collectedCents: number): FlowSummary {
  return {
    flowId: flow.flowId,
    revision: flow.revision,
    pspId: flow.pspId,
    enteFiscalCode: flow.idDominio,
    paymentCount: flow.paymentCount,
    totalAmountCents: flow.totalCents,
    collectedCents,
    trn: flow.trn,
    settlementDate: flow.settlementDate,
    flowDateTime: flow.flowDateTime,
  };
}

const sumOf = (lines: readonly SettledLine[]) => lines.reduce((sum, line) => sum + line.amountCents, 0);

/** Puts the not yet settled lines of the day into new flows, one per PSP and EC. */
async function createFlows(
  store: Store,
  lines: CollectedLine[],
  ctx: { date: string; settlementDate: string; faults: FlowFaults; clock: Clock; parties: PartiesOf },
): Promise<FlowSummary[]> {
  const groups = new Map<string, CollectedLine[]>();
  for (const line of lines) {
    const key = `${line.pspId}|${line.idDominio}`;
    groups.set(key, [...(groups.get(key) ?? []), line]);
  }
  // Checked before any flow is written, so a bad set of faults leaves the day as it was.
  for (const group of groups.values()) {
    if (reportedLines(group, ctx.faults).length === 0) {
      const { pspId, idDominio } = group[0]!;
      throw domainError(
        'INVALID_INPUT',
        `the injected faults leave the flow ${pspId} → ${idDominio} without lines`,
        {
          pspId,
          idDominio,
        },
      );
    }
  }
  const created: FlowSummary[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    const { pspId, idDominio } = group[0]!;
    const parties = await ctx.parties(pspId, idDominio);
    const flow = await store.db.transaction(async (trx) => {
      await takeSqliteWriteLock(trx);
      const flowStore = createFlowStore(trx, ctx.clock);
      const progressive = await flowStore.flows.nextProgressive(pspId, ctx.settlementDate);
      const header: FlowHeader = {
        flowId: flowIdOf(ctx.settlementDate, pspId, progressive),
        flowDateTime: romeDateTime(ctx.clock()),
        trn: newTrn(ctx.settlementDate, pspId),
        settlementDate: ctx.settlementDate,
        pspId,
        idDominio,
      };
      const doc = flowDocument(header, reportedLines(group, ctx.faults), parties);
      const stored: StoredFlow = {
        ...header,
        id: 0,
        revision: 1,
        progressive,
        operatingDate: ctx.date,
        paymentCount: doc.paymentCount,
        totalCents: doc.totalAmountCents,
        xml: buildFlussoRiversamento(doc),
        createdAt: '',
      };
      await flowStore.flows.insert(stored);
      await flowStore.lines.insert(header.flowId, group);
      return stored;
    });
    created.push(summaryOf(flow, sumOf(group)));
  }
  return created;
}

interface DueCredit {
  flow: StoredFlow;
  amountCents: number;
}

/** What each flow of the day is still owed: collected minus credited; withheld when a fault says so. */
async function dueCredits(flowStore: FlowStore, date: string, faults: FlowFaults) {
  const flows = await flowStore.flows.listByOperatingDate(date);
  const ids = flows.map((f) => f.flowId);
  const collected = await flowStore.lines.collectedByFlow(ids);
  const credited = await flowStore.credits.creditedByFlow(ids);
  const due: DueCredit[] = [];
  const withheld: SettleDayResult['withheldCredits'] = [];
  for (const flow of flows) {
    const owed = (collected.get(flow.flowId) ?? 0) - (credited.get(flow.flowId) ?? 0);
    if (owed <= 0) continue;
    const iuvs = (await flowStore.lines.listByFlow(flow.flowId)).map((line) => line.iuv);
    if (faults.omitCredit?.some((iuv) => iuvs.includes(iuv))) {
      withheld.push({ flowId: flow.flowId, enteFiscalCode: flow.idDominio, amountCents: owed });
    } else {
      due.push({ flow, amountCents: owed });
    }
  }
  return { due, withheld };
}

/** The EC's treasury account: its own IBAN, else the IBAN of one of its services, else a stand-in. */
async function accountIbanOf(store: Store, fiscalCode: string): Promise<string> {
  const ente = await store.enti.getByFiscalCode(fiscalCode);
  if (ente?.iban) return ente.iban;
  const service = ente ? (await store.services.listByEnte(ente.id)).find((s) => s.iban) : undefined;
  return service?.iban ?? standInIban(fiscalCode);
}

/** An Italian IBAN for an EC the registry has no account of: CIN X, ABI/CAB zero, the fiscal code. */
function standInIban(fiscalCode: string): string {
  const account = fiscalCode
    .replace(/[^0-9A-Z]/gi, '')
    .toUpperCase()
    .padStart(12, '0')
    .slice(-12);
  const bban = `X0000000000${account}`;
  return `IT${String(98 - mod97(`${bban}IT00`)).padStart(2, '0')}${bban}`;
}

/** Writes a file whole: `<name>.part` first, renamed once complete, as the importer expects. */
async function writeWhole(file: string, content: string): Promise<void> {
  await fs.writeFile(`${file}.part`, content, 'utf8');
  await fs.rename(`${file}.part`, file);
}

/** The treasury statement of one EC for this run: one credit per flow, in camt.053 and CSV. */
async function writeStatement(
  store: Store,
  enteFiscalCode: string,
  due: readonly DueCredit[],
  ctx: { dataDir: string; clock: Clock; parties: PartiesOf },
): Promise<{ statement: WrittenStatement; credits: WrittenCredit[] }> {
  const accountIban = await accountIbanOf(store, enteFiscalCode);
  const debtors = await Promise.all(
    due.map(async ({ flow }) => `${(await ctx.parties(flow.pspId, enteFiscalCode)).pspName} Servizio pagoPA`),
  );
  const valueDate = due[0]!.flow.settlementDate;
  return store.db.transaction(async (trx) => {
    await takeSqliteWriteLock(trx);
    const flowStore = createFlowStore(trx, ctx.clock);
    const sequence = (await flowStore.credits.statementCount(enteFiscalCode, valueDate)) + 1;
    const statementId = `EMU-${compact(valueDate)}-${enteFiscalCode}-${sequence}`;
    const credits: WrittenCredit[] = [];
    const entries: BankEntry[] = [];
    for (const [index, { flow, amountCents }] of due.entries()) {
      const earlier = await flowStore.credits.countByFlow(flow.flowId);
      const remittance =
        earlier === 0 ? pagopaRemittance(flow.flowId) : pagopaRemittance(flow.flowId, Math.min(earlier, 9));
      const entryRef = `${statementId}-${index + 1}`;
      credits.push({
        flowId: flow.flowId,
        enteFiscalCode,
        amountCents,
        trn: flow.trn,
        remittance,
        statementId,
        entryRef,
        valueDate,
      });
      entries.push({
        entryRef,
        direction: 'CRDT',
        amountCents,
        bookingDate: valueDate,
        valueDate,
        trn: flow.trn,
        endToEndId: null,
        debtorName: debtors[index]!.slice(0, 70),
        remittanceInformation: remittance,
      });
    }
    await flowStore.credits.insert(credits.map((c) => ({ ...c, idDominio: c.enteFiscalCode })));
    const statement = (format: BankStatement['format']): BankStatement => ({
      format,
      statementId,
      createdAt: romeDateTime(ctx.clock()),
      accountIban,
      ownerFiscalCode: enteFiscalCode,
      entries,
    });
    const folder = path.join(ctx.dataDir, 'treasury', enteFiscalCode, 'in');
    await fs.mkdir(folder, { recursive: true });
    const camt053File = path.join(folder, `${statementId}.xml`);
    const cashJournalFile = path.join(folder, `${statementId}.csv`);
    // Written inside the transaction: if the files cannot be written, no credit is recorded; if the
    // commit fails after them, the next run writes the same credits again (same TRN, amount and value
    // date), which the importer recognises.
    await writeWhole(camt053File, buildCamt053(statement('camt053')));
    await writeWhole(cashJournalFile, buildCashJournal(statement('csv')));
    return { statement: { enteFiscalCode, statementId, camt053File, cashJournalFile }, credits };
  });
}

async function settleUnlocked(options: SettleDayOptions): Promise<SettleDayResult> {
  const { store, date } = options;
  const clock = options.clock ?? systemClock;
  const faults = options.faults ?? NO_FAULTS;
  const settlementDate = nextWeekday(date);
  const parties = partiesOf(store);
  const flowStore = createFlowStore(store.db, clock);

  const collected = await collectedLines(flowStore, date);
  const settled = await flowStore.lines.settledKeys(date);
  const fresh = collected.filter((line) => !settled.has(lineKeyText(line)));
  const flows = await createFlows(store, fresh, { date, settlementDate, faults, clock, parties });

  const { due, withheld } = await dueCredits(flowStore, date, faults);
  const byEnte = new Map<string, DueCredit[]>();
  for (const credit of due) {
    byEnte.set(credit.flow.idDominio, [...(byEnte.get(credit.flow.idDominio) ?? []), credit]);
  }
  const statements: WrittenStatement[] = [];
  const credits: WrittenCredit[] = [];
  for (const enteFiscalCode of [...byEnte.keys()].sort()) {
    const written = await writeStatement(store, enteFiscalCode, byEnte.get(enteFiscalCode)!, {
      dataDir: options.dataDir,
      clock,
      parties,
    });
    statements.push(written.statement);
    credits.push(...written.credits);
  }
  return {
    date,
    settlementDate,
    status: flows.length === 0 && credits.length === 0 ? 'unchanged' : 'settled',
    flows,
    credits,
    withheldCredits: withheld,
    statements,
    files: statements.flatMap((s) => [s.camt053File, s.cashJournalFile]),
    alreadySettledLines: collected.length - fresh.length,
  };
}

/**
 * Settles one operating day: new flows for the day's payments not yet in a flow, then one bank
 * credit per flow of the day for what is still owed. Safe to run again: a repeated run changes
 * nothing ('unchanged'); a payment completed since goes into a new flow (next progressive).
 */
export async function settleDay(options: SettleDayOptions): Promise<SettleDayResult> {
  checkDate(options.date);
  const owner = `settle-${randomBytes(6).toString('hex')}`;
  const run = await options.store.locks.runExclusive(SETTLE_LOCK, owner, SETTLE_LOCK_TTL_MS, () =>
    settleUnlocked(options),
  );
  if (run.ran) return run.result;
  return {
    date: options.date,
    settlementDate: nextWeekday(options.date),
    status: 'locked',
    flows: [],
    credits: [],
    withheldCredits: [],
    statements: [],
    files: [],
    alreadySettledLines: 0,
  };
}

/**
 * A corrected revision of a stored flow: rebuilt from the payments settled in it, without faults,
 * same flow id, TRN and settlement date, later dataOraFlusso. The node serves the newest revision.
 */
export async function reviseFlow(options: ReviseFlowOptions): Promise<RevisedFlow> {
  const clock = options.clock ?? systemClock;
  const flowStore = createFlowStore(options.store.db, clock);
  const latest = await flowStore.flows.latest(options.flowId, options.pspId);
  if (!latest) {
    throw domainError('INVALID_INPUT', `the emulator holds no flow ${options.flowId}`, {
      field: 'flowId',
      value: options.flowId,
    });
  }
  const lines = await flowStore.lines.listByFlow(latest.flowId);
  const header: FlowHeader = {
    flowId: latest.flowId,
    flowDateTime: laterThan(latest.flowDateTime, romeDateTime(clock())),
    trn: latest.trn,
    settlementDate: latest.settlementDate,
    pspId: latest.pspId,
    idDominio: latest.idDominio,
  };
  const parties = await partiesOf(options.store)(latest.pspId, latest.idDominio);
  const doc = flowDocument(header, reportedLines(lines, NO_FAULTS), parties);
  const revision: StoredFlow = {
    ...latest,
    revision: latest.revision + 1,
    flowDateTime: header.flowDateTime,
    paymentCount: doc.paymentCount,
    totalCents: doc.totalAmountCents,
    xml: buildFlussoRiversamento(doc),
  };
  try {
    await flowStore.flows.insert(revision);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    throw domainError('CONCURRENT_UPDATE', `flow ${latest.flowId} was revised meanwhile`, {
      flowId: latest.flowId,
    });
  }
  return { ...summaryOf(revision, sumOf(lines)), previousRevision: latest.revision, xml: revision.xml };
}

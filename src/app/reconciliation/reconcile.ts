// The reconciliation job (pagopa-facts §8): fetch new reporting flows from the node, import the
// treasury folders, then per ente apply the matching rules (src/reconciliation/matching.ts) in one
// transaction: lines matched, credits linked, anomalies opened / resolved / reopened, options and
// positions moved to REPORTED / RECONCILED, flow statuses, each change with its event, and
// notifyReconciliation queued once per flow each time its status or anomaly set changes. A DB lock
// keeps it on one instance at a time; re-running with nothing new changes nothing.

import { createHash, randomUUID } from 'node:crypto';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { ChangeContext } from '../../db/repositories/events.ts';
import {
  RECONCILIATION_FLOW,
  type OptionOfPosition,
  type StoredFlow,
  type StoredFlowLine,
} from '../../db/repositories/reconciliationFlows.ts';
import type { Receipt } from '../../db/repositories/receipts.ts';
import { domainError } from '../../domain/errors.ts';
import { romeDate } from '../../pagopa/time.ts';
import { readStoredTransfers } from '../../pagopa/storedReceipt.ts';
import type { Clock } from '../../db/rows.ts';
import {
  DEFAULT_THRESHOLDS,
  reconcileEnteData,
  type AnomalyFinding,
  type FlowToMatch,
  type MatchingResult,
  type MatchingThresholds,
  type PositionToMatch,
  type ReceiptToMatch,
} from '../../reconciliation/matching.ts';
import { NOTIFY_RECONCILIATION, type ReconciliationNotification } from '../callbacks/notifyReconciliation.ts';
import { stableId } from '../gestionale/common.ts';
import { fetchFlows, type FetchFlowsSummary, type FlowNodePort } from './fetchFlows.ts';
import { importTreasuryFolder, type TreasuryImportSummary } from './importStatement.ts';
import { flowView } from './views.ts';

export const RECONCILIATION_LOCK = 'reconciliation';
export const RECONCILIATION_ACTOR = 'reconciliation';
const LOCK_TTL_MS = 30 * 60_000;
/** The steps options and positions move through, in order. */
const STEPS = ['REPORTED', 'RECONCILED'] as const;

export interface ReconcileOptions {
  store: Store;
  /** The pagoPA node: when given, new flows are fetched first. */
  node?: FlowNodePort | null;
  /** When given, <dataDir>/treasury/<ente>/in/ is imported first. */
  dataDir?: string | null;
  /** The day the run judges by (YYYY-MM-DD); today in Europe/Rome by default. */
  date?: string;
  /** Only this ente (fiscal code). */
  enteFiscalCode?: string;
  thresholds?: Partial<MatchingThresholds>;
  clock?: Clock;
  /** Lock owner; a random one per run by default. */
  owner?: string;
  actor?: string;
}

export interface EnteReconciliation {
  enteFiscalCode: string;
  flows: number;
  reconciledFlows: number;
  anomalyFlows: number;
  pendingFlows: number;
  linesMatched: number;
  linesUnmatched: number;
  optionsReported: number;
  optionsReconciled: number;
  positionsReported: number;
  positionsReconciled: number;
  anomaliesOpened: number;
  anomaliesReopened: number;
  anomaliesResolved: number;
  /** Open anomalies of the ente after the run. */
  openAnomalies: number;
  notificationsQueued: number;
  /** Rows written (lines, credits, anomalies, options, positions, flows): 0 when nothing was new. */
  changes: number;
}

export interface ReconcileResult {
  status: 'done' | 'locked';
  asOf: string;
  fetch: FetchFlowsSummary | null;
  treasury: TreasuryImportSummary | null;
  enti: EnteReconciliation[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** YYYY-MM-DD naming a real day (Date.parse accepts 2026-02-30). */
function isCalendarDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

function thresholdsOf(partial: Partial<MatchingThresholds> | undefined): MatchingThresholds {
  return { ...DEFAULT_THRESHOLDS, ...partial };
}

function emptyEnteResult(ente: Ente): EnteReconciliation {
  return {
    enteFiscalCode: ente.fiscalCode,
    flows: 0,
    reconciledFlows: 0,
    anomalyFlows: 0,
    pendingFlows: 0,
    linesMatched: 0,
    linesUnmatched: 0,
    optionsReported: 0,
    optionsReconciled: 0,
    positionsReported: 0,
    positionsReconciled: 0,
    anomaliesOpened: 0,
    anomaliesReopened: 0,
    anomaliesResolved: 0,
    openAnomalies: 0,
    notificationsQueued: 0,
    changes: 0,
  };
}

// ---------------------------------------------------------------- inputs

function flowsToMatch(flows: readonly StoredFlow[], lines: readonly StoredFlowLine[]): FlowToMatch[] {
  const byFlow = new Map<number, StoredFlowLine[]>();
  for (const line of lines) {
    const list = byFlow.get(line.flowRowId);
    if (list) list.push(line);
    else byFlow.set(line.flowRowId, [line]);
  }
  return flows.map((f) => ({
    rowId: f.id,
    flowId: f.flowId,
    flowDateTime: f.flowDateTime,
    pspId: f.pspId,
    trn: f.trn,
    settlementDate: f.settlementDate,
    paymentCount: f.paymentCount,
    totalAmountCents: f.totalAmountCents,
    lines: (byFlow.get(f.id) ?? []).map((l) => ({
      id: l.id,
      lineNo: l.lineNo,
      iuv: l.iuv,
      iur: l.iur,
      transferIndex: l.transferIndex,
      amountCents: l.amountCents,
      outcomeCode: l.outcomeCode,
    })),
  }));
}

/**
 * The transfers of a receipt that credit this ente, as a flow reports them: current model, IUR =
 * receiptId and index = idTransfer; legacy RT, each datiSingoloPagamento its own IUR, index = position.
 */
function receiptLines(receipt: Receipt, ente: Ente) {
  const legacy = receipt.source === 'paaInviaRT';
  // Only the transfers are read (a scan of the stored copy, not a parse of the whole document).
  return readStoredTransfers(legacy ? 'rt' : 'current', receipt.document)
    .filter((t) => t.enteFiscalCode === ente.fiscalCode && t.amountCents !== 0)
    .map((t) => ({
      iur: legacy ? (t.iur ?? receipt.receiptId) : receipt.receiptId,
      index: t.index,
      amountCents: t.amountCents,
    }));
}

function paidOn(receipt: Receipt): string {
  const stated = receipt.paymentDateTime?.slice(0, 10);
  return stated && DATE.test(stated) ? stated : romeDate(new Date(receipt.receivedAt));
}

function receiptsToMatch(
  receipts: readonly Receipt[],
  ente: Ente,
  options: ReadonlyMap<number, OptionOfPosition>,
): ReceiptToMatch[] {
  return receipts.map((r) => {
    const option = r.optionId === null ? undefined : options.get(r.optionId);
    return {
      rowId: r.id,
      iuv: r.iuv,
      receiptId: r.receiptId,
      paidOn: paidOn(r),
      lines: receiptLines(r, ente),
      option: option
        ? {
            id: option.optionId,
            positionRowId: option.positionRowId,
            positionId: option.positionId,
            installment: option.installment,
            noticeNumber: option.noticeNumber,
            status: option.status,
          }
        : null,
    };
  });
}

function positionsToMatch(options: readonly OptionOfPosition[]): PositionToMatch[] {
  const positions = new Map<
    number,
    PositionToMatch & { options: Array<{ id: number; status: OptionOfPosition['status'] }> }
  >();
  for (const o of options) {
    const position = positions.get(o.positionRowId) ?? {
      id: o.positionRowId,
      status: o.positionStatus,
      options: [],
    };
    position.options.push({ id: o.optionId, status: o.status });
    positions.set(o.positionRowId, position);
  }
  return [...positions.values()];
}

interface EnteData {
  flows: StoredFlow[];
  lines: StoredFlowLine[];
  result: MatchingResult;
}

async function matchEnte(
  store: Store,
  ente: Ente,
  asOf: string,
  thresholds: MatchingThresholds,
): Promise<EnteData> {
  const flows = await store.reconciliationFlows.listLatest(ente.id);
  const lines = await store.reconciliationFlows.listLines(flows.map((f) => f.id));
  const receipts = await store.reconciliationFlows.listPositiveReceipts(ente.id);
  const optionIds = [...new Set(receipts.flatMap((r) => (r.optionId === null ? [] : [r.optionId])))];
  const options = await store.reconciliationFlows.listOptionsOfPositions(optionIds);
  const optionsById = new Map(options.map((o) => [o.optionId, o]));
  const credits = await store.bankStatements.listCredits(ente.id);
  const anomalies = await store.anomalies.list({ enteId: ente.id });
  const result = reconcileEnteData({
    asOf,
    thresholds,
    flows: flowsToMatch(flows, lines),
    receipts: receiptsToMatch(receipts, ente, optionsById),
    positions: positionsToMatch(options),
    credits: credits.map((c) => ({
      id: c.id,
      amountCents: c.amountCents,
      valueDate: c.valueDate,
      trn: c.trn,
      flowId: c.flowId,
    })),
    anomalies: anomalies.map((a) => ({
      id: a.id,
      code: a.code,
      subjectKey: a.subjectKey,
      status: a.status,
      resolution: a.resolution,
      flowId: a.flowId,
      pspId: a.pspId,
    })),
  });
  return { flows, lines, result };
}

// ---------------------------------------------------------------- applying

function detailsOf(f: AnomalyFinding) {
  return {
    description: f.description.slice(0, 1024),
    flowId: f.flowId,
    pspId: f.pspId,
    iuv: f.iuv,
    iur: f.iur,
    positionId: f.positionId,
    noticeNumber: f.noticeNumber,
    amountCents: f.amountCents,
    expectedAmountCents: f.expectedAmountCents,
  };
}

async function applyLines(
  tx: Store,
  data: EnteData,
  ctx: ChangeContext,
  out: EnteReconciliation,
): Promise<void> {
  const stored = new Map(data.lines.map((l) => [l.id, l]));
  const changed = data.result.lines.filter((l) => {
    const before = stored.get(l.lineId);
    return (
      !before ||
      before.status !== l.status ||
      before.receiptRowId !== l.receiptRowId ||
      before.optionId !== l.optionId ||
      before.anomalyCode !== l.anomalyCode
    );
  });
  await tx.reconciliationFlows.updateLines(
    changed.map((l) => ({
      id: l.lineId,
      status: l.status,
      receiptRowId: l.receiptRowId,
      optionId: l.optionId,
      anomalyCode: l.anomalyCode,
    })),
  );
  // One event per flow whose lines changed, saying what each line became.
  const byFlow = new Map<number, typeof changed>();
  for (const l of changed) {
    const list = byFlow.get(l.flowRowId);
    if (list) list.push(l);
    else byFlow.set(l.flowRowId, [l]);
  }
  for (const [flowRowId, lines] of byFlow) {
    await tx.events.append({
      entityType: RECONCILIATION_FLOW,
      entityId: flowRowId,
      action: 'lines_matched',
      cause: ctx.cause,
      actor: ctx.actor,
      payload: lines.map((l) => ({
        lineId: l.lineId,
        status: l.status,
        receiptRowId: l.receiptRowId,
        optionId: l.optionId,
        anomalyCode: l.anomalyCode,
      })),
    });
  }
  out.linesMatched = data.result.lines.filter((l) => l.status === 'MATCHED').length;
  out.linesUnmatched = data.result.lines.length - out.linesMatched;
  out.changes += changed.length;
}

async function applyCredits(
  tx: Store,
  ente: Ente,
  data: EnteData,
  ctx: ChangeContext,
  out: EnteReconciliation,
): Promise<void> {
  const credits = await tx.bankStatements.listCredits(ente.id);
  const before = new Map(credits.map((c) => [c.id, c.matchedFlowRowId]));
  const changed = data.result.credits.filter((l) => before.get(l.creditId) !== l.flowRowId);
  await tx.bankStatements.linkCredits(changed);
  for (const link of changed) {
    await tx.events.append({
      entityType: 'bank_credit',
      entityId: link.creditId,
      action: link.flowRowId === null ? 'unlinked' : 'linked',
      cause: ctx.cause,
      actor: ctx.actor,
      payload: { flowRowId: link.flowRowId },
    });
  }
  out.changes += changed.length;
}

async function applyAnomalies(
  tx: Store,
  ente: Ente,
  data: EnteData,
  ctx: ChangeContext,
  out: EnteReconciliation,
): Promise<void> {
  const { plan } = data.result;
  for (const f of plan.create) {
    await tx.anomalies.open(
      { enteId: ente.id, code: f.code, subjectKey: f.subjectKey, ...detailsOf(f), resolvedNote: f.explained },
      { ...ctx, cause: `${ctx.cause}: ${f.description}`.slice(0, 1024) },
    );
    if (f.explained === null) out.anomaliesOpened += 1;
  }
  for (const { anomaly, finding } of plan.reopen) {
    const current = await tx.anomalies.getById(anomaly.id);
    if (
      current &&
      (await tx.anomalies.reopen(current, detailsOf(finding), { ...ctx, cause: `${ctx.cause}: found again` }))
    ) {
      out.anomaliesReopened += 1;
    }
  }
  for (const anomaly of plan.resolve) {
    const current = await tx.anomalies.getById(anomaly.id);
    if (
      current &&
      (await tx.anomalies.resolve(current, 'AUTO', 'explained by later data', {
        ...ctx,
        cause: `${ctx.cause}: no longer found`,
      }))
    ) {
      out.anomaliesResolved += 1;
    }
  }
  for (const { anomaly, finding } of plan.keep) {
    const current = await tx.anomalies.getById(anomaly.id);
    const details = detailsOf(finding);
    if (
      current &&
      (current.amountCents !== details.amountCents ||
        current.expectedAmountCents !== details.expectedAmountCents)
    ) {
      await tx.anomalies.updateDetails(anomaly.id, details);
      out.changes += 1;
    }
  }
  out.changes += plan.create.length + out.anomaliesReopened + out.anomaliesResolved;
}

function flowNames(byRow: ReadonlyMap<number, StoredFlow>, rowIds: readonly number[]): string {
  return rowIds
    .map((id) => {
      const f = byRow.get(id);
      return f ? `${f.flowId} (TRN ${f.trn})` : String(id);
    })
    .join(', ');
}

/**
 * Options then positions, one step at a time for all of them (every REPORTED move, then every
 * RECONCILED one), set-based: each option and position still goes through the same statuses with one
 * event each, and each entity's own events keep their order; events of different entities interleave
 * by step rather than entity by entity.
 */
async function applyOptionsAndPositions(
  tx: Store,
  data: EnteData,
  ctx: ChangeContext,
  out: EnteReconciliation,
): Promise<void> {
  const byRow = new Map(data.flows.map((f) => [f.id, f]));
  const names = new Map(data.result.options.map((m) => [m.optionId, flowNames(byRow, m.flowRowIds)]));
  for (const step of STEPS) {
    const moves = data.result.options.filter((m) => m.steps.includes(step));
    await tx.positions.setOptionStatuses(
      moves.map((move) => {
        const flows = names.get(move.optionId) as string;
        return {
          optionId: move.optionId,
          cause: step === 'REPORTED' ? `reported in flow ${flows}` : `credited by the bank: flow ${flows}`,
          payload: { flowRowIds: move.flowRowIds },
        };
      }),
      step,
      ctx,
    );
    if (step === 'REPORTED') out.optionsReported += moves.length;
    else out.optionsReconciled += moves.length;
    out.changes += moves.length;
  }
  for (const step of STEPS) {
    const moves = data.result.positions.filter((m) => m.steps.includes(step));
    const cause =
      step === 'REPORTED' ? 'every paid option reported in a flow' : 'every paid option reconciled';
    await tx.positions.transitionMany(
      moves.map((m) => m.positionRowId),
      step,
      { ...ctx, cause },
    );
    if (step === 'REPORTED') out.positionsReported += moves.length;
    else out.positionsReconciled += moves.length;
    out.changes += moves.length;
  }
}

async function applyFlowStatuses(
  tx: Store,
  data: EnteData,
  ctx: ChangeContext,
  out: EnteReconciliation,
): Promise<void> {
  const byRow = new Map(data.flows.map((f) => [f.id, f]));
  for (const outcome of data.result.flows) {
    const flow = byRow.get(outcome.rowId) as StoredFlow;
    out.flows += 1;
    if (outcome.status === 'RECONCILED') out.reconciledFlows += 1;
    else if (outcome.status === 'ANOMALY') out.anomalyFlows += 1;
    else out.pendingFlows += 1;
    if (flow.status === outcome.status) continue;
    const credited = `credited ${(outcome.creditedCents / 100).toFixed(2)} of ${(flow.totalAmountCents / 100).toFixed(2)}`;
    await tx.reconciliationFlows.setStatus(flow.id, flow.status, outcome.status, {
      ...ctx,
      cause: `${ctx.cause}: ${credited}`,
      payload: { creditIds: outcome.creditIds, creditedCents: outcome.creditedCents },
    });
    out.changes += 1;
  }
}

/** What the gestionale hears about for a flow: its status and the ids of its open anomalies. */
function notificationState(status: string, openAnomalyIds: readonly number[]): string {
  const text = `${status}|${[...openAnomalyIds].sort((a, b) => a - b).join(',')}`;
  return createHash('sha256').update(text).digest('hex');
}

async function callbackClients(tx: Store, enteId: number) {
  const clients = new Map<number, { id: number }>();
  for (const service of await tx.services.listByEnte(enteId)) {
    for (const client of await tx.clients.listCallbackTargets(enteId, service.id))
      clients.set(client.id, client);
  }
  return [...clients.values()];
}

/** notifyReconciliation for every flow whose status or open anomalies changed since last told. */
async function queueNotifications(
  tx: Store,
  ente: Ente,
  out: EnteReconciliation,
  clock: Clock,
): Promise<void> {
  const flows = await tx.reconciliationFlows.listLatest(ente.id);
  const open = await tx.anomalies.list({ enteId: ente.id, status: 'OPEN' });
  let clients: Array<{ id: number }> | null = null;
  for (const flow of flows) {
    const tied = open.filter((a) => a.flowId === flow.flowId && (a.pspId === null || a.pspId === flow.pspId));
    const state = notificationState(
      flow.status,
      tied.map((a) => a.id),
    );
    if (state === flow.notifiedState) continue;
    // A new flow still waiting for data is no news: the gestionale hears when it is reconciled or has anomalies.
    if (flow.notifiedState === null && flow.status === 'PENDING' && tied.length === 0) continue;
    clients ??= await callbackClients(tx, ente.id);
    if (clients.length > 0) {
      const view = await flowView(tx, ente.id, flow.id);
      for (const client of clients) {
        const notificationId = stableId(NOTIFY_RECONCILIATION, client.id, flow.id, state);
        const payload: ReconciliationNotification = {
          notificationId,
          eventDateTime: clock().toISOString(),
          enteFiscalCode: ente.fiscalCode,
          flow: view,
        };
        const { created } = await tx.outbox.enqueueOnce(notificationId, {
          topic: NOTIFY_RECONCILIATION,
          target: client.id,
          payload,
          groupKey: `flow:${flow.id}`,
        });
        if (created) out.notificationsQueued += 1;
      }
    }
    await tx.reconciliationFlows.setNotifiedState(flow.id, state);
  }
}

/** Matches and applies one ente's data in one transaction. */
export async function reconcileEnte(
  store: Store,
  ente: Ente,
  options: { asOf: string; thresholds?: Partial<MatchingThresholds>; actor?: string; clock?: Clock },
): Promise<EnteReconciliation> {
  const out = emptyEnteResult(ente);
  const ctx: ChangeContext = {
    cause: `reconciliation as of ${options.asOf}`,
    actor: options.actor ?? RECONCILIATION_ACTOR,
  };
  const clock = options.clock ?? (() => new Date());
  await store.transaction(async (tx) => {
    const data = await matchEnte(tx, ente, options.asOf, thresholdsOf(options.thresholds));
    await applyLines(tx, data, ctx, out);
    await applyCredits(tx, ente, data, ctx, out);
    await applyAnomalies(tx, ente, data, ctx, out);
    await applyOptionsAndPositions(tx, data, ctx, out);
    await applyFlowStatuses(tx, data, ctx, out);
    await queueNotifications(tx, ente, out, clock);
    out.openAnomalies = (await tx.anomalies.list({ enteId: ente.id, status: 'OPEN' })).length;
  });
  return out;
}

async function targetEnti(store: Store, enteFiscalCode: string | undefined): Promise<Ente[]> {
  if (enteFiscalCode !== undefined) {
    const ente = await store.enti.getByFiscalCode(enteFiscalCode);
    if (!ente || ente.status !== 'active') {
      throw domainError('ENTE_UNKNOWN', `no active ente ${enteFiscalCode}`, { enteFiscalCode });
    }
    return [ente];
  }
  return (await store.enti.list()).filter((e) => e.status === 'active');
}

/**
 * One run: fetch flows (with a node), import the treasury folders (with a data dir), then reconcile
 * every active ente (or one). Returns `locked` without doing anything when another run holds the lock.
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const { store } = options;
  const clock = options.clock ?? (() => new Date());
  const asOf = options.date ?? romeDate(clock());
  if (!isCalendarDate(asOf)) {
    throw domainError('INVALID_DATE', `not a date: ${asOf}`, { field: 'date' });
  }
  const enti = await targetEnti(store, options.enteFiscalCode);
  const owner = options.owner ?? `${RECONCILIATION_ACTOR}-${randomUUID()}`;
  const result: ReconcileResult = { status: 'done', asOf, fetch: null, treasury: null, enti: [] };
  const run = await store.locks.runExclusive(RECONCILIATION_LOCK, owner, LOCK_TTL_MS, async () => {
    if (options.node) {
      result.fetch = await fetchFlows(store, options.node, {
        enteFiscalCode: options.enteFiscalCode,
        actor: options.actor,
      });
    }
    if (options.dataDir) {
      result.treasury = await importTreasuryFolder(store, options.dataDir, {
        enteFiscalCode: options.enteFiscalCode,
      });
    }
    for (const ente of enti) {
      result.enti.push(
        await reconcileEnte(store, ente, {
          asOf,
          thresholds: options.thresholds,
          actor: options.actor,
          clock,
        }),
      );
    }
  });
  return run.ran ? result : { ...result, status: 'locked' };
}

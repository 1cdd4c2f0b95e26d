// Receipt recovery (pagopa-facts §4): an RPT the node accepted but whose RT never reached us (the
// push failed, we were down) is fetched with nodoChiediCopiaRT and processed exactly as paaInviaRT
// would have. When the node has no RT yet, nodoChiediStatoRPT tells whether the attempt is over
// without one (refused, expired: the attempt fails and the position is payable again) or still
// running. Each check is an `rt_recovery` event carrying the next check's time, so the exponential
// backoff survives restarts; a job lock keeps the job on one instance at a time.

import { randomUUID } from 'node:crypto';
import { isDomainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Payment } from '../../db/repositories/payments.ts';
import { backoffMs, nodeStationOf, NodeUnavailable, type NodePort, type NodeStation } from './nodePort.ts';
import { receiveRt } from './rtReceipts.ts';

export const RECEIPT_RECOVERY_LOCK = 'receipt-recovery';
export const RT_RECOVERY = 'rt_recovery';
const ACTOR = 'receipt-recovery';
/** An RPT is chased once it is this old without an RT (the citizen's session lasts up to 20 minutes). */
export const RECOVERY_AFTER_MS = 30 * 60_000;
/** Then checks at 5, 10, 20, … minutes, at most every 6 hours. */
export const RECOVERY_BASE_MS = 5 * 60_000;
export const RECOVERY_MAX_MS = 6 * 3600_000;
const LOCK_TTL_MS = 10 * 60_000;

/** RPT states after which no RT will come and the IUV may be paid with a new CCP (pagopa-facts §4). */
const FINAL_WITHOUT_RT = new Set([
  'RPT_RIFIUTATA_NODO',
  'RPT_RIFIUTATA_PSP',
  'RPT_ERRORE_INVIO_A_PSP',
  'RPT_DECORSI_TERMINI',
]);

export type RecoveryResult =
  | 'recovered' // the RT was fetched and processed
  | 'duplicate' // the RT arrived meanwhile
  | 'closed' // the node says the attempt ended without an RT: attempt FAILED
  | 'pending' // no RT yet: checked again later
  | 'unreachable'; // the node did not answer: checked again later

export interface RecoveryOptions {
  now?: Date;
  /** Age after which an attempt without RT is chased. */
  olderThanMs?: number;
  limit?: number;
  /** Lock owner; a random one per run by default. */
  owner?: string;
}

export interface RecoverySummary {
  status: 'done' | 'locked';
  checked: number;
  recovered: number;
  closed: number;
  pending: number;
  /** Attempts skipped because their next check is not due yet. */
  waiting: number;
}

interface RecoveryPayload {
  check: number;
  result: RecoveryResult;
  nextCheckAt: string | null;
  detail?: string;
}

async function lastCheck(store: Store, payment: Payment): Promise<RecoveryPayload | null> {
  const events = await store.events.listFor('payment', payment.id);
  const last = events.filter((e) => e.action === RT_RECOVERY).at(-1);
  return (last?.payload as RecoveryPayload | undefined) ?? null;
}

async function recordCheck(
  store: Store,
  payment: Payment,
  previous: RecoveryPayload | null,
  result: RecoveryResult,
  now: Date,
  detail?: string,
): Promise<void> {
  const check = (previous?.check ?? 0) + 1;
  const again = result === 'pending' || result === 'unreachable';
  const payload: RecoveryPayload = {
    check,
    result,
    nextCheckAt: again
      ? new Date(now.getTime() + backoffMs(check, RECOVERY_BASE_MS, RECOVERY_MAX_MS)).toISOString()
      : null,
    ...(detail ? { detail } : {}),
  };
  await store.events.append({
    entityType: 'payment',
    entityId: payment.id,
    action: RT_RECOVERY,
    cause: `receipt recovery: ${result}${detail ? ` (${detail})` : ''}`,
    actor: ACTOR,
    payload,
  });
}

async function closeWithoutRt(store: Store, payment: Payment, state: string): Promise<void> {
  try {
    await store.payments.setStatus(payment.id, 'FAILED', {
      cause: `nodoChiediStatoRPT: ${state}, no RT will come`,
      actor: ACTOR,
      expectedStatus: payment.status,
    });
  } catch (err) {
    if (!isDomainError(err, 'CONCURRENT_UPDATE')) throw err;
  }
}

/** Asks the node about one attempt; returns what happened and, for the log, why. */
async function recoverOne(
  store: Store,
  node: NodePort,
  payment: Payment,
  nodeStation: NodeStation,
): Promise<{ result: RecoveryResult; detail?: string }> {
  const key = { enteFiscalCode: nodeStation.ente.fiscalCode, iuv: payment.iuv, ccp: payment.ccpOrToken };
  try {
    const copy = await node.nodoChiediCopiaRT(nodeStation.credentials, key);
    if (copy.rt) {
      try {
        await receiveRt(
          store,
          { caller: nodeStation.caller, iuv: payment.iuv, ccp: payment.ccpOrToken, document: copy.rt },
          { actor: ACTOR },
        );
        return { result: 'recovered' };
      } catch (err) {
        if (isDomainError(err, 'RECEIPT_DUPLICATE')) return { result: 'duplicate' };
        if (isDomainError(err) && (err.code === 'INVALID_DOCUMENT' || err.code === 'INVALID_INPUT'))
          return { result: 'pending', detail: `the copy was refused: ${err.message}` };
        throw err;
      }
    }
    const state = await node.nodoChiediStatoRPT(nodeStation.credentials, key);
    const unknownToNode = state.fault?.faultCode === 'PPT_RPT_SCONOSCIUTA';
    if (unknownToNode || (state.status && FINAL_WITHOUT_RT.has(state.status))) {
      const why = unknownToNode ? 'PPT_RPT_SCONOSCIUTA' : (state.status as string);
      await closeWithoutRt(store, payment, why);
      return { result: 'closed', detail: why };
    }
    return { result: 'pending', detail: state.status ?? copy.fault?.faultCode ?? undefined };
  } catch (err) {
    if (err instanceof NodeUnavailable) return { result: 'unreachable', detail: err.reason };
    throw err;
  }
}

/**
 * One run of the job: every sent RPT older than `olderThanMs` with no RT and whose next check is due.
 * Returns `locked` without doing anything when another instance holds the job lock.
 */
export async function runReceiptRecovery(
  store: Store,
  node: NodePort,
  options: RecoveryOptions = {},
): Promise<RecoverySummary> {
  const now = options.now ?? new Date();
  const owner = options.owner ?? `${ACTOR}-${randomUUID()}`;
  const summary: RecoverySummary = {
    status: 'done',
    checked: 0,
    recovered: 0,
    closed: 0,
    pending: 0,
    waiting: 0,
  };
  const createdBefore = new Date(now.getTime() - (options.olderThanMs ?? RECOVERY_AFTER_MS)).toISOString();
  const run = await store.locks.runExclusive(RECEIPT_RECOVERY_LOCK, owner, LOCK_TTL_MS, async () => {
    for (const payment of await store.payments.listRptsAwaitingReceipt(createdBefore, options.limit ?? 100)) {
      const previous = await lastCheck(store, payment);
      if (previous?.nextCheckAt && now.getTime() < Date.parse(previous.nextCheckAt)) {
        summary.waiting += 1;
        continue;
      }
      const ente = await store.enti.getById(payment.enteId);
      if (!ente) continue;
      const { result, detail } = await recoverOne(store, node, payment, await nodeStationOf(store, ente));
      await recordCheck(store, payment, previous, result, now, detail);
      summary.checked += 1;
      if (result === 'recovered' || result === 'duplicate') summary.recovered += 1;
      else if (result === 'closed') summary.closed += 1;
      else summary.pending += 1;
    }
  });
  return run.ran ? summary : { ...summary, status: 'locked' };
}

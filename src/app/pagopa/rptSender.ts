// Legacy model 3 (pagopa-facts §3, §11): after answering paaAttivaRPT the EC must send the RPT itself
// with nodoInviaRPT (tipoVersamento PO, the PSP's CCP and route) within 1–2 s. The intent is durable:
// paaAttivaRPT records the attempt and an `rpt_queued` event (with the PSP route) in one transaction;
// an attempt still IN_PROGRESS with no request document is an RPT to send. The sender builds the RPT
// from the notice as it was at activation, retries with backoff while the node is unreachable (each
// failure is an `rpt_send_failed` event, so the schedule survives restarts), stores the accepted RPT
// as the attempt's request document, and fails the attempt when the node refuses it for good.

import { isDomainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Payment } from '../../db/repositories/payments.ts';
import type { StoredEvent } from '../../db/repositories/events.ts';
import { describeNotice } from './payments.ts';
import { backoffMs, nodeStationOf, NodeUnavailable, type NodePort, type PspRoute } from './nodePort.ts';
import { rptDocument } from './rptDocuments.ts';

export const RPT_QUEUED = 'rpt_queued';
export const RPT_SEND_FAILED = 'rpt_send_failed';
const SENDER_ACTOR = 'rpt-sender';
/** First retry after 1 s, doubling up to a minute: the PSP is waiting for this RPT. */
export const RPT_RETRY_BASE_MS = 1_000;
export const RPT_RETRY_MAX_MS = 60_000;
/** After this the PSP's session is long over (user timeout 20 min): the attempt is given up. */
export const RPT_GIVE_UP_MS = 30 * 60_000;
/** Node faults worth a retry; any other refusal is final for this RPT. */
const RETRYABLE_FAULTS = new Set(['PPT_SYSTEM_ERROR']);

export interface QueuedRptPayload {
  psp: PspRoute;
}

/** Records that the attempt's RPT must be sent to `psp`; pass the transaction that records the attempt. */
export async function queueRpt(
  store: Store,
  payment: Payment,
  psp: PspRoute,
  change: { cause: string; actor: string },
): Promise<void> {
  const payload: QueuedRptPayload = { psp };
  await store.events.append({
    entityType: 'payment',
    entityId: payment.id,
    action: RPT_QUEUED,
    cause: change.cause,
    actor: change.actor,
    payload,
  });
}

export type RptSendOutcome = 'sent' | 'retrying' | 'waiting' | 'failed' | 'skipped';

export interface RptSendSummary {
  status: 'done';
  sent: number;
  retrying: number;
  waiting: number;
  failed: number;
  /** The earliest instant an RPT waiting for its retry is due; null when none waits. */
  nextAttemptAt: Date | null;
}

export interface RptSenderOptions {
  now?: Date;
  /** How many RPTs one run looks at. */
  limit?: number;
}

function queuedRoute(events: StoredEvent[]): { event: StoredEvent; psp: PspRoute } | null {
  const event = events.filter((e) => e.action === RPT_QUEUED).at(-1);
  const psp = (event?.payload as QueuedRptPayload | null | undefined)?.psp;
  return event && psp ? { event, psp } : null;
}

async function failAttempt(store: Store, payment: Payment, cause: string): Promise<void> {
  try {
    await store.payments.setStatus(payment.id, 'FAILED', {
      cause,
      actor: SENDER_ACTOR,
      expectedStatus: 'IN_PROGRESS',
    });
  } catch (err) {
    // The RT (or another sender) settled the attempt meanwhile: nothing left to fail.
    if (!isDomainError(err, 'CONCURRENT_UPDATE')) throw err;
  }
}

async function recordFailure(store: Store, payment: Payment, reason: string): Promise<void> {
  await store.events.append({
    entityType: 'payment',
    entityId: payment.id,
    action: RPT_SEND_FAILED,
    cause: reason,
    actor: SENDER_ACTOR,
  });
}

/** The RPT of a model 3 attempt, built from the notice as it was when the PSP activated it. */
async function rptFor(store: Store, payment: Payment, now: Date) {
  const ente = await store.enti.getById(payment.enteId);
  if (!ente) return null;
  const nodeStation = await nodeStationOf(store, ente);
  const position = await store.positions.findByIuv(ente.id, payment.iuv);
  const option = position?.options.find((o) => o.iuv === payment.iuv);
  if (!position || !option) return null;
  const notice = await describeNotice(store, ente, position, option, new Date(payment.createdAt));
  const document = rptDocument({
    ente,
    station: nodeStation.station,
    notice,
    ccp: payment.ccpOrToken,
    tipoVersamento: 'PO',
    now,
  });
  return { nodeStation, document };
}

async function sendOne(
  store: Store,
  node: NodePort,
  payment: Payment,
  now: Date,
): Promise<{ outcome: RptSendOutcome; dueAt?: Date }> {
  const events = await store.events.listFor('payment', payment.id);
  const queued = queuedRoute(events);
  if (!queued) return { outcome: 'skipped' };
  const failures = events.filter((e) => e.action === RPT_SEND_FAILED && e.id > queued.event.id);
  const last = failures.at(-1);
  if (last) {
    const dueAt = new Date(
      Date.parse(last.occurredAt) + backoffMs(failures.length, RPT_RETRY_BASE_MS, RPT_RETRY_MAX_MS),
    );
    if (now < dueAt) return { outcome: 'waiting', dueAt };
  }
  if (now.getTime() - Date.parse(payment.createdAt) > RPT_GIVE_UP_MS) {
    await failAttempt(
      store,
      payment,
      'nodoInviaRPT: the node did not accept the RPT in time, attempt given up',
    );
    return { outcome: 'failed' };
  }
  const built = await rptFor(store, payment, now);
  if (!built) {
    await failAttempt(store, payment, 'nodoInviaRPT: the notice of this attempt no longer exists');
    return { outcome: 'failed' };
  }
  const key = {
    enteFiscalCode: built.nodeStation.ente.fiscalCode,
    iuv: payment.iuv,
    ccp: payment.ccpOrToken,
  };
  let answer;
  try {
    answer = await node.nodoInviaRPT(built.nodeStation.credentials, key, queued.psp, built.document.xml);
  } catch (err) {
    if (!(err instanceof NodeUnavailable)) throw err;
    await recordFailure(store, payment, err.message);
    return { outcome: 'retrying' };
  }
  const code = answer.fault?.faultCode ?? null;
  // PPT_RPT_DUPLICATA: an earlier send reached the node but its answer was lost.
  if (answer.ok || code === 'PPT_RPT_DUPLICATA') {
    const cause = answer.ok ? 'nodoInviaRPT accepted' : 'nodoInviaRPT: the node already holds this RPT';
    await store.payments.setRequestDocument(payment.id, built.document.xml, { cause, actor: SENDER_ACTOR });
    return { outcome: 'sent' };
  }
  if (code !== null && RETRYABLE_FAULTS.has(code)) {
    await recordFailure(store, payment, `nodoInviaRPT: ${code}`);
    return { outcome: 'retrying' };
  }
  await failAttempt(
    store,
    payment,
    `nodoInviaRPT refused: ${code ?? 'esito KO'} ${answer.fault?.description ?? ''}`.trim(),
  );
  return { outcome: 'failed' };
}

/** One pass over the RPTs to send; `nextAttemptAt` says when the next retry falls due. */
export async function sendPendingRpts(
  store: Store,
  node: NodePort,
  options: RptSenderOptions = {},
): Promise<RptSendSummary> {
  const now = options.now ?? new Date();
  const summary: RptSendSummary = {
    status: 'done',
    sent: 0,
    retrying: 0,
    waiting: 0,
    failed: 0,
    nextAttemptAt: null,
  };
  const noteDue = (at: Date) => {
    if (!summary.nextAttemptAt || at < summary.nextAttemptAt) summary.nextAttemptAt = at;
  };
  for (const payment of await store.payments.listRptsToSend(options.limit ?? 100)) {
    const { outcome, dueAt } = await sendOne(store, node, payment, now);
    if (outcome === 'skipped') continue;
    summary[outcome] += 1;
    if (dueAt) noteDue(dueAt);
    if (outcome === 'retrying') noteDue(new Date(now.getTime() + RPT_RETRY_BASE_MS));
  }
  return summary;
}

/** What paaAttivaRPT needs from the sender: a nudge once the answer is on its way. */
export interface RptWakeup {
  wake(): void;
}

/**
 * Runs sendPendingRpts off the request path: woken after each paaAttivaRPT (and by a periodic sweep
 * that catches RPTs left by a crash or another instance), one run at a time, re-run when woken
 * meanwhile, and re-armed for the next retry due. Until a node is attached it only remembers nothing:
 * the queued RPTs wait in the database.
 */
export class RptDispatcher implements RptWakeup {
  private node: NodePort | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void = (err) =>
      process.stderr.write(`RPT sender: ${String(err)}\n`),
  ) {}

  attach(node: NodePort): void {
    this.node = node;
    this.wake();
  }

  wake(): void {
    if (!this.node || this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.loop())
      .catch(this.onError)
      .finally(() => {
        this.running = null;
        if (this.again) this.wake();
      });
  }

  /** Resolves once no run is in progress (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.idle();
  }

  private async loop(): Promise<void> {
    const node = this.node;
    if (!node) return;
    let summary: RptSendSummary;
    do {
      this.again = false;
      summary = await sendPendingRpts(this.store, node);
    } while (this.again && !this.closed);
    this.armRetry(summary.nextAttemptAt);
  }

  private armRetry(at: Date | null): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!at || this.closed) return;
    const delay = Math.max(0, at.getTime() - Date.now());
    this.retryTimer = setTimeout(() => this.wake(), delay);
    this.retryTimer.unref();
  }
}

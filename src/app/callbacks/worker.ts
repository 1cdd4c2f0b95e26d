// The callback delivery worker (DESIGN §6 outbox rule, gestionale-callback.xsd delivery contract):
// claims due outbox rows under a lease, POSTs each as SOAP 1.1 to its client's callbackUrl and
// counts it delivered only on HTTP 200 with a schema-valid ack whose outcome is OK. Anything else is
// retried with exponential backoff and jitter, and after the configured number of attempts the row
// becomes a dead letter (`ppay outbox replay <id>` puts it back). At least once: a lease that runs
// out mid-delivery may send a row again, always with the same notificationId (the row's id).
// Per-position order comes from claimDue, which only hands out the earliest pending row of a group.
// Every attempt is an `outbox` event (delivery_attempt) plus the request/answer in the message log.

import { randomUUID } from 'node:crypto';
import type { Store } from '../../db/store.ts';
import type { OutboxMessage } from '../../db/repositories/outbox.ts';
import { logMessage } from '../../soap/messageLog.ts';
import { callbackService, readAck } from './callbackXml.ts';
import { callbackRequestFor, type CallbackRequest } from './requests.ts';

export const OUTBOX_WORKER = 'outbox-worker';
/** Backoff never waits longer than this between two attempts. */
export const MAX_RETRY_DELAY_MS = 3600 * 1000;
const DEFAULT_BATCH_SIZE = 20;

export interface CallbackWorkerOptions {
  /** After this many failed attempts a row is dead (PPAY_OUTBOX_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** The wait after the first failure; doubled after each further one (PPAY_OUTBOX_BASE_DELAY_MS). */
  baseDelayMs: number;
  /** How long one POST may take (PPAY_CALLBACK_TIMEOUT_MS). */
  timeoutMs: number;
  maxDelayMs?: number;
  /** Rows claimed per pass. */
  batchSize?: number;
  /** How long a claimed row stays invisible to other workers; longer than a delivery by default. */
  leaseMs?: number;
  /** Source of "now" for claims and retry times (tests). */
  clock?: () => Date;
  /** Source of jitter in [0, 1) (tests). */
  random?: () => number;
  /** Where an unexpected failure of a pass is reported; the next pass goes on. */
  onError?: (err: unknown) => void;
}

export interface PassReport {
  claimed: number;
  delivered: number;
  /** Failed attempts that will be retried. */
  retried: number;
  dead: number;
}

type AttemptResult =
  | { status: 'DELIVERED'; httpStatus: number }
  | { status: 'FAILED'; httpStatus: number | null; reason: string };

/**
 * The wait before attempt `failed + 1` after `failed` failed attempts: base × 2^(failed−1), capped,
 * with "equal jitter" (half fixed, half random) so clients that failed together retry apart.
 */
export function retryDelayMs(
  failed: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: number,
): number {
  const exponential = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, failed - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random);
}

/** The callback URL as the event log shows it: no credentials. */
function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}

function failed(reason: string, httpStatus: number | null = null): AttemptResult {
  return { status: 'FAILED', httpStatus, reason };
}

const emptyReport = (): PassReport => ({ claimed: 0, delivered: 0, retried: 0, dead: 0 });

export class CallbackWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly clock: () => Date;
  private readonly random: () => number;

  constructor(
    private readonly store: Store,
    private readonly options: CallbackWorkerOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.random = options.random ?? Math.random;
  }

  /** Polls every `intervalMs` until close(). */
  start(intervalMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Starts draining unless a drain runs; a kick during one makes another follow it. */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop();
  }

  /** Resolves once no drain is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops polling and waits for the deliveries in flight. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.idle();
  }

  /** Passes until nothing is due (a delivered row may unblock the next one of its position). */
  async drain(): Promise<PassReport> {
    const total = emptyReport();
    for (;;) {
      const pass = await this.runOnce();
      total.claimed += pass.claimed;
      total.delivered += pass.delivered;
      total.retried += pass.retried;
      total.dead += pass.dead;
      if (pass.claimed === 0 || this.closed) return total;
    }
  }

  /** One pass: claims a batch of due rows and delivers them concurrently. */
  async runOnce(): Promise<PassReport> {
    const leaseMs = this.options.leaseMs ?? this.options.timeoutMs * 2 + 30_000;
    const claimed = await this.store.outbox.claimDue(
      this.clock(),
      this.options.batchSize ?? DEFAULT_BATCH_SIZE,
      leaseMs,
    );
    const report = emptyReport();
    report.claimed = claimed.length;
    const outcomes = await Promise.all(claimed.map((message) => this.deliver(message)));
    for (const outcome of outcomes) report[outcome] += 1;
    return report;
  }

  private async loop(): Promise<void> {
    for (;;) {
      this.again = false;
      try {
        await this.drain();
      } catch (err) {
        (this.options.onError ?? defaultReport)(err);
      }
      // Cleared synchronously after the check, so a kick can never fall between the two.
      if (!this.again || this.closed) {
        this.running = null;
        return;
      }
    }
  }

  /** One attempt at one claimed row, and what became of the row. */
  private async deliver(message: OutboxMessage): Promise<'delivered' | 'retried' | 'dead'> {
    const client = await this.store.clients.getById(Number(message.target));
    if (!client || client.status !== 'active') {
      return this.giveUp(message, `client ${message.target} is ${client ? 'revoked' : 'unknown'}`);
    }
    if (!client.callbackUrl) {
      return this.giveUp(
        message,
        `client ${client.username} has no callbackUrl: set it, then ppay outbox replay ${message.id}`,
      );
    }
    const built = callbackRequestFor(message);
    if (!built.ok) return this.giveUp(message, built.reason);
    const correlationId = randomUUID();
    const result = await this.post(client.callbackUrl, built.request, correlationId);
    const outcome =
      result.status === 'DELIVERED'
        ? 'delivered'
        : message.attempts >= this.options.maxAttempts
          ? 'dead'
          : 'retried';
    // The attempt's event and the row's new state are written together.
    await this.store.transaction(async (tx) => {
      await tx.events.append({
        entityType: 'outbox',
        entityId: message.id,
        action: 'delivery_attempt',
        cause: `${message.topic} attempt ${message.attempts}: ${result.status === 'DELIVERED' ? 'delivered' : result.reason}`,
        actor: OUTBOX_WORKER,
        payload: {
          attempt: message.attempts,
          correlationId,
          url: shownUrl(client.callbackUrl as string),
          httpStatus: result.httpStatus,
          result: result.status,
          error: result.status === 'FAILED' ? result.reason : null,
        },
      });
      if (result.status === 'DELIVERED') {
        await tx.outbox.markDelivered(message.id);
      } else if (outcome === 'dead') {
        await tx.outbox.markDead(message.id, `gave up after ${message.attempts} attempts: ${result.reason}`);
      } else {
        const delay = retryDelayMs(
          message.attempts,
          this.options.baseDelayMs,
          this.options.maxDelayMs ?? MAX_RETRY_DELAY_MS,
          this.random(),
        );
        await tx.outbox.markFailed(message.id, result.reason, new Date(this.clock().getTime() + delay));
      }
    });
    return outcome;
  }

  private async giveUp(message: OutboxMessage, reason: string): Promise<'dead'> {
    await this.store.outbox.markDead(message.id, reason);
    return 'dead';
  }

  /** POSTs the request, logs both sides, and judges the answer. */
  private async post(url: string, request: CallbackRequest, correlationId: string): Promise<AttemptResult> {
    const { operation, xml } = request;
    const log = (direction: 'request' | 'response' | 'fault', text: string, httpStatus?: number) =>
      logMessage(this.store, {
        correlationId,
        direction,
        service: callbackService().service,
        operation: operation.name,
        xml: text,
        httpStatus,
        actor: OUTBOX_WORKER,
      });
    await log('request', xml);
    let status: number;
    let text: string;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${operation.soapAction}"` },
        body: xml,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const reason =
        err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
          ? `no answer in ${this.options.timeoutMs} ms`
          : `connection failed${connectionCode(err)}`;
      await log('fault', reason);
      return failed(reason);
    }
    const verdict = readAck(operation, status, text);
    await log(verdict.ok ? 'response' : 'fault', text, status);
    return verdict.ok ? { status: 'DELIVERED', httpStatus: status } : failed(verdict.reason, status);
  }
}

/** The system error code under fetch's "fetch failed" (ECONNREFUSED, ENOTFOUND, ...), if any. */
function connectionCode(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? ` (${cause.code})` : '';
}

function defaultReport(err: unknown): void {
  process.stderr.write(`callback worker: ${err instanceof Error ? err.message : String(err)}\n`);
}

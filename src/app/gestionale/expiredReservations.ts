// The nightly report of multe notices reserved and never activated (notifyExpiredNotices,
// pagopa-facts §10: unused pre-allocated notices are withdrawn by a batch after a while). Each such
// notice becomes EXPIRED (so it is reported once, and the node gets PAA_PAGAMENTO_SCADUTO), and one
// notifyExpiredNotices outbox row per (client, ente, service) and 1000 notices is written in the
// same transaction. A DB job lock keeps the job to one instance; outbox ids derive from the
// content, so a retried run never queues a notification twice. Exposed for `ppay` (CLI) and a
// scheduler: `reportExpiredReservations(store, { olderThanDays, now })`.

import { hostname } from 'node:os';
import { isDomainError } from '../../domain/errors.ts';
import { italianDate } from '../../domain/payability.ts';
import type { Store } from '../../db/store.ts';
import type { ReservedNotice } from '../../db/repositories/positions.ts';
import { stableId } from './common.ts';

export const EXPIRED_NOTICES_JOB = 'job:notifyExpiredNotices';
export const NOTIFY_EXPIRED_NOTICES = 'notifyExpiredNotices';
/** Notices per notification (ctNotifyExpiredNoticesRequest notice maxOccurs). */
export const MAX_NOTICES_PER_NOTIFICATION = 1000;
const DAY_MS = 24 * 3600 * 1000;
const DEFAULT_LOCK_TTL_MS = 30 * 60_000;

export interface ExpiredReportOptions {
  /** A reservation older than this many days and still not activated is reported. */
  olderThanDays: number;
  now?: Date;
  /** Lock owner; this host and process unless given. */
  owner?: string;
  lockTtlMs?: number;
}

export interface ExpiredReportResult {
  /** DONE: this run did the work; LOCKED: another instance holds the job lock, nothing done. */
  status: 'DONE' | 'LOCKED';
  /** The day the report is for (Italian calendar date of `now`). */
  referenceDate: string;
  expired: number;
  notifications: number;
}

/** The notifyExpiredNotices callback content (gestionale-callback.xsd). */
export interface ExpiredNoticesNotification {
  notificationId: string;
  eventDateTime: string;
  enteFiscalCode: string;
  serviceCode: string;
  referenceDate: string;
  notice: Array<{ noticeNumber: string; iuv: string; reason: 'NOT_ACTIVATED'; reservedAt: string }>;
}

function groupKey(n: ReservedNotice): string {
  return `${n.clientId ?? '-'}|${n.enteId}|${n.serviceId}`;
}

function groups(notices: readonly ReservedNotice[]): ReservedNotice[][] {
  const byKey = new Map<string, ReservedNotice[]>();
  for (const n of notices) byKey.set(groupKey(n), [...(byKey.get(groupKey(n)) ?? []), n]);
  const out: ReservedNotice[][] = [];
  for (const group of byKey.values()) {
    for (let i = 0; i < group.length; i += MAX_NOTICES_PER_NOTIFICATION) {
      out.push(group.slice(i, i + MAX_NOTICES_PER_NOTIFICATION));
    }
  }
  return out;
}

/** Expires one group's notices (each in a savepoint: one activated meanwhile is skipped) and queues its report. */
async function expireGroup(
  store: Store,
  group: readonly ReservedNotice[],
  context: { days: number; referenceDate: string; now: Date },
): Promise<{ expired: number; notified: boolean }> {
  const [first] = group;
  if (!first) return { expired: 0, notified: false };
  const ente = await store.enti.getById(first.enteId);
  const service = await store.services.getById(first.serviceId);
  return store.transaction(async (tx) => {
    const expired: ReservedNotice[] = [];
    for (const notice of group) {
      try {
        await tx.transaction((itemTx) =>
          itemTx.positions.transition(notice.id, 'EXPIRED', {
            cause: `reserved notice not activated within ${context.days} days`,
            actor: EXPIRED_NOTICES_JOB,
            expectedVersion: notice.version,
          }),
        );
        expired.push(notice);
      } catch (err) {
        // Activated or released since it was listed: no longer ours to expire.
        if (!isDomainError(err, 'CONCURRENT_UPDATE') && !isDomainError(err, 'INVALID_STATE_TRANSITION'))
          throw err;
      }
    }
    if (expired.length === 0 || first.clientId === null || !ente || !service) {
      return { expired: expired.length, notified: false };
    }
    // The first IUV names the chunk: a rerun after a partial run reports the rest under a new id.
    const notificationId = stableId(
      NOTIFY_EXPIRED_NOTICES,
      first.clientId,
      first.enteId,
      first.serviceId,
      context.referenceDate,
      expired[0]?.iuv ?? '',
    );
    const payload: ExpiredNoticesNotification = {
      notificationId,
      eventDateTime: context.now.toISOString(),
      enteFiscalCode: ente.fiscalCode,
      serviceCode: service.code,
      referenceDate: context.referenceDate,
      notice: expired.map((n) => ({
        noticeNumber: n.noticeNumber ?? '',
        iuv: n.iuv,
        reason: 'NOT_ACTIVATED',
        reservedAt: n.createdAt,
      })),
    };
    const { created } = await tx.outbox.enqueueOnce(notificationId, {
      topic: NOTIFY_EXPIRED_NOTICES,
      target: first.clientId,
      payload,
    });
    return { expired: expired.length, notified: created };
  });
}

export async function reportExpiredReservations(
  store: Store,
  options: ExpiredReportOptions,
): Promise<ExpiredReportResult> {
  const now = options.now ?? new Date();
  const days = options.olderThanDays;
  if (!Number.isInteger(days) || days < 0)
    throw new RangeError('olderThanDays must be a whole number of days');
  const referenceDate = italianDate(now);
  const cutoff = new Date(now.getTime() - days * DAY_MS).toISOString();
  const owner = options.owner ?? `${hostname()}:${process.pid}`;
  const run = await store.locks.runExclusive(
    EXPIRED_NOTICES_JOB,
    owner,
    options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS,
    async () => {
      let expired = 0;
      let notifications = 0;
      for (const group of groups(await store.positions.listReservedCreatedBefore(cutoff))) {
        const done = await expireGroup(store, group, { days, referenceDate, now });
        expired += done.expired;
        if (done.notified) notifications += 1;
      }
      return { expired, notifications };
    },
  );
  if (!run.ran) return { status: 'LOCKED', referenceDate, expired: 0, notifications: 0 };
  return { status: 'DONE', referenceDate, ...run.result };
}

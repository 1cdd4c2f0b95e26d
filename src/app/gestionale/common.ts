// What every gestionale use case shares: who is calling (already authorized by the SOAP binding),
// content hashes for idempotency keys, stable ids for notifications, and the requestId rule of
// requestIUV / requestIUVBatch / reserveNotices (same id + same content → the first answer).

import { createHash, randomBytes } from 'node:crypto';
import { domainError, isDomainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';

/** The gestionale credential a use case acts for, once the binding has checked ente, service and model. */
export interface GestionaleCaller {
  clientId: number | null;
  /** Who the event log names, e.g. `gestionale:demo-gestionale`. */
  actor: string;
  /** The services the credential is bound to: reads and changes are limited to them. */
  serviceIds: readonly number[];
}

/** An ente and one of its services, both within the caller's bindings. */
export interface ServiceScope {
  ente: Ente;
  service: Service;
}

/** An IUV with its 18-digit notice number, as requestIUV and reserveNotices hand them out. */
export interface IssuedNotice {
  iuv: string;
  noticeNumber: string;
}

/** JSON with object keys sorted, so equal content always hashes the same whatever the key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function contentHash(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex');
}

/**
 * A UUID-shaped id derived from what it names (sha256 of the parts): the same notification gets
 * the same id however often the job that makes it runs, which is what the outbox deduplicates on
 * and what the gestionale receives as notificationId.
 */
export function stableId(...parts: ReadonlyArray<string | number>): string {
  const hex = createHash('sha256').update(parts.map(String).join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A new upload id: short enough for every identifier column, random enough to be unguessable. */
export function newUploadId(): string {
  return `upl-${randomBytes(12).toString('hex')}`;
}

export interface RequestKey {
  ente: Ente;
  requestId: string | null | undefined;
  operation: string;
  /** Everything the request asks for: a retry must ask for exactly the same. */
  content: unknown;
}

/**
 * The answer stored for this requestId, or null when the id is new (or absent). The same id with
 * other content (another operation, service or count) is MESSAGE_DUPLICATE.
 */
export async function priorAnswer<T>(store: Store, key: RequestKey): Promise<T | null> {
  if (!key.requestId) return null;
  const prior = await store.gestionaleRequests.find(key.ente.id, key.requestId);
  if (!prior) return null;
  if (prior.requestHash !== requestHash(key)) {
    throw domainError('MESSAGE_DUPLICATE', 'the requestId was already used with different content', {
      field: 'requestId',
    });
  }
  return prior.answer as T;
}

export function requestHash(key: RequestKey): string {
  return contentHash({ operation: key.operation, content: key.content });
}

/**
 * Runs a request that hands out numbers once per requestId: a known id gets its first answer; a
 * new one runs `produce`, whose writes must include `remember(tx)` in their transaction. Two
 * concurrent calls with one id both produce, one of them loses on the unique key, and the loser
 * answers with the winner's numbers (its own stay recorded, unused: an IUV is never reissued).
 */
export async function oncePerRequestId<T>(
  store: Store,
  key: RequestKey,
  clientId: number | null,
  produce: (remember: (tx: Store, answer: T) => Promise<void>) => Promise<T>,
): Promise<T> {
  const prior = await priorAnswer<T>(store, key);
  if (prior !== null) return prior;
  const remember = async (tx: Store, answer: T): Promise<void> => {
    if (!key.requestId) return;
    await tx.gestionaleRequests.insert({
      enteId: key.ente.id,
      requestId: key.requestId,
      operation: key.operation,
      clientId,
      requestHash: requestHash(key),
      answer,
    });
  };
  try {
    return await produce(remember);
  } catch (err) {
    if (!isDomainError(err, 'MESSAGE_DUPLICATE') || !key.requestId) throw err;
    const winner = await priorAnswer<T>(store, key);
    if (winner === null) throw err;
    return winner;
  }
}

/** The YYYY-MM-DD day of an xs:date, which may carry a zone suffix (the day is what counts). */
function dayOf(value: string, field: string): string {
  const day = value.slice(0, 10);
  const date = new Date(`${day}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(day) ||
    Number.isNaN(date.getTime()) ||
    date.toISOString().slice(0, 10) !== day
  ) {
    throw domainError('INVALID_DATE', `${field} is not a date`, { field });
  }
  return day;
}

/** The inclusive fromDate..toDate range of a list request, as YYYY-MM-DD days. */
export function dayRangeOf(query: { fromDate: string; toDate: string }): {
  fromDate: string;
  toDate: string;
} {
  const fromDate = dayOf(query.fromDate, 'fromDate');
  const toDate = dayOf(query.toDate, 'toDate');
  if (toDate < fromDate) throw domainError('INVALID_INPUT', 'toDate is before fromDate', { field: 'toDate' });
  return { fromDate, toDate };
}

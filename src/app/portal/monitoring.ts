// The portal's monitoring actions (issue 8 item 5), always within the enti the user may see: the
// filters' day inputs as Italian days, the resend of a dead notification (as `ppay outbox replay`
// does) and the manual resolution of a reconciliation anomaly (as `ppay anomalies resolve` does).
// Another ente's record is refused exactly like a record that does not exist.

import { domainError } from '../../domain/errors.ts';
import { parseIsoDate } from '../../domain/position.ts';
import type { Store } from '../../db/store.ts';
import type { OutboxMessage } from '../../db/repositories/outbox.ts';
import type { StoredAnomaly } from '../../db/repositories/anomalies.ts';
import type { StoredFlow } from '../../db/repositories/reconciliationFlows.ts';
import { enteFiscalCodeOfPayload, type EnteScope } from '../../db/repositories/portalSearch.ts';
import { replayNotification, type ReplayResult } from '../callbacks/deadLetters.ts';
import { resolveAnomaly } from '../reconciliation/anomalies.ts';

export const PAGE_SIZE = 50;

const ITALIAN_DAY = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

/**
 * A day typed in a filter, as YYYY-MM-DD: `2026-11-26` (what <input type="date"> sends) or
 * `26/11/2026`; '' is no filter (null). Anything else is INVALID_DATE naming the field.
 */
export function parseDayInput(value: string, field: string): string | null {
  const text = value.trim();
  if (text === '') return null;
  const italian = ITALIAN_DAY.exec(text);
  const iso = italian
    ? `${italian[3]}-${italian[2]!.padStart(2, '0')}-${italian[1]!.padStart(2, '0')}`
    : text;
  return parseIsoDate(iso, field);
}

/** YYYY-MM-DD plus whole days. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

const ROME = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Rome',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function romeLocal(at: Date): string {
  const p = Object.fromEntries(ROME.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/**
 * The instant (ISO-8601 UTC) Italian midnight starts the day: creation times are stored in UTC,
 * while an operator's "from 26/11" means the Italian day.
 */
export function romeMidnightIso(date: string): string {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  for (const offsetHours of [1, 2]) {
    const candidate = new Date(utcMidnight - offsetHours * 3600_000);
    if (romeLocal(candidate) === `${date}T00:00`) return candidate.toISOString();
  }
  throw new RangeError(`no Italian midnight found for ${date}`);
}

/** A notice number or IUV as typed: printed notices group the digits with spaces. */
export function compactCode(value: string): string {
  return value.replace(/\s+/g, '');
}

function inScope(scope: EnteScope, enteId: number): boolean {
  return scope === null || scope.includes(enteId);
}

/** The ente a callback message is about, from its payload's header (null when it names none). */
async function enteIdOfMessage(store: Store, message: OutboxMessage): Promise<number | null> {
  const fiscalCode = enteFiscalCodeOfPayload(message.payload);
  if (fiscalCode === null) return null;
  return (await store.enti.getByFiscalCode(fiscalCode))?.id ?? null;
}

/** An outbox message the user may see; any other id is a not-found. */
export async function requireVisibleMessage(
  store: Store,
  scope: EnteScope,
  id: string,
): Promise<OutboxMessage> {
  const message = await store.outbox.get(id);
  if (message && scope === null) return message;
  const enteId = message ? await enteIdOfMessage(store, message) : null;
  if (!message || enteId === null || !inScope(scope, enteId)) {
    throw domainError('POSITION_UNKNOWN', `no outbox message ${id}`, { notFound: true });
  }
  return message;
}

/** Puts a dead notification of the user's enti back in the queue, with the user as actor. */
export async function resendNotification(
  store: Store,
  scope: EnteScope,
  id: string,
  actor: string,
): Promise<ReplayResult> {
  await requireVisibleMessage(store, scope, id);
  return replayNotification(store, id, actor);
}

/** An anomaly of the user's enti; another ente's is ANOMALY_UNKNOWN, as a missing one is. */
export async function requireVisibleAnomaly(
  store: Store,
  scope: EnteScope,
  id: number,
): Promise<StoredAnomaly> {
  const anomaly = await store.anomalies.getById(id);
  if (!anomaly || !inScope(scope, anomaly.enteId)) {
    throw domainError('ANOMALY_UNKNOWN', `no anomaly ${id}`, { id });
  }
  return anomaly;
}

/** Resolves by hand an open anomaly of the user's enti, with the note saying why. */
export async function resolveVisibleAnomaly(
  store: Store,
  scope: EnteScope,
  id: number,
  note: string,
  actor: string,
): Promise<StoredAnomaly> {
  await requireVisibleAnomaly(store, scope, id);
  return resolveAnomaly(store, id, note, actor);
}

/** A stored flow revision of the user's enti; another ente's is FLOW_UNKNOWN, as a missing one is. */
export async function requireVisibleFlow(
  store: Store,
  scope: EnteScope,
  flowRowId: number,
): Promise<StoredFlow> {
  const flow = await store.reconciliationFlows.getById(flowRowId);
  if (!flow || !inScope(scope, flow.enteId)) {
    throw domainError('FLOW_UNKNOWN', `no reporting flow ${flowRowId}`, { flowRowId });
  }
  return flow;
}

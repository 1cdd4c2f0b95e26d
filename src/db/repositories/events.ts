// The event log: one row per state change of a position, option, payment, receipt or notification,
// with its cause and actor, written in the same transaction as the change (DESIGN.md §6).

import type { Db } from '../knex.ts';
import { isoNow, toInt, type Clock } from '../rows.ts';

/** Why a change happens and who asked for it: copied into the event row. */
export interface ChangeContext {
  cause: string;
  actor: string;
  payload?: unknown;
}

export interface EventInput {
  entityType: string;
  entityId: string | number;
  action: string;
  fromStatus?: string | null;
  toStatus?: string | null;
  cause: string;
  actor: string;
  payload?: unknown;
}

export interface StoredEvent {
  id: number;
  occurredAt: string;
  entityType: string;
  entityId: string;
  action: string;
  fromStatus: string | null;
  toStatus: string | null;
  cause: string;
  actor: string;
  payload: unknown;
}

export interface EventRow {
  id: number | string;
  occurred_at: string;
  entity_type: string;
  entity_id: string;
  action: string;
  from_status: string | null;
  to_status: string | null;
  cause: string;
  actor: string;
  payload: string | null;
}

export function toEvent(row: EventRow): StoredEvent {
  return {
    id: toInt(row.id),
    occurredAt: row.occurred_at,
    entityType: row.entity_type,
    entityId: row.entity_id,
    action: row.action,
    fromStatus: row.from_status,
    toStatus: row.to_status,
    cause: row.cause,
    actor: row.actor,
    payload: row.payload === null ? null : (JSON.parse(row.payload) as unknown),
  };
}

/** Appends one event with the given db (pass the transaction that makes the change). */
export async function appendEvent(db: Db, clock: Clock, input: EventInput): Promise<void> {
  await db('events').insert({
    occurred_at: isoNow(clock),
    entity_type: input.entityType,
    entity_id: String(input.entityId),
    action: input.action,
    from_status: input.fromStatus ?? null,
    to_status: input.toStatus ?? null,
    cause: input.cause,
    actor: input.actor,
    payload: input.payload === undefined ? null : JSON.stringify(input.payload),
  });
}

/** Rows per bulk INSERT of events: well below SQLite's bound-parameter limit with nine columns. */
const EVENT_CHUNK_SIZE = 500;

/** Appends many events with the given db in chunked INSERTs (bulk changes such as a block of reservations). */
export async function appendEvents(db: Db, clock: Clock, inputs: readonly EventInput[]): Promise<void> {
  const occurredAt = isoNow(clock);
  const rows = inputs.map((input) => ({
    occurred_at: occurredAt,
    entity_type: input.entityType,
    entity_id: String(input.entityId),
    action: input.action,
    from_status: input.fromStatus ?? null,
    to_status: input.toStatus ?? null,
    cause: input.cause,
    actor: input.actor,
    payload: input.payload === undefined ? null : JSON.stringify(input.payload),
  }));
  for (let i = 0; i < rows.length; i += EVENT_CHUNK_SIZE) {
    await db('events').insert(rows.slice(i, i + EVENT_CHUNK_SIZE));
  }
}

export function createEventsRepository(db: Db, clock: Clock) {
  return {
    append: (input: EventInput): Promise<void> => appendEvent(db, clock, input),

    /** Appends several events in one INSERT (one write transaction), all with the same time. */
    appendMany: (inputs: readonly EventInput[]): Promise<void> => appendEvents(db, clock, inputs),

    /** Events of one entity, oldest first. */
    async listFor(entityType: string, entityId: string | number): Promise<StoredEvent[]> {
      const rows = await db<EventRow>('events')
        .where({ entity_type: entityType, entity_id: String(entityId) })
        .orderBy('id');
      return rows.map(toEvent);
    },

    /** Deletes events of one type older than `before` (message-log retention); returns how many. */
    purge(entityType: string, before: Date): Promise<number> {
      return db('events')
        .where({ entity_type: entityType })
        .andWhere('occurred_at', '<', before.toISOString())
        .delete();
    },
  };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;

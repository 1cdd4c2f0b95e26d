// The notification outbox: callbacks to gestionali are enqueued in the transaction of the change that
// causes them, then delivered by a worker with retries and backoff; dead letters can be replayed.

import { randomUUID } from 'node:crypto';
import type { Db } from '../knex.ts';
import { appendEvent, type ChangeContext } from './events.ts';
import { inTransaction, isoNow, toInt, toIntOrNull, type Clock } from '../rows.ts';

const OUTBOX = 'outbox';
const WORKER = 'outbox-worker';
/** How long a claimed message stays invisible to other workers before it may be claimed again. */
export const DEFAULT_CLAIM_LEASE_MS = 60_000;

export type OutboxStatus = 'PENDING' | 'DELIVERED' | 'DEAD';

export interface NewOutboxMessage {
  topic: string;
  /** Who receives it: the gestionale client id. */
  target: string | number;
  payload: unknown;
  /** Not before this time (defaults to now). */
  notBefore?: Date;
  /**
   * Messages of one group for one target are delivered in the order they were queued (e.g.
   * `position:<id>`): a later one waits while an earlier one is still PENDING. None: no order.
   */
  groupKey?: string | null;
}

export interface OutboxMessage {
  id: string;
  topic: string;
  target: string;
  payload: unknown;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  groupKey: string | null;
  /** The message's place in its group (1, 2, ...); null when ungrouped. */
  groupSeq: number | null;
}

export interface OutboxRow {
  id: string;
  topic: string;
  target: string;
  payload: string;
  status: OutboxStatus;
  attempts: number | string;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  group_key: string | null;
  group_seq: number | string | null;
}

export function toMessage(row: OutboxRow): OutboxMessage {
  return {
    id: row.id,
    topic: row.topic,
    target: row.target,
    payload: JSON.parse(row.payload) as unknown,
    status: row.status,
    attempts: toInt(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    groupKey: row.group_key,
    groupSeq: toIntOrNull(row.group_seq),
  };
}

export function createOutboxRepository(db: Db, clock: Clock) {
  /**
   * The row to insert. A grouped message takes the next place in its group: callers queue it in
   * the transaction that changed what the group is about (e.g. the position row, which that
   * transaction has locked), so two messages of one group are numbered one after the other; the
   * unique index refuses a collision rather than letting two share a place.
   */
  const rowFor = async (id: string, message: NewOutboxMessage) => {
    const now = isoNow(clock);
    const target = String(message.target);
    const groupKey = message.groupKey ?? null;
    let groupSeq: number | null = null;
    if (groupKey !== null) {
      const [last] = await db('outbox')
        .where({ target, group_key: groupKey })
        .max<{ seq: number | string | null }[]>({ seq: 'group_seq' });
      groupSeq = (toIntOrNull(last?.seq ?? null) ?? 0) + 1;
    }
    return {
      id,
      topic: message.topic,
      target,
      payload: JSON.stringify(message.payload),
      status: 'PENDING',
      attempts: 0,
      next_attempt_at: message.notBefore?.toISOString() ?? now,
      created_at: now,
      group_key: groupKey,
      group_seq: groupSeq,
    };
  };

  const get = async (id: string): Promise<OutboxMessage | null> => {
    const row = await db<OutboxRow>('outbox').where({ id }).first();
    return row ? toMessage(row) : null;
  };

  /** Changes the status of a message that is in `from`, with its event; false when it is not. */
  const changeStatus = (
    id: string,
    from: OutboxStatus,
    columns: Partial<OutboxRow>,
    ctx: ChangeContext,
  ): Promise<boolean> =>
    inTransaction(db, async (trx) => {
      const changed = await trx('outbox').where({ id, status: from }).update(columns);
      if (changed === 0) return false;
      await appendEvent(trx, clock, {
        entityType: OUTBOX,
        entityId: id,
        action: 'status_changed',
        fromStatus: from,
        toStatus: columns.status ?? from,
        ...ctx,
      });
      return true;
    });

  return {
    get,

    /** Queues a message; pass the caller's transaction so it exists only if the change commits. */
    async enqueue(message: NewOutboxMessage): Promise<OutboxMessage> {
      const id = randomUUID();
      await db('outbox').insert(await rowFor(id, message));
      return (await get(id)) as OutboxMessage;
    },

    /**
     * Queues a message under an id the caller derives from what it announces, so the same
     * notification is never queued twice (a retried job, two instances): when the id exists, the
     * stored message is returned with `created: false` and nothing is written. Pass the caller's
     * transaction, as for enqueue. The id (at most 36 characters) doubles as the notificationId.
     */
    async enqueueOnce(
      id: string,
      message: NewOutboxMessage,
    ): Promise<{ message: OutboxMessage; created: boolean }> {
      const existing = await get(id);
      if (existing) return { message: existing, created: false };
      const inserted: unknown[] = await db('outbox')
        .insert(await rowFor(id, message))
        .onConflict('id')
        .ignore()
        .returning('id');
      return { message: (await get(id)) as OutboxMessage, created: inserted.length > 0 };
    },

    /**
     * Claims up to `limit` due messages: one UPDATE that counts the attempt and pushes the next
     * attempt past a lease, so a concurrent worker no longer sees them as due (PostgreSQL re-checks
     * the WHERE on a row it waited for; SQLite runs one writer at a time). A grouped message is
     * claimed only when no earlier message of its group and target is still PENDING (due, leased
     * or waiting for a retry), so a group is delivered one message at a time, in order.
     */
    async claimDue(now: Date, limit: number, leaseMs = DEFAULT_CLAIM_LEASE_MS): Promise<OutboxMessage[]> {
      const nowIso = now.toISOString();
      const due = { status: 'PENDING' };
      const candidates = db('outbox as c')
        .select('c.id')
        .where('c.status', 'PENDING')
        .andWhere('c.next_attempt_at', '<=', nowIso)
        .whereNotExists(
          db('outbox as earlier')
            .select(db.raw('1'))
            .whereRaw('?? = ??', ['earlier.target', 'c.target'])
            .whereRaw('?? = ??', ['earlier.group_key', 'c.group_key'])
            .whereRaw('?? < ??', ['earlier.group_seq', 'c.group_seq'])
            .where('earlier.status', 'PENDING'),
        )
        .orderBy([{ column: 'c.next_attempt_at' }, { column: 'c.created_at' }, { column: 'c.id' }])
        .limit(limit);
      const rows: OutboxRow[] = await db('outbox')
        .where(due)
        .andWhere('next_attempt_at', '<=', nowIso)
        .whereIn('id', candidates)
        .update({
          attempts: db.raw('?? + 1', ['attempts']),
          next_attempt_at: new Date(now.getTime() + leaseMs).toISOString(),
        })
        .returning('*');
      return rows
        .map(toMessage)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    },

    markDelivered(id: string): Promise<boolean> {
      const columns = { status: 'DELIVERED' as const, delivered_at: isoNow(clock), last_error: null };
      return changeStatus(id, 'PENDING', columns, { cause: 'delivered', actor: WORKER });
    },

    /** Records a failed attempt and when to try again; the message stays PENDING. */
    async markFailed(id: string, error: string, nextAttemptAt: Date): Promise<boolean> {
      const changed = await db('outbox')
        .where({ id, status: 'PENDING' })
        .update({ last_error: error, next_attempt_at: nextAttemptAt.toISOString() });
      return changed > 0;
    },

    /** Gives up on a message: it stays in the table as a dead letter until replayed. */
    markDead(id: string, error: string): Promise<boolean> {
      return changeStatus(
        id,
        'PENDING',
        { status: 'DEAD', last_error: error },
        { cause: error, actor: WORKER },
      );
    },

    async list(status?: OutboxStatus): Promise<OutboxMessage[]> {
      const query = db<OutboxRow>('outbox');
      if (status) query.where({ status });
      const rows = await query.orderBy([{ column: 'created_at' }, { column: 'id' }]);
      return rows.map(toMessage);
    },

    /** Puts a dead letter back in the queue, due now, with its attempts reset; null unless it was DEAD. */
    async replay(
      id: string,
      ctx: ChangeContext = { cause: 'replayed by an operator', actor: 'operator' },
    ): Promise<OutboxMessage | null> {
      const columns = { status: 'PENDING' as const, attempts: 0, next_attempt_at: isoNow(clock) };
      const replayed = await changeStatus(id, 'DEAD', columns, ctx);
      return replayed ? get(id) : null;
    },
  };
}

export type OutboxRepository = ReturnType<typeof createOutboxRepository>;

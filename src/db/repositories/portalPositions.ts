// Read models of the portal's position pages (issue 8 item 5): the timeline of one position, i.e.
// every event-log row about the position, its payment options, the payment attempts and receipts
// of its IUVs, its Asincrona payment sessions and the notifications queued for it (outbox group
// `position:<id>`), oldest first.

import type { Db } from '../knex.ts';
import { toEvent, type EventRow, type StoredEvent } from './events.ts';

/** Enough of a stored position to find what concerns it. */
export interface TimelineSubject {
  id: number;
  enteId: number;
  options: ReadonlyArray<{ id: number; iuv: string }>;
}

/** A timeline longer than this shows its oldest entries only (a position has a few dozen at most). */
export const TIMELINE_LIMIT = 1000;

const ids = (rows: ReadonlyArray<{ id: number | string }>): string[] => rows.map((r) => String(r.id));

export function createPortalPositions(db: Db) {
  /** Rows of `table` (payments, receipts) for the position's options or IUVs, in its ente. */
  const byOptionOrIuv = async (table: 'payments' | 'receipts', subject: TimelineSubject) => {
    const optionIds = subject.options.map((o) => o.id);
    const iuvs = subject.options.map((o) => o.iuv);
    if (optionIds.length === 0) return [];
    const rows: Array<{ id: number | string }> = await db(table)
      .where('ente_id', subject.enteId)
      .andWhere((q) => q.whereIn('option_id', optionIds).orWhereIn('iuv', iuvs))
      .select('id');
    return ids(rows);
  };

  return {
    /** Every event about the position and what hangs from it, in the order they happened. */
    async timeline(subject: TimelineSubject): Promise<StoredEvent[]> {
      const sessions: Array<{ id: string }> = await db('payment_sessions')
        .where('position_id', subject.id)
        .select('id');
      const outbox: Array<{ id: string }> = await db('outbox')
        .where('group_key', `position:${subject.id}`)
        .select('id');
      const groups: Array<[string, string[]]> = [
        ['position', [String(subject.id)]],
        ['payment_option', subject.options.map((o) => String(o.id))],
        ['payment', await byOptionOrIuv('payments', subject)],
        ['receipt', await byOptionOrIuv('receipts', subject)],
        ['payment_session', ids(sessions)],
        ['outbox', ids(outbox)],
      ];
      const rows: EventRow[] = await db<EventRow>('events')
        .where((q) => {
          for (const [type, entityIds] of groups) {
            if (entityIds.length === 0) continue;
            q.orWhere((g) => g.where('entity_type', type).whereIn('entity_id', entityIds));
          }
        })
        .orderBy([{ column: 'occurred_at' }, { column: 'id' }])
        .limit(TIMELINE_LIMIT);
      return rows.map(toEvent);
    },
  };
}

export type PortalPositions = ReturnType<typeof createPortalPositions>;

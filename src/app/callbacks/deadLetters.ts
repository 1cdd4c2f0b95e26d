// The operator's view of the callback outbox (`ppay outbox list|replay`): rows by status, and the
// replay of a dead letter, which puts it back in the queue with its attempts reset and the same id
// (so the gestionale can still deduplicate it), with an event naming who replayed it.

import type { Store } from '../../db/store.ts';
import type { OutboxMessage, OutboxStatus } from '../../db/repositories/outbox.ts';

export const OUTBOX_STATUSES: readonly OutboxStatus[] = ['PENDING', 'DELIVERED', 'DEAD'];

export function listNotifications(store: Store, status?: OutboxStatus): Promise<OutboxMessage[]> {
  return store.outbox.list(status);
}

export type ReplayResult =
  | { status: 'REPLAYED'; message: OutboxMessage }
  | { status: 'UNKNOWN' }
  /** Only a dead letter can be replayed: a pending one is still being tried, a delivered one is done. */
  | { status: 'NOT_DEAD'; message: OutboxMessage };

export async function replayNotification(store: Store, id: string, actor: string): Promise<ReplayResult> {
  const replayed = await store.outbox.replay(id, { cause: 'dead letter replayed by an operator', actor });
  if (replayed) return { status: 'REPLAYED', message: replayed };
  const message = await store.outbox.get(id);
  return message ? { status: 'NOT_DEAD', message } : { status: 'UNKNOWN' };
}

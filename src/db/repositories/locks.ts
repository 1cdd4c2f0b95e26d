// Job locks with a time to live, so a nightly job runs on one instance only (DESIGN.md §6). Acquire is
// one upsert statement: take the lock if it is free, expired, or already ours; otherwise no row.

import type { Db } from '../knex.ts';
import { isoAfter, isoNow, type Clock } from '../rows.ts';

export interface LockHolder {
  name: string;
  owner: string;
  expiresAt: string;
}

interface LockRow {
  name: string;
  owner: string;
  expires_at: string;
}

export function createLocksRepository(db: Db, clock: Clock) {
  const acquire = async (name: string, owner: string, ttlMs: number): Promise<boolean> => {
    const rows: Array<Pick<LockRow, 'owner'>> = await db('job_locks')
      .insert({ name, owner, expires_at: isoAfter(clock, ttlMs) })
      .onConflict('name')
      .merge(['owner', 'expires_at'])
      .where('job_locks.expires_at', '<=', isoNow(clock))
      .orWhere('job_locks.owner', owner)
      .returning('owner');
    return rows.length === 1;
  };

  const release = async (name: string, owner: string): Promise<boolean> => {
    const deleted = await db('job_locks').where({ name, owner }).delete();
    return deleted > 0;
  };

  return {
    /** True when `owner` now holds the lock until now + ttlMs (re-acquiring extends it). */
    acquire,

    /** Releases the lock if `owner` holds it; false otherwise. */
    release,

    async holder(name: string): Promise<LockHolder | null> {
      const row = await db<LockRow>('job_locks').where({ name }).first();
      return row ? { name: row.name, owner: row.owner, expiresAt: row.expires_at } : null;
    },

    /** Runs fn under the lock and releases it after; `ran: false` when another owner holds it. */
    async runExclusive<T>(
      name: string,
      owner: string,
      ttlMs: number,
      fn: () => Promise<T>,
    ): Promise<{ ran: true; result: T } | { ran: false }> {
      if (!(await acquire(name, owner, ttlMs))) return { ran: false };
      try {
        return { ran: true, result: await fn() };
      } finally {
        await release(name, owner);
      }
    },
  };
}

export type LocksRepository = ReturnType<typeof createLocksRepository>;

// Small conversions shared by the repositories: the two drivers return bigint, boolean and count
// columns differently (pg: bigint as string, boolean as boolean; SQLite: numbers for both).

import type { Knex } from 'knex';
import { takeSqliteWriteLock, type Db } from './knex.ts';

/** Where repositories read the time from; tests pass a fixed clock. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** Timestamps are stored as ISO-8601 UTC text: identical on both dialects and sortable as text. */
export function isoNow(clock: Clock): string {
  return clock().toISOString();
}

export function isoAfter(clock: Clock, ms: number): string {
  return new Date(clock().getTime() + ms).toISOString();
}

export function toInt(value: number | string | bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a safe integer: ${String(value)}`);
  return n;
}

export function toIntOrNull(value: number | string | bigint | null): number | null {
  return value === null ? null : toInt(value);
}

export function toBool(value: boolean | number): boolean {
  return value === true || value === 1;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** The id of a row inserted with `.returning('id')`, whatever shape the driver gives it in. */
export function insertedId(rows: ReadonlyArray<{ id: number | string } | number>): number {
  const first = rows[0];
  if (first === undefined) throw new Error('insert returned no id');
  return toInt(typeof first === 'number' ? first : first.id);
}

/**
 * Runs fn in a transaction: a new one on a Knex, a savepoint inside a caller's transaction, so a
 * repository write stays atomic and still composes with whatever the caller does around it.
 */
export function inTransaction<T>(db: Db, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const outermost = !db.isTransaction;
  return db.transaction(async (trx) => {
    if (outermost) await takeSqliteWriteLock(trx);
    return fn(trx);
  });
}

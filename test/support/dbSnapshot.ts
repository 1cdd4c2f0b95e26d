// "The database is unchanged": a snapshot of every business table (row count and a digest of its
// rows, read in primary-key order) to compare before and after a refused request. The audit
// tables a refusal is supposed to write (the event log, the SOAP message log in it, portal sessions and
// login counters) are left out by default.

import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

export const AUDIT_TABLES = [
  'events',
  'portal_sessions',
  'portal_login_failures',
  'knex_migrations',
  'knex_migrations_lock',
] as const;

async function tableNames(db: Knex): Promise<string[]> {
  if (db.client.config.client === 'pg') {
    const rows = await db
      .select<Array<{ table_name: string }>>('table_name')
      .from('information_schema.tables')
      .whereRaw('table_schema = current_schema()')
      .andWhere('table_type', 'BASE TABLE');
    return rows.map((r) => r.table_name).sort();
  }
  const rows = await db
    .select<Array<{ name: string }>>('name')
    .from('sqlite_master')
    .where('type', 'table')
    .andWhereNot('name', 'like', 'sqlite_%');
  return rows.map((r) => r.name).sort();
}

export type DbSnapshot = Record<string, { rows: number; digest: string }>;

/** Every table but `except` (the audit tables by default): row count and a digest of the rows. */
export async function snapshotDb(db: Knex, except: readonly string[] = AUDIT_TABLES): Promise<DbSnapshot> {
  const snapshot: DbSnapshot = {};
  for (const table of await tableNames(db)) {
    if (except.includes(table)) continue;
    const rows = await db.select('*').from(table).orderByRaw('1');
    const digest = createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 16);
    snapshot[table] = { rows: rows.length, digest };
  }
  return snapshot;
}

/** The tables whose content differs between two snapshots. */
export function changedTables(before: DbSnapshot, after: DbSnapshot): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((t) => JSON.stringify(before[t]) !== JSON.stringify(after[t])).sort();
}

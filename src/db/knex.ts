// The one Knex factory: DATABASE_URL (`sqlite:<path>`, `sqlite::memory:`, `postgres://…`) → a
// configured Knex instance. DESIGN.md §7 and §10.

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexModule from 'knex';
import type { Knex } from 'knex';
import { domainError } from '../domain/errors.ts';

/** A Knex instance or a transaction: every repository accepts both so callers can compose them. */
export type Db = Knex | Knex.Transaction;
export type Dialect = 'sqlite' | 'postgres';

export interface CreateDbOptions {
  /** PostgreSQL only: the schema tables live in (tests use one fresh schema per suite). */
  searchPath?: string;
}

interface SqlitePragmaConnection {
  pragma(source: string): unknown;
}

const SQLITE_PREFIX = 'sqlite:';
const MEMORY = ':memory:';
const POSTGRES_PREFIXES = ['postgres://', 'postgresql://'];

export function createDb(databaseUrl: string, opts: CreateDbOptions = {}): Knex {
  if (databaseUrl.startsWith(SQLITE_PREFIX)) return createSqlite(databaseUrl.slice(SQLITE_PREFIX.length));
  if (POSTGRES_PREFIXES.some((p) => databaseUrl.startsWith(p))) return createPostgres(databaseUrl, opts);
  throw domainError('CONFIG_INVALID', 'DATABASE_URL must start with sqlite: or postgres://', {
    variable: 'DATABASE_URL',
  });
}

export function dialectOf(db: Db): Dialect {
  return db.client.dialect === 'postgresql' ? 'postgres' : 'sqlite';
}

/**
 * SQLite lets a transaction that has read wait for no other process's write lock: its first write
 * fails at once with SQLITE_BUSY ("database is locked"), busy_timeout or not, e.g. `ppay reconcile`
 * while `ppay start` logs a SOAP message. A statement that changes nothing takes the lock up front,
 * waiting as busy_timeout allows (BEGIN IMMEDIATE, which Knex cannot issue). PostgreSQL needs nothing.
 */
export async function takeSqliteWriteLock(trx: Knex.Transaction): Promise<void> {
  if (dialectOf(trx) === 'sqlite') await trx.raw('DELETE FROM job_locks WHERE 0');
}

function createSqlite(path: string): Knex {
  if (path === '') {
    throw domainError('CONFIG_INVALID', 'DATABASE_URL sqlite: needs a file path', {
      variable: 'DATABASE_URL',
    });
  }
  const filename = path === MEMORY ? MEMORY : resolve(path);
  if (filename !== MEMORY) mkdirSync(dirname(filename), { recursive: true });
  return knexModule.knex({
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    // One connection per instance: better-sqlite3 is synchronous, a second one would only add lock waits.
    pool: { min: 1, max: 1, afterCreate: applySqlitePragmas },
  });
}

function applySqlitePragmas(
  conn: SqlitePragmaConnection,
  done: (err: Error | null, conn: unknown) => void,
): void {
  try {
    conn.pragma('journal_mode = WAL');
    conn.pragma('foreign_keys = ON');
    // Other processes (a CLI job beside `ppay start`, a second importer) hold the write lock for a
    // transaction at a time; wait for it instead of failing with SQLITE_BUSY.
    conn.pragma('busy_timeout = 15000');
    conn.pragma('synchronous = NORMAL');
    done(null, conn);
  } catch (err) {
    done(err as Error, conn);
  }
}

function createPostgres(url: string, opts: CreateDbOptions): Knex {
  return knexModule.knex({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: 10 },
    ...(opts.searchPath ? { searchPath: [opts.searchPath] } : {}),
  });
}

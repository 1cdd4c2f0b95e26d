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
  prepare(source: string): unknown;
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
    reusePreparedStatements(conn);
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

/** Statements kept per SQLite connection, and the longest SQL text kept (long multi-row INSERTs are not). */
const STATEMENT_CACHE_SIZE = 500;
const MAX_CACHED_SQL_LENGTH = 4096;

/**
 * Knex prepares every query anew; on better-sqlite3 compiling the statement costs about half as much as
 * running it (bench/README.md: a third of the database time of a paVerifyPaymentNotice). The
 * connection keeps its prepared statements by SQL text instead: safe because knex runs each one to
 * completion synchronously (all / run, never iterate) and SQLite re-prepares after a schema change.
 */
function reusePreparedStatements(conn: SqlitePragmaConnection): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (source: string) => {
    const cached = cache.get(source);
    if (cached !== undefined) return cached;
    const statement = prepare(source);
    if (source.length <= MAX_CACHED_SQL_LENGTH) {
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(source, statement);
    }
    return statement;
  };
}

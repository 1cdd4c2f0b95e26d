// Several `ppay start` processes on ONE PostgreSQL database, as a horizontally scaled deployment
// runs them: a fresh schema per cluster, named to every process through DATABASE_URL's libpq
// `options=-c search_path=<schema>` (no special configuration: any operator can do the same), migrated
// and seeded once by the test before the processes start, dropped at the end. A RoundRobin spreads
// requests over the processes; soapPost sends a hand-written envelope and reads outcome / faultCode.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import knexModule from 'knex';
import type { Knex } from 'knex';
import { createDb } from '../../src/db/knex.ts';
import { migrateLatest } from '../../src/db/migrate.ts';
import { createStore, type Store } from '../../src/db/store.ts';
import { DEFAULT_TEST_POSTGRES_URL } from './db.ts';
import { ppayEnv, startPpay, stopPpay, type Started } from './ppayProcess.ts';

/** The PostgreSQL server of the test run: DATABASE_URL when it is one, else PPAY_TEST_POSTGRES_URL, else the default. */
export function clusterPostgresUrl(): string {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl)) return databaseUrl;
  return process.env.PPAY_TEST_POSTGRES_URL ?? DEFAULT_TEST_POSTGRES_URL;
}

function adminConnection(url: string): Knex {
  return knexModule.knex({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 5000,
  });
}

/** Null when the server answers, else why not. */
export async function postgresProblem(url: string): Promise<string | null> {
  const admin = adminConnection(url);
  try {
    await admin.raw('select 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await admin.destroy();
  }
}

/** The same server URL with the schema every connection must use (libpq `options`). */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/** Hands out the members of a list in turn: request i goes to process i mod n. */
export class RoundRobin<T> {
  private index = 0;
  constructor(private readonly members: readonly T[]) {
    if (members.length === 0) throw new Error('a round robin needs members');
  }

  next(): T {
    const member = this.members[this.index % this.members.length] as T;
    this.index += 1;
    return member;
  }

  /** The member at position i (mod n), to send related requests to chosen, different processes. */
  at(i: number): T {
    return this.members[i % this.members.length] as T;
  }
}

export interface ClusterOptions {
  /** How many `ppay start` processes. */
  size: number;
  /** Extra environment of every process (e.g. PPAY_JOB_SCHEDULE). */
  env?: Record<string, string>;
  /** Runs on the migrated, empty schema before any process starts (demo data, back-dated rows). */
  seed?: (store: Store, db: Knex) => Promise<void>;
}

export interface Cluster {
  /** The schema's tables, for the test's own checks (its own connection pool). */
  readonly db: Knex;
  readonly store: Store;
  /** Each process's base URL, in start order. */
  readonly urls: readonly string[];
  readonly processes: readonly Started[];
  /** Every process's pid, as the scheduler writes it into its owner name. */
  readonly pids: readonly number[];
  readonly schema: string;
  /** Everything the processes printed, for a failure's message. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Creates a fresh schema, migrates and seeds it, then starts `size` processes on it at once
 * (development env, emulator on, drop-folder importer off) and resolves once each listens.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const serverUrl = clusterPostgresUrl();
  const schema = `ppay_cluster_${randomBytes(6).toString('hex')}`;
  const admin = adminConnection(serverUrl);
  await admin.raw('create schema ??', [schema]);
  await admin.destroy();
  const db = createDb(serverUrl, { searchPath: schema });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-cluster-'));
  const processes: Started[] = [];
  const dropSchema = async () => {
    await db.destroy();
    const cleanup = adminConnection(serverUrl);
    try {
      await cleanup.raw('drop schema if exists ?? cascade', [schema]);
    } finally {
      await cleanup.destroy();
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const stopAll = () =>
    Promise.all(processes.map((p) => (p.child.exitCode === null ? stopPpay(p.child) : null)));
  try {
    await migrateLatest(db);
    const store = createStore(db);
    await options.seed?.(store, db);
    const env = ppayEnv(dataDir, {
      DATABASE_URL: withSearchPath(serverUrl, schema),
      PPAY_IMPORT_POLL_MS: '0',
      ...options.env,
    });
    const started = await Promise.allSettled(
      Array.from({ length: options.size }, () =>
        startPpay(env, 60_000).then((p) => {
          processes.push(p);
          return p;
        }),
      ),
    );
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const ordered = started.map((s) => (s as PromiseFulfilledResult<Started>).value);
    return {
      db,
      store,
      urls: ordered.map((p) => p.url),
      processes: ordered,
      pids: ordered.map((p) => p.child.pid as number),
      schema,
      output: () => ordered.map((p, i) => `--- process ${i} (${p.url})\n${p.output()}`).join('\n'),
      async stop() {
        await stopAll();
        await dropSchema();
      },
    };
  } catch (err) {
    await stopAll();
    await dropSchema();
    throw err;
  }
}

export interface SoapAnswer {
  status: number;
  text: string;
  /** The first outcome / esito element's text. */
  outcome: string | null;
  faultCode: string | null;
}

function firstElementText(xml: string, name: string): string | null {
  const m = new RegExp(`<(?:[\\w-]+:)?${name}>([^<]*)</(?:[\\w-]+:)?${name}>`).exec(xml);
  return m ? (m[1] as string) : null;
}

/** POSTs a SOAP envelope to a process and reads what the tests compare: status, outcome, faultCode. */
export async function soapPost(url: string, soapAction: string, envelope: string): Promise<SoapAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${soapAction}"` },
    body: envelope,
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    outcome: firstElementText(text, 'outcome') ?? firstElementText(text, 'esito'),
    faultCode: firstElementText(text, 'faultCode'),
  };
}

// DB matrix for DB-backed specs (as in Knex's own test suite): forEachDatabase defines one describe per
// database, "[sqlite] …" on a fresh temp file and "[postgres] …" in a fresh schema, each migrated.
// DATABASE_URL=postgres://… runs PostgreSQL only; with CI=true an unreachable PostgreSQL fails the run.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import knexModule from 'knex';
import type { Knex } from 'knex';
import { createDb, type Dialect } from '../../src/db/knex.ts';
import { migrateLatest } from '../../src/db/migrate.ts';
import { createStore, type Store, type StoreOptions } from '../../src/db/store.ts';
import { legalCheckDigit } from '../../src/domain/fiscalCode.ts';
import type { Broker } from '../../src/db/repositories/brokers.ts';
import type { Station } from '../../src/db/repositories/stations.ts';
import type { Ente } from '../../src/db/repositories/enti.ts';
import type { Service } from '../../src/db/repositories/services.ts';

export const DEFAULT_TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** A valid bank IBAN and a valid Poste Italiane one, for positions that pass domain validation. */
export const TEST_IBAN = 'IT60X0542811101000000123456';
export const TEST_POSTAL_IBAN = 'IT66X0760103200000012345678';

interface Target {
  dialect: Dialect;
  /** PostgreSQL server URL; unused for SQLite, whose file is created per suite. */
  url: string;
  /** Whether an unreachable server fails the suite instead of skipping it. */
  required: boolean;
}

export interface DbContext {
  readonly dialect: Dialect;
  readonly db: Knex;
  readonly store: Store;
  /** A store on the suite's database with other options (e.g. a fixed clock). */
  storeWith(opts: StoreOptions): Store;
  /** A new, independent Knex on the same database file / schema; closed with the suite. */
  connect(): Knex;
  /** What createDb needs to reach the suite's database from elsewhere (a worker thread, a child process). */
  readonly connection: { url: string; searchPath?: string };
}

function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

function targets(): Target[] {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl && isPostgresUrl(databaseUrl)) {
    return [{ dialect: 'postgres', url: databaseUrl, required: true }];
  }
  const postgresUrl = process.env.PPAY_TEST_POSTGRES_URL ?? DEFAULT_TEST_POSTGRES_URL;
  return [
    { dialect: 'sqlite', url: '', required: true },
    { dialect: 'postgres', url: postgresUrl, required: process.env.CI === 'true' },
  ];
}

/** An administrative connection with a short timeout, so an absent server is noticed quickly. */
function adminConnection(url: string): Knex {
  return knexModule.knex({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 5000,
  });
}

const reachability = new Map<string, Promise<string | null>>();

/** null when the server answers, else why not; probed once per URL and run. */
function postgresProblem(url: string): Promise<string | null> {
  let probe = reachability.get(url);
  if (!probe) {
    const admin = adminConnection(url);
    probe = admin
      .raw('select 1')
      .then(() => null)
      .catch((err: unknown) => (err instanceof Error ? err.message : String(err)))
      .finally(() => admin.destroy());
    reachability.set(url, probe);
  }
  return probe;
}

class TestDatabase implements DbContext {
  readonly dialect: Dialect;
  private readonly target: Target;
  private readonly extra: Knex[] = [];
  private main: Knex | null = null;
  private mainStore: Store | null = null;
  private url = '';
  private schema = '';
  private dir = '';

  constructor(target: Target) {
    this.target = target;
    this.dialect = target.dialect;
  }

  get db(): Knex {
    if (!this.main) throw new Error('the test database is not open yet (use it inside hooks and tests)');
    return this.main;
  }

  get store(): Store {
    if (!this.mainStore) throw new Error('the test database is not open yet (use it inside hooks and tests)');
    return this.mainStore;
  }

  storeWith(opts: StoreOptions): Store {
    return createStore(this.db, opts);
  }

  get connection(): { url: string; searchPath?: string } {
    return this.schema ? { url: this.url, searchPath: this.schema } : { url: this.url };
  }

  connect(): Knex {
    const db = this.open();
    this.extra.push(db);
    return db;
  }

  async setUp(): Promise<void> {
    if (this.dialect === 'sqlite') {
      this.dir = mkdtempSync(join(tmpdir(), 'ppay-test-'));
      this.url = `sqlite:${join(this.dir, 'ppay.sqlite')}`;
    } else {
      this.schema = `ppay_t_${randomBytes(6).toString('hex')}`;
      this.url = this.target.url;
      await this.withAdmin((admin) => admin.raw('create schema ??', [this.schema]));
    }
    this.main = this.open();
    this.mainStore = createStore(this.main);
    await migrateLatest(this.main);
  }

  async tearDown(): Promise<void> {
    await Promise.all([...this.extra, ...(this.main ? [this.main] : [])].map((db) => db.destroy()));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    if (this.schema)
      await this.withAdmin((admin) => admin.raw('drop schema if exists ?? cascade', [this.schema]));
  }

  private open(): Knex {
    return createDb(this.url, this.schema ? { searchPath: this.schema } : {});
  }

  private async withAdmin(fn: (admin: Knex) => Promise<unknown>): Promise<void> {
    const admin = adminConnection(this.target.url);
    try {
      await fn(admin);
    } finally {
      await admin.destroy();
    }
  }
}

/**
 * Defines `describe('[<dialect>] <title>')` for every database of the matrix. The body runs at
 * definition time: read ctx.db / ctx.store only inside hooks and tests.
 */
export function forEachDatabase(title: string, body: (ctx: DbContext) => void): void {
  for (const target of targets()) {
    describe(`[${target.dialect}] ${title}`, function () {
      const ctx = new TestDatabase(target);
      before(async function () {
        if (target.dialect === 'postgres') {
          const problem = await postgresProblem(target.url);
          if (problem !== null && target.required)
            throw new Error(`PostgreSQL is required but unreachable: ${problem}`);
          if (problem !== null) this.skip();
        }
        await ctx.setUp();
      });
      after(() => ctx.tearDown());
      body(ctx);
    });
  }
}

/** A random valid 11-digit fiscal code of a body (ente / broker), unique enough for one test run. */
export function randomEnteFiscalCode(): string {
  const first10 = String(randomInt(1, 9)) + String(randomInt(0, 1_000_000_000)).padStart(9, '0');
  return first10 + legalCheckDigit(first10);
}

export interface SeededEnte {
  broker: Broker;
  station: Station;
  ente: Ente;
  service: Service;
}

/** A broker, its station, an aux-3 ente (segregation code 01) and one service, all fresh. */
export async function seedEnte(store: Store): Promise<SeededEnte> {
  const brokerCode = randomEnteFiscalCode();
  const broker = await store.brokers.create({ fiscalCode: brokerCode, name: 'Test broker' });
  const station = await store.stations.create({
    stationId: `${brokerCode}_01`,
    brokerId: broker.id,
    password: 'password01',
    dialect: 'current',
  });
  const ente = await store.enti.create({
    fiscalCode: randomEnteFiscalCode(),
    name: 'Comune di Prova',
    stationId: station.id,
    segregationCode: '01',
    iban: TEST_IBAN,
  });
  const service = await store.services.create({
    enteId: ente.id,
    code: 'TARI',
    description: 'Tassa rifiuti',
    category: '9/0101108TS/',
    iban: TEST_IBAN,
  });
  return { broker, station, ente, service };
}

// createDb (DATABASE_URL schemes, SQLite pragmas) and migrateLatest on every database of the matrix.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { createDb, dialectOf } from '../../src/db/knex.ts';
import { MIGRATIONS, appliedMigrations, migrateLatest } from '../../src/db/migrate.ts';
import { expectDomainError } from '../support/expectDomainError.ts';
import { forEachDatabase } from '../support/db.ts';

const TABLES = [
  'brokers',
  'stations',
  'enti',
  'services',
  'gestionale_clients',
  'client_enti',
  'client_services',
  'client_models',
  'positions',
  'payment_options',
  'transfers',
  'iuv_sequences',
  'iuv_allocations',
  'payments',
  'receipts',
  'events',
  'outbox',
  'job_locks',
];

async function pragma(db: Knex, name: string): Promise<unknown> {
  const rows = (await db.raw(`pragma ${name}`)) as Array<Record<string, unknown>>;
  return rows[0]?.[name] ?? rows[0]?.['timeout'];
}

describe('createDb', () => {
  let dir: string;
  const opened: Knex[] = [];
  const open = (url: string): Knex => {
    const db = createDb(url);
    opened.push(db);
    return db;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ppay-knex-'));
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.destroy()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const url of ['mysql://localhost/ppay', 'ppay.sqlite', '', 'sqlite:']) {
    it(`refuses DATABASE_URL ${JSON.stringify(url)} with CONFIG_INVALID naming the variable`, () => {
      expectDomainError(() => createDb(url), 'CONFIG_INVALID', { variable: 'DATABASE_URL' });
    });
  }

  it('opens a SQLite file relative to the working directory, creating its folder', async () => {
    const file = join(dir, 'nested', 'deeper', 'ppay.sqlite');
    const db = open(`sqlite:${relative(process.cwd(), file)}`);
    await db.raw('select 1');
    expect(existsSync(file)).to.equal(true);
    expect(dialectOf(db)).to.equal('sqlite');
  });

  it('sets WAL, foreign keys, a busy timeout and synchronous=NORMAL on SQLite connections', async () => {
    const db = open(`sqlite:${join(dir, 'pragmas.sqlite')}`);
    expect(await pragma(db, 'journal_mode')).to.equal('wal');
    expect(await pragma(db, 'foreign_keys')).to.equal(1);
    expect(await pragma(db, 'busy_timeout')).to.equal(15000);
    expect(await pragma(db, 'synchronous')).to.equal(1);
  });

  it('opens an in-memory SQLite database with sqlite::memory:', async () => {
    const db = open('sqlite::memory:');
    expect(await migrateLatest(db)).to.have.length(MIGRATIONS.length);
    expect(await db.schema.hasTable('positions')).to.equal(true);
    expect(existsSync(':memory:')).to.equal(false);
  });

  it('accepts postgres:// and postgresql:// URLs as the PostgreSQL dialect without connecting', async () => {
    const a = open('postgres://nobody@127.0.0.1:1/none');
    const b = open('postgresql://nobody@127.0.0.1:1/none');
    expect([dialectOf(a), dialectOf(b)]).to.deep.equal(['postgres', 'postgres']);
  });
});

describe('migration list', () => {
  it('names migrations NNNN_verb_object, in ascending order', () => {
    const names = MIGRATIONS.map((m) => m.name);
    for (const name of names) expect(name).to.match(/^\d{4}_[a-z]+(_[a-z]+)+$/);
    expect([...names].sort()).to.deep.equal(names);
  });
});

forEachDatabase('migrations', (ctx) => {
  it('creates every table', async () => {
    for (const table of TABLES) expect(await ctx.db.schema.hasTable(table), table).to.equal(true);
  });

  it('records every listed migration, in order, and applies nothing the second time', async () => {
    expect(await appliedMigrations(ctx.db)).to.deep.equal(MIGRATIONS.map((m) => m.name));
    expect(await migrateLatest(ctx.db)).to.deep.equal([]);
  });

  it('reports the dialect the suite runs on', () => {
    expect(dialectOf(ctx.db)).to.equal(ctx.dialect);
  });

  if (ctx.dialect !== 'postgres') return;

  it('keeps the tables in the configured schema on PostgreSQL', async () => {
    const result = (await ctx.db.raw('select current_schema() as schema')) as {
      rows: Array<{ schema: string }>;
    };
    const schema = result.rows[0]?.schema ?? '';
    expect(schema).to.match(/^ppay_t_/);
    const tables = await ctx
      .db('information_schema.tables')
      .where({ table_schema: schema })
      .pluck('table_name');
    expect(tables).to.include.members(TABLES);
  });
});

// A benchmark site: a temporary data folder and a migrated database (a SQLite file, or a fresh
// PostgreSQL schema dropped at the end) holding one ente with its broker, station, TARI service and a
// gestionale client; ppay CSV v1 files generated for it and imported by the real `ppay import`.

import { randomBytes, randomInt } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { Knex } from 'knex';
import { createDb } from '../../src/db/knex.ts';
import { migrateLatest } from '../../src/db/migrate.ts';
import { createStore, type Store } from '../../src/db/store.ts';
import { legalCheckDigit } from '../../src/domain/fiscalCode.ts';
import { addClient } from '../../src/app/admin.ts';
import { generatePpayCsv, type GeneratedSummary } from '../../src/batch/formats/generate.ts';
import { CLI, runPpayMeasured, spawnTs, type MeasuredRun } from './proc.ts';

export const POSTGRES_URL = process.env.PPAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const IBAN = 'IT60X0542811101000000123456';
export const CLIENT = { username: 'bench-gestionale', password: 'bench-gestionale-password-0001' };

export type Dialect = 'sqlite' | 'postgres';

export interface Site {
  dialect: Dialect;
  root: string;
  dataDir: string;
  databaseUrl: string;
  db: Knex;
  store: Store;
  enteId: number;
  enteFiscalCode: string;
  brokerFiscalCode: string;
  stationId: string;
  close(): Promise<void>;
}

function randomFiscalCode(): string {
  const first10 = String(randomInt(1, 9)) + String(randomInt(0, 1_000_000_000)).padStart(9, '0');
  return first10 + legalCheckDigit(first10);
}

export async function openSite(dialect: Dialect): Promise<Site> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ppay-bench-'));
  const dataDir = path.join(root, 'data');
  await mkdir(dataDir, { recursive: true });
  let databaseUrl: string;
  let db: Knex;
  let schema: string | null = null;
  if (dialect === 'sqlite') {
    databaseUrl = `sqlite:${path.join(dataDir, 'ppay.sqlite')}`;
    db = createDb(databaseUrl);
  } else {
    schema = `ppay_bench_${randomBytes(5).toString('hex')}`;
    const admin = createDb(POSTGRES_URL);
    try {
      await admin.raw('create schema ??', [schema]);
    } finally {
      await admin.destroy();
    }
    db = createDb(POSTGRES_URL, { searchPath: schema });
    databaseUrl = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  }
  const close = async () => {
    if (schema) await db.raw('drop schema if exists ?? cascade', [schema]).catch(() => undefined);
    await db.destroy();
    await rm(root, { recursive: true, force: true });
  };
  try {
    await migrateLatest(db);
    const store = createStore(db);
    const brokerFiscalCode = randomFiscalCode();
    const broker = await store.brokers.create({ fiscalCode: brokerFiscalCode, name: 'Bench broker' });
    const station = await store.stations.create({
      stationId: `${brokerFiscalCode}_01`,
      brokerId: broker.id,
      password: 'password01',
      dialect: 'current',
    });
    const ente = await store.enti.create({
      fiscalCode: randomFiscalCode(),
      name: 'Comune di Benchmark',
      stationId: station.id,
      segregationCode: '01',
      iban: IBAN,
    });
    await store.services.create({
      enteId: ente.id,
      code: 'TARI',
      description: 'Tassa rifiuti',
      category: '9/0101108TS/',
      iban: IBAN,
    });
    await addClient(store, {
      username: CLIENT.username,
      name: 'Bench gestionale',
      enti: [ente.fiscalCode],
      services: [],
      models: ['base'],
      password: CLIENT.password,
    });
    return {
      dialect,
      root,
      dataDir,
      databaseUrl,
      db,
      store,
      enteId: ente.id,
      enteFiscalCode: ente.fiscalCode,
      brokerFiscalCode,
      stationId: station.stationId,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The environment of a connector or CLI process on this site (no background importer, no emulator). */
export function siteEnv(site: Site, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: site.databaseUrl,
    PPAY_DATA_DIR: site.dataDir,
    PPAY_IMPORT_POLL_MS: '0',
    PPAY_EMULATOR: 'false',
    ...extra,
  };
}

/** A ppay CSV v1 file of `rows` rows for this site's ente (one option per position unless planEvery). */
export async function generateCsv(
  site: Site,
  rows: number,
  planEvery = 0,
): Promise<{ file: string } & GeneratedSummary> {
  const file = path.join(site.root, `${site.enteFiscalCode}_BENCH${rows}_20270101_ppay-1.csv`);
  const out = createWriteStream(file);
  const summary = await generatePpayCsv(out, {
    rows,
    planEvery,
    dueDate: '2099-12-31',
    positionIdPrefix: `B${randomBytes(3).toString('hex')}-`,
  });
  out.end();
  await finished(out);
  return { file, ...summary };
}

/** `ppay import --file <file> --ente <cf>` as operators run it, timed, with its peak resident set. */
export function importFile(site: Site, file: string): Promise<MeasuredRun> {
  return runPpayMeasured(['import', '--file', file, '--ente', site.enteFiscalCode], siteEnv(site), site.root);
}

/** `ppay import --ente <cf>` over an empty drop folder: the process's fixed start-up cost. */
export function importNothing(site: Site): Promise<MeasuredRun> {
  return runPpayMeasured(['import', '--ente', site.enteFiscalCode], siteEnv(site), site.root);
}

/** Starts `ppay start` on this site (PORT=0) and resolves with its URL once it listens. */
export async function startConnector(
  site: Site,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawnTs(CLI, ['start'], siteEnv(site, { PORT: '0' }));
  const [, url] = await child.waitFor(/listening on (http:\/\/\S+)/, 120_000);
  return { url: url as string, pid: child.child.pid as number, stop: child.stop };
}

export async function countOf(db: Knex, table: string, where: Record<string, unknown> = {}): Promise<number> {
  const row = (await db(table).where(where).count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

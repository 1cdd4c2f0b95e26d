// Benchmark 2, import: a generated ppay CSV v1 imported end to end by `ppay import --file` (parse,
// validate, assign IUVs, write, outcome file) as a child process, on SQLite and on PostgreSQL.
// Baseline: the same rows read from the same file and inserted raw in one transaction (better-sqlite3
// prepared statement; on PostgreSQL, multi-row INSERTs of 1,000 rows).

import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import {
  countOf,
  generateCsv,
  importFile,
  importNothing,
  openSite,
  type Dialect,
  type Site,
} from './lib/site.ts';
import { failedRow, fmtInt, fmtMb, fmtS, ratioOf, type BenchRow } from './lib/table.ts';

const COLUMNS = 12;
const PG_BATCH = 1000;
const MAX_RSS = 300 * 1024 * 1024;
const MIN_RATIO = 0.3;

async function* csvRows(file: string): AsyncGenerator<string[]> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let header = true;
  for await (const line of lines) {
    if (header) {
      header = false;
      continue;
    }
    if (line === '') continue;
    // action;position_id;...: the generator writes no quoted fields; the action column is dropped.
    yield line.split(';').slice(1, 1 + COLUMNS);
  }
}

/** Raw better-sqlite3: one prepared INSERT per row, all in one transaction, into a fresh file. */
async function rawSqlite(file: string, dbFile: string): Promise<number> {
  const started = performance.now();
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    `create table raw_rows (id integer primary key, ${Array.from({ length: COLUMNS }, (_, i) => `c${i} text`).join(', ')})`,
  );
  const insert = db.prepare(`insert into raw_rows values (null, ${Array(COLUMNS).fill('?').join(', ')})`);
  db.exec('begin');
  for await (const row of csvRows(file)) insert.run(row);
  db.exec('commit');
  db.close();
  return performance.now() - started;
}

/**
 * Raw PostgreSQL: multi-row INSERTs of PG_BATCH rows (knex.raw, no query builder) in one transaction,
 * into a table of the site's schema.
 */
async function rawPostgres(file: string, site: Site): Promise<number> {
  const started = performance.now();
  const columns = Array.from({ length: COLUMNS }, (_, i) => `c${i}`);
  await site.db.raw(
    `create table raw_rows (id bigserial primary key, ${columns.map((c) => `${c} text`).join(', ')})`,
  );
  const rowSql = `(${Array(COLUMNS).fill('?').join(',')})`;
  const sql = (n: number) =>
    `insert into raw_rows (${columns.join(',')}) values ${Array(n).fill(rowSql).join(',')}`;
  const full = sql(PG_BATCH);
  await site.db.transaction(async (trx) => {
    let batch: string[] = [];
    let rows = 0;
    for await (const row of csvRows(file)) {
      batch.push(...row);
      rows += 1;
      if (rows === PG_BATCH) {
        await trx.raw(full, batch);
        batch = [];
        rows = 0;
      }
    }
    if (rows > 0) await trx.raw(sql(rows), batch);
  });
  return performance.now() - started;
}

async function importOn(
  dialect: Dialect,
  rows: number,
  keep: ((site: Site) => void) | null,
): Promise<BenchRow> {
  const name = `${fmtInt(rows)}-row ppay CSV, ${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`;
  const target = `ratio ≥ ${MIN_RATIO}, peak RSS ≤ 300 MB`;
  let site: Site | null = null;
  try {
    site = await openSite(dialect);
    const csv = await generateCsv(site, rows, 0);
    const startup = await importNothing(site);
    const run = await importFile(site, csv.file);
    const stored = await countOf(site.db, 'payment_options', { ente_id: site.enteId });
    if (stored !== rows)
      throw new Error(`the import stored ${stored} options for ${rows} rows\n${run.stdout}`);
    const work = Math.max(1, run.ms - startup.ms);
    const baselineMs =
      dialect === 'sqlite'
        ? await rawSqlite(csv.file, path.join(site.root, 'raw.sqlite'))
        : await rawPostgres(csv.file, site);
    const rate = (rows / work) * 1000;
    const baseRate = (rows / baselineMs) * 1000;
    const ratio = ratioOf(rate, baseRate);
    const row: BenchRow = {
      benchmark: 'Import',
      case: name,
      measured: `${fmtInt(rate)} rows/s (${fmtS(run.ms)} wall − ${fmtS(startup.ms)} start-up), peak RSS ${fmtMb(run.maxRssBytes)}`,
      baseline: `${fmtInt(baseRate)} rows/s raw ${dialect === 'sqlite' ? 'better-sqlite3 prepared INSERT' : `pg ${PG_BATCH}-row INSERTs`}, 1 transaction (${fmtS(baselineMs)})`,
      ratio,
      target,
      met: ratio !== null && ratio >= MIN_RATIO && run.maxRssBytes !== null && run.maxRssBytes <= MAX_RSS,
    };
    if (keep) {
      keep(site);
      site = null;
    }
    return row;
  } catch (err) {
    return failedRow('Import', name, String(err instanceof Error ? err.message : err), target);
  } finally {
    await site?.close();
  }
}

/**
 * Both dialects; `keepSqlite` receives the SQLite site with the imported positions (left open, the
 * caller closes it) so the SOAP benchmark runs against that database.
 */
export async function benchImport(
  modeRows: number,
  log: (line: string) => void,
  keepSqlite: ((site: Site) => void) | null = null,
): Promise<BenchRow[]> {
  // PPAY_BENCH_IMPORT_ROWS=200000 PPAY_BENCH_IMPORT_DIALECTS=postgres: one size between quick and
  // full, e.g. to see whether the rate holds as the tables grow, without the 1,000,000-row run.
  const rows = Number(process.env.PPAY_BENCH_IMPORT_ROWS) || modeRows;
  const dialects = (process.env.PPAY_BENCH_IMPORT_DIALECTS ?? 'sqlite,postgres').split(',');
  const out: BenchRow[] = [];
  for (const dialect of (['sqlite', 'postgres'] as const).filter((d) => dialects.includes(d))) {
    log(`import: ${fmtInt(rows)} rows on ${dialect}`);
    out.push(await importOn(dialect, rows, dialect === 'sqlite' ? keepSqlite : null));
  }
  return out;
}

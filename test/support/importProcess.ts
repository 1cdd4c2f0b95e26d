// `ppay import` as operators run it, for the issue-7 acceptance tests (test/e2e/batchImport*):
// a data folder with one ente's drop folder on a migrated database (a SQLite file or PostgreSQL
// schema of its own, or the suite's database of forEachDatabase), files dropped as a gestionale
// completes them (a `.sha256` sidecar, then the name), the importer as a real child process (run
// to the end with its peak memory measured, or spawned to be killed), and what the tests read
// back: the drop folders, the outcome files and the ente's positions in the database.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { createDb } from '../../src/db/knex.ts';
import { migrateLatest } from '../../src/db/migrate.ts';
import { createStore, type Store } from '../../src/db/store.ts';
import { enteFolder } from '../../src/batch/dropFolder/forEnte.ts';
import { DROP_FOLDER_DIRS, type DropFolderDir } from '../../src/batch/dropFolder/port.ts';
import { sha256OfFile } from '../../src/batch/dropFolder/localFiles.ts';
import { splitCsvLine } from '../../src/batch/formats/csvLines.ts';
import {
  generatePpayCsv,
  type GenerateOptions,
  type GeneratedSummary,
} from '../../src/batch/formats/generate.ts';
import { formatPpayFileName, outcomeFileName } from '../../src/batch/fileNames.ts';
import { OUTCOME_CSV_HEADER } from '../../src/batch/formats/outcome.ts';
import { seedEnte, type DbContext, type SeededEnte } from './db.ts';
import { ROOT } from './ppayProcess.ts';

const CLI = path.join(ROOT, 'src/cli.ts');

// ---------------------------------------------------------------------------------------------
// The site: a data folder, a database and one seeded ente (service TARI, as generatePpayCsv writes)
// ---------------------------------------------------------------------------------------------

export interface ImportSite {
  /** Temporary folder holding everything below; removed by closeSite. */
  readonly root: string;
  /** PPAY_DATA_DIR of every `ppay import` run. */
  readonly dataDir: string;
  /** DATABASE_URL of every run (PostgreSQL: the suite's schema as search_path). */
  readonly databaseUrl: string;
  readonly db: Knex;
  readonly store: Store;
  readonly seeded: SeededEnte;
  readonly enteFiscalCode: string;
  /** Whether closeSite must destroy db (a site on its own SQLite file or PostgreSQL schema). */
  readonly ownsDb: boolean;
  /** The PostgreSQL schema closeSite drops, when the site made one. */
  readonly schema?: string | undefined;
}

/** The suite's database as DATABASE_URL for another process (PostgreSQL: its schema as search_path). */
export function databaseUrlOf(ctx: DbContext): string {
  const { url, searchPath } = ctx.connection;
  return searchPath ? `${url}?options=${encodeURIComponent(`-c search_path=${searchPath}`)}` : url;
}

async function makeSite(
  root: string,
  databaseUrl: string,
  db: Knex,
  store: Store,
  ownsDb: boolean,
  schema?: string,
): Promise<ImportSite> {
  const dataDir = path.join(root, 'data');
  const seeded = await seedEnte(store);
  const site: ImportSite = {
    root,
    dataDir,
    databaseUrl,
    db,
    store,
    seeded,
    enteFiscalCode: seeded.ente.fiscalCode,
    ownsDb,
    schema,
  };
  // The operator sets the drop folder up (and the SSH login that writes into it) before any import.
  for (const dir of DROP_FOLDER_DIRS) await mkdir(folderPath(site, dir), { recursive: true });
  return site;
}

/** A fresh data folder with the default database (`<data>/ppay.sqlite`), migrated, and one ente. */
export async function openSqliteSite(): Promise<ImportSite> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ppay-import-'));
  const databaseUrl = `sqlite:${path.join(root, 'data', 'ppay.sqlite')}`;
  const db = createDb(databaseUrl);
  await migrateLatest(db);
  return makeSite(root, databaseUrl, db, createStore(db), true);
}

/** A fresh data folder on a fresh schema of the PostgreSQL server at `serverUrl`, migrated. */
export async function openPostgresSite(serverUrl: string): Promise<ImportSite> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ppay-import-'));
  const schema = `ppay_t_${randomBytes(6).toString('hex')}`;
  const admin = createDb(serverUrl);
  try {
    await admin.raw('create schema ??', [schema]);
  } finally {
    await admin.destroy();
  }
  const db = createDb(serverUrl, { searchPath: schema });
  await migrateLatest(db);
  const databaseUrl = `${serverUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return makeSite(root, databaseUrl, db, createStore(db), true, schema);
}

/**
 * The site of the heavy suites, which run on one database only: PostgreSQL when DATABASE_URL
 * names one (as forEachDatabase reads it), else a SQLite file, the default deployment.
 */
export function openSiteFromEnv(): Promise<ImportSite> {
  const url = process.env.DATABASE_URL;
  return url && /^postgres(ql)?:\/\//.test(url) ? openPostgresSite(url) : openSqliteSite();
}

/** A fresh data folder on the suite's database of forEachDatabase, with one more ente. */
export async function openSiteOn(ctx: DbContext): Promise<ImportSite> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ppay-import-'));
  return makeSite(root, databaseUrlOf(ctx), ctx.db, ctx.store, false);
}

export async function closeSite(site: ImportSite | undefined): Promise<void> {
  if (!site) return;
  if (site.schema) await site.db.raw('drop schema if exists ?? cascade', [site.schema]);
  if (site.ownsDb) await site.db.destroy();
  await rm(site.root, { recursive: true, force: true });
}

/** `<data>/sftp/<ente>/<dir>` (or a file in it): the ente's local drop folder. */
export function folderPath(site: ImportSite, dir: DropFolderDir, name?: string): string {
  const folder = path.join(enteFolder(site.dataDir, site.enteFiscalCode), dir);
  return name === undefined ? folder : path.join(folder, name);
}

/** What the importer left in `<data>/import-work/` (its per-import working links). */
export async function leftoverWork(site: ImportSite): Promise<string[]> {
  try {
    return (await readdir(path.join(site.dataDir, 'import-work'))).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function listFolder(site: ImportSite, dir: DropFolderDir): Promise<string[]> {
  return (await readdir(folderPath(site, dir))).sort();
}

/** A ppay CSV name of this ente following the convention: `<CF>_<flowId>_<YYYYMMDD>_ppay-1.csv`. */
export function ppayCsvName(site: ImportSite, flowId: string, date = '2024-02-01'): string {
  return formatPpayFileName({ enteFiscalCode: site.enteFiscalCode, flowId, date, extension: 'csv' });
}

// ---------------------------------------------------------------------------------------------
// Files, as a gestionale drops them
// ---------------------------------------------------------------------------------------------

/** Writes a generated ppay CSV v1 file (outside any drop folder), streaming it to disk. */
export async function generateCsvFile(file: string, options: GenerateOptions): Promise<GeneratedSummary> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  const summary = await generatePpayCsv(out, options);
  out.end();
  await finished(out);
  return summary;
}

/**
 * Puts in/<name> complete at once, as the sidecar convention says: the content is written to
 * `<name>.part` (never taken), its `.sha256` sidecar is written, then the part is renamed. Returns
 * the content's SHA-256.
 */
export async function dropFile(
  site: ImportSite,
  name: string,
  source: { file: string } | string | Buffer,
): Promise<string> {
  const part = folderPath(site, 'in', `${name}.part`);
  if (typeof source === 'string' || Buffer.isBuffer(source)) await writeFile(part, source);
  else await copyFile(source.file, part);
  const sha256 = await sha256OfFile(part);
  await writeFile(folderPath(site, 'in', `${name}.sha256`), `${sha256}  ${name}\n`);
  await rename(part, folderPath(site, 'in', name));
  return sha256;
}

// ---------------------------------------------------------------------------------------------
// The importer as a child process
// ---------------------------------------------------------------------------------------------

export interface ImportRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
  /**
   * The kernel's peak resident set size of the process (getrusage ru_maxrss) as the process saw
   * it at exit; null when it did not exit on its own (killed).
   */
  maxRssBytes: number | null;
}

export interface SpawnedImport {
  child: ChildProcess;
  /** Resolves once the process has exited, however it ended. */
  finished: Promise<ImportRun>;
}

// Peak memory: a module preloaded into the child writes process.resourceUsage().maxRSS (the
// kernel's ru_maxrss: the high-water mark of the resident set over the whole life of the process,
// native memory such as SQLite's included, not a sample) to a file when the process exits. It works
// wherever node runs, unlike /usr/bin/time, and it reads the importer's own process, not a wrapper.
const RUSAGE_PRELOAD = `import { writeFileSync } from 'node:fs';
const target = process.env.PPAY_TEST_RUSAGE_FILE;
if (target) {
  process.on('exit', () => {
    writeFileSync(target, JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));
  });
}
`;

let runs = 0;

async function preloadOf(site: ImportSite): Promise<string> {
  const file = path.join(site.root, 'rusage-preload.mjs');
  await writeFile(file, RUSAGE_PRELOAD);
  return pathToFileURL(file).href;
}

async function readMaxRss(file: string): Promise<number | null> {
  try {
    const { maxRssKiB } = JSON.parse(await readFile(file, 'utf8')) as { maxRssKiB: number };
    return maxRssKiB * 1024;
  } catch {
    return null;
  }
}

/** The environment of a fresh shell plus the site's data folder and database. */
export function importEnv(site: ImportSite, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PPAY_DATA_DIR: site.dataDir,
    DATABASE_URL: site.databaseUrl,
    ...extra,
  };
}

/** Starts `ppay <args>` (node itself with tsx's loader, so a SIGKILL reaches the importer). */
export async function spawnPpay(
  site: ImportSite,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<SpawnedImport> {
  const rusageFile = path.join(site.root, `rusage-${process.pid}-${++runs}.json`);
  const preload = await preloadOf(site);
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', preload, '--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: importEnv(site, { ...extraEnv, PPAY_TEST_RUSAGE_FILE: rusageFile }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<ImportRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const ms = Date.now() - started;
      void readMaxRss(rusageFile).then((maxRssBytes) =>
        resolve({ code, signal, stdout, stderr, ms, maxRssBytes: signal === null ? maxRssBytes : null }),
      );
    });
  });
  return { child, finished: done };
}

/** `ppay import --ente <site's ente> [...more]`, run to its end. */
export async function runImport(
  site: ImportSite,
  more: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<ImportRun> {
  const spawned = await spawnPpay(site, ['import', '--ente', site.enteFiscalCode, ...more], extraEnv);
  return spawned.finished;
}

/** `ppay import --ente <site's ente>` started, to be killed or awaited. */
export function spawnImport(site: ImportSite, more: string[] = []): Promise<SpawnedImport> {
  return spawnPpay(site, ['import', '--ente', site.enteFiscalCode, ...more]);
}

/** What a test prints about a run that did not go as expected. */
export function describeRun(run: ImportRun): string {
  return `exit ${run.code ?? run.signal} after ${run.ms} ms\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

export function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

// ---------------------------------------------------------------------------------------------
// Outcome files
// ---------------------------------------------------------------------------------------------

export interface OutcomeRow {
  rowNo: number;
  positionId: string;
  installmentNo: string;
  action: string;
  outcome: string;
  errorCode: string;
  errorMessage: string;
  iuv: string;
  noticeNumber: string;
  amountCents: string;
  dueDate: string;
}

export interface OutcomeFile {
  header: string;
  rows: OutcomeRow[];
}

function rowOf(fields: string[]): OutcomeRow {
  const [rowNo, positionId, installmentNo, action, outcome, errorCode, errorMessage, iuv] = fields;
  const [noticeNumber, amountCents, dueDate] = fields.slice(8);
  return {
    rowNo: Number(rowNo),
    positionId: positionId ?? '',
    installmentNo: installmentNo ?? '',
    action: action ?? '',
    outcome: outcome ?? '',
    errorCode: errorCode ?? '',
    errorMessage: errorMessage ?? '',
    iuv: iuv ?? '',
    noticeNumber: noticeNumber ?? '',
    amountCents: amountCents ?? '',
    dueDate: dueDate ?? '',
  };
}

/** Parses an outcome CSV (streamed: the 100,000-line one too); throws on a line of the wrong width. */
export async function parseOutcome(source: string | Buffer): Promise<OutcomeFile> {
  const lines =
    typeof source === 'string'
      ? createInterface({ input: createReadStream(source), crlfDelay: Infinity })
      : source.toString('utf8').split('\n');
  let header: string | null = null;
  const rows: OutcomeRow[] = [];
  let lineNo = 0;
  for await (const line of lines) {
    lineNo += 1;
    if (header === null) {
      header = line;
      continue;
    }
    if (line === '') continue;
    const fields = splitCsvLine(line, ';');
    if (fields.length !== OUTCOME_CSV_HEADER.split(';').length)
      throw new Error(`outcome line ${lineNo} has ${fields.length} fields: ${line}`);
    rows.push(rowOf(fields));
  }
  return { header: header ?? '', rows };
}

/**
 * What is wrong with an outcome that should answer `rows` data lines all OK, in input order (row_no
 * 2..rows+1), each with the IUV and notice number stored for its option: empty when nothing is.
 */
export async function outcomeProblems(
  site: ImportSite,
  outcome: OutcomeFile,
  rows: number,
): Promise<string[]> {
  const problems: string[] = [];
  if (outcome.header !== OUTCOME_CSV_HEADER) problems.push(`header ${outcome.header}`);
  if (outcome.rows.length !== rows) problems.push(`${outcome.rows.length} lines for ${rows} rows`);
  const stored = await storedOptions(site);
  outcome.rows.forEach((row, i) => {
    const option = stored.get(`${row.positionId}#${Number(row.installmentNo || 0)}`);
    if (row.rowNo !== i + 2) problems.push(`line ${i + 2} has row_no ${row.rowNo}`);
    else if (row.outcome !== 'OK')
      problems.push(`row ${row.rowNo}: ${row.outcome} ${row.errorCode} ${row.errorMessage}`);
    else if (!option) problems.push(`row ${row.rowNo}: ${row.positionId} is not stored`);
    else if (row.iuv !== option.iuv || row.noticeNumber !== option.noticeNumber)
      problems.push(
        `row ${row.rowNo}: answered ${row.iuv}/${row.noticeNumber}, stored ${option.iuv}/${option.noticeNumber}`,
      );
  });
  return problems;
}

/** out/<input base>.esito.csv of an input name, parsed. */
export function readOutcomeOf(site: ImportSite, inputName: string): Promise<OutcomeFile> {
  return parseOutcome(folderPath(site, 'out', outcomeFileName(inputName)));
}

/** Names in done/ / rejected/ / processing/ are `<claimId>.<name>`: the names as given. */
export function originalNames(claimedNames: string[]): string[] {
  return claimedNames
    .filter((name) => !name.endsWith('.sha256') && !name.endsWith('.reason.txt'))
    .map((name) => name.slice(name.indexOf('.') + 1))
    .sort();
}

// ---------------------------------------------------------------------------------------------
// The ente's positions in the database
// ---------------------------------------------------------------------------------------------

export interface PositionCounts {
  positions: number;
  options: number;
  transfers: number;
  /** History rows of the ente's positions (an unchanged re-import adds none). */
  events: number;
}

async function countOf(query: Knex.QueryBuilder): Promise<number> {
  const row = (await query.count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

export async function positionCounts(site: ImportSite): Promise<PositionCounts> {
  const { db } = site;
  const enteId = site.seeded.ente.id;
  const positionIds = db('positions').where('ente_id', enteId).select(db.raw('CAST(id AS TEXT)'));
  return {
    positions: await countOf(db('positions').where('ente_id', enteId)),
    options: await countOf(db('payment_options').where('ente_id', enteId)),
    transfers: await countOf(
      db('transfers as t').join('payment_options as o', 'o.id', 't.option_id').where('o.ente_id', enteId),
    ),
    events: await countOf(db('events').where('entity_type', 'position').whereIn('entity_id', positionIds)),
  };
}

/**
 * A SHA-256 over every stored field of the ente's positions, options and transfers, in a fixed
 * order: equal digests mean nothing was changed, not even a version or an updated_at.
 */
export async function positionsDigest(site: ImportSite): Promise<string> {
  const { db } = site;
  const enteId = site.seeded.ente.id;
  const hash = createHash('sha256');
  const positions = await db('positions').where('ente_id', enteId).orderBy('id');
  const options = await db('payment_options').where('ente_id', enteId).orderBy('id');
  const transfers = await db('transfers as t')
    .join('payment_options as o', 'o.id', 't.option_id')
    .where('o.ente_id', enteId)
    .orderBy('t.id')
    .select('t.*');
  for (const row of [...positions, ...options, ...transfers]) hash.update(`${JSON.stringify(row)}\n`);
  return hash.digest('hex');
}

export interface StoredOption {
  positionId: string;
  installment: number;
  iuv: string;
  noticeNumber: string | null;
  amountCents: number;
}

/** Every option of the ente with its position's id, keyed `<positionId>#<installment>`. */
export async function storedOptions(site: ImportSite): Promise<Map<string, StoredOption>> {
  const rows = (await site
    .db('payment_options as o')
    .join('positions as p', 'p.id', 'o.position_id')
    .where('o.ente_id', site.seeded.ente.id)
    .select(
      'p.position_id as positionId',
      'o.installment',
      'o.iuv',
      'o.notice_number as noticeNumber',
      'o.amount_cents as amountCents',
    )) as StoredOption[];
  return new Map(rows.map((r) => [`${r.positionId}#${Number(r.installment)}`, r]));
}

export interface ImportRecordRow {
  fileName: string;
  status: string;
  result: string | null;
  errorCode: string | null;
  lineCount: number | null;
  okCount: number;
  koCount: number;
  /** Lines the import answered (import_lines). */
  answered: number;
}

/** The importer's own records (table `imports`) of the ente, by file name then creation time. */
export async function importRecords(site: ImportSite): Promise<ImportRecordRow[]> {
  const { db } = site;
  const rows = (await db('imports')
    .where('ente_id', site.seeded.ente.id)
    .orderBy([{ column: 'file_name' }, { column: 'created_at' }])
    .select(
      'id',
      'file_name',
      'status',
      'result',
      'error_code',
      'line_count',
      'ok_count',
      'ko_count',
    )) as Array<Record<string, string | number | null>>;
  const records: ImportRecordRow[] = [];
  for (const row of rows) {
    records.push({
      fileName: String(row.file_name),
      status: String(row.status),
      result: row.result === null ? null : String(row.result),
      errorCode: row.error_code === null ? null : String(row.error_code),
      lineCount: row.line_count === null ? null : Number(row.line_count),
      okCount: Number(row.ok_count),
      koCount: Number(row.ko_count),
      answered: await countOf(db('import_lines').where('import_id', row.id)),
    });
  }
  // Sorted here, not by the database: PostgreSQL's collation would order `_` and `-` its own way.
  return records.sort((a, b) => byName(a.fileName, b.fileName));
}

export interface ImportProgress {
  status: string;
  /** Records (and row errors) whose lines are committed. */
  nextItem: number;
}

/** The step and progress of the import of `fileName` past its claim; null before there is one. */
export async function importProgress(site: ImportSite, fileName: string): Promise<ImportProgress | null> {
  const row = (await site
    .db('imports')
    .where({ ente_id: site.seeded.ente.id, file_name: fileName })
    .whereNot('status', 'CLAIMING')
    .orderBy('created_at', 'desc')
    .first('status', 'next_item')) as { status: string; next_item: number | string } | undefined;
  return row ? { status: row.status, nextItem: Number(row.next_item) } : null;
}

/** Code-unit order of names (stable sorts keep equal names in their order). */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Randomness a failing run can repeat
// ---------------------------------------------------------------------------------------------

/** mulberry32: a tiny seeded PRNG, so a failing kill schedule can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

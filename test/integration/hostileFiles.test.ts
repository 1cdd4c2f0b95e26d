// Issue 10 item 1, files: the hostile-input corpus of fixtures/hostile/files/cases.json (documented
// in its README) dropped into an ente's drop folder and taken by the real importer, on every
// database of the matrix. What it proves, for each case: the file-level code (F_*) or the row codes
// (E_*) the case states, never an unexpected failure of the pass; no partial data (a rejected file
// leaves no position, a DONE file stores exactly the positions of its OK / WARN lines, with what
// the file said); nothing written outside the ente's drop folder (path traversal in names and zip
// entries); formula-like cells stored as given but neutralised in the outcome file; and afterwards
// the same folder still imports a valid file (a hostile file never blocks the ente's imports).
//
// Bombs cost ~100 ms each (they are refused from their declared sizes or after a few KB of lies),
// so they run on both databases. PPAY_HOSTILE_ONLY=<id,id> runs only the named cases.

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  forEachDatabase,
  randomEnteFiscalCode,
  seedEnte,
  type DbContext,
  type SeededEnte,
} from '../support/db.ts';
import { insertRow, ppayCsv } from '../support/batchFormats.ts';
import { parseOutcome, type OutcomeRow } from '../support/importProcess.ts';
import { PROJECT_ROOT } from '../../src/xml/paths.ts';
import { enteFolder } from '../../src/batch/dropFolder/forEnte.ts';
import { LocalDropFolder } from '../../src/batch/dropFolder/local.ts';
import type { DropFolderDir } from '../../src/batch/dropFolder/port.ts';
import { outcomeFileName } from '../../src/batch/fileNames.ts';
import { Importer, UNCLAIMABLE_NAME, type PassReport } from '../../src/batch/importer/importer.ts';
import { isDomainError } from '../../src/domain/errors.ts';
import { GENERATORS } from '../../scripts/hostile-files.ts';

const CORPUS = path.join(PROJECT_ROOT, 'fixtures/hostile/files');

interface Expectation {
  /** The whole file refused with this code; its outcome is one row-0 line. */
  file?: string;
  /** `<row>:<outcome>[:<code>]` of every outcome line, in order. */
  rows?: string[];
  /** Never claimed: left in in/ and reported as waiting with the reason. */
  waiting?: boolean;
  /** Not an input at all (a dot file, an upload in progress): left alone. */
  ignored?: boolean;
  /** `ppay import --file` refuses the name with this DomainError code. */
  refused?: string;
  /** The position_id cell of outcome rows, as written (neutralised). */
  outcomeCells?: Record<string, string>;
  /** Stored positions and fields they must hold, as the file gave them. */
  stored?: Record<string, { description?: string; debtorName?: string; amountCents?: number }>;
}

interface HostileFileCase {
  id: string;
  category: string;
  /** File name; `{CF}` is the ente, `{OTHER}` another valid fiscal code. Default `{CF}_<id>_20240201_ppay-1.csv`. */
  name?: string;
  /** A committed input under fixtures/hostile/files/. */
  file?: string;
  /** Rows of a ppay CSV: each overrides a valid single-payment row. */
  csv?: Array<Record<string, string>>;
  /** The content as text (`{CF}` / `{OTHER}` replaced). */
  text?: string;
  /** A builder of scripts/hostile-files.ts. */
  generate?: string;
  /** `drop` (default): dropped into in/; `importFile`: `ppay import --file <path>` (relative to the site). */
  via?: 'drop' | 'importFile';
  path?: string;
  expect: Expectation;
  why: string;
}

const { cases } = JSON.parse(readFileSync(path.join(CORPUS, 'cases.json'), 'utf8')) as {
  cases: HostileFileCase[];
};
const only = process.env.PPAY_HOSTILE_ONLY?.split(',');
const selected = only ? cases.filter((c) => only.includes(c.id)) : cases;

interface Site {
  root: string;
  dataDir: string;
  seeded: SeededEnte;
  cf: string;
  other: string;
}

function folder(site: Site, dir: DropFolderDir, name?: string): string {
  const base = path.join(enteFolder(site.dataDir, site.cf), dir);
  return name === undefined ? base : path.join(base, name);
}

function fill(template: string, site: Site): string {
  return template.replaceAll('{CF}', site.cf).replaceAll('{OTHER}', site.other);
}

function nameOf(c: HostileFileCase, site: Site): string {
  return fill(c.name ?? `{CF}_${c.id}_20240201_ppay-1.csv`, site);
}

function baseOf(name: string): string {
  return name.replace(/\.[^.]*$/, '');
}

async function contentOf(c: HostileFileCase, site: Site, name: string): Promise<Buffer> {
  if (c.file) return readFile(path.join(CORPUS, c.file));
  if (c.text !== undefined) return Buffer.from(fill(c.text, site));
  if (c.generate) {
    const build = GENERATORS[c.generate];
    if (!build) throw new Error(`no generator ${c.generate}`);
    return build(baseOf(name));
  }
  if (c.csv) {
    return Buffer.from(ppayCsv(c.csv.map((r) => ({ ...insertRow(r.position_id ?? 'P1'), ...r }))));
  }
  throw new Error(`case ${c.id} has no input`);
}

/** Every file under `dir`, relative, skipping the given subtrees. */
async function tree(dir: string, skip: readonly string[], prefix = ''): Promise<string[]> {
  const found: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return found;
  }
  for (const entry of entries) {
    const rel = path.join(prefix, entry);
    if (skip.includes(rel)) continue;
    const full = path.join(dir, entry);
    if ((await stat(full)).isDirectory()) found.push(...(await tree(full, skip, rel)));
    else found.push(rel);
  }
  return found.sort();
}

/** What exists outside the ente's drop folder and the importer's scratch folder. */
function outside(site: Site): Promise<string[]> {
  return tree(site.root, [path.join('data', 'sftp', site.cf), path.join('data', 'import-work')]);
}

async function positionsState(ctx: DbContext, site: Site): Promise<string> {
  const enteId = site.seeded.ente.id;
  const positions = await ctx.db('positions').where({ ente_id: enteId }).orderBy('id');
  const options = await ctx.db('payment_options').where({ ente_id: enteId }).orderBy('id');
  return JSON.stringify([positions, options]);
}

async function storedIds(ctx: DbContext, site: Site): Promise<string[]> {
  const rows = (await ctx
    .db('positions')
    .where({ ente_id: site.seeded.ente.id })
    .select('position_id')) as Array<{ position_id: string }>;
  return rows.map((r) => r.position_id).sort();
}

function codes(rows: readonly OutcomeRow[]): string[] {
  return rows.map((r) => `${r.rowNo}:${r.outcome}${r.errorCode ? `:${r.errorCode}` : ''}`);
}

function describeExpectation(e: Expectation): string {
  if (e.file) return `rejects the file with ${e.file}`;
  if (e.rows) return `answers ${e.rows.join(' ')}`;
  if (e.waiting) return 'leaves it in in/ as waiting (unclaimable name)';
  if (e.ignored) return 'ignores it';
  return `refuses the name with ${e.refused}`;
}

forEachDatabase('hostile files: the importer against the corpus', (ctx) => {
  const roots: string[] = [];
  after(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  async function newSite(): Promise<Site> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ppay-hostile-'));
    roots.push(root);
    const seeded = await seedEnte(ctx.store);
    let other = randomEnteFiscalCode();
    while (other === seeded.ente.fiscalCode) other = randomEnteFiscalCode();
    const site = { root, dataDir: path.join(root, 'data'), seeded, cf: seeded.ente.fiscalCode, other };
    await new LocalDropFolder({ root: enteFolder(site.dataDir, site.cf) }).ensureLayout();
    return site;
  }

  function importer(site: Site): Importer {
    return new Importer({
      store: ctx.store,
      dataDir: site.dataDir,
      completion: { settleMs: 0 },
      batchRows: 50,
    });
  }

  async function pass(site: Site): Promise<PassReport> {
    const imp = importer(site);
    try {
      return await imp.runPass({ enteFiscalCode: site.cf });
    } finally {
      await imp.close();
    }
  }

  /** Puts a file into in/ whole (written beside the drop folder, then renamed in). */
  async function drop(site: Site, name: string, content: Buffer): Promise<void> {
    const aside = path.join(site.root, 'aside');
    await writeFile(aside, content);
    // Settled: a minute old, so the completion rule takes it now (a file written this very
    // millisecond may look newer than the clock).
    const past = new Date(Date.now() - 60_000);
    await utimes(aside, past, past);
    await rename(aside, folder(site, 'in', name));
  }

  async function inFolder(site: Site): Promise<string[]> {
    return (await readdir(folder(site, 'in'))).sort();
  }

  /** The folder still imports a valid file after the hostile one: nothing is stuck. */
  async function stillImports(site: Site): Promise<void> {
    const name = `${site.cf}_AFTER_20240202_ppay-1.csv`;
    await drop(site, name, Buffer.from(ppayCsv([insertRow('AFTER-1')])));
    const report = await pass(site);
    expect(report.failures, 'a later pass failed').to.deep.equal([]);
    const after = report.files.find((f) => f.fileName === name);
    expect([after?.outcome, after?.ok], 'a valid file after the hostile one').to.deep.equal(['DONE', 1]);
  }

  for (const c of selected) {
    it(`${c.category} / ${c.id}: ${describeExpectation(c.expect)} (${c.why})`, async function () {
      this.timeout(60_000);
      const site = await newSite();
      const name = nameOf(c, site);
      const e = c.expect;
      const before = { positions: await positionsState(ctx, site), outside: await outside(site) };

      if (c.via === 'importFile') {
        const target = c.path?.startsWith('/') ? c.path : path.join(site.root, fill(c.path ?? name, site));
        if (!c.path?.startsWith('/') && !target.includes('\u0000')) {
          await mkdir(path.join(site.root, 'work', 'a'), { recursive: true });
          await writeFile(path.resolve(target), await contentOf(c, site, path.basename(target)));
        }
        const imp = importer(site);
        try {
          if (e.refused) {
            const err = await imp.importFile(site.cf, target).then(
              () => null,
              (x: unknown) => x,
            );
            expect(isDomainError(err, e.refused as 'INVALID_INPUT'), String(err)).to.equal(true);
          } else {
            const report = await imp.importFile(site.cf, target);
            const fileName = path.basename(target);
            if (e.file) expect([report.outcome, report.errorCode]).to.deep.equal(['REJECTED', e.file]);
            if (e.rows) {
              expect(report.outcome).to.equal('DONE');
              const outcome = await parseOutcome(folder(site, 'out', outcomeFileName(fileName)));
              expect(codes(outcome.rows)).to.deep.equal(e.rows);
            }
          }
        } finally {
          await imp.close();
        }
        // The --file given elsewhere was read, not moved or written: its folder holds only it.
        expect(await outside(site)).to.deep.equal(
          [...before.outside, ...(e.refused || c.path?.startsWith('/') ? [] : ['x.csv'])].sort(),
        );
        if (!e.rows) expect(await positionsState(ctx, site)).to.equal(before.positions);
        await stillImports(site);
        return;
      }

      await drop(site, name, await contentOf(c, site, name));
      const report = await pass(site);
      expect(report.failures, 'the pass failed instead of answering the file').to.deep.equal([]);
      expect(await outside(site), 'written outside the drop folder').to.deep.equal(before.outside);

      if (e.waiting || e.ignored) {
        expect(report.files, 'the file was claimed').to.deep.equal([]);
        expect(await inFolder(site)).to.include(name);
        if (e.waiting) {
          expect(report.waiting).to.deep.include({ enteFiscalCode: site.cf, name, reason: UNCLAIMABLE_NAME });
        }
        expect(await positionsState(ctx, site)).to.equal(before.positions);
        expect(await ctx.db('imports').where({ ente_id: site.seeded.ente.id })).to.have.length(0);
        await stillImports(site);
        return;
      }

      expect(report.files.map((f) => f.fileName)).to.deep.equal([name]);
      const [file] = report.files;
      const outcome = await parseOutcome(folder(site, 'out', outcomeFileName(name)));
      if (e.file) {
        expect([file?.outcome, file?.errorCode], file?.errorMessage ?? '').to.deep.equal([
          'REJECTED',
          e.file,
        ]);
        expect(codes(outcome.rows)).to.deep.equal([`0:KO:${e.file}`]);
        expect(await positionsState(ctx, site), 'a rejected file changed positions').to.equal(
          before.positions,
        );
        expect((await readdir(folder(site, 'rejected'))).some((n) => n.endsWith(`.${name}`))).to.equal(true);
      }
      if (e.rows) {
        expect([file?.outcome, file?.errorCode], file?.errorMessage ?? '').to.deep.equal(['DONE', null]);
        expect(codes(outcome.rows)).to.deep.equal(e.rows);
        // Exactly the positions of the lines answered OK / WARN, nothing of the KO ones.
        const applied = [
          ...new Set(
            outcome.rows.filter((r) => r.outcome !== 'KO').map((r) => r.positionId.replace(/^'/, '')),
          ),
        ].sort();
        expect(await storedIds(ctx, site)).to.deep.equal(applied);
      }
      for (const [row, cell] of Object.entries(e.outcomeCells ?? {})) {
        expect(outcome.rows.find((r) => r.rowNo === Number(row))?.positionId).to.equal(cell);
      }
      for (const [positionId, fields] of Object.entries(e.stored ?? {})) {
        const stored = await ctx.store.positions.findByPositionId(site.seeded.ente.id, positionId);
        expect(stored, `${positionId} stored as given`).to.not.equal(null);
        if (fields.description !== undefined) expect(stored?.description).to.equal(fields.description);
        if (fields.debtorName !== undefined) expect(stored?.debtor?.fullName).to.equal(fields.debtorName);
        if (fields.amountCents !== undefined)
          expect(stored?.options[0]?.amountCents).to.equal(fields.amountCents);
      }
      await stillImports(site);
    });
  }

  it('the corpus holds at least 55 cases, each with one expectation and a reason', () => {
    expect(cases.length).to.be.at.least(55);
    for (const c of cases) {
      const kinds = ['file', 'rows', 'waiting', 'ignored', 'refused'].filter((k) => k in c.expect);
      expect(kinds, c.id).to.have.length(1);
      expect(c.why, c.id).to.be.a('string').and.not.equal('');
    }
    expect(new Set(cases.map((c) => c.id)).size).to.equal(cases.length);
  });
});

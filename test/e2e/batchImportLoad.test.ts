// Issue 7 acceptance, the heavy half (DESIGN §8): `ppay import` as a real process on a real SQLite
// file (on a fresh PostgreSQL schema instead when DATABASE_URL=postgres://…) and the ente's local
// drop folder.
// - A 100,000-row ppay CSV is imported with a peak resident set under 300 MB (the kernel's
//   ru_maxrss of the importer process, see importProcess.ts) and its outcome has 100,000 lines.
// - A 50,000-row import killed with SIGKILL at 10 random moments (a seeded schedule, printed; set
//   PPAY_TEST_KILL_SEED to replay one) and restarted each time ends with exactly 50,000 positions,
//   one complete outcome file and the input in done/.
// Timings and peak memory are printed.

import { randomInt } from 'node:crypto';
import path from 'node:path';
import { expect } from 'chai';
import { outcomeFileName } from '../../src/batch/fileNames.ts';
import {
  byName,
  closeSite,
  delay,
  describeRun,
  dropFile,
  generateCsvFile,
  importProgress,
  importRecords,
  leftoverWork,
  listFolder,
  megabytes,
  openSiteFromEnv,
  originalNames,
  outcomeProblems,
  positionCounts,
  ppayCsvName,
  readOutcomeOf,
  runImport,
  seededRandom,
  spawnImport,
  type SpawnedImport,
  type ImportSite,
  type OutcomeFile,
} from '../support/importProcess.ts';

const MAX_PEAK_BYTES = 300 * 1024 * 1024;
const KILLS = 10;
/** PPAY_IMPORT_BATCH_ROWS's default: the lines the importer commits per transaction. */
const BATCH_ROWS = 500;

/**
 * Where a kill lands: `claim` the moment the file shows up in processing/ (around the claim's
 * rename and its record); `start` after `ms` (start-up, the first pass reading the file); `apply`
 * once the import has committed `items` records, `extraMs` later (inside the next batch);
 * `outcome` as soon as the import is writing its outcome file.
 */
type KillAt =
  | { phase: 'claim' }
  | { phase: 'start'; ms: number }
  | { phase: 'apply'; items: number; extraMs: number }
  | { phase: 'outcome' };

/**
 * Ten kill points: the first at the claim, then six drawn from `random` at places of the apply
 * pass (ascending, each run resumes past the previous one) and two at random moments of start-up
 * and the first pass, put at random places of the sequence; the last while the outcome is written.
 */
function killSchedule(random: () => number, rows: number, startupMs: number, batchMs: number): KillAt[] {
  const apply: KillAt[] = Array.from({ length: KILLS - 4 }, () => Math.floor(random() * rows))
    .sort((a, b) => a - b)
    .map((items) => ({ phase: 'apply', items, extraMs: Math.round(random() * batchMs) }));
  const schedule = [...apply];
  for (let i = 0; i < 2; i++) {
    const ms = Math.round(random() * startupMs);
    schedule.splice(Math.floor(random() * (schedule.length + 1)), 0, { phase: 'start', ms });
  }
  return [{ phase: 'claim' }, ...schedule, { phase: 'outcome' }];
}

function describeKill(at: KillAt): string {
  if (at.phase === 'claim') return 'at the claim';
  if (at.phase === 'start') return `${at.ms} ms after the start`;
  if (at.phase === 'apply') return `${at.extraMs} ms after ${at.items} records were committed`;
  return 'while the outcome is written';
}

/**
 * Kills the run at `at`, watching the import's record every 10 ms; whatever the point, it kills at
 * once when the outcome is being written, the last moment before the run may end on its own.
 * False when the run ended first (nothing left to kill).
 */
async function killWhen(
  site: ImportSite,
  name: string,
  spawned: SpawnedImport,
  at: KillAt,
): Promise<boolean> {
  let exited = false;
  void spawned.finished.then(() => (exited = true));
  if (at.phase === 'claim') {
    while (!exited && (await listFolder(site, 'processing')).length === 0) await delay(1);
    return !exited && spawned.child.kill('SIGKILL');
  }
  let dueAt = at.phase === 'start' ? Date.now() + at.ms : Infinity;
  while (!exited && Date.now() < dueAt) {
    const progress = await importProgress(site, name);
    if (progress?.status === 'WRITING_OUTCOME') break;
    const applied =
      progress?.status === 'IMPORTING' && progress.nextItem >= (at.phase === 'apply' ? at.items : 0);
    if (at.phase === 'apply' && dueAt === Infinity && applied) dueAt = Date.now() + at.extraMs;
    await delay(10);
  }
  return !exited && spawned.child.kill('SIGKILL');
}

function log(text: string): void {
  process.stdout.write(`      · ${text}\n`);
}

/** Every line OK, in input order, with the IUV and notice number stored for its option. */
async function expectEveryRowAnswered(site: ImportSite, outcome: OutcomeFile, rows: number): Promise<void> {
  const problems = await outcomeProblems(site, outcome, rows);
  expect(problems.slice(0, 10), `${problems.length} problems in the outcome`).to.deep.equal([]);
}

/** The drop folder once the input is finished: in/ and processing/ empty, the input in done/ once. */
async function expectFinished(site: ImportSite, inputName: string): Promise<void> {
  expect(await listFolder(site, 'in')).to.deep.equal([]);
  expect(await listFolder(site, 'processing')).to.deep.equal([]);
  expect(await listFolder(site, 'rejected')).to.deep.equal([]);
  expect(originalNames(await listFolder(site, 'done'))).to.deep.equal([inputName]);
  expect(await listFolder(site, 'out')).to.deep.equal([outcomeFileName(inputName)]);
}

describe('batch import at scale (real `ppay import` processes; SQLite, or DATABASE_URL=postgres://…)', function () {
  this.timeout(15 * 60_000);
  const sites: ImportSite[] = [];
  async function newSite(): Promise<ImportSite> {
    const site = await openSiteFromEnv();
    sites.push(site);
    return site;
  }
  after(async () => {
    for (const site of sites) await closeSite(site);
  });

  it('imports a 100,000-row CSV with peak memory under 300 MB and one outcome line per row', async () => {
    const site = await newSite();
    // The same command with nothing to import, then with 1,000 rows: the peaks to read the big one
    // against (what start-up alone costs, what a small file adds).
    const idle = await runImport(site);
    expect(idle.code, describeRun(idle)).to.equal(0);
    const smallName = ppayCsvName(site, 'LOAD-1K');
    const smallFile = path.join(site.root, 'files', smallName);
    await generateCsvFile(smallFile, { rows: 1000, positionIdPrefix: 'S-' });
    await dropFile(site, smallName, { file: smallFile });
    const small = await runImport(site);
    expect(small.code, describeRun(small)).to.equal(0);

    const name = ppayCsvName(site, 'LOAD-100K');
    const file = path.join(site.root, 'files', name);
    let started = Date.now();
    const summary = await generateCsvFile(file, { rows: 100_000 });
    log(`generated ${summary.rows} rows (${summary.positions} positions) in ${Date.now() - started} ms`);
    await dropFile(site, name, { file });
    const before = await positionCounts(site);
    const run = await runImport(site);
    log(
      `no file: ${idle.ms} ms, peak RSS ${megabytes(idle.maxRssBytes ?? 0)}; ` +
        `1,000 rows: ${small.ms} ms, peak RSS ${megabytes(small.maxRssBytes ?? 0)}; ` +
        `100,000 rows: ${run.ms} ms, peak RSS ${megabytes(run.maxRssBytes ?? 0)}`,
    );
    expect(run.code, describeRun(run)).to.equal(0);
    expect(run.maxRssBytes, 'the importer reported its peak memory').to.be.a('number');
    expect(run.maxRssBytes!, `peak RSS ${megabytes(run.maxRssBytes!)}`).to.be.below(MAX_PEAK_BYTES);

    started = Date.now();
    const after = await positionCounts(site);
    expect(after.positions - before.positions).to.equal(summary.positions);
    expect(after.options - before.options).to.equal(100_000);
    expect(after.events - before.events).to.equal(summary.positions);
    const outcome = await readOutcomeOf(site, name);
    await expectEveryRowAnswered(site, outcome, 100_000);
    log(`checked the outcome and the database in ${Date.now() - started} ms`);
    expect(originalNames(await listFolder(site, 'done'))).to.deep.equal([name, smallName].sort());
    expect(await listFolder(site, 'out')).to.deep.equal(
      [outcomeFileName(name), outcomeFileName(smallName)].sort(),
    );
    expect(await listFolder(site, 'processing')).to.deep.equal([]);
    const records = await importRecords(site);
    expect(records.map((r) => [r.fileName, r.status, r.okCount, r.koCount, r.answered])).to.deep.equal(
      [
        [name, 'DONE', 100_000, 0, 100_000],
        [smallName, 'DONE', 1000, 0, 1000],
      ].sort((x, y) => byName(String(x[0]), String(y[0]))),
    );
  });

  it('ends with exactly 50,000 positions and one complete outcome after 10 SIGKILLs and restarts', async () => {
    const rows = 50_000;
    // Calibration on a site of its own: this machine's start-up time and time per row, which
    // size the start-up kills and the random delay of the kills inside a batch.
    const calibration = await newSite();
    const idle = await runImport(calibration);
    expect(idle.code, describeRun(idle)).to.equal(0);
    const calibrationName = ppayCsvName(calibration, 'CALIBRATION');
    const calibrationFile = path.join(calibration.root, 'files', calibrationName);
    await generateCsvFile(calibrationFile, { rows: 5000, planEvery: 0 });
    await dropFile(calibration, calibrationName, { file: calibrationFile });
    const measured = await runImport(calibration);
    expect(measured.code, describeRun(measured)).to.equal(0);
    const perRowMs = Math.max(0.01, (measured.ms - idle.ms) / 5000);
    log(`calibration: start-up ${idle.ms} ms, ${perRowMs.toFixed(3)} ms per row`);

    const site = await newSite();
    const name = ppayCsvName(site, 'CRASH-50K');
    const file = path.join(site.root, 'files', name);
    // One row per position (no plans): 50,000 rows are 50,000 positions, as the acceptance counts.
    const summary = await generateCsvFile(file, { rows, planEvery: 0 });
    expect(summary.positions).to.equal(rows);
    await dropFile(site, name, { file });

    const seed = Number(process.env.PPAY_TEST_KILL_SEED ?? randomInt(2 ** 31));
    const schedule = killSchedule(seededRandom(seed), rows, idle.ms, perRowMs * BATCH_ROWS);
    log(`kill schedule seed ${seed} (PPAY_TEST_KILL_SEED=${seed} replays it)`);
    const started = Date.now();
    for (const [i, at] of schedule.entries()) {
      const before = (await positionCounts(site)).options;
      const spawned = await spawnImport(site);
      const landed = await killWhen(site, name, spawned, at);
      const run = await spawned.finished;
      const steps = (await importRecords(site)).map((r) => r.status).join('+') || 'none';
      log(
        `kill ${i + 1} (${describeKill(at)}): ${landed ? 'killed' : 'MISSED'}, ` +
          `import records ${steps}, options ${before} → ${(await positionCounts(site)).options}`,
      );
      expect(
        landed && run.signal === 'SIGKILL',
        `kill ${i + 1} (seed ${seed}): ${describeRun(run)}`,
      ).to.equal(true);
    }
    const last = await runImport(site);
    log(`final run: ${last.ms} ms; 10 kills and restarts took ${Date.now() - started} ms in all`);
    expect(last.code, describeRun(last)).to.equal(0);

    const counts = await positionCounts(site);
    expect(counts.positions, `positions (seed ${seed})`).to.equal(rows);
    expect(counts.options, `options (seed ${seed})`).to.equal(rows);
    // One creation event per position: no batch a kill interrupted left a trace of its own.
    expect([counts.transfers, counts.events], `transfers, events (seed ${seed})`).to.deep.equal([rows, rows]);
    const outcome = await readOutcomeOf(site, name);
    await expectEveryRowAnswered(site, outcome, rows);
    await expectFinished(site, name);
    // One import record, whole; the stale intents and working copies of the killed runs are gone.
    const records = await importRecords(site);
    expect(records.map((r) => [r.fileName, r.status, r.okCount, r.koCount, r.answered])).to.deep.equal([
      [name, 'DONE', rows, 0, rows],
    ]);
    expect(await leftoverWork(site)).to.deep.equal([]);
  });
});

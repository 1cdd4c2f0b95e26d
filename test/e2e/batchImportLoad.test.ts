// Issue 7 acceptance, the heavy half (DESIGN §8): `ppay import` as a real process on a real SQLite
// file and the ente's local drop folder.
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
  importRecords,
  leftoverWork,
  listFolder,
  megabytes,
  openSqliteSite,
  originalNames,
  outcomeProblems,
  positionCounts,
  ppayCsvName,
  readOutcomeOf,
  runImport,
  seededRandom,
  spawnImport,
  type ImportRun,
  type ImportSite,
  type OutcomeFile,
} from '../support/importProcess.ts';

const MAX_PEAK_BYTES = 300 * 1024 * 1024;
const KILLS = 10;

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

describe('batch import at scale (real `ppay import` processes, SQLite)', function () {
  this.timeout(15 * 60_000);
  const sites: ImportSite[] = [];
  async function newSite(): Promise<ImportSite> {
    const site = await openSqliteSite();
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
    // Calibration on a site of its own: the start-up cost and the time per row of this machine,
    // so the kill moments spread over the whole import instead of bunching in its start-up.
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
    const random = seededRandom(seed);
    log(`kill schedule seed ${seed} (PPAY_TEST_KILL_SEED=${seed} replays it)`);
    const started = Date.now();
    for (let kill = 1; kill <= KILLS; kill++) {
      // Between most of the start-up and the expected end of what is left, kept short of that
      // end (a run that finishes before its kill would leave nothing to kill).
      const done = (await positionCounts(site)).options;
      const earliest = idle.ms * 0.7;
      const latest = idle.ms + (rows - done) * perRowMs * 0.7;
      const at = Math.round(earliest + random() * (latest - earliest));
      const spawned = await spawnImport(site);
      await Promise.race([delay(at), spawned.finished]);
      const killed = spawned.child.kill('SIGKILL');
      const run: ImportRun = await spawned.finished;
      // Where it died: the import's step (none yet: still starting or claiming) and its progress.
      const step = (await importRecords(site)).map((r) => r.status).join('+') || 'no import yet';
      const stored = (await positionCounts(site)).options;
      log(`kill ${kill} at ${at} ms: ${step}, options ${done} → ${stored}`);
      expect(
        killed && run.signal === 'SIGKILL',
        `kill ${kill} landed (seed ${seed}): ${describeRun(run)}`,
      ).to.equal(true);
    }
    const last = await runImport(site);
    log(`final run: ${last.ms} ms; 10 kills and restarts took ${Date.now() - started} ms in all`);
    expect(last.code, describeRun(last)).to.equal(0);

    const counts = await positionCounts(site);
    expect(counts.positions, `positions (seed ${seed})`).to.equal(rows);
    expect(counts.options, `options (seed ${seed})`).to.equal(rows);
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

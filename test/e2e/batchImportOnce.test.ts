// Issue 7 acceptance, "exactly once" (DESIGN §8), on SQLite and PostgreSQL: `ppay import` as real
// processes on the suite's database and an ente's local drop folder.
// - The same file dropped twice (under a new name, then under its first name) changes nothing the
//   second time, not even a version or an updated_at, and its outcome says it was already imported.
// - Two importer processes started together on the same folders import each of six files exactly
//   once: one outcome per file, each input once in done/, positions = the sum of the files' rows.

import path from 'node:path';
import { expect } from 'chai';
import { outcomeFileName } from '../../src/batch/fileNames.ts';
import { forEachDatabase } from '../support/db.ts';
import {
  byName,
  closeSite,
  describeRun,
  dropFile,
  generateCsvFile,
  importRecords,
  listFolder,
  openSiteOn,
  originalNames,
  outcomeProblems,
  positionCounts,
  positionsDigest,
  ppayCsvName,
  readOutcomeOf,
  runImport,
  spawnImport,
  type ImportRun,
  type ImportSite,
  type OutcomeFile,
} from '../support/importProcess.ts';

function log(text: string): void {
  process.stdout.write(`      · ${text}\n`);
}

/** The files a `ppay import --json` run reports it imported (DONE) itself. */
function doneFiles(run: ImportRun): string[] {
  let report: { files: Array<{ fileName: string; outcome: string }> };
  try {
    report = JSON.parse(run.stdout) as typeof report;
  } catch {
    throw new Error(`ppay import --json printed no JSON report: ${describeRun(run)}`);
  }
  return report.files.filter((f) => f.outcome === 'DONE').map((f) => f.fileName);
}

/** The outcome of a file whose content was imported before: it says so, and applies nothing. */
function expectAlreadyImported(outcome: OutcomeFile): void {
  expect(outcome.rows.length, 'an outcome line').to.be.at.least(1);
  const codes = new Set(outcome.rows.map((row) => row.errorCode));
  expect([...codes], 'the outcome says the file was imported before').to.deep.equal(['F_DUP_FLOW']);
}

forEachDatabase('batch import exactly once (real `ppay import` processes)', (ctx) => {
  const sites: ImportSite[] = [];
  async function newSite(): Promise<ImportSite> {
    const site = await openSiteOn(ctx);
    sites.push(site);
    return site;
  }
  after(async () => {
    for (const site of sites) await closeSite(site);
  });

  it('changes nothing when the same file is dropped again, and says so in its outcome', async function () {
    this.timeout(120_000);
    const site = await newSite();
    const name = ppayCsvName(site, 'TWICE');
    const file = path.join(site.root, 'files', name);
    const summary = await generateCsvFile(file, { rows: 40, planEvery: 4 });
    await dropFile(site, name, { file });
    const first = await runImport(site);
    expect(first.code, describeRun(first)).to.equal(0);
    const firstOutcome = await readOutcomeOf(site, name);
    expect(await outcomeProblems(site, firstOutcome, 40)).to.deep.equal([]);
    const counts = await positionCounts(site);
    expect(counts.positions).to.equal(summary.positions);
    expect(counts.options).to.equal(40);
    const digest = await positionsDigest(site);

    // The gestionale sends the same content again under a new name…
    const renamed = ppayCsvName(site, 'TWICE-AGAIN');
    await dropFile(site, renamed, { file });
    const second = await runImport(site);
    expect(second.code, describeRun(second)).to.equal(0);
    expect(await positionCounts(site)).to.deep.equal(counts);
    expect(await positionsDigest(site)).to.equal(digest);
    expectAlreadyImported(await readOutcomeOf(site, renamed));

    // …and under its first name.
    await dropFile(site, name, { file });
    const third = await runImport(site);
    expect(third.code, describeRun(third)).to.equal(0);
    expect(await positionCounts(site)).to.deep.equal(counts);
    expect(await positionsDigest(site)).to.equal(digest);
    // Its outcome takes the first one's place in out/ (same name), saying it was imported before.
    expectAlreadyImported(await readOutcomeOf(site, name));
    expect(await listFolder(site, 'in')).to.deep.equal([]);
    expect(await listFolder(site, 'processing')).to.deep.equal([]);
    expect(await listFolder(site, 'out')).to.deep.equal(
      [outcomeFileName(name), outcomeFileName(renamed)].sort(),
    );
    log(
      `imports: ${first.ms} ms, again under a new name ${second.ms} ms, again under its name ${third.ms} ms`,
    );
  });

  it('imports each of six files exactly once with two importer processes on the same folders', async function () {
    this.timeout(300_000);
    const site = await newSite();
    const rowsOf = new Map<string, number>();
    let rows = 0;
    let positions = 0;
    for (let k = 1; k <= 6; k++) {
      const name = ppayCsvName(site, `PARALLEL-${k}`);
      const file = path.join(site.root, 'files', name);
      const summary = await generateCsvFile(file, {
        rows: 500 + 100 * k,
        positionIdPrefix: `P${k}-`,
        planEvery: 7,
      });
      rows += summary.rows;
      positions += summary.positions;
      rowsOf.set(name, summary.rows);
    }
    const names = [...rowsOf.keys()];
    // Every file is ready before either process starts, so both race for all six.
    for (const name of names) await dropFile(site, name, { file: path.join(site.root, 'files', name) });
    const started = Date.now();
    const spawned = await Promise.all([spawnImport(site, ['--json']), spawnImport(site, ['--json'])]);
    const [a, b] = (await Promise.all(spawned.map((s) => s.finished))) as [ImportRun, ImportRun];
    expect(a.code, describeRun(a)).to.equal(0);
    expect(b.code, describeRun(b)).to.equal(0);
    // Each process says which files it imported: together all six, none twice, and both took
    // some (else the race this test is about did not happen).
    const importedBy = [a, b].map((run) => doneFiles(run));
    log(
      `two processes: ${a.ms} ms (${importedBy[0]!.length} files) and ${b.ms} ms ` +
        `(${importedBy[1]!.length} files), ${Date.now() - started} ms in all, ${rows} rows`,
    );
    expect([...importedBy[0]!, ...importedBy[1]!].sort()).to.deep.equal([...names].sort());
    expect(importedBy.map((files) => files.length > 0)).to.deep.equal([true, true]);

    const counts = await positionCounts(site);
    expect(counts.positions).to.equal(positions);
    expect(counts.options).to.equal(rows);
    expect(await listFolder(site, 'in')).to.deep.equal([]);
    expect(await listFolder(site, 'processing')).to.deep.equal([]);
    expect(await listFolder(site, 'rejected')).to.deep.equal([]);
    expect(originalNames(await listFolder(site, 'done'))).to.deep.equal([...names].sort());
    expect(await listFolder(site, 'out')).to.deep.equal(names.map(outcomeFileName).sort());
    const records = await importRecords(site);
    expect(records.map((r) => [r.fileName, r.status, r.okCount, r.answered])).to.deep.equal(
      names
        .map((name) => [name, 'DONE', rowsOf.get(name), rowsOf.get(name)])
        .sort((x, y) => byName(String(x[0]), String(y[0]))),
    );
    for (const name of names) {
      const outcome = await readOutcomeOf(site, name);
      const problems = await outcomeProblems(site, outcome, rowsOf.get(name)!);
      expect(problems.slice(0, 10), `${name}: ${problems.length} problems`).to.deep.equal([]);
    }
  });

  it('imports the same content dropped under two names once, with two processes racing for them', async function () {
    this.timeout(120_000);
    const site = await newSite();
    const names = [ppayCsvName(site, 'SAME-A'), ppayCsvName(site, 'SAME-B')];
    const file = path.join(site.root, 'files', 'same.csv');
    const summary = await generateCsvFile(file, { rows: 300, planEvery: 5 });
    for (const name of names) await dropFile(site, name, { file });
    const spawned = await Promise.all([spawnImport(site), spawnImport(site)]);
    const runs = await Promise.all(spawned.map((s) => s.finished));
    for (const run of runs) expect(run.code, describeRun(run)).to.equal(0);

    const counts = await positionCounts(site);
    expect([counts.positions, counts.options]).to.deep.equal([summary.positions, 300]);
    const records = await importRecords(site);
    const imported = records.filter((r) => r.status === 'DONE').map((r) => r.fileName);
    expect(imported, 'one of the two names imported').to.have.length(1);
    const [first] = imported as [string];
    const [second] = names.filter((n) => n !== first) as [string];
    expect(records.map((r) => [r.fileName, r.status, r.errorCode])).to.have.deep.members([
      [first, 'DONE', null],
      [second, 'REJECTED', 'F_DUP_FLOW'],
    ]);
    expect(await outcomeProblems(site, await readOutcomeOf(site, first), 300)).to.deep.equal([]);
    expectAlreadyImported(await readOutcomeOf(site, second));
    expect(originalNames(await listFolder(site, 'done'))).to.deep.equal([first]);
    expect(originalNames(await listFolder(site, 'rejected'))).to.deep.equal([second]);
  });
});

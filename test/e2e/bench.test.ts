// Smoke test of the benchmarks (issue 9): `npm run bench -- --tiny` runs every benchmark on tiny sizes
// as its own process and prints the whole table, each row with figures. The benchmarks themselves are
// never part of `npm test`; this only proves the script still runs. PostgreSQL rows may say "not run"
// when no server is reachable (as the [postgres] test variants skip).

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import knexModule from 'knex';
import { DEFAULT_TEST_POSTGRES_URL } from '../support/db.ts';
import { ROOT } from '../support/ppayProcess.ts';

const EXPECTED_ROWS: Array<[string, RegExp]> = [
  ['XSD', /paGetPaymentV2 response/],
  ['XSD', /^RT /],
  ['Import', /SQLite/],
  ['Import', /PostgreSQL/],
  ['SOAP', /paVerifyPaymentNotice, 10 conn/],
  ['SOAP', /paVerifyPaymentNotice, 50 conn/],
  ['SOAP', /requestIUV, 10 conn/],
  ['SOAP', /requestIUV, 50 conn/],
  ['Reconciliation', /receipts/],
  ['Scale', /requestIUV, 1 process,/],
  ['Scale', /paVerifyPaymentNotice, 1 process,/],
  ['Scale', /requestIUV, 2 processes/],
  ['Scale', /paVerifyPaymentNotice, 2 processes/],
];

async function postgresReachable(): Promise<boolean> {
  const url =
    process.env.PPAY_BENCH_POSTGRES_URL ?? process.env.PPAY_TEST_POSTGRES_URL ?? DEFAULT_TEST_POSTGRES_URL;
  const admin = knexModule.knex({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 5000,
  });
  try {
    await admin.raw('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await admin.destroy();
  }
}

function runBench(out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/run.ts'), '--tiny'], {
      cwd: ROOT,
      env: { ...process.env, PPAY_BENCH_OUT: out },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --tiny (smoke)', function () {
  this.timeout(180_000);
  let dir = '';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ppay-bench-smoke-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints every row of the table with figures and writes the same table to the report file', async () => {
    const postgres = await postgresReachable();
    const out = path.join(dir, 'latest.md');
    const run = await runBench(out);
    expect(run.code, run.stderr).to.equal(0);
    const rows = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| benchmark '))
      .map((line) => line.split(' | ').map((cell) => cell.replace(/^\| /, '').trim()));
    expect(rows.length, run.stdout).to.equal(EXPECTED_ROWS.length);
    EXPECTED_ROWS.forEach(([benchmark, name], i) => {
      const [rowBenchmark = '', rowCase = '', measured = '', baseline = '', ratio = ''] = rows[i] ?? [];
      expect(rowBenchmark, run.stdout).to.equal(benchmark);
      expect(rowCase, run.stdout).to.match(name);
      if (!postgres && rowCase.includes('PostgreSQL')) return;
      expect(measured, `${rowCase}: ${run.stdout}`).to.not.match(/^not run/);
      expect(measured, rowCase).to.match(/\d/);
      expect(baseline, rowCase).to.match(/\d/);
      expect(ratio, rowCase).to.match(/^\d+\.\d+$/);
    });
    expect(await readFile(out, 'utf8')).to.include(run.stdout.trim());
  });
});

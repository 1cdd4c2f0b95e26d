// The `ppay` CLI and `start` as an operator runs them: real processes, a real SQLite file in a
// temporary data folder, PORT=0, and /health over HTTP.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ppay, ppayEnv, startPpay, stopPpay } from '../support/ppayProcess.ts';

describe('ppay CLI (real processes, SQLite)', function () {
  this.timeout(60000);
  let dataDir: string;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-cli-'));
  });
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('start migrates, seeds an empty development database, serves /health and stops on SIGTERM', async () => {
    const { child, url, output } = await startPpay(ppayEnv(dataDir));
    try {
      expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(output()).to.contain('demo data');
      const res = await fetch(`${url}/health`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ status: 'ok', db: { status: 'up', dialect: 'sqlite' } });
      expect(fs.existsSync(path.join(dataDir, 'ppay.sqlite'))).to.equal(true);
    } finally {
      expect(await stopPpay(child)).to.equal(0);
    }
  });

  it('seed --demo --json prints the same demo data every time', async () => {
    const env = ppayEnv(dataDir);
    const first = await ppay(['seed', '--demo', '--json'], env);
    const second = await ppay(['seed', '--demo', '--json'], env);
    expect(first.code, first.stderr).to.equal(0);
    expect(second.code, second.stderr).to.equal(0);
    const demo = JSON.parse(first.stdout);
    expect(JSON.parse(second.stdout)).to.deep.equal(demo);
    expect(demo.broker.fiscalCode).to.match(/^\d{11}$/);
    expect(demo.station.stationId).to.equal(`${demo.broker.fiscalCode}_01`);
    expect(demo.enti).to.have.length(2);
    expect(demo.client.username).to.be.a('string').and.not.equal('');
    expect(demo.client.password).to.be.a('string').and.not.equal('');
    expect(demo.positions.length).to.be.at.least(12);
    for (const p of demo.positions) expect(p.noticeNumber).to.match(/^3\d{17}$/);
    const kinds = new Set(demo.positions.map((p: { kind: string }) => p.kind));
    expect([...kinds]).to.include.members(['single', 'installments', 'two-beneficiaries', 'postal']);
  });

  it('position show prints a demo position with its options and history', async () => {
    const env = ppayEnv(dataDir);
    const demo = JSON.parse((await ppay(['seed', '--demo', '--json'], env)).stdout);
    const [first] = demo.positions;
    const shown = await ppay(['position', 'show', first.enteFiscalCode, first.noticeNumber], env);
    expect(shown.code, shown.stderr).to.equal(0);
    const position = JSON.parse(shown.stdout);
    expect(position.status).to.equal('VALID');
    expect(position.options[0].noticeNumber).to.equal(first.noticeNumber);
    expect(position.events.length).to.be.at.least(1);
  });

  it('client add prints generated credentials once and refuses a duplicate username', async () => {
    const env = ppayEnv(dataDir);
    const demo = JSON.parse((await ppay(['seed', '--demo', '--json'], env)).stdout);
    const args = [
      'client',
      'add',
      '--username',
      'acme',
      '--name',
      'ACME gestionale',
      '--ente',
      demo.enti[0].fiscalCode,
    ];
    const created = await ppay(args, env);
    expect(created.code, created.stderr).to.equal(0);
    expect(JSON.parse(created.stdout).password).to.have.length.of.at.least(20);
    const again = await ppay(args, env);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('CLIENT_DUPLICATE');
  });

  it('client set changes the callback URL and return URLs, refusing a non-http URL', async () => {
    const env = ppayEnv(dataDir);
    await ppay(['seed', '--demo'], env);
    const set = await ppay(
      [
        'client',
        'set',
        'demo-gestionale',
        '--callback-url',
        'http://127.0.0.1:9/cb',
        '--return-url',
        'https://g.example/',
      ],
      env,
    );
    expect(set.code, set.stderr).to.equal(0);
    expect(JSON.parse(set.stdout)).to.deep.equal({
      username: 'demo-gestionale',
      callbackUrl: 'http://127.0.0.1:9/cb',
      returnUrlPrefixes: ['https://g.example/'],
    });
    const cleared = await ppay(['client', 'set', 'demo-gestionale', '--no-callback-url'], env);
    expect(JSON.parse(cleared.stdout).callbackUrl).to.equal(null);
    const bad = await ppay(['client', 'set', 'demo-gestionale', '--callback-url', 'ftp://x'], env);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('INVALID_INPUT');
    const unknown = await ppay(['client', 'set', 'nobody', '--no-callback-url'], env);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.contain('CLIENT_UNKNOWN');
  });

  it('jobs run notifyExpiredNotices reports under its lock and refuses an unknown job', async () => {
    const env = ppayEnv(dataDir);
    await ppay(['seed', '--demo'], env);
    const run = await ppay(['jobs', 'run', 'notifyExpiredNotices', '--days', '5'], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.include({ status: 'DONE', expired: 0, notifications: 0 });
    const unknown = await ppay(['jobs', 'run', 'nope'], env);
    expect(unknown.code).to.equal(1);
  });

  it('ente add refuses a bad fiscal code with its error code and exit status 1', async () => {
    const env = ppayEnv(dataDir);
    const demo = JSON.parse((await ppay(['seed', '--demo', '--json'], env)).stdout);
    const run = await ppay(
      [
        'ente',
        'add',
        '--fiscal-code',
        '12345678901',
        '--name',
        'Comune X',
        '--station',
        demo.station.stationId,
      ],
      env,
    );
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain('INVALID_FISCAL_CODE');
  });

  it('stops start-up on an unknown DATABASE_URL scheme, naming the variable', async () => {
    const run = await ppay(['start'], ppayEnv(dataDir, { DATABASE_URL: 'mysql://root@127.0.0.1/test' }));
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain('DATABASE_URL');
  });

  it('stops start-up in production without a secret, naming PPAY_SECRET, and refuses the demo seed there', async () => {
    const run = await ppay(['start'], ppayEnv(dataDir, { PPAY_ENV: 'production' }));
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain('PPAY_SECRET');
    const seed = await ppay(
      ['seed', '--demo'],
      ppayEnv(dataDir, { PPAY_ENV: 'production', PPAY_SECRET: 'x'.repeat(40) }),
    );
    expect(seed.code).to.equal(1);
    expect(seed.stderr).to.contain('production');
  });
});

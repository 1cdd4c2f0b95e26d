// Issue 5 acceptance, independent client: Debian's python3-zeep, pointed at the running connector's
// WSDL (/ws/gestionale?wsdl), calls every operation of the gestionale API with a WS-Security
// UsernameToken. The client is the README's example, docs/examples/zeep_gestionale.py, run as is;
// it prints `operation outcome faultCode [noticeNumber]` per operation. Operations still being
// built may answer KO PPAY_NOT_IMPLEMENTED: what counts here is that zeep can call each of them
// and gets a contract answer (no SOAP Fault, no transport error).
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/soapServer.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { loadManifest, PROJECT_ROOT } from '../../src/soap/manifest.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(PROJECT_ROOT, 'docs/examples/zeep_gestionale.py');
const EC = '01234567897';
const DEMO = { username: 'demo-gestionale', password: 'demo-gestionale-password' };

const zeepMissing = spawnSync(PYTHON, ['-c', 'import zeep'], { stdio: 'ignore' }).status !== 0;
const inCi = process.env.CI === 'true';

const operations = (): string[] => {
  const service = loadManifest().find((s) => s.wsdl === 'gestionale.wsdl');
  if (!service) throw new Error('no gestionale service in xsd/manifest');
  return service.operations.map((o) => o.name);
};

interface Line {
  operation: string;
  outcome: string;
  faultCode: string;
  noticeNumber: string | undefined;
}

function parseLines(stdout: string): Line[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [operation = '', outcome = '', faultCode = '', noticeNumber] = line.trim().split(/\s+/);
      return { operation, outcome, faultCode, noticeNumber };
    });
}

forEachDatabase('python3-zeep calls every operation of the gestionale API (docs/examples)', (ctx) => {
  let server: TestServer;

  before(async function () {
    if (zeepMissing && inCi) throw new Error('python3-zeep is missing in CI (apt-get install python3-zeep)');
    if (zeepMissing) this.skip();
    await seedDemo(ctx.store);
    server = await startTestServer(ctx.db, ctx.store);
  });
  after(() => server?.close());

  const title = zeepMissing
    ? 'every operation answers (skipped: python3-zeep is not installed; apt-get install python3-zeep)'
    : 'every operation answers a contract answer; requestIUV is OK with a notice number';

  it(title, async function () {
    this.timeout(120_000);
    let stdout: string;
    let stderr: string;
    try {
      ({ stdout, stderr } = await run(
        PYTHON,
        [SCRIPT, `${server.url}/ws/gestionale?wsdl`, DEMO.username, DEMO.password],
        { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' }, timeout: 110_000 },
      ));
    } catch (err) {
      const failed = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `the zeep client failed: ${failed.message}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`,
        { cause: err },
      );
    }
    const lines = parseLines(stdout);
    const report = `${stdout}${stderr}`;

    expect(lines.map((l) => l.operation).sort(), report).to.deep.equal(operations().sort());
    expect(lines, report).to.have.length(16);
    for (const line of lines) {
      expect(line.outcome, `${line.operation}: ${report}`).to.be.oneOf(['OK', 'KO']);
      if (line.outcome === 'OK') expect(line.faultCode, `${line.operation}: ${report}`).to.equal('-');
      else expect(line.faultCode, `${line.operation}: ${report}`).to.match(/^PPAY_[A-Z_]+$/);
    }

    const requestIUV = lines.find((l) => l.operation === 'requestIUV');
    expect(requestIUV?.outcome, report).to.equal('OK');
    expect(requestIUV?.noticeNumber, report).to.match(/^[0-9]{18}$/);
    const ente = await ctx.store.enti.getByFiscalCode(EC);
    const allocation = await ctx.store.iuv.findByNoticeNumber(ente!.id, requestIUV!.noticeNumber!);
    expect(allocation, 'the notice number zeep got is recorded for the ente').to.not.equal(null);
  });
});

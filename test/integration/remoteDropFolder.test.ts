// Remote SFTP drop folders end to end (issue 7 items 1 and 6, DESIGN §8), on every database of the
// matrix and a real OpenSSH sshd: an ente configured with `ppay ente drop-folder --sftp`, a
// gestionale uploading to the server's in/, the importer pulling, importing and answering in the
// server's out/ (input moved to done/ or rejected/ there), `--file` sent through the remote in/,
// the nightly payments and reconciliation exports pushed to the remote out/, and the settings
// checked before they are stored (use case and CLI).

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type SftpClient from 'ssh2-sftp-client';
import { parse } from 'csv-parse/sync';
import { forEachDatabase, seedEnte, type DbContext, type SeededEnte } from '../support/db.ts';
import {
  connectAs,
  downloadOut,
  listRemote,
  startSshdOrSkip,
  uploadWithSidecar,
  type Sshd,
} from '../support/sshd.ts';
import { insertRow, ppayCsv } from '../support/batchFormats.ts';
import { ppay, ppayEnv } from '../support/ppayProcess.ts';
import { expectRejection } from './helpers.ts';
import {
  setDropFolder,
  showDropFolder,
  type DropFolderView,
  type SftpDropFolderInput,
} from '../../src/app/dropFolders.ts';
import { receiveReceipt } from '../../src/app/pagopa/receipts.ts';
import {
  checkEnteDropFolder,
  openEnteDropFolder,
  openRemoteDropFolder,
} from '../../src/batch/enteDropFolders.ts';
import { LocalDropFolder } from '../../src/batch/dropFolder/local.ts';
import { RemoteSftpDropFolder } from '../../src/batch/dropFolder/remoteSftp.ts';
import { formatPpayFileName, outcomeFileName } from '../../src/batch/fileNames.ts';
import { Importer } from '../../src/batch/importer/importer.ts';
import { jobCatalogueFor } from '../../src/batch/jobs.ts';
import type { AmountCents } from '../../src/domain/money.ts';

const DAY = '2026-11-25';

type CsvRow = Record<string, string>;

function csvRows(text: string): CsvRow[] {
  return parse(text, { delimiter: ';', columns: true }) as CsvRow[];
}

/** The suite's database as DATABASE_URL for a `ppay` process (PostgreSQL: its schema as search_path). */
function databaseUrlOf(ctx: DbContext): string {
  const { url, searchPath } = ctx.connection;
  return searchPath ? `${url}?options=${encodeURIComponent(`-c search_path=${searchPath}`)}` : url;
}

function keygen(file: string, passphrase: string): void {
  const run = spawnSync('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    passphrase,
    '-C',
    'ppay-test',
    '-f',
    file,
  ]);
  if (run.status !== 0) throw new Error(`ssh-keygen failed: ${run.stderr.toString()}`);
}

forEachDatabase('remote SFTP drop folders', (ctx) => {
  let sshd: Sshd | undefined;
  let root: string;
  let dataDir: string;
  let seeded: SeededEnte;
  let cf: string;
  /** The ente's folder on the SFTP server (absolute: the test sshd does not chroot). */
  let remoteRoot: string;
  let keyFile: string;
  let gestionale: SftpClient;
  let stored: DropFolderView;
  /** REM-1 as imported: what the payments export must list once it is paid. */
  let paidNotice: { iuv: string; noticeNumber: string; amountCents: number };

  const server = () => sshd as Sshd;
  const localFolder = (dir: string) => path.join(dataDir, 'sftp', cf, dir);
  const fileName = (flowId: string) =>
    formatPpayFileName({ enteFiscalCode: cf, flowId, date: '2026-11-20', extension: 'csv' });

  function sftpInput(changes: Partial<SftpDropFolderInput> = {}) {
    return {
      ente: cf,
      kind: 'sftp' as const,
      host: server().host,
      port: String(server().port),
      username: server().username,
      keyFile,
      hostFingerprint: server().hostFingerprint,
      root: remoteRoot,
      ...changes,
    };
  }

  async function pass() {
    const importer = new Importer({ store: ctx.store, dataDir, completion: { settleMs: 0 }, batchRows: 10 });
    try {
      return await importer.runPass({ enteFiscalCode: cf });
    } finally {
      await importer.close();
    }
  }

  before(async function () {
    this.timeout(60_000);
    sshd = await startSshdOrSkip(this);
    root = await mkdtemp(path.join(os.tmpdir(), 'ppay-remote-'));
    dataDir = path.join(root, 'data');
    seeded = await seedEnte(ctx.store);
    cf = seeded.ente.fiscalCode;
    remoteRoot = path.join(root, 'server', cf);
    await mkdir(remoteRoot, { recursive: true });
    const connectorLogin = await sshd.addLogin(remoteRoot);
    await mkdir(path.join(root, 'keys'));
    keyFile = path.join(root, 'keys', 'connector_ed25519');
    await writeFile(keyFile, connectorLogin.privateKey, { mode: 0o600 });
    gestionale = await connectAs(await sshd.addLogin(remoteRoot));
  });

  after(async () => {
    if (!sshd) return;
    await gestionale?.end();
    await sshd.stop();
    await rm(root, { recursive: true, force: true });
  });

  describe('settings', () => {
    it('stores the SFTP settings (the key file path, never the key) and shows them', async () => {
      stored = await setDropFolder(ctx.store, sftpInput(), dataDir);
      expect(stored).to.deep.include({
        enteFiscalCode: cf,
        kind: 'sftp',
        configured: true,
        location: `sftp://${server().username}@${server().host}:${server().port}${remoteRoot}`,
      });
      expect(stored.sftp).to.deep.equal({
        host: server().host,
        port: server().port,
        username: server().username,
        privateKeyFile: keyFile,
        hostFingerprint: server().hostFingerprint,
        root: remoteRoot,
      });
      const row = (await ctx.db('ente_drop_folders').where({ ente_id: seeded.ente.id }).first()) as object;
      expect(JSON.stringify(row)).not.to.include('PRIVATE KEY');
      expect(await showDropFolder(ctx.store, cf, dataDir)).to.deep.equal(stored);
      // The remote folder, not the local one, is what the importer and the exports open.
      const folder = await openEnteDropFolder(ctx.store, dataDir, cf);
      expect(folder).to.be.instanceOf(RemoteSftpDropFolder);
      expect(folder.location).to.equal(stored.location);
      await folder.close();
    });

    it('shows an ente without settings on its local folders', async () => {
      const other = await seedEnte(ctx.store);
      const view = await showDropFolder(ctx.store, other.ente.fiscalCode, dataDir);
      expect(view).to.deep.equal({
        enteFiscalCode: other.ente.fiscalCode,
        kind: 'local',
        location: path.resolve(dataDir, 'sftp', other.ente.fiscalCode),
        configured: false,
        sftp: null,
        updatedAt: null,
      });
      expect(await openRemoteDropFolder(ctx.store, dataDir, other.ente)).to.equal(null);
    });

    it('refuses a missing fingerprint, an unreadable or unusable key, a bad port or host, keeping what is stored', async () => {
      const publicKey = `${keyFile}.pub`;
      await writeFile(publicKey, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIByqk1hD6o2KrFMLJHAh7Y8C7PXv ppay\n');
      const encrypted = path.join(root, 'keys', 'encrypted_ed25519');
      keygen(encrypted, 'secret passphrase');
      const unreadable = path.join(root, 'keys', 'no_such_key');
      const cases: Array<[Partial<SftpDropFolderInput>, string]> = [
        [{ hostFingerprint: undefined }, 'hostFingerprint'],
        [{ hostFingerprint: '' }, 'hostFingerprint'],
        [{ hostFingerprint: 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48' }, 'hostFingerprint'],
        [{ keyFile: undefined }, 'keyFile'],
        [{ keyFile: unreadable }, 'keyFile'],
        [{ keyFile: path.join(root, 'keys') }, 'keyFile'],
        [{ keyFile: publicKey }, 'keyFile'],
        [{ keyFile: encrypted }, 'keyFile'],
        [{ port: '0' }, 'port'],
        [{ port: '65536' }, 'port'],
        [{ port: 'ssh' }, 'port'],
        [{ host: '' }, 'host'],
        [{ host: 'two words' }, 'host'],
        [{ username: undefined }, 'username'],
        [{ root: ' ' }, 'root'],
      ];
      for (const [changes, field] of cases) {
        const error = await expectRejection(
          setDropFolder(ctx.store, sftpInput(changes), dataDir),
          'INVALID_INPUT',
        );
        expect(error.details, JSON.stringify(changes)).to.include({ field });
      }
      await expectRejection(
        setDropFolder(ctx.store, { ...sftpInput(), ente: '00000000000' }, dataDir),
        'ENTE_UNKNOWN',
      );
      expect(await showDropFolder(ctx.store, cf, dataDir)).to.deep.equal(stored);
    });
  });

  describe('a folder that cannot be used', () => {
    afterEach(async () => {
      stored = await setDropFolder(ctx.store, sftpInput(), dataDir);
    });

    it('refuses a server whose host key is not the configured one (check: CONFIG_INVALID; pass: a failure)', async () => {
      const otherKey = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;
      await setDropFolder(ctx.store, sftpInput({ hostFingerprint: otherKey }), dataDir);
      await expectRejection(checkEnteDropFolder(ctx.store, dataDir, cf), 'CONFIG_INVALID');
      const report = await pass();
      expect(report.files).to.deep.equal([]);
      expect(report.failures.map((f) => f.enteFiscalCode)).to.deep.equal([cf]);
      expect(existsSync(path.join(remoteRoot, 'in'))).to.equal(false);
    });

    it('reports a key file that became unreadable after it was configured as CONFIG_INVALID', async () => {
      const copy = path.join(root, 'keys', 'soon_gone');
      await writeFile(copy, await readFile(keyFile), { mode: 0o600 });
      await setDropFolder(ctx.store, sftpInput({ keyFile: copy }), dataDir);
      await rm(copy);
      const error = await expectRejection(openEnteDropFolder(ctx.store, dataDir, cf), 'CONFIG_INVALID');
      expect(error.details).to.include({ enteFiscalCode: cf, privateKeyFile: copy });
    });
  });

  describe('the importer on the remote folder', () => {
    it('creates the remote layout when checked, and sees an empty in/', async () => {
      const check = await checkEnteDropFolder(ctx.store, dataDir, cf);
      expect(check).to.deep.equal({ location: stored.location, ready: [], invalid: [], waiting: [] });
      expect(await readdir(remoteRoot)).to.have.members(['in', 'processing', 'done', 'rejected', 'out']);
    });

    it('pulls a CSV the gestionale uploaded to the remote in/, imports it and answers in the remote out/', async () => {
      const name = fileName('REMOTE');
      const content = ppayCsv([
        insertRow('REM-1', { due_date: '2030-12-31', amount_cents: '12300' }),
        insertRow('REM-2', { due_date: '2030-12-31' }),
        insertRow('REM-BAD', { amount_cents: '12,30' }),
      ]);
      await uploadWithSidecar(gestionale, name, content);

      const report = await pass();

      expect(report.failures).to.deep.equal([]);
      expect(report.files.map((f) => [f.fileName, f.outcome, f.lines, f.ok, f.ko])).to.deep.equal([
        [name, 'DONE', 3, 2, 1],
      ]);
      const outcome = csvRows((await downloadOut(gestionale, outcomeFileName(name))).toString('utf8'));
      expect(outcome.map((r) => [r.position_id, r.outcome])).to.deep.equal([
        ['REM-1', 'OK'],
        ['REM-2', 'OK'],
        ['REM-BAD', 'KO'],
      ]);
      const position = await ctx.store.positions.findByPositionId(seeded.ente.id, 'REM-1');
      const option = position!.options[0]!;
      expect([outcome[0]!.iuv, outcome[0]!.notice_number]).to.deep.equal([option.iuv, option.noticeNumber]);
      paidNotice = { iuv: option.iuv, noticeNumber: option.noticeNumber!, amountCents: option.amountCents };

      // The input and its sidecar moved to the remote done/ under their claim names.
      expect(await listRemote(gestionale, 'in')).to.deep.equal([]);
      expect(await listRemote(gestionale, 'processing')).to.deep.equal([]);
      const done = await listRemote(gestionale, 'done');
      expect(done).to.have.length(2);
      expect(done.every((n) => n.endsWith(`.${name}`) || n.endsWith(`.${name}.sha256`))).to.equal(true);
      // Nothing went through the local folders; the working copy is gone.
      expect(existsSync(localFolder('in'))).to.equal(false);
      expect(existsSync(localFolder('out'))).to.equal(false);
      expect(await readdir(localFolder('remote-work'))).to.deep.equal([]);
    });

    it('rejects the same content uploaded again into the remote rejected/, changing nothing', async () => {
      const name = fileName('AGAIN');
      const content = ppayCsv([
        insertRow('REM-1', { due_date: '2030-12-31', amount_cents: '12300' }),
        insertRow('REM-2', { due_date: '2030-12-31' }),
        insertRow('REM-BAD', { amount_cents: '12,30' }),
      ]);
      const before = await ctx.db('positions').where({ ente_id: seeded.ente.id }).count({ n: '*' });
      await uploadWithSidecar(gestionale, name, content);

      const report = await pass();

      expect(report.files.map((f) => [f.fileName, f.outcome, f.errorCode])).to.deep.equal([
        [name, 'REJECTED', 'F_DUP_FLOW'],
      ]);
      const outcome = csvRows((await downloadOut(gestionale, outcomeFileName(name))).toString('utf8'));
      expect(outcome.map((r) => [r.outcome, r.error_code])).to.deep.equal([['KO', 'F_DUP_FLOW']]);
      const rejected = await listRemote(gestionale, 'rejected');
      expect(rejected.filter((n) => n.endsWith(`.${name}`))).to.have.length(1);
      expect(rejected.filter((n) => n.endsWith(`.${name}.reason.txt`))).to.have.length(1);
      expect(await ctx.db('positions').where({ ente_id: seeded.ente.id }).count({ n: '*' })).to.deep.equal(
        before,
      );
    });

    it('imports a file given by the operator (--file) through the remote in/', async () => {
      const name = fileName('OPERATOR');
      const local = path.join(root, name);
      await writeFile(local, ppayCsv([insertRow('REM-OP-1', { due_date: '2030-12-31' })]));
      const importer = new Importer({ store: ctx.store, dataDir, completion: { settleMs: 0 } });
      try {
        const report = await importer.importFile(cf, local);
        expect([report.outcome, report.ok, report.ko]).to.deep.equal(['DONE', 1, 0]);
      } finally {
        await importer.close();
      }
      const outcome = csvRows((await downloadOut(gestionale, outcomeFileName(name))).toString('utf8'));
      expect(outcome.map((r) => [r.position_id, r.outcome])).to.deep.equal([['REM-OP-1', 'OK']]);
      expect((await listRemote(gestionale, 'done')).filter((n) => n.endsWith(`.${name}`))).to.have.length(1);
      expect(existsSync(localFolder('in'))).to.equal(false);
    });
  });

  describe('the nightly exports', () => {
    const config = {
      reservationMaxDays: 30,
      receiptFlowDays: 2,
      flowCreditDays: 5,
      exportSigning: undefined,
    };

    it('pushes the payments of the day to the remote out/', async () => {
      const receiptId = `rcpt${process.pid}remote`;
      await receiveReceipt(ctx.storeWith({ clock: () => new Date(`${DAY}T12:00:00Z`) }), {
        source: 'paSendRT',
        caller: {
          enteFiscalCode: cf,
          brokerFiscalCode: seeded.broker.fiscalCode,
          stationId: seeded.station.stationId,
        },
        creditorFiscalCode: cf,
        iuv: paidNotice.iuv,
        receiptId,
        noticeNumber: paidNotice.noticeNumber,
        outcome: 'OK',
        amountCents: paidNotice.amountCents as AmountCents,
        paymentDateTime: `${DAY}T13:00:00`,
        pspId: 'TESTPSP01',
        document: `<receipt><receiptId>${receiptId}</receiptId></receipt>`,
      });
      const jobs = jobCatalogueFor({ ...config, dataDir }, () => null, { exportDate: DAY });
      const job = jobs.find((j) => j.name === 'paymentsExport')!;
      const now = new Date(`${DAY}T23:30:00Z`);

      const result = (await job.run(ctx.store, now, now)) as {
        files: Array<{ fileName: string; location: string }>;
      };

      const name = `${cf}_PAGATI_${DAY.replace(/-/g, '')}_ppay-1.csv`;
      expect(result.files.find((f) => f.fileName === name)?.location).to.equal(
        `${stored.location}/out/${name}`,
      );
      const rows = csvRows((await downloadOut(gestionale, name)).toString('utf8'));
      expect(rows.map((r) => [r.position_id, r.iuv, r.amount_cents, r.receipt_id])).to.deep.equal([
        ['REM-1', paidNotice.iuv, String(paidNotice.amountCents), receiptId],
      ]);
      expect(existsSync(localFolder('out'))).to.equal(false);
    });

    it('pushes the reconciliation export to the remote out/', async () => {
      const jobs = jobCatalogueFor({ ...config, dataDir }, () => null);
      const job = jobs.find((j) => j.name === 'reconciliationExport')!;
      const now = new Date('2026-11-26T04:00:00Z');

      const result = (await job.run(ctx.store, now, now)) as {
        status: string;
        exports: Array<{ enteFiscalCode: string; xmlPath: string; csvPath: string }>;
      };

      const base = `${cf}_RENDICONTAZIONE_20261125`;
      expect(result.status).to.equal('done');
      expect(result.exports.find((e) => e.enteFiscalCode === cf)).to.deep.include({
        xmlPath: `${stored.location}/out/${base}.xml`,
        csvPath: `${stored.location}/out/${base}.csv`,
      });
      const xml = (await downloadOut(gestionale, `${base}.xml`)).toString('utf8');
      expect(xml).to.include(`rec-${cf}-20261125`);
      const csv = (await downloadOut(gestionale, `${base}.csv`)).toString('utf8');
      expect(csv.split('\r\n')[0]).to.match(/;/);
      expect(existsSync(localFolder('out'))).to.equal(false);
    });
  });

  describe('ppay ente drop-folder', function () {
    this.timeout(60_000);

    it('validates, stores, shows and checks the settings', async () => {
      const env = ppayEnv(dataDir, { DATABASE_URL: databaseUrlOf(ctx), PPAY_IMPORT_SETTLE_MS: '0' });
      const args = (changes: Record<string, string | null> = {}) => {
        const options: Record<string, string | null> = {
          '--host': server().host,
          '--port': String(server().port),
          '--user': server().username,
          '--key-file': keyFile,
          '--host-fingerprint': server().hostFingerprint,
          '--root': remoteRoot,
          ...changes,
        };
        const flags = Object.entries(options).flatMap(([flag, value]) =>
          value === null ? [] : [flag, value],
        );
        return ['ente', 'drop-folder', cf, '--sftp', ...flags];
      };

      const badPort = await ppay(args({ '--port': '70000' }), env);
      expect(badPort.code, badPort.stderr).to.equal(1);
      expect(badPort.stderr).to.match(/^error INVALID_INPUT:/);
      const noFingerprint = await ppay(args({ '--host-fingerprint': null }), env);
      expect(noFingerprint.code).to.equal(1);
      expect(noFingerprint.stderr).to.match(/^error INVALID_INPUT:/);
      const mixed = await ppay(['ente', 'drop-folder', cf, '--local', '--host', 'example.org'], env);
      expect(mixed.code).to.equal(1);

      await uploadWithSidecar(gestionale, fileName('WAITING'), ppayCsv([insertRow('REM-W-1')]));
      const set = await ppay([...args(), '--check'], env);
      expect(set.code, set.stderr).to.equal(0);
      const view = JSON.parse(set.stdout) as DropFolderView & {
        check: { location: string; ready: string[] };
      };
      expect(view).to.deep.include({ kind: 'sftp', location: stored.location });
      expect(view.check).to.deep.include({ location: stored.location, ready: [fileName('WAITING')] });

      const shown = await ppay(['ente', 'drop-folder', cf], env);
      expect(shown.code, shown.stderr).to.equal(0);
      expect((JSON.parse(shown.stdout) as DropFolderView).sftp).to.deep.equal(stored.sftp);
    });

    it('switches the ente back to its local folders with --local', async () => {
      const env = ppayEnv(dataDir, { DATABASE_URL: databaseUrlOf(ctx) });
      const run = await ppay(['ente', 'drop-folder', cf, '--local'], env);
      expect(run.code, run.stderr).to.equal(0);
      expect(JSON.parse(run.stdout)).to.deep.include({
        kind: 'local',
        configured: true,
        location: path.resolve(dataDir, 'sftp', cf),
        sftp: null,
      });
      const folder = await openEnteDropFolder(ctx.store, dataDir, cf);
      expect(folder).to.be.instanceOf(LocalDropFolder);
      await folder.close();
    });
  });
});

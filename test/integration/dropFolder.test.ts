// Drop folders (DESIGN §8): one contract suite run on LocalDropFolder (real temp folders) and on
// RemoteSftpDropFolder (a real OpenSSH sshd on loopback), then a gestionale's SFTP uploads through
// sshd into a local drop folder with each completion convention, and outcome files coming back.
// The sshd suites are skipped, with a warning naming the reason, when sshd cannot run here.

import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import type SftpClient from 'ssh2-sftp-client';
import { LocalDropFolder } from '../../src/batch/dropFolder/local.ts';
import type { CompletionSettings, DropFolder } from '../../src/batch/dropFolder/port.ts';
import { RemoteSftpDropFolder } from '../../src/batch/dropFolder/remoteSftp.ts';
import { dropFolderForEnte, enteFolder } from '../../src/batch/dropFolder/forEnte.ts';
import { expectRejection } from './helpers.ts';
import {
  connectAs,
  downloadOut,
  listRemote,
  sha256Hex,
  sha256sumLine,
  startSlowUpload,
  startSshdOrSkip,
  uploadWithRename,
  uploadWithSidecar,
  type SftpLogin,
  type Sshd,
} from '../support/sshd.ts';

const md5Hex = (content: string) => createHash('md5').update(content).digest('hex');

/** Long enough that only an explicit age (utimes) or a sidecar makes a file ready in the contract. */
const CONTRACT_SETTINGS: CompletionSettings = { settleMs: 60_000, requireSidecar: false };
const OLD_MS = 10 * 60_000;

/** Folders under one root; what each test inspects and drops directly, whichever implementation. */
async function tempRoot(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

async function names(root: string, dir: string): Promise<string[]> {
  return (await readdir(path.join(root, dir))).sort();
}

/** Puts in/<name> as if uploaded `ageMs` ago. */
async function drop(root: string, name: string, content: string | Buffer, ageMs = 0): Promise<void> {
  const file = path.join(root, 'in', name);
  await writeFile(file, content);
  if (ageMs > 0) {
    const then = new Date(Date.now() - ageMs);
    await utimes(file, then, then);
  }
}

async function waitFor<T>(
  probe: () => Promise<T | null | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Made {
  root: string;
  /** Two instances on the same folders, as two connector processes would have. */
  a: DropFolder;
  b: DropFolder;
}

type Maker = (root: string, settings: CompletionSettings) => DropFolder;

function dropFolderContract(title: string, maker: () => Maker): void {
  describe(title, () => {
    let made: Made;

    async function make(settings: CompletionSettings = CONTRACT_SETTINGS): Promise<Made> {
      const root = await tempRoot('ppay-drop-');
      const create = maker();
      const a = create(root, settings);
      const b = create(root, settings);
      await a.ensureLayout();
      made = { root, a, b };
      return made;
    }

    afterEach(async () => {
      if (!made) return;
      await made.a.close();
      await made.b.close();
      await rm(made.root, { recursive: true, force: true });
    });

    it('creates in/ processing/ done/ rejected/ out/', async () => {
      const { root } = await make();
      const folders = (await readdir(root)).filter((n) => n !== 'work').sort();
      expect(folders).to.deep.equal(['done', 'in', 'out', 'processing', 'rejected']);
    });

    it('lists a file unchanged for the settle time as ready and a fresh one as waiting', async () => {
      const { root, a } = await make();
      await drop(root, 'old.csv', 'old', OLD_MS);
      await drop(root, 'new.csv', 'new');
      const incoming = await a.listIncoming();
      expect(incoming.ready.map((f) => [f.name, f.completion, f.size])).to.deep.equal([
        ['old.csv', 'settled', 3],
      ]);
      expect(incoming.waiting.map((f) => f.name)).to.deep.equal(['new.csv']);
    });

    it('never lists a .part upload as ready and refuses to claim it', async () => {
      const { root, a } = await make();
      await drop(root, 'half.csv.part', 'half', OLD_MS);
      const incoming = await a.listIncoming();
      expect(incoming.ready).to.deep.equal([]);
      expect(incoming.waiting.map((f) => [f.name, f.reason])).to.deep.equal([
        ['half.csv.part', 'upload in progress'],
      ]);
      await expectRejection(a.claim('half.csv.part'), 'INVALID_INPUT');
      expect(await a.claim('half.csv')).to.equal(null);
      expect(await names(root, 'in')).to.deep.equal(['half.csv.part']);
    });

    it('takes a fresh file at once when its sidecar matches, in each sha256sum form', async () => {
      const { root, a } = await make();
      await drop(root, 'a.csv', 'A');
      await drop(root, 'a.csv.sha256', sha256sumLine('a.csv', 'A'));
      await drop(root, 'b.csv', 'B');
      await drop(root, 'b.csv.sha256', sha256Hex('B'));
      await drop(root, 'c.zip', 'C');
      await drop(root, 'c.zip.sha256', `${sha256Hex('C')} *c.zip\n`);
      const incoming = await a.listIncoming();
      expect(incoming.ready.map((f) => [f.name, f.completion, f.sha256])).to.deep.equal([
        ['a.csv', 'sidecar', sha256Hex('A')],
        ['b.csv', 'sidecar', sha256Hex('B')],
        ['c.zip', 'sidecar', sha256Hex('C')],
      ]);
      expect(incoming.waiting).to.deep.equal([]);
    });

    it('waits for the sidecar when the configuration requires one', async () => {
      const { root, a } = await make({ settleMs: 0, requireSidecar: true });
      await drop(root, 'a.csv', 'A', OLD_MS);
      const before = await a.listIncoming();
      expect(before.ready).to.deep.equal([]);
      expect(before.waiting.map((f) => f.name)).to.deep.equal(['a.csv']);
      await drop(root, 'a.csv.sha256', sha256Hex('A'));
      expect((await a.listIncoming()).ready.map((f) => f.name)).to.deep.equal(['a.csv']);
    });

    it('finds a settled file with a wrong sidecar invalid, and rejects it with the reason beside it', async () => {
      const { root, a } = await make();
      await drop(root, 'bad.csv', 'actual content', OLD_MS);
      await drop(root, 'bad.csv.sha256', sha256sumLine('bad.csv', 'announced content'), OLD_MS);
      const incoming = await a.listIncoming();
      expect(incoming.ready).to.deep.equal([]);
      expect(incoming.invalid.map((f) => [f.name, f.problem])).to.deep.equal([
        ['bad.csv', 'SIDECAR_MISMATCH'],
      ]);
      const claim = await a.claim('bad.csv');
      expect(claim?.sidecarProblem).to.include(sha256Hex('actual content'));
      expect(claim?.expectedSha256).to.equal(sha256Hex('announced content'));
      await a.finish(claim!, 'rejected', incoming.invalid[0]!.reason);
      const c = claim!.claimedName;
      expect(await names(root, 'rejected')).to.deep.equal([c, `${c}.reason.txt`, `${c}.sha256`].sort());
      const reason = await readFile(path.join(root, 'rejected', `${c}.reason.txt`), 'utf8');
      expect(reason).to.include('SHA-256 mismatch');
      expect(await names(root, 'in')).to.deep.equal([]);
      expect(await names(root, 'processing')).to.deep.equal([]);
    });

    it('takes a zip at once when its MyPay .md5 matches; a .md5 is never an input, an orphan one waits', async () => {
      const { root, a } = await make();
      await drop(root, 'C_A001-IUF1-1_3.zip', 'zip one');
      await drop(root, 'C_A001-IUF1-1_3.md5', md5Hex('zip one').toUpperCase());
      await drop(root, 'C_A001-IUF2-1_3.ZIP', 'zip two');
      await drop(root, 'C_A001-IUF2-1_3.md5', `${md5Hex('zip two')}  C_A001-IUF2-1_3.ZIP\n`);
      await drop(root, 'orphan.md5', md5Hex('nothing'), OLD_MS);
      const incoming = await a.listIncoming();
      expect(incoming.ready.map((f) => [f.name, f.completion])).to.deep.equal([
        ['C_A001-IUF1-1_3.zip', 'sidecar'],
        ['C_A001-IUF2-1_3.ZIP', 'sidecar'],
      ]);
      expect(incoming.waiting.map((f) => [f.name, f.reason])).to.deep.equal([
        ['orphan.md5', 'sidecar without its file'],
      ]);
      expect(incoming.invalid).to.deep.equal([]);
      await expectRejection(a.claim('C_A001-IUF1-1_3.md5'), 'INVALID_INPUT');
    });

    it('claims a zip with its .md5, keeps it through a restart and moves it to done/ with the zip', async () => {
      const { root, a } = await make();
      await drop(root, 'C_A001-IUF1-1_3.zip', 'zip one');
      await drop(root, 'C_A001-IUF1-1_3.md5', md5Hex('zip one'));
      const claim = (await a.claim('C_A001-IUF1-1_3.zip'))!;
      const md5Name = `${claim.claimId}.C_A001-IUF1-1_3.md5`;
      expect([claim.expectedMd5, claim.expectedSha256, claim.sidecarProblem]).to.deep.equal([
        md5Hex('zip one'),
        null,
        null,
      ]);
      expect(await names(root, 'in')).to.deep.equal([]);
      expect(await names(root, 'processing')).to.deep.equal([md5Name, claim.claimedName]);
      const restarted = maker()(root, CONTRACT_SETTINGS);
      try {
        const left = await restarted.listProcessing();
        expect(left.map((c) => [c.name, c.expectedMd5, c.sidecarProblem])).to.deep.equal([
          ['C_A001-IUF1-1_3.zip', md5Hex('zip one'), null],
        ]);
        await restarted.finish(left[0]!, 'done');
      } finally {
        await restarted.close();
      }
      expect(await names(root, 'done')).to.deep.equal([md5Name, claim.claimedName]);
      expect(await names(root, 'processing')).to.deep.equal([]);
    });

    it('finds a settled zip with a wrong .md5 invalid, and rejects it with its .md5 beside it', async () => {
      const { root, a } = await make();
      await drop(root, 'C_A001-IUF1-1_3.zip', 'actual zip', OLD_MS);
      await drop(root, 'C_A001-IUF1-1_3.md5', md5Hex('announced zip'), OLD_MS);
      await drop(root, 'fresh-1_3.zip', 'fresh zip');
      await drop(root, 'fresh-1_3.md5', md5Hex('announced zip'));
      const incoming = await a.listIncoming();
      expect(incoming.ready).to.deep.equal([]);
      expect(incoming.invalid.map((f) => [f.name, f.problem])).to.deep.equal([
        ['C_A001-IUF1-1_3.zip', 'SIDECAR_MISMATCH'],
      ]);
      expect(incoming.invalid[0]!.reason).to.include('MD5 mismatch');
      expect(incoming.waiting.map((f) => f.name)).to.deep.equal(['fresh-1_3.zip']);
      const claim = (await a.claim('C_A001-IUF1-1_3.zip'))!;
      expect(claim.expectedMd5).to.equal(md5Hex('announced zip'));
      expect(claim.sidecarProblem).to.include(md5Hex('actual zip'));
      await a.finish(claim, 'rejected', incoming.invalid[0]!.reason);
      const c = claim.claimedName;
      expect(await names(root, 'rejected')).to.deep.equal(
        [c, `${c}.reason.txt`, `${claim.claimId}.C_A001-IUF1-1_3.md5`].sort(),
      );
    });

    it('claims a file and its sidecar into processing/ under a unique name; a second claim gets null', async () => {
      const { root, a, b } = await make();
      const content = 'action;position_id\nI;P1\n';
      await drop(root, 'ENTE_F1_ppay-1.csv', content);
      await drop(root, 'ENTE_F1_ppay-1.csv.sha256', sha256Hex(content));
      const claim = await a.claim('ENTE_F1_ppay-1.csv');
      expect(claim).to.not.equal(null);
      expect(claim!.name).to.equal('ENTE_F1_ppay-1.csv');
      expect(claim!.claimedName).to.equal(`${claim!.claimId}.ENTE_F1_ppay-1.csv`);
      expect(claim!.size).to.equal(Buffer.byteLength(content));
      expect(claim!.sha256).to.equal(sha256Hex(content));
      expect(claim!.expectedSha256).to.equal(sha256Hex(content));
      expect(claim!.sidecarProblem).to.equal(null);
      expect(Math.abs(claim!.claimedAt.getTime() - Date.now())).to.be.below(60_000);
      expect(await text(a.open(claim!))).to.equal(content);
      expect(await names(root, 'in')).to.deep.equal([]);
      expect(await names(root, 'processing')).to.deep.equal([
        claim!.claimedName,
        `${claim!.claimedName}.sha256`,
      ]);
      expect(await b.claim('ENTE_F1_ppay-1.csv')).to.equal(null);
      expect(await a.claim('ENTE_F1_ppay-1.csv')).to.equal(null);
    });

    it('moves a finished claim and its sidecar to done/; finishing it again changes nothing', async () => {
      const { root, a } = await make();
      await drop(root, 'a.csv', 'A');
      await drop(root, 'a.csv.sha256', sha256Hex('A'));
      const claim = (await a.claim('a.csv'))!;
      await a.finish(claim, 'done');
      await a.finish(claim, 'done');
      expect(await names(root, 'done')).to.deep.equal([claim.claimedName, `${claim.claimedName}.sha256`]);
      expect(await names(root, 'processing')).to.deep.equal([]);
      expect(await readFile(path.join(root, 'done', claim.claimedName), 'utf8')).to.equal('A');
    });

    it('keeps both copies when the same name is dropped, claimed and finished twice', async () => {
      const { root, a } = await make();
      await drop(root, 'a.csv', 'first', OLD_MS);
      const first = (await a.claim('a.csv'))!;
      await a.finish(first, 'done');
      await drop(root, 'a.csv', 'second', OLD_MS);
      const second = (await a.claim('a.csv'))!;
      await a.finish(second, 'done');
      expect(first.claimedName).to.not.equal(second.claimedName);
      expect(await names(root, 'done')).to.deep.equal([first.claimedName, second.claimedName].sort());
    });

    it('refuses to finish something that is not a claim of this folder', async () => {
      const { root, a } = await make();
      await drop(root, 'a.csv', 'A', OLD_MS);
      const claim = (await a.claim('a.csv'))!;
      await expectRejection(
        a.finish({ ...claim, claimedName: `${claim.claimId}.other.csv` }, 'done'),
        'INVALID_INPUT',
      );
    });

    it('writes out/ files atomically from a string, a buffer and a stream, replacing older ones', async () => {
      const { root, a } = await make();
      await a.writeOut('a.esito.csv', 'first\n');
      await a.writeOut('a.esito.csv', 'second\n');
      await a.writeOut('b.bin', Buffer.from([0, 1, 2, 255]));
      const lines = Array.from({ length: 10_000 }, (_, i) => `${i};OK\n`);
      await a.writeOut('c.esito.csv', Readable.from(lines));
      expect(await names(root, 'out')).to.deep.equal(['a.esito.csv', 'b.bin', 'c.esito.csv']);
      expect(await readFile(path.join(root, 'out', 'a.esito.csv'), 'utf8')).to.equal('second\n');
      expect([...(await readFile(path.join(root, 'out', 'b.bin')))]).to.deep.equal([0, 1, 2, 255]);
      expect(await readFile(path.join(root, 'out', 'c.esito.csv'), 'utf8')).to.equal(lines.join(''));
    });

    it('lists the claims left in processing/ for a restarted instance, with content and sidecar', async () => {
      const { root, a } = await make();
      await drop(root, 'a.csv', 'A');
      await drop(root, 'a.csv.sha256', sha256Hex('A'));
      await drop(root, 'b.csv', 'B', OLD_MS);
      const claimA = (await a.claim('a.csv'))!;
      const claimB = (await a.claim('b.csv'))!;
      await a.finish(claimB, 'done');
      const restarted = maker()(root, CONTRACT_SETTINGS);
      try {
        const left = await restarted.listProcessing();
        expect(left.map((c) => [c.name, c.claimedName, c.sha256, c.expectedSha256])).to.deep.equal([
          ['a.csv', claimA.claimedName, sha256Hex('A'), sha256Hex('A')],
        ]);
        expect(left[0]!.claimedAt.getTime()).to.equal(claimA.claimedAt.getTime());
        expect(await text(restarted.open(left[0]!))).to.equal('A');
        await restarted.finish(left[0]!, 'done');
        expect(await restarted.listProcessing()).to.deep.equal([]);
      } finally {
        await restarted.close();
      }
    });

    it('gives a claim killed between moving its file and its sidecar the sidecar back on restart', async () => {
      const { root, a } = await make();
      await drop(root, 'k.csv', 'K');
      await drop(root, 'k.csv.sha256', sha256Hex('K'));
      const claim = (await a.claim('k.csv'))!;
      // The kill: the sidecar had not followed its file yet.
      await rename(
        path.join(root, 'processing', `${claim.claimedName}.sha256`),
        path.join(root, 'in', 'k.csv.sha256'),
      );
      const restarted = maker()(root, CONTRACT_SETTINGS);
      try {
        const [recovered] = await restarted.listProcessing();
        expect(recovered?.expectedSha256).to.equal(sha256Hex('K'));
        expect(await names(root, 'in')).to.deep.equal([]);
        await restarted.finish(recovered!, 'done');
        expect(await names(root, 'done')).to.deep.equal([claim.claimedName, `${claim.claimedName}.sha256`]);
      } finally {
        await restarted.close();
      }
    });

    it('refuses names that would leave the drop folder', async () => {
      const { a } = await make();
      await expectRejection(a.claim('../in/a.csv'), 'INVALID_INPUT');
      await expectRejection(a.writeOut('../escape.csv', 'x'), 'INVALID_INPUT');
      await expectRejection(a.writeOut('sub/x.csv', 'x'), 'INVALID_INPUT');
    });

    it('lets two instances racing for the same 20 files take each exactly once', async () => {
      const { root, a, b } = await make();
      const files = Array.from({ length: 20 }, (_, i) => `race-${String(i).padStart(2, '0')}.csv`);
      for (const name of files) await drop(root, name, `content of ${name}`, OLD_MS);
      const takeAll = async (folder: DropFolder) => {
        const ready = (await folder.listIncoming()).ready.map((f) => f.name);
        const claims = await Promise.all(ready.map((name) => folder.claim(name)));
        return claims.filter((c) => c !== null);
      };
      const [byA, byB] = await Promise.all([takeAll(a), takeAll(b)]);
      const taken = [...byA, ...byB].map((c) => c.name).sort();
      expect(taken).to.deep.equal(files);
      for (const claim of [...byA, ...byB]) {
        expect(await readFile(claim.localPath, 'utf8')).to.equal(`content of ${claim.name}`);
      }
      expect(await names(root, 'in')).to.deep.equal([]);
      expect(await names(root, 'processing')).to.have.length(20);
    });
  });
}

describe('drop folders', () => {
  dropFolderContract('LocalDropFolder', () => (root, settings) => new LocalDropFolder({ root, ...settings }));

  it('puts an ente local drop folder under <dataDir>/sftp/<ente fiscal code>', async () => {
    const dataDir = await tempRoot('ppay-data-');
    try {
      const folder = dropFolderForEnte(dataDir, '01234567897');
      await folder.ensureLayout();
      expect(folder.location).to.equal(path.join(dataDir, 'sftp', '01234567897'));
      expect(await names(dataDir, 'sftp/01234567897')).to.deep.equal([
        'done',
        'in',
        'out',
        'processing',
        'rejected',
      ]);
      expect(() => enteFolder(dataDir, '../01234567897')).to.throw();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  describe('with a real OpenSSH sshd', () => {
    let sshd: Sshd;
    let base: string;
    /** The connector's own login on the "remote" server; paths it uses are absolute. */
    let connector: SftpLogin;

    before(async function () {
      sshd = await startSshdOrSkip(this);
      base = await tempRoot('ppay-sftp-');
      connector = await sshd.addLogin(base);
    });

    after(async () => {
      await sshd?.stop();
      if (base) await rm(base, { recursive: true, force: true });
    });

    describe('a gestionale uploading over SFTP into a LocalDropFolder', () => {
      let root: string;
      let gestionale: SftpClient;

      async function open(settings: Partial<CompletionSettings>): Promise<LocalDropFolder> {
        const folder = new LocalDropFolder({ root, ...settings });
        await folder.ensureLayout();
        return folder;
      }

      beforeEach(async () => {
        root = await mkdtemp(path.join(base, 'ente-'));
        await mkdir(path.join(root, 'in'));
        gestionale = await connectAs(await sshd.addLogin(root));
      });

      afterEach(async () => {
        await gestionale?.end();
      });

      it('lands the gestionale in its drop folder', async () => {
        await open({});
        expect(await listRemote(gestionale, '.')).to.deep.equal([
          'done',
          'in',
          'out',
          'processing',
          'rejected',
        ]);
      });

      it('.part then rename: never ready while uploading, ready once renamed and settled', async () => {
        const folder = await open({ settleMs: 500 });
        const content = 'x'.repeat(50_000);
        const upload = startSlowUpload(gestionale, 'in/flow.csv.part');
        await upload.write(content.slice(0, 20_000));
        let incoming = await folder.listIncoming();
        expect(incoming.ready).to.deep.equal([]);
        expect(incoming.waiting.map((f) => f.name)).to.deep.equal(['flow.csv.part']);
        await upload.write(content.slice(20_000));
        await upload.end();
        await new Promise((resolve) => setTimeout(resolve, 700));
        expect((await folder.listIncoming()).ready, 'a settled .part is still an upload').to.deep.equal([]);
        await gestionale.rename('in/flow.csv.part', 'in/flow.csv');
        const ready = await waitFor(async () => {
          incoming = await folder.listIncoming();
          return incoming.ready.find((f) => f.name === 'flow.csv');
        }, 'flow.csv to be ready');
        expect(ready.completion).to.equal('settled');
        const claim = (await folder.claim('flow.csv'))!;
        expect(await readFile(claim.localPath, 'utf8')).to.equal(content);
      });

      it('sidecar first, then the file piece by piece: waiting while partial, ready the moment it is whole', async () => {
        const folder = await open({ settleMs: 60_000 });
        const content = Buffer.alloc(200_000, 'p');
        await gestionale.put(Buffer.from(sha256sumLine('big.csv', content)), 'in/big.csv.sha256');
        const upload = startSlowUpload(gestionale, 'in/big.csv');
        await upload.write(content.subarray(0, 100_000));
        const partial = await folder.listIncoming();
        expect(partial.ready).to.deep.equal([]);
        expect(partial.invalid).to.deep.equal([]);
        expect(partial.waiting.map((f) => f.name)).to.deep.equal(['big.csv']);
        await upload.write(content.subarray(100_000));
        await upload.end();
        const whole = await folder.listIncoming();
        expect(whole.ready.map((f) => [f.name, f.completion, f.sha256])).to.deep.equal([
          ['big.csv', 'sidecar', sha256Hex(content)],
        ]);
      });

      it('file first, then its sidecar: ready as soon as the sidecar arrives', async () => {
        const folder = await open({ settleMs: 60_000 });
        await gestionale.put(Buffer.from('F'), 'in/f.csv');
        expect((await folder.listIncoming()).ready).to.deep.equal([]);
        await gestionale.put(Buffer.from(sha256sumLine('f.csv', 'F')), 'in/f.csv.sha256');
        expect((await folder.listIncoming()).ready.map((f) => f.name)).to.deep.equal(['f.csv']);
      });

      it('never takes a half-uploaded .part, even when the upload stalled for long', async () => {
        const folder = await open({ settleMs: 500 });
        const upload = startSlowUpload(gestionale, 'in/stalled.csv.part');
        await upload.write('half of the rows');
        const then = new Date(Date.now() - OLD_MS);
        await utimes(path.join(root, 'in', 'stalled.csv.part'), then, then);
        const incoming = await folder.listIncoming();
        expect(incoming.ready).to.deep.equal([]);
        expect(await folder.claim('stalled.csv')).to.equal(null);
        await expectRejection(folder.claim('stalled.csv.part'), 'INVALID_INPUT');
        await upload.end();
        expect(await names(root, 'in')).to.deep.equal(['stalled.csv.part']);
      });

      it('rejects a file whose sidecar does not match, and the gestionale sees why in rejected/', async () => {
        const folder = await open({ settleMs: 300 });
        await uploadWithSidecar(gestionale, 'wrong.csv', 'what was sent', {
          sidecar: sha256sumLine('wrong.csv', 'what was meant'),
        });
        const invalid = await waitFor(
          async () => (await folder.listIncoming()).invalid.find((f) => f.name === 'wrong.csv'),
          'wrong.csv to be found invalid',
        );
        expect(invalid.problem).to.equal('SIDECAR_MISMATCH');
        const claim = (await folder.claim('wrong.csv'))!;
        await folder.finish(claim, 'rejected', invalid.reason);
        const seen = await listRemote(gestionale, 'rejected');
        expect(seen).to.include(`${claim.claimedName}.reason.txt`);
        const reason = (await gestionale.get(`rejected/${claim.claimedName}.reason.txt`)) as Buffer;
        expect(reason.toString()).to.include(sha256Hex('what was sent'));
        expect((await folder.listIncoming()).invalid).to.deep.equal([]);
      });

      it('hands outcome files in out/ back to the gestionale over SFTP', async () => {
        const folder = await open({ settleMs: 200 });
        await uploadWithRename(gestionale, 'ENTE_F1_ppay-1.csv', 'I;P1\nI;P2\n');
        await waitFor(async () => (await folder.listIncoming()).ready[0], 'the upload to be ready');
        const claim = (await folder.claim('ENTE_F1_ppay-1.csv'))!;
        const outcome = 'row_no;position_id;outcome\n1;P1;OK\n2;P2;OK\n';
        await folder.writeOut('ENTE_F1_ppay-1.esito.csv', outcome);
        await folder.finish(claim, 'done');
        expect(await listRemote(gestionale, 'out')).to.deep.equal(['ENTE_F1_ppay-1.esito.csv']);
        expect((await downloadOut(gestionale, 'ENTE_F1_ppay-1.esito.csv')).toString()).to.equal(outcome);
        expect(await listRemote(gestionale, 'done')).to.deep.equal([claim.claimedName]);
      });
    });

    dropFolderContract(
      'RemoteSftpDropFolder',
      () => (root, settings) =>
        new RemoteSftpDropFolder({
          connection: connector,
          root,
          workDir: path.join(root, 'work'),
          ...settings,
        }),
    );

    describe('RemoteSftpDropFolder with a gestionale on the same server', () => {
      let root: string;

      beforeEach(async () => {
        root = await mkdtemp(path.join(base, 'remote-'));
      });

      it('pulls a gestionale upload into a working copy and pushes the outcome back', async () => {
        const workDir = await mkdtemp(path.join(base, 'work-'));
        const folder = new RemoteSftpDropFolder({ connection: connector, root, workDir, settleMs: 60_000 });
        await folder.ensureLayout();
        const gestionale = await connectAs(await sshd.addLogin(root));
        try {
          const content = 'I;P1\n';
          await uploadWithSidecar(gestionale, 'remote.csv', content);
          const incoming = await folder.listIncoming();
          expect(incoming.ready.map((f) => [f.name, f.completion])).to.deep.equal([
            ['remote.csv', 'sidecar'],
          ]);
          const claim = (await folder.claim('remote.csv'))!;
          expect(path.dirname(claim.localPath)).to.equal(workDir);
          expect(await readFile(claim.localPath, 'utf8')).to.equal(content);
          expect(await listRemote(gestionale, 'processing')).to.deep.equal([
            claim.claimedName,
            `${claim.claimedName}.sha256`,
          ]);
          await folder.writeOut('remote.esito.csv', '1;P1;OK\n');
          await folder.finish(claim, 'done');
          expect((await downloadOut(gestionale, 'remote.esito.csv')).toString()).to.equal('1;P1;OK\n');
          expect(await listRemote(gestionale, 'done')).to.deep.equal([
            claim.claimedName,
            `${claim.claimedName}.sha256`,
          ]);
          expect(await readdir(workDir), 'the working copy is removed once finished').to.deep.equal([]);
        } finally {
          await gestionale.end();
          await folder.close();
        }
      });

      it('refuses a server whose host key is not the pinned one', async () => {
        const wrong = createHash('sha256').update('another host').digest('base64').replace(/=+$/, '');
        const folder = new RemoteSftpDropFolder({
          connection: { ...connector, hostFingerprint: `SHA256:${wrong}` },
          root,
          workDir: path.join(root, 'work'),
        });
        try {
          const failure = await folder.listIncoming().then(
            () => null,
            (err: unknown) => err as Error,
          );
          expect(failure, 'the connection must fail').to.be.instanceOf(Error);
          expect(failure?.message).to.match(/host|verif/i);
        } finally {
          await folder.close();
        }
      });
    });
  });
});

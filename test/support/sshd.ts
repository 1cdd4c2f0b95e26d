// A real OpenSSH sshd for tests (DESIGN §8): /usr/sbin/sshd on a free loopback port, run as the
// current user from a temporary folder (its config, a generated host key, an authorized_keys file),
// public-key logins only, each key forced into `internal-sftp -d <its folder>` so a gestionale lands
// in its drop folder. When sshd is missing or cannot start, startSshdOrSkip() warns and skips.
//
// sshd can only log in the user it runs as, so every login is the current OS user with its own key;
// running as root it needs /run/sshd (created here when missing, as Debian's service unit does);
// running as another user it needs an account that is not locked (`!` in /etc/shadow).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import SftpClient from 'ssh2-sftp-client';
import { hostKeyFingerprint } from '../../src/batch/dropFolder/remoteSftp.ts';

/** sshd must be run by its absolute path; PPAY_TEST_SSHD points elsewhere (or at nothing, to see the skip). */
export const SSHD_PATH = process.env.PPAY_TEST_SSHD ?? '/usr/sbin/sshd';
const SSH_KEYGEN = 'ssh-keygen';
const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;

/** sshd cannot be used on this machine; the message says why. */
export class SshdUnavailable extends Error {
  override readonly name = 'SshdUnavailable';
}

/** What an SFTP client needs to log in (and what RemoteSftpDropFolder's connection takes). */
export interface SftpLogin {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  hostFingerprint: string;
  /** The absolute folder every session of this key starts in. */
  folder: string;
}

export interface Sshd {
  readonly host: string;
  readonly port: number;
  /** The OS user sshd runs as: the only user it can log in. */
  readonly username: string;
  /** `SHA256:…` of the generated host key. */
  readonly hostFingerprint: string;
  /** A new key pair allowed to log in; its sessions are forced into internal-sftp starting in `folder`. */
  addLogin(folder: string): Promise<SftpLogin>;
  /** Everything sshd logged so far (it runs with -e). */
  log(): string;
  stop(): Promise<void>;
}

/** Why sshd cannot even be tried here (binary or ssh-keygen missing); null when it can. */
export function sshdProblem(): string | null {
  if (!existsSync(SSHD_PATH)) return `${SSHD_PATH} is not installed (apt-get install openssh-server)`;
  if (spawnSync(SSH_KEYGEN, ['-?'], { stdio: 'ignore' }).error) return `${SSH_KEYGEN} is not on the PATH`;
  return null;
}

function keygen(file: string): void {
  const run = spawnSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'ppay-test', '-f', file], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new SshdUnavailable(`ssh-keygen failed: ${run.stderr || run.error?.message}`);
}

async function fingerprintOfPublicKey(publicKeyFile: string): Promise<string> {
  const [, blob] = (await readFile(publicKeyFile, 'utf8')).trim().split(/\s+/);
  return hostKeyFingerprint(Buffer.from(blob ?? '', 'base64'));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * OpenSSH 9.8 and later penalise addresses whose connections fail to log in, and every test client
 * comes from 127.0.0.1; older versions do not know the option and refuse the whole config.
 */
function penaltiesOffLine(configFile: string): string[] {
  const check = spawnSync(SSHD_PATH, ['-t', '-f', configFile, '-o', 'PerSourcePenalties=no'], {
    encoding: 'utf8',
  });
  return check.status === 0 ? ['PerSourcePenalties no'] : [];
}

function configText(dir: string, port: number, username: string, extra: string[] = []): string {
  return [
    ...extra,
    `Port ${port}`,
    `ListenAddress ${HOST}`,
    `HostKey ${path.join(dir, 'host_key')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    `AllowUsers ${username}`,
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UseDNS no',
    'PrintMotd no',
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/** Root's sshd insists on its privilege separation folder. */
function ensurePrivsepFolder(): void {
  if (process.getuid?.() !== 0 || existsSync('/run/sshd')) return;
  try {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new SshdUnavailable(`cannot create /run/sshd: ${(err as Error).message}`);
  }
}

interface Running {
  child: ChildProcess;
  log: () => string;
}

/** Spawns sshd -D -e and resolves once it prints that it listens; rejects with its log otherwise. */
function spawnSshd(configFile: string, port: number): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(SSHD_PATH, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    const log = () => output;
    const fail = (why: string) => {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      reject(new SshdUnavailable(`sshd did not start: ${why}\n${output}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    child.stderr?.on('data', (data: Buffer) => {
      output += data.toString();
      if (output.includes(`Server listening on ${HOST} port ${port}`)) {
        clearTimeout(timer);
        resolve({ child, log });
      }
    });
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal})`));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Starts sshd; throws SshdUnavailable when it cannot run here (and nothing else). */
export async function startSshd(): Promise<Sshd> {
  const problem = sshdProblem();
  if (problem) throw new SshdUnavailable(problem);
  ensurePrivsepFolder();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ppay-sshd-'));
  const username = os.userInfo().username;
  const configFile = path.join(dir, 'sshd_config');
  const authorizedKeys = path.join(dir, 'authorized_keys');
  let running: Running | undefined;
  let port = 0;
  try {
    keygen(path.join(dir, 'host_key'));
    await writeFile(authorizedKeys, '', { mode: 0o600 });
    const hostFingerprint = await fingerprintOfPublicKey(path.join(dir, 'host_key.pub'));
    await writeFile(configFile, configText(dir, 22, username));
    const extra = penaltiesOffLine(configFile);
    // The free port can be taken between the probe and sshd's bind: try again a couple of times.
    for (let attempt = 1; !running; attempt++) {
      port = await freePort();
      await writeFile(configFile, configText(dir, port, username, extra));
      try {
        running = await spawnSshd(configFile, port);
      } catch (err) {
        if (attempt >= 3 || !/Address already in use/.test((err as Error).message)) throw err;
      }
    }
    const { child, log } = running;
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    let keys = 0;
    const sshd: Sshd = {
      host: HOST,
      port,
      username,
      hostFingerprint,
      log,
      async addLogin(folder: string): Promise<SftpLogin> {
        const absolute = path.resolve(folder);
        if (/[\s"\\]/.test(absolute))
          throw new Error(`an sftp folder cannot contain spaces or quotes: ${absolute}`);
        const keyFile = path.join(dir, `client_key_${++keys}`);
        keygen(keyFile);
        const publicKey = (await readFile(`${keyFile}.pub`, 'utf8')).trim();
        await appendFile(authorizedKeys, `restrict,command="internal-sftp -d ${absolute}" ${publicKey}\n`);
        const privateKey = await readFile(keyFile, 'utf8');
        return { host: HOST, port, username, privateKey, hostFingerprint, folder: absolute };
      },
      async stop(): Promise<void> {
        process.removeListener('exit', killOnExit);
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
    await probeLogin(sshd, dir);
    return sshd;
  } catch (err) {
    if (running) await stopChild(running.child);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** One real login, so that an sshd which starts but refuses this user (a locked account) is caught. */
async function probeLogin(sshd: Sshd, dir: string): Promise<void> {
  const login = await sshd.addLogin(dir);
  try {
    const client = await connectAs(login);
    await client.end();
  } catch (err) {
    await sshd.stop();
    throw new SshdUnavailable(
      `sshd runs but refuses ${sshd.username}: ${(err as Error).message}\n${sshd.log()}`,
    );
  }
}

/**
 * For a mocha before() hook: the running sshd, or a loud warning and a skip of the whole suite when
 * it cannot run here. Any other failure fails the suite.
 */
export async function startSshdOrSkip(context: Mocha.Context): Promise<Sshd> {
  try {
    return await startSshd();
  } catch (err) {
    if (!(err instanceof SshdUnavailable)) throw err;
    console.warn(
      `\n  !!! SKIPPED "${context.test?.parent?.fullTitle() ?? 'suite'}": a real OpenSSH sshd is needed ` +
        `and cannot run here.\n  !!! ${err.message.split('\n').join('\n  !!! ')}\n`,
    );
    context.skip();
  }
}

// ---- the gestionale's side: an SFTP client as a gestionale's scripts would use one ----

export async function connectAs(login: SftpLogin): Promise<SftpClient> {
  const client = new SftpClient('test-gestionale');
  await client.connect({
    host: login.host,
    port: login.port,
    username: login.username,
    privateKey: login.privateKey,
    hostVerifier: (key: Buffer) => hostKeyFingerprint(key) === login.hostFingerprint,
  });
  return client;
}

export function sha256Hex(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** A `.sha256` sidecar as `sha256sum` prints it: `<hex>  <name>`. */
export function sha256sumLine(name: string, content: string | Buffer): string {
  return `${sha256Hex(content)}  ${name}\n`;
}

/** Uploads in/<name> with the rename convention: the content goes to in/<name>.part, renamed at the end. */
export async function uploadWithRename(
  client: SftpClient,
  name: string,
  content: string | Buffer,
): Promise<void> {
  await client.put(Buffer.from(content), `in/${name}.part`);
  await client.rename(`in/${name}.part`, `in/${name}`);
}

/**
 * Uploads in/<name> with a `.sha256` sidecar (`sidecar` overrides its text, e.g. a wrong digest);
 * by default the sidecar goes first, so the file can never be taken before it is whole.
 */
export async function uploadWithSidecar(
  client: SftpClient,
  name: string,
  content: string | Buffer,
  options: { sidecar?: string; order?: 'sidecar-first' | 'file-first' } = {},
): Promise<void> {
  const sidecar = options.sidecar ?? sha256sumLine(name, content);
  const putFile = () => client.put(Buffer.from(content), `in/${name}`);
  const putSidecar = () => client.put(Buffer.from(sidecar), `in/${name}.sha256`);
  if (options.order === 'file-first') {
    await putFile();
    await putSidecar();
  } else {
    await putSidecar();
    await putFile();
  }
}

/** A remote file written piece by piece; each write resolves once the server has stored it. */
export interface SlowUpload {
  write(chunk: string | Buffer): Promise<void>;
  end(): Promise<void>;
}

export function startSlowUpload(client: SftpClient, remotePath: string): SlowUpload {
  const stream = client.createWriteStream(remotePath);
  const closed = new Promise<void>((resolve, reject) => {
    stream.once('close', () => resolve());
    stream.once('error', reject);
  });
  return {
    write: (chunk) =>
      new Promise<void>((resolve, reject) => stream.write(chunk, (err) => (err ? reject(err) : resolve()))),
    end: async () => {
      stream.end();
      await closed;
    },
  };
}

/** Downloads out/<name> as the gestionale picks up its outcome files. */
export async function downloadOut(client: SftpClient, name: string): Promise<Buffer> {
  return (await client.get(`out/${name}`)) as Buffer;
}

export async function listRemote(client: SftpClient, folder: string): Promise<string[]> {
  return (await client.list(folder)).map((info) => info.name).sort();
}

// A drop folder on a remote SFTP server (DESIGN §8), pulled and pushed with ssh2-sftp-client: the
// same in/ processing/ done/ rejected/ out/ layout under `root` on the server. A claim is a remote
// rename (OpenSSH's posix-rename, else plain SFTP rename, both atomic for one winner) followed by a
// download into a local working copy; out/ files are uploaded as `.part` and renamed.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import SftpClient from 'ssh2-sftp-client';
import { domainError } from '../../domain/errors.ts';
import {
  claimOf,
  DigestCache,
  sortIncoming,
  type DigestAlgorithm,
  type InEntry,
  type IncomingReader,
} from './completion.ts';
import {
  digestOfFile,
  inBatches,
  isNotFound,
  removeIfPresent,
  sha256OfFile,
  writeFileAtomically,
} from './localFiles.ts';
import {
  assertInputName,
  assertPlainName,
  claimedNameOf,
  md5SidecarNameOf,
  newClaimId,
  parseClaimedName,
  partNameOf,
  reasonNameOf,
  sidecarNameOf,
  sidecarPairs,
} from './names.ts';
import {
  DEFAULT_COMPLETION,
  DROP_FOLDER_DIRS,
  type Claim,
  type ClaimOutcome,
  type CompletionSettings,
  type DropFolder,
  type DropFolderDir,
  type Incoming,
} from './port.ts';

export interface SftpConnection {
  host: string;
  port: number;
  username: string;
  privateKey?: string | Buffer;
  passphrase?: string;
  password?: string;
  /** The server's host key as `ssh-keygen -l` prints it (`SHA256:<base64>`); any other key is refused. */
  hostFingerprint: string;
  readyTimeoutMs?: number;
}

export interface RemoteSftpDropFolderOptions extends Partial<CompletionSettings> {
  connection: SftpConnection;
  /** The remote folder holding in/ processing/ done/ rejected/ out/ (absolute, or from the login folder). */
  root: string;
  /** A local folder for the working copies of claimed files (e.g. the ente's local processing/). */
  workDir: string;
}

/** `SHA256:<base64 without padding>` of a raw host key, as OpenSSH prints fingerprints. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function isRemoteNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 2 || code === 'ENOENT';
}

function isUnsupportedExtension(err: unknown): boolean {
  return /does not support/i.test((err as Error | null)?.message ?? '');
}

export class RemoteSftpDropFolder implements DropFolder {
  readonly location: string;
  private readonly options: RemoteSftpDropFolderOptions;
  private readonly settings: CompletionSettings;
  private readonly digests = new DigestCache();
  private client: SftpClient | null = null;
  private connecting: Promise<SftpClient> | null = null;
  /** One operation at a time on the connection: ssh2-sftp-client's event handling is per call. */
  private queue: Promise<unknown> = Promise.resolve();
  private posixRenameSupported = true;

  constructor(options: RemoteSftpDropFolderOptions) {
    const { username, host, port } = options.connection;
    this.options = { ...options, workDir: path.resolve(options.workDir) };
    this.location = `sftp://${username}@${host}:${port}${options.root.startsWith('/') ? '' : '/'}${options.root}`;
    this.settings = {
      settleMs: options.settleMs ?? DEFAULT_COMPLETION.settleMs,
      requireSidecar: options.requireSidecar ?? DEFAULT_COMPLETION.requireSidecar,
    };
  }

  private remote(dir: DropFolderDir, name?: string): string {
    return name === undefined
      ? path.posix.join(this.options.root, dir)
      : path.posix.join(this.options.root, dir, name);
  }

  private workingCopy(claimedName: string): string {
    return path.join(this.options.workDir, claimedName);
  }

  private run<T>(operation: (client: SftpClient) => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => operation(await this.connected()));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async connected(): Promise<SftpClient> {
    if (this.client) return this.client;
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connect(): Promise<SftpClient> {
    const { connection } = this.options;
    const forget = () => {
      if (this.client === client) this.client = null;
    };
    const client = new SftpClient('ppay-drop-folder', { error: forget, end: forget, close: forget });
    await client.connect({
      host: connection.host,
      port: connection.port,
      username: connection.username,
      privateKey: connection.privateKey,
      passphrase: connection.passphrase,
      password: connection.password,
      readyTimeout: connection.readyTimeoutMs ?? 20_000,
      hostVerifier: (key: Buffer) => hostKeyFingerprint(key) === connection.hostFingerprint,
    });
    this.client = client;
    return client;
  }

  async ensureLayout(): Promise<void> {
    await mkdir(this.options.workDir, { recursive: true });
    await this.run(async (client) => {
      for (const dir of DROP_FOLDER_DIRS) {
        if (!(await client.exists(this.remote(dir)))) await client.mkdir(this.remote(dir), true);
      }
    });
  }

  listIncoming(): Promise<Incoming> {
    return this.run(async (client) => {
      const entries: InEntry[] = (await client.list(this.remote('in'))).map((info) => ({
        name: info.name,
        size: info.size,
        modifiedMs: info.modifyTime,
        regular: info.type === '-',
      }));
      this.digests.keepOnly(entries);
      return sortIncoming(entries, this.reader(client), this.settings, Date.now());
    });
  }

  private reader(client: SftpClient): IncomingReader {
    return {
      digest: async (entry, algorithm) => {
        const cached = this.digests.get(entry, algorithm);
        if (cached) return cached;
        const digest = await this.remoteDigest(client, this.remote('in', entry.name), algorithm);
        if (digest) this.digests.set(entry, algorithm, digest);
        return digest;
      },
      readSidecar: (entry) => this.remoteText(client, this.remote('in', entry.name)),
    };
  }

  /** The digest of a remote file read as a stream; null when it vanished. */
  private async remoteDigest(
    client: SftpClient,
    remotePath: string,
    algorithm: DigestAlgorithm,
  ): Promise<string | null> {
    const hash = createHash(algorithm);
    const source = client.createReadStream(remotePath);
    const closed = untilClosed(source);
    source.on('data', (chunk: Buffer) => hash.update(chunk));
    try {
      await closed;
    } catch (err) {
      if (isRemoteNotFound(err)) return null;
      throw err;
    }
    return hash.digest('hex');
  }

  /** Downloads a remote file into a local one, atomically. */
  private async download(client: SftpClient, remotePath: string, localPath: string): Promise<void> {
    const source = client.createReadStream(remotePath);
    const writing = writeFileAtomically(localPath, source).catch((err: unknown) => {
      source.destroy(); // a local failure before the stream was read would otherwise leave it open
      throw err;
    });
    const [written, closed] = await Promise.allSettled([writing, untilClosed(source)]);
    if (written.status === 'rejected') throw written.reason;
    if (closed.status === 'rejected') throw closed.reason;
  }

  /** A remote file's text (a sidecar: the listing reads only small ones); null when it does not exist. */
  private async remoteText(client: SftpClient, remotePath: string): Promise<string | null> {
    try {
      return ((await client.get(remotePath)) as Buffer).toString('utf8');
    } catch (err) {
      if (isRemoteNotFound(err)) return null;
      throw err;
    }
  }

  /** Renames on the server; with `overwrite`, an existing target is replaced. */
  private async rename(client: SftpClient, from: string, to: string, overwrite: boolean): Promise<void> {
    if (this.posixRenameSupported) {
      try {
        await client.posixRename(from, to);
        return;
      } catch (err) {
        if (!isUnsupportedExtension(err)) throw err;
        this.posixRenameSupported = false;
      }
    }
    // Plain SFTP rename refuses an existing target; out/ files are replaced on purpose.
    if (overwrite) await client.delete(to, true);
    await client.rename(from, to);
  }

  /** Renames when `from` exists; false when it does not (another instance took it first). */
  private async renameIfPresent(client: SftpClient, from: string, to: string): Promise<boolean> {
    try {
      await this.rename(client, from, to, false);
      return true;
    } catch (err) {
      if (!(await client.exists(from))) return false;
      throw err;
    }
  }

  async claim(name: string): Promise<Claim | null> {
    assertInputName(name);
    return this.run(async (client) => {
      const claimedName = claimedNameOf(newClaimId(new Date()), name);
      const taken = await this.renameIfPresent(
        client,
        this.remote('in', name),
        this.remote('processing', claimedName),
      );
      if (!taken) return null;
      for (const [from, to] of sidecarPairs(name, claimedName)) {
        await this.renameIfPresent(client, this.remote('in', from), this.remote('processing', to));
      }
      return this.describe(client, claimedName);
    });
  }

  /** The claim of a data file in the remote processing/, downloaded unless a full working copy exists. */
  private async describe(client: SftpClient, claimedName: string): Promise<Claim> {
    const parsed = parseClaimedName(claimedName);
    if (!parsed) throw domainError('INVALID_INPUT', 'not a claimed file name', { claimedName });
    await this.adoptSidecars(client, parsed.name, claimedName);
    const remotePath = this.remote('processing', claimedName);
    const localPath = this.workingCopy(claimedName);
    const remoteSize = (await client.stat(remotePath)).size;
    if ((await localSize(localPath)) !== remoteSize) {
      await mkdir(this.options.workDir, { recursive: true });
      await this.download(client, remotePath, localPath);
    }
    const size = (await stat(localPath)).size;
    const sha256 = await sha256OfFile(localPath);
    const sidecarText = await this.remoteText(client, this.remote('processing', sidecarNameOf(claimedName)));
    const md5Name = md5SidecarNameOf(claimedName);
    const md5Text =
      md5Name === null ? null : await this.remoteText(client, this.remote('processing', md5Name));
    const md5Sidecar = md5Text === null ? null : { text: md5Text, md5: await digestOfFile(localPath, 'md5') };
    return claimOf(parsed, claimedName, { localPath, size, sha256 }, sidecarText, md5Sidecar);
  }

  /**
   * A claimer killed between moving the file and moving its sidecars left them in in/: they follow
   * their file. Not while in/ holds a new drop of the same name, which owns them.
   */
  private async adoptSidecars(client: SftpClient, name: string, claimedName: string): Promise<void> {
    if (await client.exists(this.remote('in', name))) return;
    for (const [from, to] of sidecarPairs(name, claimedName)) {
      if (!(await client.exists(this.remote('processing', to)))) {
        await this.renameIfPresent(client, this.remote('in', from), this.remote('processing', to));
      }
    }
  }

  open(claim: Claim): Readable {
    return createReadStream(claim.localPath);
  }

  async finish(claim: Claim, outcome: ClaimOutcome, reason?: string): Promise<void> {
    const { claimedName } = claim;
    return this.run(async (client) => {
      const processing = this.remote('processing', claimedName);
      const target = this.remote(outcome, claimedName);
      if (!(await client.exists(processing))) {
        if (!(await client.exists(target))) {
          throw domainError('INVALID_INPUT', 'the claim is not in processing/', { claimedName, outcome });
        }
      } else {
        // The data file moves last: while it is in processing/ the claim counts as unfinished.
        if (reason !== undefined) {
          await this.upload(client, Buffer.from(`${reason}\n`), outcome, reasonNameOf(claimedName));
        }
        for (const [sidecar] of sidecarPairs(claimedName, claimedName)) {
          await this.renameIfPresent(
            client,
            this.remote('processing', sidecar),
            this.remote(outcome, sidecar),
          );
        }
        await this.renameIfPresent(client, processing, target);
      }
      await removeIfPresent(this.workingCopy(claimedName));
    });
  }

  /** Uploads to `<dir>/<name>` as a `.part` file renamed over the target at the end. */
  private async upload(client: SftpClient, content: Buffer | Readable, dir: DropFolderDir, name: string) {
    const part = this.remote(dir, partNameOf(name));
    try {
      await client.put(content, part);
    } catch (err) {
      await client.delete(part, true).catch(() => undefined);
      throw err;
    }
    await this.rename(client, part, this.remote(dir, name), true);
  }

  async writeOut(name: string, content: string | Buffer | Readable): Promise<void> {
    assertPlainName(name);
    const body =
      typeof content === 'string'
        ? Buffer.from(content, 'utf8')
        : Buffer.isBuffer(content)
          ? content
          : Readable.from(inBatches(content));
    return this.run((client) => this.upload(client, body, 'out', name));
  }

  putIn(name: string, content: Buffer | Readable): Promise<boolean> {
    assertInputName(name);
    const body = Buffer.isBuffer(content) ? content : Readable.from(inBatches(content));
    return this.run(async (client) => {
      if (await client.exists(this.remote('in', name))) return false;
      await this.upload(client, body, 'in', name);
      return true;
    });
  }

  listProcessing(): Promise<Claim[]> {
    return this.run(async (client) => {
      const names = (await client.list(this.remote('processing')))
        .filter((info) => info.type === '-' && parseClaimedName(info.name) !== null)
        .map((info) => info.name)
        .sort();
      const claims: Claim[] = [];
      for (const claimedName of names) {
        try {
          claims.push(await this.describe(client, claimedName));
        } catch (err) {
          // Finished meanwhile by another instance: skip it; any other failure stands.
          if (await client.exists(this.remote('processing', claimedName))) throw err;
        }
      }
      return claims;
    });
  }

  async close(): Promise<void> {
    await this.queue;
    const client = this.client;
    this.client = null;
    if (client) await client.end();
  }
}

/**
 * Settles once a remote stream has closed its handle: its 'end' comes before the SFTP close request
 * is answered, and a connection ended in between would raise an error nobody listens to.
 */
function untilClosed(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: unknown = null;
    stream.on('error', (err: unknown) => (failure ??= err));
    stream.once('close', () => (failure === null ? resolve() : reject(failure)));
  });
}

async function localSize(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

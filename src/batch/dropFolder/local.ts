// The default drop folder: local folders (`<dataDir>/sftp/<ente fiscal code>/in|processing|done|
// rejected|out`, DESIGN §10) that the gestionale reaches through a real SSH server. Claims are
// rename(2) calls within one file system, so of two instances racing for a file exactly one wins.

import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { domainError } from '../../domain/errors.ts';
import { claimOf, DigestCache, sortIncoming, type InEntry, type IncomingReader } from './completion.ts';
import {
  digestOfFile,
  existsFile,
  isNotFound,
  readTextIfPresent,
  renameIfPresent,
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

export interface LocalDropFolderOptions extends Partial<CompletionSettings> {
  /** The ente's folder, holding in/ processing/ done/ rejected/ out/. */
  root: string;
}

/** One entry of a folder with its size and modification time; null when it vanished meanwhile. */
async function entryOf(folder: string, name: string): Promise<InEntry | null> {
  try {
    const stats = await lstat(path.join(folder, name));
    return { name, size: stats.size, modifiedMs: stats.mtimeMs, regular: stats.isFile() };
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export class LocalDropFolder implements DropFolder {
  readonly location: string;
  private readonly root: string;
  private readonly settings: CompletionSettings;
  private readonly digests = new DigestCache();

  constructor(options: LocalDropFolderOptions) {
    this.root = path.resolve(options.root);
    this.location = this.root;
    this.settings = {
      settleMs: options.settleMs ?? DEFAULT_COMPLETION.settleMs,
      requireSidecar: options.requireSidecar ?? DEFAULT_COMPLETION.requireSidecar,
    };
  }

  /** The absolute path of a folder of the layout, or of a file in it. */
  pathOf(dir: DropFolderDir, name?: string): string {
    return name === undefined ? path.join(this.root, dir) : path.join(this.root, dir, name);
  }

  async ensureLayout(): Promise<void> {
    for (const dir of DROP_FOLDER_DIRS) await mkdir(this.pathOf(dir), { recursive: true });
  }

  async listIncoming(): Promise<Incoming> {
    const folder = this.pathOf('in');
    const entries: InEntry[] = [];
    for (const name of await readdir(folder)) {
      const entry = await entryOf(folder, name);
      if (entry) entries.push(entry);
    }
    this.digests.keepOnly(entries);
    return sortIncoming(entries, this.reader(), this.settings, Date.now());
  }

  private reader(): IncomingReader {
    const folder = this.pathOf('in');
    return {
      digest: async (entry, algorithm) => {
        const cached = this.digests.get(entry, algorithm);
        if (cached) return cached;
        try {
          const digest = await digestOfFile(path.join(folder, entry.name), algorithm);
          this.digests.set(entry, algorithm, digest);
          return digest;
        } catch (err) {
          if (isNotFound(err)) return null;
          throw err;
        }
      },
      readSidecar: (entry) => readTextIfPresent(path.join(folder, entry.name)),
    };
  }

  async claim(name: string): Promise<Claim | null> {
    assertInputName(name);
    const claimedName = claimedNameOf(newClaimId(new Date()), name);
    const taken = await renameIfPresent(this.pathOf('in', name), this.pathOf('processing', claimedName));
    if (!taken) return null;
    // Only the winner of the file moves its sidecars, so the sidecars cannot race.
    for (const [from, to] of sidecarPairs(name, claimedName)) {
      await renameIfPresent(this.pathOf('in', from), this.pathOf('processing', to));
    }
    return this.describe(claimedName);
  }

  /** The claim of a data file in processing/, its digest computed from the content. */
  private async describe(claimedName: string): Promise<Claim> {
    const parsed = parseClaimedName(claimedName);
    if (!parsed) throw domainError('INVALID_INPUT', 'not a claimed file name', { claimedName });
    await this.adoptSidecars(parsed.name, claimedName);
    const localPath = this.pathOf('processing', claimedName);
    const size = (await lstat(localPath)).size;
    const sha256 = await sha256OfFile(localPath);
    const sidecarText = await readTextIfPresent(this.pathOf('processing', sidecarNameOf(claimedName)));
    const md5Name = md5SidecarNameOf(claimedName);
    const md5Text = md5Name === null ? null : await readTextIfPresent(this.pathOf('processing', md5Name));
    const md5Sidecar = md5Text === null ? null : { text: md5Text, md5: await digestOfFile(localPath, 'md5') };
    return claimOf(parsed, claimedName, { localPath, size, sha256 }, sidecarText, md5Sidecar);
  }

  /**
   * A claimer killed between moving the file and moving its sidecars left them in in/: they follow
   * their file. Not while in/ holds a new drop of the same name, which owns them.
   */
  private async adoptSidecars(name: string, claimedName: string): Promise<void> {
    if (await existsFile(this.pathOf('in', name))) return;
    for (const [from, to] of sidecarPairs(name, claimedName)) {
      if (!(await existsFile(this.pathOf('processing', to)))) {
        await renameIfPresent(this.pathOf('in', from), this.pathOf('processing', to));
      }
    }
  }

  open(claim: Claim): Readable {
    return createReadStream(claim.localPath);
  }

  async finish(claim: Claim, outcome: ClaimOutcome, reason?: string): Promise<void> {
    const { claimedName } = claim;
    const processing = this.pathOf('processing', claimedName);
    const target = this.pathOf(outcome, claimedName);
    if (!(await existsFile(processing))) {
      if (await existsFile(target)) return;
      throw domainError('INVALID_INPUT', 'the claim is not in processing/', { claimedName, outcome });
    }
    // The data file moves last: while it is in processing/ the claim counts as unfinished.
    if (reason !== undefined)
      await writeFileAtomically(this.pathOf(outcome, reasonNameOf(claimedName)), `${reason}\n`);
    for (const [sidecar] of sidecarPairs(claimedName, claimedName)) {
      await renameIfPresent(this.pathOf('processing', sidecar), this.pathOf(outcome, sidecar));
    }
    await renameIfPresent(processing, target);
  }

  async writeOut(name: string, content: string | Buffer | Readable): Promise<void> {
    assertPlainName(name);
    await writeFileAtomically(this.pathOf('out', name), content);
  }

  async putIn(name: string, content: Buffer | Readable): Promise<boolean> {
    assertInputName(name);
    const target = this.pathOf('in', name);
    if (await existsFile(target)) return false;
    await writeFileAtomically(target, content);
    return true;
  }

  async listProcessing(): Promise<Claim[]> {
    const claims: Claim[] = [];
    for (const name of (await readdir(this.pathOf('processing'))).sort()) {
      if (!parseClaimedName(name)) continue;
      try {
        claims.push(await this.describe(name));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return claims;
  }

  async close(): Promise<void> {}
}

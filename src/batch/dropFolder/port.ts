// The drop folder port (DESIGN §8): one ente's exchange folder with a gestionale, laid out as
// in/ (the gestionale drops), processing/ (claimed), done/, rejected/, out/ (outcomes, exports).
// Implemented by LocalDropFolder (the default, written by a real SSH server) and RemoteSftpDropFolder.
// Completion rules are in completion.ts; claim and file names in names.ts.

import type { Readable } from 'node:stream';

export const DROP_FOLDER_DIRS = ['in', 'processing', 'done', 'rejected', 'out'] as const;
export type DropFolderDir = (typeof DROP_FOLDER_DIRS)[number];

/** Where a finished claim goes. */
export type ClaimOutcome = 'done' | 'rejected';

/** How a file in in/ was found complete. */
export type Completion = 'sidecar' | 'settled';

/** A complete file in in/, ready to be claimed. */
export interface ReadyFile {
  /** The name the gestionale gave it. */
  name: string;
  size: number;
  modifiedAt: Date;
  /**
   * `sidecar`: its `.sha256` sidecar (or, for `<base>.zip`, MyPay's `<base>.md5`) matched; `settled`:
   * no sidecar, unchanged for the settle time.
   */
  completion: Completion;
  /** The verified SHA-256 (lower-case hex) when a `.sha256` sidecar matched; null otherwise. */
  sha256: string | null;
}

export type InvalidFileProblem = 'SIDECAR_MISMATCH' | 'SIDECAR_UNREADABLE';

/**
 * A file in in/ that will never become valid as it is (its sidecar is settled and does not match):
 * the caller claims it and finishes it as `rejected` with `reason`, so it is not retried forever.
 */
export interface InvalidFile {
  name: string;
  problem: InvalidFileProblem;
  reason: string;
}

/** Something in in/ that is not (yet) a complete input: an upload in progress, an awaited sidecar. */
export interface WaitingFile {
  name: string;
  reason: string;
}

export interface Incoming {
  ready: ReadyFile[];
  invalid: InvalidFile[];
  waiting: WaitingFile[];
}

/** A file this instance took out of in/ by an atomic rename into processing/. */
export interface Claim {
  /** The name the gestionale gave the file in in/ (what format detection and file-name rules read). */
  readonly name: string;
  /** `<claimId>.<name>`: the file's name in processing/, then done/ or rejected/. Unique per claim. */
  readonly claimedName: string;
  readonly claimId: string;
  readonly claimedAt: Date;
  /** A local file with the claimed content: the processing/ file itself, or the remote's working copy. */
  readonly localPath: string;
  readonly size: number;
  /** SHA-256 of the claimed content (lower-case hex), computed at claim time: a per-file idempotency key. */
  readonly sha256: string;
  /** The digest the claimed `.sha256` sidecar announces; null without a (readable) sidecar. */
  readonly expectedSha256: string | null;
  /** The MD5 (lower-case hex) the claimed `<base>.md5` sidecar of a `<base>.zip` announces; null without one. */
  readonly expectedMd5: string | null;
  /**
   * Null when the claimed content matches its sidecar or came without one; otherwise why it does not
   * (mismatch, unreadable sidecar): the caller finishes such a claim as `rejected` with this reason.
   */
  readonly sidecarProblem: string | null;
}

/** Settings shared by both implementations (see completion.ts for the rules they drive). */
export interface CompletionSettings {
  /**
   * A file without a sidecar is complete once it has not been modified for this long; a file whose
   * sidecar does not match is rejected only after both have been unchanged for this long.
   */
  settleMs: number;
  /** When true, a file is never taken without a matching sidecar (`.sha256`, or `.md5` for a zip). */
  requireSidecar: boolean;
}

export const DEFAULT_COMPLETION: CompletionSettings = Object.freeze({
  settleMs: 60_000,
  requireSidecar: false,
});

export interface DropFolder {
  /** Where it lives, for logs and operators: a local path or `sftp://user@host:port/root`. */
  readonly location: string;

  /** Creates in/ processing/ done/ rejected/ out/ when missing. */
  ensureLayout(): Promise<void>;

  /** Sorts what is in in/ into ready, invalid and waiting files (by name). */
  listIncoming(): Promise<Incoming>;

  /**
   * Takes in/<name> (and its sidecars) by an atomic rename into processing/. Null when the file is
   * gone, typically because another instance claimed it first: of two racing claimers, one wins.
   */
  claim(name: string): Promise<Claim | null>;

  /** The claimed content as a stream (it reads `claim.localPath`). */
  open(claim: Claim): Readable;

  /**
   * Moves a claimed file and its sidecars out of processing/ into done/ or rejected/, with `reason`
   * written beside them as `<claimedName>.reason.txt`. Calling it again for a finished claim is a no-op.
   */
  finish(claim: Claim, outcome: ClaimOutcome, reason?: string): Promise<void>;

  /** Writes out/<name> atomically (a `.part` file renamed at the end), replacing an older one. */
  writeOut(name: string, content: string | Buffer | Readable): Promise<void>;

  /**
   * Puts a file into in/<name> as a gestionale would (a `.part` file renamed at the end), for
   * `ppay import --file`. False, writing nothing, when in/<name> is already there.
   */
  putIn(name: string, content: Buffer | Readable): Promise<boolean>;

  /**
   * Claims left in processing/ (by this or a killed instance), for crash recovery. Another live
   * instance's claims are listed too: the caller coordinates (a job lock, the import's own record).
   */
  listProcessing(): Promise<Claim[]>;

  /** Releases connections (a no-op for local folders). */
  close(): Promise<void>;
}

// When a file in in/ is complete (DESIGN §8), the same rules for local and remote drop folders:
// - a name ending in `.part` / `.filepart` is an upload in progress, never taken; dot files are ignored;
// - X with a sidecar X.sha256 is ready as soon as the digest matches its content. While they differ
//   and either was modified within the settle time, the upload is still running (waiting); once both
//   are settled and still differ, X is invalid (rejected with the reason, never retried);
// - X without sidecar is ready once unmodified for the settle time (the `.part` → X rename makes X
//   appear whole, and the settle time also covers a client writing X directly), unless the
//   configuration requires a sidecar;
// - a sidecar whose file is absent waits for it.
// Ages compare the file's modification time with this machine's clock: a remote server's clock must
// agree with ours (SFTP reports whole seconds), which is one more reason to prefer a sidecar.

import type { Claim, CompletionSettings, Incoming, InvalidFile, ReadyFile, WaitingFile } from './port.ts';
import {
  fileNameOfSidecar,
  isHiddenName,
  isInProgressName,
  isSidecarName,
  sidecarNameOf,
  type ClaimedName,
} from './names.ts';

/** Sidecars larger than this are not read: a sha256sum line is under 400 bytes. */
export const MAX_SIDECAR_BYTES = 64 * 1024;

/** One entry of in/ as listed (a local stat or a remote SFTP listing). */
export interface InEntry {
  name: string;
  size: number;
  modifiedMs: number;
  /** False for folders, links and other non-regular files, which are never inputs. */
  regular: boolean;
}

/** How sortIncoming reads file contents; each returns null when the file vanished meanwhile. */
export interface IncomingReader {
  digest(entry: InEntry): Promise<string | null>;
  readSidecar(entry: InEntry): Promise<string | null>;
}

export type SidecarReading = { sha256: string } | { problem: string };

const GNU_LINE = /^\\?([0-9a-fA-F]{64})(?:\s+\*?(.+))?$/;
const BSD_LINE = /^SHA2?-?256 ?\((.+)\) ?= ?([0-9a-fA-F]{64})$/i;

interface DigestLine {
  sha256: string;
  fileName: string | null;
}

function parseDigestLine(line: string): DigestLine | null {
  const gnu = GNU_LINE.exec(line);
  if (gnu?.[1]) return { sha256: gnu[1].toLowerCase(), fileName: gnu[2]?.trim() ?? null };
  const bsd = BSD_LINE.exec(line);
  if (bsd?.[1] && bsd[2]) return { sha256: bsd[2].toLowerCase(), fileName: bsd[1].trim() };
  return null;
}

function baseName(path: string): string {
  return path.split(/[/\\]/).pop() ?? path;
}

/**
 * Reads a `.sha256` sidecar: `sha256sum` output (`<hex>`, `<hex>  <name>` or `<hex> *<name>`) or the
 * BSD/OpenSSL tag form (`SHA256 (<name>) = <hex>`). A name, when present, must be `fileName`
 * (folders in it are ignored); with several lines, the one naming `fileName` counts.
 */
export function parseSidecar(text: string, fileName: string): SidecarReading {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (lines.length === 0) return { problem: 'the sidecar is empty' };
  const parsed: DigestLine[] = [];
  for (const [index, line] of lines.entries()) {
    const digest = parseDigestLine(line);
    if (!digest) return { problem: `sidecar line ${index + 1} is not a SHA-256 digest line` };
    parsed.push(digest);
  }
  const candidates = parsed.filter((d) => d.fileName === null || baseName(d.fileName) === fileName);
  const digests = new Set(candidates.map((d) => d.sha256));
  if (digests.size === 0) {
    const named = parsed.map((d) => d.fileName).join(', ');
    return { problem: `the sidecar names ${named}, not ${fileName}` };
  }
  if (digests.size > 1)
    return { problem: `the sidecar gives ${digests.size} different digests for ${fileName}` };
  return { sha256: [...digests][0]! };
}

/** Unmodified for at least the settle time. */
export function isSettled(entry: InEntry, nowMs: number, settleMs: number): boolean {
  return nowMs - entry.modifiedMs >= settleMs;
}

type Verdict = { ready: ReadyFile } | { invalid: InvalidFile } | { waiting: WaitingFile } | null;

function readyFile(entry: InEntry, sha256: string | null): ReadyFile {
  return {
    name: entry.name,
    size: entry.size,
    modifiedAt: new Date(entry.modifiedMs),
    completion: sha256 === null ? 'settled' : 'sidecar',
    sha256,
  };
}

async function readSidecarOf(
  sidecar: InEntry,
  fileName: string,
  reader: IncomingReader,
): Promise<SidecarReading | null> {
  if (sidecar.size > MAX_SIDECAR_BYTES) return { problem: `larger than ${MAX_SIDECAR_BYTES} bytes` };
  const text = await reader.readSidecar(sidecar);
  return text === null ? null : parseSidecar(text, fileName);
}

async function judgeWithSidecar(
  file: InEntry,
  sidecar: InEntry,
  reader: IncomingReader,
  settings: CompletionSettings,
  nowMs: number,
): Promise<Verdict> {
  const bothSettled =
    isSettled(file, nowMs, settings.settleMs) && isSettled(sidecar, nowMs, settings.settleMs);
  const reading = await readSidecarOf(sidecar, file.name, reader);
  if (reading === null) return null;
  if ('problem' in reading) {
    if (!bothSettled) {
      return { waiting: { name: file.name, reason: `sidecar not readable yet: ${reading.problem}` } };
    }
    const reason = `${sidecar.name} is not usable: ${reading.problem}`;
    return { invalid: { name: file.name, problem: 'SIDECAR_UNREADABLE', reason } };
  }
  const actual = await reader.digest(file);
  if (actual === null) return null;
  if (actual === reading.sha256) return { ready: readyFile(file, actual) };
  if (!bothSettled) {
    return {
      waiting: { name: file.name, reason: 'content does not match its sidecar yet (upload running?)' },
    };
  }
  const reason = `SHA-256 mismatch: ${sidecar.name} says ${reading.sha256}, the content is ${actual}`;
  return { invalid: { name: file.name, problem: 'SIDECAR_MISMATCH', reason } };
}

function judgeWithoutSidecar(file: InEntry, settings: CompletionSettings, nowMs: number): Verdict {
  if (settings.requireSidecar) {
    return { waiting: { name: file.name, reason: `waiting for ${sidecarNameOf(file.name)}` } };
  }
  if (isSettled(file, nowMs, settings.settleMs)) return { ready: readyFile(file, null) };
  const age = Math.max(0, nowMs - file.modifiedMs);
  return {
    waiting: {
      name: file.name,
      reason: `modified ${age} ms ago; taken after ${settings.settleMs} ms unchanged`,
    },
  };
}

function judgeOther(entry: InEntry, byName: Map<string, InEntry>): Verdict {
  if (!entry.regular) return { waiting: { name: entry.name, reason: 'not a regular file' } };
  if (isInProgressName(entry.name)) return { waiting: { name: entry.name, reason: 'upload in progress' } };
  if (byName.has(fileNameOfSidecar(entry.name))) return null;
  return { waiting: { name: entry.name, reason: 'sidecar without its file' } };
}

/** Sorts the entries of in/ by the rules above, reading only what it needs. */
export async function sortIncoming(
  entries: InEntry[],
  reader: IncomingReader,
  settings: CompletionSettings,
  nowMs: number,
): Promise<Incoming> {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const incoming: Incoming = { ready: [], invalid: [], waiting: [] };
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of sorted) {
    if (isHiddenName(entry.name)) continue;
    let verdict: Verdict;
    if (!entry.regular || isInProgressName(entry.name) || isSidecarName(entry.name)) {
      verdict = judgeOther(entry, byName);
    } else {
      const sidecar = byName.get(sidecarNameOf(entry.name));
      verdict =
        sidecar?.regular === true
          ? await judgeWithSidecar(entry, sidecar, reader, settings, nowMs)
          : judgeWithoutSidecar(entry, settings, nowMs);
    }
    if (verdict === null) continue;
    if ('ready' in verdict) incoming.ready.push(verdict.ready);
    else if ('invalid' in verdict) incoming.invalid.push(verdict.invalid);
    else incoming.waiting.push(verdict.waiting);
  }
  return incoming;
}

export interface ClaimIntegrity {
  expectedSha256: string | null;
  sidecarProblem: string | null;
}

/**
 * The check a claim makes again on what it actually took (the file may have changed between the
 * listing and the rename): `sidecarText` is the claimed sidecar's text, null when there was none.
 */
export function claimIntegrity(sidecarText: string | null, name: string, sha256: string): ClaimIntegrity {
  if (sidecarText === null) return { expectedSha256: null, sidecarProblem: null };
  const reading = parseSidecar(sidecarText, name);
  if ('problem' in reading)
    return { expectedSha256: null, sidecarProblem: `the sidecar is not usable: ${reading.problem}` };
  if (reading.sha256 === sha256) return { expectedSha256: sha256, sidecarProblem: null };
  const problem = `SHA-256 mismatch: the sidecar says ${reading.sha256}, the content is ${sha256}`;
  return { expectedSha256: reading.sha256, sidecarProblem: problem };
}

/** A claim as both drop folders describe it: the claimed names, the local copy, its sidecar check. */
export function claimOf(
  parsed: ClaimedName,
  claimedName: string,
  copy: { localPath: string; size: number; sha256: string },
  sidecarText: string | null,
): Claim {
  return { ...parsed, claimedName, ...copy, ...claimIntegrity(sidecarText, parsed.name, copy.sha256) };
}

/**
 * Remembers digests by name, size and modification time, so a listing polled every few minutes
 * hashes each version of a file once. Entries of names no longer listed are dropped.
 */
export class DigestCache {
  private readonly known = new Map<string, { size: number; modifiedMs: number; sha256: string }>();

  get(entry: InEntry): string | null {
    const hit = this.known.get(entry.name);
    return hit && hit.size === entry.size && hit.modifiedMs === entry.modifiedMs ? hit.sha256 : null;
  }

  set(entry: InEntry, sha256: string): void {
    this.known.set(entry.name, { size: entry.size, modifiedMs: entry.modifiedMs, sha256 });
  }

  keepOnly(entries: InEntry[]): void {
    const names = new Set(entries.map((e) => e.name));
    for (const name of this.known.keys()) if (!names.has(name)) this.known.delete(name);
  }
}

// When a file in in/ is complete (DESIGN §8), the same rules for local and remote drop folders:
// - a name ending in `.part` / `.filepart` is an upload in progress, never taken; dot files are ignored;
// - X with a sidecar X.sha256 is ready as soon as the digest matches its content. While they differ
//   and either was modified within the settle time, the upload is still running (waiting); once both
//   are settled and still differ, X is invalid (rejected with the reason, never retried);
// - X without sidecar is ready once unmodified for the settle time (the `.part` → X rename makes X
//   appear whole, and the settle time also covers a client writing X directly), unless the
//   configuration requires a sidecar;
// - a sidecar whose file is absent waits for it;
// - MyPay's `<base>.md5` (flat-file-formats.md §4: the hex MD5 of `<base>.zip`) is the sidecar of
//   `<base>.zip` under the same rules: a match makes the zip ready, a settled mismatch invalid; a
//   `.md5` is never an input of its own. A zip with both sidecars needs both to match.
// Ages compare the file's modification time with this machine's clock: a remote server's clock must
// agree with ours (SFTP reports whole seconds), which is one more reason to prefer a sidecar.

import type { Claim, CompletionSettings, Incoming, InvalidFile, ReadyFile, WaitingFile } from './port.ts';
import {
  fileNameOfSidecar,
  isHiddenName,
  isInProgressName,
  isSidecarName,
  md5SidecarNameOf,
  SIDECAR_SUFFIX,
  sidecarNameOf,
  zipNamesOfMd5Sidecar,
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

/** The digest a sidecar announces: SHA-256 for `X.sha256`, MD5 for MyPay's `<base>.md5`. */
export type DigestAlgorithm = 'sha256' | 'md5';

/** How sortIncoming reads file contents; each returns null when the file vanished meanwhile. */
export interface IncomingReader {
  /** The lower-case hex digest of the file's content. */
  digest(entry: InEntry, algorithm: DigestAlgorithm): Promise<string | null>;
  readSidecar(entry: InEntry): Promise<string | null>;
}

export type SidecarReading = { sha256: string } | { problem: string };

const LABELS: Record<DigestAlgorithm, string> = { sha256: 'SHA-256', md5: 'MD5' };

const LINE_FORMS: Record<DigestAlgorithm, { gnu: RegExp; bsd: RegExp }> = {
  sha256: {
    gnu: /^\\?([0-9a-fA-F]{64})(?:\s+\*?(.+))?$/,
    bsd: /^SHA2?-?256 ?\((.+)\) ?= ?([0-9a-fA-F]{64})$/i,
  },
  md5: { gnu: /^\\?([0-9a-fA-F]{32})(?:\s+\*?(.+))?$/, bsd: /^MD5 ?\((.+)\) ?= ?([0-9a-fA-F]{32})$/i },
};

interface DigestLine {
  digest: string;
  fileName: string | null;
}

function parseDigestLine(line: string, algorithm: DigestAlgorithm): DigestLine | null {
  const forms = LINE_FORMS[algorithm];
  const gnu = forms.gnu.exec(line);
  if (gnu?.[1]) return { digest: gnu[1].toLowerCase(), fileName: gnu[2]?.trim() ?? null };
  const bsd = forms.bsd.exec(line);
  if (bsd?.[1] && bsd[2]) return { digest: bsd[2].toLowerCase(), fileName: bsd[1].trim() };
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
  const reading = parseDigestSidecar(text, fileName, 'sha256');
  return 'problem' in reading ? reading : { sha256: reading.digest };
}

/**
 * Reads a `.md5` sidecar: MyPay's bare hex MD5 (any case), or `md5sum` / BSD `MD5 (<name>) = <hex>`
 * output naming `fileName`.
 */
export function parseMd5Sidecar(text: string, fileName: string): { md5: string } | { problem: string } {
  const reading = parseDigestSidecar(text, fileName, 'md5');
  return 'problem' in reading ? reading : { md5: reading.digest };
}

function parseDigestSidecar(
  text: string,
  fileName: string,
  algorithm: DigestAlgorithm,
): { digest: string } | { problem: string } {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (lines.length === 0) return { problem: 'the sidecar is empty' };
  const parsed: DigestLine[] = [];
  for (const [index, line] of lines.entries()) {
    const digest = parseDigestLine(line, algorithm);
    if (!digest) return { problem: `sidecar line ${index + 1} is not a ${LABELS[algorithm]} digest line` };
    parsed.push(digest);
  }
  const candidates = parsed.filter((d) => d.fileName === null || baseName(d.fileName) === fileName);
  const digests = new Set(candidates.map((d) => d.digest));
  if (digests.size === 0) {
    const named = parsed.map((d) => d.fileName).join(', ');
    return { problem: `the sidecar names ${named}, not ${fileName}` };
  }
  if (digests.size > 1)
    return { problem: `the sidecar gives ${digests.size} different digests for ${fileName}` };
  return { digest: [...digests][0]! };
}

/** Unmodified for at least the settle time. */
export function isSettled(entry: InEntry, nowMs: number, settleMs: number): boolean {
  return nowMs - entry.modifiedMs >= settleMs;
}

type Verdict = { ready: ReadyFile } | { invalid: InvalidFile } | { waiting: WaitingFile } | null;

function readyFile(entry: InEntry, completion: ReadyFile['completion'], sha256: string | null): ReadyFile {
  return { name: entry.name, size: entry.size, modifiedAt: new Date(entry.modifiedMs), completion, sha256 };
}

async function readSidecarOf(
  sidecar: InEntry,
  fileName: string,
  algorithm: DigestAlgorithm,
  reader: IncomingReader,
): Promise<{ digest: string } | { problem: string } | null> {
  if (sidecar.size > MAX_SIDECAR_BYTES) return { problem: `larger than ${MAX_SIDECAR_BYTES} bytes` };
  const text = await reader.readSidecar(sidecar);
  return text === null ? null : parseDigestSidecar(text, fileName, algorithm);
}

interface Sidecar {
  entry: InEntry;
  algorithm: DigestAlgorithm;
}

/** The regular sidecars of an input in the listing: `X.sha256`, and `<base>.md5` for `<base>.zip`. */
function sidecarsOf(name: string, byName: Map<string, InEntry>): Sidecar[] {
  const sidecars: Sidecar[] = [];
  const sha256 = byName.get(sidecarNameOf(name));
  if (sha256?.regular) sidecars.push({ entry: sha256, algorithm: 'sha256' });
  const md5Name = md5SidecarNameOf(name);
  const md5 = md5Name === null ? undefined : byName.get(md5Name);
  if (md5?.regular) sidecars.push({ entry: md5, algorithm: 'md5' });
  return sidecars;
}

/** Ready when every sidecar matches; otherwise the first one's waiting or invalid verdict. */
async function judgeWithSidecars(
  file: InEntry,
  sidecars: Sidecar[],
  reader: IncomingReader,
  settings: CompletionSettings,
  nowMs: number,
): Promise<Verdict> {
  let sha256: string | null = null;
  for (const sidecar of sidecars) {
    const verdict = await judgeWithSidecar(file, sidecar, reader, settings, nowMs);
    if (verdict === null || !('matched' in verdict)) return verdict;
    if (sidecar.algorithm === 'sha256') sha256 = verdict.matched;
  }
  return { ready: readyFile(file, 'sidecar', sha256) };
}

async function judgeWithSidecar(
  file: InEntry,
  { entry: sidecar, algorithm }: Sidecar,
  reader: IncomingReader,
  settings: CompletionSettings,
  nowMs: number,
): Promise<Verdict | { matched: string }> {
  const bothSettled =
    isSettled(file, nowMs, settings.settleMs) && isSettled(sidecar, nowMs, settings.settleMs);
  const reading = await readSidecarOf(sidecar, file.name, algorithm, reader);
  if (reading === null) return null;
  if ('problem' in reading) {
    if (!bothSettled) {
      return { waiting: { name: file.name, reason: `sidecar not readable yet: ${reading.problem}` } };
    }
    const reason = `${sidecar.name} is not usable: ${reading.problem}`;
    return { invalid: { name: file.name, problem: 'SIDECAR_UNREADABLE', reason } };
  }
  const actual = await reader.digest(file, algorithm);
  if (actual === null) return null;
  if (actual === reading.digest) return { matched: actual };
  if (!bothSettled) {
    return {
      waiting: { name: file.name, reason: 'content does not match its sidecar yet (upload running?)' },
    };
  }
  const reason = `${LABELS[algorithm]} mismatch: ${sidecar.name} says ${reading.digest}, the content is ${actual}`;
  return { invalid: { name: file.name, problem: 'SIDECAR_MISMATCH', reason } };
}

function judgeWithoutSidecar(file: InEntry, settings: CompletionSettings, nowMs: number): Verdict {
  if (settings.requireSidecar) {
    return { waiting: { name: file.name, reason: `waiting for ${sidecarNameOf(file.name)}` } };
  }
  if (isSettled(file, nowMs, settings.settleMs)) return { ready: readyFile(file, 'settled', null) };
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
  const owners = entry.name.endsWith(SIDECAR_SUFFIX)
    ? [fileNameOfSidecar(entry.name)]
    : zipNamesOfMd5Sidecar(entry.name);
  if (owners.some((owner) => byName.has(owner))) return null;
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
      const sidecars = sidecarsOf(entry.name, byName);
      verdict =
        sidecars.length > 0
          ? await judgeWithSidecars(entry, sidecars, reader, settings, nowMs)
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

/** The claimed `.md5` sidecar checked against the MD5 of what was claimed (like claimIntegrity). */
export function md5Integrity(
  md5Sidecar: { text: string; md5: string } | null,
  name: string,
): { expectedMd5: string | null; problem: string | null } {
  if (md5Sidecar === null) return { expectedMd5: null, problem: null };
  const reading = parseMd5Sidecar(md5Sidecar.text, name);
  if ('problem' in reading)
    return { expectedMd5: null, problem: `the .md5 sidecar is not usable: ${reading.problem}` };
  if (reading.md5 === md5Sidecar.md5) return { expectedMd5: reading.md5, problem: null };
  const problem = `MD5 mismatch: the .md5 sidecar says ${reading.md5}, the content is ${md5Sidecar.md5} (PAA_IMPORT_NO_MATCH_MD5)`;
  return { expectedMd5: reading.md5, problem };
}

/**
 * A claim as both drop folders describe it: the claimed names, the local copy, its sidecar checks.
 * `md5Sidecar` is the claimed `.md5` sidecar's text with the MD5 of the copy, null without one.
 */
export function claimOf(
  parsed: ClaimedName,
  claimedName: string,
  copy: { localPath: string; size: number; sha256: string },
  sidecarText: string | null,
  md5Sidecar: { text: string; md5: string } | null = null,
): Claim {
  const sha256 = claimIntegrity(sidecarText, parsed.name, copy.sha256);
  const md5 = md5Integrity(md5Sidecar, parsed.name);
  return {
    ...parsed,
    claimedName,
    ...copy,
    expectedSha256: sha256.expectedSha256,
    expectedMd5: md5.expectedMd5,
    sidecarProblem: sha256.sidecarProblem ?? md5.problem,
  };
}

/**
 * Remembers digests by name, size and modification time, so a listing polled every few minutes
 * hashes each version of a file once. Entries of names no longer listed are dropped.
 */
export class DigestCache {
  private readonly known = new Map<string, { size: number; modifiedMs: number; digest: string }>();

  get(entry: InEntry, algorithm: DigestAlgorithm): string | null {
    const hit = this.known.get(`${algorithm}:${entry.name}`);
    return hit && hit.size === entry.size && hit.modifiedMs === entry.modifiedMs ? hit.digest : null;
  }

  set(entry: InEntry, algorithm: DigestAlgorithm, digest: string): void {
    this.known.set(`${algorithm}:${entry.name}`, { size: entry.size, modifiedMs: entry.modifiedMs, digest });
  }

  keepOnly(entries: InEntry[]): void {
    const names = new Set(entries.map((e) => e.name));
    for (const key of this.known.keys()) {
      if (!names.has(key.slice(key.indexOf(':') + 1))) this.known.delete(key);
    }
  }
}

// File names in a drop folder: which names are inputs, uploads in progress or sidecars, and the
// unique names claims get in processing/ (`<claimId>.<original name>`, the claim time readable in it).

import { randomBytes } from 'node:crypto';
import { domainError } from '../../domain/errors.ts';

export const SIDECAR_SUFFIX = '.sha256';
/** MyPay's sidecar: `<base>.md5` beside `<base>.zip`, the hex MD5 of the zip (flat-file-formats.md §4). */
export const MD5_SIDECAR_SUFFIX = '.md5';
const ZIP_SUFFIX = '.zip';
/** `.part` is our convention; `.filepart` is WinSCP's default for resumable uploads. */
const IN_PROGRESS_SUFFIXES = ['.part', '.filepart'];
export const REASON_SUFFIX = '.reason.txt';

const MAX_NAME_BYTES = 255;

/** Throws INVALID_INPUT unless `name` is a single path segment (no folder, no `..`, no NUL). */
export function assertPlainName(name: string): void {
  const plain =
    name.length > 0 &&
    Buffer.byteLength(name) <= MAX_NAME_BYTES &&
    name !== '.' &&
    name !== '..' &&
    !name.includes('\0') &&
    !/[/\\]/.test(name);
  if (!plain) throw domainError('INVALID_INPUT', 'a drop-folder file name must be a plain name', { name });
}

/** Dot files are other tools' temporary files (rsync's `.name.XXXXXX`, editors): never inputs. */
export function isHiddenName(name: string): boolean {
  return name.startsWith('.');
}

export function isInProgressName(name: string): boolean {
  return IN_PROGRESS_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** A `.sha256` or `.md5` sidecar: never an input of its own. */
export function isSidecarName(name: string): boolean {
  return [SIDECAR_SUFFIX, MD5_SIDECAR_SUFFIX].some(
    (suffix) => name.endsWith(suffix) && name.length > suffix.length,
  );
}

export function sidecarNameOf(name: string): string {
  return `${name}${SIDECAR_SUFFIX}`;
}

/** The data file a `.sha256` sidecar name belongs to. */
export function fileNameOfSidecar(sidecarName: string): string {
  return sidecarName.slice(0, -SIDECAR_SUFFIX.length);
}

/** `<base>.md5` for a `<base>.zip` (any case of `.zip`); null for any other name. */
export function md5SidecarNameOf(name: string): string | null {
  if (!name.toLowerCase().endsWith(ZIP_SUFFIX) || name.length === ZIP_SUFFIX.length) return null;
  return `${name.slice(0, -ZIP_SUFFIX.length)}${MD5_SIDECAR_SUFFIX}`;
}

/** The names of the zip a `.md5` sidecar may belong to (`.zip` and `.ZIP`); [] for other names. */
export function zipNamesOfMd5Sidecar(sidecarName: string): string[] {
  if (!sidecarName.endsWith(MD5_SIDECAR_SUFFIX)) return [];
  const base = sidecarName.slice(0, -MD5_SIDECAR_SUFFIX.length);
  return [`${base}${ZIP_SUFFIX}`, `${base}${ZIP_SUFFIX.toUpperCase()}`];
}

/**
 * The sidecar names of `name` paired with those of `renamed` (`X.sha256`, and `<base>.md5` for a
 * `<base>.zip`): what moves with a file from in/ to processing/ and on to done/ or rejected/.
 */
export function sidecarPairs(name: string, renamed: string): [string, string][] {
  const pairs: [string, string][] = [[sidecarNameOf(name), sidecarNameOf(renamed)]];
  const md5 = md5SidecarNameOf(name);
  const renamedMd5 = md5SidecarNameOf(renamed);
  if (md5 !== null && renamedMd5 !== null) pairs.push([md5, renamedMd5]);
  return pairs;
}

/** A name that can be claimed: an input, not a sidecar, an upload in progress or a dot file. */
export function isInputName(name: string): boolean {
  return !isHiddenName(name) && !isInProgressName(name) && !isSidecarName(name);
}

/**
 * The longest input name: its claim is `<claimId>.<name>` (28 bytes more) and the claim's reason
 * `<claim>.reason.txt` (11 more) must still fit the file system's 255 bytes. A longer name failed
 * the claim's rename with ENAMETOOLONG, on every pass.
 */
export const MAX_INPUT_NAME_BYTES = 200;

/** Throws INVALID_INPUT unless `name` is a plain name that may be claimed from in/. */
export function assertInputName(name: string): void {
  assertPlainName(name);
  if (Buffer.byteLength(name) > MAX_INPUT_NAME_BYTES) {
    throw domainError('INVALID_INPUT', `an input file name must be at most ${MAX_INPUT_NAME_BYTES} bytes`, {
      name,
    });
  }
  if (!isInputName(name)) {
    throw domainError('INVALID_INPUT', 'only complete input files can be claimed, not sidecars or uploads', {
      name,
    });
  }
}

/** Whether `name` may be claimed from in/ (assertInputName without the throw). */
export function isClaimableName(name: string): boolean {
  try {
    assertInputName(name);
    return true;
  } catch {
    return false;
  }
}

/** `out/<name>` is written as `<name>.<random>.part` first; the random part keeps two writers apart. */
export function partNameOf(name: string): string {
  return `${name}.${randomBytes(4).toString('hex')}.part`;
}

export function reasonNameOf(claimedName: string): string {
  return `${claimedName}${REASON_SUFFIX}`;
}

// 20250131T020304123Z-1a2b3c4d: UTC time to the millisecond, then 32 random bits.
const CLAIM_ID = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[0-9a-f]{8}$/;

export function newClaimId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

export function claimedNameOf(claimId: string, name: string): string {
  return `${claimId}.${name}`;
}

export interface ClaimedName {
  claimId: string;
  claimedAt: Date;
  name: string;
}

/** Splits a data file name found in processing/; null for anything else (sidecars included). */
export function parseClaimedName(claimedName: string): ClaimedName | null {
  const dot = claimedName.indexOf('.');
  if (dot < 0) return null;
  const claimId = claimedName.slice(0, dot);
  const name = claimedName.slice(dot + 1);
  const m = CLAIM_ID.exec(claimId);
  if (!m || !isInputName(name)) return null;
  const [, y, mo, d, h, mi, s, ms] = m;
  const claimedAt = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
  return { claimId, claimedAt, name };
}

// Local file operations the drop folders rely on: renames that report a lost race instead of
// failing, atomic writes (`.part`, fsync, rename), and the SHA-256 (or MD5) of a file read as a stream.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { partNameOf } from './names.ts';

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** Renames `from` to `to`; false when `from` does not exist (e.g. another instance took it first). */
export async function renameIfPresent(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export async function existsFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** The file's text, or null when it does not exist. */
export async function readTextIfPresent(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** The lower-case hex digest of a file, read as a stream. */
export async function digestOfFile(file: string, algorithm: 'sha256' | 'md5'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256OfFile(file: string): Promise<string> {
  return digestOfFile(file, 'sha256');
}

export async function removeIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

function asBuffer(chunk: unknown): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
}

const BATCH_BYTES = 256 * 1024;

/** A stream's chunks joined into batches of about 256 KiB: a line per chunk would cost a write per line. */
export async function* inBatches(source: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    const buffer = asBuffer(chunk);
    pending.push(buffer);
    size += buffer.length;
    if (size >= BATCH_BYTES) {
      yield Buffer.concat(pending);
      pending = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(pending);
}

/** Flushes a folder's entries (the rename just made) to disk; not every file system allows it. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the rename is atomic either way; this only narrows the power-loss window.
  }
}

/**
 * Writes `file` so that readers see either the old content or the whole new one: the content goes
 * to a `.part` file in the same folder, is flushed, then renamed over `file`.
 */
export async function writeFileAtomically(file: string, content: string | Buffer | Readable): Promise<void> {
  const folder = path.dirname(file);
  const part = path.join(folder, partNameOf(path.basename(file)));
  const handle = await open(part, 'wx');
  try {
    if (typeof content === 'string' || Buffer.isBuffer(content)) await handle.writeFile(content);
    // writeFile on an open handle appends at its position and completes short writes.
    else for await (const batch of inBatches(content)) await handle.writeFile(batch);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await removeIfPresent(part);
    throw err;
  }
  await handle.close();
  await rename(part, file);
  await syncFolder(folder);
}

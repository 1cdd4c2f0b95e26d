// The in-process queue of large uploads: uploads answered ACCEPTED wait in the uploads table, so a
// restart loses nothing. A pass takes every unfinished upload under a per-upload job lock (several
// instances never process one upload together) and runs it to the end with processUpload.

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Store } from '../../db/store.ts';
import { processUpload } from './uploads.ts';

export interface UploadWorkerOptions {
  /** Lock owner; unique per process unless given. */
  owner?: string;
  /** How long a lock holds without renewal (it is renewed after each chunk). */
  lockTtlMs?: number;
  chunkSize?: number;
  /** Where a failed pass is reported; the upload stays unfinished and the next pass retries it. */
  onError?: (err: unknown) => void;
}

const DEFAULT_LOCK_TTL_MS = 5 * 60_000;

export class UploadWorker {
  private running: Promise<void> | null = null;
  private again = false;
  private readonly owner: string;
  private readonly lockTtlMs: number;

  constructor(
    private readonly store: Store,
    private readonly options: UploadWorkerOptions = {},
  ) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.lockTtlMs = options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
  }

  /** Starts a pass unless one runs; a kick during a pass makes one more pass follow it. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop();
  }

  /** Resolves once no pass is running (tests, orderly shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** One pass over the unfinished uploads; returns how many this owner processed. */
  async runOnce(): Promise<number> {
    let processed = 0;
    for (const upload of await this.store.uploads.listUnfinished()) {
      const lock = `upload:${upload.id}`;
      const renew = () => this.store.locks.acquire(lock, this.owner, this.lockTtlMs);
      const run = await this.store.locks.runExclusive(lock, this.owner, this.lockTtlMs, () =>
        processUpload(this.store, upload.id, { chunkSize: this.options.chunkSize, onChunk: renew }),
      );
      if (run.ran) processed += 1;
    }
    return processed;
  }

  private async loop(): Promise<void> {
    for (;;) {
      this.again = false;
      try {
        await this.runOnce();
      } catch (err) {
        (this.options.onError ?? defaultReport)(err);
      }
      // Cleared synchronously after the check, so a kick can never fall between the two.
      if (!this.again) {
        this.running = null;
        return;
      }
    }
  }
}

function defaultReport(err: unknown): void {
  process.stderr.write(`upload worker: ${err instanceof Error ? err.message : String(err)}\n`);
}

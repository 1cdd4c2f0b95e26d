// The importer inside `ppay start`: a pass over every active ente's drop folder every
// PPAY_IMPORT_POLL_MS (crash recovery first, then the complete files of in/). A pass never overlaps
// the previous one; close() stops polling and waits for the pass in flight.

import { Importer, type ImporterOptions, type PassReport } from './importer.ts';

export interface ImportWorkerOptions extends ImporterOptions {
  /** Where a pass's failures go (each ente's; the pass goes on with the others). */
  onError?: (message: string) => void;
  /** Each finished pass (tests, logs). */
  onPass?: (report: PassReport) => void;
}

export class ImportWorker {
  readonly importer: Importer;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: ImportWorkerOptions) {
    this.importer = new Importer(options);
  }

  start(intervalMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Starts a pass unless one is running. */
  kick(): void {
    if (this.closed || this.running) return;
    this.running = this.pass().finally(() => {
      this.running = null;
    });
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.idle();
    await this.importer.close();
  }

  private async pass(): Promise<void> {
    const report = (message: string) =>
      (this.options.onError ?? ((m) => process.stderr.write(`importer: ${m}\n`)))(message);
    try {
      const result = await this.importer.runPass();
      for (const failure of result.failures) report(`${failure.enteFiscalCode}: ${failure.message}`);
      this.options.onPass?.(result);
    } catch (err) {
      report(err instanceof Error ? err.message : String(err));
    }
  }
}

// Nightly jobs (DESIGN §6: each takes a DB job lock, so several instances never do the work twice).
// The scheduler ticks every few minutes and runs a job once per Italian calendar day, at or after
// the configured hour; a missed night (process down) runs at the next tick after the hour.

import type { Store } from '../db/store.ts';
import { romeDate, romeDateTime } from '../pagopa/time.ts';
import { reportExpiredReservations } from './gestionale/expiredReservations.ts';

export interface NightlySettings {
  /** Hour (0–23, Europe/Rome) after which the day's run happens. */
  hour: number;
  /** Reserved multe notices older than this many days are reported (notifyExpiredNotices). */
  reservationMaxDays: number;
}

export interface NightlyJob {
  name: string;
  run(store: Store, now: Date): Promise<unknown>;
}

export function nightlyJobs(settings: NightlySettings): NightlyJob[] {
  return [
    {
      name: 'notifyExpiredNotices',
      run: (store, now) =>
        reportExpiredReservations(store, { olderThanDays: settings.reservationMaxDays, now }),
    },
  ];
}

const TICK_MS = 5 * 60_000;

export class NightlyScheduler {
  private readonly lastRun = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly settings: NightlySettings,
    private readonly jobs: NightlyJob[] = nightlyJobs(settings),
    private readonly onError: (job: string, err: unknown) => void = (job, err) =>
      process.stderr.write(`nightly job ${job} failed: ${String(err)}\n`),
  ) {}

  /** Runs every job not yet run today once the hour has come; returns the names it ran. */
  async tick(now = new Date()): Promise<string[]> {
    const hour = Number(romeDateTime(now).slice(11, 13));
    if (hour < this.settings.hour) return [];
    const today = romeDate(now);
    const ran: string[] = [];
    for (const job of this.jobs) {
      if (this.lastRun.get(job.name) === today) continue;
      try {
        await job.run(this.store, now);
        this.lastRun.set(job.name, today);
        ran.push(job.name);
      } catch (err) {
        this.onError(job.name, err);
      }
    }
    return ran;
  }

  start(): void {
    const tick = () => {
      this.running = this.running.then(() => this.tick().then(() => undefined));
    };
    tick();
    this.timer = setInterval(tick, TICK_MS).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}

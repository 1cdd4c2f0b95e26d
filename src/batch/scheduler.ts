// The job scheduler (issue 7 item 5, DESIGN §6): ticks every minute and runs each job's due slot
// (src/batch/schedule.ts: the latest instant its cron names, Europe/Rome) once across every instance
// sharing the database. A run holds the job's lock (job_locks `schedule:<job>`, renewed while it
// runs) and is recorded in job_runs under the key (job, slot): a second instance, or this one after
// a restart, finds the slot taken and skips it. Rules:
// - only the latest slot is due: slots missed while every instance was down collapse into one run
//   at the next tick (`ppay jobs run` covers an older one by hand);
// - a failed run (it threw, or the job's own lock was held elsewhere) is retried at the next ticks,
//   MAX_ATTEMPTS in all; a run whose instance died (still `running`, lock expired) is retried too;
// - due jobs run one after the other, in catalogue order; a slow job delays this instance's next
//   ones, which another instance may then take.
// Manual runs (`ppay jobs run`) are recorded beside, under keys of their own, and leave slots alone.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../db/store.ts';
import type { JobRun } from '../db/repositories/jobRuns.ts';
import { romeDateTime } from '../pagopa/time.ts';
import {
  latestSlot,
  nextSlot,
  SCHEDULE_TIME_ZONE,
  type JobSchedule,
  type ScheduledJobName,
} from './schedule.ts';

export interface ScheduledJob {
  name: ScheduledJobName;
  /** `now`: when the run starts; `scheduledAt`: the slot it stands for (a manual run: now). */
  run(store: Store, now: Date, scheduledAt: Date): Promise<unknown>;
}

export interface SchedulerOptions {
  store: Store;
  jobs: readonly ScheduledJob[];
  schedule: JobSchedule;
  /** This instance in job_locks and job_runs; host, pid and a random part by default. */
  owner?: string;
  clock?: () => Date;
  /** How long the job lock lasts without renewal; renewed every third of it while a job runs. */
  lockTtlMs?: number;
  maxAttempts?: number;
  onError?: (job: string, err: unknown) => void;
}

/** What one tick did for a job it ran. */
export interface SlotRun {
  job: ScheduledJobName;
  scheduledAt: string;
  status: 'done' | 'failed';
  attempt: number;
}

export const TICK_MS = 60_000;
export const MAX_ATTEMPTS = 3;
const DEFAULT_LOCK_TTL_MS = 5 * 60_000;
const SUMMARY_MAX = 4000;
const ERROR_MAX = 1000;

export function jobLockName(job: string): string {
  return `schedule:${job}`;
}

export function defaultOwner(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

function clipped(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A job's result as a short JSON text for job_runs.summary. */
function summaryOf(result: unknown): string | null {
  if (result === undefined) return null;
  try {
    return clipped(JSON.stringify(result) ?? 'null', SUMMARY_MAX);
  } catch {
    return clipped(String(result), SUMMARY_MAX);
  }
}

function errorText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return clipped(typeof code === 'string' ? `${code}: ${message}` : message, ERROR_MAX);
}

/**
 * Jobs report "another run holds my own lock" as a result (status locked / LOCKED), not an error:
 * for a scheduled slot that means the work was not done, so the attempt counts as failed.
 */
function lockedOut(result: unknown): boolean {
  const status = (result as { status?: unknown } | null)?.status;
  return status === 'locked' || status === 'LOCKED';
}

export class JobScheduler {
  private readonly store: Store;
  private readonly jobs: readonly ScheduledJob[];
  private readonly schedule: JobSchedule;
  readonly owner: string;
  private readonly clock: () => Date;
  private readonly lockTtlMs: number;
  private readonly maxAttempts: number;
  private readonly onError: (job: string, err: unknown) => void;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.jobs = options.jobs;
    this.schedule = options.schedule;
    this.owner = options.owner ?? defaultOwner();
    this.clock = options.clock ?? (() => new Date());
    this.lockTtlMs = options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
    this.maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
    this.onError =
      options.onError ??
      ((job, err) => process.stderr.write(`scheduled job ${job} failed: ${String(err)}\n`));
  }

  /** Runs every job whose due slot is not done yet (and not being run elsewhere); returns what it ran. */
  async tick(now = this.clock()): Promise<SlotRun[]> {
    const ran: SlotRun[] = [];
    for (const job of this.jobs) {
      const expression = this.schedule[job.name];
      if (!expression) continue;
      try {
        const slot = await this.dueSlot(job.name, expression, now);
        const run = slot ? await this.runSlot(job, slot) : null;
        if (run) ran.push(run);
      } catch (err) {
        // The bookkeeping itself failed (database unreachable): try again at the next tick.
        this.onError(job.name, err);
      }
    }
    return ran;
  }

  private async dueSlot(job: string, expression: string, now: Date): Promise<Date | null> {
    const last = await this.store.jobRuns.latestScheduled(job);
    const since = last?.scheduledAt ? new Date(last.scheduledAt) : undefined;
    const slot = latestSlot(expression, now, since);
    if (!slot) return null;
    const recorded = await this.store.jobRuns.find(job, slot.toISOString());
    const settled = recorded && (recorded.status === 'done' || recorded.attempts >= this.maxAttempts);
    return settled ? null : slot;
  }

  private async runSlot(job: ScheduledJob, slot: Date): Promise<SlotRun | null> {
    const lock = jobLockName(job.name);
    if (!(await this.store.locks.acquire(lock, this.owner, this.lockTtlMs))) return null;
    const renew = setInterval(() => {
      this.store.locks
        .acquire(lock, this.owner, this.lockTtlMs)
        .catch((err: unknown) => this.onError(job.name, err));
    }, this.lockTtlMs / 3).unref();
    try {
      const run = await this.store.jobRuns.begin({
        jobName: job.name,
        runKey: slot.toISOString(),
        trigger: 'schedule',
        scheduledAt: slot.toISOString(),
        owner: this.owner,
        maxAttempts: this.maxAttempts,
      });
      if (!run) return null;
      const status = await this.execute(job, run, slot);
      return { job: job.name, scheduledAt: slot.toISOString(), status, attempt: run.attempts };
    } finally {
      clearInterval(renew);
      await this.store.locks.release(lock, this.owner);
    }
  }

  private async execute(job: ScheduledJob, run: JobRun, slot: Date): Promise<'done' | 'failed'> {
    try {
      const result = await job.run(this.store, this.clock(), slot);
      if (lockedOut(result)) {
        const error = "another run held the job's own lock; nothing was done";
        await this.store.jobRuns.finish(run.id, { status: 'failed', summary: summaryOf(result), error });
        this.onError(job.name, new Error(error));
        return 'failed';
      }
      await this.store.jobRuns.finish(run.id, { status: 'done', summary: summaryOf(result) });
      return 'done';
    } catch (err) {
      await this.store.jobRuns.finish(run.id, { status: 'failed', error: errorText(err) });
      this.onError(job.name, err);
      return 'failed';
    }
  }

  /** Ticks now and every TICK_MS (or `intervalMs`) after; ticks never overlap. */
  start(intervalMs = TICK_MS): void {
    const tick = () => {
      this.running = this.running.then(() => this.tick().then(() => undefined));
    };
    tick();
    this.timer = setInterval(tick, intervalMs).unref();
  }

  /** Stops ticking and waits for the current tick to end. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}

/** Runs a job now, outside its schedule, and records the run (`ppay jobs run`). Rethrows a failure. */
export async function runJobNow(
  store: Store,
  job: ScheduledJob,
  options: { now?: Date; owner?: string } = {},
): Promise<unknown> {
  const now = options.now ?? new Date();
  const owner = options.owner ?? defaultOwner();
  const run = await store.jobRuns.begin({
    jobName: job.name,
    runKey: `manual:${now.toISOString()}:${randomUUID().slice(0, 8)}`,
    trigger: 'manual',
    scheduledAt: null,
    owner,
    maxAttempts: 1,
  });
  try {
    const result = await job.run(store, now, now);
    if (run) await store.jobRuns.finish(run.id, { status: 'done', summary: summaryOf(result) });
    return result;
  } catch (err) {
    if (run) await store.jobRuns.finish(run.id, { status: 'failed', error: errorText(err) });
    throw err;
  }
}

/** A job as `ppay jobs list` shows it. */
export interface JobStatus {
  job: ScheduledJobName;
  /** The cron expression, or null when the job is switched off. */
  schedule: string | null;
  /** The next slot (ISO instant) after now; null when off. */
  nextRun: string | null;
  /** The most recently started run, scheduled or manual. */
  lastRun: {
    trigger: 'schedule' | 'manual';
    scheduledAt: string | null;
    startedAt: string;
    finishedAt: string | null;
    status: JobRun['status'];
    attempts: number;
    owner: string;
    summary: string | null;
    error: string | null;
  } | null;
}

export async function jobStatuses(
  store: Store,
  jobs: readonly ScheduledJob[],
  schedule: JobSchedule,
  now = new Date(),
): Promise<JobStatus[]> {
  const statuses: JobStatus[] = [];
  for (const job of jobs) {
    const expression = schedule[job.name];
    const last = await store.jobRuns.latestStarted(job.name);
    statuses.push({
      job: job.name,
      schedule: expression,
      nextRun: expression ? (nextSlot(expression, now)?.toISOString() ?? null) : null,
      lastRun: last
        ? {
            trigger: last.trigger,
            scheduledAt: last.scheduledAt,
            startedAt: last.startedAt,
            finishedAt: last.finishedAt,
            status: last.status,
            attempts: last.attempts,
            owner: last.owner,
            summary: last.summary,
            error: last.error,
          }
        : null,
    });
  }
  return statuses;
}

/** `2026-11-28 02:00` in Europe/Rome, or `-`. */
function romeMinute(iso: string | null): string {
  return iso ? romeDateTime(new Date(iso)).slice(0, 16).replace('T', ' ') : '-';
}

function outcomeOf(status: JobStatus): string {
  const last = status.lastRun;
  if (!last) return 'never run';
  const attempts = last.attempts > 1 ? ` (attempt ${last.attempts})` : '';
  const error = last.status === 'failed' && last.error ? `: ${last.error}` : '';
  return `${last.status}${attempts}${error}`;
}

/** The plain-text table of `ppay jobs list`, times in Europe/Rome. */
export function describeJobs(statuses: readonly JobStatus[]): string {
  const header = ['job', 'schedule', 'last run', 'trigger', 'next run', 'last outcome'];
  const rows = statuses.map((s) => [
    s.job,
    s.schedule ?? 'off',
    romeMinute(s.lastRun?.startedAt ?? null),
    s.lastRun
      ? s.lastRun.trigger === 'manual'
        ? 'manual'
        : `slot ${romeMinute(s.lastRun.scheduledAt)}`
      : '-',
    romeMinute(s.nextRun),
    outcomeOf(s),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\ntimes in ${SCHEDULE_TIME_ZONE}\n`;
}

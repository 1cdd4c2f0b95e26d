// Runs of scheduled jobs (src/batch/scheduler.ts), one row per (job, run key): the key of a
// scheduled run is its slot, so a second instance or a restart finds the slot taken. begin() is
// called under the job's lock (job_locks), so it needs no transaction of its own; its conditional
// update still refuses to restart a row that changed since it was read.

import type { Db } from '../knex.ts';
import { isUniqueViolation } from '../errors.ts';
import { insertedId, toInt, type Clock } from '../rows.ts';

export type JobRunTrigger = 'schedule' | 'manual';
export type JobRunStatus = 'running' | 'done' | 'failed';

export interface JobRun {
  id: number;
  jobName: string;
  runKey: string;
  trigger: JobRunTrigger;
  /** The slot (ISO instant) a scheduled run stands for; null for a manual run. */
  scheduledAt: string | null;
  status: JobRunStatus;
  attempts: number;
  owner: string;
  startedAt: string;
  finishedAt: string | null;
  /** What the job returned, as compact JSON (cut to a few KB). */
  summary: string | null;
  error: string | null;
}

export interface BeginJobRun {
  jobName: string;
  runKey: string;
  trigger: JobRunTrigger;
  scheduledAt: string | null;
  owner: string;
  /** A run already tried this many times is not started again. */
  maxAttempts: number;
}

interface JobRunRow {
  id: number | string;
  job_name: string;
  run_key: string;
  trigger: JobRunTrigger;
  scheduled_at: string | null;
  status: JobRunStatus;
  attempts: number | string;
  owner: string;
  started_at: string;
  finished_at: string | null;
  summary: string | null;
  error: string | null;
}

function toJobRun(row: JobRunRow): JobRun {
  return {
    id: toInt(row.id),
    jobName: row.job_name,
    runKey: row.run_key,
    trigger: row.trigger,
    scheduledAt: row.scheduled_at,
    status: row.status,
    attempts: toInt(row.attempts),
    owner: row.owner,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    summary: row.summary,
    error: row.error,
  };
}

export function createJobRunsRepository(db: Db, clock: Clock) {
  const find = async (jobName: string, runKey: string): Promise<JobRun | null> => {
    const row = await db<JobRunRow>('job_runs').where({ job_name: jobName, run_key: runKey }).first();
    return row ? toJobRun(row) : null;
  };

  const insertRunning = async (input: BeginJobRun): Promise<JobRun | null> => {
    try {
      const id = insertedId(
        await db('job_runs')
          .insert({
            job_name: input.jobName,
            run_key: input.runKey,
            trigger: input.trigger,
            scheduled_at: input.scheduledAt,
            status: 'running',
            attempts: 1,
            owner: input.owner,
            started_at: clock().toISOString(),
          })
          .returning('id'),
      );
      const row = await db<JobRunRow>('job_runs').where({ id }).first();
      return row ? toJobRun(row) : null;
    } catch (err) {
      // Another instance recorded the slot between our read and our insert: it is theirs.
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  };

  const restart = async (run: JobRun, owner: string): Promise<JobRun | null> => {
    const changed = await db('job_runs')
      .where({ id: run.id, attempts: run.attempts, status: run.status })
      .update({
        status: 'running',
        attempts: run.attempts + 1,
        owner,
        started_at: clock().toISOString(),
        finished_at: null,
        error: null,
      });
    return changed === 0 ? null : find(run.jobName, run.runKey);
  };

  return {
    find,

    /**
     * Starts a run: records it as running, or restarts one whose earlier attempt failed or was
     * abandoned (a crashed instance left it running). Null when the run is done, has used up its
     * attempts, or another instance got there first. Call it under the job's lock.
     */
    async begin(input: BeginJobRun): Promise<JobRun | null> {
      const existing = await find(input.jobName, input.runKey);
      if (!existing) return insertRunning(input);
      if (existing.status === 'done' || existing.attempts >= input.maxAttempts) return null;
      return restart(existing, input.owner);
    },

    /** Records how a run ended. */
    async finish(
      id: number,
      outcome: { status: 'done' | 'failed'; summary?: string | null; error?: string | null },
    ) {
      await db('job_runs')
        .where({ id })
        .update({
          status: outcome.status,
          finished_at: clock().toISOString(),
          summary: outcome.summary ?? null,
          error: outcome.error ?? null,
        });
    },

    /** The job's scheduled run with the latest slot, whatever its status. */
    async latestScheduled(jobName: string): Promise<JobRun | null> {
      const row = await db<JobRunRow>('job_runs')
        .where({ job_name: jobName, trigger: 'schedule' })
        .orderBy('scheduled_at', 'desc')
        .first();
      return row ? toJobRun(row) : null;
    },

    /** The job's most recently started run, scheduled or manual. */
    async latestStarted(jobName: string): Promise<JobRun | null> {
      const row = await db<JobRunRow>('job_runs')
        .where({ job_name: jobName })
        .orderBy([
          { column: 'started_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .first();
      return row ? toJobRun(row) : null;
    },

    /** Every run of the job's scheduled slots, oldest slot first (for tests and operators). */
    async listScheduled(jobName: string): Promise<JobRun[]> {
      const rows = await db<JobRunRow>('job_runs')
        .where({ job_name: jobName, trigger: 'schedule' })
        .orderBy('scheduled_at');
      return rows.map(toJobRun);
    },
  };
}

export type JobRunsRepository = ReturnType<typeof createJobRunsRepository>;

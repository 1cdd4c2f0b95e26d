// The job scheduler on every database of the matrix, with a simulated clock: each slot of a job's
// cron runs once (recorded in job_runs), missed slots collapse into one run, a failure is retried
// up to MAX_ATTEMPTS, a run abandoned by a dead instance is taken over once its lock expires, and
// two scheduler instances ticking together on one database run every slot exactly once. Plus
// manual runs (`ppay jobs run`) and the `ppay jobs list` view.

import { expect } from 'chai';
import { createStore, type Store } from '../../src/db/store.ts';
import { forEachDatabase } from '../support/db.ts';
import {
  describeJobs,
  JobScheduler,
  jobLockName,
  jobStatuses,
  MAX_ATTEMPTS,
  runJobNow,
  type ScheduledJob,
} from '../../src/batch/scheduler.ts';
import { resolveJobSchedule, type JobSchedule, type ScheduledJobName } from '../../src/batch/schedule.ts';

const HOUR_MS = 3600_000;

/** Only `job` on, with this cron. */
function only(job: ScheduledJobName, cron: string): JobSchedule {
  const off = (
    [
      'notifyExpiredNotices',
      'reconcile',
      'reconciliationExport',
      'paymentsExport',
      'expiredNoticesExport',
    ] as const
  )
    .filter((name) => name !== job)
    .map((name) => `${name}=off`);
  return resolveJobSchedule([...off, `${job}=${cron}`].join(';'), 2);
}

/** A job that records the slots it was run for, taking `ms` each time. */
function recorder(name: ScheduledJobName, ms = 0): { job: ScheduledJob; slots: string[] } {
  const slots: string[] = [];
  return {
    slots,
    job: {
      name,
      run: async (_store, _now, scheduledAt) => {
        slots.push(scheduledAt.toISOString());
        if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
        return { status: 'done', slot: scheduledAt.toISOString() };
      },
    },
  };
}

forEachDatabase('job scheduler', (ctx) => {
  let now = Date.parse('2026-11-26T00:30:00Z');
  const clock = () => new Date(now);
  /** A store on its own connection (PostgreSQL) or on the suite's (SQLite, one writer per process). */
  const instanceStore = (): Store =>
    ctx.dialect === 'sqlite' ? ctx.storeWith({ clock }) : createStore(ctx.connect(), { clock });

  // Each test uses a job name of its own: job_runs and job_locks are shared by the suite.
  function scheduler(
    job: ScheduledJob,
    schedule: JobSchedule,
    extra: { owner?: string; store?: Store } = {},
  ) {
    return new JobScheduler({
      store: extra.store ?? ctx.storeWith({ clock }),
      jobs: [job],
      schedule,
      clock,
      owner: extra.owner ?? 'instance-A',
      onError: () => undefined,
    });
  }

  const at = (iso: string) => {
    now = Date.parse(iso);
    return new Date(now);
  };

  it('runs a slot once, then nothing until the next slot (02:00 Europe/Rome = 01:00Z in winter)', async () => {
    const { job, slots } = recorder('notifyExpiredNotices');
    const s = scheduler(job, only('notifyExpiredNotices', '0 2 * * *'));
    // The first tick of a new installation runs the latest slot, yesterday's.
    expect(await s.tick(at('2026-11-26T00:30:00Z'))).to.deep.equal([
      { job: 'notifyExpiredNotices', scheduledAt: '2026-11-25T01:00:00.000Z', status: 'done', attempt: 1 },
    ]);
    expect(await s.tick(at('2026-11-26T00:59:00Z'))).to.deep.equal([]);
    expect((await s.tick(at('2026-11-26T01:00:30Z'))).map((r) => r.scheduledAt)).to.deep.equal([
      '2026-11-26T01:00:00.000Z',
    ]);
    expect(await s.tick(at('2026-11-26T13:00:00Z'))).to.deep.equal([]);
    // A restarted instance (a new scheduler object) finds the slot done in the database.
    const restarted = scheduler(job, only('notifyExpiredNotices', '0 2 * * *'), { owner: 'instance-A2' });
    expect(await restarted.tick(at('2026-11-26T14:00:00Z'))).to.deep.equal([]);
    expect(slots).to.deep.equal(['2026-11-25T01:00:00.000Z', '2026-11-26T01:00:00.000Z']);
    const runs = await ctx.store.jobRuns.listScheduled('notifyExpiredNotices');
    expect(runs.map((r) => [r.scheduledAt, r.status, r.attempts, r.trigger])).to.deep.equal([
      ['2026-11-25T01:00:00.000Z', 'done', 1, 'schedule'],
      ['2026-11-26T01:00:00.000Z', 'done', 1, 'schedule'],
    ]);
    expect(JSON.parse(runs[1]!.summary!)).to.deep.equal({ status: 'done', slot: '2026-11-26T01:00:00.000Z' });
    expect(await ctx.store.locks.holder(jobLockName('notifyExpiredNotices'))).to.equal(null);
  });

  it('runs the slots missed while every instance was down once, as the latest slot', async () => {
    const { job, slots } = recorder('reconcile');
    const s = scheduler(job, only('reconcile', '0 2 * * *'));
    await s.tick(at('2026-11-20T01:30:00Z'));
    // Down from the 20th to the 24th at 10:00 Rome: four nights missed, one run.
    const ran = await s.tick(at('2026-11-24T09:00:00Z'));
    expect(ran.map((r) => r.scheduledAt)).to.deep.equal(['2026-11-24T01:00:00.000Z']);
    expect(slots).to.deep.equal(['2026-11-20T01:00:00.000Z', '2026-11-24T01:00:00.000Z']);
  });

  it('retries a failed slot at the next ticks up to MAX_ATTEMPTS, recording each error', async () => {
    let calls = 0;
    const errors: string[] = [];
    const flaky: ScheduledJob = {
      name: 'paymentsExport',
      run: () => {
        calls += 1;
        return Promise.reject(new Error(`database busy ${calls}`));
      },
    };
    const s = new JobScheduler({
      store: ctx.storeWith({ clock }),
      jobs: [flaky],
      schedule: only('paymentsExport', '0 3 * * *'),
      clock,
      onError: (name, err) => errors.push(`${name}: ${(err as Error).message}`),
    });
    const statuses: string[] = [];
    for (let minute = 0; minute < MAX_ATTEMPTS + 2; minute++) {
      const ran = await s.tick(at(`2026-11-26T02:0${minute}:00Z`));
      statuses.push(ran.map((r) => `${r.status}#${r.attempt}`).join(','));
    }
    expect(statuses).to.deep.equal(['failed#1', 'failed#2', 'failed#3', '', '']);
    expect(calls).to.equal(MAX_ATTEMPTS);
    expect(errors).to.deep.equal([
      'paymentsExport: database busy 1',
      'paymentsExport: database busy 2',
      'paymentsExport: database busy 3',
    ]);
    const [run] = (await ctx.store.jobRuns.listScheduled('paymentsExport')).slice(-1);
    expect(run).to.include({ status: 'failed', attempts: 3, error: 'database busy 3' });
    // The next slot is tried afresh.
    expect((await s.tick(at('2026-11-27T02:00:00Z'))).map((r) => r.attempt)).to.deep.equal([1]);
  });

  it("counts a run that found the job's own lock held as failed, and retries it", async () => {
    let locked = true;
    const job: ScheduledJob = {
      name: 'reconciliationExport',
      run: () =>
        Promise.resolve(locked ? { status: 'locked', exports: [] } : { status: 'done', exports: [] }),
    };
    const s = scheduler(job, only('reconciliationExport', '30 2 * * *'));
    expect((await s.tick(at('2026-11-26T01:31:00Z'))).map((r) => r.status)).to.deep.equal(['failed']);
    locked = false;
    expect((await s.tick(at('2026-11-26T01:32:00Z'))).map((r) => [r.status, r.attempt])).to.deep.equal([
      ['done', 2],
    ]);
  });

  it('takes over a run whose instance died once its lock expires, and not before', async () => {
    const { job, slots } = recorder('expiredNoticesExport');
    const schedule = only('expiredNoticesExport', '0 4 * * *');
    const slot = '2026-11-26T03:00:00.000Z';
    // A dead instance took the lock and recorded the slot as running, then vanished.
    const dead = ctx.storeWith({ clock: () => new Date('2026-11-26T03:00:05Z') });
    expect(await dead.locks.acquire(jobLockName('expiredNoticesExport'), 'dead', 5 * 60_000)).to.equal(true);
    await dead.jobRuns.begin({
      jobName: 'expiredNoticesExport',
      runKey: slot,
      trigger: 'schedule',
      scheduledAt: slot,
      owner: 'dead',
      maxAttempts: MAX_ATTEMPTS,
    });
    const s = scheduler(job, schedule, { owner: 'survivor' });
    expect(await s.tick(at('2026-11-26T03:04:00Z'))).to.deep.equal([]);
    expect(await s.tick(at('2026-11-26T03:06:00Z'))).to.deep.equal([
      { job: 'expiredNoticesExport', scheduledAt: slot, status: 'done', attempt: 2 },
    ]);
    expect(slots).to.deep.equal([slot]);
    expect(await ctx.store.jobRuns.find('expiredNoticesExport', slot)).to.include({
      status: 'done',
      owner: 'survivor',
      attempts: 2,
    });
  });

  it('with two instances ticking together on one database, runs every slot exactly once', async () => {
    const { job, slots } = recorder('notifyExpiredNotices', 20);
    // A cron of its own so this test's slots are new: every 10 minutes on the 28th.
    const schedule = only('notifyExpiredNotices', '*/10 * 28 11 *');
    const a = scheduler(job, schedule, { owner: 'instance-A', store: instanceStore() });
    const b = scheduler(job, schedule, { owner: 'instance-B', store: instanceStore() });
    const ranBy: Record<string, string[]> = { A: [], B: [] };
    at('2026-11-27T23:00:00Z'); // 00:00 on the 28th in Rome
    for (let tick = 0; tick < 36; tick++) {
      // Instances tick every 5 minutes, at the same moment: each slot is raced for.
      const [byA, byB] = await Promise.all([a.tick(clock()), b.tick(clock())]);
      ranBy.A!.push(...byA.map((r) => r.scheduledAt));
      ranBy.B!.push(...byB.map((r) => r.scheduledAt));
      now += 5 * 60_000;
    }
    const expected = Array.from({ length: 18 }, (_, i) =>
      new Date(Date.parse('2026-11-27T23:00:00Z') + (i * HOUR_MS) / 6).toISOString(),
    );
    expect([...slots].sort()).to.deep.equal(expected);
    expect([...ranBy.A!, ...ranBy.B!].sort()).to.deep.equal(expected);
    const runs = (await ctx.store.jobRuns.listScheduled('notifyExpiredNotices')).filter((r) =>
      r.scheduledAt!.startsWith('2026-11-2'),
    );
    const ofThisTest = runs.filter((r) => expected.includes(r.scheduledAt!));
    expect(ofThisTest.map((r) => [r.scheduledAt, r.status, r.attempts])).to.deep.equal(
      expected.map((slot) => [slot, 'done', 1]),
    );
  });

  it('records manual runs beside the schedule and lists every job with its last and next run', async () => {
    const { job, slots } = recorder('reconcile');
    const manualAt = at('2026-12-01T10:00:00Z');
    const result = await runJobNow(ctx.storeWith({ clock }), job, { now: manualAt, owner: 'operator' });
    expect(result).to.deep.equal({ status: 'done', slot: '2026-12-01T10:00:00.000Z' });
    expect(slots).to.deep.equal(['2026-12-01T10:00:00.000Z']);
    const failing: ScheduledJob = {
      name: 'paymentsExport',
      run: () => Promise.reject(new Error('disk full')),
    };
    const error = await runJobNow(ctx.storeWith({ clock }), failing, { now: manualAt }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).to.equal('disk full');

    const schedule = resolveJobSchedule('paymentsExport=off', 2);
    const statuses = await jobStatuses(ctx.store, [job, failing], schedule, manualAt);
    expect(
      statuses.map((s) => [s.job, s.schedule, s.nextRun, s.lastRun?.trigger, s.lastRun?.status]),
    ).to.deep.equal([
      ['reconcile', '0 2 * * *', '2026-12-02T01:00:00.000Z', 'manual', 'done'],
      ['paymentsExport', null, null, 'manual', 'failed'],
    ]);
    const text = describeJobs(statuses);
    expect(text.split('\n')[0]).to.match(/^job +schedule +last run +trigger +next run +last outcome$/);
    expect(text).to.match(/\nreconcile +0 2 \* \* \* +2026-12-01 11:00 +manual +2026-12-02 02:00 +done\n/);
    expect(text).to.match(/\npaymentsExport +off +2026-12-01 11:00 +manual +- +failed: disk full\n/);
    expect(text.trimEnd().endsWith('times in Europe/Rome')).to.equal(true);
    // A manual run is not a slot: the scheduled run of the day still happens.
    const s = scheduler(job, only('reconcile', '0 2 * * *'));
    expect((await s.tick(at('2026-12-02T01:01:00Z'))).map((r) => r.scheduledAt)).to.deep.equal([
      '2026-12-02T01:00:00.000Z',
    ]);
  });
});

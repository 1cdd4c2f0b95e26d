// When the scheduled jobs run (issue 7 item 5, DESIGN §6): one cron expression per job, read once at
// start-up from PPAY_JOB_SCHEDULE and evaluated in Europe/Rome time with croner. Pure: this module
// computes slots (the instants a cron expression names); src/batch/scheduler.ts runs them.
//
// PPAY_JOB_SCHEDULE = `<job>=<cron>;<job>=<cron>...`, e.g. `reconcile=30 1 * * *;paymentsExport=off`.
// A cron is five fields (minute hour day-of-month month day-of-week, as in crontab(5)) or one of
// @hourly @daily @weekly @monthly @yearly; `off` switches the job off. A job left out runs daily at
// PPAY_NIGHTLY_HOUR:00 (reconciliationExport at :30, so it follows reconcile even when another
// instance runs that one). An unknown job, a bad cron or a cron that never fires stops start-up.
//
// Daylight saving time (Europe/Rome, croner's rules): a local time skipped when the clocks go forward
// runs one hour later (02:30 → 03:30 CEST), once; a local time that occurs twice when they go back
// runs once, at its second occurrence (02:30 CET).

import { Cron } from 'croner';
import { domainError } from '../domain/errors.ts';

export const SCHEDULE_TIME_ZONE = 'Europe/Rome';
export const SCHEDULE_VARIABLE = 'PPAY_JOB_SCHEDULE';

/** Every job the scheduler knows, in the order one instance runs them when several are due at once. */
export const SCHEDULED_JOB_NAMES = [
  'notifyExpiredNotices',
  'reconcile',
  'reconciliationExport',
  'paymentsExport',
  'expiredNoticesExport',
] as const;
export type ScheduledJobName = (typeof SCHEDULED_JOB_NAMES)[number];

/** Each job's cron expression, or null when it is switched off. */
export type JobSchedule = Readonly<Record<ScheduledJobName, string | null>>;

const OFF = 'off';
const NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly'];
const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
/** How far back latestSlot looks, widening step by step so a frequent cron costs few iterations. */
const LOOKBACK_MS = [HOUR_MS, 26 * HOUR_MS, 8 * DAY_MS, 32 * DAY_MS, 367 * DAY_MS];

function isJobName(name: string): name is ScheduledJobName {
  return (SCHEDULED_JOB_NAMES as readonly string[]).includes(name);
}

/** The default of a job without its own entry. */
export function defaultCron(job: ScheduledJobName, nightlyHour: number): string {
  return job === 'reconciliationExport' ? `30 ${nightlyHour} * * *` : `0 ${nightlyHour} * * *`;
}

const crons = new Map<string, Cron>();

/** croner's evaluator for an expression (cached: the same few expressions are asked every tick). */
function cronOf(expression: string): Cron {
  let cron = crons.get(expression);
  if (!cron) {
    cron = new Cron(expression, { timezone: SCHEDULE_TIME_ZONE, paused: true });
    crons.set(expression, cron);
  }
  return cron;
}

/** Why an expression is not an acceptable cron, or null when it is. */
export function cronProblem(expression: string): string | null {
  const fields = expression.split(' ');
  if (!NICKNAMES.includes(expression) && fields.length !== 5) {
    return `"${expression}" must have five fields (minute hour day month weekday) or be one of ${NICKNAMES.join(' ')}`;
  }
  let cron: Cron;
  try {
    cron = cronOf(expression);
  } catch (err) {
    return `"${expression}" is not a cron expression (${(err as Error).message})`;
  }
  if (cron.nextRun(new Date()) === null) return `"${expression}" never fires`;
  return null;
}

/**
 * The schedule of every job: PPAY_JOB_SCHEDULE's entries over the defaults. Throws CONFIG_INVALID
 * naming the variable and every problem found.
 */
export function resolveJobSchedule(raw: string | undefined, nightlyHour: number): JobSchedule {
  const schedule = Object.fromEntries(
    SCHEDULED_JOB_NAMES.map((job) => [job, defaultCron(job, nightlyHour)]),
  ) as Record<ScheduledJobName, string | null>;
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const entry of (raw ?? '').split(';')) {
    if (entry.trim() === '') continue;
    const equals = entry.indexOf('=');
    const name = equals < 0 ? entry.trim() : entry.slice(0, equals).trim();
    const expression =
      equals < 0
        ? ''
        : entry
            .slice(equals + 1)
            .trim()
            .replace(/\s+/g, ' ');
    if (!isJobName(name)) {
      problems.push(`unknown job "${name}" (jobs: ${SCHEDULED_JOB_NAMES.join(', ')})`);
    } else if (seen.has(name)) {
      problems.push(`${name} is given twice`);
    } else if (expression === '') {
      problems.push(`${name} has no cron expression (write ${name}=<cron> or ${name}=${OFF})`);
    } else {
      seen.add(name);
      const problem = expression === OFF ? null : cronProblem(expression);
      if (problem) problems.push(`${name}: ${problem}`);
      else schedule[name] = expression === OFF ? null : expression;
    }
  }
  if (problems.length > 0) {
    throw domainError(
      'CONFIG_INVALID',
      `invalid configuration:\n${problems.map((p) => `  ${SCHEDULE_VARIABLE}: ${p}`).join('\n')}`,
      { variables: [SCHEDULE_VARIABLE] },
    );
  }
  return Object.freeze(schedule);
}

/** The first slot strictly after `after`, or null when the expression never fires again. */
export function nextSlot(expression: string, after: Date): Date | null {
  return cronOf(expression).nextRun(after);
}

/** The last slot at or after `from` (exclusive) and at or before `now`, or null. */
function lastSlotBetween(expression: string, from: Date, now: Date): Date | null {
  let last: Date | null = null;
  for (let slot = nextSlot(expression, from); slot && slot <= now; slot = nextSlot(expression, slot)) {
    last = slot;
  }
  return last;
}

/**
 * The latest slot at or before `now`: the run that is due. With `since`, only slots at or after it
 * count (pass the last slot already recorded, so a run is not looked for further back than needed).
 * Without, it looks back up to a year. Null when no slot qualifies.
 */
export function latestSlot(expression: string, now: Date, since?: Date): Date | null {
  for (const window of LOOKBACK_MS) {
    const horizon = new Date(now.getTime() - window);
    const bounded = since !== undefined && since.getTime() > horizon.getTime();
    // nextSlot is strict: start one millisecond early so a slot exactly at `since` counts.
    const from = bounded ? new Date(since.getTime() - 1) : horizon;
    const found = lastSlotBetween(expression, from, now);
    if (found || bounded) return found;
  }
  return null;
}

// Cron schedules of the scheduled jobs (src/batch/schedule.ts): PPAY_JOB_SCHEDULE read over the
// PPAY_NIGHTLY_HOUR defaults and refused with CONFIG_INVALID naming the variable, and the slots a
// cron names in Europe/Rome time: the due (latest) slot, missed slots collapsing into one, and the
// two daylight-saving change days of 2026 (29 March, 25 October).

import { expect } from 'chai';
import { loadConfig } from '../../../src/config.ts';
import { isDomainError } from '../../../src/domain/errors.ts';
import {
  latestSlot,
  nextSlot,
  resolveJobSchedule,
  SCHEDULED_JOB_NAMES,
} from '../../../src/batch/schedule.ts';

const iso = (d: Date | null) => d?.toISOString() ?? null;

function configProblem(raw: string): { variables: unknown; message: string } {
  try {
    resolveJobSchedule(raw, 2);
  } catch (err) {
    if (isDomainError(err, 'CONFIG_INVALID'))
      return { variables: err.details.variables, message: err.message };
    throw err;
  }
  throw new Error(`"${raw}" was accepted`);
}

/** Every slot in [from, to], following nextSlot. */
function slotsBetween(expression: string, from: string, to: string): string[] {
  const slots: string[] = [];
  for (
    let s = nextSlot(expression, new Date(Date.parse(from) - 1));
    s && s <= new Date(to);
    s = nextSlot(expression, s)
  ) {
    slots.push(s.toISOString());
  }
  return slots;
}

describe('job schedule configuration (PPAY_JOB_SCHEDULE)', () => {
  it('runs every job daily at PPAY_NIGHTLY_HOUR, the reconciliation export half an hour later', () => {
    expect(resolveJobSchedule(undefined, 2)).to.deep.equal({
      notifyExpiredNotices: '0 2 * * *',
      reconcile: '0 2 * * *',
      reconciliationExport: '30 2 * * *',
      paymentsExport: '0 2 * * *',
      expiredNoticesExport: '0 2 * * *',
    });
    expect(loadConfig({ PPAY_NIGHTLY_HOUR: '4' }).jobSchedule.reconcile).to.equal('0 4 * * *');
    expect(Object.keys(resolveJobSchedule('', 2))).to.deep.equal([...SCHEDULED_JOB_NAMES]);
  });

  it('takes per-job crons and `off`, tolerating spaces and an empty entry', () => {
    const schedule = resolveJobSchedule(
      ' reconcile = 15  1 * * 1-5 ;paymentsExport=off;;expiredNoticesExport=@daily',
      3,
    );
    expect(schedule).to.deep.include({
      reconcile: '15 1 * * 1-5',
      paymentsExport: null,
      expiredNoticesExport: '@daily',
      notifyExpiredNotices: '0 3 * * *',
    });
    expect(Object.isFrozen(schedule)).to.equal(true);
  });

  it('refuses an unknown job, a repeated job, a missing or bad cron and one that never fires, naming each', () => {
    for (const [raw, expected] of [
      ['nightlyImport=0 2 * * *', 'unknown job "nightlyImport"'],
      ['reconcile=0 2 * * *;reconcile=0 3 * * *', 'reconcile is given twice'],
      ['reconcile', 'reconcile has no cron expression'],
      ['reconcile=61 2 * * *', 'reconcile: "61 2 * * *" is not a cron expression'],
      ['reconcile=0 0 2 * * *', 'must have five fields'],
      ['reconcile=0 2 * *', 'must have five fields'],
      ['reconcile=0 0 31 2 *', 'never fires'],
    ] as const) {
      const problem = configProblem(raw);
      expect(problem.variables).to.deep.equal(['PPAY_JOB_SCHEDULE']);
      expect(problem.message, raw).to.contain(expected);
    }
    const both = configProblem('reconcile=x;paymentsExport=0 25 * * *');
    expect(both.message.split('\n').filter((l) => l.includes('PPAY_JOB_SCHEDULE'))).to.have.length(2);
  });

  it('stops start-up through loadConfig with CONFIG_INVALID', () => {
    let error: unknown;
    try {
      loadConfig({ PPAY_JOB_SCHEDULE: 'reconcile=every night' });
    } catch (err) {
      error = err;
    }
    expect(isDomainError(error, 'CONFIG_INVALID')).to.equal(true);
  });
});

describe('cron slots in Europe/Rome time', () => {
  it('reads the hour as Italian time: 02:00 is 01:00Z in winter and 00:00Z in summer', () => {
    expect(iso(nextSlot('0 2 * * *', new Date('2026-11-26T12:00:00Z')))).to.equal('2026-11-27T01:00:00.000Z');
    expect(iso(nextSlot('0 2 * * *', new Date('2026-07-01T12:00:00Z')))).to.equal('2026-07-02T00:00:00.000Z');
  });

  it('gives the latest slot at or before now as the due one, none before the first', () => {
    const cron = '0 2 * * *';
    expect(iso(latestSlot(cron, new Date('2026-11-26T00:59:59Z')))).to.equal('2026-11-25T01:00:00.000Z');
    expect(iso(latestSlot(cron, new Date('2026-11-26T01:00:00Z')))).to.equal('2026-11-26T01:00:00.000Z');
    expect(iso(latestSlot(cron, new Date('2026-11-26T13:00:00Z')))).to.equal('2026-11-26T01:00:00.000Z');
    // With `since` (the last recorded slot) nothing earlier counts, the recorded slot itself does.
    const since = new Date('2026-11-26T01:00:00Z');
    expect(iso(latestSlot(cron, new Date('2026-11-26T13:00:00Z'), since))).to.equal(
      '2026-11-26T01:00:00.000Z',
    );
    expect(latestSlot(cron, new Date('2026-11-26T00:30:00Z'), since)).to.equal(null);
  });

  it('collapses slots missed while down into the latest one', () => {
    // Down from Monday 23 to Thursday 26 November at 10:00: the three missed nights are one run.
    const now = new Date('2026-11-26T09:00:00Z');
    expect(iso(latestSlot('0 2 * * *', now, new Date('2026-11-22T01:00:00Z')))).to.equal(
      '2026-11-26T01:00:00.000Z',
    );
    expect(iso(latestSlot('*/15 * * * *', now, new Date('2026-11-22T01:00:00Z')))).to.equal(
      '2026-11-26T09:00:00.000Z',
    );
  });

  it('finds the due slot of sparse crons up to a year back', () => {
    const now = new Date('2026-11-26T09:00:00Z');
    expect(iso(latestSlot('0 3 * * 1', now))).to.equal('2026-11-23T02:00:00.000Z'); // Monday 03:00 CET
    expect(iso(latestSlot('0 0 1 * *', now))).to.equal('2026-10-31T23:00:00.000Z'); // 1 Nov 00:00 CET
    expect(iso(latestSlot('@yearly', now))).to.equal('2025-12-31T23:00:00.000Z');
    expect(iso(latestSlot('* * * * *', now))).to.equal('2026-11-26T09:00:00.000Z');
  });

  it('on the spring-forward day (29 March 2026) runs a skipped local time once, an hour later', () => {
    // 02:00–02:59 does not exist: the clocks jump from 02:00 CET (01:00Z) to 03:00 CEST.
    expect(slotsBetween('30 2 * * *', '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z')).to.deep.equal([
      '2026-03-29T01:30:00.000Z', // 03:30 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
    expect(slotsBetween('0 2 * * *', '2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z')).to.deep.equal([
      '2026-03-29T01:00:00.000Z', // 03:00 CEST
    ]);
    // An untouched hour keeps its local time, so the gap between the two nights is 23 hours.
    expect(slotsBetween('30 1 * * *', '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z')).to.deep.equal([
      '2026-03-29T00:30:00.000Z',
      '2026-03-29T23:30:00.000Z',
    ]);
    expect(iso(latestSlot('30 2 * * *', new Date('2026-03-29T01:29:00Z')))).to.equal(
      '2026-03-28T01:30:00.000Z',
    );
    expect(iso(latestSlot('30 2 * * *', new Date('2026-03-29T01:30:00Z')))).to.equal(
      '2026-03-29T01:30:00.000Z',
    );
  });

  it('on the fall-back day (25 October 2026) runs a local time that occurs twice once', () => {
    // 02:00–02:59 happens twice: CEST (00:00Z–00:59Z), then CET (01:00Z–01:59Z).
    expect(slotsBetween('30 2 * * *', '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).to.deep.equal([
      '2026-10-25T01:30:00.000Z', // 02:30 CET, the second 02:30
      '2026-10-26T01:30:00.000Z',
    ]);
    const hourly = slotsBetween('0 * * * *', '2026-10-24T23:30:00Z', '2026-10-25T02:30:00Z');
    expect(hourly).to.have.length(new Set(hourly).size);
    expect(hourly).to.include('2026-10-25T01:00:00.000Z');
    // The 25-hour day still has one 01:30 and one 03:00.
    expect(slotsBetween('30 1 * * *', '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z')).to.deep.equal([
      '2026-10-24T23:30:00.000Z',
    ]);
    expect(slotsBetween('0 3 * * *', '2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z')).to.deep.equal([
      '2026-10-25T02:00:00.000Z',
    ]);
  });
});

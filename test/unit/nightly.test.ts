import { expect } from 'chai';
import { NightlyScheduler, type NightlyJob } from '../../src/app/nightly.ts';
import type { Store } from '../../src/db/store.ts';

function recorder(): { job: NightlyJob; runs: string[] } {
  const runs: string[] = [];
  return { runs, job: { name: 'report', run: async (_store, now) => void runs.push(now.toISOString()) } };
}

const store = {} as Store;

describe('nightly scheduler', () => {
  it('runs nothing before the configured hour (Europe/Rome)', async () => {
    const { job, runs } = recorder();
    const s = new NightlyScheduler(store, { hour: 2, reservationMaxDays: 30 }, [job]);
    expect(await s.tick(new Date('2026-11-26T00:30:00Z'))).to.deep.equal([]); // 01:30 in Rome
    expect(runs).to.deep.equal([]);
  });

  it('runs each job once per Italian day, at or after the hour', async () => {
    const { job, runs } = recorder();
    const s = new NightlyScheduler(store, { hour: 2, reservationMaxDays: 30 }, [job]);
    expect(await s.tick(new Date('2026-11-26T01:05:00Z'))).to.deep.equal(['report']); // 02:05 in Rome
    expect(await s.tick(new Date('2026-11-26T13:00:00Z'))).to.deep.equal([]);
    expect(await s.tick(new Date('2026-11-27T01:10:00Z'))).to.deep.equal(['report']);
    expect(runs).to.have.length(2);
  });

  it('retries a failed job at the next tick and reports the failure', async () => {
    const errors: string[] = [];
    let attempts = 0;
    const flaky: NightlyJob = {
      name: 'flaky',
      run: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('database busy');
      },
    };
    const s = new NightlyScheduler(store, { hour: 0, reservationMaxDays: 30 }, [flaky], (job) =>
      errors.push(job),
    );
    expect(await s.tick(new Date('2026-11-26T10:00:00Z'))).to.deep.equal([]);
    expect(await s.tick(new Date('2026-11-26T10:05:00Z'))).to.deep.equal(['flaky']);
    expect(errors).to.deep.equal(['flaky']);
  });
});

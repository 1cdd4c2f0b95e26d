// Job locks: exclusive between connections, re-entrant for the owner, free again after expiry or
// release, so a nightly job runs on one instance only.

import { expect } from 'chai';
import { createStore } from '../../src/db/store.ts';
import { forEachDatabase } from '../support/db.ts';

let counter = 0;
const lockName = () => `nightly-${process.pid}-${++counter}`;

forEachDatabase('locks repository', (ctx) => {
  let now = Date.parse('2030-01-01T02:00:00.000Z');
  const clock = () => new Date(now);
  const instance = () => createStore(ctx.connect(), { clock });

  it('gives the lock to one of two connections only', async () => {
    const name = lockName();
    const [a, b] = [instance(), instance()];
    const outcomes = await Promise.all([
      a.locks.acquire(name, 'A', 60_000),
      b.locks.acquire(name, 'B', 60_000),
    ]);
    expect(outcomes.filter(Boolean)).to.have.length(1);
    const holder = await a.locks.holder(name);
    expect(holder?.owner).to.equal(outcomes[0] ? 'A' : 'B');
  });

  it('lets the owner extend its lock and refuses others until it expires', async () => {
    const name = lockName();
    const [a, b] = [instance(), instance()];
    expect(await a.locks.acquire(name, 'A', 60_000)).to.equal(true);
    now += 30_000;
    expect(await a.locks.acquire(name, 'A', 60_000), 'the owner re-acquires').to.equal(true);
    now += 59_000;
    expect(await b.locks.acquire(name, 'B', 60_000), 'still held after the extension').to.equal(false);
    now += 1_000;
    expect(await b.locks.acquire(name, 'B', 60_000), 'free once expired').to.equal(true);
    expect((await a.locks.holder(name))?.owner).to.equal('B');
    expect(await a.locks.release(name, 'A'), 'a former owner cannot release it').to.equal(false);
  });

  it('frees the lock on release', async () => {
    const name = lockName();
    const [a, b] = [instance(), instance()];
    await a.locks.acquire(name, 'A', 60_000);
    expect(await a.locks.release(name, 'A')).to.equal(true);
    expect(await a.locks.holder(name)).to.equal(null);
    expect(await b.locks.acquire(name, 'B', 60_000)).to.equal(true);
  });

  it('runs a job under the lock, skips it while another owner holds it, and releases after', async () => {
    const name = lockName();
    const [a, b] = [instance(), instance()];
    const outcome = await a.locks.runExclusive(name, 'A', 60_000, async () => {
      const nested = await b.locks.runExclusive(name, 'B', 60_000, () => Promise.resolve('ran'));
      expect(nested).to.deep.equal({ ran: false });
      return 42;
    });
    expect(outcome).to.deep.equal({ ran: true, result: 42 });
    expect(await a.locks.holder(name)).to.equal(null);
  });

  it('releases the lock when the job throws', async () => {
    const name = lockName();
    const a = instance();
    const failure = new Error('job failed');
    const error = await a.locks
      .runExclusive(name, 'A', 60_000, () => Promise.reject(failure))
      .catch((e: unknown) => e);
    expect(error).to.equal(failure);
    expect(await a.locks.holder(name)).to.equal(null);
  });
});

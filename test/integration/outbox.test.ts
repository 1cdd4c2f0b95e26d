// Outbox repository: enqueue inside a caller's transaction, claim of due messages (also by two
// competing workers), retry with backoff, dead letters and replay, each status change logged.

import { expect } from 'chai';
import { createStore } from '../../src/db/store.ts';
import { forEachDatabase } from '../support/db.ts';
import { CHANGE } from './helpers.ts';

const T0 = new Date('2030-01-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1_000);

forEachDatabase('outbox repository', (ctx) => {
  // Every test starts from an empty outbox, so claims see only its own messages.
  beforeEach(() => ctx.db('outbox').delete());

  const store = () => ctx.storeWith({ clock: () => T0 });

  it('enqueues a pending message due now with its JSON payload', async () => {
    const message = await store().outbox.enqueue({
      topic: 'notifyPayment',
      target: 7,
      payload: { iuv: 'x', n: 1 },
    });
    expect(message.id).to.match(/^[0-9a-f-]{36}$/);
    expect(message).to.include({ topic: 'notifyPayment', target: '7', status: 'PENDING', attempts: 0 });
    expect(message).to.include({ nextAttemptAt: T0.toISOString(), lastError: null, deliveredAt: null });
    expect(message.payload).to.deep.equal({ iuv: 'x', n: 1 });
  });

  it("keeps a message only if the caller's transaction commits", async () => {
    await store()
      .transaction(async (trx) => {
        await trx.outbox.enqueue({ topic: 'notifyPayment', target: 1, payload: {} });
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    await store().transaction((trx) =>
      trx.outbox.enqueue({ topic: 'notifyUploadOutcome', target: 1, payload: {} }),
    );
    expect((await store().outbox.list()).map((m) => m.topic)).to.deep.equal(['notifyUploadOutcome']);
  });

  it('claims due messages oldest first, up to the limit, counting the attempt and leasing them', async () => {
    const outbox = store().outbox;
    const first = await outbox.enqueue({ topic: 'a', target: 1, payload: 1 });
    const second = await outbox.enqueue({ topic: 'b', target: 1, payload: 2 });
    await outbox.enqueue({ topic: 'later', target: 1, payload: 3, notBefore: at(60) });
    const claimed = await outbox.claimDue(at(1), 10, 30_000);
    expect(claimed.map((m) => m.id).sort()).to.deep.equal([first.id, second.id].sort());
    expect(claimed.map((m) => [m.attempts, m.nextAttemptAt])).to.deep.equal([
      [1, at(31).toISOString()],
      [1, at(31).toISOString()],
    ]);
    expect(await outbox.claimDue(at(2), 10, 30_000), 'leased messages are not due again').to.deep.equal([]);
    expect((await outbox.claimDue(at(61), 1, 30_000)).map((m) => m.topic)).to.have.length(1);
  });

  it('never gives the same message to two workers claiming at once', async () => {
    const outbox = store().outbox;
    for (let i = 0; i < 40; i++) await outbox.enqueue({ topic: 't', target: 1, payload: i });
    const workers = [createStore(ctx.connect()), createStore(ctx.connect()), createStore(ctx.connect())];
    const claims = await Promise.all(
      workers.map(async (worker) => {
        const ids: string[] = [];
        for (let round = 0; round < 20; round++)
          ids.push(...(await worker.outbox.claimDue(at(1), 4)).map((m) => m.id));
        return ids;
      }),
    );
    const all = claims.flat();
    expect(new Set(all).size, 'no message claimed twice').to.equal(all.length);
    const leftover = await outbox.claimDue(at(1), 100);
    expect(all.length + leftover.length, 'every message claimed once in the end').to.equal(40);
    expect(all.length).to.be.greaterThan(0);
  });

  it('retries a failed delivery later, then marks it delivered with an event', async () => {
    const outbox = store().outbox;
    const message = await outbox.enqueue({ topic: 't', target: 1, payload: {} });
    await outbox.claimDue(at(0), 1);
    expect(await outbox.markFailed(message.id, 'HTTP 503', at(120))).to.equal(true);
    expect(await outbox.claimDue(at(119), 1)).to.deep.equal([]);
    const [retry] = await outbox.claimDue(at(120), 1);
    expect(retry).to.include({ id: message.id, attempts: 2, lastError: 'HTTP 503' });
    expect(await outbox.markDelivered(message.id)).to.equal(true);
    expect(await outbox.markDelivered(message.id), 'only a pending message can be delivered').to.equal(false);
    const delivered = await outbox.get(message.id);
    expect(delivered).to.include({ status: 'DELIVERED', deliveredAt: T0.toISOString(), lastError: null });
    const events = await store().events.listFor('outbox', message.id);
    expect(events.map((e) => [e.fromStatus, e.toStatus])).to.deep.equal([['PENDING', 'DELIVERED']]);
  });

  it('marks a message dead, lists it, and replays it as a fresh pending message', async () => {
    const outbox = store().outbox;
    const message = await outbox.enqueue({ topic: 't', target: 1, payload: {} });
    await outbox.claimDue(at(0), 1);
    expect(await outbox.markDead(message.id, 'too many attempts')).to.equal(true);
    expect(await outbox.claimDue(at(3_600), 10)).to.deep.equal([]);
    expect((await outbox.list('DEAD')).map((m) => [m.id, m.lastError])).to.deep.equal([
      [message.id, 'too many attempts'],
    ]);
    expect(await outbox.list('PENDING')).to.deep.equal([]);
    const replayed = await outbox.replay(message.id, CHANGE);
    expect(replayed).to.include({ status: 'PENDING', attempts: 0, nextAttemptAt: T0.toISOString() });
    expect(await outbox.replay(message.id, CHANGE), 'only a dead letter can be replayed').to.equal(null);
    expect((await outbox.claimDue(at(0), 10)).map((m) => m.id)).to.deep.equal([message.id]);
    const events = await store().events.listFor('outbox', message.id);
    expect(events.map((e) => [e.fromStatus, e.toStatus, e.actor])).to.deep.equal([
      ['PENDING', 'DEAD', 'outbox-worker'],
      ['DEAD', 'PENDING', 'mocha'],
    ]);
  });

  it('answers false / null for unknown message ids', async () => {
    const outbox = store().outbox;
    expect(await outbox.markFailed('00000000-0000-0000-0000-000000000000', 'x', at(1))).to.equal(false);
    expect(await outbox.markDead('00000000-0000-0000-0000-000000000000', 'x')).to.equal(false);
    expect(await outbox.replay('00000000-0000-0000-0000-000000000000')).to.equal(null);
    expect(await outbox.get('00000000-0000-0000-0000-000000000000')).to.equal(null);
  });
});

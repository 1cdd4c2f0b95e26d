// The store facade: every repository is present, and transaction() rebinds all of them to one
// transaction, committed or rolled back as a whole; the event log is read back in order.

import { expect } from 'chai';
import { forEachDatabase, seedEnte } from '../support/db.ts';
import { CHANGE } from './helpers.ts';

const REPOSITORIES = [
  'brokers',
  'stations',
  'enti',
  'services',
  'clients',
  'positions',
  'iuv',
  'payments',
  'receipts',
  'events',
  'outbox',
  'locks',
] as const;

forEachDatabase('store facade', (ctx) => {
  it('exposes every repository', () => {
    for (const name of REPOSITORIES) expect(ctx.store[name], name).to.be.an('object');
  });

  it('binds every repository to the transaction and commits them together', async () => {
    const { ente } = await seedEnte(ctx.store);
    await ctx.store.transaction(async (trx) => {
      expect(trx.db.isTransaction).to.equal(true);
      await trx.enti.setStatus(ente.id, 'disabled');
      await trx.events.append({ entityType: 'ente', entityId: ente.id, action: 'disabled', ...CHANGE });
      await trx.outbox.enqueue({ topic: 'enteDisabled', target: 'ops', payload: { ente: ente.fiscalCode } });
    });
    expect((await ctx.store.enti.getById(ente.id))?.status).to.equal('disabled');
    expect(await ctx.store.events.listFor('ente', ente.id)).to.have.length(1);
    expect((await ctx.store.outbox.list()).some((m) => m.topic === 'enteDisabled')).to.equal(true);
  });

  it('rolls every repository back when the function throws', async () => {
    const { ente } = await seedEnte(ctx.store);
    const failure = new Error('boom');
    const error = await ctx.store
      .transaction(async (trx) => {
        await trx.enti.setStatus(ente.id, 'disabled');
        await trx.events.append({ entityType: 'ente', entityId: ente.id, action: 'disabled', ...CHANGE });
        await trx.iuv.record([{ enteId: ente.id, iuv: '01000000000000707', purpose: 'request' }]);
        throw failure;
      })
      .catch((e: unknown) => e);
    expect(error).to.equal(failure);
    expect((await ctx.store.enti.getById(ente.id))?.status).to.equal('active');
    expect(await ctx.store.events.listFor('ente', ente.id)).to.deep.equal([]);
    expect(await ctx.store.iuv.findByIuv(ente.id, '01000000000000707')).to.equal(null);
  });

  it('nests: an inner transaction that fails rolls back only its own writes', async () => {
    const { ente } = await seedEnte(ctx.store);
    await ctx.store.transaction(async (outer) => {
      await outer.events.append({ entityType: 'ente', entityId: ente.id, action: 'kept', ...CHANGE });
      await outer
        .transaction(async (inner) => {
          await inner.events.append({ entityType: 'ente', entityId: ente.id, action: 'dropped', ...CHANGE });
          throw new Error('inner failure');
        })
        .catch(() => undefined);
    });
    const actions = (await ctx.store.events.listFor('ente', ente.id)).map((e) => e.action);
    expect(actions).to.deep.equal(['kept']);
  });

  it('stores event payloads as JSON and returns events oldest first', async () => {
    const { ente } = await seedEnte(ctx.store);
    await ctx.store.events.append({
      entityType: 'ente',
      entityId: ente.id,
      action: 'one',
      ...CHANGE,
      payload: { a: [1] },
    });
    await ctx.store.events.append({ entityType: 'ente', entityId: ente.id, action: 'two', ...CHANGE });
    const events = await ctx.store.events.listFor('ente', ente.id);
    expect(events.map((e) => [e.action, e.payload])).to.deep.equal([
      ['one', { a: [1] }],
      ['two', null],
    ]);
    expect(events[0]?.occurredAt).to.match(/Z$/);
    expect(events[0]?.entityId).to.equal(String(ente.id));
  });
});

// Gestionale clients repository: credentials with their bindings, lookup by username, revocation.

import { expect } from 'chai';
import { forEachDatabase, seedEnte } from '../support/db.ts';
import { CHANGE, expectRejection } from './helpers.ts';

let counter = 0;
const username = () => `gest-${process.pid}-${++counter}`;

forEachDatabase('clients repository', (ctx) => {
  it('creates a client with its bindings and finds it by username', async () => {
    const { ente, service } = await seedEnte(ctx.store);
    const name = username();
    const client = await ctx.store.clients.create({
      username: name,
      passwordHash: 'scrypt$salt$hash',
      name: 'Fornitore SpA',
      enteIds: [ente.id],
      serviceIds: [service.id],
      models: ['sync', 'base'],
    });
    expect(client).to.include({
      username: name,
      passwordHash: 'scrypt$salt$hash',
      status: 'active',
      revokedAt: null,
    });
    expect(await ctx.store.clients.findByUsername(name)).to.deep.equal(client);
    expect(await ctx.store.clients.bindings(client.id)).to.deep.equal({
      enteIds: [ente.id],
      serviceIds: [service.id],
      models: ['base', 'sync'],
    });
  });

  it('answers null for an unknown username and empty bindings for a client bound to nothing', async () => {
    expect(await ctx.store.clients.findByUsername('nobody')).to.equal(null);
    const client = await ctx.store.clients.create({
      username: username(),
      passwordHash: 'h',
      name: 'n',
      enteIds: [],
      serviceIds: [],
      models: [],
    });
    expect(await ctx.store.clients.bindings(client.id)).to.deep.equal({
      enteIds: [],
      serviceIds: [],
      models: [],
    });
  });

  it('refuses a taken username as CLIENT_DUPLICATE and keeps no partial bindings', async () => {
    const { ente } = await seedEnte(ctx.store);
    const input = {
      username: username(),
      passwordHash: 'h',
      name: 'n',
      enteIds: [ente.id],
      serviceIds: [],
      models: [],
    };
    await ctx.store.clients.create(input);
    await expectRejection(ctx.store.clients.create({ ...input, models: ['multe'] }), 'CLIENT_DUPLICATE');
    const models = await ctx.db('client_models').where({ model: 'multe' }).count({ n: '*' });
    expect(Number(models[0]?.n)).to.equal(0);
  });

  it('rolls the client back when a binding names an unknown ente (ENTE_UNKNOWN)', async () => {
    const name = username();
    const input = {
      username: name,
      passwordHash: 'h',
      name: 'n',
      enteIds: [999_999],
      serviceIds: [],
      models: [],
    };
    await expectRejection(ctx.store.clients.create(input), 'ENTE_UNKNOWN');
    expect(await ctx.store.clients.findByUsername(name)).to.equal(null);
  });

  it('revokes an active client once, with an event', async () => {
    const client = await ctx.store.clients.create({
      username: username(),
      passwordHash: 'h',
      name: 'n',
      enteIds: [],
      serviceIds: [],
      models: ['base'],
    });
    expect(await ctx.store.clients.revoke(client.id, CHANGE)).to.equal(true);
    expect(await ctx.store.clients.revoke(client.id, CHANGE)).to.equal(false);
    const revoked = await ctx.store.clients.findByUsername(client.username);
    expect(revoked?.status).to.equal('revoked');
    expect(revoked?.revokedAt).to.be.a('string');
    const events = await ctx.store.events.listFor('client', client.id);
    expect(events.map((e) => [e.action, e.fromStatus, e.toStatus])).to.deep.equal([
      ['revoked', 'active', 'revoked'],
    ]);
  });
});

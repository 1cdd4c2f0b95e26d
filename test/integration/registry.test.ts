// Brokers, stations, enti and services repositories: create, natural-key lookups, lists, and the
// DomainError codes duplicates and dangling references become.

import { expect } from 'chai';
import { forEachDatabase, randomEnteFiscalCode, seedEnte, TEST_IBAN } from '../support/db.ts';
import { expectRejection } from './helpers.ts';

forEachDatabase('registry repositories (brokers, stations, enti, services)', (ctx) => {
  it('creates a broker and finds it by fiscal code and in the list', async () => {
    const fiscalCode = randomEnteFiscalCode();
    const broker = await ctx.store.brokers.create({ fiscalCode, name: 'Intermediario' });
    expect(broker).to.include({ fiscalCode, name: 'Intermediario' });
    expect(await ctx.store.brokers.getByFiscalCode(fiscalCode)).to.deep.equal(broker);
    expect((await ctx.store.brokers.list()).map((b) => b.id)).to.include(broker.id);
    expect(await ctx.store.brokers.getByFiscalCode('00000000000')).to.equal(null);
  });

  it('refuses a second broker with the same fiscal code as DUPLICATE', async () => {
    const fiscalCode = randomEnteFiscalCode();
    await ctx.store.brokers.create({ fiscalCode, name: 'one' });
    await expectRejection(ctx.store.brokers.create({ fiscalCode, name: 'two' }), 'DUPLICATE');
  });

  it('creates a station with its dialect and finds it by station id', async () => {
    const { broker, station } = await seedEnte(ctx.store);
    expect(station).to.include({
      brokerId: broker.id,
      dialect: 'current',
      status: 'active',
      password: 'password01',
    });
    expect(await ctx.store.stations.getByStationId(station.stationId)).to.deep.equal(station);
    expect((await ctx.store.stations.list()).map((s) => s.stationId)).to.include(station.stationId);
  });

  it('refuses a duplicate station id as DUPLICATE and an unknown broker as BROKER_UNKNOWN', async () => {
    const { broker, station } = await seedEnte(ctx.store);
    const input = {
      stationId: station.stationId,
      brokerId: broker.id,
      password: 'pw123456',
      dialect: 'legacy',
    } as const;
    await expectRejection(ctx.store.stations.create(input), 'DUPLICATE');
    await expectRejection(
      ctx.store.stations.create({ ...input, stationId: 'x_02', brokerId: 999_999 }),
      'BROKER_UNKNOWN',
    );
  });

  it('creates an ente with aux digit 3 by default and finds it by fiscal code', async () => {
    const { station, ente } = await seedEnte(ctx.store);
    expect(ente).to.include({
      stationId: station.id,
      auxDigit: 3,
      segregationCode: '01',
      applicationCode: null,
    });
    expect(ente).to.include({ iban: TEST_IBAN, status: 'active' });
    expect(ente.createdAt).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(await ctx.store.enti.getByFiscalCode(ente.fiscalCode)).to.deep.equal(ente);
    expect(await ctx.store.enti.getById(ente.id)).to.deep.equal(ente);
  });

  it('answers null for an unknown ente fiscal code', async () => {
    expect(await ctx.store.enti.getByFiscalCode('99999999999')).to.equal(null);
  });

  it('refuses a duplicate ente as ENTE_DUPLICATE and an unknown station as STATION_UNKNOWN', async () => {
    const { station, ente } = await seedEnte(ctx.store);
    const input = { fiscalCode: ente.fiscalCode, name: 'again', stationId: station.id };
    await expectRejection(ctx.store.enti.create(input), 'ENTE_DUPLICATE');
    await expectRejection(
      ctx.store.enti.create({ ...input, fiscalCode: randomEnteFiscalCode(), stationId: 999_999 }),
      'STATION_UNKNOWN',
    );
  });

  it('lists enti and disables one', async () => {
    const { ente } = await seedEnte(ctx.store);
    expect(await ctx.store.enti.setStatus(ente.id, 'disabled')).to.equal(true);
    const listed = (await ctx.store.enti.list()).find((e) => e.id === ente.id);
    expect(listed?.status).to.equal('disabled');
    expect(await ctx.store.enti.setStatus(999_999, 'disabled')).to.equal(false);
  });

  it('creates services, with the spontaneous flag and pagoPA service id, unique per ente and code', async () => {
    const { ente, service } = await seedEnte(ctx.store);
    expect(service).to.include({ enteId: ente.id, code: 'TARI', spontaneous: false, pagopaServiceId: null });
    const spontaneous = await ctx.store.services.create({
      enteId: ente.id,
      code: 'CIMITERO',
      description: 'Servizi cimiteriali',
      category: '9/0101100IM/',
      spontaneous: true,
      pagopaServiceId: '00001',
    });
    expect(spontaneous).to.include({ spontaneous: true, pagopaServiceId: '00001', iban: null });
    expect(await ctx.store.services.get(ente.id, 'CIMITERO')).to.deep.equal(spontaneous);
    expect(await ctx.store.services.get(ente.id, 'NOPE')).to.equal(null);
    expect((await ctx.store.services.listByEnte(ente.id)).map((s) => s.code)).to.deep.equal([
      'CIMITERO',
      'TARI',
    ]);
  });

  it('refuses a duplicate service code as SERVICE_DUPLICATE but allows it for another ente', async () => {
    const first = await seedEnte(ctx.store);
    const second = await seedEnte(ctx.store);
    const input = { enteId: first.ente.id, code: 'TARI', description: 'again', category: '9/0101108TS/' };
    await expectRejection(ctx.store.services.create(input), 'SERVICE_DUPLICATE');
    expect(second.service.code).to.equal('TARI');
    await expectRejection(ctx.store.services.create({ ...input, enteId: 999_999 }), 'ENTE_UNKNOWN');
  });
});

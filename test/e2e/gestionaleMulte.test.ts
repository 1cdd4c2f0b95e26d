// Multe con preavviso end to end (DESIGN §2, pagopa-facts §10): reserveNotices → the node is refused
// (paVerifyPaymentNotice on the real paForNode endpoint answers PAA_PAGAMENTO_SCONOSCIUTO) →
// activateNotice → the node gets the (reduced) amount → releaseNotices rules; every gestionale
// answer validated against xsd/gestionale.

import { expect } from 'chai';
import * as soap from 'soap';
import { forEachDatabase } from '../support/db.ts';
import { businessSnapshot, type TestServer } from '../support/soapServer.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { addDays, italianDate } from '../../src/domain/payability.ts';
import type { UploadWorker } from '../../src/app/gestionale/uploadWorker.ts';
import {
  addTestClient,
  DEMO,
  EC,
  expectKo,
  expectOk,
  gestionaleClient,
  list,
  NODE_CALLER,
  noticeNumbersIn,
  rawCall,
  startGestionaleServer,
  uid,
  type Answer,
  type GestionaleClient,
} from './gestionaleClient.ts';

interface NodeAnswer {
  outcome: string;
  fault?: { faultCode: string };
  paymentList?: { paymentOptionDescription: { amount: string | number } };
}

forEachDatabase('gestionale API, Multe con preavviso (SOAP end to end)', (ctx) => {
  let server: TestServer;
  let worker: UploadWorker;
  let demo: GestionaleClient;
  let tariOnly: GestionaleClient;
  let node: soap.Client;

  const today = italianDate(new Date());
  const dueDate = addDays(today, 60);
  const reducedUntil = addDays(today, 5);

  before(async () => {
    await seedDemo(ctx.store);
    ({ server, worker } = await startGestionaleServer(ctx.db, ctx.store));
    demo = await gestionaleClient(server, DEMO);
    tariOnly = await gestionaleClient(
      server,
      await addTestClient(ctx.store, {
        username: 'multe-tari-only',
        password: 'multe-tari-only-password',
        name: 'multe model but only the TARI service',
        enti: [EC],
        services: ['TARI'],
        models: ['multe'],
      }),
    );
    const endpoint = `${server.url}/ws/pagopa/paForNode`;
    node = await soap.createClientAsync(`${endpoint}?wsdl`, { endpoint });
  });
  after(async () => {
    await worker?.idle();
    await server?.close();
  });

  async function reserve(count: number): Promise<string[]> {
    const answer = await demo.call('reserveNotices', { enteFiscalCode: EC, serviceCode: 'MULTE', count });
    expectOk(answer);
    return list(answer.notice as Array<{ noticeNumber: string }>).map((n) => n.noticeNumber);
  }

  async function verify(noticeNumber: string): Promise<NodeAnswer> {
    const [answer] = (await node.paVerifyPaymentNoticeAsync({
      idPA: EC,
      idBrokerPA: NODE_CALLER.brokerFiscalCode,
      idStation: NODE_CALLER.stationId,
      qrCode: { fiscalCode: EC, noticeNumber },
    })) as [NodeAnswer];
    return answer;
  }

  function fine(noticeNumber: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      enteFiscalCode: EC,
      noticeNumber,
      ...('positionId' in extra ? { positionId: extra.positionId } : {}),
      ticketNumber: (extra.ticketNumber as string | undefined) ?? '2026/000123',
      plate: 'AB123CD',
      infringementDateTime: '2026-11-24T10:42:00+01:00',
      amountCents: (extra.amountCents as number | undefined) ?? 4200,
      dueDate,
      ...('reducedAmountCents' in extra
        ? { reducedAmountCents: extra.reducedAmountCents, reducedUntil: extra.reducedUntil ?? reducedUntil }
        : {}),
    };
  }

  async function stored(noticeNumber: string) {
    const ente = await ctx.store.enti.getByFiscalCode(EC);
    return (await ctx.store.positions.findByNoticeNumber(ente!.id, noticeNumber))!;
  }

  it('reserves unique inactive notices that the node does not know (PAA_PAGAMENTO_SCONOSCIUTO)', async () => {
    const notices = await reserve(3);
    expect(new Set(notices).size).to.equal(3);
    for (const noticeNumber of notices) {
      const position = await stored(noticeNumber);
      expect(position).to.include({ status: 'RESERVED', positionId: noticeNumber, debtor: null });
      const answer = await verify(noticeNumber);
      expect(answer.outcome).to.equal('KO');
      expect(answer.fault!.faultCode).to.equal('PAA_PAGAMENTO_SCONOSCIUTO');
    }
    const read = await demo.call('getDebtPosition', { enteFiscalCode: EC, noticeNumber: notices[0] });
    const view = read.position as Record<string, unknown>;
    expect(view).to.include({ status: 'RESERVED', serviceCode: 'MULTE' });
    expect(view.description).to.equal(undefined);
    const [option] = list(view.option as Array<Record<string, unknown>>);
    expect(option).to.include({ noticeNumber: notices[0], status: 'UNPAID' });
    expect(option!.amountCents).to.equal(undefined);
    expect(option!.transfer).to.equal(undefined);
  });

  it('answers a retried reservation (same requestId) with the same notices, reserving nothing new', async () => {
    const body = `<enteFiscalCode>${EC}</enteFiscalCode><serviceCode>MULTE</serviceCode><count>5</count><requestId>${uid('shift')}</requestId>`;
    const first = await rawCall(server, 'reserveNotices', body);
    const before = await businessSnapshot(ctx.db);
    const again = await rawCall(server, 'reserveNotices', body);
    expect(again.body).to.equal(first.body);
    expect(noticeNumbersIn(again.body)).to.have.length(5);
    expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
  });

  it('activates a notice: the node then gets the reduced amount, the position its fine details', async () => {
    const [noticeNumber] = await reserve(1);
    const positionId = uid('VERBALE');
    const answer = await demo.call(
      'activateNotice',
      fine(noticeNumber!, { positionId, reducedAmountCents: 2940 }),
    );
    expectOk(answer);
    expect(answer).to.include({ positionId, noticeNumber, status: 'VALID' });
    const verified = await verify(noticeNumber!);
    expect(verified.outcome).to.equal('OK');
    expect(Number(verified.paymentList!.paymentOptionDescription.amount)).to.equal(29.4);
    const position = await stored(noticeNumber!);
    expect(position.debtor).to.include({ fiscalCode: 'ANONIMO', type: 'F' });
    expect(position.multe).to.deep.equal({
      ticketNumber: '2026/000123',
      plate: 'AB123CD',
      reducedAmountCents: 2940,
      reducedUntil,
    });
    const read = await demo.call('getDebtPosition', { enteFiscalCode: EC, positionId });
    // node-soap's client turns xs:date and xs:dateTime into Date objects.
    const view = read.position as Record<string, Record<string, unknown>>;
    expect(view.fine).to.include({ ticketNumber: '2026/000123', plate: 'AB123CD' });
    expect(new Date(view.fine!.reducedUntil as string).toISOString().slice(0, 10)).to.equal(reducedUntil);
    expect(new Date(view.fine!.infringementDateTime as string).toISOString()).to.equal(
      '2026-11-24T09:42:00.000Z',
    );
    const [option] = list(view.option as unknown as Array<Record<string, unknown>>);
    expect(option).to.include({ noticeNumber, status: 'UNPAID' });
    expect(Number(option!.amountCents)).to.equal(4200);
  });

  it('answers the same activation again with OK and changes nothing', async () => {
    const [noticeNumber] = await reserve(1);
    const request = fine(noticeNumber!, { reducedAmountCents: 2940 });
    expectOk(await demo.call('activateNotice', request));
    const before = await businessSnapshot(ctx.db);
    const again = await demo.call('activateNotice', request);
    expect(again).to.include({ outcome: 'OK', status: 'VALID', positionId: noticeNumber });
    expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
  });

  it('refuses an active notice with other data (PPAY_NOTICE_ALREADY_ACTIVE)', async () => {
    const [noticeNumber] = await reserve(1);
    expectOk(await demo.call('activateNotice', fine(noticeNumber!)));
    const other = await demo.call('activateNotice', fine(noticeNumber!, { amountCents: 8400 }));
    expectKo(other, 'PPAY_NOTICE_ALREADY_ACTIVE');
    expect((await stored(noticeNumber!)).options[0]!.amountCents).to.equal(4200);
  });

  it('refuses a positionId already used in the ente (PPAY_POSITION_DUPLICATE), leaving the notice reserved', async () => {
    const [noticeNumber] = await reserve(1);
    const answer = await demo.call('activateNotice', fine(noticeNumber!, { positionId: 'DEMO-TARI-0001' }));
    expectKo(answer, 'PPAY_POSITION_DUPLICATE');
    expect(answer.fault!.field).to.equal('positionId');
    expect((await stored(noticeNumber!)).status).to.equal('RESERVED');
    expect((await verify(noticeNumber!)).fault!.faultCode).to.equal('PAA_PAGAMENTO_SCONOSCIUTO');
  });

  it('refuses invalid values (PPAY_INVALID_INPUT) and notices never reserved (PPAY_NOTICE_UNKNOWN)', async () => {
    const [noticeNumber] = await reserve(1);
    const tooMuch = await demo.call('activateNotice', fine(noticeNumber!, { reducedAmountCents: 5000 }));
    expectKo(tooMuch, 'PPAY_INVALID_INPUT');
    expect(tooMuch.fault!.field).to.equal('reducedAmountCents');
    const tari = await ctx.store.positions.findByPositionId(
      (await ctx.store.enti.getByFiscalCode(EC))!.id,
      'DEMO-TARI-0002',
    );
    expectKo(await demo.call('activateNotice', fine(tari!.options[0]!.noticeNumber!)), 'PPAY_NOTICE_UNKNOWN');
    expectKo(await tariOnly.call('activateNotice', fine(noticeNumber!)), 'PPAY_NOTICE_UNKNOWN');
    expect((await stored(noticeNumber!)).status).to.equal('RESERVED');
  });

  it('releases reserved notices (idempotent) and refuses to release an active one', async () => {
    const [free, active] = await reserve(2);
    expectOk(await demo.call('activateNotice', fine(active!)));
    const release = (noticeNumber: string[]) =>
      demo.call('releaseNotices', { enteFiscalCode: EC, noticeNumber, reason: 'fine turno' });
    const answer = await release([free!, active!, '301000000000000144']);
    expectOk(answer);
    const outcomes = list(answer.noticeOutcome as Array<Answer & { noticeNumber: string }>);
    expect(outcomes.map((o) => o.noticeNumber)).to.deep.equal([free, active, '301000000000000144']);
    expect(outcomes[0]!.outcome).to.equal('OK');
    expect(outcomes[1]!.fault!.faultCode).to.equal('PPAY_NOTICE_ALREADY_ACTIVE');
    expect(outcomes[2]!.fault!.faultCode).to.equal('PPAY_NOTICE_UNKNOWN');
    expect((await stored(free!)).status).to.equal('RELEASED');
    const again = await release([free!]);
    expect(list(again.noticeOutcome as Answer[])[0]!.outcome).to.equal('OK');
    expect((await verify(free!)).fault!.faultCode).to.equal('PAA_PAGAMENTO_SCONOSCIUTO');
    expectKo(await demo.call('activateNotice', fine(free!)), 'PPAY_INVALID_STATE');
  });

  it('keeps the multe operations to the multe model', async () => {
    const baseOnly = await gestionaleClient(
      server,
      await addTestClient(ctx.store, {
        username: 'base-only-for-multe',
        password: 'base-only-for-multe-password',
        name: 'base model only',
        enti: [EC],
        services: [],
        models: ['base'],
      }),
    );
    const before = await businessSnapshot(ctx.db);
    expectKo(
      await baseOnly.call('reserveNotices', { enteFiscalCode: EC, serviceCode: 'MULTE', count: 1 }),
      'PPAY_UNAUTHORIZED',
    );
    expectKo(
      await baseOnly.call('releaseNotices', { enteFiscalCode: EC, noticeNumber: ['301000000000000144'] }),
      'PPAY_UNAUTHORIZED',
    );
    expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
  });
});

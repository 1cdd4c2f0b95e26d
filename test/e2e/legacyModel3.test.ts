// Legacy model 3 end to end (pagopa-facts §3, §4): the emulator plays a PSP paying a printed notice of
// a legacy station (paaVerificaRPT → paaAttivaRPT → the connector's own nodoInviaRPT → paaInviaRT),
// a second attempt on the paid notice, and receipt recovery: an RT whose push was lost is fetched by
// the job with nodoChiediCopiaRT and pays the position once; the job's backoff, its lock, and an
// attempt the node never heard of.

import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { specAvailable } from '../support/officialSchemas.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { payNotice, type PaymentStep } from '../../src/emulator/index.ts';
import {
  RECEIPT_RECOVERY_LOCK,
  RT_RECOVERY,
  runReceiptRecovery,
} from '../../src/app/pagopa/receiptRecovery.ts';
import { startRptPayment } from '../../src/app/pagopa/rptPayments.ts';
import {
  COMUNE,
  expectValidDocument,
  rtBlackhole,
  startLegacyServer,
  UNIONE,
  useLegacyStation,
  type LegacyServer,
} from '../integration/pagopaLegacySupport.ts';

/** Steps as "<step> <outcome>[ <faultCode>]", the way the CLI prints them. */
const brief = (steps: PaymentStep[]) =>
  steps.map((s) => `${s.step} ${s.outcome}${s.faultCode ? ` ${s.faultCode}` : ''}`);

/** Far enough ahead that every attempt of the run is old enough to be chased. */
const LATER = () => new Date(Date.now() + 60 * 60_000);

forEachDatabase('legacy model 3 and receipt recovery through the emulated node', (ctx) => {
  let server: LegacyServer;
  let demo: DemoSummary;

  before(async function () {
    if (!specAvailable()) this.skip();
    demo = await seedDemo(ctx.store);
    await useLegacyStation(ctx);
    server = await startLegacyServer(ctx);
  });
  after(() => server?.close());

  function notice(positionId: string) {
    return demo.positions.find((p) => p.positionId === positionId)!;
  }

  async function enteId(fiscalCode: string): Promise<number> {
    return (await ctx.store.enti.getByFiscalCode(fiscalCode))!.id;
  }

  function pay(fiscalCode: string, noticeNumber: string, connectorUrl = server.url) {
    return payNotice({
      store: ctx.store,
      connectorUrl,
      enteFiscalCode: fiscalCode,
      noticeNumber,
      rptWaitMs: 5_000,
    });
  }

  it('pays a printed notice at a PSP: verify, activate, our RPT, the RT; a second attempt is PAA_PAGAMENTO_DUPLICATO', async () => {
    const p = notice('DEMO-TARI-0001');
    const result = await pay(COMUNE, p.noticeNumber);
    expect(brief(result.steps)).to.deep.equal([
      'paaVerificaRPT OK',
      'paaAttivaRPT OK',
      'nodoInviaRPT OK',
      'authorize OK',
      'paaInviaRT OK',
    ]);
    expect(result).to.include({ ok: true, dialect: 'legacy' });
    const position = await ctx.store.positions.findByIuv(await enteId(COMUNE), p.iuv);
    expect(position!.status).to.equal('PAID');
    const rpt = await server.edb.rpts.get({ idDominio: COMUNE, iuv: p.iuv, ccp: result.paymentToken! });
    expectValidDocument(rpt!.rptXml);
    expect(rpt).to.include({ tipoVersamento: 'PO', status: 'RT_ACCETTATA_PA' });

    const second = await pay(COMUNE, p.noticeNumber);
    expect(brief(second.steps)).to.deep.equal(['paaVerificaRPT KO PAA_PAGAMENTO_DUPLICATO']);
    expect(await ctx.store.receipts.listByIuv(await enteId(COMUNE), p.iuv)).to.have.length(1);
  });

  it('recovers an RT whose push was lost with nodoChiediCopiaRT, paying the position once', async () => {
    const p = notice('DEMO-CANONE-0001');
    const lossy = await rtBlackhole(server.url);
    let result;
    try {
      result = await pay(UNIONE, p.noticeNumber, lossy.url);
    } finally {
      await lossy.close();
    }
    expect(brief(result.steps).at(-1)).to.match(/^paaInviaRT KO /);
    const unione = await enteId(UNIONE);
    expect((await ctx.store.positions.findByIuv(unione, p.iuv))!.status).to.equal('VALID');
    const rt = await server.edb.rts.get({ idDominio: UNIONE, iuv: p.iuv, ccp: result.paymentToken! });
    expect(rt, 'the node holds the RT').to.include({ deliveryStatus: 'UNKNOWN', outcomeCode: '0' });

    const early = await runReceiptRecovery(ctx.store, server.node);
    const [attempt] = await ctx.store.payments.listByIuv(unione, p.iuv);
    expect(early.status).to.equal('done');
    expect(attempt!.status, 'not chased before it is old enough').to.equal('IN_PROGRESS');

    const summary = await runReceiptRecovery(ctx.store, server.node, { now: LATER() });
    expect(summary.status).to.equal('done');
    expect(summary.recovered).to.be.at.least(1);
    expect((await ctx.store.positions.findByIuv(unione, p.iuv))!.status).to.equal('PAID');
    const receipts = await ctx.store.receipts.listByIuv(unione, p.iuv);
    expect(receipts).to.have.length(1);
    expect(receipts[0]).to.include({ document: rt!.rtXml, ccp: result.paymentToken, amountCents: 45000 });
    const events = await ctx.store.events.listFor('payment', attempt!.id);
    expect(
      events.filter((e) => e.action === RT_RECOVERY).map((e) => (e.payload as { result: string }).result),
    ).to.deep.equal(['recovered']);
    const logged = await ctx
      .db('events')
      .where({ entity_type: 'soap_message', cause: 'NodoPerPa.nodoChiediCopiaRT', actor: 'node-client' })
      .count<{ n: number | string }[]>({ n: '*' });
    expect(Number(logged[0]!.n)).to.be.at.least(2);

    await runReceiptRecovery(ctx.store, server.node, { now: LATER() });
    expect(await ctx.store.receipts.listByIuv(unione, p.iuv), 'never paid twice').to.have.length(1);
  });

  it('asks nodoChiediStatoRPT while no RT exists and checks again only after its backoff', async () => {
    const p = notice('DEMO-TARI-0002');
    const started = await startRptPayment(ctx.store, server.node, {
      enteFiscalCode: COMUNE,
      noticeNumbers: [p.noticeNumber],
    });
    expect(started.status).to.equal('redirect');
    const [attempt] = await ctx.store.payments.listByIuv(await enteId(COMUNE), p.iuv);
    const now = LATER();
    await runReceiptRecovery(ctx.store, server.node, { now });
    const checks = (await ctx.store.events.listFor('payment', attempt!.id)).filter(
      (e) => e.action === RT_RECOVERY,
    );
    expect(checks).to.have.length(1);
    const payload = checks[0]!.payload as { result: string; nextCheckAt: string; detail: string };
    expect(payload).to.include({ result: 'pending', detail: 'RPT_ACCETTATA_NODO' });
    expect(Date.parse(payload.nextCheckAt)).to.equal(now.getTime() + 5 * 60_000);

    const soon = await runReceiptRecovery(ctx.store, server.node, { now: new Date(now.getTime() + 60_000) });
    expect(soon.waiting).to.be.at.least(1);
    expect(
      (await ctx.store.events.listFor('payment', attempt!.id)).filter((e) => e.action === RT_RECOVERY),
    ).to.have.length(1);
    expect((await ctx.store.payments.getById(attempt!.id))!.status).to.equal('IN_PROGRESS');
  });

  it('fails an attempt the node never heard of, so the notice can be paid again', async () => {
    const p = notice('DEMO-TARI-0003');
    const comune = await enteId(COMUNE);
    const position = await ctx.store.positions.findByIuv(comune, p.iuv);
    const ghost = await ctx.store.payments.create(
      {
        enteId: comune,
        optionId: position!.options[0]!.id,
        iuv: p.iuv,
        noticeNumber: p.noticeNumber,
        kind: 'rpt',
        ccpOrToken: 'GHOST-CCP-0001',
        status: 'IN_PROGRESS',
        amountCents: p.amountCents,
        requestDocument: '<RPT/>',
      },
      { cause: 'test: an RPT the node never received', actor: 'mocha' },
    );
    await runReceiptRecovery(ctx.store, server.node, { now: LATER() });
    expect((await ctx.store.payments.getById(ghost.id))!.status).to.equal('FAILED');
    const [check] = (await ctx.store.events.listFor('payment', ghost.id)).filter(
      (e) => e.action === RT_RECOVERY,
    );
    expect(check!.payload).to.include({ result: 'closed', detail: 'PPT_RPT_SCONOSCIUTA', nextCheckAt: null });
  });

  it('does nothing while another instance holds the job lock', async () => {
    expect(await ctx.store.locks.acquire(RECEIPT_RECOVERY_LOCK, 'another-instance', 60_000)).to.equal(true);
    try {
      const summary = await runReceiptRecovery(ctx.store, server.node, { now: LATER() });
      expect(summary).to.include({ status: 'locked', checked: 0 });
    } finally {
      await ctx.store.locks.release(RECEIPT_RECOVERY_LOCK, 'another-instance');
    }
  });
});

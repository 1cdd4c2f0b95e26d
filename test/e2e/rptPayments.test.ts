// Model 1 with RPT/RT end to end (pagopa-facts §3): the connector builds and sends the RPTs of an
// online payment to the emulated node (one RPT, a cart, the two RPTs of a multi-beneficiary notice),
// gets the checkout URL, the citizen pays (or gives up) on the emulator's page, and the RTs come back
// through paaInviaRT. Every RPT and RT is checked against our schema and the official one. A
// current-model station gets a checkout cart instead.

import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { specAvailable } from '../support/officialSchemas.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import {
  startCheckoutPayment,
  startOnlinePayment,
  startRptPayment,
  type CheckoutPaymentResult,
  type RptPaymentResult,
} from '../../src/app/pagopa/rptPayments.ts';
import {
  COMUNE,
  documentField,
  expectValidDocument,
  PSP,
  STATION,
  startLegacyServer,
  UNIONE,
  useLegacyStation,
  type LegacyServer,
} from '../integration/pagopaLegacySupport.ts';

type Redirect = Extract<RptPaymentResult, { status: 'redirect' }>;

const RETURN_URLS = {
  returnOkUrl: 'https://ente.example.org/ok',
  returnCancelUrl: 'https://ente.example.org/cancel',
  returnErrorUrl: 'https://ente.example.org/error',
};

forEachDatabase('model 1 online payments with RPT/RT through the emulated node', (ctx) => {
  let server: LegacyServer;
  let demo: DemoSummary;

  before(async function () {
    if (!specAvailable()) this.skip();
    demo = await seedDemo(ctx.store);
    server = await startLegacyServer(ctx);
  });
  after(() => server?.close());

  function notice(positionId: string) {
    return demo.positions.find((p) => p.positionId === positionId)!;
  }

  async function enteId(fiscalCode: string): Promise<number> {
    return (await ctx.store.enti.getByFiscalCode(fiscalCode))!.id;
  }

  function redirected(result: RptPaymentResult | CheckoutPaymentResult): Redirect {
    expect(result.status, JSON.stringify(result)).to.equal('redirect');
    return result as Redirect;
  }

  /** The cart id in the node's checkout URL. */
  function cartOf(url: string): string {
    const match = /\/emulator\/checkout\/([^/?#]+)$/.exec(url);
    expect(match, url).to.not.equal(null);
    return decodeURIComponent(match![1]!);
  }

  /** The citizen on the emulator's checkout page: pays with a PSP, or cancels. */
  async function checkout(url: string, action: 'pay' | 'cancel'): Promise<number> {
    const res = await fetch(`${url}/${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: action === 'pay' ? `psp=${PSP.idPSP}` : '',
      redirect: 'manual',
    });
    return res.status;
  }

  async function positionStatus(fiscalCode: string, iuv: string): Promise<string> {
    return (await ctx.store.positions.findByIuv(await enteId(fiscalCode), iuv))!.status;
  }

  describe('on a legacy station', () => {
    before(() => useLegacyStation(ctx));

    it('sends one RPT with nodoInviaRPT, redirects to the node, and closes the position on the RT', async () => {
      const p = notice('DEMO-TARI-0001');
      const result = redirected(
        await startOnlinePayment(ctx.store, server.node, {
          enteFiscalCode: COMUNE,
          noticeNumbers: [p.noticeNumber],
          returnUrls: RETURN_URLS,
        }),
      );
      expect(result.cartId).to.equal(null);
      expect(result.url).to.match(new RegExp(`^${server.url}/emulator/checkout/`));
      const [rpt] = result.rpts;
      expectValidDocument(rpt!.rpt);
      expect(documentField(rpt!.rpt, 'tipoVersamento')).to.equal('BBT');
      expect(documentField(rpt!.rpt, 'importoTotaleDaVersare')).to.equal('120.30');
      expect(documentField(rpt!.rpt, 'identificativoStazioneRichiedente')).to.equal(STATION);
      const stored = await server.edb.rpts.get({ idDominio: COMUNE, iuv: p.iuv, ccp: rpt!.ccp });
      expect(stored).to.include({ rptXml: rpt!.rpt, pspId: 'AGID_01' });
      const [attempt] = result.attempts;
      expect(attempt).to.include({
        kind: 'rpt',
        status: 'IN_PROGRESS',
        ccpOrToken: rpt!.ccp,
        requestDocument: rpt!.rpt,
      });

      expect(await checkout(result.url, 'pay')).to.equal(303);
      expect(await positionStatus(COMUNE, p.iuv)).to.equal('PAID');
      const receipts = await ctx.store.receipts.listByIuv(await enteId(COMUNE), p.iuv);
      expect(receipts).to.have.length(1);
      expectValidDocument(receipts[0]!.document);
      expect(receipts[0]).to.include({
        ccp: rpt!.ccp,
        outcome: 'OK',
        amountCents: 12030,
        flaggedReason: null,
      });
      const attempts = await ctx.store.payments.listByIuv(await enteId(COMUNE), p.iuv);
      expect(attempts.map((a) => a.status)).to.deep.equal(['PAID']);
    });

    it('sends a cart of several notices with nodoInviaCarrelloRPT and a 35-character cart id', async () => {
      const notices = [notice('DEMO-TARI-0002'), notice('DEMO-TARI-0003')];
      const result = redirected(
        await startRptPayment(ctx.store, server.node, {
          enteFiscalCode: COMUNE,
          noticeNumbers: notices.map((n) => n.noticeNumber),
          psp: PSP,
        }),
      );
      expect(result.cartId).to.match(new RegExp(`^\\d{4}${COMUNE}01\\d{18}$`));
      expect(cartOf(result.url)).to.equal(result.cartId);
      expect(result.rpts).to.have.length(2);
      for (const rpt of result.rpts) expectValidDocument(rpt.rpt);
      expect(new Set(result.rpts.map((r) => r.ccp)).size).to.equal(2);
      const stored = await server.edb.rpts.listByCart(result.cartId!);
      expect(stored.map((r) => r.iuv)).to.deep.equal(notices.map((n) => n.iuv));

      expect(await checkout(result.url, 'pay')).to.equal(303);
      for (const n of notices) expect(await positionStatus(COMUNE, n.iuv)).to.equal('PAID');
    });

    it('sends the two RPTs of a multi-beneficiary notice, primary EC first, with the cart id as CCP', async () => {
      const p = notice('DEMO-TARI-TEFA-0001');
      const result = redirected(
        await startRptPayment(ctx.store, server.node, {
          enteFiscalCode: COMUNE,
          noticeNumbers: [p.noticeNumber],
        }),
      );
      expect(result.multiBeneficiary).to.equal(true);
      expect(result.cartId).to.equal(`${COMUNE}${p.noticeNumber}-00001`);
      expect(result.rpts.map((r) => [r.ente, r.iuv, r.ccp])).to.deep.equal([
        [COMUNE, p.iuv, result.cartId],
        [UNIONE, p.iuv, result.cartId],
      ]);
      for (const rpt of result.rpts) expectValidDocument(rpt.rpt);
      expect(documentField(result.rpts[0]!.rpt, 'importoTotaleDaVersare')).to.equal('70.00');
      expect(documentField(result.rpts[1]!.rpt, 'importoTotaleDaVersare')).to.equal('30.00');
      expect(documentField(result.rpts[1]!.rpt, 'ibanAccredito')).to.equal(demo.enti[1]!.iban);
      const cart = await server.edb.carts.get(result.cartId!);
      expect(cart).to.include({ multiBeneficiary: true });

      expect(await checkout(result.url, 'pay')).to.equal(303);
      expect(await positionStatus(COMUNE, p.iuv)).to.equal('PAID');
      const primary = await ctx.store.receipts.listByIuv(await enteId(COMUNE), p.iuv);
      const secondary = await ctx.store.receipts.listByIuv(await enteId(UNIONE), p.iuv);
      expect(primary.map((r) => r.amountCents)).to.deep.equal([7000]);
      expect(secondary.map((r) => [r.amountCents, r.flaggedReason])).to.deep.equal([
        [3000, 'SECONDARY_BENEFICIARY'],
      ]);
      const attempts = [
        ...(await ctx.store.payments.listByIuv(await enteId(COMUNE), p.iuv)),
        ...(await ctx.store.payments.listByIuv(await enteId(UNIONE), p.iuv)),
      ];
      expect(attempts.map((a) => [a.ccpOrToken, a.status])).to.deep.equal([
        [result.cartId, 'PAID'],
        [result.cartId, 'PAID'],
      ]);
      const events = await ctx.store.events.listFor(
        'position',
        (await ctx.store.positions.findByIuv(await enteId(COMUNE), p.iuv))!.id,
      );
      expect(events.filter((e) => e.toStatus === 'PAID')).to.have.length(1);
    });

    it('leaves the notice payable when the citizen gives up: negative RT, attempt FAILED, a new attempt allowed', async () => {
      const p = notice('DEMO-TARI-0004');
      const first = redirected(
        await startRptPayment(ctx.store, server.node, {
          enteFiscalCode: COMUNE,
          noticeNumbers: [p.noticeNumber],
        }),
      );
      const busy = await startRptPayment(ctx.store, server.node, {
        enteFiscalCode: COMUNE,
        noticeNumbers: [p.noticeNumber],
      }).catch((err: unknown) => err);
      expect(busy).to.include({ code: 'PAYMENT_IN_PROGRESS' });

      expect(await checkout(first.url, 'cancel')).to.equal(303);
      expect(await positionStatus(COMUNE, p.iuv)).to.equal('VALID');
      const [receipt] = await ctx.store.receipts.listByIuv(await enteId(COMUNE), p.iuv);
      expect(receipt).to.include({ outcome: 'KO', flaggedReason: 'NEGATIVE_OUTCOME' });
      expectValidDocument(receipt!.document);
      const again = redirected(
        await startRptPayment(ctx.store, server.node, {
          enteFiscalCode: COMUNE,
          noticeNumbers: [p.noticeNumber],
        }),
      );
      const attempts = await ctx.store.payments.listByIuv(await enteId(COMUNE), p.iuv);
      expect(attempts.map((a) => a.status)).to.deep.equal(['FAILED', 'IN_PROGRESS']);
      expect(attempts[1]!.ccpOrToken).to.equal(again.rpts[0]!.ccp);
    });

    it('fails the attempts and reports the fault when the node refuses the RPTs', async () => {
      const p = notice('DEMO-TARI-0005');
      const result = await startRptPayment(ctx.store, server.node, {
        enteFiscalCode: COMUNE,
        noticeNumbers: [p.noticeNumber],
        psp: { ...PSP, idChannel: 'NOSUCHCHANNEL' },
      });
      expect(result.status).to.equal('refused');
      expect(result).to.have.nested.property('fault.faultCode', 'PPT_CANALE_SCONOSCIUTO');
      expect(result.attempts.map((a) => a.status)).to.deep.equal(['FAILED']);
      expect(await positionStatus(COMUNE, p.iuv)).to.equal('VALID');
    });
  });

  describe('on a current-model station', () => {
    it('registers the notices in a checkout cart and returns its URL, recording nothing', async () => {
      const station = await ctx.store.stations.getByStationId(STATION);
      await ctx.store.stations.setDialect(station!.id, 'current');
      const notices = [notice('DEMO-CANONE-0001'), notice('DEMO-CANONE-0002')];
      const result = await startOnlinePayment(ctx.store, server.node, {
        enteFiscalCode: UNIONE,
        noticeNumbers: notices.map((n) => n.noticeNumber),
        returnUrls: RETURN_URLS,
      });
      expect(result.status).to.equal('redirect');
      const url = (result as { url: string }).url;
      const cart = await server.edb.carts.get(cartOf(url));
      expect(cart).to.include({ kind: 'checkout' });
      expect(
        (await server.edb.carts.notices(cart!.id)).map((n) => [n.noticeNumber, n.amountCents]),
      ).to.deep.equal(notices.map((n) => [n.noticeNumber, n.amountCents]));
      expect(await ctx.store.payments.listByIuv(await enteId(UNIONE), notices[0]!.iuv)).to.have.length(0);
      const direct = await startCheckoutPayment(ctx.store, server.node, {
        enteFiscalCode: UNIONE,
        noticeNumbers: [notice('DEMO-CANONE-0003').noticeNumber],
        returnUrls: RETURN_URLS,
      });
      expect(direct.status).to.equal('redirect');
    });
  });
});

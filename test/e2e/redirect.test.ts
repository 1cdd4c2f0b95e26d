// The redirect models end to end (DESIGN §2, §9): a real connector with the emulated node on port
// 0, a node-soap client built from the served WSDL with WS-Security, the citizen played by plain
// HTTP requests (landing page, form posts, the emulator's checkout form) and the gestionale's web
// server recording where the citizen comes back. Asincrona: createPaymentSession → landing page →
// pay → checkout → back to the gestionale → getPaymentStatus PAID → getReceipt. Sincrona: a cart
// of two → checkout → both PAID. Refusals: tampered, expired and reused links, return URLs outside
// the allow-list, a node that does not answer.

import { createLegacyEnte, createLegacyTariPosition } from '../integration/pagopaLegacySupport.ts';
import { expect } from 'chai';
import { forEachDatabase, randomEnteFiscalCode } from '../support/db.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { addClient } from '../../src/app/admin.ts';
import { NodeClient } from '../../src/pagopa/nodeClient.ts';
import type { Store } from '../../src/db/store.ts';
import {
  EC,
  expectKo,
  expectOk,
  gestionaleClient,
  list,
  positionArgs,
  uid,
  type Answer,
  type GestionaleClient,
} from './gestionaleClient.ts';
import {
  hop,
  italianToday,
  payOnCheckout,
  postForm,
  startRedirectServer,
  startReturnServer,
  type RedirectServer,
  type ReturnServer,
} from './redirectSupport.ts';

const CLIENT = { username: 'redirect-gestionale', password: 'redirect-gestionale-password' };
const LEGACY_CLIENT = { username: 'redirect-legacy', password: 'redirect-legacy-password' };
/** A second station of the demo broker, on the legacy dialect (SANP 2.x): model 1 RPT payments. */
const LEGACY_STATION = '12345678903_09';

type Obj = Record<string, unknown>;

forEachDatabase('redirect models: Asincrona and Sincrona through the emulated checkout', (ctx) => {
  let server: RedirectServer;
  let gestionale: ReturnServer;
  let client: GestionaleClient;
  let demo: DemoSummary;

  before(async () => {
    demo = await seedDemo(ctx.store);
    gestionale = await startReturnServer();
    await addClient(ctx.store, {
      ...CLIENT,
      name: 'gestionale of the redirect tests',
      enti: [EC],
      services: [],
      models: ['async', 'sync'],
      returnUrlPrefixes: [`${gestionale.url}/pratiche`],
    });
    server = await startRedirectServer(ctx);
    client = await gestionaleClient(server, CLIENT);
  });
  after(async () => {
    await server?.close();
    await gestionale?.close();
  });

  function demoPosition(positionId: string) {
    return demo.positions.find((p) => p.positionId === positionId)!;
  }

  function returnUrl(path: string): string {
    return `${gestionale.url}/pratiche/${path}`;
  }

  async function openSession(positionId: string, extra: Obj = {}): Promise<{ id: string; url: string }> {
    const answer = await client.call('createPaymentSession', {
      enteFiscalCode: EC,
      positionId,
      returnUrl: returnUrl(`esito?pratica=${positionId}`),
      cancelUrl: returnUrl('annullata'),
      ...extra,
    });
    expectOk(answer);
    return { id: answer.sessionId as string, url: answer.sessionUrl as string };
  }

  function tokenOf(sessionUrl: string): string {
    return sessionUrl.slice(sessionUrl.lastIndexOf('/') + 1);
  }

  describe('Asincrona', () => {
    let session: { id: string; url: string };
    const p = () => demoPosition('DEMO-TARI-0002');

    it('answers a signed session URL on the connector, valid for the configured time', async () => {
      const before = Date.now();
      session = await openSession('DEMO-TARI-0002');
      expect(session.url).to.match(new RegExp(`^${server.url}/pay/session/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
      const stored = await ctx.store.paymentSessions.get(session.id);
      expect(stored).to.include({
        status: 'OPEN',
        noticeNumber: p().noticeNumber,
        installment: 0,
        usedAt: null,
      });
      const ttl = Date.parse(stored!.expiresAt) - before;
      expect(ttl).to.be.within(29 * 60_000, 30 * 60_000 + 1000);
    });

    it('shows the position on the landing page with the Italian amount and both actions', async () => {
      const page = await hop(session.url);
      expect(page.status).to.equal(200);
      expect(page.text).to.include('Comune di Esempio');
      expect(page.text).to.include('01234567897');
      expect(page.text).to.include('TARI 2026 - DEMO-TARI-0002');
      expect(page.text).to.include('87,50 €');
      expect(page.text).to.include('31/01/2027');
      expect(page.text).to.include(p().noticeNumber);
      expect(page.text).to.include(p().iuv);
      expect(page.text).to.include('Giulia Bianchi');
      expect(page.text).to.include('>Paga online</button>');
      expect(page.text).to.include("Scarica l'avviso");
      expect(page.text).to.include('/pay/assets/css/bootstrap-italia.min.css');
      expect(page.text).to.not.match(/<script/i);
      const css = await fetch(`${server.url}/pay/assets/css/bootstrap-italia.min.css`);
      expect(css.status).to.equal(200);
      expect(css.headers.get('content-type')).to.match(/text\/css/);
      const again = await hop(session.url);
      expect(again.status, 'a reload is harmless').to.equal(200);
    });

    it('offers a printable notice with the pagoPA QR payload', async () => {
      const notice = await hop(`${session.url}/avviso`);
      expect(notice.status).to.equal(200);
      expect(notice.text).to.include(`PAGOPA|002|${p().noticeNumber}|${EC}|8750`);
      expect(notice.text).to.include('87,50 €');
      expect((await ctx.store.paymentSessions.get(session.id))!.status, 'the notice uses nothing').to.equal(
        'OPEN',
      );
    });

    it('pays through the emulated checkout and sends the citizen back to the gestionale', async () => {
      const pay = await postForm(`${session.url}/pay`);
      expect(pay.status, pay.text).to.equal(303);
      expect(pay.location).to.match(new RegExp(`^${server.url}/emulator/checkout/`));
      const paid = await payOnCheckout(pay.location!);
      expect(paid.status, paid.text).to.equal(303);
      expect(paid.location).to.equal(`${session.url}/done?outcome=OK`);
      const done = await hop(paid.location!);
      expect(done.status).to.equal(303);
      const back = new URL(done.location!);
      expect(`${back.origin}${back.pathname}`).to.equal(returnUrl('esito'));
      expect(back.searchParams.get('pratica')).to.equal('DEMO-TARI-0002');
      expect(back.searchParams.get('outcome')).to.equal('OK');
      expect(back.searchParams.get('sessionId')).to.equal(session.id);
      expect(back.searchParams.get('noticeNumber')).to.equal(p().noticeNumber);
      expect((await fetch(done.location!)).status).to.equal(200);
      expect(gestionale.hits.map((h) => h.pathname)).to.include('/pratiche/esito');
      expect((await ctx.store.paymentSessions.get(session.id))!.status).to.equal('COMPLETED');
    });

    it('reports the position PAID with its payment through getPaymentStatus', async () => {
      const answer = await client.call('getPaymentStatus', {
        enteFiscalCode: EC,
        positionId: 'DEMO-TARI-0002',
      });
      expectOk(answer);
      expect(answer.positionStatus).to.equal('PAID');
      const [option] = list(answer.option as Obj | Obj[]);
      expect(option).to.include({
        installment: '0',
        status: 'PAID',
        noticeNumber: p().noticeNumber,
        iuv: p().iuv,
      });
      const payment = option!.payment as Obj;
      expect(payment).to.include({ positionId: 'DEMO-TARI-0002', serviceCode: 'TARI', amountCents: '8750' });
      expect(payment.receiptId).to.be.a('string');
      expect(payment.pspName).to.be.a('string');
    });

    it('returns the stored receipt, by notice number and by receiptId', async () => {
      const byNotice = await client.call('getReceipt', {
        enteFiscalCode: EC,
        noticeNumber: p().noticeNumber,
      });
      expectOk(byNotice);
      const receipt = byNotice.receipt as Obj;
      expect(receipt).to.include({
        outcome: 'PAID',
        format: 'paSendRTV2',
        positionId: 'DEMO-TARI-0002',
        amountCents: '8750',
        enteFiscalCode: EC,
        iuv: p().iuv,
      });
      expect(receipt.iur).to.equal(receipt.receiptId);
      const document = Buffer.from(receipt.document as string, 'base64').toString('utf8');
      expect(document).to.include(`<receiptId>${receipt.receiptId as string}</receiptId>`);
      const byId = await client.call('getReceipt', { enteFiscalCode: EC, receiptId: receipt.receiptId });
      expectOk(byId);
      expect((byId.receipt as Obj).document).to.equal(receipt.document);
    });

    it('refuses a second payment with a used link, in Italian, while the page still opens', async () => {
      const again = await postForm(`${session.url}/pay`);
      expect(again.status).to.equal(409);
      expect(again.text).to.include('già stato utilizzato');
      const page = await hop(session.url);
      expect(page.status).to.equal(200);
      expect(page.text).to.not.include('>Paga online</button>');
    });

    it('refuses a tampered link with 400', async () => {
      const { url } = await openSession('DEMO-TARI-0005');
      const token = tokenOf(url);
      const [payload, mac] = token.split('.') as [string, string];
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      const base = `${server.url}/pay/session/`;
      for (const bad of [
        `${flip(payload, 5)}.${mac}`,
        `${payload}.${flip(mac, 3)}`,
        'not-a-token',
        `${payload}.`,
      ]) {
        const page = await hop(`${base}${bad}`);
        expect(page.status, bad).to.equal(400);
        expect(page.text).to.include('Collegamento non valido');
        expect((await postForm(`${base}${bad}/pay`)).status, bad).to.equal(400);
      }
    });

    it('refuses an expired link with 410', async () => {
      const { id, url } = await openSession('DEMO-TARI-0005');
      server.redirect.clock = () => new Date(Date.now() + 31 * 60_000);
      try {
        const page = await hop(url);
        expect(page.status).to.equal(410);
        expect(page.text).to.include('Collegamento scaduto');
        expect((await postForm(`${url}/pay`)).status).to.equal(410);
      } finally {
        delete server.redirect.clock;
      }
      expect((await ctx.store.paymentSessions.get(id))!.status).to.equal('OPEN');
    });

    it('gives the link back when the node does not answer, so the citizen can retry', async () => {
      const { id, url } = await openSession('DEMO-TARI-0004');
      server.redirect.access.attach(deadNode(ctx.store), server.url);
      try {
        const refused = await postForm(`${url}/pay`);
        expect(refused.status).to.equal(503);
        expect(refused.text).to.include('pagoPA non è raggiungibile');
      } finally {
        server.redirect.access.attach(server.node, server.url);
      }
      expect((await ctx.store.paymentSessions.get(id))!.status).to.equal('OPEN');
      const pay = await postForm(`${url}/pay`);
      expect(pay.status, pay.text).to.equal(303);
    });

    it('sends the citizen to the cancel URL when they give up on the landing page', async () => {
      const { id, url } = await openSession('DEMO-TARI-0006');
      const done = await hop(`${url}/done?outcome=OK`);
      const back = new URL(done.location!);
      expect(back.pathname).to.equal('/pratiche/annullata');
      expect(back.searchParams.get('outcome'), 'a link never used paid nothing').to.equal('CANCEL');
      expect(back.searchParams.get('sessionId')).to.equal(id);
    });

    it('refuses return and cancel URLs outside the allow-list', async () => {
      const port = new URL(gestionale.url).port;
      const refused: Array<[Obj, string]> = [
        [{ returnUrl: 'https://evil.example.org/pratiche/esito' }, 'returnUrl'],
        [{ returnUrl: `http://127.0.0.1:${port}@evil.example.org/pratiche/esito` }, 'returnUrl'],
        [{ returnUrl: `${gestionale.url}/praticheX/esito` }, 'returnUrl'],
        [{ returnUrl: `http://127.0.0.1:1/pratiche/esito` }, 'returnUrl'],
        [{ returnUrl: returnUrl('esito'), cancelUrl: 'https://evil.example.org/' }, 'cancelUrl'],
      ];
      for (const [urls, field] of refused) {
        const answer = await client.call('createPaymentSession', {
          enteFiscalCode: EC,
          positionId: 'DEMO-TARI-0001',
          ...urls,
        });
        expectKo(answer, 'PPAY_RETURN_URL_NOT_ALLOWED');
        expect(answer.fault?.field).to.equal(field);
      }
    });

    it('refuses a session for a paid position and for one the client cannot see', async () => {
      const paid = await client.call('createPaymentSession', {
        enteFiscalCode: EC,
        positionId: 'DEMO-TARI-0002',
        returnUrl: returnUrl('esito'),
      });
      expectKo(paid, 'PPAY_INVALID_STATE');
      const unknown = await client.call('createPaymentSession', {
        enteFiscalCode: EC,
        positionId: 'NO-SUCH-POSITION',
        returnUrl: returnUrl('esito'),
      });
      expectKo(unknown, 'PPAY_POSITION_UNKNOWN');
    });
  });

  describe('Asincrona on a legacy station (model 1 RPT)', () => {
    let legacyClient: GestionaleClient;
    let fiscalCode: string;
    const positionId = 'LEGACY-TARI-0001';

    before(async () => {
      const iban = demo.enti[0]!.iban!;
      fiscalCode = await createLegacyEnte(ctx.store, {
        brokerFiscalCode: demo.broker.fiscalCode,
        stationId: LEGACY_STATION,
        iban,
        fiscalCode: randomEnteFiscalCode(),
      });
      await createLegacyTariPosition(ctx.store, {
        enteFiscalCode: fiscalCode,
        positionId,
        amountCents: 5000,
        iban,
        cause: 'redirect e2e, legacy station',
      });
      await addClient(ctx.store, {
        ...LEGACY_CLIENT,
        name: 'gestionale of the legacy ente',
        enti: [fiscalCode],
        services: [],
        models: ['async'],
        returnUrlPrefixes: [`${gestionale.url}/pratiche`],
      });
      legacyClient = await gestionaleClient(server, LEGACY_CLIENT);
      // As `ppay emulator station <id> --redirect-url`: the node sends the citizen back to the connector.
      await server.edb.stations.update(LEGACY_STATION, { redirectUrl: `${server.url}/pay/rpt/return` });
    });

    it("pays with an RPT and comes back through the station's redirect URL to the gestionale", async () => {
      const answer = await legacyClient.call('createPaymentSession', {
        enteFiscalCode: fiscalCode,
        positionId,
        returnUrl: returnUrl(`esito?pratica=${positionId}`),
        cancelUrl: returnUrl('annullata'),
      });
      expectOk(answer);
      const sessionId = answer.sessionId as string;
      const sessionUrl = answer.sessionUrl as string;
      const landing = await hop(sessionUrl);
      expect(landing.status).to.equal(200);
      expect(landing.text).to.include('>Paga online</button>');

      const pay = await postForm(`${sessionUrl}/pay`);
      expect(pay.status, pay.text).to.equal(303);
      expect(pay.location).to.match(new RegExp(`^${server.url}/emulator/checkout/`));
      const stored = await ctx.store.paymentSessions.get(sessionId);
      const idSession = decodeURIComponent(pay.location!.slice(pay.location!.lastIndexOf('/') + 1));
      expect(stored).to.include({ status: 'STARTED', nodeSessionId: idSession });

      const paid = await payOnCheckout(pay.location!);
      expect(paid.status, paid.text).to.equal(303);
      const rptReturn = new URL(paid.location!);
      expect(`${rptReturn.origin}${rptReturn.pathname}`).to.equal(`${server.url}/pay/rpt/return`);
      expect(rptReturn.searchParams.get('idDominio')).to.equal(fiscalCode);
      expect(rptReturn.searchParams.get('idSession')).to.equal(idSession);
      expect(rptReturn.searchParams.get('esito')).to.equal('OK');

      const toDone = await hop(paid.location!);
      expect(toDone.status, toDone.text).to.equal(303);
      expect(toDone.location).to.equal(`${sessionUrl}/done?outcome=OK`);
      const done = await hop(toDone.location!);
      expect(done.status).to.equal(303);
      const back = new URL(done.location!);
      expect(`${back.origin}${back.pathname}`).to.equal(returnUrl('esito'));
      expect(back.searchParams.get('pratica')).to.equal(positionId);
      expect(back.searchParams.get('outcome')).to.equal('OK');
      expect(back.searchParams.get('sessionId')).to.equal(sessionId);
      expect((await fetch(done.location!)).status).to.equal(200);
      expect((await ctx.store.paymentSessions.get(sessionId))!.status).to.equal('COMPLETED');

      const status = await legacyClient.call('getPaymentStatus', { enteFiscalCode: fiscalCode, positionId });
      expectOk(status);
      expect(status.positionStatus).to.equal('PAID');
    });

    it('answers 400 in Italian for an idSession no payment session started', async () => {
      for (const query of [
        '?idDominio=01234567897&idSession=rpt-unknown&esito=OK',
        '?esito=OK',
        `?idDominio=01234567897&idSession=${encodeURIComponent('x'.repeat(200))}&esito=ERROR`,
      ]) {
        const page = await hop(`${server.url}/pay/rpt/return${query}`);
        expect(page.status, query).to.equal(400);
        expect(page.text).to.include('Pagamento non riconosciuto');
      }
    });
  });

  describe('Sincrona', () => {
    let answer: Answer;
    const newId = uid('SYNC');

    it('creates the new position, opens a cart of two and answers the checkout URL at once', async () => {
      answer = await client.call('startPayment', {
        enteFiscalCode: EC,
        serviceCode: 'TARI',
        cartItem: [
          { position: positionArgs(newId, [{ installment: 0, amountCents: 4200 }]) },
          { positionId: 'DEMO-TARI-0003' },
        ],
        returnUrl: returnUrl('carrello/esito'),
        cancelUrl: returnUrl('carrello/annullato'),
      });
      expectOk(answer);
      expect(answer.checkoutUrl).to.match(new RegExp(`^${server.url}/emulator/checkout/`));
      expect(answer.cartId).to.match(/^[0-9a-f]{32}$/);
      const notices = list(answer.cartNotice as Obj | Obj[]);
      expect(notices.map((n) => [n.positionId, n.installment, n.amountCents])).to.deep.equal([
        [newId, '0', '4200'],
        ['DEMO-TARI-0003', '0', '23400'],
      ]);
      expect(notices[1]!.noticeNumber).to.equal(demoPosition('DEMO-TARI-0003').noticeNumber);
      expect(Date.parse(answer.expiresAt as string)).to.be.greaterThan(Date.now());
    });

    it('pays the cart on the emulator and both positions are PAID', async () => {
      const paid = await payOnCheckout(answer.checkoutUrl as string);
      expect(paid.status).to.equal(303);
      const back = new URL(paid.location!);
      expect(back.pathname).to.equal('/pratiche/carrello/esito');
      expect(back.searchParams.get('outcome')).to.equal('OK');
      expect(back.searchParams.get('cartId')).to.equal(answer.cartId);
      for (const positionId of [newId, 'DEMO-TARI-0003']) {
        const status = await client.call('getPaymentStatus', { enteFiscalCode: EC, positionId });
        expectOk(status);
        expect(status.positionStatus, positionId).to.equal('PAID');
      }
    });

    it('answers NODE_UNAVAILABLE and keeps none of the cart when the node does not answer', async () => {
      const orphan = uid('SYNC-DOWN');
      server.redirect.access.attach(deadNode(ctx.store), server.url);
      let refused: Answer;
      try {
        refused = await client.call('startPayment', {
          enteFiscalCode: EC,
          serviceCode: 'TARI',
          cartItem: [{ position: positionArgs(orphan, [{ installment: 0, amountCents: 1500 }]) }],
          returnUrl: returnUrl('carrello/esito'),
        });
      } finally {
        server.redirect.access.attach(server.node, server.url);
      }
      expectKo(refused, 'PPAY_NODE_UNAVAILABLE');
      const ente = await ctx.store.enti.getByFiscalCode(EC);
      expect(await ctx.store.positions.findByPositionId(ente!.id, orphan)).to.equal(null);
    });

    it('refuses the whole cart when one item is not payable, creating nothing', async () => {
      const fresh = uid('SYNC-KO');
      const refused = await client.call('startPayment', {
        enteFiscalCode: EC,
        serviceCode: 'TARI',
        cartItem: [
          { position: positionArgs(fresh, [{ installment: 0, amountCents: 1500 }]) },
          { positionId: 'DEMO-TARI-0003' },
        ],
        returnUrl: returnUrl('carrello/esito'),
      });
      expectKo(refused, 'PPAY_INVALID_STATE');
      expect(refused.fault?.field).to.equal('cartItem[1]');
      const ente = await ctx.store.enti.getByFiscalCode(EC);
      expect(await ctx.store.positions.findByPositionId(ente!.id, fresh)).to.equal(null);
    });
  });

  describe('listPayments after the payments above', () => {
    it('pages the day’s payments in payment order', async () => {
      const today = italianToday();
      const first = await client.call('listPayments', {
        enteFiscalCode: EC,
        fromDate: today,
        toDate: today,
        pageNumber: 1,
        pageSize: 2,
      });
      expectOk(first);
      expect(first.pageInfo).to.deep.include({
        pageNumber: '1',
        pageSize: '2',
        totalItems: '3',
        totalPages: '2',
      });
      const second = await client.call('listPayments', {
        enteFiscalCode: EC,
        fromDate: today,
        toDate: today,
        pageNumber: 2,
        pageSize: 2,
      });
      const all = [...list(first.payment as Obj | Obj[]), ...list(second.payment as Obj | Obj[])];
      expect(all).to.have.length(3);
      expect(new Set(all.map((p) => p.receiptId)).size).to.equal(3);
      const times = all.map((p) => String(p.paymentDateTime));
      expect(times).to.deep.equal([...times].sort());
    });
  });
});

/** A node client aimed at a port nothing listens on: every call fails as "no answer". */
function deadNode(store: Store): NodeClient {
  return new NodeClient({ baseUrl: 'http://127.0.0.1:9/emulator', timeoutMs: 2000, store });
}

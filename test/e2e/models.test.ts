// The four integration models end to end (issue 5 acceptance, DESIGN §2): one connector with the
// emulated node mounted on port 0 and its callback worker polling the outbox, a fresh gestionale
// client bound to the demo ente whose callbackUrl is a test gestionale endpoint built by node-soap
// from our callback WSDL and whose return URLs point at a small local web server. Per model, from
// the gestionale's SOAP call through the payment on the emulator to notifyPayment received:
//   Base        uploadDebtPositions → a PSP pays the printed notice (model 3) → notifyPayment
//   Multe       reserveNotices → refused by the node → activateNotice → paid → notifyPayment
//   Asincrona   uploadDebtPositions → createPaymentSession → landing page → checkout → returnUrl
//   Sincrona    startPayment (inline position) → checkout → returnUrl → notifyPayment
// Every notifyPayment received validates against xsd/gestionale/gestionale-callback.xsd and carries
// the notificationId of its outbox row.

import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { TestGestionale, type ReceivedCallback } from '../support/callbackGestionale.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { addClient } from '../../src/app/admin.ts';
import { CallbackWorker } from '../../src/app/callbacks/worker.ts';
import { payNotice } from '../../src/emulator/index.ts';
import { addDays, italianDate } from '../../src/domain/payability.ts';
import {
  EC,
  expectOk,
  gestionaleClient,
  insertItem,
  list,
  positionArgs,
  uid,
  uploadArgs,
  type Answer,
  type GestionaleClient,
} from './gestionaleClient.ts';
import {
  hop,
  payOnCheckout,
  postForm,
  startRedirectServer,
  startReturnServer,
  type RedirectServer,
  type ReturnServer,
} from './redirectSupport.ts';

const CLIENT = { username: 'models-gestionale', password: 'models-gestionale-password' };
/** How long a test waits for something the connector does in the background. */
const WAIT_MS = 15_000;

type Obj = Record<string, unknown>;

interface NoticeAnswer {
  installment: number | string;
  iuv: string;
  noticeNumber: string;
}

/** What one notifyPayment must say about the payment it reports. */
interface ExpectedPayment {
  serviceCode: string;
  positionId: string;
  iuv: string;
  noticeNumber: string;
  amountCents: number;
  /** The receipt's IUR (receiptId), as getReceipt gives it. */
  iur: string;
}

async function waitFor<T>(what: string, probe: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

forEachDatabase('the four integration models', (ctx) => {
  // Nested so that its after hook (stopping the callback worker) runs before forEachDatabase's,
  // which destroys the database the worker polls.
  describe('from the SOAP call to notifyPayment', () => {
    let server: RedirectServer;
    let callbacks: TestGestionale;
    let web: ReturnServer;
    let worker: CallbackWorker;
    let client: GestionaleClient;
    let clientId: number;

    before(async () => {
      await seedDemo(ctx.store);
      callbacks = await TestGestionale.start();
      web = await startReturnServer();
      await addClient(ctx.store, {
        ...CLIENT,
        name: 'gestionale of the model scenarios',
        enti: [EC],
        services: [],
        models: ['base', 'multe', 'async', 'sync'],
        callbackUrl: callbacks.url,
        returnUrlPrefixes: [`${web.url}/pratiche`],
      });
      clientId = (await ctx.store.clients.findByUsername(CLIENT.username))!.id;
      server = await startRedirectServer(ctx);
      worker = new CallbackWorker(ctx.store, { maxAttempts: 5, baseDelayMs: 200, timeoutMs: 5000 });
      worker.start(50);
      client = await gestionaleClient(server, CLIENT);
    });
    after(async () => {
      await worker?.close();
      await server?.close();
      await web?.close();
      await callbacks?.stop();
    });

    function returnUrl(path: string): string {
      return `${web.url}/pratiche/${path}`;
    }

    /** Uploads one new position by SOAP and returns its single notice. */
    async function upload(serviceCode: string, amountCents: number) {
      const positionId = uid(`MOD-${serviceCode}`);
      const answer = await client.call(
        'uploadDebtPositions',
        uploadArgs(
          uid('msg'),
          [insertItem(positionArgs(positionId, [{ installment: 0, amountCents }]))],
          serviceCode,
        ),
      );
      expectOk(answer);
      const [item] = list(answer.itemOutcome as Array<{ outcome: string; notice: NoticeAnswer }>);
      expect(item?.outcome, JSON.stringify(answer)).to.equal('OK');
      const notices = list(item!.notice);
      expect(notices).to.have.length(1);
      return { positionId, notice: notices[0]! };
    }

    async function receiptOf(noticeNumber: string): Promise<Obj> {
      const answer = await client.call('getReceipt', { enteFiscalCode: EC, noticeNumber });
      expectOk(answer);
      const receipt = answer.receipt as Obj;
      expect(receipt.outcome).to.equal('PAID');
      return receipt;
    }

    async function expectPaid(positionId: string, noticeNumber: string): Promise<void> {
      const status = await client.call('getPaymentStatus', { enteFiscalCode: EC, positionId });
      expectOk(status);
      expect(status.positionStatus, JSON.stringify(status)).to.equal('PAID');
      const [option] = list(status.option as Obj | Obj[]);
      expect(option).to.include({ status: 'PAID', noticeNumber });
    }

    /**
     * Waits for the position's notifyPayment to be delivered and checks it arrived once, schema-valid,
     * under its outbox row's notificationId, with the payment's fields.
     */
    async function expectOneNotifyPayment(expected: ExpectedPayment): Promise<ReceivedCallback> {
      const rows = await waitFor(`the notifyPayment row of ${expected.positionId}`, async () => {
        const found = (await ctx.store.outbox.list()).filter(
          (r) =>
            r.topic === 'notifyPayment' &&
            (r.payload as { positionId?: string }).positionId === expected.positionId,
        );
        return found.length > 0 ? found : null;
      });
      expect(rows, `one notifyPayment queued for ${expected.positionId}`).to.have.length(1);
      const row = rows[0]!;
      expect(row.target).to.equal(String(clientId));
      await waitFor(`delivery of ${row.id}`, async () => {
        const current = (await ctx.store.outbox.get(row.id))!;
        expect(current.status, current.lastError ?? '').to.not.equal('DEAD');
        return current.status === 'DELIVERED' ? current : null;
      });

      const received = callbacks.received.filter(
        (r) => r.operation === 'notifyPayment' && r.args.positionId === expected.positionId,
      );
      expect(received, `notifyPayment received for ${expected.positionId}`).to.have.length(1);
      const callback = received[0]!;
      expect(callback.notificationId).to.be.a('string').and.not.equal('');
      expect(callback.notificationId).to.equal(row.id);
      expect(callback.args.notificationId).to.equal(row.id);

      const raw = callbacks.raw.filter((r) => r.xml.includes(`notificationId>${row.id}<`));
      expect(raw, `the request of ${row.id} as received`).to.have.length(1);
      expect(raw[0]!.xml).to.include('notifyPaymentRequest');
      expect(raw[0]!.problem, 'notifyPayment against gestionale-callback.xsd').to.equal(null);

      const args = callback.args as Obj & { payment: Obj };
      expect(args).to.deep.include({
        enteFiscalCode: EC,
        serviceCode: expected.serviceCode,
        positionId: expected.positionId,
        iuv: expected.iuv,
        noticeNumber: expected.noticeNumber,
        positionStatus: 'PAID',
        paymentOutcome: 'PAID',
      });
      expect(Number(args.installment)).to.equal(0);
      expect(args.payment, JSON.stringify(args)).to.be.an('object');
      expect(args.payment).to.deep.include({
        receiptId: expected.iur,
        serviceCode: expected.serviceCode,
        positionId: expected.positionId,
        iuv: expected.iuv,
        noticeNumber: expected.noticeNumber,
      });
      expect(Number(args.payment.amountCents)).to.equal(expected.amountCents);
      return callback;
    }

    it('Base: uploadDebtPositions, a PSP pays the notice, the gestionale receives notifyPayment', async () => {
      const { positionId, notice } = await upload('TARI', 3150);
      const paid = await payNotice({
        store: ctx.store,
        connectorUrl: server.url,
        enteFiscalCode: EC,
        noticeNumber: notice.noticeNumber,
      });
      expect(paid.ok, JSON.stringify(paid.steps)).to.equal(true);
      expect(paid.dialect).to.equal('current');
      const receipt = await receiptOf(notice.noticeNumber);
      expect(receipt.iur).to.equal(paid.paymentToken);
      await expectOneNotifyPayment({
        serviceCode: 'TARI',
        positionId,
        iuv: notice.iuv,
        noticeNumber: notice.noticeNumber,
        amountCents: 3150,
        iur: receipt.iur as string,
      });
      await expectPaid(positionId, notice.noticeNumber);
    });

    it('Multe con preavviso: refused by the node until activated, then paid and notified', async () => {
      const reserved = await client.call('reserveNotices', {
        enteFiscalCode: EC,
        serviceCode: 'MULTE',
        count: 1,
      });
      expectOk(reserved);
      const [reservedNotice] = list(reserved.notice as Array<{ noticeNumber: string }>);
      const noticeNumber = reservedNotice!.noticeNumber;

      const refused = await payNotice({
        store: ctx.store,
        connectorUrl: server.url,
        enteFiscalCode: EC,
        noticeNumber,
      });
      expect(refused.ok).to.equal(false);
      expect(refused.steps[0], JSON.stringify(refused.steps)).to.include({
        step: 'paVerifyPaymentNotice',
        outcome: 'KO',
        faultCode: 'PAA_PAGAMENTO_SCONOSCIUTO',
      });
      expect(refused.steps).to.have.length(1);

      const positionId = uid('VERBALE');
      const today = italianDate(new Date());
      const activated = await client.call('activateNotice', {
        enteFiscalCode: EC,
        noticeNumber,
        positionId,
        ticketNumber: '2026/000777',
        plate: 'AB123CD',
        infringementDateTime: '2026-11-24T10:42:00+01:00',
        amountCents: 4200,
        dueDate: addDays(today, 60),
      });
      expectOk(activated);
      expect(activated).to.include({ positionId, noticeNumber, status: 'VALID' });
      const iuv = activated.iuv as string;
      expect(iuv).to.be.a('string');

      const paid = await payNotice({
        store: ctx.store,
        connectorUrl: server.url,
        enteFiscalCode: EC,
        noticeNumber,
      });
      expect(paid.ok, JSON.stringify(paid.steps)).to.equal(true);
      const receipt = await receiptOf(noticeNumber);
      expect(receipt.iur).to.equal(paid.paymentToken);
      await expectOneNotifyPayment({
        serviceCode: 'MULTE',
        positionId,
        iuv,
        noticeNumber,
        amountCents: 4200,
        iur: receipt.iur as string,
      });
      await expectPaid(positionId, noticeNumber);
    });

    it('Asincrona: a payment session, the landing page, the checkout, back to the gestionale, notified', async () => {
      const { positionId, notice } = await upload('TARI', 6420);
      const session = await client.call('createPaymentSession', {
        enteFiscalCode: EC,
        positionId,
        returnUrl: returnUrl(`esito?pratica=${positionId}`),
        cancelUrl: returnUrl('annullata'),
      });
      expectOk(session);
      const sessionUrl = session.sessionUrl as string;
      expect(sessionUrl.startsWith(`${server.url}/pay/session/`), sessionUrl).to.equal(true);

      const landing = await hop(sessionUrl);
      expect(landing.status, landing.text).to.equal(200);
      expect(landing.text).to.include(notice.noticeNumber);
      expect(landing.text).to.include('64,20 €');
      const form = /<form method="post" action="([^"]+)"[^>]*>\s*<button[^>]*>Paga online<\/button>/.exec(
        landing.text,
      );
      expect(form, 'the "Paga online" form').to.not.equal(null);
      const pay = await postForm(new URL(form![1]!.replace(/&amp;/g, '&'), sessionUrl).href);
      expect(pay.status, pay.text).to.equal(303);
      expect(pay.location).to.match(new RegExp(`^${server.url}/emulator/checkout/`));

      const paid = await payOnCheckout(pay.location!);
      expect(paid.status, paid.text).to.equal(303);
      expect(paid.location).to.equal(`${sessionUrl}/done?outcome=OK`);
      const done = await hop(paid.location!);
      expect(done.status).to.equal(303);
      const back = new URL(done.location!);
      expect(`${back.origin}${back.pathname}`).to.equal(returnUrl('esito'));
      expect(back.searchParams.get('outcome')).to.equal('OK');
      expect(back.searchParams.get('pratica')).to.equal(positionId);
      expect(back.searchParams.get('sessionId')).to.equal(session.sessionId);
      expect((await fetch(done.location!)).status).to.equal(200);
      const hits = web.hits.filter(
        (h) => h.pathname === '/pratiche/esito' && h.searchParams.get('pratica') === positionId,
      );
      expect(hits, 'the citizen is back at the gestionale').to.have.length(1);
      expect(hits[0]!.searchParams.get('outcome')).to.equal('OK');

      const receipt = await receiptOf(notice.noticeNumber);
      await expectOneNotifyPayment({
        serviceCode: 'TARI',
        positionId,
        iuv: notice.iuv,
        noticeNumber: notice.noticeNumber,
        amountCents: 6420,
        iur: receipt.iur as string,
      });
      await expectPaid(positionId, notice.noticeNumber);
    });

    it('Sincrona: startPayment with an inline position, the checkout, back to the gestionale, notified', async () => {
      const positionId = uid('MOD-SYNC');
      const started: Answer = await client.call('startPayment', {
        enteFiscalCode: EC,
        serviceCode: 'TARI',
        cartItem: [{ position: positionArgs(positionId, [{ installment: 0, amountCents: 2575 }]) }],
        returnUrl: returnUrl('carrello/esito'),
        cancelUrl: returnUrl('carrello/annullato'),
      });
      expectOk(started);
      expect(started.checkoutUrl).to.match(new RegExp(`^${server.url}/emulator/checkout/`));
      const [cartNotice] = list(started.cartNotice as Obj | Obj[]);
      expect(cartNotice).to.include({ positionId });
      expect(Number(cartNotice!.amountCents)).to.equal(2575);
      const noticeNumber = cartNotice!.noticeNumber as string;

      const paid = await payOnCheckout(started.checkoutUrl as string);
      expect(paid.status, paid.text).to.equal(303);
      const back = new URL(paid.location!);
      expect(`${back.origin}${back.pathname}`).to.equal(returnUrl('carrello/esito'));
      expect(back.searchParams.get('outcome')).to.equal('OK');
      expect(back.searchParams.get('cartId')).to.equal(started.cartId);
      expect((await fetch(paid.location!)).status).to.equal(200);
      const hits = web.hits.filter(
        (h) => h.pathname === '/pratiche/carrello/esito' && h.searchParams.get('cartId') === started.cartId,
      );
      expect(hits, 'the citizen is back at the gestionale').to.have.length(1);
      expect(hits[0]!.searchParams.get('outcome')).to.equal('OK');

      const receipt = await receiptOf(noticeNumber);
      const ente = await ctx.store.enti.getByFiscalCode(EC);
      const stored = await ctx.store.positions.findByPositionId(ente!.id, positionId);
      const iuv = stored!.options[0]!.iuv;
      expect(receipt.iuv).to.equal(iuv);
      await expectOneNotifyPayment({
        serviceCode: 'TARI',
        positionId,
        iuv,
        noticeNumber,
        amountCents: 2575,
        iur: receipt.iur as string,
      });
      await expectPaid(positionId, noticeNumber);
    });

    it('received nothing but schema-valid callbacks, each with a notificationId', () => {
      expect(callbacks.received.map((r) => r.operation)).to.deep.equal([
        'notifyPayment',
        'notifyPayment',
        'notifyPayment',
        'notifyPayment',
      ]);
      expect(callbacks.received.every((r) => r.notificationId !== '')).to.equal(true);
      expect(new Set(callbacks.received.map((r) => r.notificationId)).size).to.equal(4);
      expect(callbacks.raw).to.have.length(4);
      expect(callbacks.raw.filter((r) => r.problem !== null)).to.deep.equal([]);
    });
  });
});

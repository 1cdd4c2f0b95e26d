// Callback delivery from the outbox: per-position order in claimDue, the notifyPayment rows a receipt
// queues in its own transaction (bound clients with a callback URL only, once per receipt), and the
// worker against a real node-soap gestionale built from our callback WSDL: what counts as delivered,
// each kind of failure retried with backoff, dead letters (max attempts, no callback URL, revoked
// client, unknown topic, a request that would break the schema) and their replay. Every attempt is
// checked in the event log and the message log; every request sent validates against the schema.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { forEachDatabase, seedEnte, type SeededEnte } from '../support/db.ts';
import { TestGestionale } from '../support/callbackGestionale.ts';
import { CHANGE } from './helpers.ts';
import type { Store } from '../../src/db/store.ts';
import type { Client } from '../../src/db/repositories/clients.ts';
import { createPosition } from '../../src/app/positions.ts';
import { receiveReceipt } from '../../src/app/pagopa/receipts.ts';
import { CallbackWorker, retryDelayMs, type CallbackWorkerOptions } from '../../src/app/callbacks/worker.ts';
import { NOTIFY_PAYMENT, type PaymentNotification } from '../../src/app/callbacks/notifyPayment.ts';
import { NOTIFY_RECONCILIATION } from '../../src/app/callbacks/notifyReconciliation.ts';
import { replayNotification } from '../../src/app/callbacks/deadLetters.ts';
import { SOAP_MESSAGE } from '../../src/soap/messageLog.ts';

const DEBTOR = { type: 'F' as const, fiscalCode: 'RSSMRA85T10A562S', fullName: 'Mario Rossi' };
const BASE_DELAY_MS = 1000;

let sequence = 0;
const uid = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;

describe('callback retry delay', () => {
  it('doubles from the base delay, is capped, and keeps half of it fixed and half random', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 60_000, 1))).to.deep.equal([1000, 2000, 4000, 8000]);
    expect([1, 2, 3].map((n) => retryDelayMs(n, 1000, 60_000, 0))).to.deep.equal([500, 1000, 2000]);
    expect(retryDelayMs(30, 1000, 60_000, 1)).to.equal(60_000);
    expect(retryDelayMs(3, 1000, 60_000, 0.5)).to.equal(3000);
  });
});

/** A receipt element as paSendRT carries it, with the PSP and payer facts notifyPayment forwards. */
function receiptDocument(receiptId: string): string {
  return (
    `<receipt><receiptId>${receiptId}</receiptId><PSPCompanyName>Banca di Prova S.p.A.</PSPCompanyName>` +
    `<payer><uniqueIdentifier><entityUniqueIdentifierType>F</entityUniqueIdentifierType>` +
    `<entityUniqueIdentifierValue>RSSMRA85T10A562S</entityUniqueIdentifierValue></uniqueIdentifier>` +
    `<fullName>Mario Rossi</fullName><country>IT</country><e-mail>not an e-mail</e-mail></payer>` +
    `<paymentMethod>creditCard</paymentMethod><fee>1.20</fee></receipt>`
  );
}

forEachDatabase('callback delivery from the outbox', (ctx) => {
  let seeded: SeededEnte;
  let gestionale: TestGestionale;
  /** Bound to the ente and its service, with a callback URL: gets every notification. */
  let bound: Client;
  /** The worker's "now": tests move it forward instead of waiting for backoff. */
  let now = Date.now();

  const store = (): Store => ctx.store;

  /** A worker whose clock starts no earlier than the real time (rows queued so far are due). */
  function worker(options: Partial<CallbackWorkerOptions> = {}): CallbackWorker {
    now = Math.max(now, Date.now());
    return new CallbackWorker(store(), {
      maxAttempts: 3,
      baseDelayMs: BASE_DELAY_MS,
      timeoutMs: 2000,
      clock: () => new Date(now),
      random: () => 0,
      ...options,
    });
  }

  /** Moves the worker's clock past any backoff. */
  const later = () => (now += 3600_000);

  async function client(name: string, extra: Partial<Parameters<Store['clients']['create']>[0]> = {}) {
    return store().clients.create({
      username: uid(name),
      passwordHash: 'not-used',
      name,
      enteIds: [seeded.ente.id],
      serviceIds: [seeded.service.id],
      models: ['base'],
      callbackUrl: gestionale.url,
      ...extra,
    });
  }

  async function pay(installment = 0, positionId = uid('POS')) {
    const position = await createPosition(store(), {
      enteFiscalCode: seeded.ente.fiscalCode,
      serviceCode: seeded.service.code,
      actor: 'mocha',
      cause: 'test',
      draft: {
        positionId,
        description: 'TARI 2030',
        debtor: DEBTOR,
        options: [0, 1, 2, 3].map((i) => ({
          installment: i,
          amountCents: 1000 + i,
          dueDate: '2030-12-31',
          transfers: [{ amountCents: 1000 + i, iban: seeded.ente.iban!, category: '9/0101108TS/' }],
        })),
      },
    });
    return payOption(position.positionId, installment);
  }

  async function payOption(positionId: string, installment: number) {
    const position = (await store().positions.findByPositionId(seeded.ente.id, positionId))!;
    const option = position.options.find((o) => o.installment === installment)!;
    const receiptId = uid('rcpt').replace(/-/g, '');
    const result = await receiveReceipt(store(), {
      source: 'paSendRT',
      caller: {
        enteFiscalCode: seeded.ente.fiscalCode,
        brokerFiscalCode: seeded.broker.fiscalCode,
        stationId: seeded.station.stationId,
      },
      creditorFiscalCode: seeded.ente.fiscalCode,
      iuv: option.iuv,
      receiptId,
      noticeNumber: option.noticeNumber,
      outcome: 'OK',
      amountCents: option.amountCents as never,
      paymentDateTime: '2030-01-02T10:00:00',
      pspId: 'TESTPSP01',
      document: receiptDocument(receiptId),
    });
    return { position, option, receipt: result.receipt };
  }

  async function rowsFor(receiptIds: string[]) {
    const rows = await store().outbox.list();
    return rows.filter(
      (r) =>
        r.topic === NOTIFY_PAYMENT &&
        receiptIds.includes((r.payload as PaymentNotification).payment?.receiptId ?? ''),
    );
  }

  before(async () => {
    seeded = await seedEnte(store());
    gestionale = await TestGestionale.start();
    bound = await client('bound');
  });
  after(() => gestionale?.stop());
  beforeEach(async () => {
    // Each test starts from an empty queue and an endpoint that answers OK.
    await ctx.db('outbox').delete();
    now = Date.now();
    gestionale.reply = () => 'OK';
    gestionale.received.length = 0;
  });
  afterEach(() => {
    const broken = gestionale.raw.filter((r) => r.problem !== null);
    expect(broken, 'every callback request validates against the callback schema').to.deep.equal([]);
  });

  describe('notifyPayment queued with the receipt', () => {
    it('queues one row per active client bound to the ente and the service that has a callback URL', async () => {
      const otherService = await store().services.create({
        enteId: seeded.ente.id,
        code: uid('SVC'),
        description: 'Other',
        category: '9/0101108TS/',
        iban: seeded.ente.iban,
      });
      const second = await client('second');
      await client('no-url', { callbackUrl: null });
      await client('other-service', { serviceIds: [otherService.id] });
      const revoked = await client('revoked');
      await store().clients.revoke(revoked.id, CHANGE);
      const { receipt, position, option } = await pay();
      const rows = await rowsFor([receipt.receiptId]);
      expect(rows.map((r) => r.target).sort()).to.deep.equal([String(bound.id), String(second.id)].sort());
      const stored = (await store().positions.findByPositionId(seeded.ente.id, position.positionId))!;
      for (const row of rows) {
        expect(row).to.include({ status: 'PENDING', groupKey: `position:${stored.id}`, groupSeq: 1 });
        expect(row.payload).to.deep.include({
          notificationId: row.id,
          enteFiscalCode: seeded.ente.fiscalCode,
          serviceCode: seeded.service.code,
          positionId: position.positionId,
          installment: 0,
          iuv: option.iuv,
          noticeNumber: option.noticeNumber,
          positionStatus: 'PAID',
          paymentOutcome: 'PAID',
        });
        expect((row.payload as PaymentNotification).payment).to.deep.equal({
          receiptId: receipt.receiptId,
          serviceCode: seeded.service.code,
          positionId: position.positionId,
          installment: 0,
          iuv: option.iuv,
          noticeNumber: option.noticeNumber,
          amountCents: 1000,
          feeCents: 120,
          paymentDateTime: '2030-01-02T10:00:00',
          pspId: 'TESTPSP01',
          pspName: 'Banca di Prova S.p.A.',
          paymentMethod: 'creditCard',
          // The e-mail does not fit the schema: left out rather than breaking the callback.
          payer: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Mario Rossi', country: 'IT' },
        });
      }
      await store().clients.revoke(second.id, CHANGE);
    });

    it('queues nothing when the transaction that closes the option rolls back', async () => {
      const before = (await store().outbox.list()).length;
      const failing = {
        ...store(),
        transaction: <T>(fn: (s: Store) => Promise<T>) =>
          store().transaction(async (tx) => {
            await fn(tx);
            throw new Error('crash before commit');
          }),
      } as Store;
      const position = await createPosition(store(), {
        enteFiscalCode: seeded.ente.fiscalCode,
        serviceCode: seeded.service.code,
        actor: 'mocha',
        cause: 'test',
        draft: {
          positionId: uid('POS'),
          description: 'TARI 2030',
          debtor: DEBTOR,
          options: [
            {
              installment: 0,
              amountCents: 700,
              dueDate: '2030-12-31',
              transfers: [{ amountCents: 700, iban: seeded.ente.iban!, category: '9/0101108TS/' }],
            },
          ],
        },
      });
      const option = position.options[0]!;
      const call = receiveReceipt(failing, {
        source: 'paSendRT',
        caller: {
          enteFiscalCode: seeded.ente.fiscalCode,
          brokerFiscalCode: seeded.broker.fiscalCode,
          stationId: seeded.station.stationId,
        },
        creditorFiscalCode: seeded.ente.fiscalCode,
        iuv: option.iuv,
        receiptId: uid('rb').replace(/-/g, ''),
        noticeNumber: option.noticeNumber,
        outcome: 'OK',
        amountCents: 700 as never,
        pspId: 'TESTPSP01',
        document: receiptDocument('x'),
      });
      await call.then(
        () => expect.fail('the receipt transaction was meant to fail'),
        () => undefined,
      );
      expect((await store().outbox.list()).length).to.equal(before);
      const stored = (await store().positions.findByPositionId(seeded.ente.id, position.positionId))!;
      expect(stored.status).to.equal('VALID');
    });

    it("numbers a position's notifications in the order they were queued", async () => {
      const first = await pay(1);
      const second = await payOption(first.position.positionId, 2);
      const third = await payOption(first.position.positionId, 3);
      const rows = await rowsFor([first, second, third].map((p) => p.receipt.receiptId));
      const byReceipt = (p: { receipt: { receiptId: string } }) =>
        rows.find((r) => (r.payload as PaymentNotification).payment?.receiptId === p.receipt.receiptId)!;
      expect([first, second, third].map((p) => byReceipt(p).groupSeq)).to.deep.equal([1, 2, 3]);
      expect(
        [first, second, third].map((p) => (byReceipt(p).payload as PaymentNotification).positionStatus),
      ).to.deep.equal(['PARTIALLY_PAID', 'PARTIALLY_PAID', 'PAID']);
    });
  });

  describe('claimDue and per-position order', () => {
    it('hands out only the earliest pending row of a group, for each target, and never holds other groups', async () => {
      const outbox = store().outbox;
      const a1 = await outbox.enqueue({ topic: 't', target: 1, payload: 1, groupKey: 'position:1' });
      const a2 = await outbox.enqueue({ topic: 't', target: 1, payload: 2, groupKey: 'position:1' });
      const otherTarget = await outbox.enqueue({ topic: 't', target: 2, payload: 3, groupKey: 'position:1' });
      const b1 = await outbox.enqueue({ topic: 't', target: 1, payload: 4, groupKey: 'position:2' });
      const free = await outbox.enqueue({ topic: 't', target: 1, payload: 5 });
      const at = new Date(Date.now() + 1000);
      const first = (await outbox.claimDue(at, 10)).map((m) => m.id);
      expect(first.sort()).to.deep.equal([a1.id, otherTarget.id, b1.id, free.id].sort());
      expect(await outbox.claimDue(at, 10), 'a2 waits while a1 is pending (leased)').to.deep.equal([]);
      await outbox.markFailed(a1.id, 'HTTP 503', at);
      expect(
        (await outbox.claimDue(at, 10)).map((m) => m.id),
        'a failed a1 goes again, still before a2',
      ).to.deep.equal([a1.id]);
      await outbox.markDelivered(a1.id);
      expect((await outbox.claimDue(at, 10)).map((m) => m.id)).to.deep.equal([a2.id]);
    });

    it('lets a dead letter stop holding back the rows after it', async () => {
      const outbox = store().outbox;
      const first = await outbox.enqueue({ topic: 't', target: 1, payload: 1, groupKey: 'position:9' });
      const second = await outbox.enqueue({ topic: 't', target: 1, payload: 2, groupKey: 'position:9' });
      const at = new Date(Date.now() + 1000);
      await outbox.claimDue(at, 10);
      await outbox.markDead(first.id, 'gave up');
      expect((await outbox.claimDue(at, 10)).map((m) => m.id)).to.deep.equal([second.id]);
    });
  });

  describe('the delivery worker', () => {
    it('delivers on HTTP 200 with an OK ack, logging the attempt and the exchange', async () => {
      const { receipt } = await pay();
      const [row] = await rowsFor([receipt.receiptId]);
      const report = await worker().drain();
      expect(report).to.include({ delivered: 1, retried: 0, dead: 0 });
      expect(gestionale.received.map((r) => [r.operation, r.notificationId])).to.deep.equal([
        ['notifyPayment', row!.id],
      ]);
      const delivered = (await store().outbox.get(row!.id))!;
      expect(delivered).to.include({ status: 'DELIVERED', attempts: 1, lastError: null });
      const events = await store().events.listFor('outbox', row!.id);
      expect(events.map((e) => [e.action, e.toStatus])).to.deep.equal([
        ['delivery_attempt', null],
        ['status_changed', 'DELIVERED'],
      ]);
      const attempt = events[0]!.payload as {
        correlationId: string;
        result: string;
        httpStatus: number;
        url: string;
      };
      expect(attempt).to.include({ result: 'DELIVERED', httpStatus: 200, url: gestionale.url });
      const logged = await store().events.listFor(SOAP_MESSAGE, attempt.correlationId);
      expect(logged.map((e) => e.action)).to.deep.equal(['request', 'response']);
      expect(logged[0]!.cause).to.equal('GestionaleCallbackService.notifyPayment');
    });

    it('retries a KO ack, a SOAP Fault, an HTTP error, a wrong or broken answer, a late one and a refused connection, with growing delays', async () => {
      // An endpoint that is not a proper callback server: an HTTP error, the wrong answer, a broken ack.
      const cb = 'http://ppay-connector.it/gestionale/callback/v1';
      const soapAnswer = (body: string) =>
        `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${body}</s:Body></s:Envelope>`;
      const answers: Record<string, [number, string]> = {
        '/500': [500, 'boom'],
        '/wrong': [
          200,
          soapAnswer(
            `<cb:notifyPaymentResponse xmlns:cb="${cb}"><outcome>OK</outcome></cb:notifyPaymentResponse>`,
          ),
        ],
        '/broken': [
          200,
          soapAnswer(
            `<cb:notifyReconciliationResponse xmlns:cb="${cb}"><outcome>DONE</outcome></cb:notifyReconciliationResponse>`,
          ),
        ],
        '/not-soap': [200, '<ok/>'],
      };
      const plain = await new Promise<http.Server>((resolve) => {
        const s = http
          .createServer((req, res) => {
            const [status, body] = answers[req.url ?? ''] ?? [404, ''];
            res.writeHead(status, { 'Content-Type': 'text/xml' }).end(body);
          })
          .listen(0, '127.0.0.1', () => resolve(s));
      });
      const plainUrl = (p: string) => `http://127.0.0.1:${(plain.address() as AddressInfo).port}${p}`;
      const ids: string[] = [];
      const queue = async (url: string | null, reply: ReturnType<TestGestionale['reply']> | null) => {
        const c = await client('failing', { callbackUrl: url });
        const row = await store().outbox.enqueue({
          topic: NOTIFY_RECONCILIATION,
          target: c.id,
          payload: reconciliation(),
        });
        ids.push(row.id);
        if (reply) replies.set(row.id, reply);
        return row;
      };
      const replies = new Map<string, ReturnType<TestGestionale['reply']>>();
      gestionale.reply = (cb) => replies.get(cb.notificationId) ?? 'OK';
      gestionale.lateMs = 600;
      const ko = await queue(gestionale.url, 'KO');
      const fault = await queue(gestionale.url, 'FAULT');
      const late = await queue(gestionale.url, 'LATE');
      const httpError = await queue(plainUrl('/500'), null);
      const wrong = await queue(plainUrl('/wrong'), null);
      const broken = await queue(plainUrl('/broken'), null);
      const notSoap = await queue(plainUrl('/not-soap'), null);
      const refused = await queue('http://127.0.0.1:9/refused', null);
      const w = worker({ timeoutMs: 300 });
      const start = now;
      const report = await w.runOnce();
      expect(report).to.include({ claimed: 8, retried: 8, delivered: 0 });
      const reasons = new Map<string, string>();
      for (const id of ids) {
        const row = (await store().outbox.get(id))!;
        expect(row).to.include({ status: 'PENDING', attempts: 1 });
        expect(row.nextAttemptAt, 'half the base delay with no jitter').to.equal(
          new Date(start + BASE_DELAY_MS / 2).toISOString(),
        );
        reasons.set(id, row.lastError ?? '');
      }
      expect(reasons.get(ko.id)).to.equal('outcome KO GEST_BUSY: try again later');
      expect(reasons.get(fault.id)).to.match(/SOAP Fault .*gestionale down/);
      expect(reasons.get(late.id)).to.equal('no answer in 300 ms');
      expect(reasons.get(httpError.id)).to.equal('HTTP 500, the answer is not XML');
      expect(reasons.get(refused.id)).to.match(/^connection failed/);
      expect(reasons.get(wrong.id)).to.equal(
        'the answer is notifyPaymentResponse, not notifyReconciliationResponse',
      );
      expect(reasons.get(broken.id)).to.match(/^the answer breaks the callback schema: .*outcome/);
      expect(reasons.get(notSoap.id)).to.equal('HTTP 200, the answer is not a SOAP 1.1 envelope');
      now += BASE_DELAY_MS / 2;
      await w.runOnce();
      for (const id of ids) {
        const row = (await store().outbox.get(id))!;
        expect(row.attempts).to.equal(2);
        expect(row.nextAttemptAt, 'the delay doubles').to.equal(new Date(now + BASE_DELAY_MS).toISOString());
      }
      await new Promise<void>((resolve) => plain.close(() => resolve()));
      await new Promise((resolve) => setTimeout(resolve, gestionale.lateMs));
    });

    it('makes a row a dead letter after the last attempt, and delivers it once replayed', async () => {
      const { receipt } = await pay();
      const [row] = await rowsFor([receipt.receiptId]);
      gestionale.reply = () => 'KO';
      const w = worker({ maxAttempts: 3 });
      for (let i = 0; i < 3; i++) {
        await w.drain();
        later();
      }
      const dead = (await store().outbox.get(row!.id))!;
      expect(dead).to.include({ status: 'DEAD', attempts: 3 });
      expect(dead.lastError).to.equal('gave up after 3 attempts: outcome KO GEST_BUSY: try again later');
      expect(await w.drain(), 'a dead letter is not tried again').to.include({ claimed: 0 });
      expect(gestionale.receivedFor(row!.id)).to.have.length(3);

      expect(await replayNotification(store(), row!.id, 'mocha')).to.deep.include({ status: 'REPLAYED' });
      expect((await store().outbox.get(row!.id))!).to.include({ status: 'PENDING', attempts: 0 });
      gestionale.reply = () => 'OK';
      await w.drain();
      expect((await store().outbox.get(row!.id))!).to.include({ status: 'DELIVERED', attempts: 1 });
      expect(new Set(gestionale.receivedFor(row!.id).map((r) => r.notificationId))).to.deep.equal(
        new Set([row!.id]),
      );
      const events = await store().events.listFor('outbox', row!.id);
      expect(events.filter((e) => e.action === 'delivery_attempt')).to.have.length(4);
      expect(
        events.filter((e) => e.action === 'status_changed').map((e) => [e.fromStatus, e.toStatus, e.actor]),
      ).to.deep.equal([
        ['PENDING', 'DEAD', 'outbox-worker'],
        ['DEAD', 'PENDING', 'mocha'],
        ['PENDING', 'DELIVERED', 'outbox-worker'],
      ]);
      expect(await replayNotification(store(), row!.id, 'mocha')).to.deep.include({ status: 'NOT_DEAD' });
      expect(
        await replayNotification(store(), '00000000-0000-0000-0000-000000000000', 'mocha'),
      ).to.deep.equal({
        status: 'UNKNOWN',
      });
    });

    it('parks rows it cannot send at once: no callback URL, revoked or unknown client, unknown topic, a request that breaks the schema', async () => {
      const noUrl = await client('no-url', { callbackUrl: null });
      const revoked = await client('revoked');
      await store().clients.revoke(revoked.id, CHANGE);
      const outbox = store().outbox;
      const rows = {
        noUrl: await outbox.enqueue({
          topic: NOTIFY_RECONCILIATION,
          target: noUrl.id,
          payload: reconciliation(),
        }),
        revoked: await outbox.enqueue({
          topic: NOTIFY_RECONCILIATION,
          target: revoked.id,
          payload: reconciliation(),
        }),
        unknownClient: await outbox.enqueue({
          topic: NOTIFY_RECONCILIATION,
          target: 999_999,
          payload: reconciliation(),
        }),
        unknownTopic: await outbox.enqueue({ topic: 'notifySomething', target: bound.id, payload: {} }),
        invalid: await outbox.enqueue({
          topic: NOTIFY_RECONCILIATION,
          target: bound.id,
          payload: { ...reconciliation(), enteFiscalCode: 'not-a-fiscal-code' },
        }),
      };
      const report = await worker().drain();
      expect(report).to.include({ dead: 5, delivered: 0 });
      const reason = async (id: string) => (await outbox.get(id))!.lastError;
      expect(await reason(rows.noUrl.id)).to.equal(
        `client ${noUrl.username} has no callbackUrl: set it, then ppay outbox replay ${rows.noUrl.id}`,
      );
      expect(await reason(rows.revoked.id)).to.equal(`client ${revoked.id} is revoked`);
      expect(await reason(rows.unknownClient.id)).to.equal('client 999999 is unknown');
      expect(await reason(rows.unknownTopic.id)).to.equal('no callback operation for topic notifySomething');
      expect(await reason(rows.invalid.id)).to.match(
        /^the notifyReconciliation request breaks the callback schema: .*enteFiscalCode/,
      );
      expect(gestionale.received, 'nothing reached the gestionale').to.deep.equal([]);

      // Once the client has an endpoint, the operator replays and it goes out.
      await store().clients.setEndpoints(noUrl.id, { callbackUrl: gestionale.url, returnUrlPrefixes: [] });
      await replayNotification(store(), rows.noUrl.id, 'mocha');
      await worker().drain();
      expect((await outbox.get(rows.noUrl.id))!.status).to.equal('DELIVERED');
    });

    it('runs on an interval once started, and stops on close', async () => {
      const row = await store().outbox.enqueue({
        topic: NOTIFY_RECONCILIATION,
        target: bound.id,
        payload: reconciliation(),
      });
      const w = new CallbackWorker(store(), { maxAttempts: 3, baseDelayMs: 10, timeoutMs: 2000 });
      w.start(20);
      for (let i = 0; i < 100 && (await store().outbox.get(row.id))!.status !== 'DELIVERED'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await w.close();
      expect((await store().outbox.get(row.id))!.status).to.equal('DELIVERED');
      const after = await store().outbox.enqueue({
        topic: NOTIFY_RECONCILIATION,
        target: bound.id,
        payload: reconciliation(),
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await store().outbox.get(after.id))!.status, 'a closed worker sends nothing').to.equal(
        'PENDING',
      );
    });
  });

  /** A notifyReconciliation payload with every part of pt:ctFlow. */
  function reconciliation() {
    return {
      notificationId: 'ignored: the row id is sent',
      eventDateTime: '2030-01-03T08:00:00.000Z',
      enteFiscalCode: seeded.ente.fiscalCode,
      flow: {
        flowId: '2030-01-02ABCDITMMXXX-0001',
        flowDateTime: '2030-01-02T20:00:00',
        pspId: 'ABCDITMMXXX',
        pspName: 'Banca Esempio',
        trn: 'TRN0001',
        settlementDate: '2030-01-03',
        paymentCount: 2,
        totalAmountCents: 3000,
        status: 'ANOMALY',
        bankCredit: { valueDate: '2030-01-03', amountCents: 3000, trn: 'TRN0001' },
        anomalyCount: 1,
        line: [
          {
            iuv: '01000000000000001',
            iur: 'IUR0001',
            transferIndex: 1,
            amountCents: 1000,
            outcomeCode: '0',
            outcomeDate: '2030-01-02',
            status: 'MATCHED',
            positionId: 'POS-1',
            installment: 0,
            noticeNumber: '301000000000000001',
            receiptId: 'IUR0001',
          },
          {
            iuv: '01000000000000002',
            iur: 'IUR0002',
            amountCents: 2000,
            outcomeCode: '0',
            outcomeDate: '2030-01-02',
            status: 'UNMATCHED',
            anomalyCode: 'UNKNOWN_IUV',
          },
        ],
        anomaly: [
          {
            code: 'UNKNOWN_IUV',
            status: 'OPEN',
            detectedAt: '2030-01-03T08:00:00.000Z',
            iuv: '01000000000000002',
            amountCents: 2000,
          },
        ],
      },
    };
  }
});

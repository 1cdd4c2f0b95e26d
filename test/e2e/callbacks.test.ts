// Callbacks end to end (issue 5 point 6, gestionale-callback.xsd delivery contract): the connector
// serving the gestionale and pagoPA endpoints on port 0, the demo gestionale uploading positions by
// SOAP, the emulator's PSP paying the notices (verify → get payment → receipt), and a test
// gestionale endpoint built by node-soap from our callback WSDL receiving what the callback worker
// delivers from the outbox: notifyPayment once with the payment's fields; nothing lost while the
// endpoint is down; duplicates only under the same notificationId; KO retried; dead letters replayed
// with `ppay outbox replay` as a real process; per-position order; notifyUploadOutcome after an
// ACCEPTED upload; notifyExpiredNotices after the nightly report. Every callback request sent (the
// message log) and received (the endpoint) validates against xsd/gestionale/gestionale-callback.xsd.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { forEachDatabase, type DbContext } from '../support/db.ts';
import type { TestServer } from '../support/soapServer.ts';
import { TestGestionale, type ReceivedCallback } from '../support/callbackGestionale.ts';
import {
  DEMO,
  EC,
  expectOk,
  gestionaleClient,
  insertItem,
  list,
  positionArgs,
  startGestionaleServer,
  uid,
  uploadArgs,
  type GestionaleClient,
} from './gestionaleClient.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import type { UploadWorker } from '../../src/app/gestionale/uploadWorker.ts';
import { reportExpiredReservations } from '../../src/app/gestionale/expiredReservations.ts';
import { CallbackWorker, type CallbackWorkerOptions } from '../../src/app/callbacks/worker.ts';
import { callbackSchema } from '../../src/app/callbacks/callbackXml.ts';
import { payNotice } from '../../src/emulator/index.ts';
import { SEED_PSPS } from '../../src/emulator/db.ts';
import type { OutboxMessage } from '../../src/db/repositories/outbox.ts';
import { SOAP_MESSAGE } from '../../src/soap/messageLog.ts';
import { readEnvelope } from '../../src/soap/envelope.ts';
import { parseUntrusted } from '../../src/xml/schema.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const CLI = path.join(ROOT, 'src/cli.ts');
const HOUR_MS = 3600_000;

interface NoticeAnswer {
  installment: number | string;
  noticeNumber: string;
  iuv: string;
}

/** `ppay <args>` as a real process on the suite's database. */
function ppay(
  ctx: DbContext,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { url, searchPath } = ctx.connection;
  const databaseUrl = searchPath
    ? `${url}?options=${encodeURIComponent(`-c search_path=${searchPath}`)}`
    : url;
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

forEachDatabase('callbacks to the gestionale, end to end', (ctx) => {
  let server: TestServer;
  let uploads: UploadWorker;
  let demo: GestionaleClient;
  let gestionale: TestGestionale;
  let demoClientId: number;
  /** Added to the real time by the callback worker's clock: tests skip backoff by moving it. */
  let offset = 0;

  function callbackWorker(options: Partial<CallbackWorkerOptions> = {}): CallbackWorker {
    return new CallbackWorker(ctx.store, {
      maxAttempts: 5,
      baseDelayMs: 1000,
      timeoutMs: 2000,
      clock: () => new Date(Date.now() + offset),
      ...options,
    });
  }

  /** Past any backoff the worker chose. */
  const skipBackoff = () => (offset += HOUR_MS);

  before(async () => {
    await seedDemo(ctx.store);
    ({ server, worker: uploads } = await startGestionaleServer(ctx.db, ctx.store));
    demo = await gestionaleClient(server, DEMO);
    gestionale = await TestGestionale.start();
    const client = (await ctx.store.clients.findByUsername(DEMO.username))!;
    demoClientId = client.id;
    await ctx.store.clients.setEndpoints(client.id, {
      callbackUrl: gestionale.url,
      returnUrlPrefixes: client.returnUrlPrefixes,
    });
  });
  after(async () => {
    await uploads?.idle();
    await server?.close();
    await gestionale?.stop();
  });
  beforeEach(() => {
    gestionale.reply = () => 'OK';
  });

  /** Uploads one TARI position (synchronously) and returns its notices by installment. */
  async function uploadPosition(
    installments: number[] = [0],
  ): Promise<{ positionId: string; notices: NoticeAnswer[] }> {
    const positionId = uid('CB');
    const answer = await demo.call(
      'uploadDebtPositions',
      uploadArgs(uid('msg'), [
        insertItem(
          positionArgs(
            positionId,
            installments.map((installment) => ({ installment, amountCents: 1500 + installment })),
          ),
        ),
      ]),
    );
    expectOk(answer);
    const [item] = list(
      answer.itemOutcome as Array<{ outcome: string; notice: NoticeAnswer | NoticeAnswer[] }>,
    );
    expect(item?.outcome, JSON.stringify(answer)).to.equal('OK');
    return { positionId, notices: list(item!.notice) };
  }

  async function pay(noticeNumber: string): Promise<string> {
    const result = await payNotice({
      store: ctx.store,
      connectorUrl: server.url,
      enteFiscalCode: EC,
      noticeNumber,
    });
    expect(result.ok, JSON.stringify(result.steps)).to.equal(true);
    return result.paymentToken!;
  }

  /** The notifyPayment row queued for the demo client by the receipt with this token. */
  async function paymentRow(paymentToken: string): Promise<OutboxMessage> {
    const rows = (await ctx.store.outbox.list()).filter(
      (r) =>
        r.topic === 'notifyPayment' &&
        (r.payload as { payment?: { receiptId: string } }).payment?.receiptId === paymentToken,
    );
    expect(rows, `one notifyPayment row for ${paymentToken}`).to.have.length(1);
    expect(rows[0]!.target).to.equal(String(demoClientId));
    return rows[0]!;
  }

  const status = async (id: string) => (await ctx.store.outbox.get(id))!.status;

  it('a PSP pays a printed notice: the gestionale receives notifyPayment once, with the payment', async () => {
    const { positionId, notices } = await uploadPosition();
    const notice = notices[0]!;
    const token = await pay(notice.noticeNumber);
    const row = await paymentRow(token);
    expect(row.status).to.equal('PENDING');
    const worker = callbackWorker();
    expect(await worker.drain()).to.include({ delivered: 1 });
    expect(await worker.drain(), 'nothing more to send').to.include({ claimed: 0 });
    const received = gestionale.receivedFor(row.id);
    expect(received).to.have.length(1);
    const args = received[0]!.args as Record<string, unknown> & { payment: Record<string, unknown> };
    expect(received[0]!.operation).to.equal('notifyPayment');
    expect(args).to.deep.include({
      notificationId: row.id,
      enteFiscalCode: EC,
      serviceCode: 'TARI',
      positionId,
      iuv: notice.iuv,
      noticeNumber: notice.noticeNumber,
      positionStatus: 'PAID',
      paymentOutcome: 'PAID',
    });
    expect(Number(args.installment)).to.equal(0);
    const psp = SEED_PSPS[0]!;
    expect(args.payment).to.deep.include({
      receiptId: token,
      serviceCode: 'TARI',
      positionId,
      iuv: notice.iuv,
      noticeNumber: notice.noticeNumber,
      pspId: psp.idPsp,
      pspName: psp.companyName,
    });
    expect(Number(args.payment.amountCents)).to.equal(1500);
    expect(await status(row.id)).to.equal('DELIVERED');
  });

  it('the gestionale down for a while: everything arrives once it is back, none lost', async () => {
    const positions = await Promise.all([uploadPosition(), uploadPosition(), uploadPosition()]);
    await gestionale.stop();
    const rows: OutboxMessage[] = [];
    for (const p of positions) rows.push(await paymentRow(await pay(p.notices[0]!.noticeNumber)));
    const ids = rows.map((r) => r.id);
    const worker = callbackWorker();
    expect(await worker.drain()).to.include({ retried: 3, delivered: 0 });
    skipBackoff();
    expect(await worker.drain()).to.include({ retried: 3, delivered: 0 });
    for (const id of ids) {
      const row = (await ctx.store.outbox.get(id))!;
      expect(row).to.include({ status: 'PENDING', attempts: 2 });
      expect(row.lastError).to.match(/^connection failed/);
    }
    await gestionale.restart();
    skipBackoff();
    expect(await worker.drain()).to.include({ delivered: 3 });
    for (const id of ids) {
      expect(await status(id)).to.equal('DELIVERED');
      expect(gestionale.receivedFor(id), `${id} received once`).to.have.length(1);
      const attempts = (await ctx.store.events.listFor('outbox', id)).filter(
        (e) => e.action === 'delivery_attempt',
      );
      expect(attempts.map((e) => (e.payload as { result: string }).result)).to.deep.equal([
        'FAILED',
        'FAILED',
        'DELIVERED',
      ]);
    }
  });

  it('an answer lost to a timeout: the notification comes again, under the same notificationId', async () => {
    const { notices } = await uploadPosition();
    const row = await paymentRow(await pay(notices[0]!.noticeNumber));
    gestionale.reply = () => 'LATE';
    gestionale.lateMs = 800;
    const worker = callbackWorker({ timeoutMs: 300 });
    expect(await worker.drain()).to.include({ retried: 1 });
    await new Promise((resolve) => setTimeout(resolve, gestionale.lateMs));
    gestionale.reply = () => 'OK';
    skipBackoff();
    expect(await worker.drain()).to.include({ delivered: 1 });
    const received = gestionale.receivedFor(row.id);
    expect(received, 'delivered at least once: twice here').to.have.length(2);
    expect(new Set(received.map((r) => r.notificationId))).to.deep.equal(new Set([row.id]));
    expect(received[0]!.args).to.deep.equal(received[1]!.args);
  });

  it('a KO ack is retried until the gestionale answers OK', async () => {
    const { notices } = await uploadPosition();
    const row = await paymentRow(await pay(notices[0]!.noticeNumber));
    let kos = 2;
    gestionale.reply = (cb) => (cb.notificationId === row.id && kos-- > 0 ? 'KO' : 'OK');
    const worker = callbackWorker();
    await worker.drain();
    expect((await ctx.store.outbox.get(row.id))!.lastError).to.equal('outcome KO GEST_BUSY: try again later');
    skipBackoff();
    await worker.drain();
    skipBackoff();
    await worker.drain();
    expect((await ctx.store.outbox.get(row.id))!).to.include({ status: 'DELIVERED', attempts: 3 });
    expect(gestionale.receivedFor(row.id)).to.have.length(3);
  });

  it('after the last attempt the notification is a dead letter; `ppay outbox replay` sends it again', async function () {
    this.timeout(60_000);
    const { notices } = await uploadPosition();
    const row = await paymentRow(await pay(notices[0]!.noticeNumber));
    gestionale.reply = (cb) => (cb.notificationId === row.id ? 'KO' : 'OK');
    const worker = callbackWorker({ maxAttempts: 2 });
    await worker.drain();
    skipBackoff();
    await worker.drain();
    const dead = (await ctx.store.outbox.get(row.id))!;
    expect(dead).to.include({ status: 'DEAD', attempts: 2 });
    expect(dead.lastError).to.equal('gave up after 2 attempts: outcome KO GEST_BUSY: try again later');

    const listed = await ppay(ctx, ['outbox', 'list', '--status', 'DEAD']);
    expect(listed.code, listed.stderr).to.equal(0);
    const deadRows = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; status: string; payload?: unknown });
    expect(deadRows.find((r) => r.id === row.id)).to.deep.include({ status: 'DEAD', attempts: 2 });
    expect(deadRows.every((r) => r.status === 'DEAD' && r.payload === undefined)).to.equal(true);

    gestionale.reply = () => 'OK';
    const replayed = await ppay(ctx, ['outbox', 'replay', row.id]);
    expect(replayed.code, replayed.stderr).to.equal(0);
    expect(JSON.parse(replayed.stdout)).to.deep.include({ id: row.id, status: 'PENDING', attempts: 0 });
    const again = await ppay(ctx, ['outbox', 'replay', row.id]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include('only DEAD rows can be replayed');

    expect(await worker.drain()).to.include({ delivered: 1 });
    expect(await status(row.id)).to.equal('DELIVERED');
    const events = await ctx.store.events.listFor('outbox', row.id);
    expect(
      events.filter((e) => e.action === 'status_changed').map((e) => [e.toStatus, e.actor]),
    ).to.deep.equal([
      ['DEAD', 'outbox-worker'],
      ['PENDING', 'ppay-cli'],
      ['DELIVERED', 'outbox-worker'],
    ]);
    expect(new Set(gestionale.receivedFor(row.id).map((r) => r.notificationId))).to.deep.equal(
      new Set([row.id]),
    );
  });

  it("keeps a position's notifications in order: a later installment waits for the earlier one", async () => {
    const plan = await uploadPosition([1, 2]);
    const other = await uploadPosition();
    const first = await paymentRow(
      await pay(plan.notices.find((n) => Number(n.installment) === 1)!.noticeNumber),
    );
    const second = await paymentRow(
      await pay(plan.notices.find((n) => Number(n.installment) === 2)!.noticeNumber),
    );
    const unrelated = await paymentRow(await pay(other.notices[0]!.noticeNumber));
    gestionale.reply = (cb) => (cb.notificationId === first.id ? 'KO' : 'OK');
    const worker = callbackWorker();
    await worker.drain();
    skipBackoff();
    await worker.drain();
    expect(gestionale.receivedFor(first.id)).to.have.length(2);
    expect(gestionale.receivedFor(second.id), 'held back while the first is retried').to.have.length(0);
    expect(await status(unrelated.id), 'another position is not held back').to.equal('DELIVERED');

    gestionale.reply = () => 'OK';
    skipBackoff();
    await worker.drain();
    expect([await status(first.id), await status(second.id)]).to.deep.equal(['DELIVERED', 'DELIVERED']);
    const order = gestionale.received.filter(
      (r) => r.notificationId === first.id || r.notificationId === second.id,
    );
    expect(order.map((r) => [r.notificationId, r.args.positionStatus])).to.deep.equal([
      [first.id, 'PARTIALLY_PAID'],
      [first.id, 'PARTIALLY_PAID'],
      [first.id, 'PARTIALLY_PAID'],
      [second.id, 'PAID'],
    ]);
  });

  it('an upload answered ACCEPTED: the gestionale receives notifyUploadOutcome with every item', async () => {
    const messageId = uid('big');
    const accepted = await demo.call(
      'uploadDebtPositions',
      uploadArgs(messageId, [
        ...[1, 2, 3].map(() => insertItem(positionArgs(uid('CB'), [{ installment: 0, amountCents: 900 }]))),
        { action: 'CANCEL', cancellation: { positionId: uid('NONE') } },
      ]),
    );
    expect(accepted.status).to.equal('ACCEPTED');
    await uploads.idle();
    const [row] = (await ctx.store.outbox.list()).filter(
      (r) =>
        r.topic === 'notifyUploadOutcome' &&
        (r.payload as { uploadId: string }).uploadId === accepted.uploadId,
    );
    expect(await callbackWorker().drain()).to.include({ delivered: 1 });
    const [received] = gestionale.receivedFor(row!.id);
    expect(received?.operation).to.equal('notifyUploadOutcome');
    const args = received!.args as Record<string, unknown> & {
      itemOutcome: Array<{ outcome: string; fault?: { faultCode: string } }>;
    };
    expect(args).to.deep.include({
      uploadId: accepted.uploadId,
      messageId,
      source: 'SOAP',
      serviceCode: 'TARI',
    });
    expect(list(args.itemOutcome).map((i) => i.outcome)).to.deep.equal(['OK', 'OK', 'OK', 'KO']);
    expect(list(args.itemOutcome)[3]!.fault!.faultCode).to.equal('PPAY_POSITION_UNKNOWN');
  });

  it('reserved multe notices never activated: the gestionale receives notifyExpiredNotices', async () => {
    const reserved = await demo.call('reserveNotices', {
      enteFiscalCode: EC,
      serviceCode: 'MULTE',
      count: 2,
    });
    expectOk(reserved);
    const numbers = list(reserved.notice as Array<{ noticeNumber: string }>).map((n) => n.noticeNumber);
    const report = await reportExpiredReservations(ctx.store, {
      olderThanDays: 0,
      now: new Date(Date.now() + 24 * HOUR_MS),
    });
    expect(report).to.include({ status: 'DONE', notifications: 1 });
    expect(await callbackWorker().drain()).to.include({ delivered: 1 });
    const received = gestionale.received.filter(
      (r: ReceivedCallback) => r.operation === 'notifyExpiredNotices',
    );
    expect(received).to.have.length(1);
    const notices = list(received[0]!.args.notice as Array<{ noticeNumber: string; reason: string }>);
    expect(notices.map((n) => n.noticeNumber).sort()).to.deep.equal([...numbers].sort());
    expect(notices.every((n) => n.reason === 'NOT_ACTIVATED')).to.equal(true);
  });

  it('every callback request sent and received validates against the callback schema', async () => {
    const rows = await ctx
      .db('events')
      .where({ entity_type: SOAP_MESSAGE, action: 'request', actor: 'outbox-worker' })
      .select<Array<{ payload: string }>>('payload');
    const operations = new Set<string>();
    for (const row of rows) {
      const message = JSON.parse(row.payload) as { xml: string; operation: string };
      const doc = parseUntrusted(message.xml);
      try {
        expect(callbackSchema().validateNode(readEnvelope(doc).payload), message.xml).to.deep.equal({
          ok: true,
        });
      } finally {
        doc.dispose();
      }
      operations.add(message.operation);
    }
    expect([...operations].sort()).to.deep.equal([
      'notifyExpiredNotices',
      'notifyPayment',
      'notifyUploadOutcome',
    ]);
    expect(gestionale.raw.length).to.be.greaterThan(0);
    expect(gestionale.raw.filter((r) => r.problem !== null)).to.deep.equal([]);
  });
});

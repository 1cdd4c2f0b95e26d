// Issue 10 item 4, replays and idempotency, on SQLite and PostgreSQL: the whole app on port 0 (the
// connector's pagoPA and gestionale endpoints, the citizen pages, the emulator) over the demo data.
// Each message is sent again twice (three sends, some of them at once) and must yield the first
// outcome with the database unchanged after the first send (every business table, and the event
// log of positions, options, payments, receipts and notifications): the same receipt (paSendRT,
// paSendRTV2, legacy paaInviaRT) → one receipt, one payment, one notification, the repeats answered
// PAA_RECEIPT_DUPLICATA / PAA_RT_DUPLICATA (pagoPA's "already have it", which the node counts as
// delivered); the same paGetPayment[V2] (the node retrying an activatePaymentNotice under its
// idempotency key) → the same payment data, one attempt; the same activateNotice, requestIUV and
// uploadDebtPositions (same messageId) → the first answer, nothing new; a callback acknowledged
// twice (two workers) or redelivered after lost acks → one DELIVERED, one status change; the same
// import file dropped three times → F_DUP_FLOW, no change; the same spontaneous submission posted
// three times (two at once) → one position.

import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { forEachDatabase, type DbContext } from '../support/db.ts';
import { changedTables, snapshotDb, AUDIT_TABLES, type DbSnapshot } from '../support/dbSnapshot.ts';
import { PortalClient, startPortalServer, type PortalServer } from '../support/portal.ts';
import { TestGestionale } from '../support/callbackGestionale.ts';
import {
  DEMO,
  EC,
  expectOk,
  gestionaleClient,
  positionArgs,
  uid,
  insertItem,
  uploadArgs,
  type Answer,
} from './gestionaleClient.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { CallbackWorker } from '../../src/app/callbacks/worker.ts';
import { callEc } from '../../src/emulator/clients.ts';
import { activateNotice, buildReceipt } from '../../src/emulator/current.ts';
import { createEmulatorDb } from '../../src/emulator/db.ts';
import { issueRt } from '../../src/emulator/legacy.ts';
import { payNotice } from '../../src/emulator/index.ts';
import { stationOfEc } from '../../src/emulator/registry.ts';
import { StepLog, type EmulatorContext } from '../../src/emulator/steps.ts';
import { Importer } from '../../src/batch/importer/importer.ts';
import { startLegacyServer, useLegacyStation, STATION } from '../integration/pagopaLegacySupport.ts';
import {
  closeSite,
  dropFile,
  openSiteOn,
  positionsDigest,
  ppayCsvName,
  type ImportSite,
} from '../support/importProcess.ts';
import { generatePpayCsv } from '../../src/batch/formats/generate.ts';
import { PassThrough } from 'node:stream';

/** The event log of business changes: a replay must add nothing to it. */
const BUSINESS_EVENTS = ['position', 'payment_option', 'payment', 'receipt', 'outbox'];

async function businessEvents(ctx: DbContext): Promise<number> {
  const rows = await ctx
    .db('events')
    .whereIn('entity_type', BUSINESS_EVENTS)
    .count<{ n: string | number }[]>({ n: '*' });
  return Number(rows[0]?.n ?? 0);
}

interface State {
  tables: DbSnapshot;
  events: number;
}

async function state(ctx: DbContext): Promise<State> {
  return { tables: await snapshotDb(ctx.db, AUDIT_TABLES), events: await businessEvents(ctx) };
}

function expectUnchanged(before: State, after: State, what: string): void {
  expect(changedTables(before.tables, after.tables), `${what}: tables changed`).to.deep.equal([]);
  expect(after.events, `${what}: business events added`).to.equal(before.events);
}

type Obj = Record<string, unknown>;

/** What an EC answer says: outcome and fault code (transport failures fail the test). */
function verdict(
  result: Awaited<ReturnType<typeof callEc>>,
  inner?: string,
): { outcome: string; faultCode: string | null; answer: Obj } {
  if (!result.ok) throw new Error(`${result.faultCode}: ${result.description}`);
  const answer = (inner ? (result.answer[inner] as Obj) : result.answer) ?? {};
  const fault = answer.fault as Obj | undefined;
  return {
    outcome: String(answer.outcome ?? answer.esito),
    faultCode: fault ? String(fault.faultCode) : null,
    answer,
  };
}

forEachDatabase('replays and idempotency: the same message again yields the first outcome', (ctx) => {
  let server: PortalServer;
  let demo: DemoSummary;
  let gestionale: TestGestionale;
  let emulator: EmulatorContext;

  before(async () => {
    demo = await seedDemo(ctx.store);
    server = await startPortalServer(ctx);
    gestionale = await TestGestionale.start();
    // The demo gestionale gets callbacks: a receipt's side effect includes one notifyPayment row.
    const client = await ctx.store.clients.findByUsername(DEMO.username);
    await ctx.store.clients.setEndpoints(client!.id, { callbackUrl: gestionale.url, returnUrlPrefixes: [] });
    const edb = createEmulatorDb(ctx.store.db);
    await edb.psps.ensureSeeded();
    emulator = { store: ctx.store, edb, connectorUrl: server.url };
  });
  after(async () => {
    await gestionale?.stop();
    await server?.close();
  });

  function notice(positionId: string) {
    const p = demo.positions.find((x) => x.positionId === positionId);
    if (!p) throw new Error(`no demo position ${positionId}`);
    return p;
  }

  /** The node activates the notice (verify, get payment) and the PSP's receipt is built, not sent. */
  async function receiptFor(positionId: string, version: 1 | 2) {
    const p = notice(positionId);
    const psp = (await emulator.edb.psps.listPaying())[0]!;
    const log = new StepLog();
    const activation = await activateNotice(
      emulator,
      log,
      { fiscalCode: p.enteFiscalCode, noticeNumber: p.noticeNumber },
      psp,
      version,
    );
    expect(activation, JSON.stringify(log.steps)).to.not.equal(null);
    const receipt = buildReceipt(activation!, psp, 'cash', new Date());
    const ec = (await stationOfEc(ctx.store, p.enteFiscalCode))!;
    const identity = { idPA: ec.ente.fiscalCode, idBrokerPA: ec.brokerId, idStation: ec.station.stationId };
    const send = async () =>
      verdict(
        await callEc(server.url, 'paForNode.wsdl', version === 1 ? 'paSendRT' : 'paSendRTV2', {
          ...identity,
          receipt,
        }),
      );
    return { p, receipt, send, enteId: ec.ente.id, iuv: String(activation!.data.creditorReferenceId) };
  }

  async function expectOnePayment(enteId: number, iuv: string, receiptId: string) {
    const receipts = await ctx
      .db('receipts')
      .where({ ente_id: enteId, iuv })
      .select('receipt_id', 'option_id');
    expect(receipts.map((r) => r.receipt_id)).to.deep.equal([receiptId]);
    expect(receipts[0]?.option_id).to.not.equal(null);
    const attempts = await ctx.db('payments').where({ ente_id: enteId, iuv }).select('status');
    expect(attempts.map((a) => a.status)).to.deep.equal(['PAID']);
    const rows = await ctx.db('outbox').where('topic', 'notifyPayment').select('payload');
    const mine = rows.filter((r) => (JSON.parse(String(r.payload)) as { iuv: string }).iuv === iuv);
    expect(mine, 'one notifyPayment for the payment').to.have.length(1);
  }

  describe('receipts', () => {
    for (const version of [1, 2] as const) {
      const operation = version === 1 ? 'paSendRT' : 'paSendRTV2';
      it(`${operation} sent three times: OK, then KO PAA_RECEIPT_DUPLICATA twice; one receipt, one payment, one notification`, async () => {
        const r = await receiptFor(version === 1 ? 'DEMO-TARI-0001' : 'DEMO-TARI-0002', version);
        const first = await r.send();
        expect([first.outcome, first.faultCode]).to.deep.equal(['OK', null]);
        const before = await state(ctx);
        for (const n of [2, 3]) {
          const again = await r.send();
          expect([again.outcome, again.faultCode], `send ${n}`).to.deep.equal([
            'KO',
            'PAA_RECEIPT_DUPLICATA',
          ]);
          expectUnchanged(before, await state(ctx), `${operation} send ${n}`);
        }
        await expectOnePayment(r.enteId, r.iuv, String(r.receipt.receiptId));
      });
    }

    it('paSendRTV2 sent three times at once (the node retrying while the first is in flight): one OK, two PAA_RECEIPT_DUPLICATA, one payment', async () => {
      const r = await receiptFor('DEMO-TARI-0003', 2);
      const answers = await Promise.all([r.send(), r.send(), r.send()]);
      const outcomes = answers.map((a) => `${a.outcome} ${a.faultCode ?? ''}`.trim()).sort();
      expect(outcomes).to.deep.equal(['KO PAA_RECEIPT_DUPLICATA', 'KO PAA_RECEIPT_DUPLICATA', 'OK']);
      await expectOnePayment(r.enteId, r.iuv, String(r.receipt.receiptId));
      const receipt = await ctx
        .db('receipts')
        .where({ ente_id: r.enteId, iuv: r.iuv })
        .first('flagged_reason');
      expect(receipt.flagged_reason, 'the receipt is not flagged as a second payment').to.equal(null);
    });
  });

  describe('activations', () => {
    for (const version of [1, 2] as const) {
      const operation = version === 1 ? 'paGetPayment' : 'paGetPaymentV2';
      it(`${operation} asked three times with the same request: the same payment data, one attempt IN_PROGRESS`, async () => {
        const p = notice(version === 1 ? 'DEMO-TARI-0004' : 'DEMO-TARI-0005');
        const ec = (await stationOfEc(ctx.store, p.enteFiscalCode))!;
        const request = {
          idPA: ec.ente.fiscalCode,
          idBrokerPA: ec.brokerId,
          idStation: ec.station.stationId,
          qrCode: { fiscalCode: p.enteFiscalCode, noticeNumber: p.noticeNumber },
          amount: p.amount,
        };
        const ask = async () => verdict(await callEc(server.url, 'paForNode.wsdl', operation, request));
        const first = await ask();
        expect(first.outcome).to.equal('OK');
        const before = await state(ctx);
        for (const n of [2, 3]) {
          const again = await ask();
          expect(again.answer, `${operation} ${n}`).to.deep.equal(first.answer);
          expectUnchanged(before, await state(ctx), `${operation} ${n}`);
        }
        const attempts = await ctx.db('payments').where({ ente_id: ec.ente.id, iuv: p.iuv }).select('status');
        expect(attempts.map((a) => a.status)).to.deep.equal(['IN_PROGRESS']);
      });
    }

    it('activateNotice sent three times with the same request: OK with the same answer, nothing changed after the first', async () => {
      const client = await gestionaleClient(server);
      const reserved = await client.call('reserveNotices', {
        enteFiscalCode: EC,
        serviceCode: 'MULTE',
        count: 1,
      });
      expectOk(reserved);
      const noticeNumber = reserved.notice as { noticeNumber: string } | Array<{ noticeNumber: string }>;
      const number = Array.isArray(noticeNumber) ? noticeNumber[0]!.noticeNumber : noticeNumber.noticeNumber;
      const due = new Date(Date.now() + 60 * 86400_000).toISOString().slice(0, 10);
      const request = {
        enteFiscalCode: EC,
        noticeNumber: number,
        ticketNumber: `2026/${randomUUID().slice(0, 6)}`,
        plate: 'AB123CD',
        infringementDateTime: '2026-11-24T10:42:00+01:00',
        amountCents: 4200,
        dueDate: due,
      };
      const first = await client.call('activateNotice', request);
      expectOk(first);
      const before = await state(ctx);
      for (const n of [2, 3]) {
        const again = await client.call('activateNotice', request);
        expect(again, `activateNotice ${n}`).to.deep.equal(first);
        expectUnchanged(before, await state(ctx), `activateNotice ${n}`);
      }
    });
  });

  describe('gestionale messages', () => {
    it('uploadDebtPositions with the same messageId three times: the first answer each time, no new position', async () => {
      const client = await gestionaleClient(server);
      const messageId = uid('replay-upload');
      const args = uploadArgs(messageId, [
        insertItem(positionArgs(uid('REPLAY-A'), [{ installment: 0, amountCents: 1500 }])),
        insertItem(positionArgs(uid('REPLAY-B'), [{ installment: 0, amountCents: 2500 }])),
      ]);
      const first: Answer = await client.call('uploadDebtPositions', args);
      expectOk(first);
      const before = await state(ctx);
      for (const n of [2, 3]) {
        const again = await client.call('uploadDebtPositions', args);
        expect(again, `upload ${n}`).to.deep.equal(first);
        expectUnchanged(before, await state(ctx), `upload ${n}`);
      }
    });

    it('requestIUV with the same requestId three times (two at once): the same IUV and notice number, one allocation', async () => {
      const client = await gestionaleClient(server);
      const args = { enteFiscalCode: EC, serviceCode: 'TARI', requestId: uid('replay-iuv') };
      const first = await client.call('requestIUV', args);
      expectOk(first);
      const before = await state(ctx);
      const again = await Promise.all([client.call('requestIUV', args), client.call('requestIUV', args)]);
      for (const answer of again) expect(answer).to.deep.equal(first);
      expectUnchanged(before, await state(ctx), 'requestIUV');
    });
  });

  describe('callback acknowledgements', () => {
    async function pendingNotification(positionId: string): Promise<string> {
      const r = await receiptFor(positionId, 2);
      expect((await r.send()).outcome).to.equal('OK');
      const rows = await ctx
        .db('outbox')
        .where({ topic: 'notifyPayment', status: 'PENDING' })
        .select('id', 'payload');
      const row = rows.find((x) => (JSON.parse(String(x.payload)) as { iuv: string }).iuv === r.iuv);
      expect(row, 'the payment queued its notification').to.not.equal(undefined);
      return String(row!.id);
    }

    async function deliveredEvents(id: string): Promise<number> {
      const rows = await ctx
        .db('events')
        .where({ entity_type: 'outbox', entity_id: id, to_status: 'DELIVERED' });
      return rows.length;
    }

    it('acknowledged twice (a second worker took the row over while the first waited for its late ack): one DELIVERED, one status change', async () => {
      const id = await pendingNotification('DEMO-TARI-0006');
      let held = true;
      gestionale.lateMs = 600;
      gestionale.reply = (c) => (c.notificationId === id && held ? ((held = false), 'LATE') : 'OK');
      const options = { maxAttempts: 5, baseDelayMs: 10, timeoutMs: 5000, leaseMs: 60_000 };
      const first = new CallbackWorker(ctx.store, options);
      // The second worker's clock is past the first one's lease: to it the row is due again.
      const second = new CallbackWorker(ctx.store, {
        ...options,
        clock: () => new Date(Date.now() + 120_000),
      });
      try {
        const slow = first.drain();
        while (gestionale.receivedFor(id).length === 0)
          await new Promise((resolve) => setTimeout(resolve, 10));
        await second.drain();
        await slow;
      } finally {
        gestionale.reply = () => 'OK';
      }
      expect(gestionale.receivedFor(id).map((c) => c.notificationId)).to.deep.equal([id, id]);
      const row = await ctx.store.outbox.get(id);
      expect(row?.status).to.equal('DELIVERED');
      expect(await deliveredEvents(id)).to.equal(1);
    });

    it('redelivered after two lost acks (timeouts): three deliveries under one notificationId, one DELIVERED', async () => {
      const id = await pendingNotification('DEMO-CANONE-0001');
      let lost = 0;
      gestionale.lateMs = 400;
      gestionale.reply = (c) => (c.notificationId === id && lost < 2 ? (lost++, 'LATE') : 'OK');
      const worker = new CallbackWorker(ctx.store, {
        maxAttempts: 5,
        baseDelayMs: 1,
        timeoutMs: 150,
        maxDelayMs: 1,
      });
      try {
        for (let pass = 0; pass < 20 && (await ctx.store.outbox.get(id))?.status !== 'DELIVERED'; pass++) {
          await worker.drain();
        }
      } finally {
        gestionale.reply = () => 'OK';
      }
      const copies = gestionale.receivedFor(id);
      expect(copies.map((c) => c.notificationId)).to.deep.equal([id, id, id]);
      expect(JSON.stringify(copies[2]?.args)).to.equal(JSON.stringify(copies[0]?.args));
      expect((await ctx.store.outbox.get(id))?.status).to.equal('DELIVERED');
      expect(await deliveredEvents(id)).to.equal(1);
    });
  });

  describe('files and forms', () => {
    let site: ImportSite | undefined;
    after(() => closeSite(site));

    it('the same import file dropped three times (two new names, then its own): REJECTED F_DUP_FLOW, positions unchanged', async () => {
      site = await openSiteOn(ctx);
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      await generatePpayCsv(out, { rows: 30, positionIdPrefix: 'REPLAY-FILE-', planEvery: 10 });
      out.end();
      const content = Buffer.concat(chunks);
      const pass = async () => {
        const importer = new Importer({
          store: ctx.store,
          dataDir: site!.dataDir,
          completion: { settleMs: 0 },
          batchRows: 10,
        });
        try {
          return (await importer.runPass({ enteFiscalCode: site!.enteFiscalCode })).files;
        } finally {
          await importer.close();
        }
      };
      const name = ppayCsvName(site, 'REPLAY');
      await dropFile(site, name, content);
      const [first] = await pass();
      expect(first?.outcome).to.equal('DONE');
      const digest = await positionsDigest(site);
      for (const again of [ppayCsvName(site, 'REPLAY-2'), ppayCsvName(site, 'REPLAY-3'), name]) {
        await dropFile(site, again, content);
        const [report] = await pass();
        expect([report?.outcome, report?.errorCode], again).to.deep.equal(['REJECTED', 'F_DUP_FLOW']);
        expect(await positionsDigest(site), again).to.equal(digest);
      }
    });

    it('the same spontaneous submission posted three times (two at once): one position, the same notice each time', async () => {
      const formPath = `/pay/spontaneo/${EC}/MENSA`;
      const citizen = new PortalClient(server.url);
      const page = await citizen.get(formPath);
      expect(page.status, page.text).to.equal(200);
      const submission = /name="submission" value="([0-9a-f]{16})"/.exec(page.text)?.[1];
      expect(submission, 'the form carries its submission id').to.be.a('string');
      const fields = {
        submission: submission!,
        fiscalCode: 'RSSMRA85T10A562S',
        fullName: 'Mario Rossi',
        email: 'mario.rossi@example.org',
        amount: '25,00',
        x_alunno: 'Luca Rossi',
        x_scuola: 'Primaria Rodari',
        mode: 'notice',
      };
      const positions = () =>
        ctx.db('positions').where('position_id', 'like', `SPONT-%-${submission!}`).select('id');
      const first = await citizen.post(formPath, fields);
      expect(first.status, first.text).to.equal(200);
      const numberOf = (text: string) => /\b(3\d{17})\b/.exec(text)?.[1];
      const before = await state(ctx);
      const again = await Promise.all([citizen.post(formPath, fields), citizen.post(formPath, fields)]);
      for (const answer of again) {
        expect(answer.status, answer.text).to.equal(200);
        expect(numberOf(answer.text)).to.equal(numberOf(first.text));
      }
      expect(await positions()).to.have.length(1);
      expectUnchanged(before, await state(ctx), 'spontaneous submission');
    });
  });

  describe('legacy receipts (paaInviaRT)', () => {
    let legacy: Awaited<ReturnType<typeof startLegacyServer>>;
    before(async () => {
      legacy = await startLegacyServer(ctx);
      await useLegacyStation(ctx);
    });
    after(async () => {
      await legacy?.close();
      const station = await ctx.store.stations.getByStationId(STATION);
      await ctx.store.stations.setDialect(station!.id, 'current');
    });

    it('paaInviaRT of the same RT three times: OK, then KO PAA_RT_DUPLICATA twice; one receipt, one payment', async () => {
      const p = notice('DEMO-CANONE-0002');
      const paid = await payNotice({
        store: ctx.store,
        connectorUrl: legacy.url,
        enteFiscalCode: p.enteFiscalCode,
        noticeNumber: p.noticeNumber,
      });
      expect(paid.ok, JSON.stringify(paid.steps)).to.equal(true);
      expect(paid.dialect).to.equal('legacy');
      const key = { idDominio: p.enteFiscalCode, iuv: p.iuv, ccp: paid.paymentToken! };
      const rpt = await legacy.edb.rpts.get(key);
      const psp = (await legacy.edb.psps.listPaying())[0]!;
      const ctxLegacy: EmulatorContext = { store: ctx.store, edb: legacy.edb, connectorUrl: legacy.url };
      const before = await state(ctx);
      for (const n of [2, 3]) {
        const log = new StepLog();
        expect(await issueRt(ctxLegacy, log, rpt!, psp, '0'), `send ${n}`).to.equal(true);
        const sent = log.steps.find((s) => s.step === 'paaInviaRT');
        expect([sent?.outcome, sent?.faultCode], `send ${n}`).to.deep.equal(['KO', 'PAA_RT_DUPLICATA']);
        const after = await state(ctx);
        // The node's own tables record the delivery again; the connector's are unchanged.
        const connectorTables = changedTables(before.tables, after.tables).filter(
          (t) => !t.startsWith('emulator_'),
        );
        expect(connectorTables, `send ${n}`).to.deep.equal([]);
        expect(after.events, `send ${n}`).to.equal(before.events);
      }
      const enteId = (await ctx.store.enti.getByFiscalCode(p.enteFiscalCode))!.id;
      const receipts = await ctx.db('receipts').where({ ente_id: enteId, iuv: p.iuv }).select('source');
      expect(receipts.map((r) => r.source)).to.deep.equal(['paaInviaRT']);
      const attempts = await ctx.db('payments').where({ ente_id: enteId, iuv: p.iuv }).select('status');
      expect(attempts.map((a) => a.status)).to.deep.equal(['PAID']);
    });
  });
});

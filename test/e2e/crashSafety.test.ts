// Issue 10 item 3, crash safety: real processes killed with SIGKILL at random points (a seeded
// schedule, the seed in each test title; PPAY_CRASH_SEED=<seed> replays one), restarted on the same
// data folder and database (a SQLite file; a fresh PostgreSQL schema when DATABASE_URL=postgres://…).
// 3 kills per kind of point; PPAY_STRESS=1 makes it 20 (and scales the payments and rows with them).
// a) + c) one storm: `ppay start` killed while the emulator's PSPs pay notices (verify → get payment
//    → send receipt, V1 and V2, a two-beneficiary and a postal notice, two installments) and while
//    its callback worker delivers notifyPayment to a real gestionale endpoint. Payment kills land
//    before a request reaches it, during its processing, or after it answered with the answer
//    lost; delivery kills before the gestionale's ack goes back, or just after. After the restarts
//    and the node's retries the money moved exactly once (one receipt per payment, each option paid
//    once, one attempt PAID, the emulator's view and the connector's agree), and every notification
//    was delivered at least once under one stable notificationId, none lost, none queued twice.
//    The two run together so the callback worker's claim lease (30 s, which a killed worker's rows
//    wait out) overlaps the payments.
// b) `ppay import` of three files in one pass (40-row batches) killed inside random batches of
//    random files: every row imported once, every outcome file complete. (The single-file,
//    50,000-row variant with 10 kills is test/e2e/batchImportLoad.test.ts.)

import path from 'node:path';
import { expect } from 'chai';
import { outcomeFileName } from '../../src/batch/fileNames.ts';
import type { PrimitiveVersion } from '../../src/emulator/db.ts';
import { TestGestionale } from '../support/callbackGestionale.ts';
import {
  addSinglePositions,
  crashSeed,
  inParallel,
  KILLS,
  log,
  openCrashSite,
  payUntilAccepted,
  seededRandom,
  SupervisedConnector,
  waitUntil,
  type CrashSite,
  type FrontAction,
  type NoticeToPay,
  type PaidNotice,
} from '../support/crash.ts';
import {
  closeSite,
  delay,
  describeRun,
  dropFile,
  generateCsvFile,
  importProgress,
  importRecords,
  leftoverWork,
  listFolder,
  openSiteFromEnv,
  originalNames,
  outcomeProblems,
  positionCounts,
  ppayCsvName,
  readOutcomeOf,
  runImport,
  spawnPpay,
  type ImportSite,
  type SpawnedImport,
} from '../support/importProcess.ts';

const DIALECT = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '') ? 'postgres' : 'sqlite';
const CALLBACK_TIMEOUT_MS = 500;
/** The callback worker's claim lease (worker.ts: timeout × 2 + 30 s): how long a row a killed worker held stays hidden. */
const CLAIM_LEASE_MS = CALLBACK_TIMEOUT_MS * 2 + 30_000;

interface DemoNotice extends NoticeToPay {
  label: string;
}

function demoNotice(site: CrashSite, positionId: string, installment = 0): DemoNotice {
  const position = site.demo.positions.find((p) => p.positionId === positionId);
  if (!position) throw new Error(`no demo position ${positionId}`);
  if (installment === 0) {
    return {
      label: positionId,
      enteFiscalCode: position.enteFiscalCode,
      noticeNumber: position.noticeNumber,
      amountCents: position.amountCents,
    };
  }
  const rate = position.installments.find((i) => i.installment === installment);
  if (!rate) throw new Error(`no installment ${installment} in ${positionId}`);
  return {
    label: `${positionId}#${installment}`,
    enteFiscalCode: position.enteFiscalCode,
    noticeNumber: rate.noticeNumber,
    amountCents: rate.amountCents,
  };
}

async function enteIdOf(site: CrashSite, fiscalCode: string): Promise<number> {
  const ente = await site.store.enti.getByFiscalCode(fiscalCode);
  if (!ente) throw new Error(`no ente ${fiscalCode}`);
  return ente.id;
}

async function count(query: Promise<Array<Record<string, unknown>>>): Promise<number> {
  return (await query).length;
}

describe(`crash safety: processes killed with SIGKILL and restarted on the same data [${DIALECT}]`, function () {
  this.timeout((KILLS > 3 ? 20 : 3) * 60_000);

  describe('the connector (`ppay start`) while PSPs pay and the callback worker delivers', () => {
    const seed = crashSeed();
    let site: CrashSite;
    let connector: SupervisedConnector;
    let gestionale: TestGestionale;
    let paid: PaidNotice[] = [];
    /** The kills of the storm: at the front (payments) and at the gestionale (deliveries). */
    const frontKills: string[] = [];
    const deliveryKills: Array<{ n: number; notificationId: string; phase: 'beforeAck' | 'afterAck' }> = [];
    let notifications: Array<{ id: string; status: string; receiptId: string }> = [];

    before(async function () {
      site = await openCrashSite();
      gestionale = await TestGestionale.start();
      const client = await site.store.clients.findByUsername(site.demo.client.username);
      if (!client) throw new Error('no demo client');
      await site.store.clients.setEndpoints(client.id, {
        callbackUrl: gestionale.url,
        returnUrlPrefixes: client.returnUrlPrefixes,
      });
      const notices: NoticeToPay[] = [
        demoNotice(site, 'DEMO-TARI-0001'),
        demoNotice(site, 'DEMO-TARI-0003'),
        demoNotice(site, 'DEMO-TARI-RATE-0001', 1),
        demoNotice(site, 'DEMO-TARI-RATE-0001', 2),
        demoNotice(site, 'DEMO-TARI-TEFA-0001'),
        demoNotice(site, 'DEMO-TRASP-0001'),
        demoNotice(site, 'DEMO-CANONE-0001'),
        ...(await addSinglePositions(site, 'CRASH', Math.max(3, 3 * KILLS - 7))),
      ];
      connector = new SupervisedConnector(site, {
        PPAY_OUTBOX_POLL_MS: '50',
        PPAY_OUTBOX_BASE_DELAY_MS: '100',
        PPAY_OUTBOX_MAX_ATTEMPTS: '1000',
        PPAY_CALLBACK_TIMEOUT_MS: String(CALLBACK_TIMEOUT_MS),
        PPAY_IMPORT_POLL_MS: '0',
      });
      await connector.start();

      const random = seededRandom(seed);
      // Payments: the n-th request the connector is sent (retries count), and how it dies there.
      const gap = Math.max(2, Math.floor((0.8 * 3 * notices.length) / KILLS));
      const atRequest = new Map<number, FrontAction>();
      for (let i = 0, n = 0; i < KILLS; i++) {
        n += 1 + Math.floor(random() * gap);
        const pick = random();
        atRequest.set(
          n,
          pick < 0.2
            ? { kind: 'killBefore' }
            : pick < 0.6
              ? { kind: 'killDuring', delayMs: Math.floor(random() * 40) }
              : { kind: 'loseAnswer' },
        );
      }
      // Deliveries: the n-th callback the gestionale receives (redeliveries count), killed before
      // its ack goes back or a few ms after the gestionale answered OK.
      const atCallback = new Map<number, { phase: 'beforeAck' | 'afterAck'; delayMs: number }>();
      for (let i = 0, n = 0; i < KILLS; i++) {
        n += 1 + Math.floor(random() * 2);
        atCallback.set(n, {
          phase: random() < 0.6 ? 'beforeAck' : 'afterAck',
          delayMs: Math.floor(random() * 25),
        });
      }
      connector.plan = (request) => {
        const action = atRequest.get(request.n);
        if (!action) return { kind: 'forward' };
        frontKills.push(`#${request.n} ${request.operation} ${JSON.stringify(action)}`);
        return action;
      };
      let received = 0;
      gestionale.reply = (callback) => {
        const kill = atCallback.get(++received);
        if (!kill) return 'OK';
        if (!connector.running) {
          // Sent by a connector being killed already: the kill moves to the next callback.
          atCallback.set(received + 1, kill);
          return 'OK';
        }
        deliveryKills.push({ n: received, notificationId: callback.notificationId, phase: kill.phase });
        if (kill.phase === 'beforeAck') void connector.crash();
        else setTimeout(() => void connector.crash(), kill.delayMs);
        return 'OK';
      };

      const started = Date.now();
      try {
        const versions = notices.map((_, i): PrimitiveVersion => (i % 2 === 0 ? 2 : 1));
        paid = await inParallel(
          notices.map((notice, i) => ({ notice, version: versions[i] ?? 2 })),
          3,
          ({ notice, version }) => payUntilAccepted(connector, notice, version),
        );
        await waitUntil(() => deliveryKills.length === KILLS, `${KILLS} kills at deliveries`, 30_000);
        await connector.up();
        // A row a killed worker had claimed stays leased for CLAIM_LEASE_MS; then the restarted one sends it.
        await waitUntil(
          async () =>
            (await site.db('outbox').where('topic', 'notifyPayment').whereNot('status', 'DELIVERED'))
              .length === 0,
          'every notification DELIVERED',
          CLAIM_LEASE_MS + 60_000,
          200,
        );
      } finally {
        connector.plan = () => ({ kind: 'forward' });
        gestionale.reply = () => 'OK';
        for (const kill of frontKills) log(`kill at request ${kill}`);
        for (const kill of deliveryKills)
          log(`kill at callback #${kill.n} ${kill.phase} (${kill.notificationId})`);
      }
      const runs = paid.reduce((sum, p) => sum + p.runs, 0);
      log(
        `seed ${seed}: ${paid.length} payments (${runs} PSP runs), ${received} callbacks received, ` +
          `${connector.kills} kills, ${connector.starts} starts, ${Date.now() - started} ms`,
      );
      notifications = (
        await site.db('outbox').where('topic', 'notifyPayment').select('id', 'status', 'payload')
      ).map((row) => ({
        id: String(row.id),
        status: String(row.status),
        receiptId: (JSON.parse(String(row.payload)) as { payment: { receiptId: string } }).payment.receiptId,
      }));
    });
    after(async () => {
      await connector?.stop();
      await gestionale?.stop();
      await site?.close();
    });

    it(`every kill of the schedule landed, and the connector answers /health after the last restart (seed ${seed})`, async () => {
      expect(frontKills, 'kills at payment requests').to.have.length(KILLS);
      expect(deliveryKills, 'kills at callback deliveries').to.have.length(KILLS);
      expect(connector.kills).to.be.at.least(KILLS + 1);
      const health = await fetch(`${connector.url}/health`);
      expect(health.status).to.equal(200);
    });

    it(`a) moves each payment's money exactly once: one receipt, one PAID attempt, one PAID event per option (seed ${seed})`, async () => {
      const db = site.db;
      for (const p of paid) {
        const what = `${p.noticeNumber} (seed ${seed})`;
        const enteId = await enteIdOf(site, p.enteFiscalCode);
        const option = await db('payment_options')
          .where({ ente_id: enteId, notice_number: p.noticeNumber })
          .first('id', 'iuv', 'status');
        expect(option?.status, what).to.equal('PAID');
        const receipts = await db('receipts')
          .where({ iuv: option.iuv, ente_id: enteId })
          .select('receipt_id', 'option_id', 'amount_cents');
        expect(receipts, `receipts of ${what}`).to.have.length(1);
        expect(receipts[0]?.receipt_id, what).to.equal(p.paymentToken);
        expect(Number(receipts[0]?.option_id), what).to.equal(Number(option.id));
        expect(Number(receipts[0]?.amount_cents), what).to.equal(p.amountCents);
        const attempts = await db('payments').where({ ente_id: enteId, iuv: option.iuv }).select('status');
        expect(
          attempts.filter((a) => a.status === 'PAID'),
          `PAID attempts of ${what}`,
        ).to.have.length(1);
        const paidEvents = await count(
          db('events').where({
            entity_type: 'payment_option',
            entity_id: String(option.id),
            to_status: 'PAID',
          }),
        );
        expect(paidEvents, `option PAID events of ${what}`).to.equal(1);
      }
      // Nothing else was paid: the options PAID are exactly these.
      const paidOptions = await db('payment_options').where('status', 'PAID').select('notice_number');
      expect(paidOptions.map((o) => o.notice_number).sort()).to.deep.equal(
        paid.map((p) => p.noticeNumber).sort(),
      );
    });

    it(`a) the emulator's view and the connector's agree: one payment took the money, its receipt delivered to each EC once (seed ${seed})`, async () => {
      const db = site.db;
      for (const p of paid) {
        const what = `${p.noticeNumber} (seed ${seed})`;
        // Exactly one attempt of the node took money (AUTHORIZED, then NOTIFIED once delivered); every
        // other attempt failed before the PSP authorized anything.
        const taken = await db('emulator_payments')
          .where({ fiscal_code: p.enteFiscalCode, notice_number: p.noticeNumber })
          .whereIn('status', ['AUTHORIZED', 'NOTIFIED'])
          .select('payment_token', 'status', 'amount_cents', 'iuv');
        expect(
          taken.map((t) => [t.payment_token, t.status]),
          what,
        ).to.deep.equal([[p.paymentToken, 'NOTIFIED']]);
        expect(Number(taken[0]?.amount_cents), what).to.equal(p.amountCents);
        // Each EC the receipt went to (the co-beneficiary of a two-beneficiary notice too) holds it once.
        const deliveries = await db('emulator_receipt_deliveries')
          .where({ payment_token: p.paymentToken })
          .select('fiscal_code', 'status');
        expect(deliveries.length, what).to.be.at.least(1);
        expect(
          deliveries.every((d) => d.status === 'DELIVERED'),
          what,
        ).to.equal(true);
        const holders = await db('receipts as r')
          .join('enti as e', 'e.id', 'r.ente_id')
          .where('r.iuv', taken[0]?.iuv)
          .select('e.fiscal_code', 'r.receipt_id');
        expect(holders.map((h) => h.fiscal_code).sort(), what).to.deep.equal(
          deliveries.map((d) => d.fiscal_code).sort(),
        );
        expect(new Set(holders.map((h) => h.receipt_id)), what).to.deep.equal(new Set([p.paymentToken]));
      }
      const twoBeneficiaries = paid.find(
        (p) => p.noticeNumber === demoNotice(site, 'DEMO-TARI-TEFA-0001').noticeNumber,
      );
      const copies = await db('emulator_receipt_deliveries').where({
        payment_token: twoBeneficiaries?.paymentToken,
      });
      expect(copies, 'the two-beneficiary receipt went to both ECs').to.have.length(2);
    });

    it(`c) queues one notifyPayment per payment and delivers each at least once, none lost, none unknown (seed ${seed})`, () => {
      expect(notifications.map((n) => n.receiptId).sort(), `notifications (seed ${seed})`).to.deep.equal(
        paid.map((p) => p.paymentToken).sort(),
      );
      const ids = new Set(notifications.map((n) => n.id));
      for (const notification of notifications) {
        expect(notification.status).to.equal('DELIVERED');
        expect(gestionale.receivedFor(notification.id).length, notification.id).to.be.at.least(1);
      }
      const unknown = gestionale.received.filter(
        (r) => r.operation === 'notifyPayment' && !ids.has(r.notificationId),
      );
      expect(unknown).to.deep.equal([]);
    });

    it(`c) sends a notification whose ack a kill lost again after the restart, under the same notificationId and content (seed ${seed})`, () => {
      for (const notification of notifications) {
        const copies = gestionale.receivedFor(notification.id);
        const first = JSON.stringify(copies[0]?.args);
        for (const copy of copies) expect(JSON.stringify(copy.args), notification.id).to.equal(first);
      }
      const lost = deliveryKills.filter((k) => k.phase === 'beforeAck');
      for (const kill of lost) {
        expect(
          gestionale.receivedFor(kill.notificationId).length,
          `redeliveries of ${kill.notificationId}`,
        ).to.be.at.least(2);
      }
    });
  });

  describe('the importer (`ppay import`) during a three-file pass', () => {
    const BATCH_ROWS = 40;
    const env = { PPAY_IMPORT_BATCH_ROWS: String(BATCH_ROWS) };
    let site: ImportSite;
    before(async () => {
      site = await openSiteFromEnv();
    });
    after(() => closeSite(site));

    /** Kills `spawned` once file `name` has `items` records committed, `extraMs` later; false if it ended first. */
    async function killInside(
      spawned: SpawnedImport,
      name: string,
      items: number,
      extraMs: number,
    ): Promise<boolean> {
      let exited = false;
      void spawned.finished.then(() => (exited = true));
      while (!exited) {
        const progress = await importProgress(site, name);
        const past = ['WRITING_OUTCOME', 'DONE', 'REJECTED'].includes(progress?.status ?? '');
        if (past || (progress?.status === 'IMPORTING' && progress.nextItem >= items)) break;
        await delay(5);
      }
      if (extraMs > 0) await delay(extraMs);
      return !exited && spawned.child.kill('SIGKILL');
    }

    const seedB = crashSeed();
    it(`b) imports every row of every file exactly once, outcome files complete, across ${KILLS} kills (seed ${seedB})`, async () => {
      const random = seededRandom(seedB);
      const rowsPerFile = KILLS > 3 ? 2000 : 400;
      const names: string[] = [];
      for (const flow of ['CRASH-1', 'CRASH-2', 'CRASH-3']) {
        const name = ppayCsvName(site, flow);
        const file = path.join(site.root, 'files', name);
        await generateCsvFile(file, { rows: rowsPerFile, planEvery: 0, positionIdPrefix: `${flow}-` });
        await dropFile(site, name, { file });
        names.push(name);
      }
      names.sort();
      // Kill points in the order the pass reaches them: (file, records committed), plus a few ms.
      const points = Array.from({ length: KILLS }, () => Math.floor(random() * names.length * rowsPerFile))
        .sort((a, b) => a - b)
        .map((at) => ({
          file: Math.floor(at / rowsPerFile),
          items: at % rowsPerFile,
          extraMs: Math.floor(random() * 20),
        }));
      for (const [i, point] of points.entries()) {
        const name = names[point.file] as string;
        const spawned = await spawnPpay(site, ['import', '--ente', site.enteFiscalCode], env);
        const killed = await killInside(spawned, name, point.items, point.extraMs);
        const run = await spawned.finished;
        const steps = (await importRecords(site)).map(
          (r) => `${r.fileName.slice(12, 19)} ${r.status} ${r.answered}`,
        );
        log(
          `kill ${i + 1} in file ${point.file + 1} after ${point.items} records +${point.extraMs} ms: ${killed ? 'killed' : 'MISSED'} (${steps.join(', ')})`,
        );
        expect(
          killed && run.signal === 'SIGKILL',
          `kill ${i + 1} (seed ${seedB}): ${describeRun(run)}`,
        ).to.equal(true);
      }
      const last = await runImport(site, [], env);
      expect(last.code, describeRun(last)).to.equal(0);

      const total = names.length * rowsPerFile;
      const counts = await positionCounts(site);
      expect(
        [counts.positions, counts.options, counts.transfers, counts.events],
        `counts (seed ${seedB})`,
      ).to.deep.equal([total, total, total, total]);
      for (const name of names) {
        const problems = await outcomeProblems(site, await readOutcomeOf(site, name), rowsPerFile);
        expect(problems.slice(0, 5), `${name} outcome (seed ${seedB})`).to.deep.equal([]);
      }
      const records = await importRecords(site);
      expect(records.map((r) => [r.fileName, r.status, r.okCount, r.koCount, r.answered])).to.deep.equal(
        names.map((name) => [name, 'DONE', rowsPerFile, 0, rowsPerFile]),
      );
      expect(await listFolder(site, 'in')).to.deep.equal([]);
      expect(await listFolder(site, 'processing')).to.deep.equal([]);
      expect(originalNames(await listFolder(site, 'done'))).to.deep.equal(names);
      expect(await listFolder(site, 'out')).to.deep.equal(names.map(outcomeFileName).sort());
      expect(await leftoverWork(site)).to.deep.equal([]);
    });
  });
});

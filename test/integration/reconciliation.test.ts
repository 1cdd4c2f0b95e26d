// The reconciliation job end to end on every database of the matrix: receipts stored through the real
// receipt path (the emulated PSP pays demo notices against the connector on port 0), flows served by
// the emulated node, bank statements dropped in the treasury folder, then `reconcile`: options and
// positions move to RECONCILED, each anomaly appears and later data resolves it, notifyReconciliation
// is queued once per change, and the DB lock keeps two runs apart.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { forEachDatabase } from '../support/db.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { addDays } from '../../src/domain/payability.ts';
import type { Store } from '../../src/db/store.ts';
import type { Receipt } from '../../src/db/repositories/receipts.ts';
import type { FlowDocument } from '../../src/reconciliation/model.ts';
import { romeDate } from '../../src/pagopa/time.ts';
import { reconcile, RECONCILIATION_LOCK } from '../../src/app/reconciliation/reconcile.ts';
import { findLatestFlow, listAnomalies, unmatchedCredits } from '../../src/app/reconciliation/views.ts';
import {
  NOTIFY_RECONCILIATION,
  type ReconciliationNotification,
} from '../../src/app/callbacks/notifyReconciliation.ts';
import { showPosition } from '../../src/app/admin.ts';
import {
  camtOf,
  COMUNE,
  creditFor,
  csvOf,
  dropStatement,
  flowDocument,
  linesOf,
  payAndGetReceipt,
  startReconciliationServer,
  statement,
  tempDataDir,
  UNIONE,
  type ReconciliationServer,
} from './reconciliationSupport.ts';
import { resolveAnomaly } from '../../src/app/reconciliation/anomalies.ts';
import { callbackRequestFor } from '../../src/app/callbacks/requests.ts';
import { nightlyJobs } from '../../src/app/nightly.ts';
import { createStore } from '../../src/db/store.ts';
import { expectRejection } from './helpers.ts';
import type { FlowNodePort } from '../../src/app/reconciliation/fetchFlows.ts';

const PSP = 'BCITITMM';
const today = romeDate(new Date());

forEachDatabase('reconciliation job', (ctx) => {
  let server: ReconciliationServer;
  let demo: DemoSummary;
  let dataDir: string;
  let flowCounter = 0;

  const store = (): Store => ctx.store;
  const enteId = async () => (await store().enti.getByFiscalCode(COMUNE))!.id;
  const demoPosition = (positionId: string) => demo.positions.find((p) => p.positionId === positionId)!;

  /** The emulated PSP pays a demo notice (current model, paSendRTV2); returns the receipt stored. */
  const pay = (noticeNumber: string, ente = COMUNE): Promise<Receipt> =>
    payAndGetReceipt(store(), server, { ente, noticeNumber, psp: PSP });

  const nextFlowId = () => {
    flowCounter += 1;
    return `${today}${PSP}-${ctx.dialect === 'sqlite' ? 1 : 2}${String(flowCounter).padStart(3, '0')}`;
  };

  /** Today's flow of one receipt to COMUNE, served by the node, and its credit in the treasury folder. */
  const serveFlowAndCredit = (receipt: Receipt, fileTag: string, statementTag: string): FlowDocument => {
    const doc = flowDocument({
      flowId: nextFlowId(),
      settlementDate: today,
      payments: linesOf(receipt, COMUNE, today),
    });
    server.flows.put(doc);
    dropStatement(
      dataDir,
      COMUNE,
      `${fileTag}-${doc.flowId}.xml`,
      camtOf(statement([creditFor(doc)], { statementId: `${statementTag}-${doc.flowId}` })),
    );
    return doc;
  };

  const run = (date = today, ente = COMUNE) =>
    reconcile({ store: store(), node: server.node, dataDir, date, enteFiscalCode: ente });
  const unioneId = async () => (await store().enti.getByFiscalCode(UNIONE))!.id;
  const notificationsOf = async (flowId: string) =>
    (await reconciliationRows()).filter(
      (m) => (m.payload as ReconciliationNotification).flow.flowId === flowId,
    );

  const reconciliationRows = async () =>
    (await store().outbox.list()).filter((m) => m.topic === NOTIFY_RECONCILIATION);

  const optionStatus = async (noticeNumber: string) => {
    const position = await store().positions.findByNoticeNumber(await enteId(), noticeNumber);
    return {
      position: position!.status,
      option: position!.options.find((o) => o.noticeNumber === noticeNumber)!.status,
    };
  };

  const optionStatus2 = async (ente: string, noticeNumber: string) => {
    const id = (await store().enti.getByFiscalCode(ente))!.id;
    const position = await store().positions.findByNoticeNumber(id, noticeNumber);
    return {
      position: position!.status,
      option: position!.options.find((o) => o.noticeNumber === noticeNumber)!.status,
    };
  };

  before(async () => {
    demo = await seedDemo(ctx.store);
    server = await startReconciliationServer(ctx.db, ctx.store);
    dataDir = tempDataDir();
    const client = await ctx.store.clients.findByUsername(demo.client.username);
    await ctx.store.clients.setEndpoints(client!.id, {
      callbackUrl: 'http://127.0.0.1:9/callback',
      returnUrlPrefixes: [],
    });
  });

  after(async () => {
    await server?.close();
  });

  afterEach(async () => {
    // Every notifyReconciliation queued must build a request the callback schema accepts.
    for (const message of await reconciliationRows()) {
      const request = callbackRequestFor(message);
      expect(request.ok, JSON.stringify(request)).to.equal(true);
    }
  });

  it('takes paid positions to RECONCILED once their flow is received and its bank credit imported', async () => {
    const first = demoPosition('DEMO-TARI-0001');
    const second = demoPosition('DEMO-TARI-0002');
    const receipts = [await pay(first.noticeNumber), await pay(second.noticeNumber)];
    const doc = flowDocument({
      flowId: nextFlowId(),
      settlementDate: today,
      payments: receipts.flatMap((r) => linesOf(r, COMUNE, today)),
    });
    server.flows.put(doc);

    const reported = await run();
    expect(reported.status).to.equal('done');
    expect(reported.fetch).to.include({ stored: 1, fetched: 1 });
    expect(await optionStatus(first.noticeNumber)).to.deep.equal({
      position: 'REPORTED',
      option: 'REPORTED',
    });
    expect((await findLatestFlow(store(), await enteId(), doc.flowId))!.flow.status).to.equal('PENDING');

    const file = dropStatement(
      dataDir,
      COMUNE,
      'camt-1.xml',
      camtOf(statement([creditFor(doc)], { statementId: `S-${doc.flowId}` })),
    );
    const reconciled = await run();
    expect(reconciled.treasury).to.include({ imported: 1, rejected: 0 });
    expect(existsSync(file)).to.equal(false);
    expect(existsSync(path.join(dataDir, 'treasury', COMUNE, 'done', 'camt-1.xml'))).to.equal(true);
    for (const p of [first, second]) {
      expect(await optionStatus(p.noticeNumber)).to.deep.equal({
        position: 'RECONCILED',
        option: 'RECONCILED',
      });
    }
    const latest = await findLatestFlow(store(), await enteId(), doc.flowId);
    expect(latest!.flow.status).to.equal('RECONCILED');
    expect(latest!.flow.bankCredit).to.include({ amountCents: doc.totalAmountCents, trn: doc.trn });
    expect(latest!.flow.line.map((l) => [l.status, l.positionId, l.receiptId])).to.deep.equal([
      ['MATCHED', first.positionId, receipts[0]!.receiptId],
      ['MATCHED', second.positionId, receipts[1]!.receiptId],
    ]);

    const rows = (await reconciliationRows()).filter(
      (m) => (m.payload as ReconciliationNotification).flow.flowId === doc.flowId,
    );
    expect(rows).to.have.length(1);
    expect((rows[0]!.payload as ReconciliationNotification).flow.status).to.equal('RECONCILED');

    const shown = await showPosition(store(), COMUNE, first.noticeNumber);
    expect(shown.options[0]).to.include({ status: 'RECONCILED', flowId: doc.flowId, trn: doc.trn });
    const optionEvents = shown.events.filter(
      (e) => e.entityType === 'payment_option' && e.action === 'status_changed',
    );
    expect(optionEvents.map((e) => [e.toStatus, e.actor])).to.deep.equal([
      ['PAID', 'pagopa-node'],
      ['REPORTED', 'reconciliation'],
      ['RECONCILED', 'reconciliation'],
    ]);
    expect(optionEvents[1]!.cause).to.contain(doc.flowId);
  });

  it('changes nothing and queues nothing when run again with nothing new', async () => {
    const before = (await reconciliationRows()).length;
    const again = await run();
    expect(again.enti[0]!.changes).to.equal(0);
    expect(again.enti[0]!.notificationsQueued).to.equal(0);
    expect((await reconciliationRows()).length).to.equal(before);
  });

  it('does not double a credit seen in the camt.053 and in the CSV of the same day', async () => {
    const receipt = await pay(demoPosition('DEMO-TARI-0003').noticeNumber);
    const doc = flowDocument({
      flowId: nextFlowId(),
      settlementDate: today,
      payments: linesOf(receipt, COMUNE, today),
    });
    server.flows.put(doc);
    const s = statement([creditFor(doc)], { statementId: `S-${doc.flowId}` });
    dropStatement(dataDir, COMUNE, `day-${doc.flowId}.xml`, camtOf(s));
    dropStatement(dataDir, COMUNE, `day-${doc.flowId}.csv`, csvOf(s));
    const result = await run();
    expect(result.treasury!.imported).to.equal(2);
    const latest = await findLatestFlow(store(), await enteId(), doc.flowId);
    expect(latest!.flow.bankCredit!.amountCents).to.equal(doc.totalAmountCents);
    expect(latest!.flow.status).to.equal('RECONCILED');
  });

  it('runs once when two instances start at the same moment, and refuses a date that is not a day', async () => {
    // Instance A is held inside its run (waiting for the node) while instance B starts.
    let release: () => void = () => undefined;
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const slowNode: FlowNodePort = {
      nodoChiediElencoFlussiRendicontazione: async (station, filter) => {
        entered();
        await new Promise<void>((resolve) => (release = resolve));
        return server.node.nodoChiediElencoFlussiRendicontazione(station, filter);
      },
      nodoChiediFlussoRendicontazione: (station, query) =>
        server.node.nodoChiediFlussoRendicontazione(station, query),
    };
    const a = reconcile({ store: store(), node: slowNode, enteFiscalCode: COMUNE, owner: 'instance-a' });
    await inside;
    const b = await reconcile({
      store: createStore(ctx.connect()),
      enteFiscalCode: COMUNE,
      owner: 'instance-b',
    });
    release();
    expect([(await a).status, b.status]).to.deep.equal(['done', 'locked']);
    await expectRejection(reconcile({ store: store(), date: '2026-02-30' }), 'INVALID_DATE');
  });

  it('runs as a nightly job: fetches flows from the node and imports the treasury folder', async () => {
    const receipt = await pay(demoPosition('DEMO-MENSA-0001').noticeNumber);
    const doc = serveFlowAndCredit(receipt, 'nightly', 'N');
    const job = nightlyJobs({
      hour: 2,
      reservationMaxDays: 30,
      reconciliation: { dataDir, receiptFlowDays: 3, flowCreditDays: 2, node: () => server.node },
    }).find((j) => j.name === 'reconcile')!;
    const result = (await job.run(store(), new Date())) as Awaited<ReturnType<typeof reconcile>>;
    expect(result.status).to.equal('done');
    expect(result.fetch!.stored).to.be.at.least(1);
    expect((await findLatestFlow(store(), await enteId(), doc.flowId))!.flow.status).to.equal('RECONCILED');
  });

  it('refuses to run while another instance holds the lock', async () => {
    expect(await store().locks.acquire(RECONCILIATION_LOCK, 'other-instance', 60_000)).to.equal(true);
    try {
      const result = await run();
      expect(result.status).to.equal('locked');
      expect(result.enti).to.deep.equal([]);
    } finally {
      await store().locks.release(RECONCILIATION_LOCK, 'other-instance');
    }
  });

  it('reports a missing line, a wrong amount, a duplicated line and a missing credit, and clears them with the corrected data', async () => {
    const a = await pay(demoPosition('DEMO-TARI-0004').noticeNumber);
    const b = await pay(demoPosition('DEMO-TARI-0005').noticeNumber);
    const c = await pay(demoPosition('DEMO-TARI-0006').noticeNumber);
    const [la, lb, lc] = [
      linesOf(a, COMUNE, today)[0]!,
      linesOf(b, COMUNE, today)[0]!,
      linesOf(c, COMUNE, today)[0]!,
    ];
    const flowId = nextFlowId();
    // Faulty: a's line missing, b's amount wrong, c's line twice; the bank credits what was collected.
    const faulty = flowDocument({
      flowId,
      settlementDate: today,
      payments: [{ ...lb, amountCents: lb.amountCents + 100 }, lc, lc],
    });
    server.flows.put(faulty);
    const collected = la.amountCents + lb.amountCents + lc.amountCents;
    dropStatement(
      dataDir,
      COMUNE,
      `fault-${flowId}.xml`,
      camtOf(statement([creditFor(faulty, { amountCents: collected })], { statementId: `F-${flowId}` })),
    );
    const later = addDays(today, 5);
    await run(later);
    const open = (await listAnomalies(store(), { enteId: await enteId(), status: 'OPEN' })).filter(
      (x) => x.flowId === flowId || x.iuv === a.iuv,
    );
    expect(open.map((x) => x.code).sort()).to.deep.equal([
      'AMOUNT_MISMATCH', // b's line vs its receipt
      'AMOUNT_MISMATCH', // flow total vs bank credit
      'DUPLICATE_LINE',
      'RECEIPT_WITHOUT_FLOW', // a
    ]);
    expect((await findLatestFlow(store(), await enteId(), flowId))!.flow.status).to.equal('ANOMALY');
    const notified = (await reconciliationRows()).filter(
      (m) => (m.payload as ReconciliationNotification).flow.flowId === flowId,
    );
    expect(notified).to.have.length(1);
    expect((notified[0]!.payload as ReconciliationNotification).flow.status).to.equal('ANOMALY');

    // The PSP sends a corrected revision (same flow id, TRN, settlement date; later dataOraFlusso).
    server.flows.put(
      flowDocument({
        flowId,
        flowDateTime: `${today}T18:00:00`,
        trn: faulty.trn,
        settlementDate: today,
        payments: [la, lb, lc],
      }),
    );
    const fixed = await run(later);
    expect(fixed.fetch).to.include({ stored: 1, revisions: 1 });
    const still = (await listAnomalies(store(), { enteId: await enteId(), status: 'OPEN' })).filter(
      (x) => x.flowId === flowId || x.iuv === a.iuv,
    );
    expect(still).to.deep.equal([]);
    const latest = await findLatestFlow(store(), await enteId(), flowId);
    expect(latest!.flow.status).to.equal('RECONCILED');
    expect(latest!.flow.anomaly.map((x) => x.status)).to.satisfy((s: string[]) =>
      s.every((v) => v === 'RESOLVED'),
    );
    for (const p of ['DEMO-TARI-0004', 'DEMO-TARI-0005', 'DEMO-TARI-0006']) {
      expect(await optionStatus(demoPosition(p).noticeNumber)).to.deep.equal({
        position: 'RECONCILED',
        option: 'RECONCILED',
      });
    }
    const notifiedAfter = (await reconciliationRows()).filter(
      (m) => (m.payload as ReconciliationNotification).flow.flowId === flowId,
    );
    expect(notifiedAfter).to.have.length(2);
    expect(await unmatchedCredits(store(), await enteId(), { fromDate: today, toDate: today })).to.deep.equal(
      [],
    );
  });

  it('reconciles each beneficiary of a two-beneficiary payment with its own flow', async () => {
    const tefa = demoPosition('DEMO-TARI-TEFA-0001');
    const comuneReceipt = await pay(tefa.noticeNumber);
    const unioneReceipt = (await store().receipts.listByIuv(await unioneId(), comuneReceipt.iuv)).at(-1)!;
    const comuneLines = linesOf(comuneReceipt, COMUNE, today);
    const unioneLines = linesOf(unioneReceipt, UNIONE, today);
    expect(comuneLines.map((l) => [l.transferIndex, l.amountCents])).to.deep.equal([[1, 7000]]);
    expect(unioneLines.map((l) => [l.transferIndex, l.amountCents])).to.deep.equal([[2, 3000]]);
    const forComune = flowDocument({ flowId: nextFlowId(), settlementDate: today, payments: comuneLines });
    const forUnione = flowDocument({
      flowId: nextFlowId(),
      ente: UNIONE,
      settlementDate: today,
      payments: unioneLines,
    });
    server.flows.put(forComune);
    server.flows.put(forUnione);
    dropStatement(
      dataDir,
      COMUNE,
      `tefa-${forComune.flowId}.xml`,
      camtOf(statement([creditFor(forComune)], { statementId: `T-${forComune.flowId}` })),
    );
    dropStatement(
      dataDir,
      UNIONE,
      `tefa-${forUnione.flowId}.xml`,
      camtOf({
        ...statement([creditFor(forUnione)], { statementId: `T-${forUnione.flowId}`, owner: UNIONE }),
        accountIban: 'IT60X0542811101000000123456',
      }),
    );
    await run(today, COMUNE);
    await run(today, UNIONE);
    expect(await optionStatus(tefa.noticeNumber)).to.deep.equal({
      position: 'RECONCILED',
      option: 'RECONCILED',
    });
    const unioneFlow = await findLatestFlow(store(), await unioneId(), forUnione.flowId);
    expect(unioneFlow!.flow.status).to.equal('RECONCILED');
    expect(unioneFlow!.flow.line[0]).to.include({ status: 'MATCHED', receiptId: unioneReceipt.receiptId });
  });

  it('moves a paid installment alone: the installment plan stays PARTIALLY_PAID', async () => {
    const plan = demoPosition('DEMO-TARI-RATE-0001');
    const installment = plan.installments.find((i) => i.installment === 1)!;
    const receipt = await pay(installment.noticeNumber);
    serveFlowAndCredit(receipt, 'rate', 'R');
    await run();
    expect(await optionStatus(installment.noticeNumber)).to.deep.equal({
      position: 'PARTIALLY_PAID',
      option: 'RECONCILED',
    });
  });

  it('raises CREDIT_WITHOUT_FLOW for a credit that comes first, and FLOW_WITHOUT_CREDIT after the tolerance; both clear when the rest arrives', async () => {
    const canone = demoPosition('DEMO-CANONE-0001');
    const receipt = await pay(canone.noticeNumber, UNIONE);
    const early = flowDocument({
      flowId: nextFlowId(),
      ente: UNIONE,
      settlementDate: today,
      payments: linesOf(receipt, UNIONE, today),
    });
    const ownerUnione = (id: string, doc: typeof early) =>
      camtOf({
        ...statement([creditFor(doc)], { statementId: id, owner: UNIONE }),
        accountIban: 'IT60X0542811101000000123456',
      });
    dropStatement(dataDir, UNIONE, `early-${early.flowId}.xml`, ownerUnione(`E-${early.flowId}`, early));
    await run(today, UNIONE);
    const orphan = (await listAnomalies(store(), { enteId: await unioneId(), status: 'OPEN' })).filter(
      (a) => a.flowId === early.flowId,
    );
    expect(orphan.map((a) => a.code)).to.deep.equal(['CREDIT_WITHOUT_FLOW']);
    server.flows.put(early);
    await run(today, UNIONE);
    expect(
      (await listAnomalies(store(), { enteId: await unioneId(), status: 'OPEN' })).filter(
        (a) => a.flowId === early.flowId,
      ),
    ).to.deep.equal([]);
    expect((await findLatestFlow(store(), await unioneId(), early.flowId))!.flow.status).to.equal(
      'RECONCILED',
    );

    const second = demoPosition('DEMO-CANONE-0002');
    const late = flowDocument({
      flowId: nextFlowId(),
      ente: UNIONE,
      settlementDate: today,
      payments: linesOf(await pay(second.noticeNumber, UNIONE), UNIONE, today),
    });
    server.flows.put(late);
    await run(addDays(today, 1), UNIONE);
    expect((await findLatestFlow(store(), await unioneId(), late.flowId))!.flow.status).to.equal('PENDING');
    expect(await notificationsOf(late.flowId)).to.deep.equal([]);
    await run(addDays(today, 2), UNIONE);
    const missing = (await listAnomalies(store(), { enteId: await unioneId(), status: 'OPEN' })).filter(
      (a) => a.flowId === late.flowId,
    );
    expect(missing.map((a) => [a.code, a.expectedAmountCents])).to.deep.equal([
      ['FLOW_WITHOUT_CREDIT', late.totalAmountCents],
    ]);
    expect(await notificationsOf(late.flowId)).to.have.length(1);
    dropStatement(dataDir, UNIONE, `late-${late.flowId}.xml`, ownerUnione(`L-${late.flowId}`, late));
    await run(addDays(today, 3), UNIONE);
    expect((await findLatestFlow(store(), await unioneId(), late.flowId))!.flow.status).to.equal(
      'RECONCILED',
    );
    expect(await optionStatus2(UNIONE, second.noticeNumber)).to.deep.equal({
      position: 'RECONCILED',
      option: 'RECONCILED',
    });
    const told = await notificationsOf(late.flowId);
    expect(told.map((m) => (m.payload as ReconciliationNotification).flow.status)).to.deep.equal([
      'ANOMALY',
      'RECONCILED',
    ]);
  });

  it('keeps an anomaly resolved by hand resolved, and the flow then reconciles', async () => {
    const stray = flowDocument({
      flowId: nextFlowId(),
      ente: UNIONE,
      settlementDate: today,
      payments: [
        {
          iuv: '99000000000000001',
          iur: 'UNKNOWN-IUR',
          transferIndex: 1,
          amountCents: 4200,
          outcomeCode: '0',
          outcomeDate: today,
        },
      ],
    });
    server.flows.put(stray);
    dropStatement(
      dataDir,
      UNIONE,
      `stray-${stray.flowId}.xml`,
      camtOf({
        ...statement([creditFor(stray)], { statementId: `S-${stray.flowId}`, owner: UNIONE }),
        accountIban: 'IT60X0542811101000000123456',
      }),
    );
    await run(today, UNIONE);
    const [open] = (await listAnomalies(store(), { enteId: await unioneId(), status: 'OPEN' })).filter(
      (a) => a.flowId === stray.flowId,
    );
    expect(open).to.include({ code: 'LINE_WITHOUT_RECEIPT', iuv: '99000000000000001' });
    const resolved = await resolveAnomaly(
      store(),
      open!.id,
      'refund handled by the treasury office',
      'mocha',
    );
    expect(resolved).to.include({
      status: 'RESOLVED',
      resolution: 'MANUAL',
      note: 'refund handled by the treasury office',
    });
    await run(today, UNIONE);
    await run(today, UNIONE);
    expect((await store().anomalies.getById(open!.id))!.status).to.equal('RESOLVED');
    const flow = await findLatestFlow(store(), await unioneId(), stray.flowId);
    expect(flow!.flow.status).to.equal('RECONCILED');
    expect(flow!.flow.line[0]).to.include({ status: 'UNMATCHED', anomalyCode: 'LINE_WITHOUT_RECEIPT' });
  });
});

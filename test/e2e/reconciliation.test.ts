// Reconciliation end to end (issue 6 acceptance, pagopa-facts §7–8): a real `ppay start` process with
// the emulated node, a gestionale creating positions by SOAP, citizens paying them online through the
// checkout (model 1: Asincrona payment sessions and Sincrona carts) and at PSP counters (model 3) with
// two PSPs, then the operator's commands: `ppay emulator settle` (the PSPs' reporting flows and the
// treasury's camt.053 + CSV), `ppay reconcile` (fetch, import, match), `ppay anomalies`,
// `ppay position show`. 50 notices end RECONCILED with their flow's TRN and flow id; then injected
// reporting faults give exactly the expected anomalies, which the corrected data clears. The
// gestionale hears of each flow by notifyReconciliation and reads it with getReconciliationFlow.

import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { OFFICIAL_DOCUMENTS, specAvailable } from '../support/officialSchemas.ts';
import { showPosition } from '../../src/app/admin.ts';
import { reconcile, type ReconcileResult } from '../../src/app/reconciliation/reconcile.ts';
import { nextWeekday, reviseFlow, settleDay, type SettleDayResult } from '../../src/emulator/settle.ts';
import { addDays } from '../../src/domain/payability.ts';
import { schemaFor } from '../../src/xml/schema.ts';
import type { StoredAnomaly } from '../../src/db/repositories/anomalies.ts';
import type { FlowDocument } from '../../src/reconciliation/model.ts';
import { expectOk, list } from './gestionaleClient.ts';
import {
  BANCA,
  COMUNE,
  CREDITO,
  FLOW_CREDIT_DAYS,
  RECEIPT_FLOW_DAYS,
  ReconciliationWorld,
  UNIONE,
  type DemoEnte,
  type PaidNotice,
} from './reconciliationSupport.ts';

type Obj = Record<string, unknown>;

/** Spawned `ppay` commands take seconds each on a busy machine. */
const SUITE_TIMEOUT_MS = 240_000;

const sum = (notices: ReadonlyArray<{ amountCents: number }>) =>
  notices.reduce((t, n) => t + n.amountCents, 0);

/** Varied amounts (1500, 1637, ...): totals and credits differ from flow to flow. */
const amountsFrom = (start: number, count: number) =>
  Array.from({ length: count }, (_, i) => start + 137 * i);

/** The flow the emulator put a payment in: its id and TRN, from the flow documents themselves. */
function flowOfIuv(
  flows: ReadonlyMap<string, { doc: FlowDocument }>,
): Map<string, { flowId: string; trn: string }> {
  const byIuv = new Map<string, { flowId: string; trn: string }>();
  for (const { doc } of flows.values()) {
    for (const line of doc.payments) {
      expect(byIuv.has(line.iuv), `${line.iuv} in one flow only`).to.equal(false);
      byIuv.set(line.iuv, { flowId: doc.flowId, trn: doc.trn });
    }
  }
  return byIuv;
}

function expectOfficialFlow(xml: string, flowId: string): void {
  if (!specAvailable()) return;
  expect(
    schemaFor(OFFICIAL_DOCUMENTS.flusso104()).validateXml(xml),
    `${flowId} against FlussoRiversamento_1_0_4.xsd`,
  ).to.deep.equal({ ok: true });
}

/** The one flow of a settlement for a PSP and an ente. */
function settledFlow(result: SettleDayResult, psp: string, ente: string) {
  const found = result.flows.filter((f) => f.pspId === psp && f.enteFiscalCode === ente);
  expect(found, `one flow ${psp} → ${ente}`).to.have.length(1);
  return found[0]!;
}

/** What the tests compare of an anomaly: its code and subject, and the amounts it states. */
function anomalyKey(
  a: Pick<
    StoredAnomaly,
    'enteFiscalCode' | 'code' | 'flowId' | 'iuv' | 'amountCents' | 'expectedAmountCents'
  >,
) {
  return `${a.enteFiscalCode} ${a.code} flow=${a.flowId ?? '-'} iuv=${a.iuv ?? '-'} amount=${a.amountCents ?? '-'} expected=${a.expectedAmountCents ?? '-'}`;
}

forEachDatabase('reconciliation end to end', (ctx) => {
  // Nested so that its after hook (stopping the connector) runs before forEachDatabase's, which
  // destroys the database the connector uses. Both scenarios share the connector: the second one
  // also shows that the first one's reconciled data stays untouched.
  describe('a connector process, the emulator, a gestionale', function () {
    this.timeout(SUITE_TIMEOUT_MS);
    let world: ReconciliationWorld;

    before(async () => {
      world = await ReconciliationWorld.start(ctx);
    });
    after(() => world?.close());

    describe('50 notices, models 1 and 3, two PSPs: pay, settle, import, reconcile', () => {
      let settled: SettleDayResult;
      /** iuv → the flow (id, TRN) the emulator reported it in. */
      let truth: Map<string, { flowId: string; trn: string }>;

      const paidBy = (psp: string, ente: DemoEnte) =>
        world.paid.filter((p) => p.psp === psp && p.ente === ente);

      it('pays 50 notices created by SOAP: at PSP counters and online through the checkout, with two PSPs', async () => {
        const started = Date.now();
        const comune = await world.upload(COMUNE, amountsFrom(1500, 30));
        const unione = await world.upload(UNIONE, amountsFrom(2100, 10));
        const psp = (i: number) => (i % 2 === 0 ? BANCA : CREDITO);
        // Model 3: 20 + 6 printed notices paid at a counter.
        for (const [i, notice] of [...comune.slice(0, 20), ...unione.slice(0, 6)].entries()) {
          await world.payAtPsp(notice, psp(i));
        }
        // Model 1, Asincrona: 10 + 4 payment sessions, the citizen picks the PSP on the checkout.
        for (const [i, notice] of [...comune.slice(20), ...unione.slice(6)].entries()) {
          await world.payThroughSession(notice, psp(i + 1));
        }
        // Model 1, Sincrona: carts of new positions (1 to 3 notices), one PSP per cart.
        await world.payCart(COMUNE, [990], BANCA);
        await world.payCart(COMUNE, [1240, 3310], CREDITO);
        await world.payCart(COMUNE, [575, 4000, 1999], BANCA);
        await world.payCart(UNIONE, [2750, 1180], CREDITO);
        await world.payCart(UNIONE, [660, 8025], BANCA);
        const elapsedMs = Date.now() - started;

        expect(world.paid).to.have.length(50);
        expect(new Set(world.paid.map((p) => p.iuv)).size).to.equal(50);
        for (const by of ['psp-counter', 'payment-session', 'start-payment'] as const) {
          for (const p of [BANCA, CREDITO]) {
            expect(
              world.paid.filter((n) => n.paidBy === by && n.psp === p),
              `${by} with ${p}`,
            ).to.not.have.length(0);
          }
        }
        for (const notice of world.paid) {
          const status = await world.gestionale.call('getPaymentStatus', {
            enteFiscalCode: notice.ente,
            positionId: notice.positionId,
          });
          expectOk(status);
          expect(status.positionStatus, notice.positionId).to.equal('PAID');
        }
        // Seconds on a quiet machine (6 s measured), 15-40 s on a saturated one: this guard only
        // catches a payment path gone pathologically slow (a timeout or a sleep per payment).
        expect(elapsedMs, `50 payments took ${elapsedMs} ms`).to.be.below(120_000);
      });

      it('settles the day with `ppay emulator settle`: one flow per PSP and ente, one credit per flow in each treasury', async () => {
        await world.callbacksDelivered();
        settled = await world.cliJson<SettleDayResult>([
          'emulator',
          'settle',
          '--date',
          world.today,
          '--json',
        ]);
        const settlementDate = nextWeekday(world.today);
        expect(settled).to.include({
          status: 'settled',
          date: world.today,
          settlementDate,
          alreadySettledLines: 0,
        });
        expect(settled.flows).to.have.length(4);
        expect(settled.withheldCredits).to.deep.equal([]);
        for (const psp of [BANCA, CREDITO]) {
          for (const ente of [COMUNE, UNIONE] as const) {
            const flow = settledFlow(settled, psp, ente);
            const paid = paidBy(psp, ente);
            expect(flow).to.include({
              paymentCount: paid.length,
              totalAmountCents: sum(paid),
              collectedCents: sum(paid),
              settlementDate,
            });
            const credits = settled.credits.filter((c) => c.flowId === flow.flowId);
            expect(credits, `the credit of ${flow.flowId}`).to.have.length(1);
            expect(credits[0]).to.include({
              enteFiscalCode: ente,
              amountCents: sum(paid),
              trn: flow.trn,
              valueDate: settlementDate,
            });
          }
        }
        expect(settled.statements.map((s) => s.enteFiscalCode).sort()).to.deep.equal([COMUNE, UNIONE]);

        const flows = await world.emulatorFlows();
        expect([...flows.keys()].sort()).to.deep.equal(settled.flows.map((f) => f.flowId).sort());
        for (const [flowId, { doc, xml }] of flows) {
          expectOfficialFlow(xml, flowId);
          const summary = settled.flows.find((f) => f.flowId === flowId)!;
          expect(doc.trn).to.equal(summary.trn);
          expect(doc.payments.map((l) => l.iuv).sort(), flowId).to.deep.equal(
            paidBy(summary.pspId, summary.enteFiscalCode as DemoEnte)
              .map((p) => p.iuv)
              .sort(),
          );
        }
        truth = flowOfIuv(flows);
        expect(truth.size).to.equal(50);
      });

      it('`ppay reconcile` fetches the flows, imports the statements and takes every position to RECONCILED with its TRN and flow id', async () => {
        await world.callbacksDelivered();
        const result = await world.cliJson<ReconcileResult>(['reconcile', '--json']);
        expect(result.status).to.equal('done');
        expect(result.fetch).to.include({ listed: 4, fetched: 4, stored: 4, invalid: 0 });
        expect(result.fetch!.failures).to.deep.equal([]);
        // The camt.053 and the CSV of each ente carry the same credits: both imported, credited once.
        expect(result.treasury).to.include({ rejected: 0 });
        expect(result.treasury!.files.map((f) => f.fileName).sort()).to.deep.equal(
          settled.statements
            .flatMap((s) => [path.basename(s.camt053File), path.basename(s.cashJournalFile)])
            .sort(),
        );
        for (const ente of [COMUNE, UNIONE]) {
          const outcome = result.enti.find((e) => e.enteFiscalCode === ente)!;
          const count = world.paid.filter((p) => p.ente === ente).length;
          expect(outcome, ente).to.include({
            flows: 2,
            reconciledFlows: 2,
            anomalyFlows: 0,
            pendingFlows: 0,
            linesMatched: count,
            linesUnmatched: 0,
            positionsReconciled: count,
            anomaliesOpened: 0,
            openAnomalies: 0,
          });
          for (const statement of settled.statements.filter((s) => s.enteFiscalCode === ente)) {
            const treasury = path.join(world.dataDir, 'treasury', ente);
            expect(fs.readdirSync(path.join(treasury, 'in'))).to.deep.equal([]);
            expect(fs.readdirSync(path.join(treasury, 'done'))).to.include.members([
              path.basename(statement.camt053File),
              path.basename(statement.cashJournalFile),
            ]);
          }
        }

        for (const notice of world.paid) {
          const expected = truth.get(notice.iuv)!;
          const shown = await showPosition(ctx.store, notice.ente, notice.noticeNumber);
          expect(shown.status, notice.positionId).to.equal('RECONCILED');
          expect(shown.options).to.have.length(1);
          expect(shown.options[0], notice.positionId).to.include({
            status: 'RECONCILED',
            flowId: expected.flowId,
            trn: expected.trn,
          });
          const status = await world.gestionale.call('getPaymentStatus', {
            enteFiscalCode: notice.ente,
            positionId: notice.positionId,
          });
          expectOk(status);
          expect(status.positionStatus, notice.positionId).to.equal('RECONCILED');
        }
        // What the operator sees for one of them.
        const first = world.paid[0]!;
        const shown = await world.cliJson<{ status: string; options: Obj[] }>([
          'position',
          'show',
          first.ente,
          first.noticeNumber,
        ]);
        expect(shown.status).to.equal('RECONCILED');
        expect(shown.options[0]).to.include({ status: 'RECONCILED', ...truth.get(first.iuv) });

        for (const ente of [COMUNE, UNIONE]) {
          const enteId = (await ctx.store.enti.getByFiscalCode(ente))!.id;
          const flows = await ctx.store.reconciliationFlows.listLatest(enteId);
          expect(flows.map((f) => `${f.flowId} ${f.trn} ${f.status}`).sort()).to.deep.equal(
            settled.flows
              .filter((f) => f.enteFiscalCode === ente)
              .map((f) => `${f.flowId} ${f.trn} RECONCILED`)
              .sort(),
          );
        }
        expect(await ctx.store.anomalies.list({}), 'no anomaly, open or resolved').to.deep.equal([]);
      });

      it('shows each flow to the gestionale: getReconciliationFlow and one notifyReconciliation, RECONCILED, lines matched to the positions', async () => {
        await world.callbacksDelivered();
        for (const flow of settled.flows) {
          const paid = paidBy(flow.pspId, flow.enteFiscalCode as DemoEnte);
          const answer = await world.gestionale.call('getReconciliationFlow', {
            enteFiscalCode: flow.enteFiscalCode,
            flowId: flow.flowId,
          });
          expectOk(answer);
          const callbacks = world.reconciliationCallbacks(flow.flowId);
          expect(callbacks, `notifyReconciliation for ${flow.flowId}`).to.have.length(1);
          expect(callbacks[0]!.args.enteFiscalCode).to.equal(flow.enteFiscalCode);
          for (const seen of [answer.flow as Obj, callbacks[0]!.args.flow as Obj]) {
            expect(seen).to.include({
              flowId: flow.flowId,
              pspId: flow.pspId,
              trn: flow.trn,
              status: 'RECONCILED',
            });
            expect(Number(seen.totalAmountCents)).to.equal(sum(paid));
            expect(Number((seen.bankCredit as Obj).amountCents), 'credited once').to.equal(sum(paid));
            expect(Number(seen.anomalyCount)).to.equal(0);
            const lines = list(seen.line as Obj[]).map(
              (l) => `${l.iuv} ${l.positionId} ${l.noticeNumber} ${l.status}`,
            );
            expect(lines.sort()).to.deep.equal(
              paid.map((p) => `${p.iuv} ${p.positionId} ${p.noticeNumber} MATCHED`).sort(),
            );
          }
        }
        const raw = world.callbacks.raw.filter((r) => r.xml.includes('notifyReconciliationRequest'));
        expect(raw).to.have.length(4);
        expect(
          raw.map((r) => r.problem),
          'against gestionale-callback.xsd',
        ).to.deep.equal([null, null, null, null]);
      });

      it('changes nothing when reconciliation runs again', async () => {
        const snapshot = async () => ({
          positions: await Promise.all(
            world.paid.map(async (p) => {
              const shown = await showPosition(ctx.store, p.ente, p.noticeNumber);
              return `${p.positionId} ${shown.status} ${shown.events.length}`;
            }),
          ),
          anomalies: (await ctx.store.anomalies.list({})).length,
          outbox: (await ctx.store.outbox.list()).map((r) => r.id),
          flows: (
            await ctx.store.reconciliationFlows.listLatest((await ctx.store.enti.getByFiscalCode(COMUNE))!.id)
          ).map((f) => `${f.id} ${f.status} ${f.notifiedState} ${f.updatedAt}`),
        });
        const before = await snapshot();
        // The function `ppay reconcile` runs (spawning the CLI again would only cost seconds).
        await world.callbacksDelivered();
        const again = await reconcile({ store: ctx.store, node: world.node(), dataDir: world.dataDir });
        expect(again.status).to.equal('done');
        expect(again.fetch).to.include({ listed: 4, fetched: 0, stored: 0 });
        expect(again.treasury).to.include({ imported: 0, rejected: 0 });
        for (const outcome of again.enti) {
          expect(outcome, outcome.enteFiscalCode).to.include({
            changes: 0,
            notificationsQueued: 0,
            openAnomalies: 0,
          });
        }
        expect(await snapshot()).to.deep.equal(before);
      });
    });

    describe('injected reporting faults, the anomalies they raise, and their correction', () => {
      let faulty: SettleDayResult;
      /** Flow A: BANCA → Comune (a dropped line, a wrong amount); B: CREDITO → Comune (a duplicated line); C: CREDITO → Unione (no credit). */
      let flowA: string;
      let flowB: string;
      let flowC: string;
      let a: PaidNotice[];
      let b: PaidNotice[];
      let c: PaidNotice[];
      const WRONG_BY = 150;

      /** Far enough ahead for RECEIPT_WITHOUT_FLOW and FLOW_WITHOUT_CREDIT to be due. */
      const later = () =>
        addDays(nextWeekday(world.today), Math.max(RECEIPT_FLOW_DAYS, FLOW_CREDIT_DAYS) + 1);

      async function reconcileAsOf(date: string): Promise<ReconcileResult> {
        await world.callbacksDelivered();
        return reconcile({
          store: ctx.store,
          node: world.node(),
          dataDir: world.dataDir,
          date,
          thresholds: { receiptFlowDays: RECEIPT_FLOW_DAYS, flowCreditDays: FLOW_CREDIT_DAYS },
        });
      }

      async function openAnomalies(): Promise<string[]> {
        return (await ctx.store.anomalies.list({ status: 'OPEN' })).map(anomalyKey).sort();
      }

      /** The anomalies the faulty flows A and B give as soon as they are reconciled (no threshold needed). */
      function reportingFaultAnomalies(): string[] {
        return [
          // a2 reported for more than its receipt says.
          anomalyKey({
            enteFiscalCode: COMUNE,
            code: 'AMOUNT_MISMATCH',
            flowId: flowA,
            iuv: a[1]!.iuv,
            amountCents: a[1]!.amountCents + WRONG_BY,
            expectedAmountCents: a[1]!.amountCents,
          }),
          // The bank credited what was collected (a1 + a2 + a3), not flow A's total (a2 + 150 + a3).
          anomalyKey({
            enteFiscalCode: COMUNE,
            code: 'AMOUNT_MISMATCH',
            flowId: flowA,
            iuv: null,
            amountCents: sum(a),
            expectedAmountCents: sum(a) - a[0]!.amountCents + WRONG_BY,
          }),
          // b1 reported twice: the second line is the duplicate, and flow B's total counts it.
          anomalyKey({
            enteFiscalCode: COMUNE,
            code: 'DUPLICATE_LINE',
            flowId: flowB,
            iuv: b[0]!.iuv,
            amountCents: b[0]!.amountCents,
            expectedAmountCents: null,
          }),
          anomalyKey({
            enteFiscalCode: COMUNE,
            code: 'AMOUNT_MISMATCH',
            flowId: flowB,
            iuv: null,
            amountCents: sum(b),
            expectedAmountCents: sum(b) + b[0]!.amountCents,
          }),
        ];
      }

      /** The status of flows A, B and C; every other flow (the first scenario's) stays RECONCILED. */
      async function flowStatuses(): Promise<Record<string, string>> {
        const statuses: Record<string, string> = {};
        for (const ente of [COMUNE, UNIONE]) {
          const enteId = (await ctx.store.enti.getByFiscalCode(ente))!.id;
          for (const f of await ctx.store.reconciliationFlows.listLatest(enteId)) {
            if ([flowA, flowB, flowC].includes(f.flowId)) statuses[f.flowId] = f.status;
            else expect(f.status, f.flowId).to.equal('RECONCILED');
          }
        }
        return statuses;
      }

      async function positionStatuses(notices: readonly PaidNotice[]): Promise<string[]> {
        return Promise.all(
          notices.map(async (n) => (await showPosition(ctx.store, n.ente, n.noticeNumber)).status),
        );
      }

      it('pays 8 notices with two PSPs and settles the day with a dropped line, a wrong amount, a duplicated line and a withheld credit', async () => {
        const [a1, a2, a3, b1, b2, b3] = await world.upload(COMUNE, [1210, 2320, 3430, 4540, 5650, 6760]);
        const [c1, c2] = await world.upload(UNIONE, [7870, 8980]);
        a = [
          await world.payAtPsp(a1!, BANCA),
          await world.payThroughSession(a2!, BANCA),
          await world.payAtPsp(a3!, BANCA),
        ];
        b = [
          await world.payAtPsp(b1!, CREDITO),
          await world.payThroughSession(b2!, CREDITO),
          await world.payAtPsp(b3!, CREDITO),
        ];
        c = [await world.payAtPsp(c1!, CREDITO), await world.payThroughSession(c2!, CREDITO)];

        await world.callbacksDelivered();
        faulty = await settleDay({
          store: ctx.store,
          dataDir: world.dataDir,
          date: world.today,
          faults: {
            dropLine: [a[0]!.iuv],
            lineAmountCents: { [a[1]!.iuv]: a[1]!.amountCents + WRONG_BY },
            duplicateLine: [b[0]!.iuv],
            omitCredit: [c[0]!.iuv],
          },
        });
        expect(faulty.status).to.equal('settled');
        flowA = settledFlow(faulty, BANCA, COMUNE).flowId;
        flowB = settledFlow(faulty, CREDITO, COMUNE).flowId;
        flowC = settledFlow(faulty, CREDITO, UNIONE).flowId;
        expect(faulty.flows).to.have.length(3);
        expect(settledFlow(faulty, BANCA, COMUNE)).to.include({
          paymentCount: 2,
          totalAmountCents: a[1]!.amountCents + WRONG_BY + a[2]!.amountCents,
          collectedCents: sum(a),
        });
        expect(settledFlow(faulty, CREDITO, COMUNE)).to.include({
          paymentCount: 4,
          totalAmountCents: sum(b) + b[0]!.amountCents,
          collectedCents: sum(b),
        });
        // Credits are what the PSPs collected; flow C's is held back.
        expect(faulty.credits.map((cr) => `${cr.flowId} ${cr.amountCents}`).sort()).to.deep.equal(
          [`${flowA} ${sum(a)}`, `${flowB} ${sum(b)}`].sort(),
        );
        expect(faulty.withheldCredits).to.deep.equal([
          { flowId: flowC, enteFiscalCode: UNIONE, amountCents: sum(c) },
        ]);
        for (const [flowId, { xml }] of await world.emulatorFlows()) expectOfficialFlow(xml, flowId);
      });

      it('on the day itself: the reporting faults only (line amount, duplicate, flow totals against credits), nothing time-based yet', async () => {
        const result = await reconcileAsOf(world.today);
        expect(result.fetch).to.include({ stored: 3, invalid: 0 });
        expect(await openAnomalies()).to.deep.equal(reportingFaultAnomalies().sort());
        expect(await flowStatuses()).to.deep.equal({
          [flowA]: 'ANOMALY',
          [flowB]: 'ANOMALY',
          [flowC]: 'PENDING',
        });
      });

      it(`after ${RECEIPT_FLOW_DAYS} days without flow and ${FLOW_CREDIT_DAYS} without credit: exactly the expected anomalies, as \`ppay anomalies\` lists them`, async () => {
        // As the operator runs it: the thresholds come from PPAY_RECEIPT_FLOW_DAYS / PPAY_FLOW_CREDIT_DAYS.
        await world.callbacksDelivered();
        const result = await world.cliJson<ReconcileResult>(['reconcile', '--date', later(), '--json']);
        expect(result.status).to.equal('done');
        expect(result.fetch).to.include({ stored: 0 });
        const expected = [
          // a1 was left out of flow A: its receipt is in no flow.
          anomalyKey({
            enteFiscalCode: COMUNE,
            code: 'RECEIPT_WITHOUT_FLOW',
            flowId: null,
            iuv: a[0]!.iuv,
            amountCents: a[0]!.amountCents,
            expectedAmountCents: null,
          }),
          ...reportingFaultAnomalies(),
          // Flow C's credit never came.
          anomalyKey({
            enteFiscalCode: UNIONE,
            code: 'FLOW_WITHOUT_CREDIT',
            flowId: flowC,
            iuv: null,
            amountCents: null,
            expectedAmountCents: sum(c),
          }),
        ].sort();
        expect(await openAnomalies()).to.deep.equal(expected);
        const listed = (await world.cliAnomalies()) as unknown as StoredAnomaly[];
        expect(listed.map(anomalyKey).sort(), '`ppay anomalies --json`').to.deep.equal(expected);
        expect(listed.every((an) => an.status === 'OPEN')).to.equal(true);

        expect(await flowStatuses()).to.deep.equal({
          [flowA]: 'ANOMALY',
          [flowB]: 'ANOMALY',
          [flowC]: 'ANOMALY',
        });
        // a1 in no flow and a2 misreported stay PAID; the others are reported, none is credited in full.
        expect(await positionStatuses(a)).to.deep.equal(['PAID', 'PAID', 'REPORTED']);
        expect(await positionStatuses(b)).to.deep.equal(['REPORTED', 'REPORTED', 'REPORTED']);
        expect(await positionStatuses(c)).to.deep.equal(['REPORTED', 'REPORTED']);
      });

      it('the corrected flows and the late credit clear every anomaly and reconcile every position', async () => {
        await world.callbacksDelivered();
        const revisedA = await reviseFlow({ store: ctx.store, flowId: flowA });
        const revisedB = await reviseFlow({ store: ctx.store, flowId: flowB });
        expect(revisedA).to.include({
          flowId: flowA,
          revision: 2,
          paymentCount: 3,
          totalAmountCents: sum(a),
        });
        expect(revisedB).to.include({
          flowId: flowB,
          revision: 2,
          paymentCount: 3,
          totalAmountCents: sum(b),
        });
        // The treasury books flow C's credit with the next statement, when the day is settled again.
        const owed = await settleDay({ store: ctx.store, dataDir: world.dataDir, date: world.today });
        expect(owed.flows, 'no new flow').to.deep.equal([]);
        expect(owed.credits.map((cr) => `${cr.flowId} ${cr.amountCents}`)).to.deep.equal([
          `${flowC} ${sum(c)}`,
        ]);

        const result = await reconcileAsOf(later());
        expect(result.fetch).to.include({ stored: 2, revisions: 2, invalid: 0 });
        expect(result.enti.reduce((n, e) => n + e.anomaliesResolved, 0)).to.equal(6);
        expect(await openAnomalies()).to.deep.equal([]);
        const all = await ctx.store.anomalies.list({});
        expect(all).to.have.length(6);
        expect(all.map((an) => `${an.status} ${an.resolution}`)).to.deep.equal(
          Array(6).fill('RESOLVED AUTO'),
        );

        expect(await flowStatuses()).to.deep.equal({
          [flowA]: 'RECONCILED',
          [flowB]: 'RECONCILED',
          [flowC]: 'RECONCILED',
        });
        const truth = flowOfIuv(await world.emulatorFlows());
        for (const notice of [...a, ...b, ...c]) {
          const shown = await showPosition(ctx.store, notice.ente, notice.noticeNumber);
          expect(shown.status, notice.positionId).to.equal('RECONCILED');
          expect(shown.options[0], notice.positionId).to.include({
            status: 'RECONCILED',
            ...truth.get(notice.iuv),
          });
        }
      });

      it('told the gestionale of each flow twice: ANOMALY with its anomalies, then RECONCILED', async () => {
        await world.callbacksDelivered();
        const told = (flowId: string) =>
          world.reconciliationCallbacks(flowId).map((r) => {
            const flow = r.args.flow as Obj;
            const codes = list(flow.anomaly as Obj[] | undefined).map(
              (an) => `${an.code as string} ${an.status as string}`,
            );
            return `${flow.status as string} [${codes.sort().join(', ')}]`;
          });
        // The flow carries its anomalies, the resolved ones too, so the gestionale sees what was cleared.
        expect(told(flowA)).to.deep.equal([
          'ANOMALY [AMOUNT_MISMATCH OPEN, AMOUNT_MISMATCH OPEN]',
          'RECONCILED [AMOUNT_MISMATCH RESOLVED, AMOUNT_MISMATCH RESOLVED]',
        ]);
        expect(told(flowB)).to.deep.equal([
          'ANOMALY [AMOUNT_MISMATCH OPEN, DUPLICATE_LINE OPEN]',
          'RECONCILED [AMOUNT_MISMATCH RESOLVED, DUPLICATE_LINE RESOLVED]',
        ]);
        expect(told(flowC)).to.deep.equal([
          'ANOMALY [FLOW_WITHOUT_CREDIT OPEN]',
          'RECONCILED [FLOW_WITHOUT_CREDIT RESOLVED]',
        ]);
        const raw = world.callbacks.raw.filter(
          (r) =>
            r.xml.includes('notifyReconciliationRequest') &&
            [flowA, flowB, flowC].some((id) => r.xml.includes(`<flowId>${id}</flowId>`)),
        );
        expect(raw).to.have.length(6);
        expect(raw.filter((r) => r.problem !== null)).to.deep.equal([]);
      });
    });
  });
});

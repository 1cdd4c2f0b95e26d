// The gestionale API's reconciliation operations (listReconciliationFlows, getReconciliationFlow) on
// every database of the matrix, called with a node-soap client built from the served WSDL (every
// answer validated against xsd/gestionale). The data is made the real way: the emulated PSP pays
// demo notices, the emulated node serves the flows, a camt.053 lands in the treasury folder, and
// the reconcile job matches them.
import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { addClient } from '../../src/app/admin.ts';
import { addDays } from '../../src/domain/payability.ts';
import { reconcile } from '../../src/app/reconciliation/reconcile.ts';
import { buildFlussoRiversamento } from '../../src/pagopa/flussoRiversamento.ts';
import { romeDate } from '../../src/pagopa/time.ts';
import type { Receipt } from '../../src/db/repositories/receipts.ts';
import type { FlowDocument } from '../../src/reconciliation/model.ts';
import {
  expectKo,
  expectOk,
  gestionaleClient,
  list,
  type GestionaleClient,
} from '../e2e/gestionaleClient.ts';
import {
  camtOf,
  COMUNE,
  creditFor,
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

type Obj = Record<string, unknown>;

const PSP = 'BCITITMM';
const OTHER_PSP = 'UNCRITMM';

/** node-soap's client reads xs:date and xs:dateTime as Date objects. */
function dayOf(value: unknown): string {
  return value instanceof Date ? value.toISOString().slice(0, 10) : String(value);
}

forEachDatabase('gestionale API: listReconciliationFlows and getReconciliationFlow', (ctx) => {
  const today = romeDate(new Date());
  const [dayOne, dayTwo] = [addDays(today, -2), addDays(today, -1)];
  let server: ReconciliationServer;
  let demo: DemoSummary;
  let client: GestionaleClient;
  let comuneOnly: GestionaleClient;
  /** F1 reconciled (settled two days ago), F2 with a line no receipt explains (yesterday), F3 pending (today). */
  let f1: FlowDocument;
  let f1Xml: string;
  let f2: FlowDocument;
  let f3: FlowDocument;
  let unioneFlow: FlowDocument;
  let receipts: Receipt[];

  const pay = (positionId: string): Promise<Receipt> =>
    payAndGetReceipt(ctx.store, server, {
      ente: COMUNE,
      noticeNumber: demo.positions.find((p) => p.positionId === positionId)!.noticeNumber,
      psp: PSP,
    });

  before(async () => {
    demo = await seedDemo(ctx.store);
    server = await startReconciliationServer(ctx.db, ctx.store);
    const dataDir = tempDataDir();
    client = await gestionaleClient(server, demo.client);
    const comune = { username: 'recon-comune-only', password: 'recon-comune-only-password' };
    await addClient(ctx.store, {
      ...comune,
      name: comune.username,
      enti: [COMUNE],
      services: [],
      models: ['base'],
    });
    comuneOnly = await gestionaleClient(server, comune);

    receipts = [await pay('DEMO-TARI-0001'), await pay('DEMO-TARI-0002'), await pay('DEMO-TARI-0003')];
    const [r1, r2, r3] = receipts as [Receipt, Receipt, Receipt];
    f1 = flowDocument({
      flowId: `${dayOne}${PSP}-1`,
      settlementDate: dayOne,
      payments: linesOf(r1, COMUNE, dayOne),
    });
    f1Xml = buildFlussoRiversamento(f1);
    const stray = {
      iuv: '01000000009999917',
      iur: 'IUR-NOT-COLLECTED',
      transferIndex: 1,
      amountCents: 700,
      outcomeCode: '0' as const,
      outcomeDate: dayTwo,
    };
    f2 = flowDocument({
      flowId: `${dayTwo}${PSP}-1`,
      settlementDate: dayTwo,
      payments: [...linesOf(r2, COMUNE, dayTwo), stray],
    });
    f3 = flowDocument({
      flowId: `${today}${OTHER_PSP}-1`,
      psp: OTHER_PSP,
      settlementDate: today,
      payments: linesOf(r3, COMUNE, today),
    });
    unioneFlow = flowDocument({
      flowId: `${dayTwo}${PSP}-9`,
      ente: UNIONE,
      settlementDate: dayTwo,
      payments: [stray],
    });
    server.flows.put(f1, f1Xml);
    for (const doc of [f2, f3, unioneFlow]) server.flows.put(doc);
    const credits = [creditFor(f1), creditFor(f2)];
    dropStatement(dataDir, COMUNE, 'camt-api.xml', camtOf(statement(credits, { statementId: 'API-1' })));
    const run = await reconcile({ store: ctx.store, node: server.node, dataDir, date: today });
    expect(run.fetch).to.include({ stored: 4 });
  });

  after(() => server?.close());

  async function listFlows(c: GestionaleClient, extra: Obj = {}) {
    return c.call('listReconciliationFlows', {
      enteFiscalCode: COMUNE,
      fromDate: dayOne,
      toDate: today,
      ...extra,
    });
  }

  describe('listReconciliationFlows', () => {
    it('lists the ente flows settled in the range, oldest first, with TRN, totals, status and bank credit', async () => {
      const answer = await listFlows(client);
      expectOk(answer);
      expect(answer.pageInfo).to.deep.equal({
        pageNumber: '1',
        pageSize: '100',
        totalItems: '3',
        totalPages: '1',
      });
      const flows = list(answer.flow as Obj | Obj[]);
      expect(flows.map((f) => [f.flowId, f.status])).to.deep.equal([
        [f1.flowId, 'RECONCILED'],
        [f2.flowId, 'ANOMALY'],
        [f3.flowId, 'PENDING'],
      ]);
      const [first, second, third] = flows as [Obj, Obj, Obj];
      expect(first).to.include({
        pspId: PSP,
        trn: f1.trn,
        paymentCount: '1',
        totalAmountCents: String(f1.totalAmountCents),
        anomalyCount: '0',
      });
      expect(dayOf(first.settlementDate)).to.equal(dayOne);
      expect(first.bankCredit).to.include({
        amountCents: String(f1.totalAmountCents),
        trn: f1.trn,
        statementId: 'API-1',
      });
      expect(second).to.include({ paymentCount: '2', anomalyCount: '1' });
      expect(third).to.include({ pspId: OTHER_PSP, anomalyCount: '0' });
      expect(third.bankCredit).to.equal(undefined);
    });

    it('pages the list', async () => {
      const page1 = await listFlows(client, { pageNumber: 1, pageSize: 2 });
      const page2 = await listFlows(client, { pageNumber: 2, pageSize: 2 });
      expect(page1.pageInfo).to.deep.equal({
        pageNumber: '1',
        pageSize: '2',
        totalItems: '3',
        totalPages: '2',
      });
      expect(list(page1.flow as Obj | Obj[]).map((f) => f.flowId)).to.deep.equal([f1.flowId, f2.flowId]);
      expect(page2.pageInfo).to.include({ pageNumber: '2', totalItems: '3' });
      expect(list(page2.flow as Obj | Obj[]).map((f) => f.flowId)).to.deep.equal([f3.flowId]);
      const beyond = await listFlows(client, { pageNumber: 3, pageSize: 2 });
      expectOk(beyond);
      expect(list(beyond.flow as Obj | Obj[])).to.deep.equal([]);
    });

    it('keeps only the flows in the asked status, and only those settled in the range', async () => {
      for (const [status, flow] of [
        ['RECONCILED', f1],
        ['ANOMALY', f2],
        ['PENDING', f3],
      ] as const) {
        const answer = await listFlows(client, { status });
        expect(
          list(answer.flow as Obj | Obj[]).map((f) => f.flowId),
          status,
        ).to.deep.equal([flow.flowId]);
      }
      const yesterday = await listFlows(client, { fromDate: dayTwo, toDate: dayTwo });
      expect(list(yesterday.flow as Obj | Obj[]).map((f) => f.flowId)).to.deep.equal([f2.flowId]);
      const before = await listFlows(client, { fromDate: addDays(dayOne, -30), toDate: addDays(dayOne, -1) });
      expect(before.pageInfo).to.include({ totalItems: '0', totalPages: '0' });
    });

    it('answers KO PPAY_INVALID_INPUT when toDate is before fromDate', async () => {
      const answer = await listFlows(client, { fromDate: today, toDate: dayOne });
      expectKo(answer, 'PPAY_INVALID_INPUT');
      expect(answer.fault?.field).to.equal('toDate');
    });

    it('never shows another ente flows: its own list, and PPAY_UNAUTHORIZED for a client not bound to it', async () => {
      const own = await listFlows(client, { fromDate: dayOne, toDate: today });
      expect(list(own.flow as Obj | Obj[]).map((f) => f.flowId)).to.not.include(unioneFlow.flowId);
      const unione = await listFlows(client, { enteFiscalCode: UNIONE });
      expect(list(unione.flow as Obj | Obj[]).map((f) => f.flowId)).to.deep.equal([unioneFlow.flowId]);
      expectKo(await listFlows(comuneOnly, { enteFiscalCode: UNIONE }), 'PPAY_UNAUTHORIZED');
    });
  });

  describe('getReconciliationFlow', () => {
    async function getFlow(c: GestionaleClient, extra: Obj) {
      return c.call('getReconciliationFlow', { enteFiscalCode: COMUNE, ...extra });
    }

    it('answers a reconciled flow with its lines matched to positions and receipts, without the document by default', async () => {
      const answer = await getFlow(comuneOnly, { flowId: f1.flowId });
      expectOk(answer);
      expect(answer.document).to.equal(undefined);
      const flow = answer.flow as Obj;
      expect(flow).to.include({
        flowId: f1.flowId,
        pspId: PSP,
        trn: f1.trn,
        status: 'RECONCILED',
        anomalyCount: '0',
      });
      expect(flow.bankCredit).to.include({ amountCents: String(f1.totalAmountCents), trn: f1.trn });
      const [line, ...more] = list(flow.line as Obj | Obj[]);
      expect(more).to.have.length(0);
      expect(line).to.include({
        iuv: receipts[0]!.iuv,
        iur: receipts[0]!.receiptId,
        amountCents: String(f1.totalAmountCents),
        outcomeCode: '0',
        status: 'MATCHED',
        positionId: 'DEMO-TARI-0001',
        receiptId: receipts[0]!.receiptId,
      });
      expect(line!.anomalyCode).to.equal(undefined);
      expect(list(flow.anomaly as Obj | Obj[])).to.deep.equal([]);
    });

    it('answers a flow with anomalies: the unmatched line and its open anomaly', async () => {
      const flow = (await getFlow(client, { flowId: f2.flowId })).flow as Obj;
      expect(flow).to.include({ status: 'ANOMALY', anomalyCount: '1', paymentCount: '2' });
      const lines = list(flow.line as Obj | Obj[]);
      expect(lines.map((l) => [l.status, l.positionId, l.anomalyCode])).to.deep.equal([
        ['MATCHED', 'DEMO-TARI-0002', undefined],
        ['UNMATCHED', undefined, 'LINE_WITHOUT_RECEIPT'],
      ]);
      const [anomaly, ...others] = list(flow.anomaly as Obj | Obj[]);
      expect(others).to.have.length(0);
      expect(anomaly).to.include({
        code: 'LINE_WITHOUT_RECEIPT',
        status: 'OPEN',
        flowId: f2.flowId,
        iuv: '01000000009999917',
      });
      // node-soap's client gives xs:long as a number (pt:stAmountCents as text).
      expect(Number(anomaly!.amountCents)).to.equal(700);
    });

    it('returns the FlussoRiversamento document as received when includeDocument is true', async () => {
      const answer = await getFlow(client, { flowId: f1.flowId, pspId: PSP, includeDocument: true });
      expectOk(answer);
      expect(Buffer.from(answer.document as string, 'base64').toString('utf8')).to.equal(f1Xml);
      const without = await getFlow(client, { flowId: f1.flowId, includeDocument: false });
      expect(without.document).to.equal(undefined);
    });

    it('answers KO PPAY_FLOW_UNKNOWN for an unknown flow id, another PSP, or a flow of another ente', async () => {
      expectKo(await getFlow(client, { flowId: `${today}${PSP}-404` }), 'PPAY_FLOW_UNKNOWN');
      expectKo(await getFlow(client, { flowId: f1.flowId, pspId: OTHER_PSP }), 'PPAY_FLOW_UNKNOWN');
      expectKo(await getFlow(client, { flowId: unioneFlow.flowId }), 'PPAY_FLOW_UNKNOWN');
      const own = await getFlow(client, { enteFiscalCode: UNIONE, flowId: unioneFlow.flowId });
      expect((own.flow as Obj).flowId).to.equal(unioneFlow.flowId);
    });

    it('answers KO PPAY_UNAUTHORIZED to a client not bound to the ente, as every operation does', async () => {
      expectKo(
        await getFlow(comuneOnly, { enteFiscalCode: UNIONE, flowId: unioneFlow.flowId }),
        'PPAY_UNAUTHORIZED',
      );
    });
  });
});

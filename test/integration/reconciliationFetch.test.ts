// Fetching reporting flows from the emulated node (nodoChiediElencoFlussiRendicontazione +
// nodoChiediFlussoRendicontazione over HTTP, port 0) on every database of the matrix: only new
// revisions are downloaded, a newer revision becomes the latest and the older one is kept, a bad
// document becomes an INVALID_FLOW anomaly without stopping the others, and so does a dead node.
import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { fetchFlows, type FlowNodePort } from '../../src/app/reconciliation/fetchFlows.ts';
import { NodeClient, NodeUnavailable } from '../../src/pagopa/nodeClient.ts';
import { buildFlussoRiversamento } from '../../src/pagopa/flussoRiversamento.ts';
import type { FlowPayment } from '../../src/reconciliation/model.ts';
import {
  COMUNE,
  flowDocument,
  startReconciliationServer,
  UNIONE,
  type ReconciliationServer,
} from './reconciliationSupport.ts';

const payment = (iuv: string, amountCents: number): FlowPayment => ({
  iuv,
  iur: `IUR${iuv}`,
  transferIndex: 1,
  amountCents,
  outcomeCode: '0',
  outcomeDate: '2026-11-26',
});

forEachDatabase('reconciliation: fetching flows from the node', (ctx) => {
  let server: ReconciliationServer;
  const comuneId = async () => (await ctx.store.enti.getByFiscalCode(COMUNE))!.id;

  before(async () => {
    await seedDemo(ctx.store);
    server = await startReconciliationServer(ctx.db, ctx.store);
  });

  after(async () => {
    await server?.close();
  });

  it('lists and fetches each ente’s new flows, stores them whole with their lines, and fetches nothing twice', async () => {
    const f1 = flowDocument({
      flowId: '2026-11-26BCITITMM-0001',
      payments: [payment('01000000000000101', 1000), payment('01000000000000102', 250)],
    });
    const f2 = flowDocument({
      flowId: '2026-11-26UNCRITMM-0001',
      psp: 'UNCRITMM',
      payments: [payment('01000000000000103', 500)],
    });
    const u1 = flowDocument({
      flowId: '2026-11-26BCITITMM-0002',
      ente: UNIONE,
      payments: [payment('02000000000000101', 700)],
    });
    for (const doc of [f1, f2, u1]) server.flows.put(doc);

    const first = await fetchFlows(ctx.store, server.node);
    expect(first).to.deep.include({
      enti: 2,
      listed: 3,
      fetched: 3,
      stored: 3,
      revisions: 0,
      invalid: 0,
      failures: [],
    });
    const stored = await ctx.store.reconciliationFlows.findLatest(await comuneId(), f1.flowId);
    expect(stored).to.include({
      pspId: 'BCITITMM',
      trn: f1.trn,
      totalAmountCents: 1250,
      status: 'PENDING',
      isLatest: true,
    });
    expect(await ctx.store.reconciliationFlows.getDocument(stored!.id)).to.equal(buildFlussoRiversamento(f1));
    const lines = await ctx.store.reconciliationFlows.listLines([stored!.id]);
    expect(lines.map((l) => [l.lineNo, l.iuv, l.amountCents, l.status])).to.deep.equal([
      [1, '01000000000000101', 1000, 'UNMATCHED'],
      [2, '01000000000000102', 250, 'UNMATCHED'],
    ]);

    const again = await fetchFlows(ctx.store, server.node);
    expect(again).to.deep.include({ listed: 3, fetched: 0, stored: 0 });
  });

  it('stores a newer revision of a flow id as the latest and keeps the older one, unused', async () => {
    const flowId = '2026-11-26BCITITMM-0001';
    const revised = flowDocument({
      flowId,
      flowDateTime: '2026-11-27T09:30:00',
      payments: [payment('01000000000000101', 1000), payment('01000000000000102', 300)],
    });
    server.flows.put(revised);
    const result = await fetchFlows(ctx.store, server.node, { enteFiscalCode: COMUNE });
    expect(result).to.deep.include({ enti: 1, stored: 1, revisions: 1 });
    const revisions = await ctx.store.reconciliationFlows.listRevisions(await comuneId(), flowId);
    expect(revisions.map((r) => [r.flowDateTime, r.isLatest, r.totalAmountCents])).to.deep.equal([
      ['2026-11-26T14:00:00', false, 1250],
      ['2026-11-27T09:30:00', true, 1300],
    ]);
    const events = await ctx.store.events.listFor('reconciliation_flow', revisions[0]!.id);
    expect(events.map((e) => e.action)).to.deep.equal(['received', 'superseded']);
    // The node still lists the older revision: it is not fetched again.
    expect(await fetchFlows(ctx.store, server.node, { enteFiscalCode: COMUNE })).to.deep.include({
      fetched: 0,
      stored: 0,
    });
  });

  it('records an unreadable flow, and one addressed to another ente, as INVALID_FLOW and still stores the others', async () => {
    server.flows.putRaw(
      COMUNE,
      'BCITITMM',
      { identificativoFlusso: '2026-11-26BCITITMM-0009', dataOraFlusso: '2026-11-26T15:00:00' },
      '<FlussoRiversamento/>',
    );
    const misaddressed = flowDocument({
      flowId: '2026-11-26BCITITMM-0010',
      ente: UNIONE,
      payments: [payment('01000000000000201', 100)],
    });
    server.flows.putRaw(
      COMUNE,
      'BCITITMM',
      { identificativoFlusso: misaddressed.flowId, dataOraFlusso: misaddressed.flowDateTime },
      buildFlussoRiversamento(misaddressed),
    );
    const good = flowDocument({
      flowId: '2026-11-26BCITITMM-0011',
      payments: [payment('01000000000000301', 100)],
    });
    server.flows.put(good);

    const result = await fetchFlows(ctx.store, server.node, { enteFiscalCode: COMUNE });
    expect(result).to.deep.include({ fetched: 3, stored: 1, invalid: 2 });
    const invalid = await ctx.store.anomalies.list({ enteId: await comuneId(), status: 'OPEN' });
    expect(invalid.map((a) => [a.code, a.flowId])).to.have.deep.members([
      ['INVALID_FLOW', '2026-11-26BCITITMM-0009'],
      ['INVALID_FLOW', misaddressed.flowId],
    ]);
    expect(await ctx.store.reconciliationFlows.findLatest(await comuneId(), misaddressed.flowId)).to.equal(
      null,
    );
    // Recorded once: the same listing is not downloaded again.
    expect(await fetchFlows(ctx.store, server.node, { enteFiscalCode: COMUNE })).to.deep.include({
      fetched: 0,
      invalid: 0,
    });
  });

  it('records a node failure for one ente in the event log and goes on with the others', async () => {
    const flaky: FlowNodePort = {
      nodoChiediElencoFlussiRendicontazione: (station, filter) =>
        filter?.idDominio === COMUNE
          ? Promise.reject(new NodeUnavailable('nodoChiediElencoFlussiRendicontazione', 'no answer in 10 ms'))
          : server.node.nodoChiediElencoFlussiRendicontazione(station, filter),
      nodoChiediFlussoRendicontazione: (station, query) =>
        server.node.nodoChiediFlussoRendicontazione(station, query),
    };
    server.flows.put(
      flowDocument({
        flowId: '2026-11-26BCITITMM-0003',
        ente: UNIONE,
        payments: [payment('02000000000000201', 900)],
      }),
    );
    const result = await fetchFlows(ctx.store, flaky);
    expect(result.failures).to.deep.equal([
      { enteFiscalCode: COMUNE, flowId: null, reason: 'no answer in 10 ms' },
    ]);
    expect(result.stored).to.equal(1);
    const events = await ctx.store.events.listFor('ente', COMUNE);
    expect(events.at(-1)).to.include({ action: 'flow_fetch_failed', cause: 'no answer in 10 ms' });

    const dead = new NodeClient({
      baseUrl: 'http://127.0.0.1:9/emulator',
      timeoutMs: 2000,
      store: ctx.store,
    });
    const down = await fetchFlows(ctx.store, dead);
    expect(down.failures.map((f) => f.enteFiscalCode).sort()).to.deep.equal([COMUNE, UNIONE].sort());
  });
});

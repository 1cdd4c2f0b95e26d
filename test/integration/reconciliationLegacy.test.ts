// Reconciliation of legacy RT payments (SANP 2.x, model 3 on a legacy station): each
// datiSingoloPagamento of the RT is reported by its own IUR and its 1-based position, and the
// position reaches RECONCILED like a current-model one.
import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { payNotice } from '../../src/emulator/index.ts';
import { romeDate } from '../../src/pagopa/time.ts';
import { reconcile } from '../../src/app/reconciliation/reconcile.ts';
import { findLatestFlow } from '../../src/app/reconciliation/views.ts';
import { useLegacyStation } from './pagopaLegacySupport.ts';
import {
  camtOf,
  COMUNE,
  creditFor,
  dropStatement,
  flowDocument,
  linesOf,
  startReconciliationServer,
  statement,
  tempDataDir,
  type ReconciliationServer,
} from './reconciliationSupport.ts';

forEachDatabase('reconciliation of legacy RT payments', (ctx) => {
  let server: ReconciliationServer;
  let demo: DemoSummary;

  before(async () => {
    demo = await seedDemo(ctx.store);
    await useLegacyStation(ctx);
    server = await startReconciliationServer(ctx.db, ctx.store);
  });

  after(async () => {
    await server?.close();
  });

  it('matches the RT by its IUR and payment index and takes the position to RECONCILED', async () => {
    const today = romeDate(new Date());
    const tari = demo.positions.find((p) => p.positionId === 'DEMO-TARI-0001')!;
    const paid = await payNotice({
      store: ctx.store,
      connectorUrl: server.url,
      enteFiscalCode: COMUNE,
      noticeNumber: tari.noticeNumber,
      psp: 'BCITITMM',
    });
    expect(paid).to.include({ ok: true, dialect: 'legacy' });
    const enteId = (await ctx.store.enti.getByFiscalCode(COMUNE))!.id;
    const [rt] = await ctx.store.receipts.listByIuv(enteId, tari.iuv);
    expect(rt).to.include({ source: 'paaInviaRT' });
    const lines = linesOf(rt!, COMUNE, today);
    expect(lines.map((l) => [l.transferIndex, l.amountCents])).to.deep.equal([[1, tari.amountCents]]);
    const doc = flowDocument({ flowId: `${today}BCITITMM-9001`, settlementDate: today, payments: lines });
    server.flows.put(doc);
    const dataDir = tempDataDir();
    dropStatement(
      dataDir,
      COMUNE,
      'legacy.xml',
      camtOf(statement([creditFor(doc)], { statementId: 'LEGACY-1' })),
    );

    await reconcile({ store: ctx.store, node: server.node, dataDir, enteFiscalCode: COMUNE });
    const position = await ctx.store.positions.findByNoticeNumber(enteId, tari.noticeNumber);
    expect(position!.status).to.equal('RECONCILED');
    const flow = await findLatestFlow(ctx.store, enteId, doc.flowId);
    expect(flow!.flow.line[0]).to.include({
      status: 'MATCHED',
      positionId: tari.positionId,
      receiptId: rt!.receiptId,
    });
  });
});

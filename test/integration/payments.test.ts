// Payments and receipts repositories: attempts keyed by (ente, IUV, CCP/token), receipts stored whole
// and once per (ente, IUV, receipt id), flagged receipts kept, and their event rows.

import { expect } from 'chai';
import type { NewReceipt } from '../../src/db/repositories/receipts.ts';
import { forEachDatabase, seedEnte, type SeededEnte } from '../support/db.ts';
import { allocateNotices, CHANGE, expectRejection } from './helpers.ts';

const RECEIPT_XML =
  '<paSendRTReq><receipt><receiptId>abc</receiptId><outcome>OK</outcome></receipt></paSendRTReq>';

function receiptFor(seeded: SeededEnte, iuv: string, receiptId: string): NewReceipt {
  return {
    enteId: seeded.ente.id,
    iuv,
    receiptId,
    source: 'paSendRT',
    outcome: 'OK',
    amountCents: 12_300,
    paymentDateTime: '2030-01-02T10:11:12',
    pspId: 'BCITITMM',
    document: RECEIPT_XML,
  };
}

forEachDatabase('payments repository', (ctx) => {
  it('records an attempt, finds it by its key and logs its creation', async () => {
    const seeded = await seedEnte(ctx.store);
    const [notice] = await allocateNotices(ctx.store, seeded.ente.id, 1);
    const payment = await ctx.store.payments.create(
      {
        enteId: seeded.ente.id,
        iuv: notice?.iuv ?? '',
        noticeNumber: notice?.noticeNumber ?? null,
        kind: 'current',
        ccpOrToken: 'token-1',
        pspId: 'BCITITMM',
        channelId: '88888888888_01',
        amountCents: 12_300,
      },
      CHANGE,
    );
    expect(payment).to.include({ status: 'STARTED', kind: 'current', amountCents: 12_300, optionId: null });
    expect(await ctx.store.payments.find(seeded.ente.id, notice?.iuv ?? '', 'token-1')).to.deep.equal(
      payment,
    );
    expect(await ctx.store.payments.find(seeded.ente.id, notice?.iuv ?? '', 'token-2')).to.equal(null);
    const events = await ctx.store.events.listFor('payment', payment.id);
    expect(events.map((e) => [e.action, e.toStatus])).to.deep.equal([['created', 'STARTED']]);
  });

  it('refuses the same (ente, IUV, CCP) twice as DUPLICATE but accepts a retry with a new CCP', async () => {
    const seeded = await seedEnte(ctx.store);
    const input = {
      enteId: seeded.ente.id,
      iuv: '01000000000000101',
      kind: 'rpt' as const,
      ccpOrToken: 'ccp-1',
      amountCents: 500,
      requestDocument: '<RPT/>',
    };
    await ctx.store.payments.create(input, CHANGE);
    await expectRejection(ctx.store.payments.create(input, CHANGE), 'DUPLICATE');
    await ctx.store.payments.create({ ...input, ccpOrToken: 'ccp-2' }, CHANGE);
    const attempts = await ctx.store.payments.listByIuv(seeded.ente.id, input.iuv);
    expect(attempts.map((p) => [p.ccpOrToken, p.requestDocument])).to.deep.equal([
      ['ccp-1', '<RPT/>'],
      ['ccp-2', '<RPT/>'],
    ]);
  });

  it('changes the status with an event, refusing a change from a status it no longer has', async () => {
    const seeded = await seedEnte(ctx.store);
    const payment = await ctx.store.payments.create(
      { enteId: seeded.ente.id, iuv: '01000000000000202', kind: 'current', ccpOrToken: 't', amountCents: 1 },
      CHANGE,
    );
    const paid = await ctx.store.payments.setStatus(payment.id, 'PAID', {
      ...CHANGE,
      expectedStatus: 'STARTED',
    });
    expect(paid.status).to.equal('PAID');
    await expectRejection(
      ctx.store.payments.setStatus(payment.id, 'FAILED', { ...CHANGE, expectedStatus: 'STARTED' }),
      'CONCURRENT_UPDATE',
    );
    await expectRejection(ctx.store.payments.setStatus(999_999, 'PAID', CHANGE), 'PAYMENT_UNKNOWN');
    const events = await ctx.store.events.listFor('payment', payment.id);
    expect(events.map((e) => [e.fromStatus, e.toStatus])).to.deep.equal([
      [null, 'STARTED'],
      ['STARTED', 'PAID'],
    ]);
  });
});

forEachDatabase('receipts repository', (ctx) => {
  it('stores a receipt whole and finds it by (ente, IUV, receipt id)', async () => {
    const seeded = await seedEnte(ctx.store);
    const receipt = await ctx.store.receipts.insert(
      receiptFor(seeded, '01000000000000303', 'rcpt-1'),
      CHANGE,
    );
    expect(receipt).to.include({
      document: RECEIPT_XML,
      amountCents: 12_300,
      flaggedReason: null,
      optionId: null,
    });
    expect(await ctx.store.receipts.find(seeded.ente.id, '01000000000000303', 'rcpt-1')).to.deep.equal(
      receipt,
    );
    expect(await ctx.store.receipts.find(seeded.ente.id, '01000000000000303', 'rcpt-2')).to.equal(null);
    const events = await ctx.store.events.listFor('receipt', receipt.id);
    expect(events.map((e) => e.action)).to.deep.equal(['received']);
  });

  it('refuses the same receipt twice as RECEIPT_DUPLICATE, keeping the first one only', async () => {
    const seeded = await seedEnte(ctx.store);
    const input = receiptFor(seeded, '01000000000000404', 'rcpt-1');
    await ctx.store.receipts.insert(input, CHANGE);
    await expectRejection(
      ctx.store.receipts.insert({ ...input, document: '<other/>' }, CHANGE),
      'RECEIPT_DUPLICATE',
    );
    const stored = await ctx.store.receipts.listByIuv(seeded.ente.id, input.iuv);
    expect(stored.map((r) => r.document)).to.deep.equal([RECEIPT_XML]);
    expect(await ctx.store.events.listFor('receipt', stored[0]?.id ?? 0)).to.have.length(1);
  });

  it("keeps RECEIPT_DUPLICATE inside a caller's transaction without aborting it", async () => {
    const seeded = await seedEnte(ctx.store);
    const input = receiptFor(seeded, '01000000000000505', 'rcpt-1');
    await ctx.store.receipts.insert(input, CHANGE);
    const codes = await ctx.store.transaction(async (trx) => {
      const code = await trx.receipts.insert(input, CHANGE).then(
        () => 'stored',
        (err: { code?: string }) => err.code,
      );
      await trx.receipts.insert({ ...input, receiptId: 'rcpt-2' }, CHANGE);
      return code;
    });
    expect(codes).to.equal('RECEIPT_DUPLICATE');
    expect(
      (await ctx.store.receipts.listByIuv(seeded.ente.id, input.iuv)).map((r) => r.receiptId),
    ).to.deep.equal(['rcpt-1', 'rcpt-2']);
  });

  it('keeps a receipt for an unknown position with its flagged reason and lists it', async () => {
    const seeded = await seedEnte(ctx.store);
    const input = { ...receiptFor(seeded, '01999999999999999', 'rcpt-x'), flaggedReason: 'POSITION_UNKNOWN' };
    const receipt = await ctx.store.receipts.insert(input, CHANGE);
    expect(receipt.flaggedReason).to.equal('POSITION_UNKNOWN');
    expect((await ctx.store.receipts.listFlagged(seeded.ente.id)).map((r) => r.id)).to.deep.equal([
      receipt.id,
    ]);
    expect((await ctx.store.receipts.listFlagged()).map((r) => r.id)).to.include(receipt.id);
    const events = await ctx.store.events.listFor('receipt', receipt.id);
    expect(events.map((e) => e.action)).to.deep.equal(['received_flagged']);
  });

  it('allows the same IUV and receipt id for two enti', async () => {
    const a = await seedEnte(ctx.store);
    const b = await seedEnte(ctx.store);
    await ctx.store.receipts.insert(receiptFor(a, '01000000000000606', 'same'), CHANGE);
    const second = await ctx.store.receipts.insert(receiptFor(b, '01000000000000606', 'same'), CHANGE);
    expect(second.enteId).to.equal(b.ente.id);
  });
});

// getNoticeDocument end to end: a real server on the demo data, node-soap clients built from the
// served WSDL (every answer validated against xsd/gestionale), the PDFs read for real: the QR code
// of each page rendered with pdftoppm and decoded with jsQR, the text extracted with pdftotext.
// A receipt needs a real payment: the emulated PSP pays a demo notice through paForNode first.

import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { decodePdfQr, pdfPageCount, pdfText } from '../support/pdfQr.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { payNotice } from '../../src/emulator/index.ts';
import {
  addTestClient,
  EC,
  EC2,
  expectKo,
  expectOk,
  gestionaleClient,
  startGestionaleServer,
  type Answer,
  type GestionaleClient,
  type GestionaleServer,
} from './gestionaleClient.ts';

interface PrintedDocument {
  kind: string;
  fileName: string;
  mimeType: string;
  content: string;
}

function pdfOf(answer: Answer): Buffer {
  expectOk(answer);
  const document = answer.document as PrintedDocument;
  expect(document.mimeType).to.equal('application/pdf');
  const pdf = Buffer.from(document.content, 'base64');
  expect(pdf.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
  return pdf;
}

forEachDatabase('gestionale API: getNoticeDocument (notice and receipt PDFs)', (ctx) => {
  let gs: GestionaleServer;
  let demo: GestionaleClient;
  let tariOnly: GestionaleClient;
  let summary: DemoSummary;

  const demoPosition = (positionId: string) => {
    const found = summary.positions.find((p) => p.positionId === positionId);
    if (!found) throw new Error(`no demo position ${positionId}`);
    return found;
  };

  before(async function () {
    this.timeout(30_000);
    summary = await seedDemo(ctx.store);
    gs = await startGestionaleServer(ctx.db, ctx.store);
    demo = await gestionaleClient(gs.server);
    tariOnly = await gestionaleClient(
      gs.server,
      await addTestClient(ctx.store, {
        username: `notice-doc-tari-${process.pid}`,
        password: 'notice-doc-tari-password',
        name: 'TARI only',
        enti: [EC],
        services: ['TARI'],
        models: ['base'],
      }),
    );
  });
  after(() => gs?.server.close());

  it('answers the whole notice of an installment plan: one page per option, each QR its own notice', async function () {
    this.timeout(30_000);
    const plan = demoPosition('DEMO-TARI-RATE-0001');
    const answer = await demo.call('getNoticeDocument', {
      enteFiscalCode: EC,
      positionId: plan.positionId,
      kind: 'NOTICE',
    });
    const pdf = pdfOf(answer);
    expect((answer.document as PrintedDocument).fileName).to.equal('avviso-DEMO-TARI-RATE-0001.pdf');
    // The single payment first, then installments 1..3: one page each.
    const options = [
      { noticeNumber: plan.noticeNumber, amountCents: plan.amountCents },
      ...plan.installments,
    ];
    expect(plan.installments.length).to.equal(3);
    expect(await pdfPageCount(pdf)).to.equal(options.length);
    for (const [i, option] of options.entries()) {
      expect(await decodePdfQr(pdf, i + 1)).to.equal(
        `PAGOPA|002|${option.noticeNumber}|${EC}|${option.amountCents}`,
      );
    }
  });

  it('answers only the page of the option a notice number names', async function () {
    this.timeout(20_000);
    const second = demoPosition('DEMO-TARI-RATE-0001').installments.find((o) => o.installment === 2)!;
    const pdf = pdfOf(
      await demo.call('getNoticeDocument', {
        enteFiscalCode: EC,
        noticeNumber: second.noticeNumber,
        kind: 'NOTICE',
      }),
    );
    expect(await pdfPageCount(pdf)).to.equal(1);
    expect(await decodePdfQr(pdf)).to.equal(`PAGOPA|002|${second.noticeNumber}|${EC}|${second.amountCents}`);
    expect(await pdfText(pdf)).to.include('RATA 2 DI 3');
  });

  it('adds the bollettino postale PA to a position credited to a postal account', async () => {
    const postal = demoPosition('DEMO-TRASP-0001');
    const pdf = pdfOf(
      await demo.call('getNoticeDocument', {
        enteFiscalCode: EC2,
        positionId: postal.positionId,
        kind: 'NOTICE',
      }),
    );
    const text = await pdfText(pdf);
    expect(text).to.include('BOLLETTINO POSTALE PA');
    expect(text).to.include('sul C/C n. 000012345678');
  });

  it('refuses installment together with a notice number', async () => {
    const plan = demoPosition('DEMO-TARI-RATE-0001');
    expectKo(
      await demo.call('getNoticeDocument', {
        enteFiscalCode: EC,
        noticeNumber: plan.noticeNumber,
        installment: 1,
        kind: 'NOTICE',
      }),
      'PPAY_INVALID_INPUT',
    );
  });

  it('answers a receipt only once the option is paid', async function () {
    this.timeout(30_000);
    const mensa = demoPosition('DEMO-MENSA-0001');
    const request = { enteFiscalCode: EC, positionId: mensa.positionId, kind: 'RECEIPT' };
    expectKo(await demo.call('getNoticeDocument', request), 'PPAY_RECEIPT_UNKNOWN');
    const paid = await payNotice({
      store: ctx.store,
      connectorUrl: gs.server.url,
      enteFiscalCode: EC,
      noticeNumber: mensa.noticeNumber,
    });
    expect(paid.ok, JSON.stringify(paid.steps)).to.equal(true);
    const answer = await demo.call('getNoticeDocument', request);
    const pdf = pdfOf(answer);
    expect((answer.document as PrintedDocument).kind).to.equal('RECEIPT');
    expect((answer.document as PrintedDocument).fileName).to.equal(`ricevuta-${mensa.noticeNumber}.pdf`);
    const text = await pdfText(pdf);
    expect(text).to.include('RICEVUTA DI PAGAMENTO');
    expect(text).to.include(mensa.noticeNumber.replace(/(\d{4})(?=\d)/g, '$1 '));
    expect(text).to.include('64,80 €');
    // The notice of a paid position is still printed, marked as paid.
    const notice = pdfOf(await demo.call('getNoticeDocument', { ...request, kind: 'NOTICE' }));
    expect(await pdfText(notice)).to.include('PAGATA');
  });

  it('treats a position of a service the client is not bound to as unknown', async () => {
    const mensa = demoPosition('DEMO-MENSA-0001');
    for (const kind of ['NOTICE', 'RECEIPT']) {
      expectKo(
        await tariOnly.call('getNoticeDocument', { enteFiscalCode: EC, positionId: mensa.positionId, kind }),
        'PPAY_POSITION_UNKNOWN',
      );
    }
    const ok = await tariOnly.call('getNoticeDocument', {
      enteFiscalCode: EC,
      positionId: 'DEMO-TARI-0001',
      kind: 'NOTICE',
    });
    pdfOf(ok);
  });

  it("refuses another ente's notice to a client not bound to it", async () => {
    const canone = demoPosition('DEMO-CANONE-0001');
    expectKo(
      await tariOnly.call('getNoticeDocument', {
        enteFiscalCode: EC2,
        positionId: canone.positionId,
        kind: 'NOTICE',
      }),
      'PPAY_UNAUTHORIZED',
    );
    // Named under its own ente's fiscal code, another ente's position does not exist.
    expectKo(
      await demo.call('getNoticeDocument', {
        enteFiscalCode: EC,
        positionId: canone.positionId,
        kind: 'NOTICE',
      }),
      'PPAY_POSITION_UNKNOWN',
    );
  });
});

// The pagoPA notice PDF (pagopa-facts §2): the QR payload and its QR parameters, deterministic bytes,
// and the printed text (notice number in blocks of 4, amount, ente) read from an uncompressed render.

import { expect } from 'chai';
import QRCode from 'qrcode';
import type { NoticeDocumentData, NoticeOptionData } from '../../src/app/noticeDocument.ts';
import {
  groupNoticeNumber,
  noticeQrPayload,
  noticeQrPng,
  renderNoticePdf,
} from '../../src/portal/noticePdf.ts';

const ENTE_CF = '01234567890';

function option(installment: number, noticeNumber: string, amountCents: number): NoticeOptionData {
  return {
    installment,
    noticeNumber,
    iuv: noticeNumber.slice(1),
    amountCents,
    dueDate: '2030-12-31',
    paid: false,
  };
}

function notice(options: NoticeOptionData[]): NoticeDocumentData {
  return {
    ente: { fiscalCode: ENTE_CF, name: 'Comune di Prova' },
    serviceDescription: 'Tassa rifiuti',
    description: 'TARI 2030',
    debtor: { fullName: 'Mario Rossi', fiscalCode: 'RSSMRA85T10A562S' },
    options,
    issuedAt: new Date('2030-01-01T10:00:00.000Z'),
  };
}

const SINGLE = notice([option(0, '301000000001234519', 123_456)]);
const PLAN = notice([
  option(0, '301000000001234519', 15_000),
  option(1, '301000000001234620', 5_001),
  option(2, '301000000001234721', 5_002),
  option(3, '301000000001234822', 5_003),
]);

/** The text of every TJ operator (pdfkit writes standard-font text as hex WinAnsi codes). */
function pdfText(pdf: Buffer): string {
  const source = pdf.toString('latin1');
  const lines = [...source.matchAll(/\[([^\]]*)\] TJ/g)].map((m) =>
    [...(m[1] ?? '').matchAll(/<([0-9a-f]*)>/g)]
      .map((hex) =>
        Buffer.from(hex[1] ?? '', 'hex')
          .toString('latin1')
          .replace(/\x80/g, '€'),
      )
      .join(''),
  );
  return lines.join('\n');
}

function imageCount(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Subtype \/Image/g) ?? []).length;
}

describe('pagoPA notice PDF', () => {
  describe('QR code', () => {
    it('builds the payload PAGOPA|002|notice number|ente fiscal code|amount in plain cents', () => {
      expect(noticeQrPayload('301000000001234519', ENTE_CF, 12_030)).to.equal(
        'PAGOPA|002|301000000001234519|01234567890|12030',
      );
      expect(noticeQrPayload('301000000001234519', ENTE_CF, 5)).to.equal(
        'PAGOPA|002|301000000001234519|01234567890|5',
      );
    });

    it('fits the payload in a version 4 (33×33) QR code with error correction M', () => {
      const payload = noticeQrPayload('301000000001234519', ENTE_CF, 99_999_999);
      const qr = QRCode.create(payload, { errorCorrectionLevel: 'M', version: 4 });
      expect(qr.version).to.equal(4);
      expect(qr.modules.size).to.equal(33);
    });

    it('renders the QR as a PNG image', async () => {
      const png = await noticeQrPng(noticeQrPayload('301000000001234519', ENTE_CF, 12_030));
      expect(png.subarray(1, 4).toString('latin1')).to.equal('PNG');
    });
  });

  it('groups the notice number in blocks of 4 digits as notices print it', () => {
    expect(groupNoticeNumber('301000000001234519')).to.equal('3010 0000 0001 2345 19');
  });

  it('produces a PDF', async () => {
    const pdf = await renderNoticePdf(SINGLE);
    expect(pdf.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
  });

  it('gives byte-identical output for the same data', async () => {
    const [a, b] = await Promise.all([renderNoticePdf(PLAN), renderNoticePdf(PLAN)]);
    expect(a.equals(b)).to.equal(true);
    const [c, d] = await Promise.all([
      renderNoticePdf(PLAN, { compress: false }),
      renderNoticePdf(PLAN, { compress: false }),
    ]);
    expect(c.equals(d)).to.equal(true);
  });

  it('prints the notice number in blocks, the amount in euro, the ente and the debtor', async () => {
    const text = pdfText(await renderNoticePdf(SINGLE, { compress: false }));
    expect(text).to.include('3010 0000 0001 2345 19');
    expect(text).to.include('1.234,56 €');
    expect(text).to.include('31/12/2030');
    expect(text).to.include('Comune di Prova');
    expect(text).to.include(ENTE_CF);
    expect(text).to.include('Mario Rossi');
    expect(text).to.include('RSSMRA85T10A562S');
    expect(text).to.include('TARI 2030');
  });

  it('embeds one QR image for a single payment', async () => {
    expect(imageCount(await renderNoticePdf(SINGLE, { compress: false }))).to.equal(1);
  });

  it('gives an installment plan one section and QR per installment plus the single payment', async () => {
    const pdf = await renderNoticePdf(PLAN, { compress: false });
    expect(imageCount(pdf)).to.equal(4);
    const text = pdfText(pdf);
    expect(text).to.include('Rata unica');
    for (const n of [1, 2, 3]) expect(text).to.include(`Rata ${n} di 3`);
    expect(text).to.include('3010 0000 0001 2348 22');
    expect(text).to.include('50,03 €');
  });
});

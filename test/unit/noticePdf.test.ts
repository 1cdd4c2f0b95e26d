// The pagoPA notice PDF (pagopa-facts §2): the QR payload and its QR parameters, deterministic bytes,
// the printed text (notice number in blocks of 4, amount, ente) read from an uncompressed render,
// one page per option whose QR decodes (pdftoppm + jsQR) to its own notice, the postal slip's Data
// Matrix content, and the receipt PDF.

import { expect } from 'chai';
import QRCode from 'qrcode';
import type { NoticeDocumentData, NoticeOptionData } from '../../src/app/noticeDocument.ts';
import type { ReceiptDocumentData } from '../../src/app/receiptDocument.ts';
import {
  dataMatrixModules,
  groupNoticeNumber,
  noticeQrPayload,
  noticeQrPng,
  postalDataMatrixPayload,
  renderNoticePdf,
} from '../../src/portal/noticePdf.ts';
import { formatDateTime, renderReceiptPdf } from '../../src/portal/receiptPdf.ts';
import { decodePdfQr, pdfPageCount } from '../support/pdfQr.ts';

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
const POSTAL = notice([
  {
    ...option(0, '301000000001234519', 18_000),
    postal: { accountNumber: '000012345678', holder: 'Comune di Prova' },
  },
]);
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

  it('gives an installment plan one portion and QR per installment plus the single payment', async () => {
    const pdf = await renderNoticePdf(PLAN, { compress: false });
    expect(imageCount(pdf)).to.equal(4);
    const text = pdfText(pdf);
    expect(text).to.include('RATA UNICA');
    for (const n of [1, 2, 3]) expect(text).to.include(`RATA ${n} DI 3`);
    expect(text).to.include('3010 0000 0001 2348 22');
    expect(text).to.include('50,03 €');
  });

  it('prints one page per option, each QR decoding to its own notice number and amount', async function () {
    this.timeout(20_000);
    const pdf = await renderNoticePdf(PLAN);
    expect(await pdfPageCount(pdf)).to.equal(4);
    for (const [i, o] of PLAN.options.entries()) {
      expect(await decodePdfQr(pdf, i + 1)).to.equal(
        `PAGOPA|002|${o.noticeNumber}|${ENTE_CF}|${o.amountCents}`,
      );
    }
  });

  it('keeps "rata N di M" of the whole plan when only one installment is printed', async () => {
    const only = { ...PLAN, options: [PLAN.options[2]!], installmentCount: 3 };
    const text = pdfText(await renderNoticePdf(only, { compress: false }));
    expect(text).to.include('RATA 2 DI 3');
    expect(text).not.to.include('RATA UNICA');
  });

  describe('bollettino postale PA', () => {
    const slip = {
      noticeNumber: '301000000001234519',
      accountNumber: '12345678',
      amountCents: 18_000,
      enteFiscalCode: ENTE_CF,
      debtorFiscalCode: 'rssmra85t10a562s',
      debtorName: 'Niccolò Rossi',
      description: 'Trasporto scolastico 2026/27',
    };

    it('builds the 256-character Data Matrix content with the fields at their fixed positions', () => {
      const payload = postalDataMatrixPayload(slip);
      expect(payload).to.have.length(256);
      expect(payload.slice(0, 13)).to.equal('codfase=NBPA;');
      expect(payload.slice(13, 63)).to.equal(
        '18301000000001234519' + '12000012345678' + '100000018000' + '3896',
      );
      expect(payload.slice(15, 33)).to.equal(slip.noticeNumber);
      expect(payload.slice(49, 59)).to.equal('0000018000');
      expect(payload.slice(63, 66)).to.equal('1P1');
      expect(payload.slice(66, 77)).to.equal(ENTE_CF);
      expect(payload.slice(77, 93)).to.equal('RSSMRA85T10A562S');
      expect(payload.slice(93, 133)).to.equal('NICCOLO ROSSI'.padEnd(40, ' '));
      expect(payload.slice(133, 243)).to.equal('Trasporto scolastico 2026/27'.padEnd(110, ' '));
      expect(payload.slice(243)).to.equal(`${' '.repeat(12)}A`);
    });

    it('cuts long free text to its field so the positions never move', () => {
      const payload = postalDataMatrixPayload({
        ...slip,
        debtorName: 'X'.repeat(60),
        description: 'Y'.repeat(200),
      });
      expect(payload).to.have.length(256);
      expect(payload.slice(93, 133)).to.equal('X'.repeat(40));
      expect(payload.at(-1)).to.equal('A');
    });

    it('encodes the content as a square ECC 200 Data Matrix', () => {
      const modules = dataMatrixModules(postalDataMatrixPayload(slip));
      // 256 characters need one of the large square ECC 200 symbols (bwip-js picks the smallest that fits).
      expect(modules.length).to.be.oneOf([44, 48, 52, 64]);
      for (const row of modules) expect(row).to.have.length(modules.length);
      // The finder pattern: a solid left column and bottom row.
      expect(modules.every((row) => row[0] === true)).to.equal(true);
      expect(modules.at(-1)?.every((m) => m === true)).to.equal(true);
    });

    it('adds the postal section with the account number to a postal option, and not to others', async () => {
      const text = pdfText(await renderNoticePdf(POSTAL, { compress: false }));
      expect(text).to.include('BOLLETTINO POSTALE PA');
      expect(text).to.include('sul C/C n. 000012345678');
      const bank = pdfText(await renderNoticePdf(SINGLE, { compress: false }));
      expect(bank).not.to.include('BOLLETTINO POSTALE PA');
    });

    it('keeps the QR decodable on a page that also carries the Data Matrix', async function () {
      this.timeout(20_000);
      expect(await decodePdfQr(await renderNoticePdf(POSTAL))).to.equal(
        `PAGOPA|002|301000000001234519|${ENTE_CF}|18000`,
      );
    });
  });
});

describe('payment receipt PDF', () => {
  const RECEIPT: ReceiptDocumentData = {
    ente: { fiscalCode: ENTE_CF, name: 'Comune di Prova' },
    serviceDescription: 'Tassa rifiuti',
    description: 'TARI 2030',
    positionId: 'POS-1',
    installment: 2,
    installmentCount: 3,
    noticeNumber: '301000000001234519',
    iuv: '01000000001234519',
    amountCents: 5_002,
    feeCents: 150,
    paymentDateTime: '2030-05-10T08:15:00Z',
    pspId: 'BCITITMM',
    pspName: 'Banca di prova',
    paymentMethod: 'CP',
    receiptId: 'c0ffee1234',
    debtor: { fullName: 'Mario Rossi', fiscalCode: 'RSSMRA85T10A562S' },
    payer: { fullName: 'Anna Rossi', fiscalCode: 'RSSNNA90A41L219X' },
    transfers: [
      {
        index: 1,
        enteFiscalCode: ENTE_CF,
        amountCents: 4_902,
        iban: 'IT60X0542811101000000123456',
        remittanceInformation: 'TARI',
      },
      { index: 2, enteFiscalCode: ENTE_CF, amountCents: 100, iban: null, remittanceInformation: null },
    ],
    issuedAt: new Date('2030-05-10T08:16:00.000Z'),
  };

  it('prints the payment: amount, date in Italian time, PSP, receipt id, notice, IUV and transfers', async () => {
    const pdf = await renderReceiptPdf(RECEIPT, { compress: false });
    expect(pdf.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
    const text = pdfText(pdf);
    for (const expected of [
      'RICEVUTA DI PAGAMENTO',
      '50,02 €',
      '10/05/2030 10:15:00',
      'Banca di prova (BCITITMM)',
      'c0ffee1234',
      '3010 0000 0001 2345 19',
      '01000000001234519',
      'Rata 2 di 3',
      'Anna Rossi',
      'IT60X0542811101000000123456',
      '49,02 €',
      '1,50 €',
    ]) {
      expect(text, expected).to.include(expected);
    }
  });

  it('gives byte-identical output for the same data', async () => {
    const [a, b] = await Promise.all([renderReceiptPdf(RECEIPT), renderReceiptPdf(RECEIPT)]);
    expect(a.equals(b)).to.equal(true);
  });

  it('prints a local time without offset as written, a UTC one in Italian time', () => {
    expect(formatDateTime('2030-05-10T10:15:00')).to.equal('10/05/2030 10:15:00');
    expect(formatDateTime('2030-01-10T10:15:00.000Z')).to.equal('10/01/2030 11:15:00');
  });
});

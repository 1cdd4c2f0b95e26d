// The pagoPA payment notice (avviso di pagamento) as an A4 PDF in Italian: ente, debtor, causale and,
// per payment option (single payment, installments), amount, due date, notice number and the QR code
// `PAGOPA|002|<noticeNumber>|<EC fiscal code>|<cents>` (pagopa-facts §2: version 4, ECC M).

import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import type { NoticeDocumentData, NoticeOptionData } from '../app/noticeDocument.ts';
import { formatDate, formatEuro } from './citizen/html.ts';

/** The paper notice's QR payload; the amount is plain euro cents, no padding or separator. */
export function noticeQrPayload(noticeNumber: string, enteFiscalCode: string, amountCents: number): string {
  return `PAGOPA|002|${noticeNumber}|${enteFiscalCode}|${amountCents}`;
}

/** `301000000001234519` → `3010 0000 0001 2345 19`, as notices print the codice avviso. */
export function groupNoticeNumber(noticeNumber: string): string {
  return noticeNumber.replace(/(\d{4})(?=\d)/g, '$1 ');
}

// pngjs option (not in @types/qrcode): a grayscale PNG without alpha. pdfkit embeds such a PNG
// synchronously; with alpha it splits the channel asynchronously and the PDF's object order (and so
// its bytes) would depend on timing.
const GRAYSCALE_PNG = { deflateLevel: 9, colorType: 0 };

/** The QR of one option as a PNG, with the parameters pagoPA prescribes (33×33 modules). */
export function noticeQrPng(payload: string): Promise<Buffer> {
  return QRCode.toBuffer(payload, {
    type: 'png',
    version: 4,
    errorCorrectionLevel: 'M',
    margin: 1,
    scale: 8,
    rendererOpts: GRAYSCALE_PNG,
  });
}

export interface RenderOptions {
  /** Tests read the text streams; served PDFs are compressed. */
  compress?: boolean;
}

// A fixed date for data without a usable one: the output must not depend on when it is rendered.
const FALLBACK_DATE = new Date('2000-01-01T00:00:00.000Z');
const MARGIN = 40;
const QR_SIZE = 96;
const SECTION_HEIGHT = 140;
const FRAME_COLOR = '#0066cc';

type Doc = PDFKit.PDFDocument;

function label(doc: Doc, text: string, x: number, y: number, width: number): void {
  doc.font('Helvetica-Bold').fontSize(8).fillColor('#555555').text(text.toUpperCase(), x, y, { width });
}

function value(doc: Doc, text: string, x: number, y: number, width: number, size = 11): void {
  doc.font('Helvetica').fontSize(size).fillColor('#000000').text(text, x, y, { width });
}

function optionTitle(option: NoticeOptionData, installments: number): string {
  return option.installment === 0 ? 'Rata unica' : `Rata ${option.installment} di ${installments}`;
}

function header(doc: Doc, data: NoticeDocumentData, width: number): void {
  doc.font('Helvetica-Bold').fontSize(18).fillColor(FRAME_COLOR).text('AVVISO DI PAGAMENTO', MARGIN, MARGIN);
  doc
    .font('Helvetica-Bold')
    .fontSize(14)
    .text('pagoPA', MARGIN, MARGIN + 2, { width, align: 'right' });
  value(doc, data.description, MARGIN, MARGIN + 30, width, 13);
  if (data.serviceDescription) value(doc, data.serviceDescription, MARGIN, doc.y + 2, width, 10);

  const top = doc.y + 16;
  const half = width / 2 - 10;
  label(doc, 'Ente creditore', MARGIN, top, half);
  value(doc, data.ente.name, MARGIN, top + 12, half);
  value(doc, `Codice fiscale ${data.ente.fiscalCode}`, MARGIN, doc.y + 2, half, 10);
  const right = MARGIN + width / 2 + 10;
  label(doc, 'Destinatario avviso', right, top, half);
  if (data.debtor) {
    value(doc, data.debtor.fullName, right, top + 12, half);
    value(doc, `Codice fiscale ${data.debtor.fiscalCode}`, right, doc.y + 2, half, 10);
  } else {
    value(doc, '-', right, top + 12, half);
  }
  doc.y = top + 60;
}

function summary(doc: Doc, data: NoticeDocumentData, width: number): void {
  const single = data.options.find((o) => o.installment === 0);
  const installments = data.options.filter((o) => o.installment > 0);
  const top = doc.y;
  label(doc, 'Quanto e quando pagare?', MARGIN, top, width);
  const lines: string[] = [];
  if (single) lines.push(`${formatEuro(single.amountCents)} entro il ${formatDate(single.dueDate)}`);
  if (installments.length > 0) {
    lines.push(
      single
        ? `oppure in ${installments.length} rate, ciascuna con il proprio codice avviso e codice QR.`
        : `In ${installments.length} rate, ciascuna con il proprio codice avviso e codice QR.`,
    );
  }
  value(doc, lines.join('\n'), MARGIN, top + 12, width, 12);
  label(doc, 'Dove pagare?', MARGIN, doc.y + 10, width);
  value(
    doc,
    "Sul sito o con l'app del tuo ente, con l'app IO, con home banking e app dei prestatori di servizi di " +
      'pagamento aderenti a pagoPA, presso banche, uffici postali, punti vendita SISAL, Lottomatica e ' +
      "Banca 5 e sportelli ATM abilitati. Inquadra il codice QR o indica il codice avviso e il codice fiscale dell'ente.",
    MARGIN,
    doc.y + 12,
    width,
    9,
  );
  doc.y += 14;
}

function section(
  doc: Doc,
  data: NoticeDocumentData,
  option: NoticeOptionData,
  qr: Buffer,
  width: number,
  installments: number,
): void {
  if (doc.y + SECTION_HEIGHT > doc.page.height - MARGIN) doc.addPage();
  const top = doc.y;
  doc
    .lineWidth(1)
    .strokeColor(FRAME_COLOR)
    .rect(MARGIN, top, width, SECTION_HEIGHT - 10)
    .stroke();
  const inner = MARGIN + 10;
  doc.image(qr, inner, top + 17, { width: QR_SIZE, height: QR_SIZE });
  const textX = inner + QR_SIZE + 14;
  const textWidth = width - QR_SIZE - 34;
  doc
    .font('Helvetica-Bold')
    .fontSize(12)
    .fillColor(FRAME_COLOR)
    .text(`${optionTitle(option, installments)}${option.paid ? ' - PAGATA' : ''}`, textX, top + 10, {
      width: textWidth,
    });
  value(
    doc,
    `${formatEuro(option.amountCents)} entro il ${formatDate(option.dueDate)}`,
    textX,
    doc.y + 2,
    textWidth,
    12,
  );
  const fieldsTop = doc.y + 6;
  const colWidth = textWidth / 2 - 6;
  label(doc, 'Codice avviso', textX, fieldsTop, colWidth);
  value(doc, groupNoticeNumber(option.noticeNumber), textX, fieldsTop + 10, colWidth, 12);
  const col2 = textX + textWidth / 2 + 6;
  label(doc, 'Cod. fiscale ente creditore', col2, fieldsTop, colWidth);
  value(doc, data.ente.fiscalCode, col2, fieldsTop + 10, colWidth, 12);
  label(doc, 'Destinatario', textX, fieldsTop + 30, colWidth);
  value(doc, data.debtor?.fullName ?? '-', textX, fieldsTop + 40, colWidth, 9);
  label(doc, 'Ente creditore', col2, fieldsTop + 30, colWidth);
  value(doc, data.ente.name, col2, fieldsTop + 40, colWidth, 9);
  label(doc, 'Oggetto del pagamento', textX, fieldsTop + 58, textWidth);
  // One line inside the frame: a long causale is cut with an ellipsis (the header prints it whole).
  doc
    .font('Helvetica')
    .fontSize(9)
    .fillColor('#000000')
    .text(data.description, textX, fieldsTop + 68, { width: textWidth, height: 11, ellipsis: true });
  doc.y = top + SECTION_HEIGHT;
}

function validDate(date: Date): Date {
  return Number.isNaN(date.getTime()) ? FALLBACK_DATE : date;
}

/** One A4 notice (more pages for long installment plans); the same data always gives the same bytes. */
export async function renderNoticePdf(
  data: NoticeDocumentData,
  options: RenderOptions = {},
): Promise<Buffer> {
  const qrs = await Promise.all(
    data.options.map((o) =>
      noticeQrPng(noticeQrPayload(o.noticeNumber, data.ente.fiscalCode, o.amountCents)),
    ),
  );
  const date = validDate(data.issuedAt);
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    compress: options.compress ?? true,
    lang: 'it-IT',
    info: {
      Title: `Avviso di pagamento pagoPA ${data.options[0]?.noticeNumber ?? ''}`.trim(),
      Author: data.ente.name,
      Subject: data.description,
      Creator: 'ppay-connector',
      Producer: 'ppay-connector',
      CreationDate: date,
      ModDate: date,
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const width = doc.page.width - 2 * MARGIN;
  const installments = data.options.filter((o) => o.installment > 0).length;
  header(doc, data, width);
  summary(doc, data, width);
  data.options.forEach((option, i) => section(doc, data, option, qrs[i] as Buffer, width, installments));
  doc.end();
  return done;
}

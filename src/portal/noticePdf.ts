// The pagoPA payment notice (avviso di pagamento) as an A4 PDF in Italian, after the layout of
// pagoPA's notice specification (avvisi 3.x: header, ente creditore, destinatario, "quanto e quando
// pagare", "dove pagare", then the payment portions). One page per payment option: the single
// payment ("rata unica") and each installment ("rata N di M") with its own notice number, amount,
// due date and QR code `PAGOPA|002|<noticeNumber>|<EC fiscal code>|<cents>` (pagopa-facts §2:
// version 4, ECC M). When the option can be paid to a postal account of the ente, its page adds the
// "bollettino postale PA" portion with the Poste Italiane Data Matrix (postalDataMatrixPayload).

import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import bwipjs from 'bwip-js';
import {
  noticeQrPayload,
  type NoticeDocumentData,
  type NoticeOptionData,
  type PostalAccountData,
} from '../app/noticeDocument.ts';
import { formatDate, formatEuro } from './citizen/html.ts';

export { noticeQrPayload };

/** `301000000001234519` → `3010 0000 0001 2345 19`, as notices print the codice avviso. */
export function groupNoticeNumber(noticeNumber: string): string {
  return noticeNumber.replace(/(\d{4})(?=\d)/g, '$1 ');
}

export interface PostalSlipData {
  noticeNumber: string;
  /** 12-digit postal current account number. */
  accountNumber: string;
  amountCents: number;
  enteFiscalCode: string;
  debtorFiscalCode: string;
  debtorName: string;
  description: string;
}

/** Free text in the Data Matrix: accents dropped, printable ASCII only, cut or space-padded to `length`. */
function dataMatrixText(value: string, length: number): string {
  const ascii = value
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, ' ');
  return ascii.slice(0, length).padEnd(length, ' ');
}

/**
 * The content of the Data Matrix on the "bollettino postale PA" (Poste Italiane, "stampa in proprio"
 * manual, bollettino TD 896 within the pagoPA notice). 256 characters, fixed positions:
 *
 *   `codfase=NBPA;`                    13  fixed prefix (phase code of a PA slip)
 *   codeline                           50  `18` + notice number (18)
 *                                          `12` + postal account number (12, zero-padded left)
 *                                          `10` + amount in euro cents (10, zero-padded left)
 *                                          `3`  + document type `896`
 *   `1P1`                               3  fixed (slip with pagoPA notice)
 *   ente fiscal code                   11
 *   debtor fiscal code                 16  space-padded right
 *   debtor name                        40  upper case, space-padded right
 *   causale                           110  space-padded right
 *   filler                             12  spaces
 *   `A`                                 1  fixed terminator
 *
 * Readers rely on the positions (e.g. the notice number at 15..33, the amount at 49..59 and the ente
 * fiscal code at 66..77), so every field is cut or padded to its width.
 */
export function postalDataMatrixPayload(slip: PostalSlipData): string {
  const codeline =
    `18${slip.noticeNumber}` +
    `12${slip.accountNumber.padStart(12, '0').slice(-12)}` +
    `10${String(slip.amountCents).padStart(10, '0')}` +
    '3896';
  return (
    'codfase=NBPA;' +
    codeline +
    '1P1' +
    dataMatrixText(slip.enteFiscalCode, 11) +
    dataMatrixText(slip.debtorFiscalCode.toUpperCase(), 16) +
    dataMatrixText(slip.debtorName.toUpperCase(), 40) +
    dataMatrixText(slip.description, 110) +
    ' '.repeat(12) +
    'A'
  );
}

/** The Data Matrix (ECC 200) of a payload as rows of dark (true) and light modules. */
export function dataMatrixModules(payload: string): boolean[][] {
  const [symbol] = bwipjs.raw({ bcid: 'datamatrix', text: payload });
  if (!symbol || !('pixs' in symbol)) throw new Error('bwip-js gave no Data Matrix');
  const rows: boolean[][] = [];
  for (let y = 0; y < symbol.pixy; y++) {
    rows.push(symbol.pixs.slice(y * symbol.pixx, (y + 1) * symbol.pixx).map((m) => m === 1));
  }
  return rows;
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
export const MARGIN = 40;
const QR_SIZE = 110;
const DATA_MATRIX_SIZE = 96;
export const BLUE = '#0066cc';
export const DARK = '#17324d';
export const GREY = '#5c6f82';
export const LIGHT = '#eef3f8';

export type Doc = PDFKit.PDFDocument;

/** The PDF facts both documents set; the date makes the bytes reproducible. */
export interface PdfMeta {
  title: string;
  author: string;
  subject: string;
  date: Date;
}

/** An A4 pdfkit document and the promise of its bytes once `doc.end()` is called. */
export function openPdf(
  meta: PdfMeta,
  options: RenderOptions & { autoFirstPage?: boolean },
): { doc: Doc; done: Promise<Buffer> } {
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    compress: options.compress ?? true,
    autoFirstPage: options.autoFirstPage ?? true,
    lang: 'it-IT',
    info: {
      Title: meta.title,
      Author: meta.author,
      Subject: meta.subject,
      Creator: 'ppay-connector',
      Producer: 'ppay-connector',
      CreationDate: meta.date,
      ModDate: meta.date,
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  return { doc, done };
}

/** The blue band, the document's title with "pagoPA" opposite, and its causale (three lines at most). */
export function titleBand(
  doc: Doc,
  title: string,
  description: string,
  width: number,
  textWidth = width,
): void {
  doc.rect(MARGIN, MARGIN, width, 4).fill(BLUE);
  doc
    .font('Helvetica-Bold')
    .fontSize(18)
    .fillColor(BLUE)
    .text(title, MARGIN, MARGIN + 14);
  doc
    .font('Helvetica-Bold')
    .fontSize(16)
    .fillColor(BLUE)
    .text('pagoPA', MARGIN, MARGIN + 14, { width, align: 'right' });
  doc
    .font('Helvetica-Bold')
    .fontSize(12)
    .fillColor(DARK)
    .text(description, MARGIN, MARGIN + 38, { width: textWidth, height: 44, ellipsis: true });
}

function label(doc: Doc, text: string, x: number, y: number, width: number): void {
  doc.font('Helvetica-Bold').fontSize(7.5).fillColor(GREY).text(text.toUpperCase(), x, y, { width });
}

function value(doc: Doc, text: string, x: number, y: number, width: number, size = 10, bold = false): void {
  doc
    .font(bold ? 'Helvetica-Bold' : 'Helvetica')
    .fontSize(size)
    .fillColor(DARK)
    .text(text, x, y, { width });
}

/** One line, cut with an ellipsis when too long. */
function line(doc: Doc, text: string, x: number, y: number, width: number, size = 9, bold = false): void {
  doc
    .font(bold ? 'Helvetica-Bold' : 'Helvetica')
    .fontSize(size)
    .fillColor(DARK)
    .text(text, x, y, { width, height: size + 2, ellipsis: true, lineBreak: false });
}

function optionTitle(option: NoticeOptionData, installments: number): string {
  return option.installment === 0 ? 'Rata unica' : `Rata ${option.installment} di ${installments}`;
}

function header(doc: Doc, data: NoticeDocumentData, width: number): number {
  // At most three lines: the payment portions below print the causale again.
  titleBand(doc, 'AVVISO DI PAGAMENTO', data.description, width, width - 80);
  return doc.y + 14;
}

function parties(doc: Doc, data: NoticeDocumentData, top: number, width: number): number {
  const half = width / 2 - 10;
  const right = MARGIN + width / 2 + 10;
  label(doc, 'Ente creditore', MARGIN, top, half);
  value(doc, data.ente.name, MARGIN, top + 11, half, 11, true);
  if (data.serviceDescription) value(doc, data.serviceDescription, MARGIN, doc.y + 1, half, 9);
  value(doc, `Codice fiscale ${data.ente.fiscalCode}`, MARGIN, doc.y + 1, half, 9);
  const leftBottom = doc.y;
  label(doc, 'Destinatario avviso', right, top, half);
  if (data.debtor) {
    value(doc, data.debtor.fullName, right, top + 11, half, 11, true);
    value(doc, `Codice fiscale ${data.debtor.fiscalCode}`, right, doc.y + 1, half, 9);
    if (data.debtor.address) value(doc, data.debtor.address, right, doc.y + 1, half, 9);
  } else {
    value(doc, '-', right, top + 11, half, 11);
  }
  return Math.max(leftBottom, doc.y) + 14;
}

function howMuch(doc: Doc, data: NoticeDocumentData, option: NoticeOptionData, top: number, width: number) {
  const half = width / 2 - 10;
  const right = MARGIN + width / 2 + 10;
  const installments = data.installmentCount ?? data.options.filter((o) => o.installment > 0).length;
  label(doc, 'Quanto e quando pagare?', MARGIN, top, half);
  value(
    doc,
    `${formatEuro(option.amountCents)} entro il ${formatDate(option.dueDate)}`,
    MARGIN,
    top + 11,
    half,
    14,
    true,
  );
  const plan =
    option.installment === 0
      ? installments > 0
        ? `Puoi pagare in un'unica soluzione con questa pagina oppure in ${installments} rate, ciascuna con il proprio codice avviso e codice QR.`
        : "Puoi pagare in un'unica soluzione con il codice avviso o il codice QR di questa pagina."
      : `Questa è la rata ${option.installment} di ${installments}: pagala entro la scadenza con il codice avviso o il codice QR di questa pagina.`;
  value(doc, plan, MARGIN, doc.y + 3, half, 8.5);
  value(
    doc,
    "L'importo è aggiornato dal sistema al momento del pagamento: il canale che usi potrebbe chiederti una cifra diversa per sgravi, more o interessi.",
    MARGIN,
    doc.y + 3,
    half,
    7.5,
  );
  const leftBottom = doc.y;
  label(doc, 'Dove pagare?', right, top, half);
  value(doc, 'Paga sul sito o con le app', right, top + 11, half, 9, true);
  value(
    doc,
    "del tuo ente creditore, della tua banca o degli altri canali di pagamento aderenti a pagoPA, anche con l'app IO: con carte, conto corrente o CBILL.",
    right,
    doc.y + 1,
    half,
    8.5,
  );
  value(doc, 'Paga sul territorio', right, doc.y + 4, half, 9, true);
  value(
    doc,
    'negli uffici postali, in banca, in ricevitoria, dal tabaccaio, al bancomat e al supermercato: in contanti, con carte o conto corrente.',
    right,
    doc.y + 1,
    half,
    8.5,
  );
  return Math.max(leftBottom, doc.y) + 12;
}

function portionTitle(doc: Doc, left: string, right: string, top: number, width: number): void {
  doc.rect(MARGIN, top, width, 20).fill(LIGHT);
  doc
    .font('Helvetica-Bold')
    .fontSize(10)
    .fillColor(DARK)
    .text(left, MARGIN + 8, top + 6, { width: width / 2 });
  doc
    .font('Helvetica-Bold')
    .fontSize(10)
    .fillColor(BLUE)
    .text(right, MARGIN + width / 2, top + 6, { width: width / 2 - 8, align: 'right' });
}

/** The fields every payment portion repeats, in a two-column grid right of its code image. */
function portionFields(
  doc: Doc,
  data: NoticeDocumentData,
  option: NoticeOptionData,
  x: number,
  top: number,
  width: number,
): void {
  const col = width / 2 - 6;
  const x2 = x + width / 2 + 6;
  label(doc, 'Destinatario', x, top, col);
  line(doc, data.debtor?.fullName ?? '-', x, top + 10, col);
  label(doc, 'Ente creditore', x2, top, col);
  line(doc, data.ente.name, x2, top + 10, col);
  label(doc, 'Oggetto del pagamento', x, top + 26, width);
  line(doc, data.description, x, top + 36, width);
  label(doc, 'Codice avviso', x, top + 52, col);
  line(doc, groupNoticeNumber(option.noticeNumber), x, top + 62, col, 11, true);
  label(doc, 'Cod. fiscale ente creditore', x2, top + 52, col);
  line(doc, data.ente.fiscalCode, x2, top + 62, col, 11, true);
}

function banksPortion(
  doc: Doc,
  data: NoticeDocumentData,
  option: NoticeOptionData,
  qr: Buffer,
  top: number,
  width: number,
  installments: number,
): number {
  const title = `${optionTitle(option, installments).toUpperCase()} entro il ${formatDate(option.dueDate)}`;
  portionTitle(doc, 'BANCHE E ALTRI CANALI', option.paid ? `${title} - PAGATA` : title, top, width);
  const body = top + 26;
  doc.image(qr, MARGIN + 6, body, { width: QR_SIZE, height: QR_SIZE });
  const x = MARGIN + QR_SIZE + 20;
  const fieldsWidth = width - QR_SIZE - 28;
  value(
    doc,
    "Inquadra il codice QR con la tua app di pagamento o usa il codice avviso e il codice fiscale dell'ente.",
    x,
    body,
    fieldsWidth,
    8,
  );
  portionFields(doc, data, option, x, body + 22, fieldsWidth);
  label(doc, 'Euro', x, body + 104, 60);
  line(doc, formatEuro(option.amountCents), x + 30, body + 100, fieldsWidth - 30, 14, true);
  const bottom = body + QR_SIZE + 8;
  doc
    .lineWidth(1)
    .strokeColor(BLUE)
    .rect(MARGIN, top, width, bottom - top)
    .stroke();
  return bottom + 14;
}

function drawDataMatrix(doc: Doc, modules: boolean[][], x: number, y: number, size: number): void {
  const count = modules.length;
  const cell = size / count;
  doc.fillColor('#000000');
  modules.forEach((row, r) =>
    row.forEach((dark, c) => {
      if (dark) doc.rect(x + c * cell, y + r * cell, cell, cell);
    }),
  );
  doc.fill();
}

function postalPortion(
  doc: Doc,
  data: NoticeDocumentData,
  option: NoticeOptionData,
  postal: PostalAccountData,
  top: number,
  width: number,
): number {
  portionTitle(doc, 'BOLLETTINO POSTALE PA', `Poste Italiane - TD 896`, top, width);
  const body = top + 26;
  const payload = postalDataMatrixPayload({
    noticeNumber: option.noticeNumber,
    accountNumber: postal.accountNumber,
    amountCents: option.amountCents,
    enteFiscalCode: data.ente.fiscalCode,
    debtorFiscalCode: data.debtor?.fiscalCode ?? 'ANONIMO',
    debtorName: data.debtor?.fullName ?? '',
    description: data.description,
  });
  drawDataMatrix(
    doc,
    dataMatrixModules(payload),
    MARGIN + 6 + (QR_SIZE - DATA_MATRIX_SIZE) / 2,
    body + 7,
    DATA_MATRIX_SIZE,
  );
  const x = MARGIN + QR_SIZE + 20;
  const fieldsWidth = width - QR_SIZE - 28;
  line(doc, `sul C/C n. ${postal.accountNumber}`, x, body, fieldsWidth / 2, 11, true);
  label(doc, 'Intestato a', x + fieldsWidth / 2 + 6, body, fieldsWidth / 2 - 6);
  line(doc, postal.holder, x + fieldsWidth / 2 + 6, body + 10, fieldsWidth / 2 - 6);
  portionFields(doc, data, option, x, body + 22, fieldsWidth);
  label(doc, 'Euro', x, body + 104, 60);
  line(doc, formatEuro(option.amountCents), x + 30, body + 100, fieldsWidth - 30, 14, true);
  const bottom = body + QR_SIZE + 8;
  doc
    .lineWidth(1)
    .strokeColor(DARK)
    .rect(MARGIN, top, width, bottom - top)
    .stroke();
  return bottom + 10;
}

function footer(doc: Doc, pageNumber: number, pages: number, width: number): void {
  const y = doc.page.height - MARGIN - 16;
  doc
    .font('Helvetica')
    .fontSize(7.5)
    .fillColor(GREY)
    .text(
      `Utilizza la porzione di avviso relativa al canale di pagamento che preferisci. Pagina ${pageNumber} di ${pages}`,
      MARGIN,
      y,
      { width, align: 'center', lineBreak: false },
    );
}

function noticePage(
  doc: Doc,
  data: NoticeDocumentData,
  option: NoticeOptionData,
  qr: Buffer,
  width: number,
  installments: number,
): void {
  let y = header(doc, data, width);
  y = parties(doc, data, y, width);
  y = howMuch(doc, data, option, y, width);
  y = banksPortion(doc, data, option, qr, y, width, installments);
  if (option.postal) postalPortion(doc, data, option, option.postal, y, width);
}

function validDate(date: Date): Date {
  return Number.isNaN(date.getTime()) ? FALLBACK_DATE : date;
}

/** The notice as one A4 page per payment option; the same data always gives the same bytes. */
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
  const { doc, done } = openPdf(
    {
      title: `Avviso di pagamento pagoPA ${data.options[0]?.noticeNumber ?? ''}`.trim(),
      author: data.ente.name,
      subject: data.description,
      date,
    },
    { ...options, autoFirstPage: false },
  );
  const installments = data.installmentCount ?? data.options.filter((o) => o.installment > 0).length;
  data.options.forEach((option, i) => {
    doc.addPage();
    const width = doc.page.width - 2 * MARGIN;
    noticePage(doc, data, option, qrs[i] as Buffer, width, installments);
    footer(doc, i + 1, data.options.length, width);
  });
  doc.end();
  return done;
}

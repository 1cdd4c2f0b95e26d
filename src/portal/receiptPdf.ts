// The payment receipt (ricevuta di pagamento) of one paid pagoPA notice as an A4 PDF in Italian:
// ente, debtor and payer, notice number, IUV, amount, date and time paid, PSP, receipt id and the
// transfers, from the receipt pagoPA sent (src/app/receiptDocument.ts). Same data, same bytes.

import type { ReceiptDocumentData } from '../app/receiptDocument.ts';
import { formatEuro } from './citizen/html.ts';
import {
  DARK,
  GREY,
  groupNoticeNumber,
  LIGHT,
  MARGIN,
  openPdf,
  titleBand,
  type Doc,
  type RenderOptions,
} from './noticePdf.ts';

const FALLBACK_DATE = new Date('2000-01-01T00:00:00.000Z');
const GREEN = '#008758';

const ROME = new Intl.DateTimeFormat('it-IT', {
  timeZone: 'Europe/Rome',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/**
 * `2030-05-10T08:15:00Z` → `10/05/2030 10:15:00` (Italian time). pagoPA often writes local time
 * without an offset: such a value is printed as written.
 */
export function formatDateTime(value: string): string {
  const local = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(value);
  if (local) return `${local[3]}/${local[2]}/${local[1]} ${local[4]}:${local[5]}:${local[6]}`;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return ROME.format(date).replace(',', '');
}

function row(doc: Doc, label: string, value: string, y: number, width: number): number {
  const labelWidth = 170;
  doc
    .font('Helvetica-Bold')
    .fontSize(8)
    .fillColor(GREY)
    .text(label.toUpperCase(), MARGIN, y + 1, {
      width: labelWidth - 10,
    });
  doc
    .font('Helvetica')
    .fontSize(10)
    .fillColor(DARK)
    .text(value, MARGIN + labelWidth, y, { width: width - labelWidth });
  const bottom = Math.max(doc.y, y + 12) + 5;
  doc
    .lineWidth(0.5)
    .strokeColor('#d9dadb')
    .moveTo(MARGIN, bottom - 2)
    .lineTo(MARGIN + width, bottom - 2)
    .stroke();
  return bottom + 2;
}

function party(p: { fullName: string; fiscalCode: string } | null): string {
  if (!p) return '-';
  return [p.fullName, p.fiscalCode ? `codice fiscale ${p.fiscalCode}` : ''].filter(Boolean).join(' - ');
}

function installmentText(data: ReceiptDocumentData): string {
  return data.installment === 0 ? 'Rata unica' : `Rata ${data.installment} di ${data.installmentCount}`;
}

function transfersTable(doc: Doc, data: ReceiptDocumentData, top: number, width: number): void {
  doc.font('Helvetica-Bold').fontSize(11).fillColor(DARK).text("Ripartizione dell'importo", MARGIN, top);
  let y = doc.y + 6;
  const cols = [
    { title: '#', x: 0, w: 20 },
    { title: 'Ente', x: 20, w: 85 },
    { title: 'IBAN di accredito', x: 105, w: 170 },
    { title: 'Causale', x: 275, w: 160 },
    { title: 'Importo', x: 435, w: width - 435 },
  ];
  doc.rect(MARGIN, y - 3, width, 16).fill(LIGHT);
  for (const c of cols) {
    doc
      .font('Helvetica-Bold')
      .fontSize(8)
      .fillColor(GREY)
      .text(c.title.toUpperCase(), MARGIN + c.x + 3, y + 1, {
        width: c.w - 6,
        align: c.title === 'Importo' ? 'right' : 'left',
      });
  }
  y += 18;
  for (const t of data.transfers) {
    const cells = [
      String(t.index),
      t.enteFiscalCode,
      t.iban ?? '-',
      t.remittanceInformation ?? '-',
      formatEuro(t.amountCents),
    ];
    cells.forEach((text, i) => {
      const c = cols[i]!;
      doc
        .font('Helvetica')
        .fontSize(8.5)
        .fillColor(DARK)
        .text(text, MARGIN + c.x + 3, y, {
          width: c.w - 6,
          height: 11,
          ellipsis: true,
          lineBreak: false,
          align: i === 4 ? 'right' : 'left',
        });
    });
    y += 15;
  }
}

/** The receipt of one paid option on one A4 page. */
export async function renderReceiptPdf(
  data: ReceiptDocumentData,
  options: RenderOptions = {},
): Promise<Buffer> {
  const date = Number.isNaN(data.issuedAt.getTime()) ? FALLBACK_DATE : data.issuedAt;
  const { doc, done } = openPdf(
    {
      title: `Ricevuta di pagamento pagoPA ${data.noticeNumber ?? data.iuv}`,
      author: data.ente.name,
      subject: data.description,
      date,
    },
    options,
  );
  const width = doc.page.width - 2 * MARGIN;
  titleBand(doc, 'RICEVUTA DI PAGAMENTO', data.description, width);

  const boxTop = doc.y + 12;
  doc.lineWidth(1).strokeColor(GREEN).rect(MARGIN, boxTop, width, 48).stroke();
  doc
    .font('Helvetica-Bold')
    .fontSize(11)
    .fillColor(GREEN)
    .text('PAGAMENTO ESEGUITO', MARGIN + 12, boxTop + 10, { width: width / 2 });
  doc
    .font('Helvetica')
    .fontSize(9)
    .fillColor(DARK)
    .text(`il ${formatDateTime(data.paymentDateTime)}`, MARGIN + 12, boxTop + 26, { width: width / 2 });
  doc
    .font('Helvetica-Bold')
    .fontSize(20)
    .fillColor(DARK)
    .text(formatEuro(data.amountCents), MARGIN + width / 2, boxTop + 13, {
      width: width / 2 - 12,
      align: 'right',
    });

  let y = boxTop + 66;
  y = row(doc, 'Ente creditore', `${data.ente.name} - codice fiscale ${data.ente.fiscalCode}`, y, width);
  if (data.serviceDescription) y = row(doc, 'Servizio', data.serviceDescription, y, width);
  y = row(doc, 'Debitore', party(data.debtor), y, width);
  if (data.payer) y = row(doc, 'Pagatore', party(data.payer), y, width);
  y = row(doc, 'Oggetto del pagamento', data.description, y, width);
  y = row(doc, 'Rata', installmentText(data), y, width);
  if (data.noticeNumber) y = row(doc, 'Codice avviso', groupNoticeNumber(data.noticeNumber), y, width);
  y = row(doc, 'Codice IUV', data.iuv, y, width);
  y = row(doc, 'Importo pagato', formatEuro(data.amountCents), y, width);
  if (data.feeCents !== null)
    y = row(doc, 'Commissione applicata dal PSP', formatEuro(data.feeCents), y, width);
  y = row(doc, 'Data e ora del pagamento', formatDateTime(data.paymentDateTime), y, width);
  y = row(doc, 'Prestatore di servizi di pagamento', `${data.pspName} (${data.pspId})`, y, width);
  if (data.paymentMethod) y = row(doc, 'Metodo di pagamento', data.paymentMethod, y, width);
  y = row(doc, 'Identificativo ricevuta', data.receiptId, y, width);
  y = row(doc, 'Identificativo posizione', data.positionId, y, width);
  if (data.transfers.length) transfersTable(doc, data, y + 10, width);

  doc
    .font('Helvetica')
    .fontSize(7.5)
    .fillColor(GREY)
    .text(
      "Ricevuta generata dall'ente creditore con i dati della ricevuta telematica trasmessa dal sistema pagoPA.",
      MARGIN,
      doc.page.height - MARGIN - 16,
      { width, align: 'center', lineBreak: false },
    );
  doc.end();
  return done;
}

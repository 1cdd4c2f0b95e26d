// The outcome workbook of an Excel upload in the portal (issue 8 item 3): sheet «Esito» with one
// row per row of the uploaded sheet (same row numbers) and its message in Italian, then sheet
// «Riepilogo» with the summary. Streamed with exceljs's WorkbookWriter: an import may be long.
//
// Formula injection: every text goes in as a plain string, which exceljs writes as a string cell
// (inline string), never as a formula; a position id typed as `=HYPERLINK(…)` comes back as that text.

import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';

export const OUTCOME_SHEET = 'Esito';
export const SUMMARY_SHEET = 'Riepilogo';
export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** One row of «Esito»: what the import answered one row of the uploaded sheet. */
export interface OutcomeWorkbookRow {
  /** The uploaded sheet's row number; 0 stands for the file itself (a rejected file). */
  rowNo: number;
  positionId: string | null;
  installmentNo: number | null;
  /** OK, WARN (applied with a warning) or KO. */
  outcome: string;
  iuv: string | null;
  noticeNumber: string | null;
  amountCents: number | null;
  /** YYYY-MM-DD. */
  dueDate: string | null;
  errorCode: string | null;
  /** The Italian message for the row's outcome. */
  message: string;
  /** The importer's own (English, technical) message, kept for support. */
  technicalMessage: string | null;
}

export interface OutcomeWorkbook {
  /** Label / value pairs of «Riepilogo», in order. */
  summary: ReadonlyArray<readonly [string, string | number]>;
  rows: AsyncIterable<OutcomeWorkbookRow>;
}

interface Column {
  header: string;
  width: number;
  numFmt?: string;
}

export const OUTCOME_COLUMNS: readonly Column[] = [
  { header: 'Riga', width: 8 },
  { header: 'Posizione (position_id)', width: 28, numFmt: '@' },
  { header: 'Rata', width: 7 },
  { header: 'Esito', width: 8, numFmt: '@' },
  { header: 'IUV', width: 22, numFmt: '@' },
  { header: 'Codice avviso', width: 22, numFmt: '@' },
  { header: 'Importo (€)', width: 14, numFmt: '#,##0.00' },
  { header: 'Scadenza', width: 12, numFmt: 'dd/mm/yyyy' },
  { header: 'Codice errore', width: 20, numFmt: '@' },
  { header: 'Messaggio', width: 90, numFmt: '@' },
  { header: 'Dettaglio tecnico', width: 70, numFmt: '@' },
];

/** A text cell value: strings stay strings (never formulas), absent values stay empty. */
function text(value: string | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : String(value);
}

/** A YYYY-MM-DD date as an Excel date (UTC midnight, as exceljs expects); other text as it is. */
function dateCell(value: string | null): Date | string | null {
  if (value === null) return null;
  const date = new Date(`${value}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(date.getTime()) ? date : value;
}

function rowValues(row: OutcomeWorkbookRow): Array<string | number | Date | null> {
  return [
    row.rowNo,
    text(row.positionId),
    row.installmentNo,
    text(row.outcome),
    text(row.iuv),
    text(row.noticeNumber),
    row.amountCents === null ? null : row.amountCents / 100,
    dateCell(row.dueDate),
    text(row.errorCode),
    text(row.message),
    text(row.technicalMessage),
  ];
}

function addOutcomeSheet(workbook: ExcelJS.stream.xlsx.WorkbookWriter): ExcelJS.Worksheet {
  const sheet = workbook.addWorksheet(OUTCOME_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = OUTCOME_COLUMNS.map((c) => ({
    width: c.width,
    ...(c.numFmt ? { style: { numFmt: c.numFmt } } : {}),
  }));
  const header = sheet.addRow(OUTCOME_COLUMNS.map((c) => c.header));
  header.font = { bold: true };
  header.commit();
  return sheet;
}

/** Writes the workbook to `target` (a file stream, a response, a PassThrough) and ends it. */
export async function writeOutcomeWorkbook(target: Writable, book: OutcomeWorkbook): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: target,
    useStyles: true,
    useSharedStrings: false,
  });
  workbook.creator = 'ppay-connector';
  const sheet = addOutcomeSheet(workbook);
  for await (const row of book.rows) {
    const added = sheet.addRow(rowValues(row));
    if (row.outcome === 'KO') added.getCell(4).font = { bold: true, color: { argb: 'FFB00020' } };
    added.commit();
  }
  sheet.commit();
  const summary = workbook.addWorksheet(SUMMARY_SHEET);
  summary.columns = [{ width: 32 }, { width: 90, style: { numFmt: '@' } }];
  for (const [label, value] of book.summary) {
    const row = summary.addRow([label, typeof value === 'number' ? value : text(value)]);
    row.getCell(1).font = { bold: true };
    row.commit();
  }
  summary.commit();
  await workbook.commit();
}

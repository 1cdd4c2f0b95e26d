// The portal's Excel template for debt positions: a workbook whose first sheet has the ppay CSV v1
// columns as its header row (flat-file-formats.md §6) and whose second sheet explains them in
// Italian; and its streaming reader, which turns each sheet row back into a ppay CSV v1 line and
// hands the lines to the ppay CSV reader, so a spreadsheet is validated by exactly the same rules.
// Also the first-sheet row source PiemontePay's .xlsx lists use (§1 "XLSX").

import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import yauzl from 'yauzl';
import { MAX_AMOUNT_CENTS, MAX_OPTIONS } from '../../domain/position.ts';
import { csvLine, filledWidth, isBlankRow, isoDateOfCell, type CellRow, type SheetCell } from './cells.ts';
import { PPAY_CSV_COLUMNS, readPpayCsv, type PpayCsvOptions } from './ppayCsv.ts';
import { FileFormatError, type ImportFile } from './types.ts';

export const XLSX_FORMAT = 'xlsx';
export const XLSX_DATA_SHEET = 'Posizioni';
export const XLSX_HELP_SHEET = 'Istruzioni';

/**
 * Rows the template's data validation covers. Excel stores a range once, but exceljs expands it
 * into one entry per cell when it loads a whole workbook (the portal may): 10,000 rows keep that
 * under a second. Longer lists are for CSV files anyway.
 */
const VALIDATED_ROWS = 10_000;

// ---------------------------------------------------------------------------------------------
// Reading rows of a workbook
// ---------------------------------------------------------------------------------------------

export interface SheetRowsOptions {
  /** PiemontePay takes workbooks with exactly one sheet (§1); a second one is F_FORMAT. */
  onlySheet?: boolean;
}

type ExcelValue = ExcelJS.CellValue;

/** A cell value without exceljs's wrappers: formulas give their result, rich text its plain text. */
function plainCell(value: ExcelValue): SheetCell {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || value instanceof Date) return value;
  if ('richText' in value) return value.richText.map((part) => part.text).join('');
  if ('formula' in value || 'sharedFormula' in value) {
    const result = value.result;
    return result !== null && typeof result === 'object' && !(result instanceof Date) ? result.error : result;
  }
  if ('hyperlink' in value) return value.text;
  if ('error' in value) return value.error;
  return undefined;
}

function rowCells(row: ExcelJS.Row): SheetCell[] {
  const values = Array.isArray(row.values) ? row.values : [];
  // exceljs rows are 1-based: values[0] is always empty.
  return Array.from({ length: Math.max(0, values.length - 1) }, (_, i) => plainCell(values[i + 1]));
}

function unreadable(err: unknown): FileFormatError {
  if (err instanceof FileFormatError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new FileFormatError('F_FORMAT', `the file is not a readable .xlsx workbook: ${reason}`);
}

/** Largest part (a sheet's XML) a workbook may unpack to: far above the template's longest lists. */
export const MAX_XLSX_PART_BYTES = 1024 * 1024 * 1024;
/** The shared strings are held in memory while the rows are read (`sharedStrings: 'cache'`). */
export const MAX_XLSX_SHARED_STRINGS_BYTES = 128 * 1024 * 1024;

function partCap(entryName: string): number {
  return /sharedStrings\.xml$/i.test(entryName) ? MAX_XLSX_SHARED_STRINGS_BYTES : MAX_XLSX_PART_BYTES;
}

/**
 * A workbook is a zip, and exceljs unpacks its parts without any limit: a few KB of shared strings
 * expanding to GBs exhausted the memory. Every part is checked first, from the central directory
 * (a declared size above its cap is F_TOO_LARGE) and by unpacking it to nowhere with yauzl's size
 * validation (a part unpacking to more than it declares is F_TOO_LARGE too, after a few KB).
 */
async function assertWorkbookWithinLimits(input: string): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(input, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
  } catch (err) {
    throw unreadable(err);
  }
  try {
    for await (const entry of zip.eachEntry()) {
      const cap = partCap(entry.fileName);
      if (entry.uncompressedSize > cap) {
        throw new FileFormatError(
          'F_TOO_LARGE',
          `the workbook's ${entry.fileName} unpacks to ${entry.uncompressedSize} bytes, more than ${cap}`,
        );
      }
      const stream = await zip.openReadStreamPromise(entry);
      try {
        for await (const chunk of stream) void chunk;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        if (!/too many bytes/.test(reason)) throw err;
        throw new FileFormatError(
          'F_TOO_LARGE',
          `the workbook's ${entry.fileName} unpacks to more than it declares`,
        );
      }
    }
  } catch (err) {
    throw unreadable(err);
  } finally {
    zip.close();
  }
}

/**
 * The rows of the workbook's first sheet, streamed (exceljs WorkbookReader): `line` is the sheet's
 * row number. Rows exceljs does not report (never written) are skipped. Later sheets are read to the
 * end without being kept, so that the zip is consumed and closed.
 */
export async function* readSheetRows(
  input: string,
  options: SheetRowsOptions = {},
): AsyncGenerator<CellRow<SheetCell>> {
  await assertWorkbookWithinLimits(input);
  // Our own stream, so that a caller who stops early (a header sniff) closes the file.
  const stream = createReadStream(input);
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(stream, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  let sheets = 0;
  try {
    for await (const worksheet of workbook) {
      sheets += 1;
      for await (const row of worksheet) {
        if (sheets === 1) yield { line: row.number, cells: rowCells(row) };
      }
    }
  } catch (err) {
    throw unreadable(err);
  } finally {
    stream.destroy();
  }
  if (sheets === 0) throw new FileFormatError('F_FORMAT', 'the workbook has no sheet');
  if (options.onlySheet && sheets > 1) {
    throw new FileFormatError('F_FORMAT', `the workbook must hold exactly one sheet, it has ${sheets}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The template read back as ppay CSV v1
// ---------------------------------------------------------------------------------------------

/**
 * A cell as ppay CSV v1 text: numbers as typed (whole numbers without exponent or separators, so
 * an amount typed as 3000 is 3000 cents), dates as YYYY-MM-DD, booleans as true/false. A line break
 * typed inside a cell (Alt+Enter) becomes a space: ppay CSV has one record per line.
 */
function cellText(cell: SheetCell): string {
  if (cell === undefined || cell === null) return '';
  if (cell instanceof Date) return isoDateOfCell(cell);
  if (typeof cell === 'number') return Number.isInteger(cell) ? cell.toFixed(0) : String(cell);
  if (typeof cell === 'boolean') return cell ? 'true' : 'false';
  return cell.replace(/\r\n|\r|\n/g, ' ');
}

/**
 * The sheet as ppay CSV v1 text, one line per sheet row (row n = line n, so outcome row numbers
 * are the spreadsheet's): rows the sheet does not have and rows of blank cells become empty lines,
 * which the ppay reader skips. Data rows are cut or padded to the header's width, so that the
 * trailing empty cells exceljs drops do not make a row ragged; a row with values past the header
 * keeps them and is answered as ragged.
 */
async function* templateAsPpayCsv(input: string): AsyncGenerator<string> {
  let line = 0;
  let width = -1;
  for await (const row of readSheetRows(input)) {
    while (line + 1 < row.line) {
      line += 1;
      yield '\n';
    }
    line = row.line;
    if (isBlankRow(row.cells)) {
      yield '\n';
      continue;
    }
    if (width < 0) width = filledWidth(row.cells);
    const cells = row.cells.slice(0, Math.max(width, filledWidth(row.cells)));
    while (cells.length < width) cells.push(undefined);
    yield `${csvLine(cells.map(cellText))}\n`;
  }
}

/**
 * Opens a filled-in template (.xlsx path). The items are those of the ppay CSV v1 reader, with the
 * same codes; a workbook that cannot be read is F_FORMAT.
 */
export function readXlsxTemplate(input: string, options: PpayCsvOptions = {}): ImportFile {
  const file = readPpayCsv(templateAsPpayCsv(input), options);
  return { header: { ...file.header, format: XLSX_FORMAT }, items: file.items };
}

// ---------------------------------------------------------------------------------------------
// Writing the template
// ---------------------------------------------------------------------------------------------

interface ColumnHelp {
  required: string;
  format: string;
  description: string;
}

const POSITION_HELP: Record<string, ColumnHelp> = {
  action: {
    required: 'sì',
    format: 'I / M / A',
    description:
      "Operazione: I = inserimento, M = modifica (sostituisce l'intera posizione: vanno indicate tutte le rate), A = annullamento",
  },
  position_id: {
    required: 'sì',
    format: 'testo, max 50',
    description:
      "Identificativo della posizione nel gestionale (IUPD): caratteri ASCII stampabili, senza ';'",
  },
  service_code: {
    required: 'I, M',
    format: 'testo, max 64',
    description: 'Codice del servizio configurato in ppay (codice versamento PiemontePay, tipo dovuto MyPay)',
  },
  reference_year: { required: 'no', format: 'AAAA', description: 'Anno di riferimento della posizione' },
  description: {
    required: 'I, M',
    format: 'testo, max 1024',
    description: 'Causale del versamento; oltre 140 caratteri viene troncata per pagoPA (esito WARN)',
  },
  notes: { required: 'no', format: 'testo, max 1000', description: 'Note per il pagatore' },
  debtor_type: {
    required: 'I, M',
    format: 'F / G',
    description: 'Debitore: F = persona fisica, G = persona giuridica',
  },
  debtor_fiscal_code: {
    required: 'I, M',
    format: 'testo, max 35',
    description: 'Codice fiscale o partita IVA del debitore, oppure ANONIMO dove il servizio lo consente',
  },
  debtor_name: {
    required: 'I, M',
    format: 'testo, max 70',
    description: 'F: cognome (oppure nome e cognome se debtor_first_name è vuoto); G: ragione sociale',
  },
  debtor_first_name: { required: 'no', format: 'testo, max 70', description: 'Nome (solo persone fisiche)' },
  debtor_address: { required: 'no', format: 'testo, max 70', description: 'Indirizzo del debitore' },
  debtor_civic: { required: 'no', format: 'testo, max 16', description: 'Numero civico' },
  debtor_postal_code: { required: 'no', format: 'testo, max 16', description: 'CAP' },
  debtor_city: { required: 'no', format: 'testo, max 35', description: 'Località' },
  debtor_province: { required: 'no', format: 'testo, max 35', description: 'Provincia (sigla)' },
  debtor_country: { required: 'no', format: '2 lettere', description: 'Nazione, codice ISO 3166 (es. IT)' },
  debtor_email: { required: 'no', format: 'testo, max 256', description: 'Indirizzo e-mail del debitore' },
  validity_from: {
    required: 'no',
    format: 'AAAA-MM-GG',
    description: 'La posizione è pagabile da questa data',
  },
  validity_to: {
    required: 'no',
    format: 'AAAA-MM-GG',
    description: 'La posizione è pagabile fino a questa data',
  },
  change_reason: {
    required: 'no',
    format: 'testo, max 400',
    description: "Motivazione della modifica (M) o dell'annullamento (A)",
  },
  installment_no: {
    required: 'no (0)',
    format: `intero 0–${MAX_OPTIONS}`,
    description:
      '0 = pagamento in unica soluzione; 1..N = numero della rata. Le righe di una posizione sono consecutive e ripetono identiche le colonne di posizione',
  },
  installment_label: {
    required: 'no',
    format: 'testo, max 35',
    description: "Descrizione della rata, es. 'rata 03 di 07'",
  },
  iuv: {
    required: 'no',
    format: '15 o 17 cifre, o RF',
    description: 'IUV già assegnato; se vuoto lo assegna ppay',
  },
  due_date: {
    required: 'secondo il servizio',
    format: 'AAAA-MM-GG',
    description: 'Data di scadenza della rata',
  },
  amount_cents: {
    required: 'I, M',
    format: 'intero, centesimi',
    description: 'Importo in centesimi di euro, senza separatori: 3000 = 30,00 €',
  },
  metadata: {
    required: 'no',
    format: 'chiave=valore|…',
    description:
      'Dati aggiuntivi: coppie chiave=valore separate da |. In chiavi e valori scrivere % | = ; e a capo come %25 %7C %3D %3B %0A',
  },
};

const TRANSFER_HELP: Record<string, ColumnHelp> = {
  amount_cents: {
    required: 'no',
    format: 'intero, centesimi',
    description: 'Importo del trasferimento; la somma dei trasferimenti deve essere uguale a amount_cents',
  },
  org_fiscal_code: {
    required: 'no',
    format: '11 cifre',
    description: "Codice fiscale dell'ente beneficiario; vuoto = l'ente creditore",
  },
  iban: { required: 'no', format: 'IBAN', description: 'IBAN di accredito; vuoto = quello del servizio' },
  remittance: { required: 'no', format: 'testo, max 140', description: 'Causale del trasferimento' },
  taxonomy: {
    required: 'no',
    format: 'es. 9/0101108TS/',
    description: 'Tassonomia pagoPA (dati specifici di riscossione); vuoto = quella del servizio',
  },
  acc_year: { required: 'no', format: 'AAAA', description: 'Anno di accertamento' },
  acc_number: { required: 'no', format: 'testo, max 35', description: 'Numero di accertamento' },
};

function helpOf(column: string): ColumnHelp {
  const transfer = /^tr(\d)_(.+)$/.exec(column);
  if (transfer) {
    const help = TRANSFER_HELP[transfer[2] as string] as ColumnHelp;
    return { ...help, description: `Trasferimento ${transfer[1]}: ${help.description}` };
  }
  return POSITION_HELP[column] as ColumnHelp;
}

const GENERAL_RULES = [
  'Compilare il foglio «Posizioni» dalla riga 2 in giù. Non cambiare i nomi delle colonne della riga 1 (il loro ordine è libero).',
  "Ogni riga è un'opzione di pagamento: la rata 0 è il pagamento in unica soluzione, le rate 1..N un piano rateale.",
  'Le righe con lo stesso position_id devono essere consecutive e formano una sola posizione.',
  'Importi in centesimi di euro, solo cifre. Date come testo AAAA-MM-GG oppure come date di Excel.',
  'Una cella vuota è un valore assente. Nelle righe A (annullamento) si leggono solo position_id e change_reason.',
  "L'esito riporta una riga per ogni riga del foglio, con lo stesso numero di riga.",
];

const WHOLE_NUMBER_COLUMNS: Record<string, [number, number]> = {
  installment_no: [0, MAX_OPTIONS],
  reference_year: [1900, 2999],
  amount_cents: [1, MAX_AMOUNT_CENTS],
};

function wholeRangeOf(column: string): [number, number] | undefined {
  const transfer = /^tr\d_(amount_cents|acc_year)$/.exec(column);
  if (transfer) return transfer[1] === 'amount_cents' ? [1, MAX_AMOUNT_CENTS] : [1900, 2999];
  return WHOLE_NUMBER_COLUMNS[column];
}

/** Per-column data validation; exceljs has range validations but does not type them. */
interface RangeValidations {
  add(range: string, validation: ExcelJS.DataValidation): void;
}

function validationFor(column: string): ExcelJS.DataValidation | undefined {
  const common = { allowBlank: true, showErrorMessage: true, errorTitle: column };
  if (column === 'action') {
    return { ...common, type: 'list', formulae: ['"I,M,A"'], error: 'Valori ammessi: I, M, A' };
  }
  if (column === 'debtor_type') {
    return { ...common, type: 'list', formulae: ['"F,G"'], error: 'Valori ammessi: F, G' };
  }
  const whole = wholeRangeOf(column);
  if (whole) {
    return {
      ...common,
      type: 'whole',
      operator: 'between',
      formulae: whole,
      error: `Un numero intero tra ${whole[0]} e ${whole[1]}`,
    };
  }
  const maxLength = { position_id: 50, description: 1024, debtor_country: 2 }[column];
  if (maxLength !== undefined) {
    return {
      ...common,
      type: 'textLength',
      operator: 'lessThanOrEqual',
      formulae: [maxLength],
      error: `Al massimo ${maxLength} caratteri`,
    };
  }
  return undefined;
}

const DATE_COLUMNS = new Set(['due_date', 'validity_from', 'validity_to']);

/**
 * Text columns stay text, so Excel keeps the leading zeros of CAP, IUV and partite IVA; date
 * columns show a typed date as AAAA-MM-GG and hand it over as a date cell.
 */
function numberFormatOf(column: string): string {
  if (DATE_COLUMNS.has(column)) return 'yyyy-mm-dd';
  return wholeRangeOf(column) ? '0' : '@';
}

function addDataSheet(workbook: ExcelJS.Workbook): void {
  const sheet = workbook.addWorksheet(XLSX_DATA_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = PPAY_CSV_COLUMNS.map((column) => ({
    header: column,
    key: column,
    width: Math.max(12, column.length + 2),
    style: { numFmt: numberFormatOf(column) },
  }));
  sheet.getRow(1).font = { bold: true };
  const validations = (sheet as unknown as { dataValidations: RangeValidations }).dataValidations;
  PPAY_CSV_COLUMNS.forEach((column, index) => {
    const validation = validationFor(column);
    if (!validation) return;
    const letter = sheet.getColumn(index + 1).letter;
    validations.add(`${letter}2:${letter}${VALIDATED_ROWS + 1}`, validation);
  });
}

function addHelpSheet(workbook: ExcelJS.Workbook): void {
  const sheet = workbook.addWorksheet(XLSX_HELP_SHEET);
  sheet.columns = [{ width: 24 }, { width: 20 }, { width: 22 }, { width: 110 }];
  sheet.addRow(['Modello di caricamento posizioni debitorie (ppay CSV v1)']).font = { bold: true, size: 14 };
  sheet.addRow([]);
  for (const rule of GENERAL_RULES) sheet.addRow([rule]);
  sheet.addRow([]);
  sheet.addRow(['Colonna', 'Obbligatoria', 'Formato', 'Descrizione']).font = { bold: true };
  for (const column of PPAY_CSV_COLUMNS) {
    const help = helpOf(column);
    sheet.addRow([column, help.required, help.format, help.description]);
  }
}

/** The empty template: «Posizioni» (header row, validations) then «Istruzioni». */
export function buildXlsxTemplate(): ExcelJS.Workbook {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'ppay-connector';
  addDataSheet(workbook);
  addHelpSheet(workbook);
  return workbook;
}

/** Writes the template to a file path or a stream (e.g. the portal's download response). */
export async function writeXlsxTemplate(target: string | Writable): Promise<void> {
  const workbook = buildXlsxTemplate();
  if (typeof target === 'string') await workbook.xlsx.writeFile(target);
  else await workbook.xlsx.write(target);
}

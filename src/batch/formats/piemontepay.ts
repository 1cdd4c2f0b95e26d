// PiemontePay's own flat files, read onto the ppay import model: the "Lista di carico" v2.9 (52
// fields, no position id) and v2.8 (53, id first), and the AGPD update / cancel list v2.8 (54, or
// 51 in its legacy layout), as `;` CSV in ISO-8859-1 or as a one-sheet .xlsx; and the
// compatibility outcome written in PiemontePay's terms (CodiceEsito, §3.3).
// Spec: ../shared/reference/flat-file-formats.md §1–3 and §7.
//
// Unlike PiemontePay's all-or-nothing upload, rows fail one by one (§6); a wrong header, an empty
// file or failed control totals still reject the whole file.

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { domainError } from '../../domain/errors.ts';
import { ANONYMOUS_DEBTOR, MAX_TRANSFERS } from '../../domain/position.ts';
import {
  calendarDate,
  type CellRow,
  compactDateToIso,
  csvLine,
  detachedCopy,
  filledWidth,
  isBlank,
  isBlankRow,
  isoDateOfCell,
  latin1Bytes,
  LEGACY_EMAIL,
  PPAY_POSITION_ID,
  type SheetCell,
  sniffLatin1OrUtf8,
} from './cells.ts';
import { CsvLineError, readLines, splitCsvLine, type LineEncoding } from './csvLines.ts';
import { readSheetRows } from './xlsx.ts';
import { neutraliseValue } from './csvSafety.ts';
import {
  FileFormatError,
  OUTCOME_CROSSWALK,
  type ImportAction,
  type ImportDebtor,
  type ImportFile,
  type ImportFileHeader,
  type ImportItem,
  type ImportPositionPatch,
  type ImportRecord,
  type ImportRowError,
  type ImportTransfer,
  type MetadataPair,
  type OutcomeLine,
  type PositionRecord,
  type RowErrorCode,
} from './types.ts';

export type PiemontePayLayout = 'v2.9' | 'v2.8' | 'agpd-v2.8';

export const PIEMONTEPAY_FORMATS: Readonly<Record<PiemontePayLayout, string>> = {
  'v2.9': 'piemontepay-v2.9',
  'v2.8': 'piemontepay-v2.8',
  'agpd-v2.8': 'piemontepay-agpd-v2.8',
};

// ---------------------------------------------------------------------------------------------
// Layouts (§1, §2): the template's header names, used in error messages as the field name
// ---------------------------------------------------------------------------------------------

const COMPONENTS = 5;
const REFERENCES = 5;

function componentNames(): string[] {
  return Array.from({ length: COMPONENTS }, (_, i) => [
    `Importo componente ${i + 1}`,
    `Causale componente ${i + 1}`,
    `Anno accertamento componente ${i + 1}`,
    `Numero accertamento componente ${i + 1}`,
  ]).flat();
}

function referenceNames(): string[] {
  return Array.from({ length: REFERENCES }, (_, i) => [
    `Nome riferimento pagamento ${i + 1}`,
    `Valore riferimento pagamento ${i + 1}`,
  ]).flat();
}

const DEBTOR_NAMES = [
  'Tipo soggetto debitore',
  'Codice fiscale o Partita Iva del soggetto debitore',
  'Cognome soggetto debitore',
  'Nome soggetto debitore',
  'Ragione sociale soggetto debitore',
  'Indirizzo debitore',
  'Civico debitore',
  'CAP debitore',
  'Localita debitore',
  'Provincia debitore',
  'Nazione debitore',
  'email debitore',
];

const SECONDARY_NAMES = [
  'Importo totale principale',
  'Importo totale secondario',
  'Importo componente secondario',
  'Causale componente secondario',
];

/** Lista di carico v2.9, columns B..BA of the template (§1). */
export const LISTA_V29_COLUMNS: readonly string[] = [
  'Anno di riferimento',
  'Importo totale da pagare',
  'Data scadenza',
  'Descrizione causale versamento',
  'Descrizione rata',
  ...componentNames(),
  ...referenceNames(),
  ...DEBTOR_NAMES,
  'Note per il pagatore',
  ...SECONDARY_NAMES,
];

/** Lista di carico v2.8: the v2.9 fields after "Posizione debitoria esterna". */
export const LISTA_V28_COLUMNS: readonly string[] = ['Posizione debitoria esterna', ...LISTA_V29_COLUMNS];

/** AGPD update / cancel list v2.8 (§2). */
export const AGPD_V28_COLUMNS: readonly string[] = [
  'Tipo aggiornamento',
  'Posizione debitoria esterna',
  'Data scadenza',
  'Data inizio validita',
  'Data fine validita',
  'Importo totale da pagare',
  ...componentNames(),
  ...referenceNames(),
  'Descrizione causale versamento',
  'Motivazione',
  ...DEBTOR_NAMES,
  ...SECONDARY_NAMES,
];

/**
 * The AGPD legacy mode (validity dates from the upload form) expects 51 header cells; its parser
 * reads the same indexes, so a 51-cell file is the 54-cell layout without its last cells.
 */
const AGPD_LEGACY_WIDTH = 51;

const LAYOUT_COLUMNS: Readonly<Record<PiemontePayLayout, readonly string[]>> = {
  'v2.9': LISTA_V29_COLUMNS,
  'v2.8': LISTA_V28_COLUMNS,
  'agpd-v2.8': AGPD_V28_COLUMNS,
};

/** Where the blocks shared by both list kinds start (0-based field index). */
interface BlockIndexes {
  components: number;
  references: number;
  debtor: number;
  secondary: number;
}

/** Lista di carico fields, v2.9 numbering (v2.8 adds one to each). */
const L = { year: 0, amount: 1, dueDate: 2, description: 3, label: 4, notes: 47 };
const LISTA_BLOCKS: BlockIndexes = { components: 5, references: 25, debtor: 35, secondary: 48 };
/** AGPD fields. */
const A = { kind: 0, id: 1, dueDate: 2, validFrom: 3, validTo: 4, amount: 5, description: 36, reason: 37 };
const AGPD_BLOCKS: BlockIndexes = { components: 6, references: 26, debtor: 38, secondary: 50 };

/** The layout a header row announces by its cell count (§7: 52, 53, 54 or 51), or null. */
export function piemontePayLayoutOfHeader(cells: readonly SheetCell[]): PiemontePayLayout | null {
  // A CSV header counts its trailing empty cells; a workbook's first row may not report them.
  for (const w of [cells.length, filledWidth(cells)]) {
    if (w === LISTA_V29_COLUMNS.length) return 'v2.9';
    if (w === LISTA_V28_COLUMNS.length) return 'v2.8';
    if (w === AGPD_V28_COLUMNS.length || w === AGPD_LEGACY_WIDTH) return 'agpd-v2.8';
  }
  return null;
}

function acceptsHeaderWidth(layout: PiemontePayLayout, width: number): boolean {
  if (layout === 'agpd-v2.8') return width === AGPD_V28_COLUMNS.length || width === AGPD_LEGACY_WIDTH;
  return width === LAYOUT_COLUMNS[layout].length;
}

// ---------------------------------------------------------------------------------------------
// File names (§1 "Export naming")
// ---------------------------------------------------------------------------------------------

export interface LidcFileName {
  enteFiscalCode: string;
  serviceCode: string;
  /** `yyyyMMdd-<cv>-<idFlusso>-<nnn>`, the flow id. */
  idMessaggio: string;
  extension: 'csv' | 'xlsx';
}

const LIDC_NAME = /^LIDC_([0-9A-Za-z]{11,16})_([^_]{1,4})_(?:(?:PS|AT)_)?(\d{8}-[^_]+)\.(csv|xlsx)$/i;

/** `LIDC_<CFente>_<codVersamento>_[PS_|AT_]<idMessaggio>.csv|xlsx`, or null. */
export function parseLidcFileName(fileName: string): LidcFileName | null {
  const m = LIDC_NAME.exec(path.basename(fileName));
  if (m === null) return null;
  return {
    enteFiscalCode: (m[1] as string).toUpperCase(),
    serviceCode: m[2] as string,
    idMessaggio: m[3] as string,
    extension: (m[4] as string).toLowerCase() as 'csv' | 'xlsx',
  };
}

// ---------------------------------------------------------------------------------------------
// Options and opening
// ---------------------------------------------------------------------------------------------

export interface PiemontePayReadOptions {
  /**
   * CSV encoding. Default: ISO-8859-1 as PiemontePay reads, switched to UTF-8 when the file has a
   * UTF-8 BOM or its first 64 KiB are UTF-8 with accented letters (cells.ts sniffLatin1OrUtf8).
   * Given explicitly, it is used as is (`utf-8` then rejects other bytes with F_ENCODING).
   */
  encoding?: LineEncoding | undefined;
  /** ppay service of the list (PiemontePay's codice versamento); default: the LIDC_ name's. */
  serviceCode?: string | undefined;
  /** Default: the LIDC_ name's idMessaggio, else the file name without extension. */
  flowId?: string | undefined;
  enteFiscalCode?: string | undefined;
  /**
   * v2.9 only, which has no id column: the position id of a row, from `{flowId}`, `{line}` (the
   * physical line) and `{row}` (the data row, from 1). The default `{flowId}-{line}` keeps reruns
   * of the same file idempotent, which PiemontePay's timestamp-based id does not.
   */
  idTemplate?: string | undefined;
  /** Validity window of every position of a lista (PiemontePay's upload form, step 1). */
  validityFrom?: string | undefined;
  validityTo?: string | undefined;
  /**
   * The secondary ente of a multi-beneficiary service (the file does not carry it, §1): its
   * component becomes a transfer to this ente. Rows with a secondary component fail with E_AMOUNT
   * (PiemontePay 189, "CV is not multi-beneficiary") when it is not given.
   */
  secondaryEnte?: { fiscalCode: string; iban?: string | undefined } | undefined;
  /** Control totals (PiemontePay's step 1): data rows, and Σ "Importo totale da pagare". */
  expectCount?: number | undefined;
  expectTotalCents?: number | undefined;
}

const DEFAULT_ID_TEMPLATE = '{flowId}-{line}';

function isXlsx(filePath: string): boolean {
  return path.extname(filePath).toLowerCase() === '.xlsx';
}

function headerOf(
  filePath: string,
  layout: PiemontePayLayout,
  options: PiemontePayReadOptions,
): ImportFileHeader {
  const lidc = parseLidcFileName(filePath);
  return {
    format: PIEMONTEPAY_FORMATS[layout],
    enteFiscalCode: options.enteFiscalCode ?? lidc?.enteFiscalCode,
    serviceCode: options.serviceCode ?? lidc?.serviceCode,
    flowId: options.flowId ?? lidc?.idMessaggio ?? path.basename(filePath, path.extname(filePath)),
    expectCount: options.expectCount,
    expectTotalCents: options.expectTotalCents,
  };
}

/**
 * Opens a PiemontePay list (.csv or .xlsx path) of the given layout. Iterating `items` reads the
 * file once; it throws FileFormatError F_HEADER (header cell count), F_EMPTY, F_ENCODING,
 * F_FORMAT (unreadable workbook) and, at the end, F_COUNT / F_TOTAL. A lista without a service
 * (no `serviceCode` and no LIDC_ name) is F_NAME at once: its positions would have none.
 */
export function readPiemontePayList(
  filePath: string,
  layout: PiemontePayLayout,
  options: PiemontePayReadOptions = {},
): ImportFile {
  for (const [name, value] of [
    ['validityFrom', options.validityFrom],
    ['validityTo', options.validityTo],
  ] as const) {
    if (value !== undefined && calendarDate(value) === null) {
      throw domainError('INVALID_DATE', `${name} must be a date YYYY-MM-DD`, { field: name, value });
    }
  }
  const header = headerOf(filePath, layout, options);
  if (layout !== 'agpd-v2.8' && !header.serviceCode) {
    throw new FileFormatError(
      'F_NAME',
      'a Lista di carico does not carry its codice versamento: name the file LIDC_<CF>_<CV>_<id>.csv or give the service',
    );
  }
  return { header, items: itemsOf(filePath, layout, header, options) };
}

/** The rows of the file: CSV lines split on `;`, or the cells of the workbook's only sheet. */
async function* sourceRows(filePath: string, options: PiemontePayReadOptions): AsyncGenerator<SourceRow> {
  if (isXlsx(filePath)) {
    yield* readSheetRows(filePath, { onlySheet: true });
    return;
  }
  const encoding = options.encoding ?? (await sniffLatin1OrUtf8(filePath));
  for await (const { line, text } of readLines(createReadStream(filePath), { encoding })) {
    if (text.trim() === '') continue;
    try {
      yield { line, cells: splitCsvLine(text, ';') };
    } catch (err) {
      if (!(err instanceof CsvLineError)) throw err;
      yield { line, cells: [], broken: err.message };
    }
  }
}

type SourceRow = CellRow<SheetCell> & { broken?: string };

async function* itemsOf(
  filePath: string,
  layout: PiemontePayLayout,
  header: ImportFileHeader,
  options: PiemontePayReadOptions,
): AsyncGenerator<ImportItem> {
  const context = new ListContext(layout, header, options);
  let headerSeen = false;
  for await (const row of sourceRows(filePath, options)) {
    if (!headerSeen) {
      checkHeader(layout, row);
      headerSeen = true;
      continue;
    }
    if (!row.broken && isBlankRow(row.cells)) continue;
    yield context.itemOf(row);
  }
  if (!headerSeen) throw new FileFormatError('F_EMPTY', 'the file is empty (PARSE_ERROR_FILE_VUOTO)');
  if (context.rows === 0) {
    throw new FileFormatError('F_EMPTY', 'the file has a header and no data rows (PARSE_ERROR_ASSENZA_DATI)');
  }
  context.checkControlTotals();
}

function checkHeader(layout: PiemontePayLayout, row: SourceRow): void {
  const width = row.cells.length;
  if (
    !row.broken &&
    (acceptsHeaderWidth(layout, width) || acceptsHeaderWidth(layout, filledWidth(row.cells)))
  ) {
    return;
  }
  const expected =
    layout === 'agpd-v2.8'
      ? `${AGPD_V28_COLUMNS.length} (or ${AGPD_LEGACY_WIDTH})`
      : LAYOUT_COLUMNS[layout].length;
  throw new FileFormatError(
    'F_HEADER',
    `the header row has ${width} cells, a ${PIEMONTEPAY_FORMATS[layout]} file has ${expected} (PARSE_ERROR_INTESTAZIONE)`,
    row.line,
  );
}

// ---------------------------------------------------------------------------------------------
// One row's cells, with PiemontePay's value rules
// ---------------------------------------------------------------------------------------------

interface FieldError {
  code: RowErrorCode;
  field?: string | undefined;
  message: string;
}

/** PiemontePay amounts: 9 integer digits and 2 decimals at most (§1). */
const MAX_LIST_AMOUNT = 99_999_999_999;

/** Reads one row's cells by field index, collecting every problem instead of stopping at the first. */
class Cells {
  readonly errors: FieldError[] = [];

  constructor(
    private readonly cells: readonly SheetCell[],
    private readonly names: readonly string[],
    private readonly offset: number,
  ) {}

  name(index: number): string {
    return this.names[index + this.offset] ?? `field ${index + this.offset + 1}`;
  }

  cell(index: number): SheetCell {
    return this.cells[index + this.offset];
  }

  has(index: number): boolean {
    return !isBlank(this.cell(index));
  }

  fail(code: RowErrorCode, index: number | undefined, message: string): undefined {
    const field = index === undefined ? undefined : this.name(index);
    this.errors.push({ code, field, message: field === undefined ? message : `${field}: ${message}` });
    return undefined;
  }

  /** Trimmed text; numbers of a workbook as typed, dates as YYYY-MM-DD. */
  raw(index: number): string {
    const cell = this.cell(index);
    if (cell === undefined || cell === null) return '';
    if (cell instanceof Date) return isoDateOfCell(cell);
    if (typeof cell === 'number') return Number.isInteger(cell) ? cell.toFixed(0) : String(cell);
    return String(cell).trim();
  }

  text(index: number, max: number, required = false, code: RowErrorCode = 'E_SYNTAX'): string | undefined {
    const value = this.raw(index);
    if (value === '')
      return required ? this.fail(code, index, 'is required (PARSE_ERROR_MANDATORY)') : undefined;
    if ([...value].length > max)
      return this.fail(code, index, `is longer than ${max} characters (PARSE_ERROR_MIN_MAX_LENGTH)`);
    return value;
  }

  /**
   * An amount. CSV and workbook text: whole cents (`3000` = €30.00); PiemontePay would read `20.00`
   * as €0.20, so a decimal point is refused rather than silently shifted. Workbook numbers: euros.
   */
  cents(index: number, required = false): number | undefined {
    const cell = this.cell(index);
    if (typeof cell === 'number') return this.euroCents(index, cell);
    const value = this.raw(index);
    if (value === '')
      return required ? this.fail('E_SYNTAX', index, 'is required (PARSE_ERROR_MANDATORY)') : undefined;
    if (!/^\d+$/.test(value)) {
      return this.fail(
        'E_AMOUNT',
        index,
        `"${value}" is not an amount: write whole cents without separators (3000 = 30,00 €) (PARSE_ERROR_TYPE_OR_FORMAT)`,
      );
    }
    const cents = BigInt(value);
    if (cents > BigInt(MAX_LIST_AMOUNT)) return this.fail('E_AMOUNT', index, 'exceeds 999 999 999.99 €');
    return Number(cents);
  }

  private euroCents(index: number, euros: number): number | undefined {
    const cents = Math.round(euros * 100);
    if (!Number.isFinite(euros) || euros < 0 || cents > MAX_LIST_AMOUNT) {
      return this.fail('E_AMOUNT', index, `${euros} is not an amount between 0 and 999 999 999.99 €`);
    }
    return cents;
  }

  /** `yyyyMMdd` in CSV (exactly 8 characters, a real day), a date cell in a workbook. */
  date(index: number, code: RowErrorCode): string | undefined {
    const cell = this.cell(index);
    if (cell instanceof Date) return isoDateOfCell(cell);
    const value = this.raw(index);
    if (value === '') return undefined;
    const iso = compactDateToIso(value);
    if (iso === null) return this.fail(code, index, `"${value}" is not a date yyyyMMdd (PARSE_ERROR_DATE)`);
    return iso;
  }

  year(index: number): number | undefined {
    const value = this.raw(index);
    if (value === '') return undefined;
    const year = /^\d{4}$/.test(value) ? Number(value) : NaN;
    if (!(year >= 1900 && year <= 2900))
      return this.fail('E_SYNTAX', index, `"${value}" is not a year 1900-2900`);
    return year;
  }

  /** True when every field outside `kept` is blank; else one FIELD_NOT_REQUESTED error. */
  onlyThese(kept: readonly number[], width: number): boolean {
    for (let index = 0; index < width; index++) {
      if (!kept.includes(index) && this.has(index)) {
        this.fail('E_SYNTAX', index, 'must be empty on this row (PARSE_ERROR_FIELD_NOT_REQUESTED)');
        return false;
      }
    }
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Blocks shared by the lista and the AGPD list
// ---------------------------------------------------------------------------------------------

/** Components 1–5 (idx base..base+19): accounting split of the principal amount. */
function componentsOf(cells: Cells, base: number): ImportTransfer[] {
  const transfers: ImportTransfer[] = [];
  for (let k = 0; k < COMPONENTS; k++) {
    const at = base + 4 * k;
    if (![at, at + 1, at + 2, at + 3].some((i) => cells.has(i))) continue;
    const amountCents = cells.cents(at);
    const remittance = cells.text(at + 1, 80);
    if (amountCents === undefined || remittance === undefined) {
      const missing = amountCents === undefined ? at : at + 1;
      if (!cells.has(missing))
        cells.fail('E_SYNTAX', missing, 'is required when the component is given (198)');
      continue;
    }
    if (amountCents === 0) cells.fail('E_AMOUNT', at, 'must be greater than zero');
    const accountingYear = cells.year(at + 2);
    const accountingNumber = cells.text(at + 3, 35);
    for (const index of [at + 2, at + 3]) {
      if (!cells.has(index) && cells.has(index === at + 2 ? at + 3 : at + 2)) {
        cells.fail('E_SYNTAX', index, 'anno and numero accertamento go together (191, 192)');
      }
    }
    transfers.push({ amountCents, remittanceInformation: remittance, accountingYear, accountingNumber });
  }
  return transfers;
}

/** Riferimenti pagamento 1–5 (name/value pairs) → metadata `rif.<Nome>`. */
function referencesOf(cells: Cells, base: number): MetadataPair[] {
  const pairs: MetadataPair[] = [];
  for (let k = 0; k < REFERENCES; k++) {
    const at = base + 2 * k;
    if (!cells.has(at) && !cells.has(at + 1)) continue;
    const name = cells.text(at, 70);
    const value = cells.text(at + 1, 70);
    if (name === undefined || value === undefined) {
      const missing = name === undefined ? at : at + 1;
      if (!cells.has(missing))
        cells.fail('E_SYNTAX', missing, 'name and value of a riferimento go together (193)');
      continue;
    }
    const key = referenceKey(name);
    if (pairs.some((p) => p.key === key)) {
      cells.fail('E_SYNTAX', at, `riferimento "${name}" is given twice`);
      continue;
    }
    pairs.push({ key, value });
  }
  return pairs;
}

/** Metadata keys are `[A-Za-z0-9_.-]`: other characters of the riferimento's name become `_`. */
export function referenceKey(name: string): string {
  return `rif.${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** Debtor block (12 fields from base): tipo, CF, cognome, nome, ragione sociale, address, email. */
function debtorOf(cells: Cells, base: number, fiscalCodeMax: number): ImportDebtor | undefined {
  const [type, cf, surname, firstName, company] = [base, base + 1, base + 2, base + 3, base + 4];
  const kind = cells.raw(type).toUpperCase();
  if (kind !== 'F' && kind !== 'G') {
    return cells.fail('E_DEBTOR_INVALID', type, 'must be F or G (PARSE_ERROR_TIPO_SOGGETTO_DEBITORE)');
  }
  const fiscalCode = cells.text(cf, fiscalCodeMax, true, 'E_DEBTOR_INVALID')?.toUpperCase();
  let fullName: string | undefined;
  if (kind === 'F') {
    const last = cells.text(surname, 70, true, 'E_DEBTOR_INVALID');
    const first = cells.text(firstName, 70, true, 'E_DEBTOR_INVALID');
    if (cells.has(company))
      cells.fail('E_DEBTOR_INVALID', company, 'must be empty for a natural person (194)');
    // The ppay CSV reader's order for debtor_first_name + debtor_name (ppayCsv.ts debtorOf).
    if (last !== undefined && first !== undefined) fullName = `${first} ${last}`;
  } else {
    fullName = cells.text(company, 70, true, 'E_DEBTOR_INVALID');
    for (const index of [surname, firstName]) {
      if (cells.has(index)) cells.fail('E_DEBTOR_INVALID', index, 'must be empty for a legal person (195)');
    }
  }
  if (fullName !== undefined && [...fullName].length > 70) {
    cells.fail('E_DEBTOR_INVALID', surname, 'first name and surname together exceed 70 characters');
  }
  const country = cells.text(base + 10, 2)?.toUpperCase();
  if (country !== undefined && !/^[A-Z]{2}$/.test(country)) {
    cells.fail('E_SYNTAX', base + 10, 'must be an ISO 3166 alpha-2 code');
  }
  const email = cells.text(base + 11, 256);
  if (email !== undefined && !LEGACY_EMAIL.test(email)) {
    cells.fail('E_SYNTAX', base + 11, 'is not an e-mail address (PARSE_ERROR_EMAIL)');
  }
  return {
    type: kind,
    fiscalCode: fiscalCode ?? '',
    fullName: fullName ?? '',
    streetName: cells.text(base + 5, 70),
    civicNumber: cells.text(base + 6, 16),
    postalCode: cells.text(base + 7, 16),
    city: cells.text(base + 8, 35),
    stateProvinceRegion: cells.text(base + 9, 35),
    country,
    email,
  };
}

/**
 * The amounts of a row: total (when given), principal components 1–5, and the multi-beneficiary
 * block (idx base.. : principal total, secondary total, secondary component, its causale). Checks
 * secondary total = component, total = principal + secondary, Σ components = principal (E_AMOUNT).
 * The transfers are the components, then the secondary ente's; with only a secondary, the first
 * transfer is the principal amount (taxonomy and IBAN from the service).
 */
function amountsOf(
  cells: Cells,
  blocks: BlockIndexes,
  total: { index: number; cents: number | undefined },
  secondaryEnte: PiemontePayReadOptions['secondaryEnte'],
): ImportTransfer[] {
  const components = componentsOf(cells, blocks.components);
  const at = blocks.secondary;
  const principal = cells.cents(at);
  const secondaryTotal = cells.cents(at + 1);
  const secondary = cells.cents(at + 2);
  const secondaryRemittance = cells.text(at + 3, 80);
  if (cells.errors.length > 0) return [];
  if (secondary !== undefined && secondaryRemittance === undefined) {
    cells.fail('E_SYNTAX', at + 3, 'is required with the secondary component (PARSE_ERROR_MANDATORY)');
  }
  if (secondary === undefined && secondaryRemittance !== undefined) {
    cells.fail('E_SYNTAX', at + 2, 'is required with its causale (PARSE_ERROR_MANDATORY)');
  }
  if ((secondaryTotal ?? 0) !== (secondary ?? 0)) {
    cells.fail(
      'E_AMOUNT',
      at + 1,
      `${secondaryTotal ?? 0} ≠ Importo componente secondario ${secondary ?? 0} (189)`,
    );
  }
  const secondaryCents = secondary ?? 0;
  const principalCents = principal ?? (total.cents === undefined ? undefined : total.cents - secondaryCents);
  if (total.cents !== undefined && principal !== undefined && total.cents !== principal + secondaryCents) {
    cells.fail(
      'E_AMOUNT',
      total.index,
      `${total.cents} ≠ principale ${principal} + secondario ${secondaryCents} (189)`,
    );
  }
  const componentSum = components.reduce((sum, t) => sum + t.amountCents, 0);
  if (components.length > 0 && principalCents !== undefined && componentSum !== principalCents) {
    cells.fail(
      'E_AMOUNT',
      at,
      `the components add up to ${componentSum}, the principal amount is ${principalCents} (184)`,
    );
  }
  if (secondary === undefined || cells.errors.length > 0) return components;
  if (!secondaryEnte) {
    cells.fail(
      'E_AMOUNT',
      at + 2,
      'the service has no secondary ente configured: it is not multi-beneficiary (189)',
    );
    return [];
  }
  if (principalCents === undefined || principalCents <= 0) {
    cells.fail('E_AMOUNT', at, 'the principal amount must be greater than zero (189)');
    return [];
  }
  const principalTransfers = components.length > 0 ? components : [{ amountCents: principalCents }];
  const transfers: ImportTransfer[] = [
    ...principalTransfers,
    {
      amountCents: secondary,
      enteFiscalCode: secondaryEnte.fiscalCode,
      iban: secondaryEnte.iban,
      remittanceInformation: secondaryRemittance,
    },
  ];
  if (transfers.length > MAX_TRANSFERS) {
    cells.fail(
      'E_TOO_MANY_TRANSFERS',
      at + 2,
      `5 principal components and a secondary make ${transfers.length} transfers (183)`,
    );
  }
  return transfers;
}

// ---------------------------------------------------------------------------------------------
// Rows → items
// ---------------------------------------------------------------------------------------------

/** State across the rows of one file: counts, totals, the position ids already seen. */
class ListContext {
  rows = 0;
  private totalCents = 0n;
  private readonly seen = new Map<string, number>();
  private readonly names: readonly string[];
  private readonly offset: number;

  constructor(
    private readonly layout: PiemontePayLayout,
    private readonly header: ImportFileHeader,
    private readonly options: PiemontePayReadOptions,
  ) {
    this.names = LAYOUT_COLUMNS[layout];
    this.offset = layout === 'v2.8' ? 1 : 0;
  }

  itemOf(row: SourceRow): ImportItem {
    this.rows += 1;
    const cells = new Cells(row.cells, this.names, this.offset);
    const error = this.shapeError(row);
    if (error) return { error: { line: row.line, code: 'E_SYNTAX', message: error } };
    return this.layout === 'agpd-v2.8' ? this.agpdItem(row.line, cells) : this.listaItem(row, cells);
  }

  private shapeError(row: SourceRow): string | undefined {
    if (row.broken) return `${row.broken} (PARSE_ERROR_TYPE_OR_FORMAT)`;
    const width = this.names.length;
    if (filledWidth(row.cells) > width) {
      return `the row has ${row.cells.length} cells, at most ${width} are read (PARSE_ERROR_NUMERO_COLONNE)`;
    }
    return undefined;
  }

  checkControlTotals(): void {
    const { expectCount, expectTotalCents } = this.header;
    if (expectCount !== undefined && expectCount !== this.rows) {
      throw new FileFormatError(
        'F_COUNT',
        `the file holds ${this.rows} positions, ${expectCount} were expected (154)`,
      );
    }
    if (expectTotalCents !== undefined && BigInt(expectTotalCents) !== this.totalCents) {
      throw new FileFormatError(
        'F_TOTAL',
        `the positions add up to ${this.totalCents} cents, ${expectTotalCents} were expected (155)`,
      );
    }
  }

  private positionIdOf(line: number, cells: Cells): string | undefined {
    if (this.layout === 'v2.8') {
      const id = cells.text(-1, 50, true);
      if (id !== undefined && !PPAY_POSITION_ID.test(id)) {
        return cells.fail('E_SYNTAX', -1, 'must be printable ASCII without ";"');
      }
      return id;
    }
    const template = this.options.idTemplate ?? DEFAULT_ID_TEMPLATE;
    const id = template
      .replaceAll('{flowId}', this.header.flowId ?? '')
      .replaceAll('{line}', String(line))
      .replaceAll('{row}', String(this.rows));
    if (!PPAY_POSITION_ID.test(id)) {
      return cells.fail(
        'E_SYNTAX',
        undefined,
        `the generated position id "${id}" is not 1-50 printable ASCII without ";"`,
      );
    }
    return id;
  }

  private duplicateCheck(line: number, positionId: string, cells: Cells): void {
    const earlier = this.seen.get(positionId);
    if (earlier === undefined) {
      this.seen.set(detachedCopy(positionId), line);
      return;
    }
    cells.errors.unshift({
      code: 'E_DUP_IN_FILE',
      // v2.9 ids are generated: a repeat comes from an --id-from template without {line}/{row}.
      field: this.layout === 'v2.9' ? undefined : cells.name(this.layout === 'agpd-v2.8' ? A.id : -1),
      message: `position ${positionId} already appeared at line ${earlier} (PARSE_ERROR_DUPLICATE_POS_DEBITORIA)`,
    });
  }

  private rowError(
    line: number,
    cells: Cells,
    positionId: string | undefined,
    action: ImportAction | undefined,
  ): ImportItem {
    const [first, ...more] = cells.errors as [FieldError, ...FieldError[]];
    const error: ImportRowError = {
      line,
      positionId,
      action,
      installment: action === 'CANCEL' ? undefined : 0,
      code: first.code,
      field: first.field,
      message: [first, ...more].map((e) => e.message).join('; '),
    };
    return { error };
  }

  private listaItem(row: SourceRow, cells: Cells): ImportItem {
    const line = row.line;
    const positionId = this.positionIdOf(line, cells);
    if (positionId !== undefined) this.duplicateCheck(line, positionId, cells);
    const total = cells.cents(L.amount, true);
    if (total !== undefined) this.totalCents += BigInt(total);
    if (total === 0) cells.fail('E_AMOUNT', L.amount, 'must be greater than zero (163)');
    const description = cells.text(L.description, 100, true);
    const references = referencesOf(cells, LISTA_BLOCKS.references);
    const debtor = debtorOf(cells, LISTA_BLOCKS.debtor, 30);
    if (references.length > 0 && debtor && debtor.fiscalCode !== ANONYMOUS_DEBTOR) {
      cells.fail(
        'E_DEBTOR_INVALID',
        LISTA_BLOCKS.debtor + 1,
        'must be ANONIMO when riferimenti pagamento are given (PARSE_ERROR_ANONIMO_POS_DEBITORIA)',
      );
    }
    const option = {
      installment: 0,
      line,
      label: cells.text(L.label, 16),
      dueDate: cells.date(L.dueDate, 'E_DUE_DATE'),
      amountCents: total ?? 0,
      transfers: amountsOf(
        cells,
        LISTA_BLOCKS,
        { index: L.amount, cents: total },
        this.options.secondaryEnte,
      ),
    };
    const referenceYear = cells.year(L.year);
    const notes = cells.text(L.notes, 1000);
    if (cells.errors.length > 0 || positionId === undefined)
      return this.rowError(line, cells, positionId, 'INSERT');
    const record: PositionRecord = {
      action: 'INSERT',
      positionId,
      lines: [line],
      serviceCode: this.header.serviceCode,
      warnings: [],
      position: {
        description: description ?? '',
        referenceYear,
        notes,
        debtor,
        validityFrom: this.options.validityFrom,
        validityTo: this.options.validityTo,
        options: [option],
        metadata: references,
      },
    };
    return { record };
  }

  private agpdItem(line: number, cells: Cells): ImportItem {
    const kind = cells.raw(A.kind).toUpperCase();
    const positionId = cells.text(A.id, 50, true);
    if (positionId !== undefined && !PPAY_POSITION_ID.test(positionId)) {
      cells.fail('E_SYNTAX', A.id, 'must be printable ASCII without ";"');
    }
    if (positionId !== undefined) this.duplicateCheck(line, positionId, cells);
    const reason = cells.text(A.reason, 400, true);
    if (kind !== 'A' && kind !== 'M') {
      cells.fail('E_SYNTAX', A.kind, kind === '' ? 'is required (173)' : `"${kind}" is not A or M (174)`);
      return this.rowError(line, cells, positionId, undefined);
    }
    const base = {
      positionId: positionId ?? '',
      lines: [line],
      serviceCode: this.header.serviceCode,
      warnings: [],
    };
    const record: ImportRecord =
      kind === 'A'
        ? { ...base, action: 'CANCEL', reason }
        : { ...base, action: 'UPDATE', changeReason: reason, patch: this.patchOf(cells) };
    if (kind === 'A') cells.onlyThese([A.kind, A.id, A.reason], AGPD_V28_COLUMNS.length);
    if (cells.errors.length > 0 || positionId === undefined)
      return this.rowError(line, cells, positionId, record.action);
    return { record };
  }

  /**
   * An `M` row changes only the fields it gives (§2): the importer merges them onto the stored
   * position. The debtor block is read when any of its cells is filled (PiemontePay reads it only
   * when Indirizzo is, and silently drops a debtor given without an address).
   */
  private patchOf(cells: Cells): ImportPositionPatch {
    const amountCents = cells.cents(A.amount);
    if (amountCents === 0) cells.fail('E_AMOUNT', A.amount, 'must be greater than zero (163)');
    if (amountCents !== undefined) this.totalCents += BigInt(amountCents);
    const dueDate = cells.date(A.dueDate, 'E_DUE_DATE');
    const validityFrom = cells.date(A.validFrom, 'E_SYNTAX');
    const validityTo = cells.date(A.validTo, 'E_SYNTAX');
    if (validityFrom && validityTo && validityFrom > validityTo) {
      cells.fail('E_DUE_DATE', A.validTo, 'is before Data inizio validita (185)');
    }
    const transfers = amountsOf(
      cells,
      AGPD_BLOCKS,
      { index: A.amount, cents: amountCents },
      this.options.secondaryEnte,
    );
    const metadata = referencesOf(cells, AGPD_BLOCKS.references);
    const description = cells.text(A.description, 100);
    const debtorGiven = Array.from({ length: DEBTOR_NAMES.length }, (_, i) => AGPD_BLOCKS.debtor + i).some(
      (i) => cells.has(i),
    );
    const debtor = debtorGiven ? debtorOf(cells, AGPD_BLOCKS.debtor, 35) : undefined;
    const optionChanged = dueDate !== undefined || amountCents !== undefined || transfers.length > 0;
    const option = optionChanged
      ? { dueDate, amountCents, transfers: transfers.length > 0 ? transfers : undefined }
      : undefined;
    const patch: ImportPositionPatch = {
      description,
      debtor,
      validityFrom,
      validityTo,
      metadata: metadata.length > 0 ? metadata : undefined,
      option,
    };
    if (Object.values(patch).every((v) => v === undefined) && cells.errors.length === 0) {
      cells.fail(
        'E_SYNTAX',
        undefined,
        'an M row must change at least one field (PARSE_ERROR_AT_LEAST_ONE_FIELD_REQUESTED)',
      );
    }
    return patch;
  }
}

// ---------------------------------------------------------------------------------------------
// Outcome in PiemontePay's terms (§7 "--esito piemontepay")
// ---------------------------------------------------------------------------------------------

export const PIEMONTEPAY_ESITO_COLUMNS = [
  'IdPosizioneDebitoria',
  'IUV',
  'CodiceAvviso',
  'CodiceEsito',
  'DescrizioneEsito',
] as const;

/** DescrizioneEsito is ≤200 characters (§3.2). */
const DESCRIZIONE_MAX = 200;

/**
 * The missing-field codes 162–172 (§3.3) by the field an E_SYNTAX / E_DEBTOR_INVALID is about:
 * PiemontePay header names and ppay CSV columns alike.
 */
const FIELD_ESITO: ReadonlyArray<[RegExp, string]> = [
  [/^(Posizione debitoria esterna|position_id)$/, '162'],
  [/^(Importo totale da pagare|amount_cents)$/, '156'],
  [/^(Descrizione causale versamento|description)$/, '164'],
  [/^(Tipo soggetto debitore|debtor_type)$/, '166'],
  [/^(Codice fiscale o Partita Iva del soggetto debitore|debtor_fiscal_code)$/, '167'],
  [/^(Nome soggetto debitore|debtor_first_name)$/, '168'],
  [/^Cognome soggetto debitore$/, '169'],
  [/^(Ragione sociale soggetto debitore|debtor_name)$/, '170'],
  [/^(Motivazione|change_reason)$/, '172'],
  [/^(Tipo aggiornamento|action)$/, '173'],
  // The importer's field for a debtor set on a position whose debtor is not ANONIMO (records.ts).
  [/^original_debtor$/, '218'],
];

/** An outcome line, optionally with the field its error is about (ImportRowError.field). */
export type PiemontePayOutcomeInput = OutcomeLine & { field?: string | undefined };

/** CodiceEsito (`[012]\d\d`) for a line: the crosswalk's code, refined by field where it says more. */
export function piemontePayEsitoCode(line: PiemontePayOutcomeInput): string {
  if (line.outcome !== 'KO') return '000';
  const code = line.errorCode ?? 'E_INTERNAL';
  if ((code === 'E_SYNTAX' || code === 'E_DEBTOR_INVALID') && line.field) {
    const byField = FIELD_ESITO.find(([pattern]) => pattern.test(line.field as string));
    if (byField) return line.action === 'UPDATE' && byField[1] === '162' ? '180' : byField[1];
  }
  const entry = OUTCOME_CROSSWALK[code];
  // File-level codes name a ParseErrorEnum, not a CodiceEsito: 200 (load error) carries them.
  return entry.piemontepayEquivalents.find((c) => /^[012]\d\d$/.test(c)) ?? '200';
}

/** DescrizioneEsito: the message, prefixed by the PiemontePay name of a file-level error. */
export function piemontePayEsitoDescription(line: OutcomeLine): string {
  if (line.outcome !== 'KO') return line.outcome === 'WARN' ? (line.errorMessage ?? 'OK') : 'OK';
  const entry = line.errorCode ? OUTCOME_CROSSWALK[line.errorCode] : undefined;
  const name = entry?.piemontepayEquivalents.find((c) => c.startsWith('PARSE_ERROR_') && !c.endsWith('*'));
  const text = [line.errorCode?.startsWith('F_') ? name : undefined, line.errorMessage]
    .filter(Boolean)
    .join(': ');
  return text.length > DESCRIZIONE_MAX ? `${text.slice(0, DESCRIZIONE_MAX - 1)}…` : text;
}

/** Result{Codice} of the whole list (§3.2): 000 all inserted, 050 some, 051 none. */
export function piemontePayResultCode(ok: number, ko: number): '000' | '050' | '051' {
  if (ko === 0) return '000';
  return ok === 0 ? '051' : '050';
}

export interface PiemontePayOutcomeSummary {
  ok: number;
  ko: number;
  resultCode: '000' | '050' | '051';
}

/** `<input base>_ESITO.csv`, next to ppay's own `<input base>.esito.csv`. */
export function piemontePayOutcomeFileName(inputFileName: string): string {
  const base = path.basename(inputFileName, path.extname(inputFileName));
  return `${base}_ESITO.csv`;
}

/**
 * Writes the compatibility outcome: a header, then `IdPosizioneDebitoria;IUV;CodiceAvviso;
 * CodiceEsito;DescrizioneEsito` per outcome line, `;` and ISO-8859-1 like PiemontePay's exports.
 * CodiceAvviso is the notice number (auxDigit + application code + IUV). Streams the lines.
 */
export async function writePiemontePayOutcome(
  lines: AsyncIterable<PiemontePayOutcomeInput> | Iterable<PiemontePayOutcomeInput>,
  target: string,
): Promise<PiemontePayOutcomeSummary> {
  const file = await open(target, 'w');
  const summary = { ok: 0, ko: 0 };
  try {
    await file.write(latin1Bytes(`${csvLine(PIEMONTEPAY_ESITO_COLUMNS)}\r\n`));
    for await (const line of lines) {
      if (line.outcome === 'KO') summary.ko += 1;
      else summary.ok += 1;
      const values = [
        line.positionId,
        line.iuv,
        line.noticeNumber,
        piemontePayEsitoCode(line),
        piemontePayEsitoDescription(line),
      ];
      await file.write(latin1Bytes(`${csvLine(values.map(neutraliseValue))}\r\n`));
    }
  } finally {
    await file.close();
  }
  return { ...summary, resultCode: piemontePayResultCode(summary.ok, summary.ko) };
}

/** The layout of a PiemontePay CSV or workbook, from its header row's cell count. */
export async function sniffPiemontePayLayout(
  filePath: string,
  encoding?: LineEncoding,
): Promise<PiemontePayLayout | null> {
  for await (const row of sourceRows(filePath, { encoding })) {
    return row.broken ? null : piemontePayLayoutOfHeader(row.cells);
  }
  return null;
}

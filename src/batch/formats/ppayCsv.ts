// Reader of "ppay CSV v1" (flat-file-formats.md §6, README "ppay CSV v1"): one row = one payment
// option, contiguous rows with the same position_id = one position, read as a stream into
// ImportRecords. Memory holds one line, the rows of the current position (≤ MAX_OPTIONS) and the
// set of position ids seen so far (to catch a position given twice).
//
// Decisions: the file must be UTF-8, and a line that is not rejects the whole file (F_ENCODING),
// because a file in another encoding is wrong on every accented row, not on a few. Control totals
// (expectCount = positions, expectTotalCents = Σ amount_cents of I/M rows) are checked at the end,
// so F_COUNT / F_TOTAL arrive after every record: see ImportFile for what the importer must do.

import { parseEnteFiscalCode, parseFiscalCode } from '../../domain/fiscalCode.ts';
import { parseIban } from '../../domain/iban.ts';
import { parseAmountCents } from '../../domain/money.ts';
import {
  ANONYMOUS_DEBTOR,
  MAX_AMOUNT_CENTS,
  MAX_OPTIONS,
  MAX_TRANSFERS,
  parseIsoDate,
} from '../../domain/position.ts';
import { isRfReference } from '../../domain/rfReference.ts';
import { CsvLineError, readLines, splitCsvLine } from './csvLines.ts';
import {
  actionOfLetter,
  FileFormatError,
  type ImportAction,
  type ImportDebtor,
  type ImportFile,
  type ImportFileHeader,
  type ImportItem,
  type ImportOption,
  type ImportPosition,
  type ImportRecord,
  type ImportRowError,
  type ImportTransfer,
  type ImportWarning,
  type MetadataPair,
  type RowErrorCode,
} from './types.ts';
import { detachedCopy } from './cells.ts';

export const PPAY_CSV_FORMAT = 'ppay-csv-1';
export const PPAY_CSV_DELIMITER = ';';

/** Columns repeated identically on every row of a position (level P of §6). */
export const POSITION_COLUMNS = [
  'action',
  'position_id',
  'service_code',
  'reference_year',
  'description',
  'notes',
  'debtor_type',
  'debtor_fiscal_code',
  'debtor_name',
  'debtor_first_name',
  'debtor_address',
  'debtor_civic',
  'debtor_postal_code',
  'debtor_city',
  'debtor_province',
  'debtor_country',
  'debtor_email',
  'validity_from',
  'validity_to',
  'change_reason',
] as const;

export const OPTION_COLUMNS = [
  'installment_no',
  'installment_label',
  'iuv',
  'due_date',
  'amount_cents',
] as const;

export const TRANSFER_FIELDS = [
  'amount_cents',
  'org_fiscal_code',
  'iban',
  'remittance',
  'taxonomy',
  'acc_year',
  'acc_number',
] as const;

type TransferField = (typeof TRANSFER_FIELDS)[number];

export function transferColumn(n: number, field: TransferField): string {
  return `tr${n}_${field}`;
}

/** Column names of tr1..tr5, built once: rows are read in a hot loop. */
const TRANSFER_COLUMNS: ReadonlyArray<Readonly<Record<TransferField, string>>> = Array.from(
  { length: MAX_TRANSFERS },
  (_, k) =>
    Object.fromEntries(TRANSFER_FIELDS.map((f) => [f, transferColumn(k + 1, f)])) as Record<
      TransferField,
      string
    >,
);

const TRANSFER_COLUMN_LISTS = TRANSFER_COLUMNS.map((c) => Object.values(c));

/** The 61 columns of ppay CSV v1 in their documented order (any order is accepted). */
export const PPAY_CSV_COLUMNS: readonly string[] = [
  ...POSITION_COLUMNS,
  ...OPTION_COLUMNS,
  ...Array.from({ length: MAX_TRANSFERS }, (_, k) =>
    TRANSFER_FIELDS.map((f) => transferColumn(k + 1, f)),
  ).flat(),
  'metadata',
];

/** Columns a header must have; every other one may be missing (then read as empty). */
const REQUIRED_HEADER_COLUMNS = ['action', 'position_id'];
/** Position-level columns a CANCEL row reads; the others are ignored on it. */
const CANCEL_COLUMNS = ['action', 'position_id', 'change_reason'];
const CONSISTENT_COLUMNS = [...POSITION_COLUMNS, 'metadata'];
const KNOWN_COLUMNS = new Set(PPAY_CSV_COLUMNS);

/** pagoPA texts are stText140: longer descriptions are cut with a warning. */
const PAGOPA_TEXT_MAX = 140;
const POSITION_ID = /^[\x21-\x3a\x3c-\x7e]{1,50}$/;
const YEAR = /^\d{4}$/;
const CENTS = /^\d+$/;
const INSTALLMENT = /^\d{1,3}$/;
const COUNTRY = /^[A-Z]{2}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/;
const TAXONOMY = /^[0129]\/\S{3,138}$/;
const IUV_DIGITS = /^(\d{15}|\d{17})$/;
const METADATA_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
/** The gestionale API's metadata bounds (pt:ctMetadata), so a position reads back the same way. */
const METADATA_MAX_ENTRIES = 15;
const METADATA_VALUE_MAX = 140;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface PpayCsvOptions {
  /** Control totals given by the operator (--expect-count / --expect-total-cents). */
  expectCount?: number | undefined;
  expectTotalCents?: number | undefined;
  /** Facts known from elsewhere (the file name, the drop folder), passed through to the header. */
  header?: Omit<ImportFileHeader, 'format'> | undefined;
  maxLineBytes?: number | undefined;
}

/**
 * Opens a ppay CSV v1 byte stream (e.g. fs.createReadStream). Iterating `items` reads the file
 * once, yielding records and row errors in file order; it throws FileFormatError for F_HEADER,
 * F_EMPTY, F_ENCODING, F_FORMAT and, at the end, F_COUNT / F_TOTAL.
 */
export function readPpayCsv(
  input: AsyncIterable<Uint8Array | string>,
  options: PpayCsvOptions = {},
): ImportFile {
  const header: ImportFileHeader = {
    ...options.header,
    format: PPAY_CSV_FORMAT,
    expectCount: options.expectCount ?? options.header?.expectCount,
    expectTotalCents: options.expectTotalCents ?? options.header?.expectTotalCents,
  };
  return { header, items: itemsOf(input, header, options.maxLineBytes) };
}

async function* itemsOf(
  input: AsyncIterable<Uint8Array | string>,
  header: ImportFileHeader,
  maxLineBytes: number | undefined,
): AsyncGenerator<ImportItem> {
  let columns: Columns | null = null;
  const grouper = new PositionGrouper();
  for await (const { line, text } of readLines(input, { encoding: 'utf-8', maxLineBytes })) {
    if (text.trim() === '') continue;
    if (columns === null) {
      columns = columnsOf(text, line);
      continue;
    }
    yield* grouper.push(readRow(columns, line, text));
  }
  if (columns === null) throw new FileFormatError('F_EMPTY', 'the file is empty: a header row is mandatory');
  yield* grouper.end();
  if (grouper.rowCount === 0) throw new FileFormatError('F_EMPTY', 'the file has a header and no data rows');
  checkControlTotals(header, grouper.positionCount, grouper.totalCents);
}

function checkControlTotals(header: ImportFileHeader, positions: number, totalCents: bigint): void {
  if (header.expectCount !== undefined && header.expectCount !== positions) {
    throw new FileFormatError(
      'F_COUNT',
      `the file holds ${positions} positions, ${header.expectCount} were expected`,
    );
  }
  if (header.expectTotalCents !== undefined && BigInt(header.expectTotalCents) !== totalCents) {
    throw new FileFormatError(
      'F_TOTAL',
      `the I and M rows add up to ${totalCents} cents, ${header.expectTotalCents} were expected`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------------------------

/** Column name → field index in a row. */
type Columns = ReadonlyMap<string, number> & { readonly width: number };

function columnsOf(text: string, line: number): Columns {
  let names: string[];
  try {
    names = splitCsvLine(text, PPAY_CSV_DELIMITER).map((n) => n.trim().toLowerCase());
  } catch (err) {
    if (err instanceof CsvLineError) throw new FileFormatError('F_HEADER', `header: ${err.message}`, line);
    throw err;
  }
  const columns = new Map<string, number>();
  names.forEach((name, index) => {
    if (name.startsWith('x_')) return;
    if (!KNOWN_COLUMNS.has(name)) {
      throw new FileFormatError(
        'F_HEADER',
        `unknown column "${name}" (extra columns must start with x_)`,
        line,
      );
    }
    if (columns.has(name)) throw new FileFormatError('F_HEADER', `column "${name}" appears twice`, line);
    columns.set(name, index);
  });
  for (const name of REQUIRED_HEADER_COLUMNS) {
    if (!columns.has(name)) throw new FileFormatError('F_HEADER', `the header has no "${name}" column`, line);
  }
  return Object.assign(columns, { width: names.length });
}

// ---------------------------------------------------------------------------------------------
// One row
// ---------------------------------------------------------------------------------------------

interface FieldError {
  code: RowErrorCode;
  field?: string | undefined;
  message: string;
}

interface Row {
  line: number;
  positionId: string;
  action?: ImportAction | undefined;
  installment?: number | undefined;
  /** Raw values of the columns that must repeat identically (CONSISTENT_COLUMNS, or CANCEL's). */
  consistent: string[];
  errors: FieldError[];
  warnings: ImportWarning[];
  serviceCode?: string | undefined;
  /** Position-level values (options still empty), the same on every row of its position. */
  position?: ImportPosition | undefined;
  option?: ImportOption | undefined;
  /** The row's amount_cents when it reads, for the control total (I and M rows only). */
  amountCents?: number | undefined;
}

/** Reads the fields of one row, collecting every problem instead of stopping at the first. */
class FieldReader {
  readonly errors: FieldError[] = [];

  constructor(
    private readonly columns: Columns,
    private readonly fields: readonly string[],
  ) {}

  raw(name: string): string {
    const index = this.columns.get(name);
    return index === undefined ? '' : (this.fields[index] as string);
  }

  /** The raw values of several columns (loops, not callbacks: this runs for every row). */
  raws(names: readonly string[]): string[] {
    const values: string[] = [];
    for (const name of names) values.push(this.raw(name));
    return values;
  }

  allEmpty(names: readonly string[]): boolean {
    for (const name of names) if (this.raw(name) !== '') return false;
    return true;
  }

  fail(code: RowErrorCode, field: string | undefined, message: string): undefined {
    this.errors.push({ code, field, message });
    return undefined;
  }

  text(name: string, max: number, required = false, code: RowErrorCode = 'E_SYNTAX'): string | undefined {
    const value = this.raw(name);
    if (value === '') return required ? this.fail(code, name, `${name} is required`) : undefined;
    if (CONTROL.test(value)) return this.fail(code, name, `${name} contains control characters`);
    if (value.length > max && [...value].length > max) {
      return this.fail(code, name, `${name} is longer than ${max} characters`);
    }
    return value;
  }

  date(name: string, code: RowErrorCode = 'E_SYNTAX'): string | undefined {
    const value = this.raw(name);
    if (value === '') return undefined;
    try {
      return parseIsoDate(value, name);
    } catch {
      return this.fail(code, name, `${name} must be a calendar date YYYY-MM-DD, not "${value}"`);
    }
  }

  year(name: string): number | undefined {
    const value = this.raw(name);
    if (value === '') return undefined;
    return YEAR.test(value) ? Number(value) : this.fail('E_SYNTAX', name, `${name} must be a year YYYY`);
  }

  cents(name: string, required: boolean): number | undefined {
    const value = this.raw(name);
    if (value === '') return required ? this.fail('E_SYNTAX', name, `${name} is required`) : undefined;
    if (!CENTS.test(value)) {
      return this.fail('E_AMOUNT', name, `${name} must be whole euro cents (digits only), not "${value}"`);
    }
    const cents = value.length > 15 ? Number.POSITIVE_INFINITY : parseAmountCents(value);
    if (cents < 1 || cents > MAX_AMOUNT_CENTS) {
      return this.fail('E_AMOUNT', name, `${name} must be 1 to ${MAX_AMOUNT_CENTS} cents`);
    }
    return cents;
  }
}

function readRow(columns: Columns, line: number, text: string): Row {
  let fields: string[];
  try {
    fields = splitCsvLine(text, PPAY_CSV_DELIMITER);
    for (let i = 0; i < fields.length; i++) fields[i] = (fields[i] as string).trim();
  } catch (err) {
    if (!(err instanceof CsvLineError)) throw err;
    return brokenRow(columns, line, text, err.message);
  }
  const reader = new FieldReader(columns, fields);
  const positionId = reader.raw('position_id');
  const letter = reader.raw('action');
  const action = actionOfLetter(letter);
  const row: Row = { line, positionId, action, consistent: [], errors: reader.errors, warnings: [] };
  if (fields.length !== columns.width) {
    reader.fail(
      'E_SYNTAX',
      undefined,
      `the row has ${fields.length} fields, the header has ${columns.width}`,
    );
    return row;
  }
  if (!POSITION_ID.test(positionId)) {
    reader.fail(
      'E_SYNTAX',
      'position_id',
      'position_id is required: 1-50 printable ASCII characters, no ";"',
    );
  }
  if (action === undefined) {
    reader.fail('E_SYNTAX', 'action', `action must be I, M or A, not "${letter}"`);
    return row;
  }
  if (action === 'CANCEL') {
    row.consistent = reader.raws(CANCEL_COLUMNS);
    row.position = {
      description: '',
      metadata: [],
      options: [],
      changeReason: reader.text('change_reason', 400),
    };
    return row;
  }
  row.consistent = reader.raws(CONSISTENT_COLUMNS);
  row.serviceCode = reader.text('service_code', 64, true);
  row.position = positionFieldsOf(reader, row);
  row.option = optionOf(reader, line);
  row.installment = row.option?.installment;
  row.amountCents = row.option?.amountCents;
  return row;
}

/**
 * A line whose quotes cannot be read. Its position id is guessed by a plain split, so that the
 * line still sinks the position it belongs to instead of leaving it with an option missing.
 */
function brokenRow(columns: Columns, line: number, text: string, problem: string): Row {
  const guess = text.split(PPAY_CSV_DELIMITER)[columns.get('position_id') ?? -1] ?? '';
  const positionId = guess.trim().replace(/^"(.*)"$/, '$1');
  return {
    line,
    positionId: POSITION_ID.test(positionId) ? positionId : '',
    consistent: [],
    errors: [
      { code: 'E_SYNTAX', message: `${problem} (${text.length > 40 ? `${text.slice(0, 40)}…` : text})` },
    ],
    warnings: [],
  };
}

function positionFieldsOf(reader: FieldReader, row: Row): ImportPosition {
  const description = reader.text('description', 1024, true) ?? '';
  if ([...description].length > PAGOPA_TEXT_MAX) {
    row.warnings.push({
      line: row.line,
      code: 'W_TRUNCATED',
      field: 'description',
      message: `description cut to ${PAGOPA_TEXT_MAX} characters for pagoPA`,
    });
  }
  const validityFrom = reader.date('validity_from');
  const validityTo = reader.date('validity_to');
  if (validityFrom && validityTo && validityFrom > validityTo) {
    reader.fail('E_DUE_DATE', 'validity_to', 'validity_to is before validity_from');
  }
  return {
    description,
    referenceYear: reader.year('reference_year'),
    notes: reader.text('notes', 1000),
    debtor: debtorOf(reader),
    validityFrom,
    validityTo,
    changeReason: reader.text('change_reason', 400),
    metadata: metadataOf(reader),
    options: [],
  };
}

function debtorOf(reader: FieldReader): ImportDebtor | undefined {
  const type = reader.raw('debtor_type');
  if (type !== 'F' && type !== 'G') {
    return reader.fail('E_DEBTOR_INVALID', 'debtor_type', 'debtor_type must be F or G');
  }
  const fiscalCode = reader.text('debtor_fiscal_code', 35, true, 'E_DEBTOR_INVALID')?.toUpperCase();
  if (fiscalCode !== undefined && fiscalCode !== ANONYMOUS_DEBTOR) {
    try {
      parseFiscalCode(fiscalCode);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      reader.fail('E_DEBTOR_INVALID', 'debtor_fiscal_code', `debtor_fiscal_code: ${reason}`);
    }
  }
  const name = reader.text('debtor_name', 70, true, 'E_DEBTOR_INVALID');
  const firstName = reader.text('debtor_first_name', 70, false, 'E_DEBTOR_INVALID');
  if (type === 'G' && firstName !== undefined) {
    reader.fail('E_DEBTOR_INVALID', 'debtor_first_name', 'debtor_first_name is for natural persons (F) only');
  }
  const fullName = firstName ? `${firstName} ${name ?? ''}` : (name ?? '');
  if ([...fullName].length > 70) {
    reader.fail('E_DEBTOR_INVALID', 'debtor_name', 'first name and name together exceed 70 characters');
  }
  const country = reader.text('debtor_country', 2)?.toUpperCase();
  if (country !== undefined && !COUNTRY.test(country)) {
    reader.fail('E_SYNTAX', 'debtor_country', 'debtor_country must be an ISO 3166 alpha-2 code');
  }
  const email = reader.text('debtor_email', 256);
  if (email !== undefined && !EMAIL.test(email)) {
    reader.fail('E_SYNTAX', 'debtor_email', 'debtor_email is not an e-mail address');
  }
  return {
    type,
    fiscalCode: fiscalCode ?? '',
    fullName,
    streetName: reader.text('debtor_address', 70),
    civicNumber: reader.text('debtor_civic', 16),
    postalCode: reader.text('debtor_postal_code', 16),
    city: reader.text('debtor_city', 35),
    stateProvinceRegion: reader.text('debtor_province', 35),
    country,
    email,
  };
}

function optionOf(reader: FieldReader, line: number): ImportOption | undefined {
  const installmentText = reader.raw('installment_no');
  let installment = 0;
  if (installmentText !== '') {
    if (!INSTALLMENT.test(installmentText) || Number(installmentText) > MAX_OPTIONS) {
      reader.fail('E_SYNTAX', 'installment_no', `installment_no must be 0 to ${MAX_OPTIONS}`);
    } else installment = Number(installmentText);
  }
  const iuv = reader.text('iuv', 35);
  if (iuv !== undefined && !IUV_DIGITS.test(iuv) && !isRfReference(iuv)) {
    reader.fail('E_IUV_INVALID', 'iuv', 'iuv must be 15 or 17 digits, or an RF creditor reference');
  }
  const amountCents = reader.cents('amount_cents', true);
  const transfers = transfersOf(reader);
  if (amountCents !== undefined && transfers && transfers.length > 0) {
    const sum = transfers.reduce((s, t) => s + t.amountCents, 0);
    if (sum !== amountCents) {
      reader.fail(
        'E_AMOUNT',
        'amount_cents',
        `the transfers add up to ${sum} cents, amount_cents is ${amountCents}`,
      );
    }
  }
  return {
    installment,
    line,
    label: reader.text('installment_label', 35),
    iuv,
    dueDate: reader.date('due_date', 'E_DUE_DATE'),
    amountCents: amountCents ?? 0,
    transfers: transfers ?? [],
  };
}

/** tr1..tr5, filled from tr1 without gaps; undefined when one of them is wrong. */
function transfersOf(reader: FieldReader): ImportTransfer[] | undefined {
  const transfers: ImportTransfer[] = [];
  let gapAt = 0;
  let ok = true;
  for (let n = 1; n <= MAX_TRANSFERS; n++) {
    const col = TRANSFER_COLUMNS[n - 1] as Record<TransferField, string>;
    if (reader.allEmpty(TRANSFER_COLUMN_LISTS[n - 1] as string[])) {
      gapAt ||= n;
      continue;
    }
    if (gapAt) {
      reader.fail('E_SYNTAX', col.amount_cents, `tr${n} is given but tr${gapAt} is empty`);
      ok = false;
    }
    const errorsBefore = reader.errors.length;
    const transfer = transferOf(reader, n);
    if (reader.errors.length > errorsBefore) ok = false;
    transfers.push(transfer);
  }
  return ok ? transfers : undefined;
}

function transferOf(reader: FieldReader, n: number): ImportTransfer {
  const col = TRANSFER_COLUMNS[n - 1] as Record<TransferField, string>;
  const enteFiscalCode = reader.text(col.org_fiscal_code, 11);
  if (enteFiscalCode !== undefined) {
    try {
      parseEnteFiscalCode(enteFiscalCode);
    } catch (err) {
      reader.fail('E_SYNTAX', col.org_fiscal_code, `${col.org_fiscal_code}: ${(err as Error).message}`);
    }
  }
  const iban = reader.text(col.iban, 35);
  if (iban !== undefined) {
    try {
      parseIban(iban);
    } catch (err) {
      reader.fail('E_SYNTAX', col.iban, `${col.iban}: ${(err as Error).message}`);
    }
  }
  const category = reader.text(col.taxonomy, 140, false, 'E_TAXONOMY');
  if (category !== undefined && !TAXONOMY.test(category)) {
    reader.fail(
      'E_TAXONOMY',
      col.taxonomy,
      `${col.taxonomy} must be like 9/0101108TS/ (datiSpecificiRiscossione)`,
    );
  }
  return {
    amountCents: reader.cents(col.amount_cents, true) ?? 0,
    enteFiscalCode,
    iban,
    remittanceInformation: reader.text(col.remittance, 140),
    category,
    accountingYear: reader.year(col.acc_year),
    accountingNumber: reader.text(col.acc_number, 35),
  };
}

/** `key=value|key=value`, with `%`, `|`, `=`, `;` and newline percent-encoded inside keys and values. */
function metadataOf(reader: FieldReader): MetadataPair[] {
  const text = reader.text('metadata', 4096);
  if (text === undefined) return [];
  const pairs: MetadataPair[] = [];
  for (const part of text.split('|')) {
    const [rawKey = '', rawValue, ...extra] = part.split('=');
    const key = percentDecoded(rawKey);
    const value = rawValue === undefined ? undefined : percentDecoded(rawValue);
    if (extra.length > 0 || key === undefined || value === undefined) {
      reader.fail(
        'E_SYNTAX',
        'metadata',
        `metadata entry "${part}" is not key=value (percent-encode = | ; % and newline)`,
      );
      return [];
    }
    if (!METADATA_KEY.test(key)) {
      reader.fail('E_SYNTAX', 'metadata', `metadata key "${key}" must be 1-64 letters, digits or . _ -`);
      return [];
    }
    if (pairs.some((p) => p.key === key)) {
      reader.fail('E_SYNTAX', 'metadata', `metadata key "${key}" appears twice`);
      return [];
    }
    if ([...value].length > METADATA_VALUE_MAX) {
      reader.fail(
        'E_SYNTAX',
        'metadata',
        `metadata value of "${key}" is longer than ${METADATA_VALUE_MAX} characters`,
      );
      return [];
    }
    pairs.push({ key, value });
  }
  if (pairs.length > METADATA_MAX_ENTRIES) {
    reader.fail('E_SYNTAX', 'metadata', `metadata has more than ${METADATA_MAX_ENTRIES} entries`);
    return [];
  }
  return pairs;
}

function percentDecoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Rows → positions
// ---------------------------------------------------------------------------------------------

/** Error for a row whose own fields are fine but whose position is rejected because of another row. */
function siblingError(row: Row, first: { line: number; error: FieldError }): FieldError {
  return {
    code: first.error.code,
    field: undefined,
    message: `position rejected because of line ${first.line}: ${first.error.message}`,
  };
}

function rowErrorOf(row: Row, error: FieldError, more: readonly FieldError[] = []): ImportRowError {
  const message = [error, ...more].map((e) => e.message).join('; ');
  return {
    line: row.line,
    positionId: row.positionId || undefined,
    action: row.action,
    installment: row.installment,
    code: error.code,
    field: error.field,
    message: message.length > 1024 ? `${message.slice(0, 1023)}…` : message,
  };
}

/**
 * Groups contiguous rows by position_id and turns each group into one record, or into one error
 * per row when any row of it is wrong. Holds at most MAX_OPTIONS rows: a longer group is failed
 * and its remaining rows are answered as they come.
 */
class PositionGrouper {
  rowCount = 0;
  positionCount = 0;
  totalCents = 0n;
  private rows: Row[] = [];
  /** Position ids already seen, with the first line of their position. */
  private readonly seen = new Map<string, number>();
  /** The id of a group failed for being too long, and the error its further rows get. */
  private overflow: { positionId: string; error: FieldError; line: number } | null = null;

  *push(row: Row): Generator<ImportItem> {
    this.rowCount += 1;
    if (row.action !== 'CANCEL' && row.amountCents !== undefined) this.totalCents += BigInt(row.amountCents);
    if (this.overflow && row.positionId === this.overflow.positionId) {
      yield { error: rowErrorOf(row, siblingError(row, this.overflow)) };
      return;
    }
    this.overflow = null;
    const current = this.rows[0];
    if (current && !(row.positionId !== '' && row.positionId === current.positionId)) yield* this.flush();
    this.rows.push(row);
    if (this.rows.length > MAX_OPTIONS) yield* this.flushOverflow();
  }

  *end(): Generator<ImportItem> {
    yield* this.flush();
  }

  private *flushOverflow(): Generator<ImportItem> {
    const last = this.rows[this.rows.length - 1] as Row;
    const error: FieldError = {
      code: 'E_SYNTAX',
      field: 'installment_no',
      message: `a position has at most ${MAX_OPTIONS} rows (payment options)`,
    };
    last.errors.push(error);
    this.overflow = { positionId: last.positionId, error, line: last.line };
    yield* this.flush();
  }

  private *flush(): Generator<ImportItem> {
    const rows = this.rows;
    this.rows = [];
    const first = rows[0];
    if (!first) return;
    this.positionCount += 1;
    this.checkDuplicate(rows);
    if (rows.every((r) => r.errors.length === 0)) checkGroup(rows);
    const failed = rows.find((r) => r.errors.length > 0);
    if (!failed) {
      yield { record: recordOf(rows) };
      return;
    }
    const cause = { line: failed.line, error: failed.errors[0] as FieldError };
    for (const row of rows) {
      const [own, ...more] = row.errors;
      yield { error: own ? rowErrorOf(row, own, more) : rowErrorOf(row, siblingError(row, cause)) };
    }
  }

  private checkDuplicate(rows: Row[]): void {
    const positionId = (rows[0] as Row).positionId;
    if (positionId === '') return;
    const earlier = this.seen.get(positionId);
    if (earlier === undefined) {
      this.seen.set(detachedCopy(positionId), (rows[0] as Row).line);
      return;
    }
    const message = `position ${positionId} already appeared at line ${earlier}: a position's rows must be contiguous and appear once`;
    for (const row of rows) row.errors.unshift({ code: 'E_DUP_IN_FILE', field: 'position_id', message });
  }
}

/** Rules across the rows of one position; each problem is put on the row that shows it. */
function checkGroup(rows: Row[]): void {
  const first = rows[0] as Row;
  for (const row of rows.slice(1)) {
    if (row.action !== first.action) {
      row.errors.push({
        code: 'E_SYNTAX',
        field: 'action',
        message: `action differs from line ${first.line}`,
      });
      continue;
    }
    const columns = row.action === 'CANCEL' ? CANCEL_COLUMNS : CONSISTENT_COLUMNS;
    const differs = columns.findIndex((_, i) => row.consistent[i] !== first.consistent[i]);
    if (differs >= 0) {
      const column = columns[differs];
      row.errors.push({
        code: 'E_SYNTAX',
        field: column,
        message: `${column} differs from line ${first.line}: position-level columns repeat identically on every row`,
      });
    }
  }
  if (first.action !== 'CANCEL') checkOptions(rows);
}

function checkOptions(rows: Row[]): void {
  const byInstallment = new Map<number, Row>();
  let repeated = false;
  for (const row of rows) {
    const n = row.installment ?? 0;
    const earlier = byInstallment.get(n);
    if (earlier) {
      repeated = true;
      row.errors.push({
        code: 'E_DUP_IN_FILE',
        field: 'installment_no',
        message: `installment_no ${n} of position ${row.positionId} is also at line ${earlier.line}`,
      });
    } else byInstallment.set(n, row);
  }
  if (repeated) return;
  const plan = [...byInstallment.entries()].filter(([n]) => n > 0).sort(([a], [b]) => a - b);
  if (plan.length === 0) return;
  const planRow = (plan[0] as [number, Row])[1];
  if (plan.length === 1 || plan.some(([n], k) => n !== k + 1)) {
    planRow.errors.push({
      code: 'E_SYNTAX',
      field: 'installment_no',
      message: 'installments are numbered 1..N without gaps, with at least two',
    });
    return;
  }
  for (let k = 1; k < plan.length; k++) {
    const previous = (plan[k - 1] as [number, Row])[1].option?.dueDate;
    const row = (plan[k] as [number, Row])[1];
    const due = row.option?.dueDate;
    if (previous && due && due <= previous) {
      row.errors.push({
        code: 'E_DUE_DATE',
        field: 'due_date',
        message: `installment ${row.installment} is due on ${due}, not after installment ${k} (${previous})`,
      });
    }
  }
}

function recordOf(rows: Row[]): ImportRecord {
  const first = rows[0] as Row;
  const lines: number[] = [];
  const warnings: ImportWarning[] = [];
  const options: ImportOption[] = [];
  for (const row of rows) {
    lines.push(row.line);
    warnings.push(...row.warnings);
    if (row.option) options.push(row.option);
  }
  if (first.action === 'CANCEL') {
    return {
      action: 'CANCEL',
      positionId: first.positionId,
      lines,
      warnings,
      reason: first.position?.changeReason,
    };
  }
  // The first row's position fields stand for all (checkGroup found them identical).
  const position = first.position as ImportPosition;
  position.options = options;
  return {
    action: first.action === 'INSERT' ? 'INSERT' : 'UPDATE',
    positionId: first.positionId,
    lines,
    warnings,
    serviceCode: first.serviceCode,
    position,
  };
}

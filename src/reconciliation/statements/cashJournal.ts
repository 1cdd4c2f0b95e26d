// The treasury's cash journal ("giornale di cassa", pagopa-facts §8.4) in the project's CSV format:
// UTF-8 (a BOM is tolerated), `;` separated, one header line, then one movement per line; lines end
// in CRLF when written (LF is accepted). Each line repeats the statement's own fields (account,
// statement id, creation time, EC fiscal code), which must agree on every line. Reading is strict:
// the first bad line stops the import with INVALID_DOCUMENT naming the line and the column.

import { parse, CsvError } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { domainError, isDomainError, type DomainError } from '../../domain/errors.ts';
import { parseFiscalCode } from '../../domain/fiscalCode.ts';
import { parseIban } from '../../domain/iban.ts';
import { formatAmount, parseDecimalAmount, type AmountCents } from '../../domain/money.ts';
import type { BankEntry, BankStatement } from '../model.ts';

/**
 * The columns, in order:
 *   conto_iban           the treasury account (IBAN, no spaces)
 *   id_estratto          the statement's id
 *   data_creazione       when the statement was produced, YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm]
 *   id_movimento         the movement's reference, unique in the file
 *   data_contabile       booking date, YYYY-MM-DD
 *   data_valuta          value date, YYYY-MM-DD
 *   segno                C credit (entrata), D debit (uscita)
 *   importo              euro, dot and two decimals, positive: 1234.50
 *   trn                  the SCT's TRN (AT-43), may be empty
 *   end_to_end_id        AT-41, may be empty (NOTPROVIDED reads as empty)
 *   ordinante            the ordering party (AT-02, for pagoPA "<PSP> Servizio pagoPA"), may be empty
 *   codice_fiscale_ente  the account owner's fiscal code (AT-24), may be empty
 *   causale              the remittance text (AT-05), may be empty
 */
export const CASH_JOURNAL_COLUMNS = [
  'conto_iban',
  'id_estratto',
  'data_creazione',
  'id_movimento',
  'data_contabile',
  'data_valuta',
  'segno',
  'importo',
  'trn',
  'end_to_end_id',
  'ordinante',
  'codice_fiscale_ente',
  'causale',
] as const;

type Column = (typeof CASH_JOURNAL_COLUMNS)[number];
type Row = Record<Column, string>;

const DELIMITER = ';';
const SIGN = { CRDT: 'C', DBIT: 'D' } as const;
const AMOUNT = /^[0-9]+\.[0-9]{2}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-](0\d|1[0-4]):[0-5]\d)?$/;
const NOT_PROVIDED = 'NOTPROVIDED';
/** The columns that describe the statement, not the movement: equal on every line. */
const STATEMENT_COLUMNS: readonly Column[] = [
  'conto_iban',
  'id_estratto',
  'data_creazione',
  'codice_fiscale_ente',
];

// ---------------------------------------------------------------- building

function row(statement: BankStatement, entry: BankEntry): string[] {
  const values: Row = {
    conto_iban: statement.accountIban,
    id_estratto: statement.statementId,
    data_creazione: statement.createdAt,
    id_movimento: entry.entryRef,
    data_contabile: entry.bookingDate,
    data_valuta: entry.valueDate,
    segno: SIGN[entry.direction],
    importo: formatAmount(entry.amountCents as AmountCents),
    trn: entry.trn ?? '',
    end_to_end_id: entry.endToEndId ?? '',
    ordinante: entry.debtorName ?? '',
    codice_fiscale_ente: statement.ownerFiscalCode ?? '',
    causale: entry.remittanceInformation ?? '',
  };
  return CASH_JOURNAL_COLUMNS.map((column) => values[column]);
}

/**
 * The statement as a cash journal. A journal states its account only on its movement lines, so a
 * statement without entries cannot be written (INVALID_DOCUMENT); nor can one that would not be
 * read back as the same statement (a bad date, amount, IBAN, a repeated movement reference).
 */
export function buildCashJournal(statement: BankStatement): string {
  const csv = stringify(
    [[...CASH_JOURNAL_COLUMNS], ...statement.entries.map((entry) => row(statement, entry))],
    {
      delimiter: DELIMITER,
      record_delimiter: 'windows',
    },
  );
  readCashJournal(csv);
  return csv;
}

// ---------------------------------------------------------------- reading

function invalid(line: number, field: Column | 'header' | null, message: string): DomainError {
  const where = field === null ? `line ${line}` : `line ${line}, ${field}`;
  return domainError('INVALID_DOCUMENT', `cash journal ${where}: ${message}`, { line, field });
}

function isCalendarDate(value: string): boolean {
  const match = DATE.exec(value);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function dateField(values: Row, field: Column, line: number): string {
  const value = values[field];
  if (!isCalendarDate(value)) throw invalid(line, field, `"${value}" is not a date YYYY-MM-DD`);
  return value;
}

function requiredField(values: Row, field: Column, line: number): string {
  const value = values[field];
  if (value.trim() === '') throw invalid(line, field, 'is empty');
  return value;
}

function optionalField(values: Row, field: Column): string | null {
  const value = values[field].trim();
  return value === '' ? null : value;
}

function amountField(values: Row, line: number): number {
  const value = values.importo;
  if (!AMOUNT.test(value)) throw invalid(line, 'importo', `"${value}" is not an amount like 1234.50`);
  const cents = parseDecimalAmount(value);
  if (cents === 0) throw invalid(line, 'importo', 'is zero');
  return cents;
}

function directionField(values: Row, line: number): BankEntry['direction'] {
  if (values.segno === SIGN.CRDT) return 'CRDT';
  if (values.segno === SIGN.DBIT) return 'DBIT';
  throw invalid(line, 'segno', `"${values.segno}" is neither C nor D`);
}

function entryOf(values: Row, line: number): BankEntry {
  const endToEndId = optionalField(values, 'end_to_end_id');
  return {
    entryRef: requiredField(values, 'id_movimento', line),
    direction: directionField(values, line),
    amountCents: amountField(values, line),
    bookingDate: dateField(values, 'data_contabile', line),
    valueDate: dateField(values, 'data_valuta', line),
    trn: optionalField(values, 'trn'),
    endToEndId: endToEndId?.toUpperCase() === NOT_PROVIDED ? null : endToEndId,
    debtorName: optionalField(values, 'ordinante'),
    remittanceInformation: optionalField(values, 'causale'),
  };
}

/** The IBAN as the bank writes it: valid, in capitals, without spaces. */
function ibanField(values: Row, line: number): string {
  const value = requiredField(values, 'conto_iban', line);
  let iban: string;
  try {
    iban = parseIban(value);
  } catch (err) {
    if (isDomainError(err, 'INVALID_IBAN'))
      throw invalid(line, 'conto_iban', `is not a valid IBAN: ${err.message}`);
    throw err;
  }
  if (iban !== value) throw invalid(line, 'conto_iban', 'must be written in capitals without spaces');
  return value;
}

function fiscalCodeField(values: Row, line: number): string | null {
  const value = optionalField(values, 'codice_fiscale_ente');
  if (value === null) return null;
  let code: string;
  try {
    code = parseFiscalCode(value);
  } catch (err) {
    if (isDomainError(err, 'INVALID_FISCAL_CODE')) {
      throw invalid(line, 'codice_fiscale_ente', `"${value}" is not a valid fiscal code`);
    }
    throw err;
  }
  if (code !== value)
    throw invalid(line, 'codice_fiscale_ente', 'must be written in capitals without spaces');
  return value;
}

/** The statement's own fields, checked once on the first movement line. */
function statementOf(values: Row, line: number): Omit<BankStatement, 'entries'> {
  const accountIban = ibanField(values, line);
  const createdAt = requiredField(values, 'data_creazione', line);
  const dateTime = DATE_TIME.exec(createdAt);
  if (dateTime === null || !isCalendarDate(dateTime[1]!)) {
    throw invalid(line, 'data_creazione', `"${createdAt}" is not a date-time YYYY-MM-DDThh:mm:ss`);
  }
  return {
    format: 'csv',
    statementId: requiredField(values, 'id_estratto', line),
    createdAt,
    accountIban,
    ownerFiscalCode: fiscalCodeField(values, line),
  };
}

interface ParsedLine {
  record: string[];
  info: { lines: number };
}

/** Decodes bytes as UTF-8, refusing invalid sequences (a Latin-1 export would garble names silently). */
function decode(content: string | Uint8Array): string {
  if (typeof content === 'string') return content;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    throw invalid(1, null, 'the file is not UTF-8 text');
  }
}

function records(text: string): ParsedLine[] {
  try {
    // With `info`, each record comes as {record, info}; the typings only know plain arrays.
    return parse(text, {
      delimiter: DELIMITER,
      bom: true,
      info: true,
      skip_empty_lines: true,
      // Column counts are checked after the header, so that a wrong header is reported as such.
      relax_column_count: true,
    }) as unknown as ParsedLine[];
  } catch (err) {
    if (err instanceof CsvError) {
      throw invalid(typeof err.lines === 'number' ? err.lines : 1, null, `bad CSV: ${err.message}`);
    }
    throw err;
  }
}

function checkHeader(first: ParsedLine | undefined): void {
  if (first === undefined) throw invalid(1, 'header', 'the file is empty');
  const exact =
    first.record.length === CASH_JOURNAL_COLUMNS.length &&
    CASH_JOURNAL_COLUMNS.every((column, i) => first.record[i] === column);
  if (!exact) {
    const expected = CASH_JOURNAL_COLUMNS.join(DELIMITER);
    throw invalid(first.info.lines, 'header', `the header must be exactly ${expected}`);
  }
}

/**
 * Reads a cash journal into a statement, strictly: a wrong header, a ragged line, a bad amount or
 * date, a repeated movement reference or a statement column that changes between lines is
 * INVALID_DOCUMENT with details {line, field}; nothing is returned partially.
 */
export function readCashJournal(content: string | Uint8Array): BankStatement {
  const [header, ...lines] = records(decode(content));
  checkHeader(header);
  const rows = lines.map(({ record, info }) => {
    if (record.length !== CASH_JOURNAL_COLUMNS.length) {
      throw invalid(info.lines, null, `${record.length} columns instead of ${CASH_JOURNAL_COLUMNS.length}`);
    }
    return {
      line: info.lines,
      values: Object.fromEntries(CASH_JOURNAL_COLUMNS.map((c, i) => [c, record[i] ?? ''])) as Row,
    };
  });
  const [first] = rows;
  if (first === undefined) throw invalid(2, 'id_movimento', 'the journal has no movement');
  const statement = statementOf(first.values, first.line);
  const entries: BankEntry[] = [];
  const seen = new Set<string>();
  for (const { line, values } of rows) {
    const changed = STATEMENT_COLUMNS.find((column) => values[column] !== first.values[column]);
    if (changed)
      throw invalid(line, changed, `differs from the first movement line ("${first.values[changed]}")`);
    const entry = entryOf(values, line);
    if (seen.has(entry.entryRef)) throw invalid(line, 'id_movimento', `"${entry.entryRef}" appears twice`);
    seen.add(entry.entryRef);
    entries.push(entry);
  }
  return { ...statement, entries };
}

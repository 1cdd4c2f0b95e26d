// The one record model every drop-folder format is read into (ppay CSV v1, ppay XML, .xlsx,
// PiemontePay and MyPay lists), the outcome line every format is answered with, and the outcome
// code catalogue with its PiemontePay / MyPay crosswalk. Spec: ../shared/reference/flat-file-formats.md
// §6–8, DESIGN §8, xsd/flows/ppay-flows.xsd.

import type { DebtorDraft } from '../../domain/position.ts';
import type { ErrorCode } from '../../domain/errors.ts';

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/** What a record does (pt:stAction); CSV letters I / M / A. */
export type ImportAction = 'INSERT' | 'UPDATE' | 'CANCEL';

/** One pagoPA transfer as the file gives it; absent values are resolved by the importer. */
export interface ImportTransfer {
  amountCents: number;
  /** Beneficiary ente; absent means the creditor ente of the file. */
  enteFiscalCode?: string | undefined;
  /** Absent means the IBAN of the service (or of the secondary ente's configuration). */
  iban?: string | undefined;
  /** Causale of the transfer (≤140); absent means the option's description. */
  remittanceInformation?: string | undefined;
  /** Taxonomy in datiSpecificiRiscossione form (`9/0101108TS/`); absent means the service's. */
  category?: string | undefined;
  /** Accertamento (PiemontePay anno / numero accertamento). Not a pagoPA field. */
  accountingYear?: number | undefined;
  accountingNumber?: string | undefined;
}

/** One payment option (one CSV row): installment 0 = single payment, 1..N = installments. */
export interface ImportOption {
  installment: number;
  /** Where the option came from: CSV physical line (header = 1), XML item sequence (1-based). */
  line: number;
  /** installment_label (≤35), e.g. `rata 03 di 07`; the option's description. */
  label?: string | undefined;
  /** IUV assigned in advance (15, 17 or 25 characters); absent means ppay allocates one. */
  iuv?: string | undefined;
  /** YYYY-MM-DD; absent when the service's rule allows it (the importer decides). */
  dueDate?: string | undefined;
  amountCents: number;
  /** 0–5 transfers; none means one transfer of amountCents from the service configuration. */
  transfers: ImportTransfer[];
}

/** Debtor as the domain takes it; fullName is `<first name> <surname>` when the file splits them. */
export type ImportDebtor = DebtorDraft & { type: 'F' | 'G' };

export interface MetadataPair {
  key: string;
  value: string;
}

/** A whole position, for INSERT and for a full-replacement UPDATE. */
export interface ImportPosition {
  /**
   * Full text as the file gives it (≤1024). The importer cuts it to 140 for pagoPA; the reader has
   * already put a W_TRUNCATED warning on the record when it is longer.
   */
  description: string;
  referenceYear?: number | undefined;
  notes?: string | undefined;
  /** Absent only where the service allows anonymous positions without a debtor. */
  debtor?: ImportDebtor | undefined;
  validityFrom?: string | undefined;
  validityTo?: string | undefined;
  changeReason?: string | undefined;
  /** Options in file order (at least one). */
  options: ImportOption[];
  /** Free key/value pairs; reserved keys: rif.<Nome>, mypay.bilancio, mypay.tipoVersamento, pa_fee_cents, sec.*. */
  metadata: MetadataPair[];
}

/**
 * A partial update (PiemontePay AGPD `M`): only the fields given change; the importer merges them
 * onto the stored position and applies a full UPDATE. Positions changed this way have one option
 * (installment 0), so option-level changes need no installment number.
 */
export interface ImportPositionPatch {
  description?: string | undefined;
  notes?: string | undefined;
  debtor?: ImportDebtor | undefined;
  validityFrom?: string | undefined;
  validityTo?: string | undefined;
  metadata?: MetadataPair[] | undefined;
  option?:
    | {
        dueDate?: string | undefined;
        amountCents?: number | undefined;
        transfers?: ImportTransfer[] | undefined;
      }
    | undefined;
}

interface RecordBase {
  positionId: string;
  /**
   * Every input line the record stands for, ascending: CSV physical line numbers (header = 1) of
   * the position's rows, or the XML item's sequence. Each gets one outcome line.
   */
  lines: number[];
  /** The ppay service code; absent on CANCEL rows of CSV (only position_id and reason are read). */
  serviceCode?: string | undefined;
  /** Warnings found while reading (W_TRUNCATED); the lines get WARN when the record is applied. */
  warnings: ImportWarning[];
}

export interface PositionRecord extends RecordBase {
  action: 'INSERT' | 'UPDATE';
  position: ImportPosition;
}

export interface PatchRecord extends RecordBase {
  action: 'UPDATE';
  patch: ImportPositionPatch;
  changeReason?: string | undefined;
}

export interface CancelRecord extends RecordBase {
  action: 'CANCEL';
  reason?: string | undefined;
}

/** One position-level action: INSERT / UPDATE (full or patch) / CANCEL. */
export type ImportRecord = PositionRecord | PatchRecord | CancelRecord;

/** A line (or group of lines) that cannot become a record; the rest of the file goes on. */
export interface ImportRowError {
  /** Physical line (CSV, header = 1) or XML item sequence. */
  line: number;
  positionId?: string | undefined;
  action?: ImportAction | undefined;
  installment?: number | undefined;
  code: RowErrorCode;
  /** The column (CSV name, e.g. `tr2_iban`) or item path the error is about. */
  field?: string | undefined;
  message: string;
}

export interface ImportWarning {
  line: number;
  code: WarningCode;
  field?: string | undefined;
  message: string;
}

/**
 * What a reader yields, in file order. Invariant: every data line of the input appears exactly
 * once, either in one record's `lines` or as one error's `line`, so the outcome file has one line
 * per input line. When a position has a bad row, every row of it comes as an error.
 */
export type ImportItem =
  { record: ImportRecord; error?: undefined } | { error: ImportRowError; record?: undefined };

/** Facts about the file known before its items are read (XML header, caller's options). */
export interface ImportFileHeader {
  format: string;
  enteFiscalCode?: string | undefined;
  serviceCode?: string | undefined;
  flowId?: string | undefined;
  creationDateTime?: string | undefined;
  /** Control totals the file (XML header) or the operator (--expect-count/--expect-total-cents) gave. */
  expectCount?: number | undefined;
  expectTotalCents?: number | undefined;
}

/**
 * An opened input. Iterating `items` may throw FileFormatError at any point, also after records
 * were yielded (wrong encoding found mid-file, control totals checked at the end): the importer
 * must treat the items as provisional until the iteration ends without error, e.g. stage them and
 * apply only afterwards, or read the file twice (check pass, then apply pass).
 */
export interface ImportFile {
  header: ImportFileHeader;
  items: AsyncIterable<ImportItem>;
}

/** A whole-file failure: nothing of the file is applied, the outcome says only this. */
export class FileFormatError extends Error {
  override readonly name = 'FileFormatError';
  constructor(
    readonly code: FileErrorCode,
    message: string,
    /** Line where it was found, when it has one. */
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * By name and code too, not only instanceof: a reader loaded lazily (`import()` of detect.ts) may
 * get its own copy of this module under a CommonJS-first loader (mocha with tsx), whose class differs.
 */
export function isFileFormatError(value: unknown, code?: FileErrorCode): value is FileFormatError {
  const isOne =
    value instanceof FileFormatError ||
    (value instanceof Error &&
      value.name === 'FileFormatError' &&
      (FILE_ERROR_CODES as readonly unknown[]).includes((value as { code?: unknown }).code));
  return isOne && (code === undefined || (value as FileFormatError).code === code);
}

// ---------------------------------------------------------------------------------------------
// Outcome lines
// ---------------------------------------------------------------------------------------------

export type LineOutcome = 'OK' | 'KO' | 'WARN';

/**
 * One line of the outcome file (§6): `row_no;position_id;installment_no;action;outcome;
 * error_code;error_message;iuv;notice_number;amount_cents;due_date`. One per input line.
 */
export interface OutcomeLine {
  rowNo: number;
  positionId?: string | undefined;
  installmentNo?: number | undefined;
  action?: ImportAction | undefined;
  outcome: LineOutcome;
  errorCode?: OutcomeCode | undefined;
  errorMessage?: string | undefined;
  iuv?: string | undefined;
  noticeNumber?: string | undefined;
  amountCents?: number | undefined;
  dueDate?: string | undefined;
}

export const OUTCOME_CSV_COLUMNS = [
  'row_no',
  'position_id',
  'installment_no',
  'action',
  'outcome',
  'error_code',
  'error_message',
  'iuv',
  'notice_number',
  'amount_cents',
  'due_date',
] as const;

// ---------------------------------------------------------------------------------------------
// Outcome code catalogue
// ---------------------------------------------------------------------------------------------

export const ROW_ERROR_CODES = [
  'E_SYNTAX',
  'E_DUP_IN_FILE',
  'E_ALREADY_EXISTS',
  'E_IUV_INVALID',
  'E_IUV_DUPLICATE',
  'E_NOT_FOUND',
  'E_IN_PAYMENT',
  'E_PAID',
  'E_CANCELLED',
  'E_SERVICE_UNKNOWN',
  'E_SERVICE_DISABLED',
  'E_DEBTOR_INVALID',
  'E_AMOUNT',
  'E_TOO_MANY_TRANSFERS',
  'E_DUE_DATE',
  'E_TAXONOMY',
  'E_IUV_ALLOCATION',
  'E_INTERNAL',
] as const;

/**
 * File-level codes: the §6 set (F_HEADER, F_COUNT, F_TOTAL, F_CHECKSUM, F_DUP_FLOW), the XSD's
 * (F_SCHEMA, F_SIGNATURE, F_ENTE), and F_ENCODING (not UTF-8), F_EMPTY (no data rows), F_FORMAT
 * (unreadable: not CSV / not XML / a broken zip), F_TOO_LARGE (above a size cap), F_NAME (the file
 * name breaks the convention the format needs).
 */
export const FILE_ERROR_CODES = [
  'F_HEADER',
  'F_COUNT',
  'F_TOTAL',
  'F_CHECKSUM',
  'F_DUP_FLOW',
  'F_SCHEMA',
  'F_SIGNATURE',
  'F_ENTE',
  'F_ENCODING',
  'F_EMPTY',
  'F_FORMAT',
  'F_TOO_LARGE',
  'F_NAME',
] as const;

export const WARNING_CODES = ['W_TRUNCATED'] as const;

export type RowErrorCode = (typeof ROW_ERROR_CODES)[number];
export type FileErrorCode = (typeof FILE_ERROR_CODES)[number];
export type WarningCode = (typeof WARNING_CODES)[number];
export type OutcomeCode = RowErrorCode | FileErrorCode | WarningCode;

/** What a code stands for in the formats gestionali already use (§6 table). */
export interface CrosswalkEntry {
  /** PiemontePay CodiceEsito (§3.3) to write in a compatibility outcome; '' where none fits. */
  piemontepay: string;
  /** Every PiemontePay code or ParseErrorEnum name (§3.5) the ppay code stands for. */
  piemontepayEquivalents: readonly string[];
  /** MyPay reject code to write (cod_rifiuto); '' where none fits. */
  mypay: string;
  mypayEquivalents: readonly string[];
}

function entry(piemontepay: string[], mypay: string[]): CrosswalkEntry {
  return {
    piemontepay: piemontepay[0] ?? '',
    piemontepayEquivalents: piemontepay,
    mypay: mypay[0] ?? '',
    mypayEquivalents: mypay,
  };
}

/** PiemontePay codes 162..172 (missing or malformed mandatory fields). */
const PIEMONTEPAY_SYNTAX = ['162', '163', '164', '165', '166', '167', '168', '169', '170', '171', '172'];

/**
 * The §6 crosswalk. `OK` is the success line (MyPay: the row appears in `_IUV.csv`, no code).
 * For E_SYNTAX the PiemontePay code written is 200 (load error) because 162–172 each name one
 * missing field; a writer that knows the field may pick the precise one from the equivalents.
 */
export const OUTCOME_CROSSWALK: Readonly<Record<OutcomeCode | 'OK', CrosswalkEntry>> = {
  OK: entry(['000'], []),
  W_TRUNCATED: entry(['000'], []),
  E_SYNTAX: entry(['200', 'PARSE_ERROR_*', ...PIEMONTEPAY_SYNTAX], ['PAA_IMPORT_SINTASSI_CSV']),
  E_DUP_IN_FILE: entry(['182', 'PARSE_ERROR_DUPLICATE_POS_DEBITORIA'], ['PAA_IMPORT_IUD_DUPLICATO']),
  E_ALREADY_EXISTS: entry(['161', '182'], ['PAA_IMPORT_IUD_DUPLICATO']),
  E_IUV_INVALID: entry(['171'], ['PAA_IMPORT_SINTASSI_CSV_IUV']),
  E_IUV_DUPLICATE: entry(['171'], ['PAA_IMPORT_IUV_DUPLICATO']),
  E_NOT_FOUND: entry(['176'], ['PAA_IMPORT_DOVUTO_NON_PRESENTE']),
  E_IN_PAYMENT: entry(['177'], ['PAA_IMPORT_DOVUTO_NON_PRESENTE']),
  E_PAID: entry(['178'], ['PAA_IMPORT_DOVUTO_NON_PRESENTE']),
  E_CANCELLED: entry(['179'], ['PAA_IMPORT_DOVUTO_NON_PRESENTE']),
  E_SERVICE_UNKNOWN: entry(['152'], ['PAA_IMPORT_SINTASSI_CSV_TIPO_DOVUTO_INESISTENTE']),
  E_SERVICE_DISABLED: entry(['157', '158'], ['PAA_IMPORT_SINTASSI_CSV_TIPO_DOVUTO_NON_ATTIVO_PER_ENTE']),
  E_DEBTOR_INVALID: entry(
    ['165', '166', '167', '168', '169', '170', '194', '195', '218'],
    [
      'PAA_IMPORT_SINTASSI_CSV_COD_FISC',
      'PAA_IMPORT_SINTASSI_CSV_P_IVA',
      'PAA_IMPORT_SINTASSI_CSV_ID_UNIV_FG',
    ],
  ),
  E_AMOUNT: entry(
    ['163', '184', '189'],
    ['PAA_IMPORT_SINTASSI_CSV_IMPORTO', 'PAA_IMPORT_SINTASSI_CSV_BILANCIO'],
  ),
  E_TOO_MANY_TRANSFERS: entry(['183'], []),
  E_DUE_DATE: entry(
    ['185', '187'],
    ['PAA_IMPORT_SINTASSI_CSV_DATA_SCADENZA_PAGAMENTO', 'PAA_IMPORT_DATA_SCADENZA_PAGAMENTO_OBBLIGATORIA'],
  ),
  E_TAXONOMY: entry(
    ['186'],
    ['PAA_IMPORT_SINTASSI_CSV_DATI_RISCOSS', 'PAA_IMPORT_SINTASSI_CSV_DATI_RISCOSS_ENTE_SECONDARIO'],
  ),
  E_IUV_ALLOCATION: entry(['250'], ['PAA_IMPORT_ERROR']),
  E_INTERNAL: entry(['399', '200'], ['PAA_IMPORT_ERROR']),
  F_HEADER: entry(['PARSE_ERROR_INTESTAZIONE'], ['PAA_IMPORT_NOME_FILE_ERR']),
  F_COUNT: entry(['154', 'PARSE_ERROR_NUMERO_POSIZIONI_DEBITORIE'], []),
  F_TOTAL: entry(['155', 'PARSE_ERROR_TOTALE_IMPORTO_POSIZIONI_DEBITORIE'], []),
  F_CHECKSUM: entry([], ['PAA_IMPORT_NO_MATCH_MD5']),
  F_DUP_FLOW: entry(['150'], ['PAA_IMPORT_FLUSSO_DUPLICATO']),
  F_SCHEMA: entry(['200'], ['PAA_IMPORT_FLUSSO_ERRORE_GENERICO']),
  F_SIGNATURE: entry(['200'], ['PAA_IMPORT_FLUSSO_ERRORE_GENERICO']),
  F_ENTE: entry(['151'], ['PAA_IMPORT_ENTE_ERR']),
  F_ENCODING: entry(['200'], ['PAA_IMPORT_FLUSSO_ERRORE_GENERICO']),
  F_EMPTY: entry(['PARSE_ERROR_ASSENZA_DATI', 'PARSE_ERROR_FILE_VUOTO'], ['PAA_IMPORT_NO_CSV']),
  F_FORMAT: entry(['200', 'PARSE_ERROR_NUMERO_COLONNE'], ['PAA_IMPORT_NO_CSV']),
  F_TOO_LARGE: entry(['200'], ['PAA_IMPORT_FLUSSO_ERRORE_GENERICO']),
  F_NAME: entry([], ['PAA_IMPORT_NOME_FILE_ERR']),
};

function stateCode(from: unknown): RowErrorCode {
  if (from === 'CANCELLED' || from === 'RELEASED') return 'E_CANCELLED';
  if (from === 'EXPIRED') return 'E_DUE_DATE';
  // PAID, PARTIALLY_PAID, REPORTED, RECONCILED, VALID with paid options, or not said.
  return 'E_PAID';
}

/**
 * The row code for a DomainError raised while applying a record (validateDebtPosition, the upload
 * item rules of src/app/gestionale/uploadItems.ts), so files answer with the same rules the SOAP
 * upload uses. `details.field` refines a few codes; `details.from` (the stored status) refines
 * INVALID_STATE_TRANSITION.
 */
export function rowCodeOfDomainError(
  code: ErrorCode,
  details: Readonly<Record<string, unknown>> = {},
): RowErrorCode {
  const path = typeof details.field === 'string' ? details.field : '';
  switch (code) {
    case 'POSITION_DUPLICATE':
      return 'E_ALREADY_EXISTS';
    case 'DUPLICATE_IN_MESSAGE':
      return 'E_DUP_IN_FILE';
    case 'POSITION_UNKNOWN':
      return 'E_NOT_FOUND';
    case 'PAYMENT_IN_PROGRESS':
      return 'E_IN_PAYMENT';
    case 'POSITION_ALREADY_PAID':
      return 'E_PAID';
    case 'POSITION_CANCELLED':
      return 'E_CANCELLED';
    case 'POSITION_EXPIRED':
      return 'E_DUE_DATE';
    case 'INVALID_STATE_TRANSITION':
      return stateCode(details.from);
    case 'SERVICE_UNKNOWN':
      return 'E_SERVICE_UNKNOWN';
    case 'INVALID_IUV':
    case 'INVALID_CHECK_DIGIT':
    case 'INVALID_AUX_DIGIT':
    case 'INVALID_APPLICATION_CODE':
    case 'INVALID_SEGREGATION_CODE':
    case 'INVALID_RF_REFERENCE':
    case 'NOTICE_UNKNOWN':
      return 'E_IUV_INVALID';
    case 'NOTICE_DUPLICATE':
      return 'E_IUV_DUPLICATE';
    case 'IUV_EXHAUSTED':
      return 'E_IUV_ALLOCATION';
    case 'INVALID_AMOUNT':
      return 'E_AMOUNT';
    case 'INVALID_FISCAL_CODE':
      return path === '' || /debtor/.test(path) ? 'E_DEBTOR_INVALID' : 'E_SYNTAX';
    case 'INVALID_DATE':
      return /dueDate|due_date/.test(path) ? 'E_DUE_DATE' : 'E_SYNTAX';
    case 'INVALID_TRANSFER':
      if (/category|taxonomy/.test(path)) return 'E_TAXONOMY';
      return /transfers?$/.test(path) ? 'E_AMOUNT' : 'E_SYNTAX';
    case 'INVALID_POSITION':
      return /debtor/.test(path) ? 'E_DEBTOR_INVALID' : 'E_SYNTAX';
    case 'INVALID_IBAN':
    case 'INVALID_INPUT':
    case 'INVALID_NOTICE_NUMBER':
    case 'INVALID_DOCUMENT':
      return 'E_SYNTAX';
    default:
      return 'E_INTERNAL';
  }
}

/** The CSV letter of an action and back (ppay CSV v1, MyPay azione, PiemontePay AGPD). */
export const ACTION_LETTERS: Readonly<Record<ImportAction, 'I' | 'M' | 'A'>> = {
  INSERT: 'I',
  UPDATE: 'M',
  CANCEL: 'A',
};

export function actionOfLetter(letter: string): ImportAction | undefined {
  if (letter === 'I') return 'INSERT';
  if (letter === 'M') return 'UPDATE';
  if (letter === 'A') return 'CANCEL';
  return undefined;
}

// MyPay's import flow ("flusso dovuti", versions 1.0–1.4) read onto the ppay import model: a
// `<codIPA>-<IUF>-<ver>.zip` holding `<same base>.csv` (or the bare .csv), its `.md5` sidecar
// checked, the inner CSV streamed out of the zip; and MyPay's own outcome, `<base>_SCARTI.zip` and
// `<base>_IUV.zip`, written from ppay's outcome lines. Spec: flat-file-formats.md §4 and §8.
//
// Rows are accepted one by one, as in MyPay. A row is one dovuto: one position with one option.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { parseEnteFiscalCode, parseFiscalCode } from '../../domain/fiscalCode.ts';
import { parseIban } from '../../domain/iban.ts';
import { formatAmount, parseDecimalAmount, type AmountCents } from '../../domain/money.ts';
import { ANONYMOUS_DEBTOR, MAX_AMOUNT_CENTS } from '../../domain/position.ts';
import { parseUntrusted } from '../../xml/schema.ts';
import { calendarDate, detachedCopy, LEGACY_EMAIL, PPAY_POSITION_ID, TAXONOMY } from './cells.ts';
import { CsvLineError, readLines } from './csvLines.ts';
import { looksLikeFormula, neutraliseCell } from './csvSafety.ts';
import {
  actionOfLetter,
  FileFormatError,
  OUTCOME_CROSSWALK,
  type ImportAction,
  type ImportDebtor,
  type ImportFile,
  type ImportFileHeader,
  type ImportItem,
  type ImportRecord,
  type ImportTransfer,
  type ImportWarning,
  type MetadataPair,
  type OutcomeLine,
  type RowErrorCode,
} from './types.ts';

export const MYPAY_VERSIONS = ['1.0', '1.1', '1.2', '1.3', '1.4'] as const;
export type MyPayVersion = (typeof MYPAY_VERSIONS)[number];

export function myPayFormat(version: MyPayVersion): string {
  return `mypay-${version}`;
}

// ---------------------------------------------------------------------------------------------
// Layout (§4): field names as in MyPay's Talend schema and DTOs
// ---------------------------------------------------------------------------------------------

const BASE_FIELDS = [
  'IUD',
  'codIuv',
  'tipoIdentificativoUnivoco',
  'codiceIdentificativoUnivoco',
  'anagraficaPagatore',
  'indirizzoPagatore',
  'civicoPagatore',
  'capPagatore',
  'localitaPagatore',
  'provinciaPagatore',
  'nazionePagatore',
  'emailPagatore',
  'dataScadenzaPagamento',
  'importoDovuto',
  'commissioneCaricoPa',
  'tipoDovuto',
  'tipoVersamento',
  'causaleVersamento',
  'datiSpecificiRiscossione',
] as const;

/** The 13 fields 1.4 adds after flagGeneraIuv (idx 21–33). */
const MULTI_BENEFICIARY_FIELDS = [
  'flagMultiBeneficiario',
  'codiceFiscaleEnteSecondario',
  'denominazioneEnteSecondario',
  'ibanAccreditoEnteSecondario',
  'indirizzoEnteSecondario',
  'civicoEnteSecondario',
  'capEnteSecondario',
  'localitaEnteSecondario',
  'provinciaEnteSecondario',
  'nazioneEnteSecondario',
  'datiSpecificiRiscossioneEnteSecondario',
  'causaleVersamentoEnteSecondario',
  'importoVersamentoEnteSecondario',
] as const;

/** The fields of a version in file order; `azione` is always last. */
export function myPayColumns(version: MyPayVersion): readonly string[] {
  const fields: string[] = [...BASE_FIELDS];
  if (version >= '1.2') fields.push('bilancio');
  if (version >= '1.3') fields.push('flagGeneraIuv');
  if (version === '1.4') fields.push(...MULTI_BENEFICIARY_FIELDS);
  fields.push('azione');
  return fields;
}

/** The version a header (or row) of this many fields belongs to; 20 fields are 1.0 or 1.1. */
export function myPayVersionOfWidth(width: number): MyPayVersion | null {
  return ({ 20: '1.1', 21: '1.2', 22: '1.3', 35: '1.4' } as const)[width as 20 | 21 | 22 | 35] ?? null;
}

/** Field indexes, the same in every version up to datiSpecificiRiscossione. */
const F = Object.fromEntries(BASE_FIELDS.map((name, i) => [name, i])) as Record<
  (typeof BASE_FIELDS)[number],
  number
>;
const BILANCIO = 19;
const FLAG_GENERA_IUV = 20;
const MB = 21;

// ---------------------------------------------------------------------------------------------
// File names and the package
// ---------------------------------------------------------------------------------------------

export interface MyPayFileName {
  ipaCode: string;
  /** IUF, the flow id; MyPay splits the name on `-`, so it holds none. */
  iuf: string;
  version: MyPayVersion;
  /** `<codIPA>-<IUF>-<ver>`, the name of the inner CSV and of the sidecars. */
  base: string;
  extension: 'zip' | 'csv';
}

const MYPAY_NAME = /^([^-]+)-([^-]+)-1_([0-4])\.(zip|csv)$/i;

/** `<codIPA>-<IUF>-<ver>.zip|csv` with ver `1_0`…`1_4`, or null. */
export function parseMyPayFileName(fileName: string): MyPayFileName | null {
  const name = path.basename(fileName);
  const m = MYPAY_NAME.exec(name);
  if (m === null) return null;
  return {
    ipaCode: m[1] as string,
    iuf: m[2] as string,
    version: `1.${m[3]}` as MyPayVersion,
    base: name.slice(0, -(m[4] as string).length - 1),
    extension: (m[4] as string).toLowerCase() as 'zip' | 'csv',
  };
}

function baseNameOf(filePath: string): string {
  return path.basename(filePath, path.extname(filePath));
}

function isZip(filePath: string): boolean {
  return path.extname(filePath).toLowerCase() === '.zip';
}

/** The hex MD5 of a file, streamed. */
export async function md5OfFile(filePath: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(filePath), hash);
  return hash.digest('hex');
}

/**
 * Checks `<base>.md5` next to the package when it exists (§4: the hex MD5 of the zip, compared
 * without regard to case; `md5sum` output, `<hash>  <name>`, is read too). Mismatch: F_CHECKSUM.
 */
export async function verifyMyPayChecksum(filePath: string): Promise<'verified' | 'absent'> {
  const sidecar = path.join(path.dirname(filePath), `${baseNameOf(filePath)}.md5`);
  let expected: string;
  try {
    expected = (await readFile(sidecar, 'latin1')).trim().split(/\s+/)[0] ?? '';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  const actual = await md5OfFile(filePath);
  if (expected.toLowerCase() !== actual) {
    throw new FileFormatError(
      'F_CHECKSUM',
      `MD5 of ${path.basename(filePath)} is ${actual}, the .md5 file says ${expected} (PAA_IMPORT_NO_MATCH_MD5)`,
    );
  }
  return 'verified';
}

/** Largest inner CSV taken out of a package (a zip bomb is F_TOO_LARGE, not a full disk). */
export const MAX_MYPAY_CSV_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * The bytes of a packaged CSV: the file itself, or the zip's `<base>.csv` entry streamed out of
 * it (yauzl reads the central directory, then only that entry). `done()` closes the zip. MyPay's
 * packages and ppay's `.zip` (one CSV of the same base name, §6) are packed alike.
 */
export async function openPackagedCsv(filePath: string): Promise<{ stream: Readable; done: () => void }> {
  if (!isZip(filePath)) {
    const stream = createReadStream(filePath);
    return { stream, done: () => stream.destroy() };
  }
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(filePath, {
      lazyEntries: true,
      autoClose: false,
      validateEntrySizes: true,
    });
  } catch (err) {
    throw new FileFormatError(
      'F_FORMAT',
      `not a readable zip: ${(err as Error).message} (PAA_IMPORT_NO_CSV)`,
    );
  }
  const wanted = `${baseNameOf(filePath)}.csv`;
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName !== wanted) continue;
      if (entry.uncompressedSize > MAX_MYPAY_CSV_BYTES) {
        throw new FileFormatError('F_TOO_LARGE', `${wanted} unpacks to ${entry.uncompressedSize} bytes`);
      }
      const stream = typedEntryErrors(await zip.openReadStreamPromise(entry), wanted);
      return { stream, done: () => (stream.destroy(), zip.close()) };
    }
  } catch (err) {
    zip.close();
    if (err instanceof FileFormatError) throw err;
    throw new FileFormatError(
      'F_FORMAT',
      `the zip cannot be read: ${(err as Error).message} (PAA_IMPORT_NO_CSV)`,
    );
  }
  zip.close();
  throw new FileFormatError('F_FORMAT', `the zip holds no ${wanted} (PAA_IMPORT_NO_CSV)`);
}

/**
 * The entry's bytes with its failures typed: an entry that unpacks to more bytes than its header
 * declares (a zip bomb lying about its size, caught by yauzl's validateEntrySizes) is F_TOO_LARGE,
 * a corrupt deflate stream F_FORMAT. Untyped, they failed the importer's pass and left the import
 * to be retried, and to fail, on every pass.
 */
function typedEntryErrors(source: Readable, entryName: string): Readable {
  const out = new PassThrough();
  source.on('error', (err: Error) => {
    const code = /too many bytes/.test(err.message) ? 'F_TOO_LARGE' : 'F_FORMAT';
    out.destroy(
      new FileFormatError(code, `${entryName} cannot be unpacked: ${err.message} (PAA_IMPORT_NO_CSV)`),
    );
  });
  out.on('close', () => source.destroy());
  source.pipe(out);
  return out;
}

/**
 * MyPay's field splitting (§4): `;` separates fields; a field wrapped in `"` may hold `;`, and
 * `\"` inside it is a quote. Throws CsvLineError for an unclosed quote or text after one.
 */
export function splitMyPayLine(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charAt(i) !== '"') {
      const end = text.indexOf(';', i);
      fields.push(end === -1 ? text.slice(i) : text.slice(i, end));
      if (end === -1) return fields;
      i = end + 1;
      continue;
    }
    let value = '';
    let j = i + 1;
    for (;;) {
      if (j >= text.length)
        throw new CsvLineError(`field ${fields.length + 1} opens a quote that is never closed`);
      const char = text.charAt(j);
      if (char === '\\' && text.charAt(j + 1) === '"') {
        value += '"';
        j += 2;
        continue;
      }
      if (char === '"') break;
      value += char;
      j += 1;
    }
    fields.push(value);
    i = j + 1;
    if (i >= text.length) return fields;
    if (text.charAt(i) !== ';')
      throw new CsvLineError(`field ${fields.length} has text after its closing quote`);
    i += 1;
  }
}

interface FlowLine {
  line: number;
  text: string;
}

/** The non-blank lines of the flow's CSV (UTF-8, BOM tolerated); the first is the header. */
async function* flowLines(filePath: string): AsyncGenerator<FlowLine> {
  const { stream, done } = await openPackagedCsv(filePath);
  try {
    for await (const line of readLines(stream, { encoding: 'utf-8' })) {
      if (line.text.trim() !== '') yield line;
    }
  } finally {
    done();
  }
}

// ---------------------------------------------------------------------------------------------
// Opening a flow
// ---------------------------------------------------------------------------------------------

export interface MyPayReadOptions {
  /** `--format mypay-1.x`; default: the version in the file name, else the header's field count. */
  version?: MyPayVersion | undefined;
  /** The drop folder's ente: a name with another IPA code is F_ENTE (PAA_IMPORT_ENTE_ERR). */
  enteIpaCode?: string | undefined;
  enteFiscalCode?: string | undefined;
  /** Default: the IUF of the name, else the file name without extension. */
  flowId?: string | undefined;
  expectCount?: number | undefined;
  expectTotalCents?: number | undefined;
}

/** What the file name says, checked against the options. */
function nameFacts(filePath: string, options: MyPayReadOptions): MyPayFileName | null {
  const name = parseMyPayFileName(filePath);
  if (name && options.enteIpaCode && name.ipaCode.toLowerCase() !== options.enteIpaCode.toLowerCase()) {
    throw new FileFormatError(
      'F_ENTE',
      `the flow is for ente ${name.ipaCode}, this folder is ${options.enteIpaCode} (PAA_IMPORT_ENTE_ERR)`,
    );
  }
  return name;
}

/**
 * Opens a MyPay flow (.zip or bare .csv path). Iterating `items` first verifies the `.md5` sidecar
 * (F_CHECKSUM), then streams the rows; it throws FileFormatError F_FORMAT (no CSV in the zip),
 * F_ENCODING, F_EMPTY, F_HEADER (a header whose field count is not the version's), F_NAME (no
 * version from name, option or header) and, at the end, F_COUNT / F_TOTAL.
 */
export function readMyPayFlow(filePath: string, options: MyPayReadOptions = {}): ImportFile {
  const name = nameFacts(filePath, options);
  const version = options.version ?? name?.version;
  const header: ImportFileHeader = {
    format: version ? myPayFormat(version) : 'mypay',
    enteFiscalCode: options.enteFiscalCode,
    flowId: options.flowId ?? name?.iuf ?? baseNameOf(filePath),
    expectCount: options.expectCount,
    expectTotalCents: options.expectTotalCents,
  };
  return { header, items: itemsOf(filePath, version, header) };
}

/** The version of a flow whose name does not say it: from the header's field count. */
function versionOfHeader(text: string, line: number): MyPayVersion {
  const version = myPayVersionOfWidth(splitMyPayLine(text).length);
  if (version === null) {
    throw new FileFormatError(
      'F_NAME',
      'no MyPay version in the file name (<codIPA>-<IUF>-1_x) nor in the header',
      line,
    );
  }
  return version;
}

function checkHeaderWidth(text: string, line: number, version: MyPayVersion): void {
  let width: number;
  try {
    width = splitMyPayLine(text).length;
  } catch {
    width = -1;
  }
  const expected = myPayColumns(version).length;
  if (width !== expected) {
    throw new FileFormatError(
      'F_HEADER',
      `the header has ${width} fields, a ${version} flow has ${expected}`,
      line,
    );
  }
}

async function* itemsOf(
  filePath: string,
  named: MyPayVersion | undefined,
  header: ImportFileHeader,
): AsyncGenerator<ImportItem> {
  if (isZip(filePath)) await verifyMyPayChecksum(filePath);
  let reader: RowReader | null = null;
  for await (const { line, text } of flowLines(filePath)) {
    if (reader === null) {
      const version = named ?? versionOfHeader(text, line);
      checkHeaderWidth(text, line, version);
      header.format = myPayFormat(version);
      reader = new RowReader(version);
      continue;
    }
    yield reader.itemOf(line, text);
  }
  if (reader === null) throw new FileFormatError('F_EMPTY', 'the flow is empty (PAA_IMPORT_NO_CSV)');
  if (reader.rows === 0) throw new FileFormatError('F_EMPTY', 'the flow has a header and no rows');
  reader.checkControlTotals(header);
}

// ---------------------------------------------------------------------------------------------
// One row
// ---------------------------------------------------------------------------------------------

interface FieldError {
  code: RowErrorCode;
  field?: string | undefined;
  message: string;
}

const PAGOPA_TEXT_MAX = 140;
const TIPI_VERSAMENTO = new Set(['BBT', 'BP', 'AD', 'CP', 'PO', 'OBEP']);

/** A row's fields by index, with MyPay's value rules; problems are collected, not thrown. */
class Fields {
  readonly errors: FieldError[] = [];

  constructor(
    private readonly values: readonly string[],
    private readonly names: readonly string[],
  ) {}

  raw(index: number): string {
    return (this.values[index] ?? '').trim();
  }

  fail(code: RowErrorCode, index: number | undefined, message: string): undefined {
    const field = index === undefined ? undefined : this.names[index];
    this.errors.push({ code, field, message: field ? `${field}: ${message}` : message });
    return undefined;
  }

  text(index: number, max: number, required = false, code: RowErrorCode = 'E_SYNTAX'): string | undefined {
    const value = this.raw(index);
    if (value === '') return required ? this.fail(code, index, 'is required (NON PRESENTE)') : undefined;
    if ([...value].length > max) return this.fail(code, index, `is longer than ${max} characters`);
    return value;
  }

  /** Euros with a `.` (MyPay's Double.valueOf), read exactly as a decimal into cents. */
  euros(index: number, required: boolean, nonZero: boolean): AmountCents | undefined {
    const value = this.text(index, 15, required);
    if (value === undefined) return undefined;
    let cents: AmountCents;
    try {
      cents = parseDecimalAmount(value);
    } catch {
      return this.fail('E_AMOUNT', index, `"${value}" is not an amount in euros like 12.30`);
    }
    if (cents > MAX_AMOUNT_CENTS) return this.fail('E_AMOUNT', index, 'exceeds 999 999 999.99');
    if (nonZero && cents === 0) return this.fail('E_AMOUNT', index, 'must not be zero');
    return cents;
  }

  flag(index: number): boolean | undefined {
    const value = this.raw(index).toLowerCase();
    if (value === '' || value === 'false') return false;
    if (value === 'true') return true;
    return this.fail('E_SYNTAX', index, `"${this.raw(index)}" is not true or false`);
  }
}

/** State across the rows of one flow: the version's layout, counts, the IUDs already seen. */
class RowReader {
  rows = 0;
  private totalCents = 0n;
  private readonly names: readonly string[];
  private readonly seen = new Map<string, number>();

  constructor(private readonly version: MyPayVersion) {
    this.names = myPayColumns(version);
  }

  checkControlTotals(header: ImportFileHeader): void {
    if (header.expectCount !== undefined && header.expectCount !== this.rows) {
      throw new FileFormatError(
        'F_COUNT',
        `the flow holds ${this.rows} dovuti, ${header.expectCount} were expected`,
      );
    }
    if (header.expectTotalCents !== undefined && BigInt(header.expectTotalCents) !== this.totalCents) {
      throw new FileFormatError(
        'F_TOTAL',
        `the I and M rows add up to ${this.totalCents} cents, ${header.expectTotalCents} were expected`,
      );
    }
  }

  itemOf(line: number, text: string): ImportItem {
    this.rows += 1;
    let values: string[];
    try {
      values = splitMyPayLine(text);
    } catch (err) {
      if (!(err instanceof CsvLineError)) throw err;
      return { error: { line, code: 'E_SYNTAX', message: `${err.message} (PAA_IMPORT_SINTASSI_CSV)` } };
    }
    const fields = new Fields(values, this.names);
    const positionId = fields.raw(F.IUD) || undefined;
    if (values.length !== this.names.length) {
      const problem = values.length > this.names.length ? 'Too many columns' : 'Too few columns';
      fields.fail(
        'E_SYNTAX',
        undefined,
        `${problem}: ${values.length} fields, a ${this.version} row has ${this.names.length} (PAA_IMPORT_SINTASSI_CSV)`,
      );
      return this.errorOf(line, fields, positionId, undefined);
    }
    const letter = fields.raw(this.names.length - 1);
    const action = actionOfLetter(letter.toUpperCase());
    if (action === undefined) {
      fields.fail(
        'E_SYNTAX',
        this.names.length - 1,
        `"${letter}" is not I, M or A (PAA_IMPORT_SINTASSI_CSV_AZIONE)`,
      );
    }
    const record = this.recordOf(line, fields, action ?? 'INSERT');
    if (fields.errors.length > 0 || record === undefined)
      return this.errorOf(line, fields, positionId, action);
    return { record };
  }

  private errorOf(
    line: number,
    fields: Fields,
    positionId: string | undefined,
    action: ImportAction | undefined,
  ): ImportItem {
    const [first, ...more] = fields.errors as [FieldError, ...FieldError[]];
    return {
      error: {
        line,
        positionId,
        action,
        installment: action === undefined || action === 'CANCEL' ? undefined : 0,
        code: first.code,
        field: first.field,
        message: [first, ...more].map((e) => e.message).join('; '),
      },
    };
  }

  private positionIdOf(line: number, fields: Fields): string | undefined {
    const iud = fields.text(F.IUD, 35, true);
    if (iud === undefined) return undefined;
    if (iud.startsWith('000'))
      return fields.fail('E_SYNTAX', F.IUD, 'must not start with 000 (PAA_IMPORT_SINTASSI_CSV_IUD)');
    if (!PPAY_POSITION_ID.test(iud))
      return fields.fail('E_SYNTAX', F.IUD, 'must be printable ASCII without ";"');
    const earlier = this.seen.get(iud);
    if (earlier !== undefined) {
      fields.errors.unshift({
        code: 'E_DUP_IN_FILE',
        field: 'IUD',
        message: `IUD ${iud} already appeared at line ${earlier} (PAA_IMPORT_IUD_DUPLICATO)`,
      });
    } else this.seen.set(detachedCopy(iud), line);
    return iud;
  }

  /** Every row, A included, must carry every mandatory field (§4), so all are read and checked. */
  private recordOf(line: number, fields: Fields, action: ImportAction): ImportRecord | undefined {
    const positionId = this.positionIdOf(line, fields);
    const iuv = this.iuvOf(fields);
    const debtor = this.debtorOf(fields);
    const dueDate = this.dueDateOf(fields);
    const amountCents = fields.euros(F.importoDovuto, true, true);
    const fee = fields.euros(F.commissioneCaricoPa, false, false);
    const serviceCode = fields.text(F.tipoDovuto, 64, true);
    if (serviceCode === 'MARCA_BOLLO_DIGITALE') {
      fields.fail(
        'E_SERVICE_DISABLED',
        F.tipoDovuto,
        'a marca da bollo cannot be imported (TIPO_DOVUTO_NON_VALIDO_MARCA_DA_BOLLO)',
      );
    }
    const tipoVersamento = this.tipoVersamentoOf(fields);
    const description = fields.text(F.causaleVersamento, this.version === '1.0' ? 140 : 1024, true);
    const category = fields.text(F.datiSpecificiRiscossione, 140, true, 'E_TAXONOMY');
    if (category !== undefined && !TAXONOMY.test(category)) {
      fields.fail(
        'E_TAXONOMY',
        F.datiSpecificiRiscossione,
        'must be like 9/0101100IM/ (PAA_IMPORT_SINTASSI_CSV_DATI_RISCOSS)',
      );
    }
    const bilancio = this.bilancioOf(fields, amountCents);
    if (this.version >= '1.3') fields.flag(FLAG_GENERA_IUV);
    const secondary =
      this.version === '1.4' && fields.flag(MB) ? this.secondaryOf(fields, description) : undefined;
    if (action !== 'CANCEL' && amountCents !== undefined) {
      this.totalCents += BigInt(amountCents + (secondary?.transfer.amountCents ?? 0));
    }
    if (fields.errors.length > 0 || positionId === undefined) return undefined;
    if (action === 'CANCEL') return { action, positionId, lines: [line], warnings: [] };
    const primary: ImportTransfer = {
      amountCents: amountCents as number,
      category,
      remittanceInformation: description?.slice(0, PAGOPA_TEXT_MAX),
    };
    const metadata: MetadataPair[] = [
      ...(fee !== undefined ? [{ key: 'pa_fee_cents', value: String(fee) }] : []),
      ...(tipoVersamento !== undefined ? [{ key: 'mypay.tipoVersamento', value: tipoVersamento }] : []),
      ...(bilancio !== undefined ? [{ key: 'mypay.bilancio', value: bilancio }] : []),
      ...(secondary?.metadata ?? []),
    ];
    return {
      action,
      positionId,
      lines: [line],
      serviceCode,
      warnings: truncationWarnings(line, description ?? ''),
      position: {
        description: description ?? '',
        debtor,
        metadata,
        options: [
          {
            installment: 0,
            line,
            iuv,
            dueDate,
            amountCents: (amountCents as number) + (secondary?.transfer.amountCents ?? 0),
            transfers: secondary ? [primary, secondary.transfer] : [primary],
          },
        ],
      },
    };
  }

  /** codIuv: 15 characters not starting 00, 17, or an RF reference of 25 (§4). */
  private iuvOf(fields: Fields): string | undefined {
    const iuv = fields.text(F.codIuv, 35, false, 'E_IUV_INVALID');
    if (iuv === undefined) return undefined;
    const ok =
      (/^\d{15}$/.test(iuv) && !iuv.startsWith('00')) ||
      /^\d{17}$/.test(iuv) ||
      /^RF\d{2}[A-Za-z0-9]{1,21}$/.test(iuv);
    if (!ok)
      return fields.fail(
        'E_IUV_INVALID',
        F.codIuv,
        'must be 15 or 17 digits or an RF reference (PAA_IMPORT_SINTASSI_CSV_IUV)',
      );
    return iuv;
  }

  private debtorOf(fields: Fields): ImportDebtor | undefined {
    const type = fields.raw(F.tipoIdentificativoUnivoco).toUpperCase();
    if (type !== 'F' && type !== 'G') {
      return fields.fail(
        'E_DEBTOR_INVALID',
        F.tipoIdentificativoUnivoco,
        'must be F or G (PAA_IMPORT_SINTASSI_CSV_ID_UNIV_FG)',
      );
    }
    const fiscalCode = fields
      .text(F.codiceIdentificativoUnivoco, 35, true, 'E_DEBTOR_INVALID')
      ?.toUpperCase();
    if (fiscalCode !== undefined) checkDebtorFiscalCode(fields, type, fiscalCode);
    const country = fields.text(F.nazionePagatore, 2)?.toUpperCase();
    if (country !== undefined && !/^[A-Z]{2}$/.test(country)) {
      fields.fail(
        'E_SYNTAX',
        F.nazionePagatore,
        'must be an ISO 3166 alpha-2 code (PAA_IMPORT_SINTASSI_CSV_NAZ)',
      );
    }
    const postalCode = fields.text(F.capPagatore, 16);
    if (postalCode !== undefined && !/^[A-Za-z0-9]+$/.test(postalCode)) {
      fields.fail('E_SYNTAX', F.capPagatore, 'must be letters and digits (PAA_IMPORT_SINTASSI_CSV_CAP)');
    }
    const email = fields.text(F.emailPagatore, 256);
    if (email !== undefined && !LEGACY_EMAIL.test(email)) {
      fields.fail('E_SYNTAX', F.emailPagatore, 'is not an e-mail address (PAA_IMPORT_SINTASSI_CSV_EMAIL)');
    }
    return {
      type,
      fiscalCode: fiscalCode ?? '',
      fullName: fields.text(F.anagraficaPagatore, 70, true) ?? '',
      streetName: fields.text(F.indirizzoPagatore, 70),
      civicNumber: fields.text(F.civicoPagatore, 16),
      postalCode,
      city: fields.text(F.localitaPagatore, 35),
      stateProvinceRegion: fields.text(F.provinciaPagatore, 2)?.toUpperCase(),
      country,
      email,
    };
  }

  /** Mandatory in 1.0 and 1.1; from 1.2 the service decides (the importer checks). */
  private dueDateOf(fields: Fields): string | undefined {
    const required = this.version <= '1.1';
    const value = fields.text(F.dataScadenzaPagamento, 10, required, 'E_DUE_DATE');
    if (value === undefined) return undefined;
    if (calendarDate(value) === null) {
      return fields.fail(
        'E_DUE_DATE',
        F.dataScadenzaPagamento,
        `"${value}" is not a date yyyy-MM-dd (PAA_IMPORT_SINTASSI_CSV_DATA_SCADENZA_PAGAMENTO)`,
      );
    }
    return value;
  }

  /** BBT, BP, AD, CP, PO, OBEP joined by `|`, or ALL alone; empty means ALL. */
  private tipoVersamentoOf(fields: Fields): string | undefined {
    const value = fields.text(F.tipoVersamento, 32);
    if (value === undefined) return undefined;
    const ok = value === 'ALL' || value.split('|').every((v) => TIPI_VERSAMENTO.has(v));
    if (!ok)
      return fields.fail(
        'E_SYNTAX',
        F.tipoVersamento,
        `"${value}" is not a list of BBT, BP, AD, CP, PO, OBEP or ALL (PAA_IMPORT_SINTASSI_CSV_TIPO_VERS)`,
      );
    return value;
  }

  /** The bilancio XML (1.2+): its accertamento amounts must add up to importoDovuto. */
  private bilancioOf(fields: Fields, amountCents: number | undefined): string | undefined {
    if (this.version < '1.2') return undefined;
    const xml = fields.text(BILANCIO, 4096);
    if (xml === undefined) return undefined;
    const sum = bilancioTotal(xml);
    if (sum === null)
      return fields.fail(
        'E_SYNTAX',
        BILANCIO,
        'is not a bilancio XML with importo values (PAA_IMPORT_SINTASSI_CSV_BILANCIO)',
      );
    if (amountCents !== undefined && sum !== BigInt(amountCents)) {
      return fields.fail(
        'E_AMOUNT',
        BILANCIO,
        `its importo values add up to ${sum} cents, importoDovuto is ${amountCents} (PAA_IMPORT_SINTASSI_CSV_BILANCIO)`,
      );
    }
    return xml;
  }

  /** 1.4 with flagMultiBeneficiario=true: the secondary ente's transfer and its details. */
  private secondaryOf(
    fields: Fields,
    description: string | undefined,
  ): { transfer: ImportTransfer; metadata: MetadataPair[] } | undefined {
    const at = (name: (typeof MULTI_BENEFICIARY_FIELDS)[number]) =>
      MB + MULTI_BENEFICIARY_FIELDS.indexOf(name);
    const fiscalCode = fields.text(at('codiceFiscaleEnteSecondario'), 11, true);
    if (fiscalCode !== undefined && !isValid(() => parseEnteFiscalCode(fiscalCode))) {
      fields.fail(
        'E_SYNTAX',
        at('codiceFiscaleEnteSecondario'),
        'is not a valid codice fiscale (PAA_IMPORT_SINTASSI_CSV_COD_FISC_ENTE_SECONDARIO)',
      );
    }
    const name = fields.text(at('denominazioneEnteSecondario'), 70, true);
    const iban = fields.text(at('ibanAccreditoEnteSecondario'), 35, true);
    if (iban !== undefined && !isValid(() => parseIban(iban))) {
      fields.fail(
        'E_SYNTAX',
        at('ibanAccreditoEnteSecondario'),
        'is not a valid IBAN (PAA_IMPORT_SINTASSI_CSV_IBAN_ACCREDITO_ENTE_SECONDARIO)',
      );
    }
    const category = fields.text(at('datiSpecificiRiscossioneEnteSecondario'), 140, true, 'E_TAXONOMY');
    if (category !== undefined && !TAXONOMY.test(category)) {
      fields.fail(
        'E_TAXONOMY',
        at('datiSpecificiRiscossioneEnteSecondario'),
        'must be like 9/0101100IM/ (PAA_IMPORT_SINTASSI_CSV_DATI_RISCOSS_ENTE_SECONDARIO)',
      );
    }
    const remittance = fields.text(at('causaleVersamentoEnteSecondario'), 1024) ?? description;
    const amountCents = fields.euros(at('importoVersamentoEnteSecondario'), true, true);
    const country = fields.text(at('nazioneEnteSecondario'), 2)?.toUpperCase();
    const details: Array<[string, string | undefined]> = [
      ['sec.name', name],
      ['sec.address', fields.text(at('indirizzoEnteSecondario'), 70)],
      ['sec.civic', fields.text(at('civicoEnteSecondario'), 16)],
      ['sec.postal_code', fields.text(at('capEnteSecondario'), 16)],
      ['sec.city', fields.text(at('localitaEnteSecondario'), 35)],
      ['sec.province', fields.text(at('provinciaEnteSecondario'), 35)],
      ['sec.country', country],
    ];
    if (amountCents === undefined) return undefined;
    return {
      transfer: {
        amountCents,
        enteFiscalCode: fiscalCode,
        iban,
        category,
        remittanceInformation: remittance?.slice(0, PAGOPA_TEXT_MAX),
      },
      metadata: details.flatMap(([key, value]) => (value === undefined ? [] : [{ key, value }])),
    };
  }
}

function isValid(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

/** F may give a CF or a P.IVA (or ANONIMO, if the service allows it); G must give a P.IVA. */
function checkDebtorFiscalCode(fields: Fields, type: 'F' | 'G', fiscalCode: string): void {
  const index = F.codiceIdentificativoUnivoco;
  if (type === 'G') {
    if (!isValid(() => parseEnteFiscalCode(fiscalCode))) {
      fields.fail(
        'E_DEBTOR_INVALID',
        index,
        'must be a valid partita IVA for G (PAA_IMPORT_SINTASSI_CSV_P_IVA)',
      );
    }
    return;
  }
  if (fiscalCode === ANONYMOUS_DEBTOR) return;
  if (!isValid(() => parseFiscalCode(fiscalCode))) {
    fields.fail(
      'E_DEBTOR_INVALID',
      index,
      'is not a valid codice fiscale or partita IVA (PAA_IMPORT_SINTASSI_CSV_COD_FISC)',
    );
  }
}

function truncationWarnings(line: number, description: string): ImportWarning[] {
  if ([...description].length <= PAGOPA_TEXT_MAX) return [];
  return [
    {
      line,
      code: 'W_TRUNCATED',
      field: 'causaleVersamento',
      message: `causaleVersamento cut to ${PAGOPA_TEXT_MAX} characters for pagoPA`,
    },
  ];
}

/** Σ of the bilancio's importo values in cents, or null when it is not such an XML. */
export function bilancioTotal(xml: string): bigint | null {
  let doc;
  try {
    doc = parseUntrusted(xml);
  } catch {
    return null;
  }
  try {
    if (doc.root.name !== 'bilancio') return null;
    const amounts = doc.find('//*[local-name()="importo"]');
    if (amounts.length === 0) return null;
    let sum = 0n;
    for (const node of amounts) sum += BigInt(parseDecimalAmount(node.content.trim()));
    return sum;
  } catch {
    return null;
  } finally {
    doc.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Outcome in MyPay's terms (§4 "Outputs", §8 "--esito mypay")
// ---------------------------------------------------------------------------------------------

export interface MyPayOutcomeFiles {
  /** `<base>_SCARTI.zip` holding `<base>_SCARTI.csv`: rejected rows, raw, with code and message. */
  scarti: string;
  /** `<base>_IUV.zip` holding `<base>_IUV.csv`: accepted rows with the IUV that was assigned. */
  iuv: string;
  accepted: number;
  rejected: number;
}

export interface MyPayOutcomeOptions {
  /** As given to the reader; default: the file name's version, else the header's. */
  version?: MyPayVersion | undefined;
}

/** A line as MyPay writes it: `;`-separated, a field holding `;` or `"` quoted with `\"` inside. */
export function myPayCsvLine(values: readonly string[]): string {
  return values.map((v) => (/[;"\r\n]/.test(v) ? `"${v.replaceAll('"', '\\"')}"` : v)).join(';');
}

/** The MyPay code of a ppay outcome code (crosswalk); PAA_IMPORT_ERROR where none fits. */
export function myPayRejectCode(line: OutcomeLine): string {
  const entry = line.errorCode ? OUTCOME_CROSSWALK[line.errorCode] : undefined;
  return entry?.mypay || 'PAA_IMPORT_ERROR';
}

/** An accepted row as MyPay writes it in `_IUV.csv` (§4): the assigned IUV, amounts `0.00`. */
function iuvRow(values: readonly string[], version: MyPayVersion, line: OutcomeLine): string[] {
  const row = [...values];
  row[F.codIuv] = line.iuv ?? row[F.codIuv] ?? '';
  const amountIndexes = [F.importoDovuto, F.commissioneCaricoPa];
  if (version === '1.4')
    amountIndexes.push(MB + MULTI_BENEFICIARY_FIELDS.indexOf('importoVersamentoEnteSecondario'));
  for (const index of amountIndexes) row[index] = reformattedAmount(row[index] ?? '');
  // The 13 multi-beneficiary fields are written only for rows that are multi-beneficiary.
  if (version === '1.4' && (row[MB] ?? '').trim().toLowerCase() !== 'true') {
    row.splice(MB, MULTI_BENEFICIARY_FIELDS.length);
  }
  return row.map((value) => neutraliseCell(value.trim()));
}

/** A rejected row as read; only when a cell would be read as a formula, its cells neutralised (csvSafety.ts). */
function inertRaw(raw: string): string {
  if (!isValid(() => splitMyPayLine(raw))) return neutraliseCell(raw);
  const cells = splitMyPayLine(raw);
  return cells.some(looksLikeFormula) ? myPayCsvLine(cells.map(neutraliseCell)) : raw;
}

function reformattedAmount(value: string): string {
  if (value.trim() === '') return '';
  return isValid(() => parseDecimalAmount(value.trim()))
    ? formatAmount(parseDecimalAmount(value.trim()))
    : value;
}

/**
 * Outcome lines in row order; orphans (no such data row, e.g. a file-level line 0) come first.
 * Throws if the lines are not ascending: the merge with the re-read input needs it.
 */
class OutcomeCursor {
  private last = -Infinity;
  private pending: OutcomeLine | undefined;

  constructor(private readonly iterator: AsyncIterator<OutcomeLine> | Iterator<OutcomeLine>) {}

  async next(): Promise<OutcomeLine | undefined> {
    if (this.pending) {
      const line = this.pending;
      this.pending = undefined;
      return line;
    }
    const { value, done } = await this.iterator.next();
    if (done) return undefined;
    if (value.rowNo < this.last)
      throw new Error(`outcome lines must be in row order: ${value.rowNo} after ${this.last}`);
    this.last = value.rowNo;
    return value;
  }

  /** The lines up to row `rowNo`, leaving later ones for the next rows. */
  async upTo(rowNo: number): Promise<OutcomeLine[]> {
    const lines: OutcomeLine[] = [];
    for (let line = await this.next(); line !== undefined; line = await this.next()) {
      if (line.rowNo > rowNo) {
        this.pending = line;
        break;
      }
      lines.push(line);
    }
    return lines;
  }
}

function iteratorOf<T>(lines: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in lines
    ? lines[Symbol.asyncIterator]()
    : (lines as Iterable<T>)[Symbol.iterator]();
}

/** A CSV written line by line with backpressure, then zipped alone into `<zip>`. */
class ZippedCsv {
  private readonly csvPath: string;
  private readonly out;

  constructor(
    private readonly zipPath: string,
    private readonly entryName: string,
  ) {
    this.csvPath = `${zipPath}.csv.part`;
    this.out = createWriteStream(this.csvPath);
  }

  async write(line: string): Promise<void> {
    if (!this.out.write(`${line}\r\n`))
      await new Promise<void>((resolve) => this.out.once('drain', () => resolve()));
  }

  /** Closes the CSV, zips it to `<zip>.part`, renames to `<zip>`: a reader never sees half a zip. */
  async finish(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    const zip = new yazl.ZipFile();
    zip.addFile(this.csvPath, this.entryName);
    zip.end();
    await pipeline(zip.outputStream, createWriteStream(`${this.zipPath}.part`));
    await rename(`${this.zipPath}.part`, this.zipPath);
    await rm(this.csvPath, { force: true });
  }

  async abandon(): Promise<void> {
    this.out.destroy();
    await rm(this.csvPath, { force: true });
    await rm(`${this.zipPath}.part`, { force: true });
  }
}

/**
 * Writes `<base>_SCARTI.zip` and `<base>_IUV.zip` into `outDir` for a flow (§4): the input is read
 * again and merged with its outcome lines by row number (both streamed, so the lines must be in
 * row order). SCARTI: the input header + `;cod_rifiuto;de_rifiuto`, then each rejected row raw
 * followed by the MyPay code and message. IUV: the input header, then each accepted (OK or WARN)
 * row with its IUV. ppay writes amounts as `0.00` and absent values empty, never `null` (§8).
 */
export async function writeMyPayOutcome(
  input: string,
  lines: AsyncIterable<OutcomeLine> | Iterable<OutcomeLine>,
  outDir: string,
  options: MyPayOutcomeOptions = {},
): Promise<MyPayOutcomeFiles> {
  const base = baseNameOf(input);
  const scarti = new ZippedCsv(path.join(outDir, `${base}_SCARTI.zip`), `${base}_SCARTI.csv`);
  const accepted = new ZippedCsv(path.join(outDir, `${base}_IUV.zip`), `${base}_IUV.csv`);
  const cursor = new OutcomeCursor(iteratorOf(lines));
  const counts = { accepted: 0, rejected: 0 };
  let version = options.version ?? parseMyPayFileName(input)?.version;
  let width = 0;
  const reject = async (raw: string, line: OutcomeLine | undefined) => {
    counts.rejected += 1;
    const code = line ? myPayRejectCode(line) : 'PAA_IMPORT_ERROR';
    const message = line?.errorMessage ?? 'no outcome for this row';
    await scarti.write(`${inertRaw(raw)};${myPayCsvLine([code, neutraliseCell(message)])}`);
  };
  try {
    let headerSeen = false;
    for await (const { line, text } of flowLines(input)) {
      if (!headerSeen) {
        headerSeen = true;
        version ??= versionOfHeader(text, line);
        width = myPayColumns(version).length;
        await scarti.write(`${text};cod_rifiuto;de_rifiuto`);
        await accepted.write(text);
        continue;
      }
      const outcomes = await cursor.upTo(line);
      const own = outcomes.filter((o) => o.rowNo === line);
      for (const orphan of outcomes.filter((o) => o.rowNo !== line))
        await reject(';'.repeat(width - 1), orphan);
      const failed = own.find((o) => o.outcome === 'KO');
      if (own.length === 0 || failed) {
        await reject(text, failed);
        continue;
      }
      counts.accepted += 1;
      const values = isValid(() => splitMyPayLine(text)) ? splitMyPayLine(text) : [text];
      await accepted.write(myPayCsvLine(iuvRow(values, version as MyPayVersion, own[0] as OutcomeLine)));
    }
    for (const orphan of await cursor.upTo(Infinity))
      await reject(';'.repeat(Math.max(0, width - 1)), orphan);
    await scarti.finish();
    await accepted.finish();
  } catch (err) {
    await scarti.abandon();
    await accepted.abandon();
    throw err;
  }
  return {
    scarti: path.join(outDir, `${base}_SCARTI.zip`),
    iuv: path.join(outDir, `${base}_IUV.zip`),
    ...counts,
  };
}

// Which reader takes a dropped file: the `--format` names, the format a file name announces (the
// ppay convention of fileNames.ts, PiemontePay's LIDC_ exports, MyPay's <codIPA>-<IUF>-1_x
// packages), the first row where the name does not say enough, and the one call that opens any
// input as an ImportFile. Spec: flat-file-formats.md §4, §6–8; DESIGN §8.

import { createReadStream } from 'node:fs';
import path from 'node:path';
import { domainError } from '../../domain/errors.ts';
import { parsePpayFileName, type PpayFileName } from '../fileNames.ts';
import { CsvLineError, readLines, splitCsvLine, type LineEncoding } from './csvLines.ts';
import {
  myPayVersionOfWidth,
  openPackagedCsv,
  parseMyPayFileName,
  readMyPayFlow,
  splitMyPayLine,
  type MyPayVersion,
} from './mypay.ts';
import {
  parseLidcFileName,
  piemontePayLayoutOfHeader,
  readPiemontePayList,
  sniffPiemontePayLayout,
  type PiemontePayLayout,
  type PiemontePayReadOptions,
} from './piemontepay.ts';
import { PPAY_CSV_FORMAT, readPpayCsv } from './ppayCsv.ts';
import { FileFormatError, type ImportFile } from './types.ts';
import { PPAY_XML_FORMAT, readXmlFile } from './xmlFile.ts';
import { readSheetRows, readXlsxTemplate, XLSX_FORMAT } from './xlsx.ts';

export const IMPORT_FORMATS = [
  PPAY_CSV_FORMAT,
  PPAY_XML_FORMAT,
  XLSX_FORMAT,
  'piemontepay-v2.9',
  'piemontepay-v2.8',
  'piemontepay-agpd-v2.8',
  'mypay-1.0',
  'mypay-1.1',
  'mypay-1.2',
  'mypay-1.3',
  'mypay-1.4',
] as const;

export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export function isImportFormat(value: string): value is ImportFormat {
  return (IMPORT_FORMATS as readonly string[]).includes(value);
}

/** A `--format` value; anything else is INVALID_INPUT with the list of names. */
export function parseImportFormat(value: string): ImportFormat {
  if (isImportFormat(value)) return value;
  throw domainError('INVALID_INPUT', `unknown format "${value}": use one of ${IMPORT_FORMATS.join(', ')}`, {
    field: 'format',
    value,
  });
}

const PIEMONTEPAY_FORMAT_OF: Readonly<Record<PiemontePayLayout, ImportFormat>> = {
  'v2.9': 'piemontepay-v2.9',
  'v2.8': 'piemontepay-v2.8',
  'agpd-v2.8': 'piemontepay-agpd-v2.8',
};

function myPayFormatOf(version: MyPayVersion): ImportFormat {
  return `mypay-${version}`;
}

function piemontePayLayoutOf(format: ImportFormat): PiemontePayLayout | null {
  const entry = Object.entries(PIEMONTEPAY_FORMAT_OF).find(([, f]) => f === format);
  return entry ? (entry[0] as PiemontePayLayout) : null;
}

function myPayVersionOf(format: ImportFormat): MyPayVersion | null {
  return format.startsWith('mypay-') ? (format.slice('mypay-'.length) as MyPayVersion) : null;
}

// ---------------------------------------------------------------------------------------------
// What the name says
// ---------------------------------------------------------------------------------------------

export type FormatFamily = 'ppay' | 'piemontepay' | 'mypay' | 'xlsx';

/** What a file name says: the family always, the exact format when the name carries it. */
export interface FileNameFacts {
  family: FormatFamily;
  /** Null when the first row must tell (PiemontePay list versions, an unnamed CSV or zip). */
  format: ImportFormat | null;
  enteFiscalCode?: string | undefined;
  enteIpaCode?: string | undefined;
  serviceCode?: string | undefined;
  flowId?: string | undefined;
  /** YYYY-MM-DD, from a ppay name that has it. */
  date?: string | undefined;
}

function ppayFacts(name: PpayFileName, format: ImportFormat): FileNameFacts {
  return {
    family: 'ppay',
    format,
    enteFiscalCode: name.enteFiscalCode,
    flowId: name.flowId,
    date: name.date,
  };
}

/** A ppay name with `.xlsx` (the template filled in): the convention with the workbook extension. */
function ppayXlsxName(fileName: string): PpayFileName | null {
  return /\.xlsx$/i.test(fileName) ? parsePpayFileName(fileName.replace(/\.xlsx$/i, '.csv')) : null;
}

/**
 * The format a file name announces, or null when it announces none (then only the content can
 * tell). MyPay names carry the version; LIDC_ names say PiemontePay but not which list version.
 */
export function factsOfFileName(filePath: string): FileNameFacts | null {
  const fileName = path.basename(filePath);
  const extension = path.extname(fileName).toLowerCase();
  const mypay = parseMyPayFileName(fileName);
  if (mypay) {
    return {
      family: 'mypay',
      format: myPayFormatOf(mypay.version),
      enteIpaCode: mypay.ipaCode,
      flowId: mypay.iuf,
    };
  }
  const lidc = parseLidcFileName(fileName);
  if (lidc) {
    return {
      family: 'piemontepay',
      format: null,
      enteFiscalCode: lidc.enteFiscalCode,
      serviceCode: lidc.serviceCode,
      flowId: lidc.idMessaggio,
    };
  }
  const ppay = parsePpayFileName(fileName);
  if (ppay) return ppayFacts(ppay, ppay.extension === 'xml' ? PPAY_XML_FORMAT : PPAY_CSV_FORMAT);
  const ppayXlsx = ppayXlsxName(fileName);
  if (ppayXlsx) return { ...ppayFacts(ppayXlsx, XLSX_FORMAT), family: 'xlsx' };
  if (extension === '.xml') return { family: 'ppay', format: PPAY_XML_FORMAT };
  if (extension === '.xlsx') return { family: 'xlsx', format: null };
  return null;
}

// ---------------------------------------------------------------------------------------------
// What the first row says
// ---------------------------------------------------------------------------------------------

/** The format a header row belongs to: ppay by its column names, MyPay and PiemontePay by width. */
export function formatOfHeaderRow(cells: readonly unknown[]): ImportFormat | null {
  const names = cells.map((cell) => (typeof cell === 'string' ? cell.trim().toLowerCase() : ''));
  if (names.includes('action') && names.includes('position_id')) return PPAY_CSV_FORMAT;
  if (names[0] === 'iud') {
    const version = myPayVersionOfWidth(names.length);
    return version ? myPayFormatOf(version) : null;
  }
  const layout = piemontePayLayoutOfHeader(cells.map((cell) => (typeof cell === 'string' ? cell : '')));
  return layout ? PIEMONTEPAY_FORMAT_OF[layout] : null;
}

/** The first non-blank line of a byte stream, read as ISO-8859-1 (every byte decodes). */
async function firstLine(stream: AsyncIterable<Uint8Array>, encoding: LineEncoding): Promise<string | null> {
  for await (const { text } of readLines(stream, { encoding })) {
    if (text.trim() !== '') return text;
  }
  return null;
}

function cellsOfLine(text: string): string[] {
  try {
    return splitCsvLine(text, ';');
  } catch (err) {
    if (!(err instanceof CsvLineError)) throw err;
    return splitMyPayLine(text);
  }
}

/** The format of a CSV or zipped CSV from its header row, or null. */
async function formatOfCsvContent(filePath: string): Promise<ImportFormat | null> {
  const { stream, done } =
    path.extname(filePath).toLowerCase() === '.zip'
      ? await openPackagedCsv(filePath)
      : { stream: createReadStream(filePath), done: () => undefined };
  try {
    const line = await firstLine(stream, 'latin1');
    return line === null ? null : formatOfHeaderRow(cellsOfLine(line));
  } catch (err) {
    if (err instanceof CsvLineError) return null;
    throw err;
  } finally {
    stream.destroy();
    done();
  }
}

/** The format of a workbook from its first row: the ppay template, or a PiemontePay list. */
async function formatOfWorkbook(filePath: string): Promise<ImportFormat> {
  for await (const row of readSheetRows(filePath)) {
    const format = formatOfHeaderRow(row.cells);
    return format && format.startsWith('piemontepay-') ? format : XLSX_FORMAT;
  }
  return XLSX_FORMAT;
}

/**
 * The format of a file: `--format` when given, else its name, else its first row. A file no rule
 * recognises is F_NAME (the drop folder answers it without guessing).
 */
export async function detectImportFormat(filePath: string, format?: ImportFormat): Promise<ImportFormat> {
  if (format) return format;
  const facts = factsOfFileName(filePath);
  if (facts?.format) return facts.format;
  if (facts?.family === 'xlsx') return formatOfWorkbook(filePath);
  if (facts?.family === 'piemontepay') {
    const layout = await sniffPiemontePayLayout(filePath);
    // A LIDC_ file with a wrong header is read as v2.9 so that its reader says F_HEADER.
    return PIEMONTEPAY_FORMAT_OF[layout ?? 'v2.9'];
  }
  const extension = path.extname(filePath).toLowerCase();
  const byContent = extension === '.csv' || extension === '.zip' ? await formatOfCsvContent(filePath) : null;
  if (byContent) return byContent;
  throw new FileFormatError(
    'F_NAME',
    `cannot tell the format of ${path.basename(filePath)}: follow a file name convention or give --format (${IMPORT_FORMATS.join(', ')})`,
  );
}

// ---------------------------------------------------------------------------------------------
// Opening
// ---------------------------------------------------------------------------------------------

/** Everything a reader may need; each format takes the options that apply to it. */
export interface OpenImportOptions extends Omit<PiemontePayReadOptions, 'flowId' | 'enteFiscalCode'> {
  format?: ImportFormat | undefined;
  /** The drop folder's ente (checked by the XML reader; given to every header). */
  enteFiscalCode?: string | undefined;
  /** The drop folder's ente IPA code, checked against MyPay names (F_ENTE). */
  enteIpaCode?: string | undefined;
  flowId?: string | undefined;
  /** XML: the pinned certificate of signed files. */
  trustedCertificatePem?: string | undefined;
  maxXmlBytes?: number | undefined;
}

export type ImportReader = (filePath: string, options: OpenImportOptions) => Promise<ImportFile>;

function nameHeader(filePath: string, options: OpenImportOptions) {
  const facts = factsOfFileName(filePath);
  return {
    enteFiscalCode: options.enteFiscalCode ?? facts?.enteFiscalCode,
    serviceCode: options.serviceCode ?? facts?.serviceCode,
    flowId: options.flowId ?? facts?.flowId ?? path.basename(filePath, path.extname(filePath)),
  };
}

async function openPpayCsv(filePath: string, options: OpenImportOptions): Promise<ImportFile> {
  const { stream, done } = await openPackagedCsv(filePath);
  const file = readPpayCsv(stream, {
    expectCount: options.expectCount,
    expectTotalCents: options.expectTotalCents,
    header: nameHeader(filePath, options),
  });
  return { header: file.header, items: closingAfter(file.items, done) };
}

/** The items, then `done()` however the iteration ends. */
async function* closingAfter<T>(items: AsyncIterable<T>, done: () => void): AsyncGenerator<T> {
  try {
    yield* items;
  } finally {
    done();
  }
}

async function openPpayXml(filePath: string, options: OpenImportOptions): Promise<ImportFile> {
  return readXmlFile(createReadStream(filePath), {
    enteFiscalCode: options.enteFiscalCode,
    trustedCertificatePem: options.trustedCertificatePem,
    maxBytes: options.maxXmlBytes,
  });
}

async function openXlsx(filePath: string, options: OpenImportOptions): Promise<ImportFile> {
  return readXlsxTemplate(filePath, {
    expectCount: options.expectCount,
    expectTotalCents: options.expectTotalCents,
    header: nameHeader(filePath, options),
  });
}

function piemontePayReader(layout: PiemontePayLayout): ImportReader {
  return async (filePath, options) => readPiemontePayList(filePath, layout, options);
}

function myPayReader(version: MyPayVersion): ImportReader {
  return async (filePath, options) =>
    readMyPayFlow(filePath, {
      version,
      enteIpaCode: options.enteIpaCode,
      enteFiscalCode: options.enteFiscalCode,
      flowId: options.flowId,
      expectCount: options.expectCount,
      expectTotalCents: options.expectTotalCents,
    });
}

/** The reader of a format. */
export function readerFor(format: ImportFormat): ImportReader {
  if (format === PPAY_CSV_FORMAT) return openPpayCsv;
  if (format === PPAY_XML_FORMAT) return openPpayXml;
  if (format === XLSX_FORMAT) return openXlsx;
  const layout = piemontePayLayoutOf(format);
  if (layout) return piemontePayReader(layout);
  return myPayReader(myPayVersionOf(format) as MyPayVersion);
}

/**
 * Opens any input: the format from `options.format`, the file name or the first row, then its
 * reader. Throws FileFormatError F_NAME for a file no rule recognises.
 */
export async function openImportFile(filePath: string, options: OpenImportOptions = {}): Promise<ImportFile> {
  const format = await detectImportFormat(filePath, options.format);
  return readerFor(format)(filePath, options);
}

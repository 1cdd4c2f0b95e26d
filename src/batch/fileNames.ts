// The drop-folder file name convention of the ppay formats (README "File names"): the name carries
// the creditor ente, the gestionale's flow id and the flow's date, so a file can be routed and
// recognised as a repeat before it is opened.
//
//   <ente CF>_<flowId>_<YYYYMMDD>_ppay-1.<csv|xml|zip>   e.g. 01234567897_TARI-2024-0042_20240201_ppay-1.csv
//   <ente CF>_<flowId>_ppay-1.<csv|xml|zip>              the shorter form of flat-file-formats.md §6
//
// The outcome of `<base>.<ext>` is `<base>.esito.csv` (and `<base>.esito.xml` for an XML input).

import { parseEnteFiscalCode } from '../domain/fiscalCode.ts';
import { parseIsoDate } from '../domain/position.ts';
import { FileFormatError } from './formats/types.ts';

export const PPAY_FORMAT_TAG = 'ppay-1';
export const PPAY_EXTENSIONS = ['csv', 'xml', 'zip'] as const;
export type PpayExtension = (typeof PPAY_EXTENSIONS)[number];

export interface PpayFileName {
  enteFiscalCode: string;
  flowId: string;
  /** YYYY-MM-DD, when the name carries it. */
  date?: string | undefined;
  extension: PpayExtension;
}

// The flow id is a pt:stIdentifier without ':' (not allowed in file names on every system). It may
// hold '_': the date and the tag are matched from the end, so `A_B_20240201` reads as flow `A_B`.
const NAME = /^(\d{11})_([A-Za-z0-9][A-Za-z0-9._-]{0,63}?)(?:_(\d{4})(\d{2})(\d{2}))?_ppay-1\.([A-Za-z]{3})$/;
const FLOW_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function isExtension(value: string): value is PpayExtension {
  return (PPAY_EXTENSIONS as readonly string[]).includes(value);
}

function validEnte(code: string): boolean {
  try {
    parseEnteFiscalCode(code);
    return true;
  } catch {
    return false;
  }
}

function validDate(date: string): boolean {
  try {
    parseIsoDate(date);
    return true;
  } catch {
    return false;
  }
}

/** The parts of a ppay file name, or null when the name does not follow the convention. */
export function parsePpayFileName(fileName: string): PpayFileName | null {
  const match = NAME.exec(fileName);
  if (!match) return null;
  const [, ente = '', flowId = '', year, month, day, ext = ''] = match;
  const extension = ext.toLowerCase();
  if (!isExtension(extension) || !validEnte(ente)) return null;
  const date = year ? `${year}-${month}-${day}` : undefined;
  if (date !== undefined && !validDate(date)) return null;
  return { enteFiscalCode: ente, flowId, date, extension };
}

/** As parsePpayFileName, but a name off the convention is F_NAME. */
export function requirePpayFileName(fileName: string): PpayFileName {
  const parsed = parsePpayFileName(fileName);
  if (parsed) return parsed;
  throw new FileFormatError(
    'F_NAME',
    `"${fileName}" does not follow <ente CF>_<flowId>_<YYYYMMDD>_${PPAY_FORMAT_TAG}.<csv|xml|zip>`,
  );
}

/** The file name for these parts (with the date when given). Throws RangeError on bad parts. */
export function formatPpayFileName(parts: PpayFileName): string {
  if (!validEnte(parts.enteFiscalCode))
    throw new RangeError(`not an ente fiscal code: ${parts.enteFiscalCode}`);
  if (!FLOW_ID.test(parts.flowId)) throw new RangeError(`not a file-name flow id: ${parts.flowId}`);
  if (parts.date !== undefined && !validDate(parts.date)) throw new RangeError(`not a date: ${parts.date}`);
  const date = parts.date ? `_${parts.date.replace(/-/g, '')}` : '';
  return `${parts.enteFiscalCode}_${parts.flowId}${date}_${PPAY_FORMAT_TAG}.${parts.extension}`;
}

/** The name without its last extension: `a_ppay-1.csv` → `a_ppay-1`. */
export function baseName(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}

/** `<input base>.esito.csv`, the outcome of any input file (every format). */
export function outcomeFileName(inputFileName: string): string {
  return `${baseName(inputFileName)}.esito.csv`;
}

/** `<input base>.esito.xml`, the debtPositionsOutcome of an XML input. */
export function outcomeXmlFileName(inputFileName: string): string {
  return `${baseName(inputFileName)}.esito.xml`;
}

// Rows of cells for the legacy flat files (PiemontePay lists, MyPay flows, the .xlsx template): the
// cell and row types the readers share, the encoding sniff of PiemontePay's ISO-8859-1 default, the
// small value checks (dates, e-mail, taxonomy) and the CSV line writer of their outcome files.
// Lines are read by csvLines.ts (one record per physical line). Spec: flat-file-formats.md §1, §4.

import fs from 'node:fs/promises';
import type { LineEncoding } from './csvLines.ts';

/** A spreadsheet cell as exceljs gives it; CSV cells are always strings. */
export type SheetCell = string | number | boolean | Date | null | undefined;

/** One physical row: `line` is 1-based and counts every line of the file (the header is line 1). */
export interface CellRow<C extends SheetCell = string> {
  line: number;
  cells: C[];
}

/** How many bytes the encoding sniff looks at: enough for a few hundred rows. */
const SNIFF_BYTES = 64 * 1024;
const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * The encoding to read a file declared ISO-8859-1 with. PiemontePay decodes ISO-8859-1 although its
 * v2.9 template is stored in UTF-8 (§1), so gestionali send both: a UTF-8 BOM, or a first block that
 * is valid UTF-8 and holds multi-byte characters, means UTF-8. Italian Latin-1 text practically
 * never forms valid UTF-8 sequences (`Ã©`-like pairs), so the guess does not misread real Latin-1.
 */
export async function sniffLatin1OrUtf8(filePath: string): Promise<LineEncoding> {
  const handle = await fs.open(filePath, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return looksLikeUtf8(buffer.subarray(0, bytesRead)) ? 'utf-8' : 'latin1';
  } finally {
    await handle.close();
  }
}

function looksLikeUtf8(bytes: Buffer): boolean {
  if (UTF8_BOM.every((b, i) => bytes[i] === b)) return true;
  if (!bytes.some((b) => b >= 0x80)) return false;
  // A multi-byte character cut at the end of the block is not evidence against UTF-8.
  let end = bytes.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const b = bytes[end - back] as number;
    if (b >= 0xc0) {
      end -= back;
      break;
    }
    if (b < 0x80) break;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}

/** Cells with only blanks count as empty in every legacy format. */
export function isBlank(value: SheetCell): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** A row that holds nothing but blank cells (spreadsheet exports end with those). */
export function isBlankRow(cells: readonly SheetCell[]): boolean {
  return cells.every((cell) => isBlank(cell));
}

/** The number of cells up to the last non-blank one (a header's width, whatever trails it). */
export function filledWidth(cells: readonly SheetCell[]): number {
  let width = cells.length;
  while (width > 0 && isBlank(cells[width - 1])) width -= 1;
  return width;
}

/** A calendar date given as digits `yyyyMMdd` (PiemontePay) → `YYYY-MM-DD`, or null when it is not one. */
export function compactDateToIso(value: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (m === null) return null;
  return calendarDate(`${m[1]}-${m[2]}-${m[3]}`);
}

/** `YYYY-MM-DD` when it names a real calendar day, else null. */
export function calendarDate(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m === null) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  const real = date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
  return real ? value : null;
}

/** A spreadsheet date cell as `YYYY-MM-DD`: exceljs gives dates at UTC midnight. */
export function isoDateOfCell(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The e-mail pattern PiemontePay checks (§1 idx 46); MyPay's is not stricter. */
export const LEGACY_EMAIL = /^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/;

/** pagoPA taxonomy in datiSpecificiRiscossione form, e.g. `9/0101100IM/`. */
export const TAXONOMY = /^[0129]\/\S{3,138}$/;

/** ppay position ids (§6): printable ASCII without `;`, at most 50. */
export const PPAY_POSITION_ID = /^[\x21-\x3a\x3c-\x7e]{1,50}$/;

/** One `;`-separated line, RFC 4180 quoting where a value needs it; no line terminator. */
export function csvLine(values: readonly (string | number | undefined)[]): string {
  return values
    .map((value) => {
      const text = value === undefined ? '' : String(value);
      return /[;"\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    })
    .join(';');
}

/** Text for an ISO-8859-1 file: characters outside Latin-1 (€, “, …) become `?`, not mojibake. */
export function latin1Bytes(text: string): Buffer {
  return Buffer.from(text.replace(/[\u0100-\u{10ffff}]/gu, '?'), 'latin1');
}

/**
 * A copy of `text` that holds nothing else alive. V8 keeps a substring of a longer string (a cell
 * cut from its line) as a slice pointing at the whole line: an id remembered for the whole file
 * (duplicate checks) would keep every line of the file in memory with it.
 */
export function detachedCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

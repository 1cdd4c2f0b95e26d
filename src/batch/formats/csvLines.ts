// Reading delimited flat files one physical line at a time: bytes are split on LF (CRLF tolerated),
// each line decoded on its own (UTF-8 strictly, or ISO-8859-1) and split into fields with RFC 4180
// quotes. Every format in this folder has one record per physical line (flat-file-formats.md §1, §4,
// §6), so a line is the unit: memory holds one line, line numbers are exact, and a broken quote
// fails its own line instead of swallowing the rest of the file. csv-parse is not used for this:
// its stream, after a broken quote, resynchronises on later lines (with skip_records_with_error one
// stray quote swallowed the rest of a test file), and its sync API costs ~80 µs per line.

import { FileFormatError } from './types.ts';

export type LineEncoding = 'utf-8' | 'latin1';

export interface LineReaderOptions {
  encoding?: LineEncoding;
  /** A longer line rejects the file (F_FORMAT): it is not a flat file of this kind. */
  maxLineBytes?: number;
}

export interface TextLine {
  /** Physical line number, first line = 1. */
  line: number;
  text: string;
}

/** Far above the longest legitimate row (61 columns, metadata ≤4096), far below a memory risk. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const UTF8_BOM = [0xef, 0xbb, 0xbf];

function hasUtf8Bom(bytes: Uint8Array): boolean {
  return UTF8_BOM.every((b, i) => bytes[i] === b);
}

function decoderFor(encoding: LineEncoding): (bytes: Buffer, line: number) => string {
  if (encoding === 'latin1') return (bytes) => bytes.toString('latin1');
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return (bytes, line) => {
    // UTF-16 text is mostly valid UTF-8 byte by byte; its NULs give it away.
    if (bytes.includes(0)) {
      throw new FileFormatError(
        'F_ENCODING',
        `line ${line} contains NUL bytes: the file is not UTF-8 text`,
        line,
      );
    }
    try {
      return utf8.decode(bytes);
    } catch {
      throw new FileFormatError(
        'F_ENCODING',
        `line ${line} is not valid UTF-8: the file must be saved as UTF-8 (not ISO-8859-1 / Windows-1252)`,
        line,
      );
    }
  };
}

function withoutCr(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, -1) : bytes;
}

/**
 * The lines of a byte stream, decoded, without their CR/LF; a UTF-8 BOM at the start is dropped.
 * Throws FileFormatError F_ENCODING at the first line that does not decode, F_FORMAT at a line
 * longer than maxLineBytes. A final line without LF is still a line; an empty input has none.
 */
export async function* readLines(
  input: AsyncIterable<Uint8Array | string>,
  options: LineReaderOptions = {},
): AsyncGenerator<TextLine> {
  const decode = decoderFor(options.encoding ?? 'utf-8');
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let carry: Buffer = Buffer.alloc(0);
  let line = 0;
  const emit = (bytes: Buffer): TextLine => {
    line += 1;
    if (bytes.length > maxLineBytes) {
      throw new FileFormatError('F_FORMAT', `line ${line} is longer than ${maxLineBytes} bytes`, line);
    }
    const body = line === 1 && hasUtf8Bom(bytes) ? bytes.subarray(UTF8_BOM.length) : bytes;
    return { line, text: decode(withoutCr(body), line) };
  };
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    const buffer = carry.length > 0 ? Buffer.concat([carry, bytes]) : bytes;
    let start = 0;
    for (let lf = buffer.indexOf(LF, start); lf !== -1; lf = buffer.indexOf(LF, start)) {
      yield emit(buffer.subarray(start, lf));
      start = lf + 1;
    }
    // Copied so that the chunk the remainder came from is not kept alive by it.
    carry = Buffer.from(buffer.subarray(start));
    if (carry.length > maxLineBytes) {
      throw new FileFormatError(
        'F_FORMAT',
        `line ${line + 1} is longer than ${maxLineBytes} bytes`,
        line + 1,
      );
    }
  }
  if (carry.length > 0) yield emit(carry);
}

/** A line whose quoting is broken; the message says where. */
export class CsvLineError extends Error {
  override readonly name = 'CsvLineError';
}

/**
 * Splits one line into fields: `delimiter`-separated, a field wholly in `"` may hold the delimiter
 * and `""` for a quote (RFC 4180). A quote inside an unquoted field is kept as text. Throws
 * CsvLineError for an unclosed quote or text after a closing quote.
 */
export function splitCsvLine(text: string, delimiter = ';'): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charAt(i) !== '"') {
      const end = text.indexOf(delimiter, i);
      if (end === -1) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, end));
      i = end + delimiter.length;
      continue;
    }
    let value = '';
    let from = i + 1;
    for (;;) {
      const quote = text.indexOf('"', from);
      if (quote === -1)
        throw new CsvLineError(`field ${fields.length + 1} opens a quote that is never closed`);
      value += text.slice(from, quote);
      if (text.charAt(quote + 1) === '"') {
        value += '"';
        from = quote + 2;
        continue;
      }
      i = quote + 1;
      break;
    }
    fields.push(value);
    if (i === text.length) return fields;
    if (!text.startsWith(delimiter, i)) {
      throw new CsvLineError(`field ${fields.length} has text after its closing quote`);
    }
    i += delimiter.length;
  }
}

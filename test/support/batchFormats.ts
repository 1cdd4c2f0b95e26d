// Helpers shared by the batch format specs: reading a whole ImportFile into records, row errors and
// the file-level failure, and writing small CSV inputs from row objects.

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PROJECT_ROOT } from '../../src/xml/paths.ts';
import {
  isFileFormatError,
  type FileFormatError,
  type ImportFile,
  type ImportItem,
  type ImportRecord,
  type ImportRowError,
} from '../../src/batch/formats/types.ts';

export const PPAY_FIXTURES = path.join(PROJECT_ROOT, 'fixtures/batch/ppay');

export function fixtureStream(name: string): fs.ReadStream {
  return fs.createReadStream(path.join(PPAY_FIXTURES, name));
}

/** The bytes as a stream of chunks of `size` bytes (to cut lines and characters anywhere). */
export function chunked(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

export function textStream(text: string | Buffer): Readable {
  return Readable.from([Buffer.from(text)]);
}

export interface ReadResult {
  items: ImportItem[];
  records: ImportRecord[];
  errors: ImportRowError[];
  fileError: FileFormatError | null;
}

/** Iterates to the end; a FileFormatError is caught and returned with what came before it. */
export async function readAll(file: ImportFile): Promise<ReadResult> {
  const items: ImportItem[] = [];
  let fileError: FileFormatError | null = null;
  try {
    for await (const item of file.items) items.push(item);
  } catch (err) {
    if (!isFileFormatError(err)) throw err;
    fileError = err;
  }
  return {
    items,
    records: items.flatMap((i) => (i.record ? [i.record] : [])),
    errors: items.flatMap((i) => (i.error ? [i.error] : [])),
    fileError,
  };
}

/** One short string per item: `R <positionId> <lines>` or `E <line> <code> <field>`. */
export function summary(items: readonly ImportItem[]): string[] {
  return items.map((i) =>
    i.record
      ? `R ${i.record.action} ${i.record.positionId} ${i.record.lines.join(',')}`
      : `E ${i.error.line} ${i.error.code} ${i.error.field ?? '-'}`,
  );
}

/** Drops undefined properties, so expectations need not list them. */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A ppay CSV text with the union of the rows' keys as header, in first-seen order. */
export function ppayCsv(rows: ReadonlyArray<Record<string, string>>, newline = '\n'): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const quote = (v: string) => (/[;"]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [columns.join(';'), ...rows.map((r) => columns.map((c) => quote(r[c] ?? '')).join(';'))];
  return lines.join(newline) + newline;
}

/** A valid single-payment INSERT row; `changes` overrides or adds columns. */
export function insertRow(positionId: string, changes: Record<string, string> = {}): Record<string, string> {
  return {
    action: 'I',
    position_id: positionId,
    service_code: 'TARI',
    description: `TARI ${positionId}`,
    debtor_type: 'F',
    debtor_fiscal_code: 'RSSMRA80A01H501U',
    debtor_name: 'Rossi',
    debtor_first_name: 'Mario',
    installment_no: '0',
    due_date: '2024-04-30',
    amount_cents: '1000',
    ...changes,
  };
}

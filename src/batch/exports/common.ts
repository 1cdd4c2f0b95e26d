// What the nightly exports share (issue 7 item 4): the Italian day they cover and its UTC bounds,
// the enti they are written for, their file names, and the CSV writer that streams rows into the
// ente's out/ folder through its drop folder (an atomic `.part` → rename, so a re-run replaces the
// file whole and a gestionale never reads half of one).
//
// CSV conventions (flat-file-formats.md §6, as the reconciliation export): UTF-8 without BOM, `;`,
// RFC 4180 quoting, CRLF, a header row (also when there is no data row), amounts in integer cents,
// dates YYYY-MM-DD, an empty value means absent, a line break inside a text becomes a space.
// File names (src/batch/fileNames.ts): `<ente CF>_<KIND>_<YYYYMMDD>_ppay-1.csv`, the day covered.

import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { domainError } from '../../domain/errors.ts';
import { parseIsoDate } from '../../domain/position.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import { romeDayRange, type DayRange } from '../../pagopa/time.ts';
import { openEnteDropFolder } from '../enteDropFolders.ts';
import type { DropFolder } from '../dropFolder/port.ts';
import { formatPpayFileName } from '../fileNames.ts';
import { neutraliseValue } from '../formats/csvSafety.ts';

/** Kept here too: the exports were their first users. */
export { romeDayRange, type DayRange };

export type ExportKind = 'PAGATI' | 'SCADUTI';

export interface DailyExportOptions {
  store: Store;
  /** PPAY_DATA_DIR: local drop folders are <dataDir>/sftp/<ente fiscal code>/. */
  dataDir: string;
  /** The Italian day covered, YYYY-MM-DD. */
  date: string;
  /** Only this ente (even if no longer active); by default every active ente. */
  enteFiscalCode?: string;
  /** The ente's drop folder; by default as its settings say (src/batch/enteDropFolders.ts). */
  dropFolderFor?: (enteFiscalCode: string) => DropFolder | Promise<DropFolder>;
}

export interface ExportedFile {
  enteFiscalCode: string;
  fileName: string;
  /** Where the file went: the drop folder's location plus out/<fileName>. */
  location: string;
  /** Data rows (the header not counted). */
  rows: number;
}

export interface DailyExportResult {
  kind: ExportKind;
  date: string;
  files: ExportedFile[];
}

export const PAGE_SIZE = 500;

/** The day, checked: INVALID_DATE when it is not a real YYYY-MM-DD date. */
export function requireDay(date: string): string {
  parseIsoDate(date);
  return date;
}

export async function exportEnti(store: Store, enteFiscalCode: string | undefined): Promise<Ente[]> {
  if (enteFiscalCode === undefined) return (await store.enti.list()).filter((e) => e.status === 'active');
  const ente = await store.enti.getByFiscalCode(enteFiscalCode);
  if (!ente) throw domainError('ENTE_UNKNOWN', `no ente ${enteFiscalCode}`, { enteFiscalCode });
  return [ente];
}

export function exportFileName(enteFiscalCode: string, kind: ExportKind, date: string): string {
  return formatPpayFileName({ enteFiscalCode, flowId: kind, date, extension: 'csv' });
}

export async function dropFolderOf(options: DailyExportOptions, ente: Ente): Promise<DropFolder> {
  if (options.dropFolderFor) return options.dropFolderFor(ente.fiscalCode);
  return openEnteDropFolder(options.store, options.dataDir, ente);
}

export type CsvValue = string | number | null | undefined;

/** Text values neutralised against formula injection (csvSafety.ts), numbers as they are. */
function oneLine(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  return String(neutraliseValue(value)).replace(/\r\n|[\r\n]/g, ' ');
}

function csvLines(
  columns: readonly string[],
  rows: ReadonlyArray<Readonly<Record<string, CsvValue>>>,
): string {
  return stringify(
    rows.map((row) => columns.map((c) => oneLine(row[c]))),
    { delimiter: ';', record_delimiter: 'windows' },
  );
}

/**
 * Writes out/<fileName> in the ente's drop folder: the header, then the rows of every page `pages`
 * yields, streamed. Returns the number of data rows. The file appears only once complete.
 */
export async function writeCsvExport(
  folder: DropFolder,
  fileName: string,
  columns: readonly string[],
  pages: AsyncIterable<ReadonlyArray<Readonly<Record<string, CsvValue>>>>,
): Promise<number> {
  let rows = 0;
  async function* lines(): AsyncGenerator<string> {
    yield csvLines([...columns], [Object.fromEntries(columns.map((c) => [c, c]))]);
    for await (const page of pages) {
      rows += page.length;
      if (page.length > 0) yield csvLines(columns, page);
    }
  }
  await folder.ensureLayout();
  await folder.writeOut(fileName, Readable.from(lines()));
  return rows;
}

/** Runs `write` for each ente's drop folder, closing the folder after (remote ones hold a connection). */
export async function forEachEnte(
  options: DailyExportOptions,
  kind: ExportKind,
  write: (ente: Ente, folder: DropFolder, fileName: string) => Promise<number>,
): Promise<DailyExportResult> {
  const date = requireDay(options.date);
  const files: ExportedFile[] = [];
  for (const ente of await exportEnti(options.store, options.enteFiscalCode)) {
    const folder = await dropFolderOf(options, ente);
    const fileName = exportFileName(ente.fiscalCode, kind, date);
    try {
      const rows = await write(ente, folder, fileName);
      files.push({
        enteFiscalCode: ente.fiscalCode,
        fileName,
        location: `${folder.location}/out/${fileName}`,
        rows,
      });
    } finally {
      await folder.close();
    }
  }
  return { kind, date, files };
}

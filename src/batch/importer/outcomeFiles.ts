// The outcome files of an import, written once its result is decided, from what the database holds
// (never from memory): `out/<input base>.esito.csv` streamed in row order, one line per input data
// line (or the single row-0 line of a rejected file), and for XML inputs the debtPositionsOutcome
// document `<input base>.esito.xml`. Each is written as a `.part` renamed at the end, so a killed
// writer leaves no half file under the final name; writing again after a crash gives the same bytes.

import { readdir } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { FileImport, ImportLine } from '../../db/repositories/imports.ts';
import type { NoticeResult } from '../../app/gestionale/uploadItems.ts';
import { LocalDropFolder } from '../dropFolder/local.ts';
import { removeIfPresent } from '../dropFolder/localFiles.ts';
import type { DropFolder } from '../dropFolder/port.ts';
import { outcomeFileName, outcomeXmlFileName } from '../fileNames.ts';
import {
  buildOutcomeXml,
  fileRejectionLine,
  OutcomeCsvWriter,
  type OutcomeXmlRecord,
} from '../formats/outcome.ts';
import type { FileErrorCode, ImportAction, OutcomeCode, OutcomeLine } from '../formats/types.ts';
import { PPAY_XML } from './readers.ts';

/** Lines read from the database per query while streaming the CSV outcome. */
const PAGE_SIZE = 2000;

export function outcomeLineOf(line: ImportLine): OutcomeLine {
  return {
    rowNo: line.rowNo,
    positionId: line.positionId ?? undefined,
    installmentNo: line.installmentNo ?? undefined,
    action: (line.action ?? undefined) as ImportAction | undefined,
    outcome: line.outcome,
    errorCode: (line.errorCode ?? undefined) as OutcomeCode | undefined,
    errorMessage: line.errorMessage ?? undefined,
    iuv: line.iuv ?? undefined,
    noticeNumber: line.noticeNumber ?? undefined,
    amountCents: line.amountCents ?? undefined,
    dueDate: line.dueDate ?? undefined,
  };
}

/** Whether the input was a ppay XML file (answered with an XML outcome too). */
export function isXmlImport(imp: FileImport): boolean {
  return imp.format === PPAY_XML || (imp.format === null && /\.xml$/i.test(imp.fileName));
}

export function rejectionOf(imp: FileImport): { code: FileErrorCode; message: string } | null {
  if (imp.result !== 'REJECTED' || !imp.errorCode) return null;
  return { code: imp.errorCode as FileErrorCode, message: imp.errorMessage ?? imp.errorCode };
}

/** `.part` files a killed writer left for this name (the random part differs on every write). */
export async function removeLeftoverParts(folder: DropFolder, name: string): Promise<void> {
  if (!(folder instanceof LocalDropFolder)) return;
  const out = folder.pathOf('out');
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.[0-9a-f]{8}\\.part$`);
  for (const entry of await readdir(out)) {
    if (pattern.test(entry)) await removeIfPresent(folder.pathOf('out', entry));
  }
}

/** The import's lines in row order, read a page at a time (beating between pages). */
export async function* pagesOf(
  store: Store,
  importId: string,
  beat: () => Promise<void>,
): AsyncGenerator<ImportLine> {
  let after = 0;
  for (;;) {
    const page = await store.imports.lines(importId, { afterRowNo: after, limit: PAGE_SIZE });
    const last = page[page.length - 1];
    if (!last) return;
    yield* page;
    after = last.rowNo;
    await beat();
  }
}

/** Streams the CSV outcome into out/ while reading it from the database. */
async function writeCsv(store: Store, folder: DropFolder, imp: FileImport, beat: () => Promise<void>) {
  const name = outcomeFileName(imp.fileName);
  await removeLeftoverParts(folder, name);
  const rejection = rejectionOf(imp);
  const body = new PassThrough();
  const writer = new OutcomeCsvWriter(body);
  const produce = async () => {
    if (rejection) await writer.write(fileRejectionLine(rejection));
    else for await (const line of pagesOf(store, imp.id, beat)) await writer.write(outcomeLineOf(line));
    await writer.finish();
  };
  // Either side failing ends the stream, so the other one stops instead of waiting on it.
  const endBody = (err: unknown) => {
    body.destroy(err as Error);
    throw err;
  };
  const results = await Promise.allSettled([
    folder.writeOut(name, body).catch(endBody),
    produce().catch(endBody),
  ]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function xmlRecordOf(line: ImportLine): OutcomeXmlRecord {
  return {
    line: line.rowNo,
    positionId: line.positionId ?? undefined,
    installment: line.installmentNo ?? undefined,
    action: (line.action ?? undefined) as ImportAction | undefined,
    outcome: line.outcome,
    errorCode: (line.errorCode ?? undefined) as OutcomeCode | undefined,
    message: line.errorMessage ?? undefined,
    notices: Array.isArray(line.notices) ? (line.notices as NoticeResult[]) : [],
  };
}

/** The XML outcome; an XML input is at most a few MB (xmlFile.ts), so its records fit in memory. */
async function writeXml(
  store: Store,
  folder: DropFolder,
  imp: FileImport,
  ente: Ente,
  beat: () => Promise<void>,
) {
  const name = outcomeXmlFileName(imp.fileName);
  await removeLeftoverParts(folder, name);
  const records: OutcomeXmlRecord[] = [];
  if (!rejectionOf(imp))
    for await (const line of pagesOf(store, imp.id, beat)) records.push(xmlRecordOf(line));
  const xml = buildOutcomeXml(
    {
      enteFiscalCode: ente.fiscalCode,
      flowId: imp.flowId ?? undefined,
      uploadId: imp.id,
      sourceFileName: imp.fileName,
      sourceSha256: imp.sha256 ?? undefined,
      processedAt: imp.updatedAt,
      rejection: rejectionOf(imp) ?? undefined,
    },
    records,
  );
  await folder.writeOut(name, xml);
}

/** Writes every outcome file of an import whose result is decided (status WRITING_OUTCOME). */
export async function writeOutcomeFiles(
  store: Store,
  folder: DropFolder,
  imp: FileImport,
  ente: Ente,
  beat: () => Promise<void>,
): Promise<string[]> {
  await writeCsv(store, folder, imp, beat);
  if (!isXmlImport(imp)) return [outcomeFileName(imp.fileName)];
  await writeXml(store, folder, imp, ente, beat);
  return [outcomeFileName(imp.fileName), outcomeXmlFileName(imp.fileName)];
}

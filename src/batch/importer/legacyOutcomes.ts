// The outcome files a legacy gestionale reads, written next to ppay's own for the inputs read as
// its format (flat-file-formats.md §7–8): a PiemontePay list gets `<base>_ESITO.csv`
// (IdPosizioneDebitoria;IUV;CodiceAvviso;CodiceEsito;DescrizioneEsito, codes of §3.3), a MyPay flow
// `<base>_SCARTI.zip` and `<base>_IUV.zip` (§4). Like the ppay outcome they are written from the
// database's import_lines once the result is decided: each is staged in the import's work folder,
// then written to out/ as a `.part` renamed at the end, so a killed writer is simply run again.

import { createReadStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Store } from '../../db/store.ts';
import type { FileImport } from '../../db/repositories/imports.ts';
import type { DropFolder } from '../dropFolder/port.ts';
import { parsePpayFileName } from '../fileNames.ts';
import type { MyPayVersion } from '../formats/mypay.ts';
import type { PiemontePayOutcomeInput } from '../formats/piemontepay.ts';
import { fileRejectionLine } from '../formats/outcome.ts';
import type { OutcomeLine } from '../formats/types.ts';
import { outcomeLineOf, pagesOf, rejectionOf, removeLeftoverParts } from './outcomeFiles.ts';
import { ORIGINAL_DEBTOR_FIELD } from './records.ts';

// The legacy formats' modules bring the workbook and zip libraries: loaded only when needed, so a
// ppay CSV import does not pay for them (see readers.ts).
const detector = () => import('../formats/detect.ts');
const piemontePay = () => import('../formats/piemontepay.ts');
const myPay = () => import('../formats/mypay.ts');

export interface LegacyOutcomeInput {
  /** The claimed file under the name the gestionale gave it; null once it has left processing/. */
  inputPath: string | null;
  /** A scratch folder of this import, removed with its work folder. */
  workDir: string;
}

function formatOfOptions(options: unknown): string | null {
  if (typeof options !== 'object' || options === null) return null;
  const format = (options as Record<string, unknown>).format;
  return typeof format === 'string' ? format : null;
}

/**
 * The format the input was (or would have been) read as: recorded once pass 1 read it; for a file
 * rejected before (duplicate, bad sidecar, unreadable), the operator's --format, its name, or its
 * first row. Null for a ppay input or a file no rule recognises.
 */
async function formatOf(imp: FileImport, inputPath: string | null): Promise<string | null> {
  const known = imp.format ?? formatOfOptions(imp.options);
  if (known) return known;
  if (parsePpayFileName(imp.fileName)) return null;
  const { factsOfFileName, detectImportFormat } = await detector();
  const facts = factsOfFileName(imp.fileName);
  if (facts?.format) return facts.format;
  if (!inputPath) return facts?.family === 'piemontepay' ? 'piemontepay-v2.9' : null;
  try {
    return await detectImportFormat(inputPath);
  } catch {
    // Unreadable or unrecognised: only ppay's own outcome answers it.
    return null;
  }
}

async function stagingDir(workDir: string): Promise<string> {
  const dir = path.join(workDir, 'legacy-out');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Copies a staged file to out/ atomically, first removing the `.part` a killed copy left. */
async function publish(folder: DropFolder, staged: string): Promise<string> {
  const name = path.basename(staged);
  await removeLeftoverParts(folder, name);
  await folder.writeOut(name, createReadStream(staged));
  return name;
}

/** The outcome lines of an import in row order: its lines, or the single line of a rejected file. */
async function* outcomeLinesOf(
  store: Store,
  imp: FileImport,
  beat: () => Promise<void>,
): AsyncGenerator<OutcomeLine> {
  const rejection = rejectionOf(imp);
  if (rejection) {
    yield fileRejectionLine(rejection);
    return;
  }
  for await (const stored of pagesOf(store, imp.id, beat)) yield outcomeLineOf(stored);
}

// ---------------------------------------------------------------------------------------------
// PiemontePay
// ---------------------------------------------------------------------------------------------

/**
 * The field a row error is about. import_lines keeps no field column: the readers and the importer
 * put it first in the message (`<field>: <message>`, outcome.ts), where the known names are found.
 */
export function fieldOfMessage(message: string | undefined, fields: readonly string[]): string | undefined {
  if (!message) return undefined;
  return fields.find((field) => message.startsWith(`${field}: `));
}

async function writePiemontePay(
  store: Store,
  folder: DropFolder,
  imp: FileImport,
  dir: string,
  beat: () => Promise<void>,
): Promise<string[]> {
  const { AGPD_V28_COLUMNS, LISTA_V28_COLUMNS, piemontePayOutcomeFileName, writePiemontePayOutcome } =
    await piemontePay();
  // Longest first, so `Cognome soggetto debitore` is not taken for `Nome soggetto debitore`.
  const fields = [...new Set([...LISTA_V28_COLUMNS, ...AGPD_V28_COLUMNS, ORIGINAL_DEBTOR_FIELD])].sort(
    (a, b) => b.length - a.length,
  );
  async function* lines(): AsyncGenerator<PiemontePayOutcomeInput> {
    for await (const line of outcomeLinesOf(store, imp, beat)) {
      yield { ...line, field: fieldOfMessage(line.errorMessage, fields) };
    }
  }
  const staged = path.join(dir, piemontePayOutcomeFileName(imp.fileName));
  await writePiemontePayOutcome(lines(), staged);
  return [await publish(folder, staged)];
}

// ---------------------------------------------------------------------------------------------
// MyPay
// ---------------------------------------------------------------------------------------------

function myPayVersionOf(format: string): MyPayVersion {
  return format.slice('mypay-'.length) as MyPayVersion;
}

/**
 * A rejected flow has no row outcomes: its SCARTI is the version's header and one line with the
 * flow's reject code (PAA_IMPORT_FLUSSO_DUPLICATO, NO_MATCH_MD5...), its IUV file the header only.
 * The writer reads this header-only flow in place of the input, which may not even be readable.
 */
async function headerOnlyFlow(dir: string, fileName: string, version: MyPayVersion): Promise<string> {
  const { myPayColumns } = await myPay();
  const base = path.basename(fileName, path.extname(fileName));
  const flow = path.join(dir, 'rejected-flow', `${base}.csv`);
  await mkdir(path.dirname(flow), { recursive: true });
  await writeFile(flow, `${myPayColumns(version).join(';')}\r\n`);
  return flow;
}

async function writeMyPay(
  store: Store,
  folder: DropFolder,
  imp: FileImport,
  format: string,
  input: LegacyOutcomeInput,
  dir: string,
  beat: () => Promise<void>,
): Promise<string[]> {
  const version = myPayVersionOf(format);
  const rejected = rejectionOf(imp) !== null;
  // A DONE flow whose input has left processing/ was answered before it was moved (importer.ts).
  if (!rejected && !input.inputPath) return [];
  const flow = rejected ? await headerOnlyFlow(dir, imp.fileName, version) : (input.inputPath as string);
  const { writeMyPayOutcome } = await myPay();
  const written = await writeMyPayOutcome(flow, outcomeLinesOf(store, imp, beat), dir, { version });
  return [await publish(folder, written.scarti), await publish(folder, written.iuv)];
}

// ---------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------

/** Whether an input of this format gets legacy outcome files. */
export function hasLegacyOutcome(format: string | null): format is string {
  return format !== null && (format.startsWith('piemontepay-') || format.startsWith('mypay-'));
}

/**
 * Writes the legacy outcome files of an import whose result is decided (status WRITING_OUTCOME),
 * for PiemontePay and MyPay inputs; nothing for the others. Returns the names written in out/.
 */
export async function writeLegacyOutcomes(
  store: Store,
  folder: DropFolder,
  imp: FileImport,
  input: LegacyOutcomeInput,
  beat: () => Promise<void>,
): Promise<string[]> {
  const format = await formatOf(imp, input.inputPath);
  if (!hasLegacyOutcome(format)) return [];
  const dir = await stagingDir(input.workDir);
  try {
    if (format.startsWith('piemontepay-')) return await writePiemontePay(store, folder, imp, dir, beat);
    return await writeMyPay(store, folder, imp, format, input, dir, beat);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

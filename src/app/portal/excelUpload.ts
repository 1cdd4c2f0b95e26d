// Excel uploads of the portal (issue 8 item 3): an operator's .xlsx template is imported for one
// ente by the drop-folder importer of issue 7, the same code `ppay import --file` runs, so a sheet
// is validated and applied exactly like a dropped file (idempotent: the same content twice is
// F_DUP_FLOW and changes nothing). This module checks the upload, runs the import through a port
// the caller wires (the importer lives in src/batch), and turns the import's per-line answers into
// what operators read: Italian messages by outcome code, the technical message kept beside them.

import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { FileImport, ImportLine } from '../../db/repositories/imports.ts';

/** The format the portal imports its uploads as: the template of src/batch/formats/xlsx.ts. */
export const PORTAL_UPLOAD_FORMAT = 'xlsx';
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Every .xlsx is a zip: its first bytes are a local file header. */
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const IMPORT_ID = /^imp-[0-9a-f]{24}$/;

/** Who uploaded what, kept in the import row's options (JSON) from the moment the import is created. */
export interface PortalUploadMark {
  /** The event-log actor, `portal:<username>`. */
  user: string;
  /** The name of the file on the operator's computer. */
  originalName: string;
}

/** The options a portal upload is imported with: what `ppay import --file --format xlsx` passes, and the mark. */
export interface PortalImportOptions {
  format: typeof PORTAL_UPLOAD_FORMAT;
  portalUpload: PortalUploadMark;
}

/**
 * Imports one file for an ente through its drop folder and answers the import's id; the caller
 * wires the importer (src/batch/importer), with `options.portalUpload.user` as its actor.
 */
export type RunFileImport = (
  enteFiscalCode: string,
  filePath: string,
  options: PortalImportOptions,
) => Promise<string>;

export type UploadProblem =
  | 'NO_FILE'
  | 'TOO_MANY_FILES'
  | 'INCOMPLETE'
  | 'NOT_XLSX'
  | 'EMPTY'
  | 'NOT_ZIP'
  | 'TOO_LARGE'
  | 'NO_ENTE'
  | 'ENTE_DISABLED';

/** What the upload page says for a file the portal does not even hand to the importer. */
export const UPLOAD_PROBLEM_TEXT: Record<UploadProblem, string> = {
  NO_FILE: 'Nessun file ricevuto: scegli un file .xlsx da caricare.',
  TOO_MANY_FILES: 'Carica un solo file per volta, con il campo «File Excel compilato».',
  INCOMPLETE: 'Il file non è stato ricevuto per intero: riprova il caricamento.',
  NOT_XLSX:
    'Il file deve essere una cartella di lavoro Excel con estensione .xlsx (il modello scaricabile da questa pagina).',
  EMPTY: 'Il file è vuoto.',
  NOT_ZIP:
    'Il file non è una cartella di lavoro Excel valida (.xlsx): forse è stato rinominato o è danneggiato. Salvalo da Excel come «Cartella di lavoro di Excel (.xlsx)».',
  TOO_LARGE: `Il file supera la dimensione massima di ${MAX_UPLOAD_BYTES / 1024 / 1024} MB: dividilo in più file.`,
  NO_ENTE: "Scegli l'ente per cui caricare le posizioni.",
  ENTE_DISABLED: "L'ente è disattivato: non è possibile caricare posizioni.",
};

export interface UploadInput {
  ente: Ente;
  /** `portal:<username>`. */
  actor: string;
  originalName: string;
  content: Buffer;
}

export type UploadResult = { ok: true; importId: string } | { ok: false; problem: UploadProblem };

/** Why an uploaded file is not handed to the importer at all, or null when it may be. */
export function problemOfUpload(originalName: string, content: Buffer): UploadProblem | null {
  if (!/\.xlsx$/i.test(originalName)) return 'NOT_XLSX';
  if (content.length === 0) return 'EMPTY';
  if (content.length > MAX_UPLOAD_BYTES) return 'TOO_LARGE';
  if (!content.subarray(0, ZIP_MAGIC.length).equals(ZIP_MAGIC)) return 'NOT_ZIP';
  return null;
}

/**
 * The name the file gets in the ente's drop folder: unique (two uploads of `posizioni.xlsx` never
 * meet in in/ nor overwrite each other's outcome in out/), recognisable, with the operator's name
 * in it. The operator's name itself is kept in the import's options.
 */
export function dropNameOf(originalName: string, now: Date): string {
  const base = path
    .basename(originalName.replace(/\\/g, '/'))
    .replace(/\.xlsx$/i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, 80);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `portale_${stamp}_${randomBytes(3).toString('hex')}_${base || 'file'}.xlsx`;
}

/**
 * Imports an uploaded template for the ente, synchronously: the file is written under
 * `<dataDir>/portal-uploads/<ente>/`, imported (copied into the ente's drop folder, claimed and
 * applied, its outcome written) and the temporary copy removed; the drop folder keeps the file in
 * done/ or rejected/. A file that is not a workbook is refused before anything is written.
 */
export async function importUploadedWorkbook(
  deps: { store: Store; dataDir: string; runImport: RunFileImport },
  input: UploadInput,
): Promise<UploadResult> {
  if (input.ente.status !== 'active') return { ok: false, problem: 'ENTE_DISABLED' };
  const problem = problemOfUpload(input.originalName, input.content);
  if (problem) return { ok: false, problem };
  const dir = path.join(
    deps.dataDir,
    'portal-uploads',
    input.ente.fiscalCode,
    randomBytes(8).toString('hex'),
  );
  const filePath = path.join(dir, dropNameOf(input.originalName, new Date()));
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(filePath, input.content);
    const importId = await deps.runImport(input.ente.fiscalCode, filePath, {
      format: PORTAL_UPLOAD_FORMAT,
      portalUpload: { user: input.actor, originalName: input.originalName },
    });
    await deps.store.events.append({
      entityType: 'import',
      entityId: importId,
      action: 'portal_upload',
      cause: `Excel upload of ${input.originalName} in the portal`,
      actor: input.actor,
      payload: { originalName: input.originalName, size: input.content.length },
    });
    return { ok: true, importId };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The portal's mark on an import, or null for a file dropped by a gestionale or the CLI. */
export function portalUploadOf(options: unknown): PortalUploadMark | null {
  const mark = (options as { portalUpload?: unknown } | null)?.portalUpload as
    Partial<PortalUploadMark> | undefined;
  if (!mark || typeof mark.user !== 'string' || typeof mark.originalName !== 'string') return null;
  return { user: mark.user, originalName: mark.originalName };
}

/** An import id as the portal's URLs carry it; anything else is not found. */
export function isImportId(value: string): boolean {
  return IMPORT_ID.test(value);
}

/** The import for the outcome pages, or null when there is none with this id. */
export async function findImport(store: Store, importId: string): Promise<FileImport | null> {
  return isImportId(importId) ? store.imports.get(importId) : null;
}

// ---------------------------------------------------------------------------------------------
// Italian messages
// ---------------------------------------------------------------------------------------------

/**
 * Every outcome code of flat-file-formats.md §6 (rows E_*, warnings W_*, files F_*) as an
 * operator reads it. The importer's messages are English and technical: never shown alone.
 */
export const ITALIAN_OUTCOME_TEXT: Readonly<Record<string, string>> = {
  E_SYNTAX: 'Valore mancante o non valido.',
  E_DUP_IN_FILE:
    'Identificativo della posizione ripetuto nel file: le righe di una stessa posizione devono essere consecutive.',
  E_ALREADY_EXISTS: "Esiste già una posizione con questo identificativo: per modificarla usare l'azione M.",
  E_IUV_INVALID: 'Lo IUV indicato non è valido.',
  E_IUV_DUPLICATE: 'Lo IUV indicato è già usato da un altro avviso.',
  E_NOT_FOUND: 'La posizione da modificare o annullare non esiste.',
  E_IN_PAYMENT: 'È in corso un pagamento della posizione: non può essere modificata né annullata ora.',
  E_PAID: 'La posizione risulta già pagata: non può essere modificata né annullata.',
  E_CANCELLED: 'La posizione è già annullata o non è più pagabile.',
  E_SERVICE_UNKNOWN: "Il servizio indicato (service_code) non è configurato per l'ente.",
  E_SERVICE_DISABLED: 'Il servizio indicato (service_code) è disattivato.',
  E_DEBTOR_INVALID: 'Dati del debitore mancanti o non validi.',
  E_AMOUNT:
    'Importo non valido: deve essere un numero intero di centesimi maggiore di zero e, se sono indicati i trasferimenti, uguale alla loro somma.',
  E_TOO_MANY_TRANSFERS: 'Troppi trasferimenti: al massimo 5 beneficiari per rata.',
  E_DUE_DATE: 'Data di scadenza mancante o non valida (formato AAAA-MM-GG, rate in ordine di scadenza).',
  E_TAXONOMY: 'Tassonomia (dati specifici di riscossione) non valida.',
  E_IUV_ALLOCATION: 'Non è stato possibile assegnare uno IUV alla rata: riprovare più tardi.',
  E_INTERNAL: "Errore interno durante l'elaborazione della riga: riprovare o contattare l'assistenza.",
  W_TRUNCATED: 'Caricata con un avviso: la causale supera 140 caratteri ed è stata accorciata per pagoPA.',
  F_HEADER:
    'Le intestazioni del foglio «Posizioni» non sono quelle del modello: usare il modello scaricabile senza cambiare i nomi delle colonne della riga 1.',
  F_COUNT: 'Il numero di posizioni non corrisponde al totale di controllo indicato.',
  F_TOTAL: "L'importo complessivo non corrisponde al totale di controllo indicato.",
  F_CHECKSUM: "L'impronta di controllo del file non corrisponde al suo contenuto.",
  F_DUP_FLOW: 'Questo file è già stato caricato: nessuna posizione è stata creata o modificata.',
  F_SCHEMA: 'Il file non rispetta il formato previsto.',
  F_SIGNATURE: 'La firma del file manca o non è valida.',
  F_ENTE: 'Il file è intestato a un altro ente.',
  F_ENCODING: 'Il testo del file non è codificato correttamente (UTF-8).',
  F_EMPTY: 'Il foglio «Posizioni» non contiene righe da caricare.',
  F_FORMAT: 'Il file non è una cartella di lavoro Excel (.xlsx) leggibile.',
  F_TOO_LARGE: 'Il file è troppo grande.',
  F_NAME: 'Il nome del file non è ammesso.',
};

const ACTION_DONE: Readonly<Record<string, string>> = {
  INSERT: 'Posizione inserita.',
  UPDATE: 'Posizione modificata.',
  CANCEL: 'Posizione annullata.',
};

/** What the template's columns hold, for messages that name one. */
const COLUMN_TEXT: Readonly<Record<string, string>> = {
  action: 'azione',
  position_id: 'identificativo della posizione',
  service_code: 'codice del servizio',
  reference_year: 'anno di riferimento',
  description: 'causale',
  notes: 'note',
  debtor_type: 'tipo di debitore',
  debtor_fiscal_code: 'codice fiscale o partita IVA del debitore',
  debtor_name: 'cognome o ragione sociale del debitore',
  debtor_first_name: 'nome del debitore',
  debtor_address: 'indirizzo del debitore',
  debtor_civic: 'numero civico',
  debtor_postal_code: 'CAP',
  debtor_city: 'località',
  debtor_province: 'provincia',
  debtor_country: 'nazione',
  debtor_email: 'e-mail del debitore',
  validity_from: 'inizio validità',
  validity_to: 'fine validità',
  change_reason: 'motivazione',
  installment_no: 'numero della rata',
  installment_label: 'descrizione della rata',
  iuv: 'IUV',
  due_date: 'data di scadenza',
  amount_cents: 'importo in centesimi',
  metadata: 'dati aggiuntivi',
};

const TRANSFER_TEXT: Readonly<Record<string, string>> = {
  amount_cents: 'importo',
  org_fiscal_code: 'codice fiscale del beneficiario',
  iban: 'IBAN',
  remittance: 'causale',
  taxonomy: 'tassonomia',
  acc_year: 'anno di accertamento',
  acc_number: 'numero di accertamento',
};

const COLUMN_NAME = /\b(tr[1-5]_[a-z_]+|[a-z]+(?:_[a-z]+)+|action|iuv|notes|description|metadata)\b/g;

function columnText(column: string): string | undefined {
  const transfer = /^tr([1-5])_(.+)$/.exec(column);
  if (transfer) {
    const what = TRANSFER_TEXT[transfer[2] as string];
    return what ? `${what} del trasferimento ${transfer[1]}` : undefined;
  }
  return COLUMN_TEXT[column];
}

/** The first template column a technical message names (the importer writes `column: message`). */
export function columnOfMessage(technical: string | null): string | null {
  if (!technical) return null;
  for (const match of technical.matchAll(COLUMN_NAME)) {
    if (columnText(match[1] as string)) return match[1] as string;
  }
  return null;
}

/**
 * The Italian message of an outcome line: the text of its code, then the column it is about
 * (named by the technical message) and whether the value was missing.
 */
export function italianOutcomeMessage(line: {
  outcome: string;
  errorCode: string | null;
  errorMessage: string | null;
  action?: string | null;
}): string {
  if (line.outcome === 'OK' || !line.errorCode) {
    return (line.action && ACTION_DONE[line.action]) || 'Riga elaborata correttamente.';
  }
  const base = ITALIAN_OUTCOME_TEXT[line.errorCode] ?? `Riga non elaborata (codice ${line.errorCode}).`;
  if (line.errorCode.startsWith('F_')) return base;
  const column = columnOfMessage(line.errorMessage);
  if (!column) return base;
  const missing = /\b(is required|is missing|missing|must not be empty|is empty)\b/i.test(
    line.errorMessage ?? '',
  );
  const where = `colonna ${column} (${columnText(column) ?? column})`;
  return `${base} ${missing ? 'Valore obbligatorio mancante nella' : 'Controllare la'} ${where}.`;
}

// ---------------------------------------------------------------------------------------------
// The outcome, as the pages and the workbook show it
// ---------------------------------------------------------------------------------------------

export interface UploadSummary {
  importId: string;
  enteId: number;
  /** The operator's file name (the drop folder's name for files not uploaded in the portal). */
  fileName: string;
  /** The username, without `portal:`; null for files not uploaded in the portal. */
  user: string | null;
  uploadedAt: string;
  finishedAt: string | null;
  /** Still being imported (another instance, or a crash being recovered). */
  inProgress: boolean;
  rejected: boolean;
  rows: number;
  ok: number;
  warn: number;
  ko: number;
  /** The file-level code and its Italian message, for a rejected file. */
  fileErrorCode: string | null;
  fileErrorMessage: string | null;
  fileErrorTechnical: string | null;
  /** For F_DUP_FLOW: the earlier import of the same content. */
  duplicateOf: string | null;
}

export function summaryOf(imp: FileImport): UploadSummary {
  const mark = portalUploadOf(imp.options);
  const rejected = imp.status === 'REJECTED' || imp.result === 'REJECTED';
  return {
    importId: imp.id,
    enteId: imp.enteId,
    fileName: mark?.originalName ?? imp.fileName,
    user: mark ? mark.user.replace(/^portal:/, '') : null,
    uploadedAt: imp.createdAt,
    finishedAt: imp.finishedAt,
    inProgress: imp.status !== 'DONE' && imp.status !== 'REJECTED',
    rejected,
    rows: imp.okCount + imp.warnCount + imp.koCount,
    ok: imp.okCount,
    warn: imp.warnCount,
    ko: imp.koCount,
    fileErrorCode: imp.errorCode,
    fileErrorMessage: imp.errorCode ? (ITALIAN_OUTCOME_TEXT[imp.errorCode] ?? null) : null,
    fileErrorTechnical: imp.errorMessage,
    duplicateOf: imp.duplicateOf,
  };
}

/** One answered row of the uploaded sheet, with its Italian message. */
export interface UploadRow extends ImportLine {
  italianMessage: string;
}

function rowOf(line: ImportLine): UploadRow {
  return { ...line, italianMessage: italianOutcomeMessage(line) };
}

/** The rows of an import in row order, paged from the database (`limit` rows at most when given). */
export async function* uploadRows(
  store: Store,
  imp: FileImport,
  limit = Number.POSITIVE_INFINITY,
): AsyncGenerator<UploadRow> {
  const page = 1000;
  let after = 0;
  let given = 0;
  while (given < limit) {
    const lines = await store.imports.lines(imp.id, {
      afterRowNo: after,
      limit: Math.min(page, limit - given),
    });
    for (const line of lines) yield rowOf(line);
    given += lines.length;
    if (lines.length === 0) return;
    after = (lines[lines.length - 1] as ImportLine).rowNo;
  }
}

/**
 * The single row a rejected file is answered with (row 0 stands for the file itself, as in the
 * CSV outcome), or null when the import has a row per line.
 */
export function fileRejectionRow(imp: FileImport): UploadRow | null {
  if (!imp.errorCode) return null;
  return {
    rowNo: 0,
    itemNo: 0,
    serviceId: null,
    positionId: null,
    installmentNo: null,
    action: null,
    outcome: 'KO',
    errorCode: imp.errorCode,
    errorMessage: imp.errorMessage,
    iuv: null,
    noticeNumber: null,
    amountCents: null,
    dueDate: null,
    notices: null,
    italianMessage: ITALIAN_OUTCOME_TEXT[imp.errorCode] ?? `File non elaborato (codice ${imp.errorCode}).`,
  };
}

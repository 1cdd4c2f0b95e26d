// Treasury bank statements (pagopa-facts §8.4): a camt.053 (.xml) or CSV cash journal (.csv) is read
// and validated whole, then stored in one transaction or not at all. The same file again (sha256) is
// "already imported" and changes nothing; a credit already seen in another file (the emulator writes
// the same day as camt.053 and CSV) is stored once. pagoPA credits carry the flow id of their
// remittance; other credits are kept as unmatched credits. importTreasuryFolder takes the files of
// <dataDir>/treasury/<ente>/in/ and moves each to done/ or rejected/ (with <name>.error.txt).

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { domainError, isDomainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import { sha256Hex } from '../../db/repositories/reconciliationFlows.ts';
import type { NewCredit } from '../../db/repositories/bankStatements.ts';
import { flowIdFromRemittance, readStatement } from '../../reconciliation/statements/index.ts';
import type { BankStatement } from '../../reconciliation/model.ts';

export const STATEMENT_ACTOR = 'statement-import';

export interface StatementFile {
  enteFiscalCode: string;
  fileName: string;
  content: Uint8Array | string;
}

export interface StatementImportResult {
  status: 'imported' | 'already_imported';
  statementRowId: number;
  statementId: string;
  format: BankStatement['format'];
  entries: number;
  /** Entries stored now. */
  newCredits: number;
  /** Entries already stored from another (or the same) file. */
  duplicates: number;
  /** Incoming credits naming a pagoPA flow. */
  pagopaCredits: number;
}

function bytesOf(content: Uint8Array | string): Uint8Array {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

function creditsOf(statement: BankStatement): NewCredit[] {
  return statement.entries.map((entry) => ({
    ...entry,
    flowId: entry.direction === 'CRDT' ? flowIdFromRemittance(entry.remittanceInformation) : null,
  }));
}

/** Reads, checks and stores one statement file of an ente: all or nothing. */
export async function importStatement(
  store: Store,
  file: StatementFile,
  options: { actor?: string } = {},
): Promise<StatementImportResult> {
  const ente = await store.enti.getByFiscalCode(file.enteFiscalCode);
  if (!ente) {
    throw domainError('ENTE_UNKNOWN', `no ente ${file.enteFiscalCode}`, {
      enteFiscalCode: file.enteFiscalCode,
    });
  }
  const bytes = bytesOf(file.content);
  const sha256 = sha256Hex(bytes);
  const statement = readStatement(bytes, file.fileName);
  if (statement.ownerFiscalCode !== null && statement.ownerFiscalCode !== ente.fiscalCode) {
    throw domainError(
      'STATEMENT_ENTE_MISMATCH',
      `${file.fileName}: the account belongs to ${statement.ownerFiscalCode}, not ${ente.fiscalCode}`,
      {
        fileName: file.fileName,
        ownerFiscalCode: statement.ownerFiscalCode,
        enteFiscalCode: ente.fiscalCode,
      },
    );
  }
  const credits = creditsOf(statement);
  const inserted = await store.bankStatements.insert(
    ente.id,
    { fileName: path.basename(file.fileName), sha256, statement, credits },
    {
      cause: `statement ${statement.statementId} imported from ${path.basename(file.fileName)}`,
      actor: options.actor ?? STATEMENT_ACTOR,
    },
  );
  return {
    status: inserted.created ? 'imported' : 'already_imported',
    statementRowId: inserted.statement.id,
    statementId: inserted.statement.statementId,
    format: inserted.statement.format,
    entries: statement.entries.length,
    newCredits: inserted.newCredits,
    duplicates: inserted.duplicates,
    pagopaCredits: credits.filter((c) => c.flowId !== null).length,
  };
}

export interface TreasuryFileOutcome {
  enteFiscalCode: string;
  fileName: string;
  status: 'imported' | 'already_imported' | 'rejected';
  /** The error code and message of a rejected file. */
  error?: string;
  result?: StatementImportResult;
}

export interface TreasuryImportSummary {
  files: TreasuryFileOutcome[];
  imported: number;
  alreadyImported: number;
  rejected: number;
}

export function treasuryDir(dataDir: string, enteFiscalCode: string): string {
  return path.join(dataDir, 'treasury', enteFiscalCode);
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Complete files waiting in in/: a `.part` is still being written, dot-files are not statements. */
async function waitingFiles(inDir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(inDir, { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && !e.name.startsWith('.') && !e.name.endsWith('.part'))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Moves a file into `dir`, never over an older file of the same name. */
async function moveInto(file: string, dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const name = path.basename(file);
  let target = path.join(dir, name);
  try {
    await fs.access(target);
    target = path.join(dir, `${Date.now()}-${name}`);
  } catch {
    // free
  }
  await fs.rename(file, target);
  return target;
}

async function importOne(
  store: Store,
  base: string,
  enteFiscalCode: string,
  name: string,
): Promise<TreasuryFileOutcome> {
  const file = path.join(base, 'in', name);
  const content = await fs.readFile(file);
  try {
    const result = await importStatement(store, { enteFiscalCode, fileName: name, content });
    // The import committed before the move: a crash in between re-imports as "already imported".
    await moveInto(file, path.join(base, 'done'));
    return { enteFiscalCode, fileName: name, status: result.status, result };
  } catch (err) {
    if (!isDomainError(err)) throw err;
    const error = `${err.code}: ${err.message}`;
    const moved = await moveInto(file, path.join(base, 'rejected'));
    await fs.writeFile(`${moved}.error.txt`, `${error}\n`, 'utf8');
    return { enteFiscalCode, fileName: name, status: 'rejected', error };
  }
}

/** Imports every complete statement in <dataDir>/treasury/<ente>/in/ (one ente, or every folder). */
export async function importTreasuryFolder(
  store: Store,
  dataDir: string,
  options: { enteFiscalCode?: string } = {},
): Promise<TreasuryImportSummary> {
  const enti =
    options.enteFiscalCode !== undefined
      ? [options.enteFiscalCode]
      : await listDirs(path.join(dataDir, 'treasury'));
  const summary: TreasuryImportSummary = { files: [], imported: 0, alreadyImported: 0, rejected: 0 };
  for (const enteFiscalCode of enti) {
    const base = treasuryDir(dataDir, enteFiscalCode);
    for (const name of await waitingFiles(path.join(base, 'in'))) {
      const outcome = await importOne(store, base, enteFiscalCode, name);
      summary.files.push(outcome);
      if (outcome.status === 'imported') summary.imported += 1;
      else if (outcome.status === 'already_imported') summary.alreadyImported += 1;
      else summary.rejected += 1;
    }
  }
  return summary;
}

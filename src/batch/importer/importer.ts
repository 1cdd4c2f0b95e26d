// The drop-folder importer (issue 7, DESIGN §8): takes the complete files of each ente's in/,
// imports their records as debt positions and answers every input line in out/.
//
// One import per claimed file, a row in `imports` that walks
//   CLAIMING → CLAIMED → IMPORTING → WRITING_OUTCOME → DONE | REJECTED
// - CLAIMING: the row is written BEFORE the atomic rename into processing/ (F's claim), so every
//   claim has a row saying who is on it, even one whose claimer died right after the rename.
// - CLAIMED: the content's SHA-256 is recorded; the same content already imported (or being
//   imported) for the ente is F_DUP_FLOW (PiemontePay 150, MyPay FLUSSO_DUPLICATO): the file is
//   rejected and nothing changes. A REJECTED import gives its content up, so a rejected file may
//   be dropped again once fixed.
// - pass 1 reads the whole file (streaming) without writing anything: a file-level error found
//   anywhere, even at the end (F_COUNT, F_TOTAL, F_ENCODING late in the file), rejects the file
//   with no position touched. Then IMPORTING.
// - pass 2 reads it again and applies batches of about `batchRows` lines, each in one transaction
//   with the lines that answer it and the import's next_item (applyBatch.ts). A resumed import
//   skips the items already committed: no duplicates, no losses.
// - WRITING_OUTCOME: the result is recorded with the notifyUploadOutcome outbox rows in one
//   transaction; then the outcome files are written from the database (outcomeFiles.ts), the claim
//   is moved to done/ or rejected/, and the row becomes DONE / REJECTED. Every step may be redone.
//
// Several instances (processes) on the same folders and database: the claim's rename picks one
// instance per file; a row belongs to its owner, renewed by a heartbeat; another instance takes an
// import over only when it is abandoned (owner.ts), and every write is fenced by the owner, so a
// slow former owner cannot write after the take-over. Crash recovery runs at the start of each pass.

import { createReadStream } from 'node:fs';
import { mkdir, rm, symlink, unlink, copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { domainError, isDomainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import {
  importTakenOver,
  isRetryableBatchError,
  type FileImport,
  type OutcomeDecision,
  type ValidatedFacts,
} from '../../db/repositories/imports.ts';
import { requireEnte } from '../../app/positions.ts';
import { EnteDropFolders } from '../enteDropFolders.ts';
import { sha256OfFile } from '../dropFolder/localFiles.ts';
import { assertInputName, isClaimableName, md5SidecarNameOf, parseClaimedName } from '../dropFolder/names.ts';
import { outcomeFileName, outcomeXmlFileName } from '../fileNames.ts';
import type { Claim, CompletionSettings, DropFolder } from '../dropFolder/port.ts';
import type { ImportFormat } from '../formats/detect.ts';
import {
  isFileFormatError,
  type FileErrorCode,
  type FileFormatError,
  type ImportFile,
} from '../formats/types.ts';
import { applyBatch, ServiceCache, type BatchScope, type PendingItem } from './applyBatch.ts';
import { enqueueImportNotifications } from './notify.ts';
import { isXmlImport, writeOutcomeFiles } from './outcomeFiles.ts';
import { writeLegacyOutcomes } from './legacyOutcomes.ts';
import { isAbandoned, newImporterOwner } from './owner.ts';
import { enteOfFileName, openImportInput, PPAY_XML } from './readers.ts';

export const DEFAULT_IMPORT_BATCH_ROWS = 500;
export const DEFAULT_IMPORT_LEASE_MS = 60_000;
export const IMPORT_ACTOR = 'ppay-importer';
/** Attempts of a batch that failed on a lock timeout or a deadlock before the pass gives up. */
const BATCH_ATTEMPTS = 5;
/** Why a file of in/ is never claimed; the gestionale must rename it. */
export const UNCLAIMABLE_NAME =
  'the file name cannot be imported (a /, \\ or NUL, or longer than 200 bytes): rename the file';
/** How long `importFile` waits for another instance that claimed its file first. */
const AWAIT_OTHER_MS = 30 * 60_000;

/** How the operator asked a file to be read (`ppay import --file`), kept with the import. */
export interface FileOptions {
  format?: ImportFormat | undefined;
  serviceCode?: string | undefined;
  expectCount?: number | undefined;
  expectTotalCents?: number | undefined;
}

/** Where an import stands when a hook is called. */
export type ImportStep = 'claimed' | 'validated' | 'decided' | 'answered' | 'moved';

export interface ImporterHooks {
  /** After each committed batch (1, 2, ...): tests simulate a crash by throwing here. */
  afterBatch?: (importId: string, batchNo: number) => void | Promise<void>;
  /** After each step is durable (claim recorded, pass 1 done, result recorded, outcome written, file moved). */
  afterStep?: (importId: string, step: ImportStep) => void | Promise<void>;
}

export interface ImporterOptions {
  store: Store;
  /** PPAY_DATA_DIR: drop folders under sftp/, working links under import-work/. */
  dataDir: string;
  /** Completion rules of the drop folders (settle time, required sidecar). */
  completion?: Partial<CompletionSettings> | undefined;
  /** Which drop folder an ente uses; as its settings say (src/batch/enteDropFolders.ts) unless given. */
  dropFolderFor?: ((ente: Ente) => DropFolder | Promise<DropFolder>) | undefined;
  /** Lines per transaction (PPAY_IMPORT_BATCH_ROWS). */
  batchRows?: number | undefined;
  /** An import whose heartbeat is older than this is abandoned (PPAY_IMPORT_LEASE_MS). */
  leaseMs?: number | undefined;
  /**
   * PPAY_IMPORT_TRUSTED_CERT: XML inputs must carry an enveloped signature by this PEM certificate
   * (F_SIGNATURE otherwise). Unset, XML inputs are read unsigned: a signature present is not checked.
   */
  trustedCertificatePem?: string | undefined;
  /** Unique per process unless given. */
  owner?: string | undefined;
  actor?: string | undefined;
  hooks?: ImporterHooks | undefined;
  now?: (() => Date) | undefined;
}

/** DONE / REJECTED: finished now; IN_PROGRESS: another live instance holds it. */
export type FileOutcome = 'DONE' | 'REJECTED' | 'IN_PROGRESS';

export interface FileReport {
  enteFiscalCode: string;
  fileName: string;
  importId: string;
  outcome: FileOutcome;
  format: string | null;
  lines: number;
  ok: number;
  warn: number;
  ko: number;
  errorCode: string | null;
  errorMessage: string | null;
  /** Names in out/. */
  outcomeFiles: string[];
  /** Finished after a crash or by another instance than the one that claimed it. */
  resumed: boolean;
}

export interface WaitingReport {
  enteFiscalCode: string;
  name: string;
  reason: string;
}

export interface EnteFailure {
  enteFiscalCode: string;
  message: string;
}

export interface PassReport {
  files: FileReport[];
  waiting: WaitingReport[];
  /** Enti whose pass stopped on an unexpected error; their unfinished imports resume next pass. */
  failures: EnteFailure[];
}

interface Failure {
  code: FileErrorCode;
  message: string;
}

export function newImportId(): string {
  return `imp-${randomBytes(12).toString('hex')}`;
}

function failureOf(err: FileFormatError): Failure {
  const where =
    err.line !== undefined && !err.message.includes(`line ${err.line}`) ? ` (line ${err.line})` : '';
  return { code: err.code, message: `${err.message}${where}` };
}

function fileOptionsOf(value: unknown): FileOptions {
  if (typeof value !== 'object' || value === null) return {};
  const v = value as Record<string, unknown>;
  const text = (x: unknown) => (typeof x === 'string' ? x : undefined);
  const int = (x: unknown) => (typeof x === 'number' && Number.isSafeInteger(x) ? x : undefined);
  return {
    format: text(v.format) as ImportFormat | undefined,
    serviceCode: text(v.serviceCode),
    expectCount: int(v.expectCount),
    expectTotalCents: int(v.expectTotalCents),
  };
}

function linesOfItem(item: PendingItem['item']): number {
  return item.record ? item.record.lines.length : 1;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Importer {
  readonly owner: string;
  private readonly store: Store;
  private readonly batchRows: number;
  private readonly leaseMs: number;
  private readonly actor: string;
  private readonly now: () => Date;
  private readonly folders = new Map<number, DropFolder>();
  private readonly enteFolders: EnteDropFolders;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ImporterOptions) {
    this.store = options.store;
    this.owner = options.owner ?? newImporterOwner();
    this.batchRows = Math.max(1, options.batchRows ?? DEFAULT_IMPORT_BATCH_ROWS);
    this.leaseMs = options.leaseMs ?? DEFAULT_IMPORT_LEASE_MS;
    this.actor = options.actor ?? IMPORT_ACTOR;
    this.now = options.now ?? (() => new Date());
    this.enteFolders = new EnteDropFolders(options.store, options.dataDir, options.completion);
  }

  /**
   * One pass: for each active ente (or the one given), finishes the imports left unfinished
   * (crashed, or abandoned by another instance), then imports every complete file of in/.
   */
  runPass(filter: { enteFiscalCode?: string | undefined } = {}): Promise<PassReport> {
    return this.serialized(() => this.pass(filter));
  }

  /**
   * Imports one file for an ente through its drop folder: copied into in/ (atomically), claimed
   * at once and imported, so it gets its outcome in out/ like a dropped file.
   */
  importFile(enteFiscalCode: string, filePath: string, fileOptions: FileOptions = {}): Promise<FileReport> {
    return this.serialized(() => this.oneFile(enteFiscalCode, filePath, fileOptions));
  }

  /** Waits for the running pass and releases the drop folders' connections. */
  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    for (const folder of this.folders.values()) await folder.close();
    this.folders.clear();
    await this.enteFolders.close();
  }

  /** Passes of one Importer never overlap: an unfinished import of its own owner is then never live. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async folderOf(ente: Ente): Promise<DropFolder> {
    if (!this.options.dropFolderFor) return this.enteFolders.of(ente);
    let folder = this.folders.get(ente.id);
    if (!folder) {
      folder = await this.options.dropFolderFor(ente);
      this.folders.set(ente.id, folder);
    }
    return folder;
  }

  /** Runs fn on the ente's drop folder, then ends its connection (a remote one reconnects next time). */
  private async withFolder<T>(ente: Ente, fn: (folder: DropFolder) => Promise<T>): Promise<T> {
    const folder = await this.folderOf(ente);
    try {
      return await fn(folder);
    } finally {
      await folder.close();
    }
  }

  private async pass(filter: { enteFiscalCode?: string | undefined }): Promise<PassReport> {
    const enti = filter.enteFiscalCode
      ? [await this.activeEnte(filter.enteFiscalCode)]
      : (await this.store.enti.list()).filter((e) => e.status === 'active');
    const report: PassReport = { files: [], waiting: [], failures: [] };
    for (const ente of enti) {
      try {
        await this.passOfEnte(ente, report);
      } catch (err) {
        report.failures.push({
          enteFiscalCode: ente.fiscalCode,
          message: err instanceof Error ? err.message : String(err),
        });
      }
    }
    return report;
  }

  private async activeEnte(fiscalCode: string): Promise<Ente> {
    const ente = await requireEnte(this.store, fiscalCode);
    if (ente.status !== 'active') {
      throw domainError('INVALID_INPUT', `ente ${fiscalCode} is disabled: its files are not imported`, {
        field: 'ente',
      });
    }
    return ente;
  }

  private passOfEnte(ente: Ente, report: PassReport): Promise<void> {
    return this.withFolder(ente, (folder) => this.passOfFolder(ente, folder, report));
  }

  private async passOfFolder(ente: Ente, folder: DropFolder, report: PassReport): Promise<void> {
    await folder.ensureLayout();
    report.files.push(...(await this.recover(ente, folder)));
    const incoming = await folder.listIncoming();
    // Invalid files (a settled sidecar that does not match) are claimed too, and rejected with why.
    for (const file of [...incoming.ready, ...incoming.invalid]) {
      // A name that cannot be claimed (a backslash, longer than the claim allows) is left in in/ and
      // reported: claiming it threw, which stopped the pass before the ente's other files, every time.
      if (!isClaimableName(file.name)) {
        report.waiting.push({ enteFiscalCode: ente.fiscalCode, name: file.name, reason: UNCLAIMABLE_NAME });
        continue;
      }
      const done = await this.claimAndImport(ente, folder, file.name, null);
      if (done) report.files.push(done);
    }
    for (const waiting of incoming.waiting) {
      report.waiting.push({ enteFiscalCode: ente.fiscalCode, name: waiting.name, reason: waiting.reason });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Claiming and recovery
  // -------------------------------------------------------------------------------------------

  private async claimAndImport(
    ente: Ente,
    folder: DropFolder,
    name: string,
    fileOptions: FileOptions | null,
  ): Promise<FileReport | null> {
    const id = newImportId();
    await this.store.imports.createIntent({
      id,
      enteId: ente.id,
      fileName: name,
      owner: this.owner,
      options: fileOptions,
    });
    const claim = await folder.claim(name);
    if (!claim) {
      // Another instance took the file first.
      await this.store.imports.deleteIntent(id, this.owner);
      return null;
    }
    return this.drive(ente, folder, id, claim, false);
  }

  /** Holds an unfinished import: already ours, or taken over from an owner that is gone. */
  private async hold(imp: FileImport): Promise<boolean> {
    if (imp.owner === this.owner) return true;
    if (!isAbandoned(imp, this.now(), this.leaseMs)) return false;
    return this.store.imports.takeOver(imp.id, imp, this.owner);
  }

  private isLiveElsewhere(imp: FileImport): boolean {
    return imp.owner !== this.owner && !isAbandoned(imp, this.now(), this.leaseMs);
  }

  private inProgress(ente: Ente, imp: FileImport): FileReport {
    return { ...this.reportOf(ente, imp, false), outcome: 'IN_PROGRESS' };
  }

  /**
   * Finishes what crashed or abandoned instances left: imports with a row (any step), claims in
   * processing/ whose claimer died between the rename and recording it, and intents of claims
   * that never happened. Imports of live instances are reported IN_PROGRESS and left alone.
   */
  private async recover(ente: Ente, folder: DropFolder): Promise<FileReport[]> {
    const reports: FileReport[] = [];
    const unfinished = await this.store.imports.listUnfinished(ente.id);
    const claims = await folder.listProcessing();
    const claimOf = new Map(claims.map((c) => [c.claimedName, c]));
    for (const imp of unfinished) {
      if (imp.claimedName === null) continue;
      if (!(await this.hold(imp))) {
        reports.push(this.inProgress(ente, imp));
        continue;
      }
      const done = await this.drive(ente, folder, imp.id, claimOf.get(imp.claimedName) ?? null, true);
      if (done) reports.push(done);
    }
    const known = new Set(unfinished.map((imp) => imp.claimedName));
    for (const claim of claims) {
      if (known.has(claim.claimedName)) continue;
      const done = await this.adopt(ente, folder, claim);
      if (done) reports.push(done);
    }
    await this.dropStaleIntents(ente, claims);
    return reports;
  }

  /** A claim in processing/ without a row: its claimer died before recording it, or is doing so now. */
  private async adopt(ente: Ente, folder: DropFolder, claim: Claim): Promise<FileReport | null> {
    if (await this.store.imports.findByClaimedName(ente.id, claim.claimedName)) return null;
    const intents = (await this.store.imports.listClaiming(ente.id, claim.name)).filter(
      (i) => i.claimedName === null,
    );
    // A live claimer between its rename and recording it: this may well be its file.
    if (intents.some((i) => this.isLiveElsewhere(i))) return null;
    let id: string | null = null;
    for (const intent of intents) {
      if (await this.hold(intent)) {
        id = intent.id;
        break;
      }
    }
    if (id === null) {
      id = newImportId();
      const created = await this.store.imports.createIntent({
        id,
        enteId: ente.id,
        fileName: claim.name,
        owner: this.owner,
        claimedName: claim.claimedName,
      });
      if (!created) return null;
    }
    return this.drive(ente, folder, id, claim, true);
  }

  /** Intents of claims that never happened (the claimer died before its rename, or lost the race). */
  private async dropStaleIntents(ente: Ente, claims: readonly Claim[]): Promise<void> {
    const claimedNames = new Set(claims.map((c) => c.name));
    for (const imp of await this.store.imports.listUnfinished(ente.id)) {
      if (imp.status !== 'CLAIMING' || imp.claimedName !== null || claimedNames.has(imp.fileName)) continue;
      if (await this.hold(imp)) await this.store.imports.deleteIntent(imp.id, this.owner);
    }
  }

  // -------------------------------------------------------------------------------------------
  // The steps of one import
  // -------------------------------------------------------------------------------------------

  /** Runs an import held by this instance from its current step to the end. */
  private async drive(
    ente: Ente,
    folder: DropFolder,
    id: string,
    claim: Claim | null,
    resumed: boolean,
  ): Promise<FileReport | null> {
    let imp = await this.required(id);
    const beat = this.beater(id);
    if (imp.status === 'CLAIMING') {
      if (!claim) {
        // The adopted file left processing/ meanwhile (another instance finished it).
        await this.store.imports.deleteIntent(id, this.owner);
        return null;
      }
      imp = await this.recordClaim(ente, imp, claim);
      await this.step(imp, 'claimed');
    }
    if (imp.status === 'CLAIMED') {
      imp = await this.validate(ente, imp, claim, beat);
      await this.step(imp, 'validated');
    }
    if (imp.status === 'IMPORTING') {
      imp = await this.apply(ente, imp, claim, beat);
      await this.step(imp, 'decided');
    }
    if (imp.status === 'WRITING_OUTCOME') imp = await this.answer(ente, folder, imp, claim, beat);
    return this.reportOf(ente, imp, resumed);
  }

  private async step(imp: FileImport, step: ImportStep): Promise<void> {
    await this.options.hooks?.afterStep?.(imp.id, step);
  }

  private async required(id: string): Promise<FileImport> {
    const imp = await this.store.imports.get(id);
    if (!imp) throw new Error(`import ${id} vanished`);
    return imp;
  }

  /** Renews the hold at most every quarter lease; throws once another instance has taken the import. */
  private beater(importId: string): () => Promise<void> {
    let last = Date.now();
    return async () => {
      if (Date.now() - last < this.leaseMs / 4) return;
      if (!(await this.store.imports.heartbeat(importId, this.owner)))
        throw importTakenOver(importId, this.owner);
      last = Date.now();
    };
  }

  private async recordClaim(ente: Ente, imp: FileImport, claim: Claim): Promise<FileImport> {
    const { recorded, duplicateOf } = await this.store.imports.recordClaim(imp.id, this.owner, {
      claimedName: claim.claimedName,
      sha256: claim.sha256,
      size: claim.size,
    });
    if (!recorded) throw importTakenOver(imp.id, this.owner);
    const claimed = await this.required(imp.id);
    if (duplicateOf === null) return claimed;
    return this.decide(ente, claimed, {
      result: 'REJECTED',
      errorCode: 'F_DUP_FLOW',
      errorMessage: await this.duplicateMessage(duplicateOf),
      duplicateOf,
    });
  }

  private async duplicateMessage(duplicateOf: string): Promise<string> {
    const earlier = await this.store.imports.get(duplicateOf);
    if (!earlier) return `the same content was already imported (import ${duplicateOf}); nothing was changed`;
    const when =
      earlier.status === 'DONE'
        ? `on ${earlier.finishedAt ?? earlier.updatedAt}: ${earlier.okCount + earlier.warnCount} lines OK, ${earlier.koCount} KO`
        : 'and is still being imported';
    return `the same content was already imported as ${earlier.fileName} (import ${earlier.id}) ${when}; nothing was changed`;
  }

  /** A problem that rejects the file before it is read: a bad sidecar, another ente's file name. */
  private async problemOf(ente: Ente, imp: FileImport, claim: Claim | null): Promise<Failure | null> {
    if (!claim)
      return { code: 'F_FORMAT', message: `the claimed file ${imp.claimedName ?? ''} left processing/` };
    if (claim.sidecarProblem) return { code: 'F_CHECKSUM', message: claim.sidecarProblem };
    const named = await enteOfFileName(imp.fileName);
    if (named && named !== ente.fiscalCode) {
      return {
        code: 'F_ENTE',
        message: `the file name is for ente ${named}, this drop folder for ${ente.fiscalCode}`,
      };
    }
    return null;
  }

  /** Pass 1: the whole file read without writing; any file-level error rejects it. */
  private async validate(ente: Ente, imp: FileImport, claim: Claim | null, beat: () => Promise<void>) {
    const problem = await this.problemOf(ente, imp, claim);
    if (problem) return this.reject(ente, imp, problem);
    let read: ValidatedFacts;
    try {
      read = await this.readThrough(ente, imp, claim as Claim, beat);
    } catch (err) {
      if (!isFileFormatError(err)) throw err;
      return this.reject(ente, imp, failureOf(err));
    }
    await this.store.imports.markValidated(imp.id, this.owner, read);
    return this.required(imp.id);
  }

  /** Reads every item of the file, counting them; throws FileFormatError wherever one is found. */
  private async readThrough(
    ente: Ente,
    imp: FileImport,
    claim: Claim,
    beat: () => Promise<void>,
  ): Promise<ValidatedFacts> {
    const { file, format } = await this.open(ente, imp, claim);
    let itemCount = 0;
    let lineCount = 0;
    for await (const item of file.items) {
      itemCount += 1;
      lineCount += linesOfItem(item);
      if (itemCount % 1000 === 0) await beat();
    }
    return { format, flowId: file.header.flowId ?? null, itemCount, lineCount };
  }

  private reject(ente: Ente, imp: FileImport, failure: Failure): Promise<FileImport> {
    return this.decide(ente, imp, {
      result: 'REJECTED',
      errorCode: failure.code,
      errorMessage: failure.message,
    });
  }

  /** Records the result, with the import's notifications when DONE, in one transaction. */
  private decide(ente: Ente, imp: FileImport, decision: OutcomeDecision): Promise<FileImport> {
    return this.store.transaction(async (tx) => {
      const decided = await tx.imports.startOutcome(imp.id, this.owner, decision);
      if (decided.result === 'DONE') await enqueueImportNotifications(tx, decided, ente);
      return decided;
    });
  }

  /** Pass 2: the items after next_item, in batches of about batchRows lines. */
  private async apply(ente: Ente, imp: FileImport, claim: Claim | null, beat: () => Promise<void>) {
    if (!claim) throw new Error(`import ${imp.id}: ${imp.claimedName ?? ''} is no longer in processing/`);
    const { file } = await this.open(ente, imp, claim);
    const scope: BatchScope = {
      ente,
      importId: imp.id,
      owner: this.owner,
      fileName: imp.fileName,
      actor: this.actor,
      defaultServiceCode: file.header.serviceCode || fileOptionsOf(imp.options).serviceCode,
      keepNotices: imp.format === PPAY_XML,
    };
    const services = new ServiceCache(this.store, ente);
    let itemNo = 0;
    let batchNo = 0;
    let batch: PendingItem[] = [];
    let lines = 0;
    for await (const item of file.items) {
      const n = itemNo++;
      if (n < imp.nextItem) {
        if (n % 1000 === 0) await beat();
        continue;
      }
      batch.push({ itemNo: n, item });
      lines += linesOfItem(item);
      if (lines < this.batchRows) continue;
      await this.commit(scope, services, batch, ++batchNo, beat);
      batch = [];
      lines = 0;
    }
    if (batch.length > 0) await this.commit(scope, services, batch, batchNo + 1, beat);
    return this.decide(ente, await this.required(imp.id), { result: 'DONE' });
  }

  private async commit(
    scope: BatchScope,
    services: ServiceCache,
    batch: readonly PendingItem[],
    batchNo: number,
    beat: () => Promise<void>,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await applyBatch(this.store, services, scope, batch);
        break;
      } catch (err) {
        if (attempt >= BATCH_ATTEMPTS || !isRetryableBatchError(err)) throw err;
        await sleep(100 * attempt);
      }
    }
    await beat();
    await this.options.hooks?.afterBatch?.(scope.importId, batchNo);
  }

  /** The outcome files, the claim moved to done/ or rejected/, the row finished. */
  private async answer(
    ente: Ente,
    folder: DropFolder,
    imp: FileImport,
    claim: Claim | null,
    beat: () => Promise<void>,
  ) {
    await writeOutcomeFiles(this.store, folder, imp, ente, beat);
    // PiemontePay and MyPay inputs also get their gestionale's own outcome files.
    const input = {
      inputPath: claim ? await this.workPath(imp, claim) : null,
      workDir: this.workDirOf(imp.id),
    };
    await writeLegacyOutcomes(this.store, folder, imp, input, beat);
    await this.step(imp, 'answered');
    await this.finishClaim(folder, imp);
    await this.step(imp, 'moved');
    // Before the row is final: once DONE, nobody would come back to remove it.
    await rm(this.workDirOf(imp.id), { recursive: true, force: true });
    return this.store.imports.finish(imp.id, this.owner);
  }

  private async finishClaim(folder: DropFolder, imp: FileImport): Promise<void> {
    const parsed = imp.claimedName ? parseClaimedName(imp.claimedName) : null;
    if (!parsed || !imp.claimedName) return;
    const claim: Claim = {
      ...parsed,
      claimedName: imp.claimedName,
      localPath: '',
      size: imp.size ?? 0,
      sha256: imp.sha256 ?? '',
      expectedSha256: null,
      expectedMd5: null,
      sidecarProblem: null,
    };
    const rejected = imp.result === 'REJECTED';
    try {
      await folder.finish(
        claim,
        rejected ? 'rejected' : 'done',
        rejected ? `${imp.errorCode}: ${imp.errorMessage}` : undefined,
      );
    } catch (err) {
      // The file is in neither processing/ nor its target: nothing left to move.
      if (!isDomainError(err, 'INVALID_INPUT')) throw err;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reading
  // -------------------------------------------------------------------------------------------

  private workDirOf(importId: string): string {
    return path.join(this.options.dataDir, 'import-work', importId);
  }

  /**
   * The claimed file under its original name (a link in import-work/): the readers take the
   * format, flow id and service from the name the gestionale gave, not the claim's prefixed one.
   * A MyPay zip claimed with its `.md5` sidecar gets the announced MD5 written beside it as
   * `<base>.md5`, so the MyPay reader verifies the content it reads (F_CHECKSUM on a mismatch).
   */
  private async workPath(imp: FileImport, claim: Claim): Promise<string> {
    const dir = this.workDirOf(imp.id);
    const target = path.join(dir, imp.fileName);
    await mkdir(dir, { recursive: true });
    await unlink(target).catch(() => undefined);
    try {
      await symlink(path.resolve(claim.localPath), target);
    } catch {
      await copyFile(claim.localPath, target);
    }
    const md5Name = md5SidecarNameOf(imp.fileName);
    if (md5Name !== null && claim.expectedMd5 !== null) {
      await writeFile(path.join(dir, md5Name), `${claim.expectedMd5}\n`);
    }
    return target;
  }

  private async open(
    ente: Ente,
    imp: FileImport,
    claim: Claim,
  ): Promise<{ file: ImportFile; format: ImportFormat }> {
    const options = fileOptionsOf(imp.options);
    return openImportInput(await this.workPath(imp, claim), {
      ...options,
      enteFiscalCode: ente.fiscalCode,
      trustedCertificatePem: this.options.trustedCertificatePem,
    });
  }

  // -------------------------------------------------------------------------------------------
  // One file given by the operator
  // -------------------------------------------------------------------------------------------

  private async oneFile(
    enteFiscalCode: string,
    filePath: string,
    fileOptions: FileOptions,
  ): Promise<FileReport> {
    const ente = await this.activeEnte(enteFiscalCode);
    const name = path.basename(filePath);
    assertInputName(name);
    const sha256 = await sha256OfFile(filePath);
    return this.withFolder(ente, async (folder) => {
      await folder.ensureLayout();
      const source = createReadStream(filePath);
      const placed = await folder.putIn(name, source).finally(() => source.destroy());
      if (!placed) {
        throw domainError(
          'INVALID_INPUT',
          `in/${name} is already waiting: run without --file, or rename the file`,
          {
            field: 'file',
          },
        );
      }
      const report = await this.claimAndImport(ente, folder, name, fileOptions);
      return report ?? this.awaitOther(ente, folder, name, sha256);
    });
  }

  /** Another instance claimed the copied file first: its report once it is finished. */
  private async awaitOther(
    ente: Ente,
    folder: DropFolder,
    name: string,
    sha256: string,
  ): Promise<FileReport> {
    const deadline = Date.now() + AWAIT_OTHER_MS;
    while (Date.now() < deadline) {
      const imp = await this.store.imports.findLatest(ente.id, name, sha256);
      if (imp && (imp.status === 'DONE' || imp.status === 'REJECTED')) return this.reportOf(ente, imp, true);
      if (imp && !this.isLiveElsewhere(imp)) {
        const recovered = (await this.recover(ente, folder)).find((r) => r.importId === imp.id);
        if (recovered && recovered.outcome !== 'IN_PROGRESS') return recovered;
      }
      await sleep(500);
    }
    throw new Error(`${name} was claimed by another instance that has not finished it yet`);
  }

  private reportOf(ente: Ente, imp: FileImport, resumed: boolean): FileReport {
    const finished = imp.status === 'DONE' || imp.status === 'REJECTED';
    const outcomeFiles = finished ? outcomeNamesOf(imp) : [];
    return {
      enteFiscalCode: ente.fiscalCode,
      fileName: imp.fileName,
      importId: imp.id,
      outcome: imp.status === 'DONE' ? 'DONE' : imp.status === 'REJECTED' ? 'REJECTED' : 'IN_PROGRESS',
      format: imp.format,
      lines: imp.okCount + imp.warnCount + imp.koCount,
      ok: imp.okCount,
      warn: imp.warnCount,
      ko: imp.koCount,
      errorCode: imp.errorCode,
      errorMessage: imp.errorMessage,
      outcomeFiles,
      resumed,
    };
  }
}

function outcomeNamesOf(imp: FileImport): string[] {
  const csv = outcomeFileName(imp.fileName);
  return isXmlImport(imp) ? [csv, outcomeXmlFileName(imp.fileName)] : [csv];
}

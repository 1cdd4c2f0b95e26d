// Imports of drop-folder files (DESIGN §8) and the answer given to each input line. An import row
// is created before its file is claimed (status CLAIMING), so a claim in processing/ always has a
// row that says who is on it; every write of the importer is fenced by (owner, status, next_item),
// so an instance that lost its import to another one (heartbeat too old, process gone) can no
// longer change anything. Lines are written in the transaction of the changes they report.

import type { Knex } from 'knex';
import { dialectOf, type Db } from '../knex.ts';
import { domainError } from '../../domain/errors.ts';
import type { DebtPosition } from '../../domain/position.ts';
import { isUniqueViolation } from '../errors.ts';
import { appendEvent, appendEvents } from './events.ts';
import { chunk, isoNow, toInt, toIntOrNull, type Clock } from '../rows.ts';
import { INSERT_CHUNK_SIZE } from './iuv.ts';
import { optionColumns, positionColumns, transferRows, type Notice } from './positions.ts';

const IMPORT = 'import';

export type ImportStatus = 'CLAIMING' | 'CLAIMED' | 'IMPORTING' | 'WRITING_OUTCOME' | 'DONE' | 'REJECTED';
export type ImportResult = 'DONE' | 'REJECTED';
export type ImportLineOutcome = 'OK' | 'WARN' | 'KO';

/** Statuses of an import that still has work to do. */
export const UNFINISHED_IMPORT_STATUSES: readonly ImportStatus[] = [
  'CLAIMING',
  'CLAIMED',
  'IMPORTING',
  'WRITING_OUTCOME',
];

export interface FileImport {
  id: string;
  enteId: number;
  fileName: string;
  claimedName: string | null;
  sha256: string | null;
  size: number | null;
  format: string | null;
  flowId: string | null;
  /** The options it was started with (JSON as given), null for a plain drop. */
  options: unknown;
  status: ImportStatus;
  result: ImportResult | null;
  owner: string;
  heartbeatAt: string;
  /** Items (records and row errors, in file order) whose lines are committed. */
  nextItem: number;
  itemCount: number | null;
  lineCount: number | null;
  okCount: number;
  warnCount: number;
  koCount: number;
  /** The file-level code (F_*) of a rejected file. */
  errorCode: string | null;
  errorMessage: string | null;
  /** For F_DUP_FLOW: the import that holds the same content. */
  duplicateOf: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

/** A validated new position of a file, with the notice of each option (in option order). */
export interface NewFilePosition {
  serviceId: number;
  position: DebtPosition;
  notices: readonly Notice[];
  /** The event's cause (the file and line it came from). */
  cause: string;
}

export interface ImportLine {
  rowNo: number;
  itemNo: number;
  serviceId: number | null;
  positionId: string | null;
  installmentNo: number | null;
  action: string | null;
  outcome: ImportLineOutcome;
  errorCode: string | null;
  errorMessage: string | null;
  iuv: string | null;
  noticeNumber: string | null;
  amountCents: number | null;
  dueDate: string | null;
  /** XML inputs: every option's numbers, as the importer stored them. */
  notices: unknown;
}

export interface NewImportIntent {
  id: string;
  enteId: number;
  fileName: string;
  owner: string;
  /** Set when adopting a claim found in processing/ without a row. */
  claimedName?: string | null;
  options?: unknown;
}

export interface ClaimFacts {
  claimedName: string;
  sha256: string;
  size: number;
}

export interface ValidatedFacts {
  format: string;
  flowId: string | null;
  itemCount: number;
  lineCount: number;
}

export interface OutcomeDecision {
  result: ImportResult;
  errorCode?: string | null;
  errorMessage?: string | null;
  duplicateOf?: string | null;
  /** When known before the lines are counted (a rejected file has no lines). */
  format?: string | null;
}

/** Per service of an import: how many records (items) were answered OK (or WARN) and KO. */
export interface ServiceSummary {
  serviceId: number;
  itemCount: number;
  okCount: number;
  koCount: number;
}

interface ImportRow {
  id: string;
  ente_id: number | string;
  file_name: string;
  claimed_name: string | null;
  sha256: string | null;
  content_key: string | null;
  size: number | string | null;
  format: string | null;
  flow_id: string | null;
  options: string | null;
  status: ImportStatus;
  result: ImportResult | null;
  owner: string;
  heartbeat_at: string;
  next_item: number | string;
  item_count: number | string | null;
  line_count: number | string | null;
  ok_count: number | string;
  warn_count: number | string;
  ko_count: number | string;
  error_code: string | null;
  error_message: string | null;
  duplicate_of: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

interface ImportLineRow {
  import_id: string;
  row_no: number | string;
  item_no: number | string;
  service_id: number | string | null;
  position_id: string | null;
  installment_no: number | string | null;
  action: string | null;
  outcome: ImportLineOutcome;
  error_code: string | null;
  error_message: string | null;
  iuv: string | null;
  notice_number: string | null;
  amount_cents: number | string | null;
  due_date: string | null;
  notices: string | null;
}

function toImport(row: ImportRow): FileImport {
  return {
    id: row.id,
    enteId: toInt(row.ente_id),
    fileName: row.file_name,
    claimedName: row.claimed_name,
    sha256: row.sha256,
    size: toIntOrNull(row.size),
    format: row.format,
    flowId: row.flow_id,
    options: row.options === null ? null : (JSON.parse(row.options) as unknown),
    status: row.status,
    result: row.result,
    owner: row.owner,
    heartbeatAt: row.heartbeat_at,
    nextItem: toInt(row.next_item),
    itemCount: toIntOrNull(row.item_count),
    lineCount: toIntOrNull(row.line_count),
    okCount: toInt(row.ok_count),
    warnCount: toInt(row.warn_count),
    koCount: toInt(row.ko_count),
    errorCode: row.error_code,
    errorMessage: row.error_message,
    duplicateOf: row.duplicate_of,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

function toLine(row: ImportLineRow): ImportLine {
  return {
    rowNo: toInt(row.row_no),
    itemNo: toInt(row.item_no),
    serviceId: toIntOrNull(row.service_id),
    positionId: row.position_id,
    installmentNo: toIntOrNull(row.installment_no),
    action: row.action,
    outcome: row.outcome,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    iuv: row.iuv,
    noticeNumber: row.notice_number,
    amountCents: toIntOrNull(row.amount_cents),
    dueDate: row.due_date,
    notices: row.notices === null ? null : (JSON.parse(row.notices) as unknown),
  };
}

/** Values longer than their column are cut: a broken input line may carry anything. */
function clip(value: string | null | undefined, max: number): string | null {
  if (value === undefined || value === null) return null;
  return value.length > max ? value.slice(0, max) : value;
}

function lineColumns(importId: string, line: ImportLine) {
  return {
    import_id: importId,
    row_no: line.rowNo,
    item_no: line.itemNo,
    service_id: line.serviceId,
    position_id: clip(line.positionId, 255),
    installment_no: line.installmentNo,
    action: clip(line.action, 8),
    outcome: line.outcome,
    error_code: clip(line.errorCode, 24),
    error_message: line.errorMessage,
    iuv: clip(line.iuv, 35),
    notice_number: clip(line.noticeNumber, 18),
    amount_cents: line.amountCents,
    due_date: clip(line.dueDate, 10),
    notices: line.notices === null || line.notices === undefined ? null : JSON.stringify(line.notices),
  };
}

// Lock timeouts (SQLite: another process held the write lock past busy_timeout), PostgreSQL
// deadlocks and serialization failures: the transaction changed nothing and may be run again.
const TRANSIENT_CODES = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', '40P01', '40001']);

/**
 * Whether a failed batch transaction may simply be run again: a lock timeout or deadlock, or a
 * unique violation (another instance stored the same positionId after the batch checked; the
 * retried batch sees it and answers E_ALREADY_EXISTS).
 */
export function isRetryableBatchError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && TRANSIENT_CODES.has(code)) || isUniqueViolation(err);
}

function positionRow(enteId: number, item: NewFilePosition, now: string) {
  return {
    ente_id: enteId,
    service_id: item.serviceId,
    position_id: item.position.positionId,
    status: 'VALID',
    ...positionColumns(item.position),
    version: 1,
    created_at: now,
    updated_at: now,
  };
}

// The bulk writes of a batch spell their SQL out instead of using knex's insert(): on SQLite knex
// writes a multi-row INSERT as `select ? as "col", … union all select …`, slower to compile and to
// prepare than `values (…), (…)`. On SQLite each statement stays within the SQL length whose
// prepared statement the connection keeps (src/db/knex.ts, MAX_CACHED_SQL_LENGTH), so a full chunk
// is prepared once per import instead of once per batch; PostgreSQL takes INSERT_CHUNK_SIZE rows
// per statement, for fewer round trips.
const SQLITE_CACHED_SQL_LENGTH = 4096;

type Row = Record<string, unknown>;

/** Rows per statement: INSERT_CHUNK_SIZE, or on SQLite what fits in SQLITE_CACHED_SQL_LENGTH. */
function rowsPerStatement(db: Db, fixedLength: number, rowLength: number): number {
  if (dialectOf(db) === 'postgres') return INSERT_CHUNK_SIZE;
  const fit = Math.floor((SQLITE_CACHED_SQL_LENGTH - fixedLength) / (rowLength + 2));
  return Math.max(1, Math.min(INSERT_CHUNK_SIZE, fit));
}

/** The rows a raw `… returning` answered (better-sqlite3 gives an array, pg a result). */
function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows;
}

/**
 * `insert into <table> (…) values (…), (…) [returning …]` in chunks; every row has the columns of
 * the first, in the same order. An undefined value is written as null, as knex does on SQLite
 * (useNullAsDefault): none of the columns written here has a default. Returns the returned rows.
 */
async function insertRows<T = never>(
  db: Db,
  table: string,
  rows: readonly Row[],
  returning: readonly string[] = [],
): Promise<T[]> {
  const first = rows[0];
  if (!first) return [];
  const columns = Object.keys(first);
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values `;
  const tail = returning.length ? ` returning ${returning.map((c) => `"${c}"`).join(', ')}` : '';
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const out: T[] = [];
  for (const part of chunk(rows, rowsPerStatement(db, head.length + tail.length, tuple.length))) {
    const bindings = part.flatMap((row) => columns.map((c) => row[c] ?? null));
    const sql = head + part.map(() => tuple).join(', ') + tail;
    const result: unknown = await db.raw(sql, bindings as Knex.RawBinding[]);
    if (tail) out.push(...rowsOf<T>(result));
  }
  return out;
}

/**
 * Links issued IUVs to their options by the ids already known: one `update … from (values …)` per
 * chunk (SQLite ≥ 3.33 and PostgreSQL), each a lookup by the unique (ente_id, iuv) index. The
 * former `set option_id = (select … from payment_options …) where iuv in (…)` took 250–500 ms per
 * 500-row batch on PostgreSQL and grew with the table (bench/README.md).
 */
async function linkIuvs(db: Db, enteId: number, links: ReadonlyArray<{ iuv: string; optionId: number }>) {
  const head = 'with v (iuv, option_id) as (values ';
  const tail =
    ') update "iuv_allocations" set "option_id" = v.option_id from v' +
    ' where "iuv_allocations"."ente_id" = ? and "iuv_allocations"."iuv" = v.iuv';
  const tuple = '(?, cast(? as integer))';
  for (const part of chunk(links, rowsPerStatement(db, head.length + tail.length, tuple.length))) {
    const sql = head + part.map(() => tuple).join(', ') + tail;
    await db.raw(sql, [...part.flatMap((l) => [l.iuv, l.optionId]), enteId]);
  }
}

/** The importer lost its import to another instance: the caller stops and changes nothing more. */
export function importTakenOver(id: string, owner: string) {
  return domainError('CONCURRENT_UPDATE', `import ${id} is no longer held by ${owner}`, { importId: id });
}

export function createImportsRepository(db: Db, clock: Clock) {
  const get = async (id: string): Promise<FileImport | null> => {
    const row = await db<ImportRow>('imports').where({ id }).first();
    return row ? toImport(row) : null;
  };

  const event = (
    id: string,
    action: string,
    from: string | null,
    to: string | null,
    cause: string,
    actor: string,
    payload?: unknown,
  ) =>
    appendEvent(db, clock, {
      entityType: IMPORT,
      entityId: id,
      action,
      fromStatus: from,
      toStatus: to,
      cause,
      actor,
      payload,
    });

  /** Counts of the lines of an import by outcome. */
  const countLines = async (importId: string): Promise<Record<ImportLineOutcome, number>> => {
    const rows: Array<{ outcome: ImportLineOutcome; n: number | string }> = await db('import_lines')
      .where({ import_id: importId })
      .groupBy('outcome')
      .select('outcome')
      .count({ n: '*' });
    const count = (outcome: ImportLineOutcome) => toInt(rows.find((r) => r.outcome === outcome)?.n ?? 0);
    return { OK: count('OK'), WARN: count('WARN'), KO: count('KO') };
  };

  return {
    get,

    /**
     * Writes the row of a file about to be claimed (or of a claim found without one): CLAIMING,
     * owned by `owner`. False when the claimed name already has a row (another instance adopted it).
     */
    async createIntent(input: NewImportIntent): Promise<boolean> {
      const now = isoNow(clock);
      try {
        await db('imports').insert({
          id: input.id,
          ente_id: input.enteId,
          file_name: input.fileName,
          claimed_name: input.claimedName ?? null,
          options:
            input.options === undefined || input.options === null ? null : JSON.stringify(input.options),
          status: 'CLAIMING',
          owner: input.owner,
          heartbeat_at: now,
          created_at: now,
          updated_at: now,
        });
        return true;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },

    /** Drops the row of a claim that did not happen (the file was gone: another instance took it). */
    async deleteIntent(id: string, owner: string): Promise<boolean> {
      const deleted = await db('imports').where({ id, owner, status: 'CLAIMING' }).delete();
      return deleted > 0;
    },

    /**
     * CLAIMING → CLAIMED with what was claimed. The content must be new for the ente: when an
     * import in progress or DONE holds the same SHA-256, the row is claimed without it and the
     * holder's id is returned (the caller rejects the file as F_DUP_FLOW).
     */
    async recordClaim(
      id: string,
      owner: string,
      facts: ClaimFacts,
    ): Promise<{ recorded: boolean; duplicateOf: string | null }> {
      const columns = {
        claimed_name: facts.claimedName,
        sha256: facts.sha256,
        size: facts.size,
        status: 'CLAIMED',
        heartbeat_at: isoNow(clock),
        updated_at: isoNow(clock),
      };
      const where = { id, owner, status: 'CLAIMING' };
      let duplicateOf: string | null = null;
      let changed: number;
      try {
        changed = await db('imports')
          .where(where)
          .update({ ...columns, content_key: facts.sha256 });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const current = await get(id);
        const holder = current
          ? await db<ImportRow>('imports')
              .where({ ente_id: current.enteId, content_key: facts.sha256 })
              .first('id')
          : undefined;
        duplicateOf = holder?.id ?? null;
        changed = await db('imports').where(where).update(columns);
      }
      if (changed > 0) {
        await event(id, 'claimed', 'CLAIMING', 'CLAIMED', `claimed ${facts.claimedName}`, owner, {
          sha256: facts.sha256,
          duplicateOf,
        });
      }
      return { recorded: changed > 0, duplicateOf };
    },

    /**
     * Moves an import from an owner judged gone to `owner`: only if it is still held by that owner
     * with that very heartbeat, so of two instances taking over at once exactly one succeeds.
     */
    async takeOver(
      id: string,
      from: { owner: string; heartbeatAt: string },
      owner: string,
    ): Promise<boolean> {
      const now = isoNow(clock);
      const changed = await db('imports')
        .where({ id, owner: from.owner, heartbeat_at: from.heartbeatAt })
        .whereIn('status', UNFINISHED_IMPORT_STATUSES)
        .update({ owner, heartbeat_at: now, updated_at: now });
      if (changed > 0) {
        await event(id, 'taken_over', null, null, `the previous owner ${from.owner} is gone`, owner);
      }
      return changed > 0;
    },

    /** Renews the owner's hold; false when the import is no longer its own (or is finished). */
    async heartbeat(id: string, owner: string): Promise<boolean> {
      const changed = await db('imports')
        .where({ id, owner })
        .whereIn('status', UNFINISHED_IMPORT_STATUSES)
        .update({ heartbeat_at: isoNow(clock) });
      return changed > 0;
    },

    /** CLAIMED → IMPORTING once the whole file was read without a file-level error. */
    async markValidated(id: string, owner: string, facts: ValidatedFacts): Promise<void> {
      const now = isoNow(clock);
      const changed = await db('imports')
        .where({ id, owner, status: 'CLAIMED' })
        .update({
          status: 'IMPORTING',
          format: facts.format,
          flow_id: clip(facts.flowId, 64),
          item_count: facts.itemCount,
          line_count: facts.lineCount,
          heartbeat_at: now,
          updated_at: now,
        });
      if (changed === 0) throw importTakenOver(id, owner);
      await event(
        id,
        'status_changed',
        'CLAIMED',
        'IMPORTING',
        'the file reads without file-level errors',
        owner,
        {
          format: facts.format,
          items: facts.itemCount,
          lines: facts.lineCount,
        },
      );
    },

    /**
     * The fence of a batch: moves next_item from `fromItem` to `toItem` only if the import is still
     * this owner's and no one committed these items. Call it FIRST in the batch's transaction (it
     * takes the write lock on SQLite, the row lock on PostgreSQL); throws CONCURRENT_UPDATE otherwise.
     */
    async advance(id: string, owner: string, fromItem: number, toItem: number): Promise<void> {
      const now = isoNow(clock);
      const changed = await db('imports')
        .where({ id, owner, status: 'IMPORTING', next_item: fromItem })
        .update({ next_item: toItem, heartbeat_at: now, updated_at: now });
      if (changed === 0) throw importTakenOver(id, owner);
    },

    /** Stores answered lines; pass the transaction of the batch that made the changes. */
    async insertLines(importId: string, lines: readonly ImportLine[]): Promise<void> {
      await insertRows(
        db,
        'import_lines',
        lines.map((line) => lineColumns(importId, line)),
      );
    },

    /**
     * → WRITING_OUTCOME with the result and the line counts (from the stored lines). A REJECTED
     * import gives its content up (content_key null), so the same file may be dropped again.
     * Pass the transaction that also queues the import's notifications.
     */
    async startOutcome(id: string, owner: string, decision: OutcomeDecision): Promise<FileImport> {
      const current = await get(id);
      if (!current || current.owner !== owner || !['CLAIMED', 'IMPORTING'].includes(current.status)) {
        throw importTakenOver(id, owner);
      }
      const counts = await countLines(id);
      const now = isoNow(clock);
      const rejected = decision.result === 'REJECTED';
      const changed = await db('imports')
        .where({ id, owner, status: current.status })
        .update({
          status: 'WRITING_OUTCOME',
          result: decision.result,
          ok_count: counts.OK,
          warn_count: counts.WARN,
          ko_count: counts.KO,
          error_code: decision.errorCode ?? null,
          error_message: decision.errorMessage ?? null,
          duplicate_of: decision.duplicateOf ?? null,
          ...(decision.format ? { format: decision.format } : {}),
          ...(rejected ? { content_key: null } : {}),
          heartbeat_at: now,
          updated_at: now,
        });
      if (changed === 0) throw importTakenOver(id, owner);
      await event(
        id,
        'status_changed',
        current.status,
        'WRITING_OUTCOME',
        `result ${decision.result}`,
        owner,
        {
          errorCode: decision.errorCode ?? null,
          lines: counts,
        },
      );
      return (await get(id)) as FileImport;
    },

    /** WRITING_OUTCOME → DONE / REJECTED once the outcome is written and the file moved. */
    async finish(id: string, owner: string): Promise<FileImport> {
      const current = await get(id);
      if (!current || current.status !== 'WRITING_OUTCOME' || current.owner !== owner) {
        throw importTakenOver(id, owner);
      }
      const now = isoNow(clock);
      const to = current.result ?? 'DONE';
      const changed = await db('imports')
        .where({ id, owner, status: 'WRITING_OUTCOME' })
        .update({ status: to, updated_at: now, finished_at: now });
      if (changed === 0) throw importTakenOver(id, owner);
      await event(id, 'status_changed', 'WRITING_OUTCOME', to, `${current.fileName} finished`, owner);
      return (await get(id)) as FileImport;
    },

    async findByClaimedName(enteId: number, claimedName: string): Promise<FileImport | null> {
      const row = await db<ImportRow>('imports')
        .where({ ente_id: enteId, claimed_name: claimedName })
        .first();
      return row ? toImport(row) : null;
    },

    /** The latest import of a file name with this content, whatever its status. */
    async findLatest(enteId: number, fileName: string, sha256: string): Promise<FileImport | null> {
      const row = await db<ImportRow>('imports')
        .where({ ente_id: enteId, file_name: fileName, sha256 })
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .first();
      return row ? toImport(row) : null;
    },

    /** Imports of the ente with work left (any owner), oldest first. */
    async listUnfinished(enteId: number): Promise<FileImport[]> {
      const rows = await db<ImportRow>('imports')
        .where({ ente_id: enteId })
        .whereIn('status', UNFINISHED_IMPORT_STATUSES)
        .orderBy([{ column: 'created_at' }, { column: 'id' }]);
      return rows.map(toImport);
    },

    /** Rows of claims in the making (or adopted, not yet described) for one original file name. */
    async listClaiming(enteId: number, fileName: string): Promise<FileImport[]> {
      const rows = await db<ImportRow>('imports')
        .where({ ente_id: enteId, file_name: fileName, status: 'CLAIMING' })
        .orderBy([{ column: 'created_at' }, { column: 'id' }]);
      return rows.map(toImport);
    },

    /** The recent imports of an ente, newest first (operators, tests). */
    async list(enteId: number, limit = 100): Promise<FileImport[]> {
      const rows = await db<ImportRow>('imports')
        .where({ ente_id: enteId })
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(limit);
      return rows.map(toImport);
    },

    /** One page of an import's lines in row order (keyset: the rows after `afterRowNo`). */
    async lines(importId: string, page: { afterRowNo: number; limit: number }): Promise<ImportLine[]> {
      const rows = await db<ImportLineRow>('import_lines')
        .where({ import_id: importId })
        .andWhere('row_no', '>', page.afterRowNo)
        .orderBy('row_no')
        .limit(page.limit);
      return rows.map(toLine);
    },

    /**
     * The lines of one service's records and of the records of no known service (syntax errors,
     * unknown service codes), in row order: what a notification of ≤1000 records reports.
     */
    async linesOfService(importId: string, serviceId: number): Promise<ImportLine[]> {
      const rows = await db<ImportLineRow>('import_lines')
        .where({ import_id: importId })
        .andWhere((q) => q.where('service_id', serviceId).orWhereNull('service_id'))
        .orderBy('row_no');
      return rows.map(toLine);
    },

    countLines,

    /**
     * Records per service and whether each was applied (OK / WARN) or not (KO); the records of no
     * known service count with every service (they are reported to each, see linesOfService).
     */
    async serviceSummaries(importId: string): Promise<ServiceSummary[]> {
      const items = db('import_lines')
        .where({ import_id: importId })
        .groupBy('service_id', 'item_no')
        .select('service_id', db.raw(`max(case when outcome = 'KO' then 1 else 0 end) as ko`))
        .as('items');
      const rows: Array<{ service_id: number | string | null; n: number | string; ko: number | string }> =
        await db
          .from(items)
          .groupBy('service_id')
          .select('service_id', db.raw('count(*) as n'), db.raw('sum(ko) as ko'));
      const unattributed = rows.find((r) => r.service_id === null);
      const extraItems = unattributed ? toInt(unattributed.n) : 0;
      const extraKo = unattributed ? toInt(unattributed.ko) : 0;
      return rows
        .filter((r) => r.service_id !== null)
        .map((row) => {
          const itemCount = toInt(row.n) + extraItems;
          const koCount = toInt(row.ko) + extraKo;
          return {
            serviceId: toInt(row.service_id as number),
            itemCount,
            okCount: itemCount - koCount,
            koCount,
          };
        })
        .sort((a, b) => a.serviceId - b.serviceId);
    },

    /**
     * Stores new positions in bulk (multi-row INSERTs of at most INSERT_CHUNK_SIZE rows): the same
     * rows, VALID status, "created" events and IUV links that positions.insert writes one position
     * at a time, for the plain INSERTs of a file batch. Pass the batch's transaction; positions
     * must be new (a taken positionId or IUV fails the whole batch). Returns positionId → row id.
     */
    async insertPositions(
      enteId: number,
      items: readonly NewFilePosition[],
      actor: string,
    ): Promise<Map<string, number>> {
      const rowIds = new Map<string, number>();
      const now = isoNow(clock);
      // RETURNING (SQLite ≥ 3.35, PostgreSQL) in no guaranteed order: each id comes with its key.
      const positionRows = await insertRows<{ id: number | string; position_id: string }>(
        db,
        'positions',
        items.map((item) => positionRow(enteId, item, now)),
        ['id', 'position_id'],
      );
      for (const row of positionRows) rowIds.set(row.position_id, toInt(row.id));
      const options = items.flatMap((item) =>
        item.position.options.map((option, i) => ({ item, option, notice: item.notices[i] as Notice })),
      );
      const optionRows = await insertRows<{ id: number | string; iuv: string }>(
        db,
        'payment_options',
        options.map(({ item, option, notice }) => ({
          position_id: rowIds.get(item.position.positionId),
          ente_id: enteId,
          ...optionColumns(option),
          iuv: notice.iuv,
          notice_number: notice.noticeNumber,
          status: 'UNPAID',
        })),
        ['id', 'iuv'],
      );
      const optionIds = new Map<string, number>();
      for (const row of optionRows) optionIds.set(row.iuv, toInt(row.id));
      await insertRows(
        db,
        'transfers',
        options.flatMap(({ option, notice }) => transferRows(optionIds.get(notice.iuv), option)),
      );
      // The IUVs were issued unattached (iuv_allocations.option_id null): link each to its option.
      await linkIuvs(
        db,
        enteId,
        options.map(({ notice }) => ({ iuv: notice.iuv, optionId: optionIds.get(notice.iuv) as number })),
      );
      await appendEvents(
        db,
        clock,
        items.map((item) => ({
          entityType: 'position',
          entityId: rowIds.get(item.position.positionId) as number,
          action: 'created',
          toStatus: 'VALID',
          cause: item.cause,
          actor,
        })),
      );
      return rowIds;
    },

    /** Which of these gestionale position ids the ente already has (one query per chunk). */
    async existingPositionIds(enteId: number, positionIds: readonly string[]): Promise<Set<string>> {
      const found = new Set<string>();
      for (const part of chunk(positionIds, INSERT_CHUNK_SIZE)) {
        const rows: Array<{ position_id: string }> = await db('positions')
          .where({ ente_id: enteId })
          .whereIn('position_id', part)
          .select('position_id');
        for (const row of rows) found.add(row.position_id);
      }
      return found;
    },
  };
}

export type ImportsRepository = ReturnType<typeof createImportsRepository>;

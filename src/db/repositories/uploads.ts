// Uploads of debt positions (uploadDebtPositions, later drop-folder files) and their per-item
// outcomes. An upload is unique per (ente, messageId); an item's outcome is written in the
// transaction of the change the item makes, so a restarted worker never applies an item twice.

import type { Db } from '../knex.ts';
import { mapUniqueViolation } from '../errors.ts';
import { appendEvent } from './events.ts';
import { chunk, inTransaction, isoNow, toInt, toIntOrNull, type Clock } from '../rows.ts';
import { INSERT_CHUNK_SIZE } from './iuv.ts';

const UPLOAD = 'upload';

export type UploadSource = 'SOAP' | 'FILE';
export type UploadStatus = 'ACCEPTED' | 'PROCESSING' | 'PROCESSED';
export type UploadAction = 'INSERT' | 'UPDATE' | 'CANCEL';
export type ItemOutcome = 'OK' | 'KO';

export interface NewUploadItem {
  /** 1-based position of the item in its message or file. */
  sequence: number;
  positionId: string;
  action: UploadAction;
  /** What the item asks for, as the use case will read it back (JSON). */
  payload: unknown;
}

export interface NewUpload {
  id: string;
  enteId: number;
  serviceId: number;
  clientId: number | null;
  source: UploadSource;
  messageId: string;
  fileName?: string | null;
  requestHash: string;
  status: UploadStatus;
  /** Who sent it, copied into the events of every change the upload makes. */
  actor: string;
  items: readonly NewUploadItem[];
}

export interface Upload {
  id: string;
  enteId: number;
  serviceId: number;
  clientId: number | null;
  source: UploadSource;
  messageId: string;
  fileName: string | null;
  requestHash: string;
  status: UploadStatus;
  itemCount: number;
  okCount: number;
  koCount: number;
  actor: string;
  createdAt: string;
  updatedAt: string;
  processedAt: string | null;
}

export interface UploadItem {
  uploadId: string;
  sequence: number;
  positionId: string;
  action: UploadAction;
  payload: unknown;
  outcome: ItemOutcome | null;
  /** The item's result (notices on OK, the error on KO) once processed. */
  result: unknown;
  processedAt: string | null;
}

interface UploadRow {
  id: string;
  ente_id: number | string;
  service_id: number | string;
  client_id: number | string | null;
  source: UploadSource;
  message_id: string;
  file_name: string | null;
  request_hash: string;
  status: UploadStatus;
  item_count: number | string;
  ok_count: number | string;
  ko_count: number | string;
  actor: string;
  created_at: string;
  updated_at: string;
  processed_at: string | null;
}

interface UploadItemRow {
  upload_id: string;
  sequence: number | string;
  position_id: string;
  action: UploadAction;
  payload: string;
  outcome: ItemOutcome | null;
  result: string | null;
  processed_at: string | null;
}

function toUpload(row: UploadRow): Upload {
  return {
    id: row.id,
    enteId: toInt(row.ente_id),
    serviceId: toInt(row.service_id),
    clientId: toIntOrNull(row.client_id),
    source: row.source,
    messageId: row.message_id,
    fileName: row.file_name,
    requestHash: row.request_hash,
    status: row.status,
    itemCount: toInt(row.item_count),
    okCount: toInt(row.ok_count),
    koCount: toInt(row.ko_count),
    actor: row.actor,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    processedAt: row.processed_at,
  };
}

function toItem(row: UploadItemRow): UploadItem {
  return {
    uploadId: row.upload_id,
    sequence: toInt(row.sequence),
    positionId: row.position_id,
    action: row.action,
    payload: JSON.parse(row.payload) as unknown,
    outcome: row.outcome,
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
    processedAt: row.processed_at,
  };
}

export function createUploadsRepository(db: Db, clock: Clock) {
  const get = async (id: string): Promise<Upload | null> => {
    const row = await db<UploadRow>('uploads').where({ id }).first();
    return row ? toUpload(row) : null;
  };

  const countOutcomes = async (uploadId: string): Promise<{ ok: number; ko: number }> => {
    const rows: Array<{ outcome: ItemOutcome | null; n: number | string }> = await db('upload_items')
      .where({ upload_id: uploadId })
      .whereNotNull('outcome')
      .groupBy('outcome')
      .select('outcome')
      .count({ n: '*' });
    const count = (outcome: ItemOutcome) => toInt(rows.find((r) => r.outcome === outcome)?.n ?? 0);
    return { ok: count('OK'), ko: count('KO') };
  };

  return {
    get,

    /**
     * Stores an upload with its items, atomically. The (ente, messageId) pair is unique: a second
     * upload with the same messageId is MESSAGE_DUPLICATE and nothing is stored.
     */
    async create(input: NewUpload): Promise<Upload> {
      const now = isoNow(clock);
      const details = { enteId: input.enteId, messageId: input.messageId };
      await mapUniqueViolation('MESSAGE_DUPLICATE', details, () =>
        inTransaction(db, async (trx) => {
          await trx('uploads').insert({
            id: input.id,
            ente_id: input.enteId,
            service_id: input.serviceId,
            client_id: input.clientId,
            source: input.source,
            message_id: input.messageId,
            file_name: input.fileName ?? null,
            request_hash: input.requestHash,
            status: input.status,
            item_count: input.items.length,
            ok_count: 0,
            ko_count: 0,
            actor: input.actor,
            created_at: now,
            updated_at: now,
          });
          const rows = input.items.map((item) => ({
            upload_id: input.id,
            sequence: item.sequence,
            position_id: item.positionId,
            action: item.action,
            payload: JSON.stringify(item.payload),
          }));
          for (const part of chunk(rows, INSERT_CHUNK_SIZE)) await trx('upload_items').insert(part);
          await appendEvent(trx, clock, {
            entityType: UPLOAD,
            entityId: input.id,
            action: 'created',
            toStatus: input.status,
            cause: `${input.source} upload ${input.messageId}`,
            actor: input.actor,
          });
        }),
      );
      return (await get(input.id)) as Upload;
    },

    async findByMessageId(enteId: number, messageId: string): Promise<Upload | null> {
      const row = await db<UploadRow>('uploads').where({ ente_id: enteId, message_id: messageId }).first();
      return row ? toUpload(row) : null;
    },

    /** Uploads not processed yet (ACCEPTED or interrupted while PROCESSING), oldest first. */
    async listUnfinished(limit = 100): Promise<Upload[]> {
      const rows = await db<UploadRow>('uploads')
        .whereIn('status', ['ACCEPTED', 'PROCESSING'])
        .orderBy([{ column: 'created_at' }, { column: 'id' }])
        .limit(limit);
      return rows.map(toUpload);
    },

    /** Items still without an outcome, in message order. */
    async pendingItems(uploadId: string, limit: number): Promise<UploadItem[]> {
      const rows = await db<UploadItemRow>('upload_items')
        .where({ upload_id: uploadId })
        .whereNull('outcome')
        .orderBy('sequence')
        .limit(limit);
      return rows.map(toItem);
    },

    /** Processed items in message order, one page at a time. */
    async listOutcomes(uploadId: string, page: { offset: number; limit: number }): Promise<UploadItem[]> {
      const rows = await db<UploadItemRow>('upload_items')
        .where({ upload_id: uploadId })
        .whereNotNull('outcome')
        .orderBy('sequence')
        .offset(page.offset)
        .limit(page.limit);
      return rows.map(toItem);
    },

    countOutcomes,

    /**
     * Writes an item's outcome unless it already has one; false when it had (another worker, or a
     * retried chunk, got there first). Pass the transaction of the item's change.
     */
    async recordOutcome(
      uploadId: string,
      sequence: number,
      outcome: ItemOutcome,
      result: unknown,
    ): Promise<boolean> {
      const changed = await db('upload_items')
        .where({ upload_id: uploadId, sequence })
        .whereNull('outcome')
        .update({ outcome, result: JSON.stringify(result), processed_at: isoNow(clock) });
      return changed > 0;
    },

    /** ACCEPTED → PROCESSING, once the worker starts on it; false when it was not ACCEPTED. */
    async markProcessing(id: string): Promise<boolean> {
      const changed = await db('uploads')
        .where({ id, status: 'ACCEPTED' })
        .update({ status: 'PROCESSING', updated_at: isoNow(clock) });
      return changed > 0;
    },

    /** PROCESSED with the final counts, and its event; call once every item has its outcome. */
    async finish(id: string, cause: string): Promise<Upload> {
      const current = await get(id);
      if (!current) throw new Error(`no upload ${id}`);
      if (current.status === 'PROCESSED') return current;
      const counts = await countOutcomes(id);
      const now = isoNow(clock);
      await inTransaction(db, async (trx) => {
        await trx('uploads').where({ id }).update({
          status: 'PROCESSED',
          ok_count: counts.ok,
          ko_count: counts.ko,
          updated_at: now,
          processed_at: now,
        });
        await appendEvent(trx, clock, {
          entityType: UPLOAD,
          entityId: id,
          action: 'status_changed',
          fromStatus: current.status,
          toStatus: 'PROCESSED',
          cause,
          actor: current.actor,
          payload: counts,
        });
      });
      return (await get(id)) as Upload;
    },
  };
}

export type UploadsRepository = ReturnType<typeof createUploadsRepository>;

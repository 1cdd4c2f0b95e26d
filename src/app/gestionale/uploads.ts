// uploadDebtPositions (Base model, DESIGN §3): a message of 1-1000 INSERT / UPDATE / CANCEL items.
//
// Idempotency: the message is stored under (ente, messageId) with a hash of its content. The same
// messageId with the same content answers what is stored (the first outcome, or the progress of an
// accepted one); with other content it is MESSAGE_DUPLICATE. Items are idempotent by positionId
// (uploadItems.ts). Items fail alone: each runs in a savepoint, its outcome written with it.
//
// Small messages are processed at once in ONE transaction (upload row, every item, final status):
// an unexpected failure leaves nothing at all, and the retry starts afresh. Messages above the
// threshold are stored ACCEPTED and processed by the upload worker in chunks, one transaction per
// chunk; a restart resumes at the first item without an outcome; the end is announced by a
// notifyUploadOutcome outbox row written with the final status.

import { domainError, isDomainError } from '../../domain/errors.ts';
import { validateDebtPosition } from '../../domain/position.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { NewAllocation } from '../../db/repositories/iuv.ts';
import type { ItemOutcome, Upload, UploadItem } from '../../db/repositories/uploads.ts';
import { issueNotices } from '../notices.ts';
import { contentHash, newUploadId, stableId, type GestionaleCaller, type ServiceScope } from './common.ts';
import {
  applyItem,
  freshNoticesNeeded,
  NoticeSupply,
  positionIdField,
  positionIdOf,
  type ItemContext,
  type ItemError,
  type ItemResult,
  type NoticeResult,
  type UploadItemInput,
} from './uploadItems.ts';

/** Above this many items a message is answered ACCEPTED and processed by the upload worker. */
export const SYNC_UPLOAD_MAX_ITEMS = 100;
/** The largest message (ctUploadDebtPositionsRequest item maxOccurs). */
export const MAX_UPLOAD_ITEMS = 1000;
/** Items per worker transaction. */
export const UPLOAD_CHUNK_SIZE = 50;
/** Outbox topic of the callback that announces a processed asynchronous upload. */
export const NOTIFY_UPLOAD_OUTCOME = 'notifyUploadOutcome';

export interface UploadRequest extends ServiceScope {
  caller: GestionaleCaller;
  messageId: string;
  items: UploadItemInput[];
}

export interface UploadOptions {
  /** The synchronous threshold; SYNC_UPLOAD_MAX_ITEMS unless given. */
  syncMaxItems?: number;
  /** Called once a message is stored ACCEPTED, to wake the upload worker. */
  onAccepted?: (uploadId: string) => void;
}

export interface UploadAnswer {
  upload: Upload;
  /** Every item's outcome in message order once PROCESSED; empty before. */
  items: ItemResult[];
}

/** What upload_items.payload holds: the item as sent, and the earlier item with its positionId. */
interface StoredItemPayload {
  item: UploadItemInput;
  duplicateOf: number | null;
}

/** What upload_items.result holds. */
interface StoredItemResult {
  notices?: NoticeResult[];
  error?: ItemError;
}

export function itemResultOf(item: UploadItem): ItemResult {
  const result = (item.result ?? {}) as StoredItemResult;
  return {
    sequence: item.sequence,
    positionId: item.positionId,
    action: item.action,
    outcome: item.outcome ?? 'KO',
    notices: result.notices ?? [],
    error: result.error,
  };
}

async function answerOf(store: Store, upload: Upload): Promise<UploadAnswer> {
  if (upload.status !== 'PROCESSED') return { upload, items: [] };
  const items = await store.uploads.listOutcomes(upload.id, { offset: 0, limit: upload.itemCount });
  return { upload, items: items.map(itemResultOf) };
}

async function replay(store: Store, upload: Upload, hash: string): Promise<UploadAnswer> {
  if (upload.requestHash !== hash) {
    throw domainError('MESSAGE_DUPLICATE', 'the messageId was already used with different content', {
      field: 'messageId',
    });
  }
  return answerOf(store, upload);
}

/** Each item once, with the sequence of the first item naming the same positionId, if any. */
function payloadsOf(items: readonly UploadItemInput[]): StoredItemPayload[] {
  const first = new Map<string, number>();
  return items.map((item, i) => {
    const positionId = positionIdOf(item);
    const earlier = first.get(positionId);
    if (earlier === undefined) first.set(positionId, i + 1);
    return { item, duplicateOf: earlier ?? null };
  });
}

function errorOf(code: ItemError['code'], message: string, field?: unknown): ItemError {
  return { code, message, field: typeof field === 'string' ? field : undefined };
}

async function runItem(
  tx: Store,
  ctx: ItemContext,
  sequence: number,
  payload: StoredItemPayload,
): Promise<{ outcome: ItemOutcome; result: StoredItemResult }> {
  if (payload.duplicateOf !== null) {
    const message = `the positionId is also in item ${payload.duplicateOf} of this message`;
    const error = errorOf('DUPLICATE_IN_MESSAGE', message, positionIdField(payload.item));
    return { outcome: 'KO', result: { error } };
  }
  try {
    const itemCtx = { ...ctx, cause: `${ctx.cause} item ${sequence}` };
    const notices = await tx.transaction((itemTx) => applyItem(itemTx, itemCtx, payload.item));
    return { outcome: 'OK', result: { notices } };
  } catch (err) {
    if (!isDomainError(err)) throw err;
    return { outcome: 'KO', result: { error: errorOf(err.code, err.message, err.details.field) } };
  }
}

/** Applies items in `tx`, each in its own savepoint, writing each outcome in the same transaction. */
async function processItems(
  tx: Store,
  ctx: ItemContext,
  uploadId: string,
  items: readonly UploadItem[],
): Promise<void> {
  for (const item of items) {
    const { outcome, result } = await runItem(tx, ctx, item.sequence, item.payload as StoredItemPayload);
    if (!(await tx.uploads.recordOutcome(uploadId, item.sequence, outcome, result))) {
      throw new Error(`upload ${uploadId} item ${item.sequence} already has an outcome`);
    }
  }
}

/** Issues, before any item transaction, the notices the items are expected to need. */
async function supplyFor(
  store: Store,
  scope: { ente: Ente; service: Service; clientId: number | null },
  items: readonly StoredItemPayload[],
): Promise<NoticeSupply> {
  const inputs = items
    .filter((p) => p.duplicateOf === null)
    .map((p) => p.item)
    .filter((item) => {
      if (!item.position) return false;
      try {
        validateDebtPosition(item.position.draft, { enteFiscalCode: scope.ente.fiscalCode });
        return true;
      } catch (err) {
        if (isDomainError(err)) return false;
        throw err;
      }
    });
  const count = await freshNoticesNeeded(store, scope.ente, inputs);
  const preissued: NewAllocation[] = count
    ? await issueNotices(store, scope.ente, count, {
        purpose: 'position',
        serviceId: scope.service.id,
        clientId: scope.clientId,
      })
    : [];
  return new NoticeSupply(scope, preissued);
}

function causeOf(upload: { source: string; messageId: string }): string {
  return upload.source === 'SOAP' ? `uploadDebtPositions ${upload.messageId}` : `upload ${upload.messageId}`;
}

/**
 * Stores and processes (or queues) a message of debt-position changes. Throws only when the whole
 * message is refused (MESSAGE_DUPLICATE, INVALID_INPUT for an empty or oversized message), with
 * nothing stored; every item-level problem is an item outcome.
 */
export async function uploadDebtPositions(
  store: Store,
  request: UploadRequest,
  options: UploadOptions = {},
): Promise<UploadAnswer> {
  const { ente, service, caller, messageId, items } = request;
  if (items.length < 1 || items.length > MAX_UPLOAD_ITEMS) {
    throw domainError('INVALID_INPUT', `a message has 1 to ${MAX_UPLOAD_ITEMS} items`, { field: 'item' });
  }
  const hash = contentHash({ serviceCode: service.code, items });
  const existing = await store.uploads.findByMessageId(ente.id, messageId);
  if (existing) return replay(store, existing, hash);
  const payloads = payloadsOf(items);
  const uploadId = newUploadId();
  const base = {
    id: uploadId,
    enteId: ente.id,
    serviceId: service.id,
    clientId: caller.clientId,
    source: 'SOAP' as const,
    messageId,
    requestHash: hash,
    actor: caller.actor,
    items: payloads.map((p, i) => ({
      sequence: i + 1,
      positionId: positionIdOf(p.item),
      action: p.item.action,
      payload: p,
    })),
  };
  try {
    if (items.length > (options.syncMaxItems ?? SYNC_UPLOAD_MAX_ITEMS)) {
      const upload = await store.uploads.create({ ...base, status: 'ACCEPTED' });
      options.onAccepted?.(upload.id);
      return { upload, items: [] };
    }
    const scope = { ente, service, clientId: caller.clientId };
    const supply = await supplyFor(store, scope, payloads);
    const ctx: ItemContext = { ...scope, actor: caller.actor, cause: causeOf(base), supply };
    return await store.transaction(async (tx) => {
      await tx.uploads.create({ ...base, status: 'PROCESSING' });
      await processItems(tx, ctx, uploadId, await tx.uploads.pendingItems(uploadId, items.length));
      return answerOf(tx, await tx.uploads.finish(uploadId, 'processed at once'));
    });
  } catch (err) {
    // Another call stored the same messageId first (a concurrent retry): answer as a retry.
    if (!isDomainError(err, 'MESSAGE_DUPLICATE')) throw err;
    const winner = await store.uploads.findByMessageId(ente.id, messageId);
    if (!winner) throw err;
    return replay(store, winner, hash);
  }
}

/** The notifyUploadOutcome callback content (gestionale-callback.xsd), item errors as domain codes. */
export interface UploadOutcomeNotification {
  notificationId: string;
  eventDateTime: string;
  enteFiscalCode: string;
  serviceCode: string;
  uploadId: string;
  messageId: string;
  source: Upload['source'];
  fileName: string | null;
  summary: { itemCount: number; okCount: number; koCount: number };
  /** Every item outcome when the upload has at most 1000 items (the callback's bound), else none. */
  itemOutcome: ItemResult[];
}

/** Queues notifyUploadOutcome for a processed upload, once (its id derives from the upload id). */
async function enqueueUploadOutcome(tx: Store, upload: Upload, ente: Ente, service: Service): Promise<void> {
  if (upload.clientId === null) return;
  const notificationId = stableId(NOTIFY_UPLOAD_OUTCOME, upload.id);
  const items =
    upload.itemCount <= MAX_UPLOAD_ITEMS
      ? await tx.uploads.listOutcomes(upload.id, { offset: 0, limit: upload.itemCount })
      : [];
  const payload: UploadOutcomeNotification = {
    notificationId,
    eventDateTime: upload.processedAt ?? upload.updatedAt,
    enteFiscalCode: ente.fiscalCode,
    serviceCode: service.code,
    uploadId: upload.id,
    messageId: upload.messageId,
    source: upload.source,
    fileName: upload.fileName,
    summary: { itemCount: upload.itemCount, okCount: upload.okCount, koCount: upload.koCount },
    itemOutcome: items.map(itemResultOf),
  };
  await tx.outbox.enqueueOnce(notificationId, {
    topic: NOTIFY_UPLOAD_OUTCOME,
    target: upload.clientId,
    payload,
  });
}

export interface ProcessUploadOptions {
  chunkSize?: number;
  /** Called after each committed chunk (the worker extends its lock there). */
  onChunk?: () => Promise<unknown>;
}

/**
 * Processes an ACCEPTED (or interrupted) upload to the end: chunks of pending items, one
 * transaction each, then PROCESSED with its notifyUploadOutcome outbox row in one transaction.
 * Safe to call again after a crash; the caller keeps it single-instance (a job lock).
 */
export async function processUpload(
  store: Store,
  uploadId: string,
  options: ProcessUploadOptions = {},
): Promise<Upload | null> {
  const upload = await store.uploads.get(uploadId);
  if (!upload || upload.status === 'PROCESSED') return upload;
  const ente = await store.enti.getById(upload.enteId);
  const service = await store.services.getById(upload.serviceId);
  if (!ente || !service) throw new Error(`upload ${uploadId}: its ente or service is gone`);
  await store.uploads.markProcessing(uploadId);
  const scope = { ente, service, clientId: upload.clientId };
  for (;;) {
    const items = await store.uploads.pendingItems(uploadId, options.chunkSize ?? UPLOAD_CHUNK_SIZE);
    if (items.length === 0) break;
    const supply = await supplyFor(
      store,
      scope,
      items.map((i) => i.payload as StoredItemPayload),
    );
    const ctx: ItemContext = { ...scope, actor: upload.actor, cause: causeOf(upload), supply };
    await store.transaction((tx) => processItems(tx, ctx, uploadId, items));
    await options.onChunk?.();
  }
  return store.transaction(async (tx) => {
    const done = await tx.uploads.finish(uploadId, 'processed by the upload worker');
    await enqueueUploadOutcome(tx, done, ente, service);
    return done;
  });
}

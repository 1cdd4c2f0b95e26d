// getUploadOutcome: the state of an upload (by uploadId or messageId) and one page of the item
// outcomes processed so far, in item order. Uploads of services the caller is not bound to do not
// exist for it (UPLOAD_UNKNOWN), like those of other enti.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Upload } from '../../db/repositories/uploads.ts';
import type { GestionaleCaller } from './common.ts';
import { itemResultOf } from './uploads.ts';
import type { ItemResult } from './uploadItems.ts';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
const MAX_PAGE_NUMBER = 1_000_000;

export interface UploadOutcomeQuery {
  ente: Ente;
  caller: GestionaleCaller;
  uploadId?: string | null;
  messageId?: string | null;
  pageNumber?: number;
  pageSize?: number;
}

export interface PageInfo {
  pageNumber: number;
  pageSize: number;
  totalItems: number;
  totalPages: number;
}

export interface UploadOutcomeView {
  upload: Upload;
  serviceCode: string;
  summary: { itemCount: number; okCount: number; koCount: number };
  /** Paging over the items processed so far. */
  page: PageInfo;
  items: ItemResult[];
}

function unknownUpload(): never {
  throw domainError('UPLOAD_UNKNOWN', 'no such upload for this ente', { field: 'uploadId' });
}

function pageOf(value: number | undefined, fallback: number, max: number, field: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw domainError('INVALID_INPUT', `${field} must be 1 to ${max}`, { field });
  }
  return n;
}

export async function getUploadOutcome(store: Store, query: UploadOutcomeQuery): Promise<UploadOutcomeView> {
  const pageNumber = pageOf(query.pageNumber, 1, MAX_PAGE_NUMBER, 'pageNumber');
  const pageSize = pageOf(query.pageSize, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, 'pageSize');
  const upload = query.uploadId
    ? await store.uploads.get(query.uploadId)
    : query.messageId
      ? await store.uploads.findByMessageId(query.ente.id, query.messageId)
      : null;
  if (!upload || upload.enteId !== query.ente.id) unknownUpload();
  if (!query.caller.serviceIds.includes(upload.serviceId)) unknownUpload();
  const service = await store.services.getById(upload.serviceId);
  const counts =
    upload.status === 'PROCESSED'
      ? { ok: upload.okCount, ko: upload.koCount }
      : await store.uploads.countOutcomes(upload.id);
  const processed = counts.ok + counts.ko;
  const items = await store.uploads.listOutcomes(upload.id, {
    offset: (pageNumber - 1) * pageSize,
    limit: pageSize,
  });
  return {
    upload,
    serviceCode: service?.code ?? '',
    summary: { itemCount: upload.itemCount, okCount: counts.ok, koCount: counts.ko },
    page: { pageNumber, pageSize, totalItems: processed, totalPages: Math.ceil(processed / pageSize) },
    items: items.map(itemResultOf),
  };
}

// getUploadOutcome: maps the request (uploadId or messageId, paging) to the use case and the
// upload's state and page of item outcomes to the answer.

import type { Store } from '../../db/store.ts';
import { getUploadOutcome as readOutcome } from '../../app/gestionale/uploadOutcome.ts';
import type { GetUploadOutcomeRequest } from '../../xml/generated/gestionale/gestionale.ts';
import { itemOutcomeObject, summaryObject, type GestionaleHandler } from './common.ts';

export function getUploadOutcome(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as GetUploadOutcomeRequest;
    const view = await readOutcome(store, {
      ente: call.ente,
      caller: call.caller,
      uploadId: request.uploadId ?? null,
      messageId: request.messageId ?? null,
      pageNumber: request.pageNumber === undefined ? undefined : Number(request.pageNumber),
      pageSize: request.pageSize === undefined ? undefined : Number(request.pageSize),
    });
    const answer: Record<string, unknown> = {
      outcome: 'OK',
      uploadId: view.upload.id,
      messageId: view.upload.messageId,
      source: view.upload.source,
    };
    if (view.upload.fileName) answer.fileName = view.upload.fileName;
    answer.serviceCode = view.serviceCode;
    answer.status = view.upload.status;
    answer.summary = summaryObject(view.summary);
    answer.pageInfo = {
      pageNumber: String(view.page.pageNumber),
      pageSize: String(view.page.pageSize),
      totalItems: String(view.page.totalItems),
      totalPages: String(view.page.totalPages),
    };
    if (view.items.length) answer.itemOutcome = view.items.map(itemOutcomeObject);
    return answer;
  };
}

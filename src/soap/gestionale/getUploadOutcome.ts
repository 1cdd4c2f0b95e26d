// getUploadOutcome: maps the request (uploadId or messageId, paging) to the use case and the
// upload's state and page of item outcomes to the answer.

import type { Store } from '../../db/store.ts';
import { getUploadOutcome as readOutcome } from '../../app/gestionale/uploadOutcome.ts';
import type { GetUploadOutcomeRequest } from '../../xml/generated/gestionale/gestionale.ts';
import {
  itemOutcomeObject,
  pageInfoObject,
  pagingOf,
  summaryObject,
  type GestionaleHandler,
} from './common.ts';

export function getUploadOutcome(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as GetUploadOutcomeRequest;
    const view = await readOutcome(store, {
      ente: call.ente,
      caller: call.caller,
      uploadId: request.uploadId ?? null,
      messageId: request.messageId ?? null,
      ...pagingOf(request),
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
    answer.pageInfo = pageInfoObject(view.page);
    if (view.items.length) answer.itemOutcome = view.items.map(itemOutcomeObject);
    return answer;
  };
}

// uploadDebtPositions (Base model): maps the message to the upload use case and its answer to the
// response: PROCESSED with one itemOutcome per item, or ACCEPTED (queued) with the uploadId.

import type { Store } from '../../db/store.ts';
import { uploadDebtPositions as upload, type UploadOptions } from '../../app/gestionale/uploads.ts';
import type { UploadDebtPositionsRequest } from '../../xml/generated/gestionale/gestionale.ts';
import {
  asArray,
  itemOutcomeObject,
  serviceOf,
  summaryObject,
  uploadItemOf,
  type GestionaleHandler,
} from './common.ts';

export function uploadDebtPositions(store: Store, options: UploadOptions = {}): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as UploadDebtPositionsRequest;
    const { upload: stored, items } = await upload(
      store,
      {
        ente: call.ente,
        service: serviceOf(call),
        caller: call.caller,
        messageId: request.messageId,
        items: asArray(request.item).map(uploadItemOf),
      },
      options,
    );
    const answer: Record<string, unknown> = {
      outcome: 'OK',
      messageId: stored.messageId,
      uploadId: stored.id,
      status: stored.status,
      summary: summaryObject(stored),
    };
    if (items.length) answer.itemOutcome = items.map(itemOutcomeObject);
    return answer;
  };
}

// requestIUVBatch (Base model): 1-1000 IUVs and notice numbers at once, all or none, in
// allocation order. Maps the request to requestIuvs and the notices to the answer.

import type { Store } from '../../db/store.ts';
import { requestIuvs } from '../../app/gestionale/requestIuv.ts';
import type {
  RequestIUVBatchRequest,
  RequestIUVBatchResponse,
} from '../../xml/generated/gestionale/gestionale.ts';
import { noticeObject, serviceOf, type GestionaleHandler } from './common.ts';

export function requestIUVBatch(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as RequestIUVBatchRequest;
    const notices = await requestIuvs(store, {
      ente: call.ente,
      service: serviceOf(call),
      caller: call.caller,
      count: Number(request.count),
      requestId: request.requestId ?? null,
      operation: 'requestIUVBatch',
    });
    const answer: RequestIUVBatchResponse = { outcome: 'OK', notice: notices.map(noticeObject) };
    return answer;
  };
}

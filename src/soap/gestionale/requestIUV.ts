// requestIUV (Base model): one IUV and notice number for the service, no position yet. Maps the
// request to requestIuvs (count 1) and its notice to the answer.

import type { Store } from '../../db/store.ts';
import { requestIuvs } from '../../app/gestionale/requestIuv.ts';
import type { RequestIUVRequest, RequestIUVResponse } from '../../xml/generated/gestionale/gestionale.ts';
import { serviceOf, type GestionaleHandler } from './common.ts';

export function requestIUV(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as RequestIUVRequest;
    const [notice] = await requestIuvs(store, {
      ente: call.ente,
      service: serviceOf(call),
      caller: call.caller,
      count: 1,
      requestId: request.requestId ?? null,
      operation: 'requestIUV',
    });
    const answer: RequestIUVResponse = {
      outcome: 'OK',
      iuv: notice?.iuv,
      noticeNumber: notice?.noticeNumber,
    };
    return answer;
  };
}

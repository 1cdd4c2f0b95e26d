// reserveNotices (Multe con preavviso): a block of inactive notices for the service. Maps the
// request to the reserveNotices use case and the notices to the answer.

import type { Store } from '../../db/store.ts';
import { reserveNotices as reserve } from '../../app/gestionale/reserveNotices.ts';
import type {
  ReserveNoticesRequest,
  ReserveNoticesResponse,
} from '../../xml/generated/gestionale/gestionale.ts';
import { noticeObject, serviceOf, type GestionaleHandler } from './common.ts';

export function reserveNotices(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as ReserveNoticesRequest;
    const notices = await reserve(store, {
      ente: call.ente,
      service: serviceOf(call),
      caller: call.caller,
      count: Number(request.count),
      requestId: request.requestId ?? null,
    });
    const answer: ReserveNoticesResponse = { outcome: 'OK', notice: notices.map(noticeObject) };
    return answer;
  };
}

// paVerifyPaymentNotice (SANP 3.x, pagopa-facts §5): the node asks whether a notice can be paid and
// for how much. Maps the request to verifyPaymentNotice and its notice to the answer; no state change.

import type { Store } from '../../db/store.ts';
import { verifyPaymentNotice } from '../../app/pagopa/payments.ts';
import type {
  PaVerifyPaymentNoticeReq,
  PaVerifyPaymentNoticeRes,
} from '../../xml/generated/pagopa/current/paForNode.ts';
import type { OperationHandler } from '../server.ts';
import { callerOf, noticeSummaryOf } from './currentModel.ts';

export function paVerifyPaymentNotice(store: Store): OperationHandler {
  return async (args) => {
    const request = args as unknown as PaVerifyPaymentNoticeReq;
    const notice = await verifyPaymentNotice(store, {
      caller: callerOf(request),
      fiscalCode: request.qrCode.fiscalCode,
      noticeNumber: request.qrCode.noticeNumber,
    });
    const answer: PaVerifyPaymentNoticeRes = { outcome: 'OK', ...noticeSummaryOf(notice) };
    return answer;
  };
}

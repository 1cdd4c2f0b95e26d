// paGetPayment (SANP 3.x, pagopa-facts §5): the node activates a notice and wants its payment data
// (IUV, amount, debtor, 1–5 transfers). Maps the request to getPaymentNotice, which also records the
// attempt idempotently, and the notice to the V1 answer.

import type { Store } from '../../db/store.ts';
import { getPaymentNotice } from '../../app/pagopa/payments.ts';
import type { PaGetPaymentReq, PaGetPaymentRes } from '../../xml/generated/pagopa/current/paForNode.ts';
import type { OperationHandler } from '../server.ts';
import { callerOf, paymentDataV1 } from './currentModel.ts';

export function paGetPayment(store: Store): OperationHandler {
  return async (args) => {
    const request = args as unknown as PaGetPaymentReq;
    const { notice } = await getPaymentNotice(
      store,
      {
        caller: callerOf(request),
        fiscalCode: request.qrCode.fiscalCode,
        noticeNumber: request.qrCode.noticeNumber,
      },
      { kind: 'current' },
    );
    const answer: PaGetPaymentRes = { outcome: 'OK', data: paymentDataV1(notice) };
    return answer;
  };
}

// paGetPaymentV2 (SANP 3.x, pagopa-facts §5): as paGetPayment, answered with the V2 data (required
// companyName, per-transfer companyName and metadata). Same use case, same idempotent attempt.

import type { Store } from '../../db/store.ts';
import { getPaymentNotice } from '../../app/pagopa/payments.ts';
import type {
  PaGetPaymentV2Request,
  PaGetPaymentV2Response,
} from '../../xml/generated/pagopa/current/paForNode.ts';
import type { OperationHandler } from '../server.ts';
import { callerOf, paymentDataV2 } from './currentModel.ts';

export function paGetPaymentV2(store: Store): OperationHandler {
  return async (args) => {
    const request = args as unknown as PaGetPaymentV2Request;
    const { notice } = await getPaymentNotice(
      store,
      {
        caller: callerOf(request),
        fiscalCode: request.qrCode.fiscalCode,
        noticeNumber: request.qrCode.noticeNumber,
      },
      { kind: 'current' },
    );
    const answer: PaGetPaymentV2Response = { outcome: 'OK', data: paymentDataV2(notice) };
    return answer;
  };
}

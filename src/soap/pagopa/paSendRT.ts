// paSendRT (SANP 3.x, pagopa-facts §5, §9): the node delivers the receipt of a successful payment.
// Maps the request (and the receipt element as received) to receiveReceipt; a repeat of a complete
// receipt comes back as RECEIPT_DUPLICATE, answered KO PAA_RECEIPT_DUPLICATA by the binding.

import type { Store } from '../../db/store.ts';
import { receiveReceipt } from '../../app/pagopa/receipts.ts';
import type { PaSendRTReq, PaSendRTRes } from '../../xml/generated/pagopa/current/paForNode.ts';
import type { OperationHandler } from '../server.ts';
import { incomingReceiptOf } from './currentModel.ts';

export function paSendRT(store: Store): OperationHandler {
  return async (args, ctx) => {
    const request = args as unknown as PaSendRTReq;
    await receiveReceipt(store, incomingReceiptOf(request, 'paSendRT', ctx.requestXml));
    const answer: PaSendRTRes = { outcome: 'OK' };
    return answer;
  };
}

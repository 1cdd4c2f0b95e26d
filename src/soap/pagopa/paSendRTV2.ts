// paSendRTV2 (SANP 3.x, pagopa-facts §5, §9): the V2 receipt (fee split, bundles, digital stamps).
// The same use case as paSendRT: stored whole, keyed (ente, IUV, receiptId), position closed once.

import type { Store } from '../../db/store.ts';
import { receiveReceipt } from '../../app/pagopa/receipts.ts';
import type { PaSendRTV2Request, PaSendRTV2Response } from '../../xml/generated/pagopa/current/paForNode.ts';
import type { OperationHandler } from '../server.ts';
import { incomingReceiptOf } from './currentModel.ts';

export function paSendRTV2(store: Store): OperationHandler {
  return async (args, ctx) => {
    const request = args as unknown as PaSendRTV2Request;
    await receiveReceipt(store, incomingReceiptOf(request, 'paSendRTV2', ctx.requestXml));
    const answer: PaSendRTV2Response = { outcome: 'OK' };
    return answer;
  };
}

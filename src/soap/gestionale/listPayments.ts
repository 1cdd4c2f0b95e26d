// listPayments: maps the date range, optional service and paging to the use case, and the page of
// collected payments to the answer.

import type { Store } from '../../db/store.ts';
import { listPayments as listCollected } from '../../app/gestionale/listPayments.ts';
import type { ListPaymentsRequest } from '../../xml/generated/gestionale/gestionale.ts';
import { pageInfoObject, pagingOf, paymentObject, type GestionaleHandler } from './common.ts';

export function listPayments(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as ListPaymentsRequest;
    const page = await listCollected(store, {
      ente: call.ente,
      caller: call.caller,
      service: call.service,
      fromDate: String(request.fromDate),
      toDate: String(request.toDate),
      ...pagingOf(request),
    });
    return {
      outcome: 'OK',
      pageInfo: pageInfoObject(page.pageInfo),
      payment: page.payments.map(paymentObject),
    };
  };
}

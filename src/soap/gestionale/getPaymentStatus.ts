// getPaymentStatus: maps the reference (positionId or noticeNumber) to the use case and the
// position's options, with the payment of each paid one, to the answer in schema order.

import type { Store } from '../../db/store.ts';
import {
  getPaymentStatus as readStatus,
  type OptionPaymentStatus,
} from '../../app/gestionale/paymentStatus.ts';
import type { GetPaymentStatusRequest } from '../../xml/generated/gestionale/gestionale.ts';
import { paymentObject, type GestionaleHandler } from './common.ts';

function optionObject(option: OptionPaymentStatus): Record<string, unknown> {
  const answer: Record<string, unknown> = {
    installment: String(option.installment),
    iuv: option.iuv,
    noticeNumber: option.noticeNumber,
  };
  if (option.amountCents !== null) answer.amountCents = String(option.amountCents);
  if (option.dueDate !== null) answer.dueDate = option.dueDate;
  answer.status = option.status;
  if (option.payment) answer.payment = paymentObject(option.payment);
  return answer;
}

export function getPaymentStatus(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as GetPaymentStatusRequest;
    const status = await readStatus(store, {
      ente: call.ente,
      caller: call.caller,
      positionId: request.positionId ?? null,
      noticeNumber: request.noticeNumber ?? null,
    });
    return {
      outcome: 'OK',
      positionId: status.positionId,
      positionStatus: status.positionStatus,
      option: status.options.map(optionObject),
    };
  };
}

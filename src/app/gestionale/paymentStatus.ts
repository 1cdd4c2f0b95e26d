// getPaymentStatus: the polling counterpart of notifyPayment. A position (by positionId) with every
// option, or only the option a notice number names, each with its status and, once paid, the
// payment that closed it (the positive receipt applied to that option).

import type { PositionStatus } from '../../domain/positionState.ts';
import type { OptionStatus } from '../../domain/positionState.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { StoredOption } from '../../db/repositories/positions.ts';
import type { GestionaleCaller } from './common.ts';
import { findVisiblePosition } from './payableOption.ts';
import { isUnactivatedReservation } from './positionMatch.ts';
import { paymentViewOf, type PaymentView } from './receipt.ts';

export interface PaymentStatusQuery {
  ente: Ente;
  caller: GestionaleCaller;
  positionId?: string | null;
  noticeNumber?: string | null;
}

export interface OptionPaymentStatus {
  installment: number;
  iuv: string;
  noticeNumber: string;
  /** Null for a reserved multe notice not yet activated: it has no amount or due date yet. */
  amountCents: number | null;
  dueDate: string | null;
  status: OptionStatus;
  payment: PaymentView | null;
}

export interface PaymentStatusView {
  positionId: string;
  positionStatus: PositionStatus;
  options: OptionPaymentStatus[];
}

export async function getPaymentStatus(store: Store, query: PaymentStatusQuery): Promise<PaymentStatusView> {
  const position = await findVisiblePosition(store, query.ente, query.caller, query);
  const service = await store.services.getById(position.serviceId);
  const serviceCode = service?.code ?? '';
  const unactivated = isUnactivatedReservation(position);
  const named = query.noticeNumber
    ? position.options.filter((o) => o.noticeNumber === query.noticeNumber)
    : [...position.options].sort((a, b) => a.installment - b.installment);

  const statusOf = async (option: StoredOption): Promise<OptionPaymentStatus> => {
    const noticeNumber = option.noticeNumber ?? '';
    let payment: PaymentView | null = null;
    if (option.status !== 'UNPAID') {
      const receipts = await store.receipts.listByIuv(position.enteId, option.iuv);
      const paid = receipts.find((r) => r.optionId === option.id && r.outcome === 'OK');
      if (paid) {
        payment = paymentViewOf(paid, {
          serviceCode,
          positionId: position.positionId,
          installment: option.installment,
          iuv: option.iuv,
          noticeNumber: paid.noticeNumber ?? noticeNumber,
        });
      }
    }
    return {
      installment: option.installment,
      iuv: option.iuv,
      noticeNumber,
      amountCents: unactivated ? null : option.amountCents,
      dueDate: unactivated || !option.dueDate ? null : option.dueDate,
      status: option.status,
      payment,
    };
  };

  const options: OptionPaymentStatus[] = [];
  for (const option of named) options.push(await statusOf(option));
  return { positionId: position.positionId, positionStatus: position.status, options };
}

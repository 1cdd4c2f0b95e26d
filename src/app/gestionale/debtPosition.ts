// getDebtPosition: one stored position, by the gestionale's positionId or by the notice number of
// any of its options, with what the gestionale needs to show it (service, extras, receipts of paid
// options). A position of a service the caller is not bound to is POSITION_UNKNOWN, exactly as if
// it did not exist: the contract's choice (gestionale.xsd), so a credential learns nothing of it.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { StoredPosition } from '../../db/repositories/positions.ts';
import type { PositionExtras } from '../../db/repositories/positionExtras.ts';
import type { GestionaleCaller } from './common.ts';
import { isUnactivatedReservation } from './positionMatch.ts';

export interface DebtPositionQuery {
  ente: Ente;
  caller: GestionaleCaller;
  positionId?: string | null;
  noticeNumber?: string | null;
}

export interface OptionPayment {
  receiptId: string;
  paymentDateTime: string | null;
}

export interface DebtPositionView {
  position: StoredPosition;
  serviceCode: string;
  extras: PositionExtras;
  /** A multe notice reserved and never activated: no amount, due date or transfers to show. */
  unactivated: boolean;
  /** The positive receipt that paid each paid option, by option id. */
  payments: ReadonlyMap<number, OptionPayment>;
}

function unknownPosition(): never {
  throw domainError('POSITION_UNKNOWN', 'no such position for this ente', { field: 'positionId' });
}

async function paymentsOf(store: Store, position: StoredPosition): Promise<Map<number, OptionPayment>> {
  const payments = new Map<number, OptionPayment>();
  for (const option of position.options.filter((o) => o.status !== 'UNPAID')) {
    const receipts = await store.receipts.listByIuv(position.enteId, option.iuv);
    const paid = receipts.find((r) => r.optionId === option.id && r.outcome === 'OK');
    if (paid) payments.set(option.id, { receiptId: paid.receiptId, paymentDateTime: paid.paymentDateTime });
  }
  return payments;
}

export async function getDebtPosition(store: Store, query: DebtPositionQuery): Promise<DebtPositionView> {
  const { ente, caller } = query;
  const position = query.positionId
    ? await store.positions.findByPositionId(ente.id, query.positionId)
    : query.noticeNumber
      ? await store.positions.findByNoticeNumber(ente.id, query.noticeNumber)
      : null;
  if (!position || !caller.serviceIds.includes(position.serviceId)) unknownPosition();
  const service = await store.services.getById(position.serviceId);
  return {
    position,
    serviceCode: service?.code ?? '',
    extras: await store.positionExtras.get(position.id),
    unactivated: isUnactivatedReservation(position),
    payments: await paymentsOf(store, position),
  };
}

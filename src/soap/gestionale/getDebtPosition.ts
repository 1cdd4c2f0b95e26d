// getDebtPosition: maps the reference (positionId or noticeNumber) to the use case and the stored
// position to pt:ctPositionView, in schema order. A reserved multe notice never activated shows
// no description, amount, due date or transfers (its placeholder option has none).

import type { Store } from '../../db/store.ts';
import type { StoredOption } from '../../db/repositories/positions.ts';
import { getDebtPosition as readPosition, type DebtPositionView } from '../../app/gestionale/debtPosition.ts';
import type { GetDebtPositionRequest } from '../../xml/generated/gestionale/gestionale.ts';
import { debtorObject, type GestionaleHandler } from './common.ts';

function text140(value: string): string {
  return value.slice(0, 140);
}

function fineObject(view: DebtPositionView): Record<string, unknown> | null {
  const multe = view.position.multe;
  if (!multe?.ticketNumber || !multe.plate) return null;
  const fine: Record<string, unknown> = { ticketNumber: multe.ticketNumber.slice(0, 35), plate: multe.plate };
  if (view.extras.infringementDateTime) fine.infringementDateTime = view.extras.infringementDateTime;
  if (multe.reducedAmountCents !== null && multe.reducedUntil !== null) {
    fine.reducedAmountCents = String(multe.reducedAmountCents);
    fine.reducedUntil = multe.reducedUntil;
  }
  return fine;
}

function optionObject(view: DebtPositionView, option: StoredOption): Record<string, unknown> {
  const answer: Record<string, unknown> = {
    installment: String(option.installment),
    iuv: option.iuv,
    noticeNumber: option.noticeNumber ?? '',
  };
  if (!view.unactivated) {
    answer.amountCents = String(option.amountCents);
    answer.dueDate = option.dueDate;
    if (option.description) answer.description = text140(option.description);
  }
  answer.status = option.status;
  const payment = view.payments.get(option.id);
  if (payment) {
    answer.receiptId = payment.receiptId;
    if (payment.paymentDateTime) answer.paymentDateTime = payment.paymentDateTime;
  }
  if (!view.unactivated && option.transfers.length) {
    answer.transfer = option.transfers.map((t) => ({
      index: String(t.index),
      enteFiscalCode: t.enteFiscalCode,
      amountCents: String(t.amountCents),
      iban: t.iban,
      category: t.category,
      remittanceInformation: text140(t.remittanceInformation),
    }));
  }
  return answer;
}

function positionObject(view: DebtPositionView): Record<string, unknown> {
  const p = view.position;
  const answer: Record<string, unknown> = {
    positionId: p.positionId,
    serviceCode: view.serviceCode,
    status: p.status,
  };
  if (!view.unactivated && p.description) answer.description = text140(p.description);
  if (p.debtor) answer.debtor = debtorObject(p.debtor);
  if (p.validityDate) answer.validityDate = p.validityDate;
  if (view.extras.metadata.length) answer.metadata = { entry: view.extras.metadata };
  const fine = fineObject(view);
  if (fine) answer.fine = fine;
  answer.createdAt = p.createdAt;
  answer.updatedAt = p.updatedAt;
  answer.option = p.options.map((o) => optionObject(view, o));
  return answer;
}

export function getDebtPosition(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as GetDebtPositionRequest;
    const view = await readPosition(store, {
      ente: call.ente,
      caller: call.caller,
      positionId: request.positionId ?? null,
      noticeNumber: request.noticeNumber ?? null,
    });
    return { outcome: 'OK', position: positionObject(view) };
  };
}

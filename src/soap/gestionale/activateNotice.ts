// activateNotice (Multe con preavviso): maps the officer's fine to the activation use case and
// the activated notice to the answer.

import type { Store } from '../../db/store.ts';
import { activateNotice as activate } from '../../app/gestionale/activateNotice.ts';
import type {
  ActivateNoticeRequest,
  ActivateNoticeResponse,
} from '../../xml/generated/gestionale/gestionale.ts';
import { debtorDraftOf, optionalText, type GestionaleHandler } from './common.ts';

export function activateNotice(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as ActivateNoticeRequest;
    const activated = await activate(store, {
      ente: call.ente,
      caller: call.caller,
      noticeNumber: request.noticeNumber,
      positionId: request.positionId ?? null,
      description: request.description ?? null,
      ticketNumber: request.ticketNumber,
      plate: request.plate,
      infringementDateTime: optionalText(request.infringementDateTime) ?? null,
      amountCents: request.amountCents,
      dueDate: String(request.dueDate),
      reducedAmountCents: request.reducedAmountCents ?? null,
      reducedUntil: optionalText(request.reducedUntil) ?? null,
      debtor: request.debtor ? debtorDraftOf(request.debtor) : null,
    });
    const answer: ActivateNoticeResponse = {
      outcome: 'OK',
      positionId: activated.positionId,
      iuv: activated.iuv,
      noticeNumber: activated.noticeNumber,
      status: activated.status,
    };
    return answer;
  };
}

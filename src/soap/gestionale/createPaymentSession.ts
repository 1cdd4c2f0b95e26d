// createPaymentSession (Asincrona): maps the request to the session use case and the signed landing
// page URL to the answer.

import type { Store } from '../../db/store.ts';
import {
  createPaymentSession as createSession,
  type RedirectSettings,
} from '../../app/gestionale/paymentSession.ts';
import type {
  CreatePaymentSessionRequest,
  CreatePaymentSessionResponse,
} from '../../xml/generated/gestionale/gestionale.ts';
import type { GestionaleHandler } from './common.ts';

export function createPaymentSession(store: Store, settings: RedirectSettings): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as CreatePaymentSessionRequest;
    const session = await createSession(store, settings, {
      ente: call.ente,
      caller: call.caller,
      positionId: request.positionId ?? null,
      noticeNumber: request.noticeNumber ?? null,
      installment: request.installment === undefined ? null : Number(request.installment),
      returnUrl: request.returnUrl,
      cancelUrl: request.cancelUrl ?? null,
      language: request.language ?? null,
      payerEmail: request.payerEmail ?? null,
    });
    const answer: CreatePaymentSessionResponse = {
      outcome: 'OK',
      sessionId: session.sessionId,
      sessionUrl: session.sessionUrl,
      expiresAt: session.expiresAt,
    };
    return answer;
  };
}

// startPayment (Sincrona): maps the cart (new positions as in uploadDebtPositions, existing ones by
// positionId or notice number) to the use case, and its checkout URL and numbers to the answer.

import type { Store } from '../../db/store.ts';
import type { RedirectSettings } from '../../app/gestionale/paymentSession.ts';
import { startPayment as start, type CartItemInput } from '../../app/gestionale/startPayment.ts';
import type {
  ctCartItem,
  StartPaymentRequest,
  StartPaymentResponse,
} from '../../xml/generated/gestionale/gestionale.ts';
import { asArray, positionInputOf, serviceOf, type GestionaleHandler } from './common.ts';

function cartItemOf(item: ctCartItem): CartItemInput {
  return {
    position: item.position ? positionInputOf(item.position) : undefined,
    positionId: item.positionId,
    noticeNumber: item.noticeNumber,
    installment: item.installment === undefined ? null : Number(item.installment),
  };
}

export function startPayment(store: Store, settings: RedirectSettings): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as StartPaymentRequest;
    const started = await start(store, settings, {
      ente: call.ente,
      service: serviceOf(call),
      caller: call.caller,
      items: asArray(request.cartItem).map(cartItemOf),
      returnUrl: request.returnUrl,
      cancelUrl: request.cancelUrl ?? null,
    });
    const answer: StartPaymentResponse = {
      outcome: 'OK',
      cartId: started.cartId,
      checkoutUrl: started.checkoutUrl,
      expiresAt: started.expiresAt,
      cartNotice: started.notices.map((n) => ({
        positionId: n.positionId,
        installment: String(n.installment),
        iuv: n.iuv,
        noticeNumber: n.noticeNumber,
        amountCents: String(n.amountCents),
      })),
    };
    return answer;
  };
}

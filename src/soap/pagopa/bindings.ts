// The pagoPA EC services the connector serves (DESIGN §4), each built with the literal operation
// names of its WSDL. paForNode (current model) is served by one module per operation; the legacy
// services still answer KO PAA_SYSTEM_ERROR "not implemented" until their modules land.

import type { Store } from '../../db/store.ts';
import type { DomainError } from '../../domain/errors.ts';
import type { SoapContext } from '../guard.ts';
import type { OperationDescription } from '../manifest.ts';
import type { OperationHandler, SoapServiceBinding } from '../server.ts';
import {
  pagopaFault,
  pagopaFaultFor,
  pagopaKoAnswer,
  pagopaKoObject,
  type PagopaDialect,
} from '../faults/pagopa.ts';
import { paVerifyPaymentNotice } from './paVerifyPaymentNotice.ts';
import { paGetPayment } from './paGetPayment.ts';
import { paGetPaymentV2 } from './paGetPaymentV2.ts';
import { paSendRT } from './paSendRT.ts';
import { paSendRTV2 } from './paSendRTV2.ts';
import { paDemandPaymentNotice } from './paDemandPaymentNotice.ts';

/** The fault bean's id: the EC the request names, else the intermediary it names. */
export function ecIdOf(identity: Record<string, string | null>): string {
  return (
    identity.idPA ??
    identity.identificativoDominio ??
    identity.idBrokerPA ??
    identity.identificativoIntermediarioPA ??
    'ppay-connector'
  );
}

function notImplemented(dialect: PagopaDialect): OperationHandler {
  return async (_args, ctx) =>
    pagopaKoObject(
      ctx.operation,
      dialect,
      pagopaFault('PAA_SYSTEM_ERROR', ecIdOf(ctx.identity), 'operation not implemented yet'),
    );
}

function binding(
  wsdl: string,
  dialect: PagopaDialect,
  handlers: Record<string, OperationHandler>,
): SoapServiceBinding {
  return {
    wsdl,
    handlers,
    businessError: (err: DomainError, ctx: SoapContext) =>
      pagopaKoObject(ctx.operation, dialect, pagopaFaultFor(err, ecIdOf(ctx.identity), ctx.correlationId)),
    rejectSchema: (operation: OperationDescription, identity, detail) =>
      pagopaKoAnswer(operation, dialect, pagopaFault('PAA_SINTASSI_EXTRAXSD', ecIdOf(identity), detail)),
  };
}

export function pagopaBindings(store: Store): SoapServiceBinding[] {
  const legacy = notImplemented('legacy');
  return [
    binding('paForNode.wsdl', 'current', {
      paVerifyPaymentNotice: paVerifyPaymentNotice(store),
      paGetPayment: paGetPayment(store),
      paGetPaymentV2: paGetPaymentV2(store),
      paSendRT: paSendRT(store),
      paSendRTV2: paSendRTV2(store),
      paDemandPaymentNotice: paDemandPaymentNotice(store),
    }),
    binding('PaPerNodo.wsdl', 'legacy', { paaInviaRT: legacy }),
    binding('PaPerNodoPagamentoPsp.wsdl', 'legacy', { paaVerificaRPT: legacy, paaAttivaRPT: legacy }),
    binding('PaPerNodoRichiestaAvvisi.wsdl', 'legacy', { paaChiediNumeroAvviso: legacy }),
  ];
}

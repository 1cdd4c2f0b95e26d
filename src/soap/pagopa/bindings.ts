// The pagoPA EC services the connector serves (DESIGN §4), each built with the literal operation
// names of its WSDL. Until the pagoPA-exchange issue lands its operation modules, every operation
// answers KO PAA_SYSTEM_ERROR "not implemented": the plumbing, validation and faults are real.

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

export function pagopaBindings(): SoapServiceBinding[] {
  const current = notImplemented('current');
  const legacy = notImplemented('legacy');
  return [
    binding('paForNode.wsdl', 'current', {
      paVerifyPaymentNotice: current,
      paGetPayment: current,
      paGetPaymentV2: current,
      paSendRT: current,
      paSendRTV2: current,
      paDemandPaymentNotice: current,
    }),
    binding('PaPerNodo.wsdl', 'legacy', { paaInviaRT: legacy }),
    binding('PaPerNodoPagamentoPsp.wsdl', 'legacy', { paaVerificaRPT: legacy, paaAttivaRPT: legacy }),
    binding('PaPerNodoRichiestaAvvisi.wsdl', 'legacy', { paaChiediNumeroAvviso: legacy }),
  ];
}

// The pagoPA EC services the connector serves (DESIGN §4), each built with the literal operation
// names of its WSDL and one module per operation: paForNode (current model) and the legacy PaPerNodo,
// PaPerNodoPagamentoPsp and PaPerNodoRichiestaAvvisi, whose business errors go through the legacy
// fault mapping (PAA_RT_DUPLICATA, PAA_RPT_SCONOSCIUTA, ...) in legacyModel.ts.

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
import type { RptWakeup } from '../../app/pagopa/rptSender.ts';
import { legacyFaultFor, legacyKoObject } from './legacyModel.ts';
import { paaVerificaRPT } from './paaVerificaRPT.ts';
import { paaAttivaRPT } from './paaAttivaRPT.ts';
import { paaInviaRT } from './paaInviaRT.ts';
import { paaChiediNumeroAvviso } from './paaChiediNumeroAvviso.ts';
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

function legacyBinding(wsdl: string, handlers: Record<string, OperationHandler>): SoapServiceBinding {
  return {
    ...binding(wsdl, 'legacy', handlers),
    businessError: (err: DomainError, ctx: SoapContext) =>
      legacyKoObject(ctx, legacyFaultFor(err, ecIdOf(ctx.identity), ctx)),
  };
}

export interface PagopaBindingOptions {
  /** Woken after each paaAttivaRPT, to send the queued RPT; without it the RPT waits for a sweep. */
  rptSender?: RptWakeup;
}

export function pagopaBindings(store: Store, options: PagopaBindingOptions = {}): SoapServiceBinding[] {
  return [
    binding('paForNode.wsdl', 'current', {
      paVerifyPaymentNotice: paVerifyPaymentNotice(store),
      paGetPayment: paGetPayment(store),
      paGetPaymentV2: paGetPaymentV2(store),
      paSendRT: paSendRT(store),
      paSendRTV2: paSendRTV2(store),
      paDemandPaymentNotice: paDemandPaymentNotice(store),
    }),
    legacyBinding('PaPerNodo.wsdl', { paaInviaRT: paaInviaRT(store) }),
    legacyBinding('PaPerNodoPagamentoPsp.wsdl', {
      paaVerificaRPT: paaVerificaRPT(store),
      paaAttivaRPT: paaAttivaRPT(store, options.rptSender),
    }),
    legacyBinding('PaPerNodoRichiestaAvvisi.wsdl', { paaChiediNumeroAvviso: paaChiediNumeroAvviso(store) }),
  ];
}

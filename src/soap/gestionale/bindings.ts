// The gestionale API service (DESIGN §3), built with the literal operation names of
// wsdl/gestionale.wsdl. Every call is authenticated (WS-Security) by the guard and scoped here to
// the credential's enti, services and models; until the gestionale-API issue lands its operation
// modules, each operation then answers KO PPAY_NOT_IMPLEMENTED.

import type { Store } from '../../db/store.ts';
import type { IntegrationModel } from '../../db/repositories/clients.ts';
import { authorize } from '../../app/authorization.ts';
import type { SoapContext } from '../guard.ts';
import type { OperationHandler, SoapServiceBinding } from '../server.ts';
import { Authenticator } from '../wsSecurity.ts';
import {
  gestionaleFault,
  gestionaleFaultFor,
  gestionaleKoAnswer,
  gestionaleKoObject,
} from '../faults/gestionale.ts';

type ScopedHandler = (args: Record<string, unknown>, ctx: SoapContext) => Promise<object>;

function scoped(store: Store, model: IntegrationModel | null, handler: ScopedHandler): OperationHandler {
  return async (args, ctx) => {
    if (!ctx.principal) throw new Error('gestionale request without a principal');
    await authorize(store, ctx.principal, {
      enteFiscalCode: ctx.identity.enteFiscalCode ?? null,
      serviceCode: ctx.identity.serviceCode ?? null,
      model,
    });
    return handler(args, ctx);
  };
}

const notImplemented: ScopedHandler = async () => gestionaleKoObject(gestionaleFault('PPAY_NOT_IMPLEMENTED'));

export function gestionaleBinding(store: Store): SoapServiceBinding {
  const op = (model: IntegrationModel | null) => scoped(store, model, notImplemented);
  return {
    wsdl: 'gestionale.wsdl',
    authenticator: new Authenticator(store),
    handlers: {
      requestIUV: op('base'),
      requestIUVBatch: op('base'),
      uploadDebtPositions: op('base'),
      getUploadOutcome: op(null),
      getDebtPosition: op(null),
      reserveNotices: op('multe'),
      activateNotice: op('multe'),
      releaseNotices: op('multe'),
      createPaymentSession: op('async'),
      startPayment: op('sync'),
      getPaymentStatus: op(null),
      getReceipt: op(null),
      listPayments: op(null),
      listReconciliationFlows: op(null),
      getReconciliationFlow: op(null),
    },
    businessError: (err) => gestionaleKoObject(gestionaleFaultFor(err)),
    rejectSchema: (operation, _identity, detail) =>
      gestionaleKoAnswer(operation, gestionaleFault('PPAY_XSD_INVALID', detail)),
  };
}

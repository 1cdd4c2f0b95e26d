// The gestionale API service (DESIGN §3), built with the literal operation names of
// wsdl/gestionale.wsdl. Every call is authenticated (WS-Security) by the guard and scoped here to
// the credential's enti, services and models before its operation module runs; operations whose
// issue has not landed yet answer KO PPAY_NOT_IMPLEMENTED. Creating the binding starts the upload
// worker once, so uploads accepted before a restart are processed. The redirect operations share
// their settings (secret, node access, session TTL) with the citizen pages under /pay/.

import type { Store } from '../../db/store.ts';
import type { IntegrationModel } from '../../db/repositories/clients.ts';
import { authorize } from '../../app/authorization.ts';
import { UploadWorker } from '../../app/gestionale/uploadWorker.ts';
import type { OperationHandler, SoapServiceBinding } from '../server.ts';
import { Authenticator } from '../wsSecurity.ts';
import {
  gestionaleFault,
  gestionaleFaultFor,
  gestionaleKoAnswer,
  gestionaleKoObject,
} from '../faults/gestionale.ts';
import type { GestionaleHandler } from './common.ts';
import { requestIUV } from './requestIUV.ts';
import { requestIUVBatch } from './requestIUVBatch.ts';
import { uploadDebtPositions } from './uploadDebtPositions.ts';
import { getUploadOutcome } from './getUploadOutcome.ts';
import { getDebtPosition } from './getDebtPosition.ts';
import { reserveNotices } from './reserveNotices.ts';
import { activateNotice } from './activateNotice.ts';
import { releaseNotices } from './releaseNotices.ts';
import { createPaymentSession } from './createPaymentSession.ts';
import { startPayment } from './startPayment.ts';
import { getPaymentStatus } from './getPaymentStatus.ts';
import { getReceipt } from './getReceipt.ts';
import { getNoticeDocument } from './getNoticeDocument.ts';
import { listPayments } from './listPayments.ts';
import { listReconciliationFlows } from './listReconciliationFlows.ts';
import { getReconciliationFlow } from './getReconciliationFlow.ts';
import { redirectSettingsFor, type RedirectSettings } from '../../app/gestionale/paymentSession.ts';

export interface GestionaleBindingOptions {
  /** Uploads with more items are answered ACCEPTED and processed by the worker (default 100). */
  syncUploadMaxItems?: number;
  /** The worker for accepted uploads; one is created for the store unless given. */
  uploadWorker?: UploadWorker;
  /** Secret, node access and session TTL of createPaymentSession / startPayment (see main.ts). */
  redirect?: RedirectSettings;
}

/** Authorizes the request (ente, service, model) and hands the handler what it is scoped to. */
function scoped(store: Store, model: IntegrationModel | null, handler: GestionaleHandler): OperationHandler {
  return async (args, ctx) => {
    const principal = ctx.principal;
    if (!principal) throw new Error('gestionale request without a principal');
    const { ente, service } = await authorize(store, principal, {
      enteFiscalCode: ctx.identity.enteFiscalCode ?? null,
      serviceCode: ctx.identity.serviceCode ?? null,
      model,
    });
    const caller = {
      clientId: principal.clientId,
      actor: `gestionale:${principal.username}`,
      serviceIds: principal.serviceIds,
    };
    return handler(args, { ctx, caller, ente, service });
  };
}

const notImplemented: GestionaleHandler = async () =>
  gestionaleKoObject(gestionaleFault('PPAY_NOT_IMPLEMENTED'));

export function gestionaleBinding(store: Store, options: GestionaleBindingOptions = {}): SoapServiceBinding {
  const worker = options.uploadWorker ?? new UploadWorker(store);
  worker.kick();
  const uploadOptions = {
    syncMaxItems: options.syncUploadMaxItems,
    onAccepted: () => worker.kick(),
  };
  const redirect = options.redirect ?? redirectSettingsFor({});
  const op = (model: IntegrationModel | null, handler: GestionaleHandler = notImplemented) =>
    scoped(store, model, handler);
  return {
    wsdl: 'gestionale.wsdl',
    authenticator: new Authenticator(store),
    handlers: {
      requestIUV: op('base', requestIUV(store)),
      requestIUVBatch: op('base', requestIUVBatch(store)),
      uploadDebtPositions: op('base', uploadDebtPositions(store, uploadOptions)),
      getUploadOutcome: op(null, getUploadOutcome(store)),
      getDebtPosition: op(null, getDebtPosition(store)),
      reserveNotices: op('multe', reserveNotices(store)),
      activateNotice: op('multe', activateNotice(store)),
      releaseNotices: op('multe', releaseNotices(store)),
      createPaymentSession: op('async', createPaymentSession(store, redirect)),
      startPayment: op('sync', startPayment(store, redirect)),
      getPaymentStatus: op(null, getPaymentStatus(store)),
      getReceipt: op(null, getReceipt(store)),
      getNoticeDocument: op(null, getNoticeDocument(store)),
      listPayments: op(null, listPayments(store)),
      listReconciliationFlows: op(null, listReconciliationFlows(store)),
      getReconciliationFlow: op(null, getReconciliationFlow(store)),
    },
    businessError: (err) => gestionaleKoObject(gestionaleFaultFor(err)),
    rejectSchema: (operation, _identity, detail) =>
      gestionaleKoAnswer(operation, gestionaleFault('PPAY_XSD_INVALID', detail)),
  };
}

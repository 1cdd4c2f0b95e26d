// Legacy model 3 at the EC (pagopa-facts §3, §4, §9): paaVerificaRPT and paaAttivaRPT name the notice
// by its IUV (header intestazionePPT) and carry the PSP's CCP. Verify changes nothing and answers
// IN_CORSO while another PSP's attempt (another CCP) is open; activate checks
// the PSP's amount, records the attempt keyed by the CCP (getPaymentNotice: the same CCP again is the
// same attempt, another CCP while one is open is PAA_PAGAMENTO_IN_CORSO) and queues the RPT the EC
// then owes the node, in one transaction. paaChiediNumeroAvviso (model 4) names no idServizio: the
// service comes from the service data's codiceServizio, or is the ente's only spontaneous one.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Service } from '../../db/repositories/services.ts';
import { checkNodeCaller, type NodeCaller } from './identity.ts';
import {
  getPaymentNotice,
  NODE_ACTOR,
  verifyPaymentNotice,
  type PagopaUseCaseOptions,
  type PayableNotice,
  type PaymentActivation,
} from './payments.ts';
import type { PspRoute } from './nodePort.ts';
import { queueRpt } from './rptSender.ts';
import { parseServiceData } from './serviceData.ts';
import { demandPaymentNotice } from './spontaneous.ts';

export interface LegacyNoticeQuery {
  /** identificativoDominio / identificativoIntermediarioPA / identificativoStazioneIntermediarioPA. */
  caller: NodeCaller;
  /** identificativoUnivocoVersamento of the header. */
  iuv: string;
  /** codiceContestoPagamento of the header: the PSP's attempt. */
  ccp: string;
}

export interface LegacyActivationRequest {
  /** datiPagamentoPSP.importoSingoloVersamento: what the PSP is about to collect. */
  amountCents: number;
  /** identificativoPSP, identificativoIntermediarioPSP, identificativoCanalePSP: where the RPT goes. */
  psp: PspRoute;
}

/**
 * A legacy model 3 payment is one RPT, and an RPT carries only its own EC's accounts (SANP 2.5):
 * a notice with a share for another EC can only be paid online (model 1 cart) or in the current model.
 */
function assertOneBeneficiary(notice: PayableNotice): void {
  if (notice.transfers.every((t) => t.enteFiscalCode === notice.ente.fiscalCode)) return;
  throw domainError(
    'INVALID_INPUT',
    'this notice has a share for another EC: the legacy model 3 cannot pay it with one RPT',
    { field: 'identificativoUnivocoVersamento' },
  );
}

function noticeQuery(query: LegacyNoticeQuery) {
  return { caller: query.caller, fiscalCode: query.caller.enteFiscalCode, iuv: query.iuv };
}

/** The legacy lock (pagopa-facts §9): another PSP's attempt in progress makes the notice IN_CORSO. */
async function assertNotLockedByAnother(store: Store, notice: PayableNotice, ccp: string): Promise<void> {
  const attempts = await store.payments.listByIuv(notice.ente.id, notice.iuv);
  const locked = attempts.some(
    (p) => p.kind === 'rpt' && (p.status === 'STARTED' || p.status === 'IN_PROGRESS') && p.ccpOrToken !== ccp,
  );
  if (locked) throw domainError('PAYMENT_IN_PROGRESS', 'another payment attempt is in progress', {});
}

/** paaVerificaRPT: the notice's current amount and account; changes nothing. */
export async function verifyLegacyNotice(
  store: Store,
  query: LegacyNoticeQuery,
  options: PagopaUseCaseOptions = {},
): Promise<PayableNotice> {
  const notice = await verifyPaymentNotice(store, noticeQuery(query), options);
  assertOneBeneficiary(notice);
  await assertNotLockedByAnother(store, notice, query.ccp);
  return notice;
}

/**
 * paaAttivaRPT: an amount that differs from the one due is INVALID_AMOUNT (PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO,
 * the PSP activates again with the amount we return) and records nothing. Otherwise the attempt and
 * its queued RPT are recorded together, so a crash after answering cannot lose the RPT.
 */
export async function activateLegacyNotice(
  store: Store,
  query: LegacyNoticeQuery,
  request: LegacyActivationRequest,
  options: PagopaUseCaseOptions = {},
): Promise<PaymentActivation> {
  const notice = await verifyLegacyNotice(store, query, options);
  if (request.amountCents !== notice.amountCents) {
    throw domainError('INVALID_AMOUNT', 'the amount differs from the amount due for this notice', {
      field: 'importoSingoloVersamento',
      expectedCents: notice.amountCents,
    });
  }
  return store.transaction(async (tx) => {
    // Two PSPs activating this notice at once (other processes): the second waits here, then finds
    // the first one's attempt open (PAYMENT_IN_PROGRESS) instead of opening a second one.
    await tx.payments.lockIuv(notice.ente.id, notice.iuv);
    const activation = await getPaymentNotice(
      tx,
      noticeQuery(query),
      { kind: 'rpt', ccp: query.ccp, pspId: request.psp.idPSP, channelId: request.psp.idChannel },
      options,
    );
    if (activation.created) {
      await queueRpt(tx, activation.payment, request.psp, {
        cause: 'paaAttivaRPT: RPT to send (nodoInviaRPT, tipoVersamento PO)',
        actor: options.actor ?? NODE_ACTOR,
      });
    }
    return activation;
  });
}

export interface LegacyDemandRequest {
  caller: NodeCaller;
  /** datiSpecificiServizio, decoded from base64. */
  serviceData: Uint8Array;
}

function spontaneousServiceFor(services: Service[], serviceCode: string | null): Service {
  const spontaneous = services.filter(
    (s) => s.spontaneous && s.status === 'active' && s.pagopaServiceId !== null,
  );
  const chosen =
    serviceCode !== null
      ? spontaneous.find((s) => s.code === serviceCode)
      : spontaneous.length === 1
        ? spontaneous[0]
        : undefined;
  if (!chosen) {
    throw domainError(
      'INVALID_INPUT',
      serviceCode !== null
        ? `no spontaneous service ${serviceCode} at this EC`
        : 'the service data must name the service (codiceServizio)',
      { field: 'datiSpecificiServizio' },
    );
  }
  return chosen;
}

/** paaChiediNumeroAvviso: creates the position through the same path as paDemandPaymentNotice. */
export async function demandLegacyNotice(
  store: Store,
  request: LegacyDemandRequest,
  options: PagopaUseCaseOptions = {},
): Promise<PayableNotice> {
  const { ente } = await checkNodeCaller(store, request.caller);
  const { serviceCode } = parseServiceData(request.serviceData);
  const service = spontaneousServiceFor(await store.services.listByEnte(ente.id), serviceCode);
  return demandPaymentNotice(
    store,
    {
      caller: request.caller,
      pagopaServiceId: service.pagopaServiceId ?? '',
      serviceData: request.serviceData,
    },
    options,
  );
}

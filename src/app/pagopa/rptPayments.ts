// Online payments started at the EC (pagopa-facts §3): the station's dialect decides how. Legacy
// stations use model 1: one RPT per notice (per EC for a multi-beneficiary notice), sent with
// nodoInviaRPT or nodoInviaCarrelloRPT, attempts recorded (kind rpt, the CCP we generate) before the
// call, and the node's URL returned for the redirect. Current-model stations register the notices in
// a checkout cart; the node then activates them through paGetPayment like any PSP payment.

import { randomInt, randomUUID } from 'node:crypto';
import { domainError, isDomainError } from '../../domain/errors.ts';
import type { TipoVersamento } from '../../pagopa/rpt.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Payment } from '../../db/repositories/payments.ts';
import { verifyPaymentNotice, type PayableNotice } from './payments.ts';
import {
  nodeStationFor,
  NodeUnavailable,
  WISP_PSP,
  type CheckoutNotice,
  type NodeFault,
  type NodePort,
  type NodeStation,
  type PspRoute,
} from './nodePort.ts';
import { rptDocument, transfersOf } from './rptDocuments.ts';

export const MAX_CART_NOTICES = 5;
const ACTOR = 'ppay-connector';
const MULTI_BENEFICIARY_PROGRESSIVE_DIGITS = 5;

export interface OnlinePaymentRequest {
  enteFiscalCode: string;
  /** 1 to 5 notice numbers of this ente. */
  noticeNumbers: string[];
  /** Model 1 only: the PSP route; by default the citizen chooses on pagoPA's pages (WISP). */
  psp?: PspRoute;
  /** Model 1 only: tipoVersamento of the RPTs (BBT by default, as ECs send for WISP). */
  tipoVersamento?: TipoVersamento;
  /** Who asked (a gestionale client, the portal), for the event log. */
  actor?: string;
  now?: Date;
}

export interface CheckoutPaymentRequest extends OnlinePaymentRequest {
  returnUrls: { returnOkUrl: string; returnCancelUrl: string; returnErrorUrl: string };
  /** Current model only: the EC's id for the cart (pagoPA Checkout idCart, 1-35 characters). */
  idCart?: string;
}

export interface RptSent {
  ente: string;
  iuv: string;
  ccp: string;
  rpt: string;
}

export type RptPaymentResult =
  | {
      status: 'redirect';
      url: string;
      /** identificativoCarrello, or null for a single nodoInviaRPT. */
      cartId: string | null;
      /** The node's idSession for this payment (sent back to the station's redirect URL), if the URL shows it. */
      nodeSessionId: string | null;
      multiBeneficiary: boolean;
      rpts: RptSent[];
      attempts: Payment[];
    }
  /** The node refused the RPTs; the attempts are FAILED, so the citizen may try again. */
  | { status: 'refused'; fault: NodeFault | null; attempts: Payment[] }
  /** The node did not answer; the attempts are FAILED (a late RT would still settle them). */
  | { status: 'unavailable'; reason: string; attempts: Payment[] };

interface PlannedRpt {
  ente: Ente;
  /** Null for the second EC of a multi-beneficiary cart when it is not one of ours. */
  enteId: number | null;
  notice: PayableNotice;
  ccp: string;
  xml: string;
  amountCents: number;
  /** The option this RPT pays, for the EC that owns the position; null for the second EC. */
  optionId: number | null;
}

function requireNotices(noticeNumbers: string[]): void {
  if (noticeNumbers.length < 1 || noticeNumbers.length > MAX_CART_NOTICES) {
    throw domainError('INVALID_INPUT', `a payment holds 1 to ${MAX_CART_NOTICES} notices`, {
      field: 'noticeNumbers',
    });
  }
  if (new Set(noticeNumbers).size !== noticeNumbers.length) {
    throw domainError('INVALID_INPUT', 'the same notice twice in one payment', { field: 'noticeNumbers' });
  }
}

/** Each notice as the node would see it now, checked payable (the same checks as a verify). */
async function describeAll(store: Store, station: NodeStation, request: OnlinePaymentRequest) {
  const notices: PayableNotice[] = [];
  for (const noticeNumber of request.noticeNumbers) {
    notices.push(
      await verifyPaymentNotice(
        store,
        { caller: station.caller, fiscalCode: station.ente.fiscalCode, noticeNumber },
        { actor: request.actor ?? ACTOR, ...(request.now ? { now: request.now } : {}) },
      ),
    );
  }
  return notices;
}

function otherBeneficiaries(notice: PayableNotice): string[] {
  return [...new Set(notice.transfers.map((t) => t.enteFiscalCode))].filter(
    (cf) => cf !== notice.ente.fiscalCode,
  );
}

/** `<yyyy><idDominio><codice sorgente 01><18-digit progressive>` (35 characters), SANP's suggested cart id. */
function cartIdFor(enteFiscalCode: string, now: Date): string {
  const progressive = `${now.getTime()}`.padStart(13, '0') + `${randomInt(0, 100_000)}`.padStart(5, '0');
  return `${now.getUTCFullYear()}${enteFiscalCode}01${progressive}`;
}

/** A CCP of our own for a model 1 attempt (at most 35 characters). */
function newCcp(): string {
  return randomUUID().replace(/-/g, '');
}

async function openAttempt(store: Store, enteId: number, iuv: string): Promise<boolean> {
  const attempts = await store.payments.listByIuv(enteId, iuv);
  return attempts.some((p) => p.kind === 'rpt' && (p.status === 'STARTED' || p.status === 'IN_PROGRESS'));
}

/**
 * Multi-beneficiary (SANP 2.5): exactly two RPTs for one position with the same IUV, the owner first
 * with its own transfers, the other EC second with exactly one; the CCP of both is the cart id
 * `<idDominio><numeroAvviso>-<nnnnn>`.
 */
async function planMultiBeneficiary(
  store: Store,
  station: NodeStation,
  notice: PayableNotice,
  request: OnlinePaymentRequest,
  now: Date,
): Promise<{ cartId: string; planned: PlannedRpt[] }> {
  const [otherFiscalCode, ...more] = otherBeneficiaries(notice);
  const otherTransfers = transfersOf(notice, otherFiscalCode ?? '');
  if (!otherFiscalCode || more.length > 0 || otherTransfers.length !== 1) {
    throw domainError(
      'INVALID_INPUT',
      'a legacy multi-beneficiary payment has two ECs, the second with exactly one transfer',
      { field: 'noticeNumbers' },
    );
  }
  const attempts = await store.payments.listByIuv(station.ente.id, notice.iuv);
  const progressive = String(attempts.filter((p) => p.kind === 'rpt').length + 1).padStart(
    MULTI_BENEFICIARY_PROGRESSIVE_DIGITS,
    '0',
  );
  const cartId = `${station.ente.fiscalCode}${notice.noticeNumber}-${progressive}`;
  const other = await store.enti.getByFiscalCode(otherFiscalCode);
  // The second RPT names the other EC; when it is not one of ours only its fiscal code and name are known.
  const otherEnte: Ente = other ?? {
    ...station.ente,
    id: -1,
    fiscalCode: otherFiscalCode,
    name: otherTransfers[0]?.enteName ?? otherFiscalCode,
  };
  const tipoVersamento = request.tipoVersamento ?? 'BBT';
  const primary = rptDocument({
    ente: station.ente,
    station: station.station,
    notice,
    ccp: cartId,
    tipoVersamento,
    now,
  });
  const secondary = rptDocument({
    ente: otherEnte,
    station: station.station,
    notice,
    ccp: cartId,
    tipoVersamento,
    now,
  });
  return {
    cartId,
    planned: [
      {
        ente: station.ente,
        enteId: station.ente.id,
        notice,
        ccp: cartId,
        xml: primary.xml,
        amountCents: notice.amountCents,
        optionId: notice.option.id,
      },
      {
        ente: otherEnte,
        enteId: other?.id ?? null,
        notice,
        ccp: cartId,
        xml: secondary.xml,
        amountCents: secondary.amountCents,
        optionId: null,
      },
    ],
  };
}

function planSingleEc(
  station: NodeStation,
  notices: PayableNotice[],
  request: OnlinePaymentRequest,
  now: Date,
): PlannedRpt[] {
  return notices.map((notice) => {
    if (otherBeneficiaries(notice).length > 0) {
      throw domainError('INVALID_INPUT', 'a multi-beneficiary notice must be paid on its own', {
        field: 'noticeNumbers',
      });
    }
    const ccp = newCcp();
    const rpt = rptDocument({
      ente: station.ente,
      station: station.station,
      notice,
      ccp,
      tipoVersamento: request.tipoVersamento ?? 'BBT',
      now,
    });
    return {
      ente: station.ente,
      enteId: station.ente.id,
      notice,
      ccp,
      xml: rpt.xml,
      amountCents: notice.amountCents,
      optionId: notice.option.id,
    };
  });
}

/** Records every attempt with its RPT in one transaction, before anything reaches the node. */
function recordAttempts(
  store: Store,
  planned: PlannedRpt[],
  psp: PspRoute,
  actor: string,
): Promise<Payment[]> {
  return store.transaction(async (tx) => {
    const attempts: Payment[] = [];
    for (const rpt of planned) {
      if (rpt.enteId === null) continue;
      if (rpt.optionId !== null && (await openAttempt(tx, rpt.enteId, rpt.notice.iuv))) {
        throw domainError('PAYMENT_IN_PROGRESS', 'another payment attempt is in progress', {
          noticeNumber: rpt.notice.noticeNumber,
        });
      }
      attempts.push(
        await tx.payments.create(
          {
            enteId: rpt.enteId,
            optionId: rpt.optionId,
            iuv: rpt.notice.iuv,
            noticeNumber: rpt.notice.noticeNumber,
            kind: 'rpt',
            ccpOrToken: rpt.ccp,
            pspId: psp.idPSP,
            channelId: psp.idChannel,
            status: 'IN_PROGRESS',
            amountCents: rpt.amountCents,
            requestDocument: rpt.xml,
          },
          { cause: 'model 1: RPT to send (nodoInviaRPT / nodoInviaCarrelloRPT)', actor },
        ),
      );
    }
    return attempts;
  });
}

async function failAll(store: Store, attempts: Payment[], cause: string, actor: string): Promise<Payment[]> {
  const failed: Payment[] = [];
  for (const attempt of attempts) {
    try {
      failed.push(
        await store.payments.setStatus(attempt.id, 'FAILED', { cause, actor, expectedStatus: 'IN_PROGRESS' }),
      );
    } catch (err) {
      if (!isDomainError(err, 'CONCURRENT_UPDATE')) throw err;
      failed.push((await store.payments.getById(attempt.id)) ?? attempt);
    }
  }
  return failed;
}

/**
 * The node's idSession in the URL nodoInviaRPT / nodoInviaCarrelloRPT answered: its `idSession`
 * query parameter when it has one (pagoPA's WISP pages), else the last path segment (the emulated
 * node's `/emulator/checkout/<idSession>`). The node sends the same idSession to the station's
 * redirect URL when the citizen is done.
 */
export function nodeSessionIdOf(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const query = parsed.searchParams.get('idSession');
  if (query) return query;
  const last = parsed.pathname.split('/').filter(Boolean).pop();
  if (!last) return null;
  try {
    return decodeURIComponent(last);
  } catch {
    return null;
  }
}

/**
 * Model 1 with RPTs: builds and records the RPTs, sends them (one RPT, a cart, or the two RPTs of a
 * multi-beneficiary notice) and returns the node's URL. The RTs arrive later through paaInviaRT.
 */
export async function startRptPayment(
  store: Store,
  node: NodePort,
  request: OnlinePaymentRequest,
): Promise<RptPaymentResult> {
  requireNotices(request.noticeNumbers);
  const now = request.now ?? new Date();
  const actor = request.actor ?? ACTOR;
  const psp = request.psp ?? WISP_PSP;
  const station = await nodeStationFor(store, request.enteFiscalCode);
  const notices = await describeAll(store, station, request);
  const [first] = notices;
  const multi = notices.length === 1 && first !== undefined && otherBeneficiaries(first).length > 0;
  let cartId: string | null = null;
  let planned: PlannedRpt[];
  if (multi) {
    ({ cartId, planned } = await planMultiBeneficiary(store, station, first, request, now));
  } else {
    planned = planSingleEc(station, notices, request, now);
    if (planned.length > 1) cartId = cartIdFor(station.ente.fiscalCode, now);
  }
  const attempts = await recordAttempts(store, planned, psp, actor);
  const rpts: RptSent[] = planned.map((p) => ({
    ente: p.ente.fiscalCode,
    iuv: p.notice.iuv,
    ccp: p.ccp,
    rpt: p.xml,
  }));
  let answer: { ok: boolean; url: string | null; fault: NodeFault | null };
  try {
    answer =
      cartId === null
        ? await node.nodoInviaRPT(
            station.credentials,
            { enteFiscalCode: station.ente.fiscalCode, iuv: planned[0]!.notice.iuv, ccp: planned[0]!.ccp },
            psp,
            planned[0]!.xml,
          )
        : await node.nodoInviaCarrelloRPT(
            station.credentials,
            cartId,
            psp,
            planned.map((p) => ({
              enteFiscalCode: p.ente.fiscalCode,
              iuv: p.notice.iuv,
              ccp: p.ccp,
              rpt: p.xml,
            })),
            multi,
          );
  } catch (err) {
    if (!(err instanceof NodeUnavailable)) throw err;
    const failed = await failAll(store, attempts, `model 1: ${err.message}`, actor);
    return { status: 'unavailable', reason: err.reason, attempts: failed };
  }
  if (!answer.ok || !answer.url) {
    const code = answer.fault?.faultCode ?? 'esito KO';
    const failed = await failAll(store, attempts, `model 1: the node refused the RPTs (${code})`, actor);
    return { status: 'refused', fault: answer.fault, attempts: failed };
  }
  return {
    status: 'redirect',
    url: answer.url,
    cartId,
    nodeSessionId: nodeSessionIdOf(answer.url),
    multiBeneficiary: multi,
    rpts,
    attempts,
  };
}

export type CheckoutPaymentResult =
  { status: 'redirect'; url: string } | { status: 'unavailable'; reason: string };

/** Current model: the notices go into a checkout cart; nothing is recorded until the node activates them. */
export async function startCheckoutPayment(
  store: Store,
  node: NodePort,
  request: CheckoutPaymentRequest,
): Promise<CheckoutPaymentResult> {
  requireNotices(request.noticeNumbers);
  const station = await nodeStationFor(store, request.enteFiscalCode);
  const notices = await describeAll(store, station, request);
  const cart: CheckoutNotice[] = notices.map((n) => ({
    noticeNumber: n.noticeNumber,
    fiscalCode: n.ente.fiscalCode,
    amountCents: n.amountCents,
    companyName: n.ente.name.slice(0, 140),
    description: n.description.slice(0, 140),
  }));
  try {
    return {
      status: 'redirect',
      url: await node.createCheckoutCart(cart, request.returnUrls, request.idCart),
    };
  } catch (err) {
    if (!(err instanceof NodeUnavailable)) throw err;
    return { status: 'unavailable', reason: err.reason };
  }
}

/** Picks the flow by the ente's station dialect (configuration, not code: DESIGN §4). */
export async function startOnlinePayment(
  store: Store,
  node: NodePort,
  request: CheckoutPaymentRequest,
): Promise<RptPaymentResult | CheckoutPaymentResult> {
  const station = await nodeStationFor(store, request.enteFiscalCode);
  return station.station.dialect === 'legacy'
    ? startRptPayment(store, node, request)
    : startCheckoutPayment(store, node, request);
}

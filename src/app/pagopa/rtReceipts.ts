// Receiving an RT (legacy paaInviaRT, or a copy fetched with nodoChiediCopiaRT), pagopa-facts §6, §9.
// The RT must be schema-valid (INVALID_DOCUMENT → PAA_SINTASSI_XSD) and name the key of the call
// (idDominio, IUV, CCP). That key is the RT's identity: a second RT for it is RECEIPT_DUPLICATE
// (PAA_RT_DUPLICATA); a key with no attempt of ours is PAYMENT_UNKNOWN (PAA_RPT_SCONOSCIUTA) and
// changes nothing, as every refused message (the RT stays in the SOAP message log and at the node,
// which can still give a copy). Otherwise it goes through receiveReceipt like any receipt
// (stored whole, position closed once), and the attempt is settled: PAID, or FAILED for a negative
// RT (codiceEsitoPagamento 1 or 3), which leaves the position payable.

import { domainError, isDomainError } from '../../domain/errors.ts';
import { parseAmountCents } from '../../domain/money.ts';
import type { Store } from '../../db/store.ts';
import type { Payment, PaymentStatus } from '../../db/repositories/payments.ts';
import type { Receipt, ReceiptOutcome } from '../../db/repositories/receipts.ts';
import { readRt, type RtData } from '../../pagopa/rt.ts';
import { checkNodeCaller, type NodeCaller } from './identity.ts';
import { NODE_ACTOR, type PagopaUseCaseOptions } from './payments.ts';
import { receiveReceipt, type ReceiptResult } from './receipts.ts';

/** identificativoCarrello of a multi-beneficiary cart, which its CCPs carry: <idDominio><numeroAvviso>-<nnnnn>. */
const MULTI_BENEFICIARY_CCP = /^(\d{11})(\d{18})-\d{5}$/;

export interface IncomingRt {
  caller: NodeCaller;
  /** The key of the call (header intestazionePPT, or the attempt being recovered). */
  iuv: string;
  ccp: string;
  /** The RT document, decoded from base64. */
  document: string;
}

export interface RtResult {
  rt: RtData;
  receipt: Receipt;
  attempt: Payment;
  result: ReceiptResult;
}

/** codiceEsitoPagamento 0 paid; 2 and 4 partly paid (money was collected: applied, flagged on the amount). */
function outcomeOf(rt: RtData): ReceiptOutcome {
  return rt.outcomeCode === '1' || rt.outcomeCode === '3' ? 'KO' : 'OK';
}

function readChecked(incoming: IncomingRt): RtData {
  const rt = readRt(incoming.document);
  const { caller, iuv, ccp } = incoming;
  if (rt.enteFiscalCode !== caller.enteFiscalCode || rt.iuv !== iuv || rt.ccp !== ccp) {
    throw domainError(
      'INVALID_INPUT',
      'the RT names another identificativoDominio, IUV or CCP than the call',
      {
        field: 'rt',
      },
    );
  }
  return rt;
}

/** The EC that owns the position: for the second RPT of a multi-beneficiary cart, the primary EC in its CCP. */
function creditorOf(attempt: Payment, enteFiscalCode: string): string {
  const primary = MULTI_BENEFICIARY_CCP.exec(attempt.ccpOrToken)?.[1];
  return attempt.optionId === null && primary && primary !== enteFiscalCode ? primary : enteFiscalCode;
}

/** The attempt follows its RT: PAID when money was collected, FAILED when not (never downgraded). */
async function settleAttempt(store: Store, attempt: Payment, outcome: ReceiptOutcome, actor: string) {
  const current = (await store.payments.getById(attempt.id)) ?? attempt;
  const open: PaymentStatus[] = ['STARTED', 'IN_PROGRESS'];
  const to: PaymentStatus = outcome === 'OK' ? 'PAID' : 'FAILED';
  if (
    current.status === to ||
    current.status === 'PAID' ||
    (to === 'FAILED' && !open.includes(current.status))
  )
    return;
  try {
    await store.payments.setStatus(current.id, to, {
      cause: `paaInviaRT ${outcome === 'OK' ? 'positive' : 'negative'} RT`,
      actor,
      expectedStatus: current.status,
    });
  } catch (err) {
    if (!isDomainError(err, 'CONCURRENT_UPDATE')) throw err;
  }
}

/**
 * paaInviaRT (and receipt recovery). Throws INVALID_DOCUMENT, INVALID_INPUT, PAYMENT_UNKNOWN or
 * RECEIPT_DUPLICATE as described above; a repeat still settles the attempt, so a crash between
 * storing the RT and settling is finished by the node's retry.
 */
export async function receiveRt(
  store: Store,
  incoming: IncomingRt,
  options: PagopaUseCaseOptions = {},
): Promise<RtResult> {
  const actor = options.actor ?? NODE_ACTOR;
  const { ente } = await checkNodeCaller(store, incoming.caller);
  const rt = readChecked(incoming);
  const attempt = await store.payments.find(ente.id, incoming.iuv, incoming.ccp);
  if (!attempt || attempt.kind !== 'rpt') {
    throw domainError('PAYMENT_UNKNOWN', 'no RPT of ours has this identificativoDominio, IUV and CCP', {
      field: 'codiceContestoPagamento',
    });
  }
  const outcome = outcomeOf(rt);
  const stored = await store.receipts.findByCcp(ente.id, incoming.iuv, incoming.ccp);
  let result: ReceiptResult;
  try {
    result = await receiveReceipt(
      store,
      {
        source: 'paaInviaRT',
        caller: incoming.caller,
        creditorFiscalCode: creditorOf(attempt, ente.fiscalCode),
        iuv: incoming.iuv,
        // The key is (idDominio, IUV, CCP): a repeat reuses the stored id, whatever IUR it carries.
        receiptId: stored?.receiptId ?? rt.payments[0]?.iur ?? incoming.ccp,
        noticeNumber: attempt.noticeNumber,
        ccp: incoming.ccp,
        outcome,
        amountCents: parseAmountCents(rt.totalPaidCents),
        paymentDateTime: rt.receiptDateTime,
        pspId: rt.pspId,
        document: incoming.document,
      },
      options,
    );
  } catch (err) {
    if (isDomainError(err, 'RECEIPT_DUPLICATE') && stored)
      await settleAttempt(store, attempt, stored.outcome, actor);
    throw err;
  }
  await settleAttempt(store, attempt, outcome, actor);
  const settled = (await store.payments.getById(attempt.id)) ?? attempt;
  return { rt, receipt: result.receipt, attempt: settled, result };
}

// Receiving a receipt (paSendRT / paSendRTV2; legacy paaInviaRT through the same path), pagopa-facts
// §8–9. Two steps, so money is never lost: (1) the receipt is stored whole, keyed (ente, IUV,
// receiptId), with a flag when it cannot close anything; (2) one transaction closes the option, the
// position, the attempt and links the receipt. If (2) fails the receipt stays, and the node's retry
// of the same receipt runs (2) again instead of being answered as a duplicate.

import { domainError, isDomainError } from '../../domain/errors.ts';
import { statusAfterPayment } from '../../domain/positionState.ts';
import {
  awaitsApplication,
  decideReceipt,
  type ReceiptDecision,
  type ReceiptFlag,
} from '../../domain/receipt.ts';
import type { AmountCents } from '../../domain/money.ts';
import type { Store } from '../../db/store.ts';
import type { ChangeContext } from '../../db/repositories/events.ts';
import type { StoredOption, StoredPosition } from '../../db/repositories/positions.ts';
import type { Receipt, ReceiptOutcome, ReceiptSource } from '../../db/repositories/receipts.ts';
import { checkNodeCaller, type NodeCaller } from './identity.ts';
import { NODE_ACTOR, type PagopaUseCaseOptions } from './payments.ts';
import { enqueuePaymentNotifications } from '../callbacks/notifyPayment.ts';

/** The paymentToken's length (pagopa-facts §1), and the receipts.receipt_id column's. */
const MAX_RECEIPT_ID_LENGTH = 35;

export interface IncomingReceipt {
  source: ReceiptSource;
  caller: NodeCaller;
  /** The EC that owns the position (receipt fiscalCode, RT dominio); differs from idPA for a co-beneficiary. */
  creditorFiscalCode: string;
  /** creditorReferenceId (current) or identificativoUnivocoVersamento (legacy). */
  iuv: string;
  /** receiptId = paymentToken (current) or the key the legacy flow chooses. */
  receiptId: string;
  noticeNumber?: string | null;
  /** Legacy only: the attempt's CCP, to settle that attempt. */
  ccp?: string | null;
  outcome: ReceiptOutcome;
  amountCents: AmountCents;
  paymentDateTime?: string | null;
  pspId?: string | null;
  /** The receipt XML as received, stored whole. */
  document: string;
}

export interface ReceiptResult {
  receipt: Receipt;
  /** What the receipt did: applied to its option or not, and any flag. */
  decision: ReceiptDecision;
  /** True when this call completed a receipt stored by an earlier, interrupted call. */
  resumed: boolean;
}

interface Target {
  position: StoredPosition | null;
  option: StoredOption | null;
}

async function findTarget(store: Store, enteId: number, iuv: string): Promise<Target> {
  const position = await store.positions.findByIuv(enteId, iuv);
  const option = position?.options.find((o) => o.iuv === iuv) ?? null;
  return { position, option };
}

function amountsDue(target: Target): number[] {
  const due = target.option ? [target.option.amountCents] : [];
  const reduced = target.position?.multe?.reducedAmountCents;
  if (reduced != null && target.option?.installment === 0) due.push(reduced);
  return due;
}

function decide(
  target: Target,
  receipt: { outcome: ReceiptOutcome; amountCents: number },
  secondaryBeneficiary: boolean,
): ReceiptDecision {
  return decideReceipt({
    outcome: receipt.outcome,
    secondaryBeneficiary,
    amountCents: receipt.amountCents,
    position: target.position,
    option: target.option,
    amountsDueCents: amountsDue(target),
  });
}

/** The attempt this receipt settles: the legacy CCP's, else the current model's one in progress. */
async function settleAttempt(store: Store, receipt: Receipt, option: StoredOption, change: ChangeContext) {
  const attempts = await store.payments.listByIuv(receipt.enteId, receipt.iuv);
  const attempt = receipt.ccp
    ? attempts.find((p) => p.kind === 'rpt' && p.ccpOrToken === receipt.ccp)
    : attempts.find((p) => p.kind === 'current' && (p.status === 'IN_PROGRESS' || p.status === 'STARTED'));
  if (attempt) {
    if (attempt.status !== 'PAID') await store.payments.setStatus(attempt.id, 'PAID', change);
    return;
  }
  // Paid without an attempt of ours (stand-in, or a notice activated before a restart of the node).
  await store.payments.create(
    {
      enteId: receipt.enteId,
      optionId: option.id,
      iuv: receipt.iuv,
      noticeNumber: receipt.noticeNumber,
      kind: receipt.ccp ? 'rpt' : 'current',
      ccpOrToken: receipt.ccp ?? receipt.receiptId,
      pspId: receipt.pspId,
      status: 'PAID',
      amountCents: receipt.amountCents,
    },
    change,
  );
}

/**
 * Step (2), in one transaction: re-reads the position (it may have changed since the receipt was
 * stored), then option → PAID, position status via statusAfterPayment, attempt → PAID, receipt linked
 * to its option; each with its event; and notifyPayment queued in the outbox for the gestionali
 * bound to the position. A receipt that can no longer apply is flagged instead.
 */
export async function applyReceipt(
  store: Store,
  receipt: Receipt,
  change: ChangeContext,
): Promise<ReceiptDecision> {
  // Another process may close the same option (a second receipt of the notice) or another option of
  // the position at the same moment: the loser's conditional update finds the row changed
  // (CONCURRENT_UPDATE) and its transaction rolls back. Deciding again on the fresh rows gives the
  // answer the receipt deserves (DOUBLE_PAYMENT, or applied) instead of a system error.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await applyReceiptOnce(store, receipt, change);
    } catch (err) {
      if (!isDomainError(err, 'CONCURRENT_UPDATE') || attempt >= APPLY_ATTEMPTS) throw err;
    }
  }
}

/** How many times applyReceipt decides again after losing a race on the position. */
const APPLY_ATTEMPTS = 3;

function applyReceiptOnce(store: Store, receipt: Receipt, change: ChangeContext): Promise<ReceiptDecision> {
  return store.transaction(async (tx) => {
    // The same receipt sent again while the first send is applying it (the node's retry racing it)
    // waits for it on the IUV, then finds the receipt complete: a repeat, not a second payment.
    await tx.payments.lockIuv(receipt.enteId, receipt.iuv);
    const current = await tx.receipts.getById(receipt.id);
    if (current && !awaitsApplication(current)) {
      throw domainError('RECEIPT_DUPLICATE', 'the receipt was completed by a concurrent call', {
        receiptId: receipt.receiptId,
      });
    }
    const target = await findTarget(tx, receipt.enteId, receipt.iuv);
    // Only receipts for our own positions ever await application, so it is never a co-beneficiary copy here.
    const decision = decide(target, receipt, false);
    if (decision.flag !== null && decision.flag !== receipt.flaggedReason) {
      await tx.receipts.setFlaggedReason(receipt.id, decision.flag, change);
    }
    if (!decision.apply || !target.option || !target.position) return decision;
    const paid = await tx.positions.setOptionStatus(target.option.id, 'PAID', change);
    const next = statusAfterPayment(paid.options);
    if (next !== paid.status) await tx.positions.transition(paid.id, next, change);
    await settleAttempt(tx, receipt, target.option, change);
    await tx.receipts.markApplied(receipt.id, target.option.id, change);
    await enqueuePaymentNotifications(tx, {
      receipt,
      position: { ...paid, status: next },
      option: target.option,
    });
    return decision;
  });
}

function storedDecision(receipt: Receipt): ReceiptDecision {
  return { apply: receipt.optionId !== null, flag: receipt.flaggedReason as ReceiptFlag | null };
}

/**
 * paSendRT / paSendRTV2 (and, through the same path, paaInviaRT). Returns what the receipt did;
 * throws RECEIPT_DUPLICATE (PAA_RECEIPT_DUPLICATA) only for a repeat of a receipt already complete.
 */
export async function receiveReceipt(
  store: Store,
  incoming: IncomingReceipt,
  options: PagopaUseCaseOptions = {},
): Promise<ReceiptResult> {
  const { ente } = await checkNodeCaller(store, incoming.caller);
  // receiptId is the node's paymentToken (at most 35 characters) but the official XSD types it
  // xs:string: a longer one is refused here, before the database column would refuse it.
  if (incoming.receiptId.length > MAX_RECEIPT_ID_LENGTH)
    throw domainError('INVALID_INPUT', `receiptId is longer than ${MAX_RECEIPT_ID_LENGTH} characters`, {
      field: 'receiptId',
    });
  const change = {
    cause: `${incoming.source} ${incoming.receiptId}`,
    actor: options.actor ?? NODE_ACTOR,
  };
  const secondary = incoming.creditorFiscalCode !== ente.fiscalCode;
  const target = secondary
    ? { position: null, option: null }
    : await findTarget(store, ente.id, incoming.iuv);
  const first = decide(target, incoming, secondary);
  let receipt: Receipt;
  let resumed = false;
  try {
    receipt = await store.receipts.insert(
      {
        enteId: ente.id,
        iuv: incoming.iuv,
        receiptId: incoming.receiptId,
        noticeNumber: incoming.noticeNumber ?? null,
        ccp: incoming.ccp ?? null,
        source: incoming.source,
        outcome: incoming.outcome,
        amountCents: incoming.amountCents,
        paymentDateTime: incoming.paymentDateTime ?? null,
        pspId: incoming.pspId ?? null,
        document: incoming.document,
        flaggedReason: first.flag,
      },
      change,
    );
  } catch (err) {
    if (!isDomainError(err, 'RECEIPT_DUPLICATE')) throw err;
    const stored = await store.receipts.find(ente.id, incoming.iuv, incoming.receiptId);
    if (!stored || !awaitsApplication(stored)) throw err;
    receipt = stored;
    resumed = true;
  }
  if (!awaitsApplication(receipt)) return { receipt, decision: storedDecision(receipt), resumed };
  const decision = await applyReceipt(store, receipt, change);
  const completed = await store.receipts.getById(receipt.id);
  if (!completed)
    throw domainError('RECEIPT_UNKNOWN', 'the stored receipt disappeared', { receiptId: receipt.id });
  return { receipt: completed, decision, resumed };
}

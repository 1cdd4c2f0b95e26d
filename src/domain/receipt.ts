// What a receipt (paSendRT / paSendRTV2, legacy RT) does to the position it names (pagopa-facts §8–9):
// it is always stored; it closes the option it pays unless the position cannot take it, in which
// case it is kept with a flag for the operator. Money received is never dropped.

import type { OptionStatus, PositionStatus } from './positionState.ts';

export const RECEIPT_FLAGS = [
  // not applied: nothing of ours to close
  'UNKNOWN_POSITION', // no position with this IUV at the receiving ente
  'POSITION_CANCELLED', // the ente withdrew the position before it was paid
  'POSITION_NOT_PAYABLE', // a multe notice never activated, or released
  'DOUBLE_PAYMENT', // the option (or the whole position) was already paid by another receipt
  'SECONDARY_BENEFICIARY', // multi-beneficiary copy: the position belongs to another EC
  'NEGATIVE_OUTCOME', // the receipt says the payment did not happen
  // applied, but worth a look
  'PAID_AFTER_EXPIRY', // pagoPA does not block late payments: the expired position is closed anyway
  'AMOUNT_MISMATCH', // the amount paid differs from the amount due
  'OVERPAYMENT', // the single payment of a plan whose installments were already being paid
] as const;
export type ReceiptFlag = (typeof RECEIPT_FLAGS)[number];

/** Flags that leave the position untouched: such a receipt is complete as soon as it is stored. */
const NOT_APPLIED: ReadonlySet<ReceiptFlag> = new Set<ReceiptFlag>([
  'UNKNOWN_POSITION',
  'POSITION_CANCELLED',
  'POSITION_NOT_PAYABLE',
  'DOUBLE_PAYMENT',
  'SECONDARY_BENEFICIARY',
  'NEGATIVE_OUTCOME',
]);

export interface ReceiptDecision {
  /** Whether the receipt pays its option (option → PAID, position status recomputed). */
  apply: boolean;
  flag: ReceiptFlag | null;
}

export interface ReceiptFacts {
  outcome: 'OK' | 'KO';
  /** The receiving EC is not the one that owns the position (multi-beneficiary copy). */
  secondaryBeneficiary: boolean;
  amountCents: number;
  position: {
    status: PositionStatus;
    options: ReadonlyArray<{ installment: number; status: OptionStatus }>;
  } | null;
  /** The option the receipt's IUV names; null when the position is unknown. */
  option: { installment: number; status: OptionStatus } | null;
  /** The amount the option was offered at (its amount, or a multe reduced amount). */
  amountsDueCents: readonly number[];
}

const notApplied = (flag: ReceiptFlag): ReceiptDecision => ({ apply: false, flag });

export function decideReceipt(facts: ReceiptFacts): ReceiptDecision {
  if (facts.outcome !== 'OK') return notApplied('NEGATIVE_OUTCOME');
  if (facts.secondaryBeneficiary) return notApplied('SECONDARY_BENEFICIARY');
  const { position, option } = facts;
  if (!position || !option) return notApplied('UNKNOWN_POSITION');
  if (option.status !== 'UNPAID') return notApplied('DOUBLE_PAYMENT');
  switch (position.status) {
    case 'CANCELLED':
      return notApplied('POSITION_CANCELLED');
    case 'RESERVED':
    case 'RELEASED':
      return notApplied('POSITION_NOT_PAYABLE');
    case 'PAID':
    case 'REPORTED':
    case 'RECONCILED':
      return notApplied('DOUBLE_PAYMENT');
    case 'EXPIRED':
      return { apply: true, flag: 'PAID_AFTER_EXPIRY' };
    case 'VALID':
    case 'PARTIALLY_PAID':
      break;
  }
  const installmentPaid = position.options.some((o) => o.installment > 0 && o.status !== 'UNPAID');
  if (option.installment === 0 && installmentPaid) return { apply: true, flag: 'OVERPAYMENT' };
  if (!facts.amountsDueCents.includes(facts.amountCents)) return { apply: true, flag: 'AMOUNT_MISMATCH' };
  return { apply: true, flag: null };
}

/**
 * Whether a stored receipt still has to close its option: it is neither linked to the option it
 * paid nor flagged as one that closes nothing. This is exactly the window between storing a
 * receipt and completing the position, so a repeat of the receipt finishes the job.
 */
export function awaitsApplication(receipt: {
  optionId: number | null;
  flaggedReason: string | null;
}): boolean {
  if (receipt.optionId !== null) return false;
  return receipt.flaggedReason === null || !NOT_APPLIED.has(receipt.flaggedReason as ReceiptFlag);
}

// Life cycle of a debt position and of its payment options. Every change of status goes through
// assertTransition, so an illegal move (paying a cancelled position, activating a paid notice) is a
// typed INVALID_STATE_TRANSITION error before anything is written.

import { domainError } from './errors.ts';

export const POSITION_STATUSES = [
  'RESERVED', // multe con preavviso: notice allocated, not payable until activated
  'VALID', // payable
  'PARTIALLY_PAID', // installment plan with some installments paid
  'PAID', // every due amount received (receipt stored)
  'EXPIRED', // past its validity: the EC answers PAA_PAGAMENTO_SCADUTO
  'CANCELLED', // withdrawn by the ente before payment
  'RELEASED', // multe: reserved notice given back unused
  'REPORTED', // every paid option appears in a reporting flow (flusso di rendicontazione)
  'RECONCILED', // the flows' bank credits arrived: the euro is closed
] as const;
export type PositionStatus = (typeof POSITION_STATUSES)[number];

const POSITION_TRANSITIONS: Readonly<Record<PositionStatus, readonly PositionStatus[]>> = {
  RESERVED: ['VALID', 'RELEASED', 'EXPIRED'],
  VALID: ['PARTIALLY_PAID', 'PAID', 'EXPIRED', 'CANCELLED'],
  PARTIALLY_PAID: ['PAID', 'EXPIRED'],
  // pagoPA does not block payments after the due date: a receipt for an expired position still closes it.
  EXPIRED: ['PAID', 'PARTIALLY_PAID', 'VALID', 'CANCELLED'],
  PAID: ['REPORTED'],
  REPORTED: ['RECONCILED'],
  CANCELLED: [],
  RELEASED: [],
  RECONCILED: [],
};

export const OPTION_STATUSES = ['UNPAID', 'PAID', 'REPORTED', 'RECONCILED'] as const;
export type OptionStatus = (typeof OPTION_STATUSES)[number];

const OPTION_TRANSITIONS: Readonly<Record<OptionStatus, readonly OptionStatus[]>> = {
  UNPAID: ['PAID'],
  PAID: ['REPORTED'],
  REPORTED: ['RECONCILED'],
  RECONCILED: [],
};

export function canTransition(from: PositionStatus, to: PositionStatus): boolean {
  return POSITION_TRANSITIONS[from].includes(to);
}

export function assertTransition(from: PositionStatus, to: PositionStatus): void {
  if (!canTransition(from, to)) {
    throw domainError('INVALID_STATE_TRANSITION', `a ${from} position cannot become ${to}`, { from, to });
  }
}

export function assertOptionTransition(from: OptionStatus, to: OptionStatus): void {
  if (!OPTION_TRANSITIONS[from].includes(to)) {
    throw domainError('INVALID_STATE_TRANSITION', `a ${from} payment option cannot become ${to}`, {
      from,
      to,
    });
  }
}

/** Statuses in which the node may be offered the notice (verify / get payment). */
export function isPayable(status: PositionStatus): boolean {
  return status === 'VALID' || status === 'PARTIALLY_PAID';
}

/** Statuses in which the gestionale may still change the amounts or cancel. */
export function isEditable(status: PositionStatus): boolean {
  return status === 'VALID' || status === 'EXPIRED';
}

export function isPositionStatus(value: string): value is PositionStatus {
  return (POSITION_STATUSES as readonly string[]).includes(value);
}

/**
 * The position's status once its options' statuses are known: all paid → PAID, some → PARTIALLY_PAID.
 * An installment plan counts as paid when every installment is; a position whose single option
 * (the "pay in one go" alternative) is paid is paid whatever its installments say.
 */
export function statusAfterPayment(
  options: ReadonlyArray<{ installment: number; status: OptionStatus }>,
): PositionStatus {
  const isPaid = (s: OptionStatus) => s !== 'UNPAID';
  const single = options.filter((o) => o.installment === 0);
  if (single.some((o) => isPaid(o.status))) return 'PAID';
  const installments = options.filter((o) => o.installment > 0);
  if (installments.length > 0 && installments.every((o) => isPaid(o.status))) return 'PAID';
  if (installments.some((o) => isPaid(o.status))) return 'PARTIALLY_PAID';
  throw domainError('INVALID_STATE_TRANSITION', 'no option of the position is paid', {});
}

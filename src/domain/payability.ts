// Whether the node may be offered a payment option now, and for how much (pagopa-facts §5, §9, §10):
// the rules behind paVerifyPaymentNotice / paGetPayment and their legacy twins paaVerificaRPT /
// paaAttivaRPT. A refusal is the DomainError the pagoPA fault mapper turns into PAA_PAGAMENTO_*.

import { domainError } from './errors.ts';
import type { OptionStatus, PositionStatus } from './positionState.ts';

export interface PayabilityOption {
  installment: number;
  status: OptionStatus;
}

export interface PayabilityPosition {
  status: PositionStatus;
  options: readonly PayabilityOption[];
}

/**
 * Throws the reason the option cannot be paid now, or returns when it can. A paid option (or a plan
 * whose single payment is paid) is POSITION_ALREADY_PAID; once an installment is paid, paying the
 * whole amount in one go would pay that installment twice, so the single option is refused too.
 */
export function assertOptionPayable(position: PayabilityPosition, option: PayabilityOption): void {
  if (option.status !== 'UNPAID') {
    throw domainError('POSITION_ALREADY_PAID', 'the payment option is already paid', {
      installment: option.installment,
    });
  }
  switch (position.status) {
    case 'VALID':
    case 'PARTIALLY_PAID':
      break;
    case 'RESERVED':
    case 'RELEASED':
      // multe con preavviso: a notice not yet activated (or given back) does not exist for the node.
      throw domainError('POSITION_NOT_PAYABLE', 'the notice is not active', { status: position.status });
    case 'CANCELLED':
      throw domainError('POSITION_CANCELLED', 'the position was cancelled', { status: position.status });
    case 'EXPIRED':
      throw domainError('POSITION_EXPIRED', 'the position is no longer payable', { status: position.status });
    case 'PAID':
    case 'REPORTED':
    case 'RECONCILED':
      throw domainError('POSITION_ALREADY_PAID', 'the position is already paid', { status: position.status });
  }
  const installmentPaid = position.options.some((o) => o.installment > 0 && o.status !== 'UNPAID');
  if (option.installment === 0 && installmentPaid) {
    throw domainError('POSITION_ALREADY_PAID', 'an installment is already paid: pay the installments', {
      installment: 0,
    });
  }
}

export interface ReducibleOption {
  installment: number;
  amountCents: number;
  transfers: ReadonlyArray<{ amountCents: number }>;
}

export interface Reduction {
  reducedAmountCents: number | null;
  /** Last day (YYYY-MM-DD, Italian time) the reduced amount applies. */
  reducedUntil: string | null;
}

/**
 * The amount due today: a traffic fine paid within its reduction window costs the reduced amount
 * (pagopa-facts §10); otherwise the option's amount. The reduction applies to the single payment
 * and is taken from the first transfer, the ente's own; a reduction that transfer cannot absorb is
 * ignored rather than producing transfers that do not add up.
 */
export function amountDueCents(option: ReducibleOption, reduction: Reduction | null, today: string): number {
  const reduced = reduction?.reducedAmountCents;
  const until = reduction?.reducedUntil;
  if (reduced == null || until == null || option.installment !== 0) return option.amountCents;
  if (today > until || reduced <= 0 || reduced >= option.amountCents) return option.amountCents;
  const first = option.transfers[0];
  if (!first || first.amountCents - (option.amountCents - reduced) <= 0) return option.amountCents;
  return reduced;
}

/** The transfers' amounts for a given amount due: the difference comes off the first transfer. */
export function transferAmountsFor(option: ReducibleOption, amountDue: number): number[] {
  const difference = option.amountCents - amountDue;
  return option.transfers.map((t, i) => (i === 0 ? t.amountCents - difference : t.amountCents));
}

/**
 * The pagoPA taxonomy code of a transfer category: `9/0101108TS/` (the legacy datiSpecificiRiscossione
 * form, accounting type 9 = taxonomy) → `0101108TS`, the form transferCategory carries. Other
 * accounting types have no taxonomy code and travel unchanged.
 */
export function taxonomyCode(category: string): string {
  const match = /^9\/([^/]+)\/?$/.exec(category);
  return match?.[1] ?? category;
}

const ROME_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Rome',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar date in Italy at an instant, YYYY-MM-DD: due dates and reductions are Italian days. */
export function italianDate(at: Date): string {
  return ROME_DATE.format(at);
}

/** An Italian calendar date plus whole days, YYYY-MM-DD. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

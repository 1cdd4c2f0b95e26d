// Money as integer euro cents, the only representation inside the domain and the database. pagoPA's
// decimal amounts (`\d+\.\d{2}`, pagopa-facts §5) are converted here, by string, never through floats.

import { domainError } from './errors.ts';

/** Any whole number of cents, e.g. a revoked payment (negative) in a reporting flow (pagopa-facts §7). */
export type SignedCents = number & { readonly __brand: 'SignedCents' };
/** A non-negative whole number of cents; usable wherever SignedCents is expected. */
export type AmountCents = SignedCents & { readonly __nonNegative: true };

const UNSIGNED_INTEGER = /^[0-9]+$/;
const SIGNED_INTEGER = /^-?[0-9]+$/;
const DECIMAL = /^(-?)([0-9]+)(?:\.([0-9]{1,2}))?$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function invalid(message: string, value: unknown): never {
  throw domainError('INVALID_AMOUNT', message, { value });
}

// Strings go through BigInt so that a 17-digit input is rejected rather than silently rounded.
function toSafeNumber(value: bigint, original: unknown): number {
  if (value > MAX_SAFE || value < -MAX_SAFE) invalid('amount exceeds the safe integer range', original);
  // `+ 0` turns -0 into 0 so that "-0" and 0 read the same.
  return Number(value) + 0;
}

export function parseSignedCents(n: number | string): SignedCents {
  if (typeof n === 'string') {
    if (!SIGNED_INTEGER.test(n)) invalid('amount in cents must be a whole number', n);
    return toSafeNumber(BigInt(n), n) as SignedCents;
  }
  if (!Number.isSafeInteger(n)) invalid('amount in cents must be a safe whole number', n);
  return (n + 0) as SignedCents;
}

export function parseAmountCents(n: number | string): AmountCents {
  if (typeof n === 'string' && !UNSIGNED_INTEGER.test(n)) invalid('amount in cents must be plain digits', n);
  const cents = parseSignedCents(n);
  if (cents < 0) invalid('amount must not be negative', n);
  return cents as AmountCents;
}

function decimalToCents(s: string): SignedCents {
  const match = DECIMAL.exec(s);
  if (match === null) invalid('amount must be digits with at most 2 decimals and a dot', s);
  const [, sign = '', units = '', fraction = ''] = match;
  return toSafeNumber(BigInt(sign + units + fraction.padEnd(2, '0')), s) as SignedCents;
}

/** '12.30' → 1230; also '12.3' and '12'. Rejects more than 2 decimals, exponents, commas and signs. */
export function parseDecimalAmount(s: string): AmountCents {
  if (s.startsWith('-')) invalid('amount must not be negative', s);
  return decimalToCents(s) as AmountCents;
}

/** As parseDecimalAmount but allows a leading minus, for revoked payments in reporting flows. */
export function parseSignedDecimalAmount(s: string): SignedCents {
  return decimalToCents(s);
}

/** The one formatter for pagoPA's decimal amounts: 1230 → '12.30', -50 → '-0.50'. */
export function formatAmount(cents: SignedCents): string {
  if (!Number.isSafeInteger(cents)) invalid('amount in cents must be a safe whole number', cents);
  const sign = cents < 0 ? '-' : '';
  const digits = String(Math.abs(cents)).padStart(3, '0');
  return `${sign}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

export function sumCents(amounts: readonly AmountCents[]): AmountCents;
export function sumCents(amounts: readonly SignedCents[]): SignedCents;
export function sumCents(amounts: readonly SignedCents[]): SignedCents {
  let total = 0n;
  for (const amount of amounts) total += BigInt(amount);
  return toSafeNumber(total, total.toString()) as SignedCents;
}

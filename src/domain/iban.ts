// IBAN (ISO 13616) of the accounts an EC is credited on (ibanAccredito, transfer IBAN), and the ISO 7064
// MOD 97-10 arithmetic it shares with the RF creditor reference. pagoPA: pagopa-facts §5 (transferType POSTAL).

import { domainError } from './errors.ts';

export type Iban = string & { readonly __brand: 'Iban' };

export type IbanInvalidReason = 'format' | 'length' | 'check';

/** ABI code of Poste Italiane: an Italian IBAN with it is a postal current account (conto corrente postale). */
export const POSTE_ITALIANE_ABI = '07601';

// SWIFT IBAN registry lengths for the SEPA countries; other countries get the generic ISO 13616 bound.
// prettier-ignore
const SEPA_IBAN_LENGTH: Readonly<Record<string, number>> = {
  AD: 24, AT: 20, BE: 16, BG: 22, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18, EE: 20,
  ES: 24, FI: 18, FR: 27, GB: 22, GI: 23, GR: 27, HR: 21, HU: 28, IE: 22, IS: 26,
  IT: 27, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MT: 31, NL: 18, NO: 15, PL: 28,
  PT: 25, RO: 24, SE: 24, SI: 19, SK: 24, SM: 27, VA: 22,
};
const MIN_IBAN_LENGTH = 15;
const MAX_IBAN_LENGTH = 34;

// Italy and San Marino: CIN letter, ABI (5 digits), CAB (5 digits), 12-character account number.
const ITALIAN_BBAN = /^[A-Z][0-9]{10}[A-Z0-9]{12}$/;

/**
 * ISO 7064 MOD 97-10 of an alphanumeric string, letters counting A=10 … Z=35. Reduced character by
 * character because the numeric expansion of an IBAN is far beyond 2^53.
 */
export function mod97(alphanumeric: string): number {
  let remainder = 0;
  for (const char of alphanumeric) {
    const value = Number.parseInt(char, 36);
    if (Number.isNaN(value)) throw new RangeError(`not alphanumeric: ${char}`);
    remainder = value < 10 ? (remainder * 10 + value) % 97 : (remainder * 100 + value) % 97;
  }
  return remainder;
}

/**
 * Check digits 00, 01 and 99 are congruent to 97, 98 and 02, so they pass the mod 97 test, but ISO 13616
 * and ISO 11649 never produce them.
 */
export function isIssuableCheckDigits(checkDigits: string): boolean {
  const n = Number(checkDigits);
  return n >= 2 && n <= 98;
}

function invalid(reason: IbanInvalidReason, message: string, value: string): never {
  throw domainError('INVALID_IBAN', message, { reason, value });
}

export function normalizeIban(s: string): string {
  return s.replace(/ /g, '').toUpperCase();
}

export function parseIban(s: string): Iban {
  const iban = normalizeIban(s);
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]+$/.test(iban)) invalid('format', 'IBAN has a bad character or layout', s);
  const country = iban.slice(0, 2);
  const expectedLength = SEPA_IBAN_LENGTH[country];
  if (expectedLength !== undefined && iban.length !== expectedLength) {
    invalid('length', `IBAN for ${country} must be ${expectedLength} characters`, s);
  }
  if (iban.length < MIN_IBAN_LENGTH || iban.length > MAX_IBAN_LENGTH) {
    invalid('length', `IBAN must be ${MIN_IBAN_LENGTH}-${MAX_IBAN_LENGTH} characters`, s);
  }
  if ((country === 'IT' || country === 'SM') && !ITALIAN_BBAN.test(iban.slice(4))) {
    invalid('format', 'Italian BBAN must be CIN letter, ABI, CAB and 12-character account', s);
  }
  const checkDigits = iban.slice(2, 4);
  if (!isIssuableCheckDigits(checkDigits) || mod97(iban.slice(4) + iban.slice(0, 4)) !== 1) {
    invalid('check', 'IBAN check digits do not match', s);
  }
  return iban as Iban;
}

export function ibanCountry(iban: Iban): string {
  return iban.slice(0, 2);
}

/** True for a Poste Italiane postal account, the kind pagoPA asks for when transferType is POSTAL. */
export function isItalianPostalIban(iban: Iban): boolean {
  return ibanCountry(iban) === 'IT' && iban.slice(5, 10) === POSTE_ITALIANE_ABI;
}

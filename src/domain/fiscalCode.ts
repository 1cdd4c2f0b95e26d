// Italian codice fiscale: 16-character personal code with its check letter, or 11-digit numeric code of
// a body or company (the EC's identificativoDominio / fiscalCodePA). Spec: pagopa-facts §1; DM 23/12/1976.

import { domainError } from './errors.ts';

export type FiscalCodeKind = 'person' | 'legal';
export type FiscalCode<K extends FiscalCodeKind = FiscalCodeKind> = string & {
  readonly __brand: 'FiscalCode';
  readonly __kind: K;
};
/** The fiscal code of an Ente Creditore: always the 11-digit numeric kind. */
export type EnteFiscalCode = FiscalCode<'legal'>;

export type FiscalCodeInvalidReason = 'length' | 'format' | 'check';

const PERSON_LENGTH = 16;
const LEGAL_LENGTH = 11;

// Omocodia: when two people would get the same code, the Agenzia delle Entrate replaces digits with these
// letters (L=0 … V=9), so every digit position may hold one of them.
const OMOCODIA_LETTERS = 'LMNPQRSTUV';
const D = '[0-9LMNPQRSTUV]';
const PERSON_FORMAT = new RegExp(`^[A-Z]{6}${D}{2}[ABCDEHLMPRST]${D}{2}[A-Z]${D}{3}[A-Z]$`);
const LEGAL_FORMAT = /^[0-9]{11}$/;

// Values of A…Z in an odd (1st, 3rd, …) position for the check letter; digits 0-9 count as A-J.
// In an even position a character is worth its index (A or 0 = 0 … Z = 25).
const ODD_POSITION_VALUES: readonly number[] = [
  1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

function invalid(reason: FiscalCodeInvalidReason, message: string, value: string): never {
  throw domainError('INVALID_FISCAL_CODE', message, { reason, value });
}

function normalize(s: string): string {
  return s.trim().toUpperCase();
}

function characterIndex(char: string): number {
  const digit = '0123456789'.indexOf(char);
  return digit >= 0 ? digit : char.charCodeAt(0) - 65;
}

export function personCheckCharacter(first15: string): string {
  if (!/^[A-Z0-9]{15}$/.test(first15)) {
    invalid('format', 'check character needs 15 letters or digits', first15);
  }
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const index = characterIndex(first15.charAt(i));
    const isOddPosition = i % 2 === 0;
    sum += isOddPosition ? oddPositionValue(index) : index;
  }
  return String.fromCharCode(65 + (sum % 26));
}

function oddPositionValue(index: number): number {
  const value = ODD_POSITION_VALUES[index];
  if (value === undefined) throw new RangeError(`no odd-position value for index ${index}`);
  return value;
}

/** The Luhn-like check digit of an 11-digit code (partita IVA and bodies' codici fiscali). */
export function legalCheckDigit(first10: string): string {
  if (!/^[0-9]{10}$/.test(first10)) invalid('format', 'check digit needs 10 digits', first10);
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const digit = Number(first10.charAt(i));
    const isOddPosition = i % 2 === 0;
    const doubled = digit * 2;
    sum += isOddPosition ? digit : doubled > 9 ? doubled - 9 : doubled;
  }
  return String((10 - (sum % 10)) % 10);
}

function decodeOmocodia(twoChars: string): number {
  let out = '';
  for (const char of twoChars) {
    const letterIndex = OMOCODIA_LETTERS.indexOf(char);
    out += letterIndex >= 0 ? String(letterIndex) : char;
  }
  return Number(out);
}

function parsePerson(code: string, original: string): FiscalCode<'person'> {
  if (!PERSON_FORMAT.test(code)) {
    invalid('format', 'personal fiscal code has a bad character or layout', original);
  }
  // Women have 40 added to the day of birth.
  const day = decodeOmocodia(code.slice(9, 11));
  if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71))) {
    invalid('format', 'personal fiscal code has an impossible day of birth', original);
  }
  if (personCheckCharacter(code.slice(0, 15)) !== code.charAt(15)) {
    invalid('check', 'personal fiscal code check character does not match', original);
  }
  return code as FiscalCode<'person'>;
}

// The 11-digit kind also covers temporary codes given to persons; pagoPA calls it "G" (giuridica) anyway.
function parseLegal(code: string, original: string): FiscalCode<'legal'> {
  if (!LEGAL_FORMAT.test(code)) invalid('format', 'numeric fiscal code must be 11 digits', original);
  if (legalCheckDigit(code.slice(0, 10)) !== code.charAt(10)) {
    invalid('check', 'numeric fiscal code check digit does not match', original);
  }
  return code as FiscalCode<'legal'>;
}

/** Parses either kind; trims and uppercases first because debtors' codes are often typed by hand. */
export function parseFiscalCode(s: string): FiscalCode {
  const code = normalize(s);
  if (code.length === PERSON_LENGTH) return parsePerson(code, s);
  if (code.length === LEGAL_LENGTH) return parseLegal(code, s);
  return invalid('length', 'fiscal code must be 16 or 11 characters', s);
}

export function parseEnteFiscalCode(s: string): EnteFiscalCode {
  const code = normalize(s);
  if (code.length !== LEGAL_LENGTH) invalid('length', 'EC fiscal code must be 11 digits', s);
  return parseLegal(code, s);
}

export function fiscalCodeKind(code: FiscalCode): FiscalCodeKind {
  return code.length === PERSON_LENGTH ? 'person' : 'legal';
}

// IUV and 18-digit notice number (numero avviso) for aux digits 0-3: building, parsing and the mod 93
// check digit. Spec: SACI "codice avviso" layout, summarised in pagopa-facts §2.

import { domainError } from './errors.ts';

export type NoticeNumber = string & { readonly __brand: 'NoticeNumber' };
export type Iuv = string & { readonly __brand: 'Iuv' };
export type SegregationCode = string & { readonly __brand: 'SegregationCode' };
export type ApplicationCode = string & { readonly __brand: 'ApplicationCode' };

export type AuxDigit = 0 | 1 | 2 | 3;

export const NOTICE_NUMBER_LENGTH = 18;
/** pagoPA probes an EC station with this notice number; it must be answered as an unknown payment. */
export const PROBE_NOTICE_NUMBER = '000000000000000000';

export type NoticeNumberInput =
  | { readonly auxDigit: 0; readonly applicationCode: string; readonly base13: string }
  | { readonly auxDigit: 1; readonly base17: string }
  | { readonly auxDigit: 2; readonly base15: string }
  | { readonly auxDigit: 3; readonly segregationCode: string; readonly base13: string };

export interface BuiltNotice {
  readonly noticeNumber: NoticeNumber;
  readonly iuv: Iuv;
}

export type ParsedNoticeNumber =
  | (BuiltNotice & {
      readonly auxDigit: 0;
      readonly applicationCode: ApplicationCode;
      readonly segregationCode?: undefined;
    })
  | (BuiltNotice & {
      readonly auxDigit: 1 | 2;
      readonly applicationCode?: undefined;
      readonly segregationCode?: undefined;
    })
  | (BuiltNotice & {
      readonly auxDigit: 3;
      readonly segregationCode: SegregationCode;
      readonly applicationCode?: undefined;
    });

/**
 * What an EC's configuration says about how its IUVs are made. Loose on purpose (it usually comes from a
 * database row); the codes a given aux digit needs are checked at run time.
 */
export interface IuvContext {
  readonly auxDigit: number;
  readonly segregationCode?: string | null;
  readonly applicationCode?: string | null;
}

const DIGITS = /^[0-9]+$/;

function isDigits(s: string, length: number): boolean {
  return s.length === length && DIGITS.test(s);
}

/** The two check digits: the 16-digit prefix mod 93. Reduced digit by digit because 16 digits exceed 2^53. */
export function checkDigit(prefix16: string): string {
  if (!isDigits(prefix16, 16)) {
    throw domainError('INVALID_NOTICE_NUMBER', 'check digit prefix must be 16 digits', { value: prefix16 });
  }
  let remainder = 0;
  for (const char of prefix16) {
    remainder = (remainder * 10 + Number(char)) % 93;
  }
  return String(remainder).padStart(2, '0');
}

export function parseAuxDigit(value: number | string): AuxDigit {
  const n = typeof value === 'string' && /^[0-9]$/.test(value) ? Number(value) : value;
  if (n === 0 || n === 1 || n === 2 || n === 3) return n;
  throw domainError('INVALID_AUX_DIGIT', 'aux digit must be 0, 1, 2 or 3', { value });
}

export function parseSegregationCode(s: string): SegregationCode {
  if (!isDigits(s, 2)) {
    throw domainError('INVALID_SEGREGATION_CODE', 'segregation code must be 2 digits', {
      reason: 'format',
      value: s,
    });
  }
  return s as SegregationCode;
}

export function parseApplicationCode(s: string): ApplicationCode {
  if (!isDigits(s, 2)) {
    throw domainError('INVALID_APPLICATION_CODE', 'application code must be 2 digits', {
      reason: 'format',
      value: s,
    });
  }
  return s as ApplicationCode;
}

function requireBase(base: string, length: number, field: string): void {
  if (!isDigits(base, length)) {
    throw domainError('INVALID_IUV', `IUV base must be ${length} digits`, { field, value: base });
  }
}

function withCheckDigit(prefix16: string): BuiltNotice {
  const noticeNumber = prefix16 + checkDigit(prefix16);
  return toBuiltNotice(noticeNumber);
}

// aux 0 is the only layout whose IUV does not start right after the aux digit: the application code sits between.
function toBuiltNotice(noticeNumber: string): BuiltNotice {
  const iuvStart = noticeNumber.startsWith('0') ? 3 : 1;
  return { noticeNumber: noticeNumber as NoticeNumber, iuv: noticeNumber.slice(iuvStart) as Iuv };
}

export function buildNoticeNumber(input: NoticeNumberInput): BuiltNotice {
  switch (input.auxDigit) {
    case 0: {
      const applicationCode = parseApplicationCode(input.applicationCode);
      requireBase(input.base13, 13, 'base13');
      return withCheckDigit('0' + applicationCode + input.base13);
    }
    case 1:
      requireBase(input.base17, 17, 'base17');
      return toBuiltNotice('1' + input.base17);
    case 2:
      requireBase(input.base15, 15, 'base15');
      return withCheckDigit('2' + input.base15);
    case 3: {
      const segregationCode = parseSegregationCode(input.segregationCode);
      requireBase(input.base13, 13, 'base13');
      return withCheckDigit('3' + segregationCode + input.base13);
    }
    default:
      return assertNeverAux(input);
  }
}

function assertNeverAux(input: never): never {
  throw domainError('INVALID_AUX_DIGIT', 'aux digit must be 0, 1, 2 or 3', {
    value: (input as { auxDigit?: unknown }).auxDigit,
  });
}

const BASE_LENGTH: Readonly<Record<AuxDigit, number>> = { 0: 13, 1: 17, 2: 15, 3: 13 };

/**
 * Builds the notice for the n-th value of an EC's IUV sequence, zero-padding the base. The data layer owns
 * the sequence; running past the base's width is IUV_EXHAUSTED because no IUV may ever be reused.
 */
export function buildNoticeNumberFromSequence(ctx: IuvContext, n: bigint | number): BuiltNotice {
  const auxDigit = parseAuxDigit(ctx.auxDigit);
  const value = sequenceValue(n);
  const width = BASE_LENGTH[auxDigit];
  if (value > 10n ** BigInt(width) - 1n) {
    throw domainError('IUV_EXHAUSTED', `sequence value does not fit ${width} digits`, {
      auxDigit,
      value: value.toString(),
    });
  }
  const base = value.toString().padStart(width, '0');
  switch (auxDigit) {
    case 0:
      return buildNoticeNumber({ auxDigit, applicationCode: requireApplicationCode(ctx), base13: base });
    case 1:
      return buildNoticeNumber({ auxDigit, base17: base });
    case 2:
      return buildNoticeNumber({ auxDigit, base15: base });
    case 3:
      return buildNoticeNumber({ auxDigit, segregationCode: requireSegregationCode(ctx), base13: base });
  }
}

export function buildAux3FromSequence(segregationCode: string, n: bigint | number): BuiltNotice {
  return buildNoticeNumberFromSequence({ auxDigit: 3, segregationCode }, n);
}

function sequenceValue(n: bigint | number): bigint {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) {
    throw domainError('INVALID_IUV', 'sequence value must be a safe integer', { value: n });
  }
  const value = BigInt(n);
  if (value < 0n) {
    throw domainError('INVALID_IUV', 'sequence value must not be negative', { value: value.toString() });
  }
  return value;
}

function requireSegregationCode(ctx: IuvContext): SegregationCode {
  if (ctx.segregationCode == null) {
    throw domainError('INVALID_SEGREGATION_CODE', 'aux digit 3 needs a segregation code', {
      reason: 'missing',
    });
  }
  return parseSegregationCode(ctx.segregationCode);
}

function requireApplicationCode(ctx: IuvContext): ApplicationCode {
  if (ctx.applicationCode == null) {
    throw domainError('INVALID_APPLICATION_CODE', 'aux digit 0 needs an application code', {
      reason: 'missing',
    });
  }
  return parseApplicationCode(ctx.applicationCode);
}

function verifyCheckDigit(noticeNumber: string): void {
  const expected = checkDigit(noticeNumber.slice(0, 16));
  const actual = noticeNumber.slice(16);
  if (actual !== expected) {
    throw domainError('INVALID_CHECK_DIGIT', 'notice number check digit does not match', {
      value: noticeNumber,
      expected,
      actual,
    });
  }
}

export function parseNoticeNumber(s: string): ParsedNoticeNumber {
  if (!isDigits(s, NOTICE_NUMBER_LENGTH)) {
    throw domainError('INVALID_NOTICE_NUMBER', 'notice number must be 18 digits', { value: s });
  }
  const auxDigit = parseAuxDigit(s.slice(0, 1));
  const { noticeNumber, iuv } = toBuiltNotice(s);
  switch (auxDigit) {
    case 0:
      verifyCheckDigit(s);
      return { noticeNumber, iuv, auxDigit, applicationCode: s.slice(1, 3) as ApplicationCode };
    case 1:
      return { noticeNumber, iuv, auxDigit };
    case 2:
      verifyCheckDigit(s);
      return { noticeNumber, iuv, auxDigit };
    case 3:
      verifyCheckDigit(s);
      return { noticeNumber, iuv, auxDigit, segregationCode: s.slice(1, 3) as SegregationCode };
  }
}

/**
 * Validates an IUV as it travels without its notice number (creditorReferenceId, legacy RPT/RT), against the
 * EC's layout. The check digit of an aux 0 IUV covers the application code, which the IUV does not carry.
 */
export function parseIuv(s: string, ctx: IuvContext): Iuv {
  // An IUV is valid exactly when the notice number it maps to is.
  noticeNumberFromIuv(s, ctx);
  return s as Iuv;
}

/** The inverse of `parseNoticeNumber(...).iuv`: puts back the aux digit and, for aux 0, the application code. */
export function noticeNumberFromIuv(iuv: string, ctx: IuvContext): NoticeNumber {
  const auxDigit = parseAuxDigit(ctx.auxDigit);
  const length = auxDigit === 0 ? 15 : 17;
  if (!isDigits(iuv, length)) {
    throw domainError('INVALID_IUV', `IUV for aux digit ${auxDigit} must be ${length} digits`, {
      value: iuv,
    });
  }
  if (auxDigit === 0) {
    return toNoticeNumber('0' + requireApplicationCode(ctx) + iuv);
  }
  if (auxDigit === 3 && ctx.segregationCode != null) {
    const segregationCode = parseSegregationCode(ctx.segregationCode);
    if (!iuv.startsWith(segregationCode)) {
      throw domainError('INVALID_SEGREGATION_CODE', 'IUV belongs to another segregation code', {
        reason: 'mismatch',
        expected: segregationCode,
        actual: iuv.slice(0, 2),
      });
    }
  }
  return toNoticeNumber(String(auxDigit) + iuv);
}

function toNoticeNumber(candidate: string): NoticeNumber {
  return parseNoticeNumber(candidate).noticeNumber;
}

export function isProbeNoticeNumber(s: string): boolean {
  return s === PROBE_NOTICE_NUMBER;
}

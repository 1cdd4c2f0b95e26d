// The debt position model (posizione debitoria): an ente's claim on a debtor, offered as one or more
// payment options (a single payment and/or installments), each split into 1–5 transfers to
// beneficiaries (pagoPA transferList, facts §5). Drafts come from any channel (SOAP, files, portal)
// and become a DebtPosition only through validateDebtPosition.

import { domainError } from './errors.ts';
import { parseFiscalCode, parseEnteFiscalCode, type FiscalCode } from './fiscalCode.ts';
import { parseIban, isItalianPostalIban, type Iban } from './iban.ts';
import { parseAmountCents, sumCents, type AmountCents } from './money.ts';

export const MAX_TRANSFERS = 5;
export const MAX_OPTIONS = 100;
/** pagoPA amounts are stAmount: up to 999 999 999.99 euro. */
export const MAX_AMOUNT_CENTS = 99_999_999_999;
/** Debtor fiscal code pagoPA accepts for anonymous payers (e.g. a fine paid by the vehicle's owner). */
export const ANONYMOUS_DEBTOR = 'ANONIMO';

export type DebtorType = 'F' | 'G';

export interface DebtorDraft {
  type: string;
  fiscalCode: string;
  fullName: string;
  email?: string | undefined;
  streetName?: string | undefined;
  civicNumber?: string | undefined;
  postalCode?: string | undefined;
  city?: string | undefined;
  stateProvinceRegion?: string | undefined;
  country?: string | undefined;
}

export interface TransferDraft {
  /** Beneficiary ente; omitted means the position's own ente. */
  enteFiscalCode?: string | undefined;
  amountCents: number | string;
  iban: string;
  /** Taxonomy code (datiSpecificiRiscossione / transferCategory), e.g. `9/0101108TS/`. */
  category: string;
  remittanceInformation?: string | undefined;
}

export interface PaymentOptionDraft {
  /** 0 for the single payment, 1..n for installments. */
  installment: number;
  amountCents: number | string;
  dueDate: string;
  description?: string | undefined;
  transfers: TransferDraft[];
}

export interface DebtPositionDraft {
  /** The gestionale's own id, unique within the ente. */
  positionId: string;
  description: string;
  debtor?: DebtorDraft | undefined;
  validityDate?: string | undefined;
  options: PaymentOptionDraft[];
}

export interface Debtor {
  type: DebtorType;
  fiscalCode: FiscalCode | typeof ANONYMOUS_DEBTOR;
  fullName: string;
  email?: string | undefined;
  streetName?: string | undefined;
  civicNumber?: string | undefined;
  postalCode?: string | undefined;
  city?: string | undefined;
  stateProvinceRegion?: string | undefined;
  country?: string | undefined;
}

export interface Transfer {
  index: number; // 1-based, the idTransfer pagoPA echoes in receipts and flows
  enteFiscalCode: string;
  amountCents: AmountCents;
  iban: Iban;
  postal: boolean;
  category: string;
  remittanceInformation: string;
}

export interface PaymentOption {
  installment: number;
  amountCents: AmountCents;
  dueDate: string;
  description: string;
  transfers: Transfer[];
}

export interface DebtPosition {
  positionId: string;
  description: string;
  debtor: Debtor | null;
  validityDate: string | null;
  options: PaymentOption[];
}

export interface ValidateOptions {
  /** Fiscal code of the ente that owns the position: the first transfer must be its own. */
  enteFiscalCode: string;
  /** A reserved multe notice has no debtor until it is activated. */
  debtorOptional?: boolean;
}

const POSITION_ID = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$/;
const CATEGORY = /^[0129]\/\S{3,138}$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// pagoPA's stEmail pattern (every e-mail we send it must pass), with a top-level domain: the
// former `[^\s@]` pattern let `<script>…</script>@example.org` in, and paGetPayment's answer broke.
const EMAIL = /^[a-zA-Z0-9_.+-]{1,64}@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*\.[a-zA-Z0-9-]{2,}$/;

function invalid(
  field: string,
  message: string,
  code: 'INVALID_POSITION' | 'INVALID_TRANSFER' = 'INVALID_POSITION',
) {
  return domainError(code, message, { field });
}

/** Text fields pagoPA carries as stText140 and the like: trimmed, no control characters, bounded. */
function text(value: unknown, field: string, max: number, required: boolean): string {
  if (value === undefined || value === null || value === '') {
    if (required) throw invalid(field, `${field} is required`);
    return '';
  }
  if (typeof value !== 'string') throw invalid(field, `${field} must be text`);
  const trimmed = value.trim();
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw invalid(field, `${field} contains control characters`);
  if (required && trimmed.length === 0) throw invalid(field, `${field} is required`);
  if (trimmed.length > max) throw invalid(field, `${field} is longer than ${max} characters`);
  return trimmed;
}

export function parseIsoDate(value: string, field = 'date'): string {
  const m = ISO_DATE.exec(value);
  if (!m) throw domainError('INVALID_DATE', `${field} must be YYYY-MM-DD`, { field });
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    throw domainError('INVALID_DATE', `${field} is not a calendar date`, { field });
  }
  return value;
}

function amount(value: number | string, field: string): AmountCents {
  const cents = parseAmountCents(value);
  if (cents === 0) throw domainError('INVALID_AMOUNT', `${field} must be greater than zero`, { field });
  if (cents > MAX_AMOUNT_CENTS)
    throw domainError('INVALID_AMOUNT', `${field} exceeds the pagoPA maximum`, { field });
  return cents;
}

function validateDebtor(draft: DebtorDraft): Debtor {
  if (draft.type !== 'F' && draft.type !== 'G') throw invalid('debtor.type', 'debtor.type must be F or G');
  const raw = text(draft.fiscalCode, 'debtor.fiscalCode', 35, true).toUpperCase();
  const fiscalCode = raw === ANONYMOUS_DEBTOR ? ANONYMOUS_DEBTOR : parseFiscalCode(raw);
  const email = text(draft.email, 'debtor.email', 256, false);
  if (email && !EMAIL.test(email)) throw invalid('debtor.email', 'debtor.email is not an e-mail address');
  return {
    type: draft.type,
    fiscalCode,
    fullName: text(draft.fullName, 'debtor.fullName', 70, true),
    email: email || undefined,
    streetName: text(draft.streetName, 'debtor.streetName', 70, false) || undefined,
    civicNumber: text(draft.civicNumber, 'debtor.civicNumber', 16, false) || undefined,
    postalCode: text(draft.postalCode, 'debtor.postalCode', 16, false) || undefined,
    city: text(draft.city, 'debtor.city', 35, false) || undefined,
    stateProvinceRegion:
      text(draft.stateProvinceRegion, 'debtor.stateProvinceRegion', 35, false) || undefined,
    country: text(draft.country, 'debtor.country', 2, false).toUpperCase() || undefined,
  };
}

function validateTransfer(
  draft: TransferDraft,
  index: number,
  path: string,
  ente: string,
  description: string,
): Transfer {
  const field = (name: string) => `${path}.transfers[${index - 1}].${name}`;
  const beneficiary = draft.enteFiscalCode ? parseEnteFiscalCode(draft.enteFiscalCode) : ente;
  if (index === 1 && beneficiary !== ente) {
    throw invalid(
      field('enteFiscalCode'),
      'the first transfer must credit the ente that owns the position',
      'INVALID_TRANSFER',
    );
  }
  const iban = parseIban(draft.iban);
  if (!CATEGORY.test(draft.category ?? '')) {
    throw invalid(
      field('category'),
      'category must be a taxonomy code like 9/0101108TS/',
      'INVALID_TRANSFER',
    );
  }
  return {
    index,
    enteFiscalCode: beneficiary,
    amountCents: amount(draft.amountCents, field('amountCents')),
    iban,
    postal: isItalianPostalIban(iban),
    category: draft.category,
    remittanceInformation:
      text(draft.remittanceInformation, field('remittanceInformation'), 140, false) || description,
  };
}

function validateOption(
  draft: PaymentOptionDraft,
  i: number,
  ente: string,
  positionDescription: string,
): PaymentOption {
  const path = `options[${i}]`;
  if (!Number.isInteger(draft.installment) || draft.installment < 0 || draft.installment > MAX_OPTIONS) {
    throw invalid(`${path}.installment`, 'installment must be 0 (single payment) or 1..100');
  }
  const amountCents = amount(draft.amountCents, `${path}.amountCents`);
  const dueDate = parseIsoDate(draft.dueDate, `${path}.dueDate`);
  const description = text(draft.description, `${path}.description`, 140, false) || positionDescription;
  const transfers = draft.transfers ?? [];
  if (transfers.length < 1 || transfers.length > MAX_TRANSFERS) {
    throw invalid(`${path}.transfers`, `an option has 1 to ${MAX_TRANSFERS} transfers`, 'INVALID_TRANSFER');
  }
  const validated = transfers.map((t, k) => validateTransfer(t, k + 1, path, ente, description));
  const beneficiaries = validated.map((t) => `${t.enteFiscalCode}|${t.iban}`);
  if (new Set(beneficiaries).size !== beneficiaries.length) {
    throw invalid(
      `${path}.transfers`,
      'two transfers credit the same account of the same ente',
      'INVALID_TRANSFER',
    );
  }
  if (sumCents(validated.map((t) => t.amountCents)) !== amountCents) {
    throw invalid(
      `${path}.transfers`,
      'the transfers do not add up to the option amount',
      'INVALID_TRANSFER',
    );
  }
  return { installment: draft.installment, amountCents, dueDate, description, transfers: validated };
}

/** Checks a draft from any channel and returns the position in domain types, or throws the first error. */
export function validateDebtPosition(draft: DebtPositionDraft, opts: ValidateOptions): DebtPosition {
  const ente = parseEnteFiscalCode(opts.enteFiscalCode);
  if (typeof draft.positionId !== 'string' || !POSITION_ID.test(draft.positionId)) {
    throw invalid('positionId', 'positionId must be 1-64 letters, digits or . _ - /');
  }
  const description = text(draft.description, 'description', 140, true);
  if (!draft.debtor && !opts.debtorOptional) throw invalid('debtor', 'debtor is required');
  const debtor = draft.debtor ? validateDebtor(draft.debtor) : null;
  const validityDate = draft.validityDate ? parseIsoDate(draft.validityDate, 'validityDate') : null;
  const drafts = draft.options ?? [];
  if (drafts.length < 1 || drafts.length > MAX_OPTIONS) {
    throw invalid('options', `a position has 1 to ${MAX_OPTIONS} payment options`);
  }
  const options = drafts.map((o, i) => validateOption(o, i, ente, description));
  const numbers = options.map((o) => o.installment);
  if (new Set(numbers).size !== numbers.length)
    throw invalid('options', 'two options have the same installment number');
  const installments = numbers.filter((n) => n > 0).sort((a, b) => a - b);
  if (installments.some((n, k) => n !== k + 1))
    throw invalid('options', 'installments are numbered 1..n without gaps');
  if (installments.length === 1)
    throw invalid('options', 'an installment plan has at least two installments');
  return { positionId: draft.positionId, description, debtor, validityDate, options };
}

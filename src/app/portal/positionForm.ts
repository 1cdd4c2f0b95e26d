// The portal's position form (issue 8 item 3): flat form fields (opt0_tr1_iban…) → a domain draft,
// with Italian errors per field. The form checks what only it knows (which blocks are filled, euro
// amounts typed with a comma, defaults for the ente's own beneficiary) and parses fiscal codes and
// IBANs itself, so several mistakes are shown at once; every other rule is the domain's, whose
// errors (paths like position.option[0].transfer[1].iban) are mapped back to the fields here.

import { randomInt } from 'node:crypto';
import { isDomainError, type DomainError } from '../../domain/errors.ts';
import { parseEnteFiscalCode, parseFiscalCode } from '../../domain/fiscalCode.ts';
import { parseIban } from '../../domain/iban.ts';
import { parseDecimalAmount } from '../../domain/money.ts';
import {
  ANONYMOUS_DEBTOR,
  MAX_TRANSFERS,
  parseIsoDate,
  type DebtPositionDraft,
  type DebtorDraft,
  type PaymentOptionDraft,
  type TransferDraft,
} from '../../domain/position.ts';
import type { StoredPosition } from '../../db/repositories/positions.ts';

/** Installment blocks the form can show (block 0 is the single payment). */
export const MAX_INSTALLMENT_BLOCKS = 12;
/** Installment blocks a new form shows when the user asks for no other number. */
export const DEFAULT_INSTALLMENT_BLOCKS = 3;
export const MAX_BENEFICIARIES = MAX_TRANSFERS;

export type PlanKind = 'single' | 'installments' | 'both';
export const PLAN_KINDS: readonly PlanKind[] = ['single', 'installments', 'both'];

/** The form's values by field name, as typed: kept to show the form again after an error. */
export type PositionFormValues = Record<string, string>;

export interface FieldError {
  /** The form field (its id and name), or '' for an error of the whole form. */
  field: string;
  message: string;
}

/** What the ente's own beneficiary gets when its fields are left blank. */
export interface FormDefaults {
  iban: string | null;
  category: string;
}

export interface ParsedPositionForm {
  draft: DebtPositionDraft;
  /** The block (0 single payment, 1..12 installments) of each draft option, in draft order. */
  optionBlocks: number[];
}

export type PositionFormResult = { ok: true; form: ParsedPositionForm } | { ok: false; errors: FieldError[] };

export const DEBTOR_FIELDS = {
  debtorType: 'type',
  debtorFiscalCode: 'fiscalCode',
  debtorFullName: 'fullName',
  debtorEmail: 'email',
  debtorStreetName: 'streetName',
  debtorCivicNumber: 'civicNumber',
  debtorPostalCode: 'postalCode',
  debtorCity: 'city',
  debtorProvince: 'stateProvinceRegion',
  debtorCountry: 'country',
} as const satisfies Record<string, keyof DebtorDraft>;

const HEADER_FIELDS = [
  'positionId',
  'generatedId',
  'description',
  'validityDate',
  'plan',
  'blocks',
  ...Object.keys(DEBTOR_FIELDS),
];
const OPTION_FIELDS = ['amount', 'dueDate', 'description'] as const;
const TRANSFER_FIELDS = ['enteFiscalCode', 'iban', 'amount', 'category', 'remittance'] as const;
export type TransferField = (typeof TRANSFER_FIELDS)[number];
/** Form values longer than this are cut: no field of a position is anywhere near it. */
const MAX_VALUE_LENGTH = 300;

export function optionField(block: number, name: (typeof OPTION_FIELDS)[number] | 'transfers'): string {
  return `opt${block}_${name}`;
}

export function transferField(block: number, beneficiary: number, name: TransferField): string {
  return `opt${block}_tr${beneficiary}_${name}`;
}

/** Every field name the form has, for `blocks` installment blocks. */
export function formFieldNames(): string[] {
  const names = [...HEADER_FIELDS];
  for (let block = 0; block <= MAX_INSTALLMENT_BLOCKS; block++) {
    for (const name of OPTION_FIELDS) names.push(optionField(block, name));
    for (let k = 1; k <= MAX_BENEFICIARIES; k++)
      for (const name of TRANSFER_FIELDS) names.push(transferField(block, k, name));
  }
  return names;
}

/** The form's fields out of a parsed urlencoded body: trimmed text, nothing else. */
export function readPositionForm(body: Record<string, unknown>): PositionFormValues {
  const values: PositionFormValues = {};
  for (const name of formFieldNames()) {
    const value = body[name];
    if (typeof value === 'string' && value.trim() !== '')
      values[name] = value.trim().slice(0, MAX_VALUE_LENGTH);
  }
  return values;
}

const v = (values: PositionFormValues, name: string): string => values[name] ?? '';

function isPlan(value: string): value is PlanKind {
  return (PLAN_KINDS as readonly string[]).includes(value);
}

export function planOf(values: PositionFormValues): PlanKind {
  const plan = v(values, 'plan');
  return isPlan(plan) ? plan : 'single';
}

/** A block the user typed something into (the ente's default IBAN and category do not count). */
function blockFilled(values: PositionFormValues, block: number): boolean {
  if (OPTION_FIELDS.some((name) => v(values, optionField(block, name)))) return true;
  for (let k = 2; k <= MAX_BENEFICIARIES; k++)
    if (TRANSFER_FIELDS.some((name) => v(values, transferField(block, k, name)))) return true;
  return false;
}

function beneficiaryFilled(values: PositionFormValues, block: number, k: number): boolean {
  return TRANSFER_FIELDS.some((name) => v(values, transferField(block, k, name)));
}

/** The highest installment block holding a value (0 when none). */
export function lastFilledBlock(values: PositionFormValues): number {
  for (let block = MAX_INSTALLMENT_BLOCKS; block >= 1; block--) if (blockFilled(values, block)) return block;
  return 0;
}

/** How many installment blocks to show: what the user asked for, and never fewer than are filled. */
export function installmentBlocksToShow(values: PositionFormValues, requested = ''): number {
  const asked = Number.parseInt(requested || v(values, 'blocks'), 10);
  const wanted = Number.isInteger(asked) ? asked : DEFAULT_INSTALLMENT_BLOCKS;
  return Math.min(MAX_INSTALLMENT_BLOCKS, Math.max(2, wanted, lastFilledBlock(values)));
}

/**
 * Euro as operators type them → cents: `120,50`, `120.50`, `1.234,56`, `1234`, `€ 10`. A dot
 * followed by groups of three digits is a thousands separator. More than two decimals is refused.
 */
export function parseEuroAmount(text: string): number {
  let s = text.replace(/[\s€]/g, '');
  if (/^\d{1,3}(\.\d{3})+(,\d{1,2})?$/.test(s)) s = s.replace(/\./g, '');
  else if (s.includes(',') && s.includes('.')) s = s.replace(/\./g, '');
  return parseDecimalAmount(s.replace(',', '.'));
}

/** Cents → how the form shows them again: 12050 → `120,50` (no thousands separator). */
export function formatEuroInput(cents: number): string {
  const digits = String(cents).padStart(3, '0');
  return `${digits.slice(0, -2)},${digits.slice(-2)}`;
}

/** A date from `<input type="date">` (YYYY-MM-DD) or typed as dd/mm/yyyy, as ISO YYYY-MM-DD. */
export function parseFormDate(text: string): string {
  const italian = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text);
  const iso = italian
    ? `${italian[3]}-${(italian[2] ?? '').padStart(2, '0')}-${(italian[1] ?? '').padStart(2, '0')}`
    : text;
  return parseIsoDate(iso);
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const GENERATED_ID = /^PORTALE-\d{8}-[A-Z0-9]{8}$/;

/** `PORTALE-<yyyymmdd>-<8 random A-Z0-9>`, the day as in Italy. */
export function generatePositionId(now: Date = new Date()): string {
  const day = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Rome',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  })
    .format(now)
    .replace(/-/g, '');
  let suffix = '';
  for (let i = 0; i < 8; i++) suffix += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return `PORTALE-${day}-${suffix}`;
}

/** Collects the form's own errors while a draft is built. */
class Collector {
  readonly errors: FieldError[] = [];

  add(field: string, message: string): void {
    if (!this.errors.some((e) => e.field === field)) this.errors.push({ field, message });
  }

  /** The parsed value, or undefined after recording `message` for `field`. */
  parse<T>(field: string, message: string, parse: () => T): T | undefined {
    try {
      return parse();
    } catch (err) {
      if (!isDomainError(err)) throw err;
      this.add(field, message);
      return undefined;
    }
  }
}

const MSG = {
  amount: 'Importo non valido: scrivi cifre con al massimo due decimali, ad esempio 120,50.',
  amountRequired: "Indica l'importo.",
  amountZero: "L'importo deve essere maggiore di zero.",
  date: 'Data non valida: usa il formato gg/mm/aaaa.',
  dateRequired: 'Indica la data di scadenza.',
  iban: 'IBAN non valido: controlla di averlo copiato per intero (27 caratteri per un conto italiano).',
  ibanRequired: "Indica l'IBAN: né il servizio né l'ente ne hanno uno predefinito.",
  beneficiary: "Codice fiscale dell'ente beneficiario non valido (11 cifre).",
  beneficiaryRequired: "Indica il codice fiscale dell'ente beneficiario.",
  category: 'Indica il codice tassonomico, ad esempio 9/0101108TS/.',
  debtorFiscalCode: 'Codice fiscale o partita IVA del debitore non validi.',
  debtorFiscalCodeRequired: 'Indica il codice fiscale o la partita IVA del debitore.',
  debtorFullName: 'Indica nome e cognome o la ragione sociale del debitore.',
  debtorType: 'Scegli se il debitore è una persona fisica o giuridica.',
  description: 'Indica la descrizione (causale) della posizione.',
  plan: 'Scegli il tipo di pagamento: unico, rateale o entrambi.',
  installments: 'Un piano rateale ha almeno due rate: compila almeno due blocchi di rata.',
  remainder:
    "Gli importi degli altri beneficiari raggiungono o superano l'importo: indica la quota dell'ente o correggi gli importi.",
} as const;

function amountOf(c: Collector, field: string, text: string, required: string): number | undefined {
  if (!text) return void c.add(field, required);
  const cents = c.parse(field, MSG.amount, () => parseEuroAmount(text));
  if (cents === 0) return void c.add(field, MSG.amountZero);
  return cents;
}

function transfersOf(
  c: Collector,
  values: PositionFormValues,
  block: number,
  optionCents: number | undefined,
  defaults: FormDefaults,
): TransferDraft[] {
  const others: TransferDraft[] = [];
  for (let k = 2; k <= MAX_BENEFICIARIES; k++) {
    if (!beneficiaryFilled(values, block, k)) continue;
    const f = (name: TransferField) => transferField(block, k, name);
    const fiscal = v(values, f('enteFiscalCode'));
    if (!fiscal) c.add(f('enteFiscalCode'), MSG.beneficiaryRequired);
    else c.parse(f('enteFiscalCode'), MSG.beneficiary, () => parseEnteFiscalCode(fiscal));
    const iban = v(values, f('iban'));
    if (!iban) c.add(f('iban'), "Indica l'IBAN del beneficiario.");
    else c.parse(f('iban'), MSG.iban, () => parseIban(iban));
    const cents = amountOf(c, f('amount'), v(values, f('amount')), "Indica l'importo del beneficiario.");
    if (!v(values, f('category'))) c.add(f('category'), MSG.category);
    others.push({
      enteFiscalCode: fiscal,
      iban,
      amountCents: cents ?? 0,
      category: v(values, f('category')),
      remittanceInformation: v(values, f('remittance')) || undefined,
    });
  }
  const f = (name: TransferField) => transferField(block, 1, name);
  const iban = v(values, f('iban')) || defaults.iban || '';
  if (!iban) c.add(f('iban'), MSG.ibanRequired);
  else c.parse(f('iban'), MSG.iban, () => parseIban(iban));
  const typed = v(values, f('amount'));
  let own: number | undefined;
  if (typed) own = amountOf(c, f('amount'), typed, MSG.amountRequired);
  else if (optionCents !== undefined) {
    // Left blank: the ente takes what the other beneficiaries do not.
    own = optionCents - others.reduce((sum, t) => sum + Number(t.amountCents), 0);
    if (own <= 0) c.add(f('amount'), MSG.remainder);
  }
  const first: TransferDraft = {
    iban,
    amountCents: own ?? 0,
    category: v(values, f('category')) || defaults.category,
    remittanceInformation: v(values, f('remittance')) || undefined,
  };
  return [first, ...others];
}

function optionOf(
  c: Collector,
  values: PositionFormValues,
  block: number,
  installment: number,
  defaults: FormDefaults,
): PaymentOptionDraft {
  const amountField = optionField(block, 'amount');
  const cents = amountOf(c, amountField, v(values, amountField), MSG.amountRequired);
  const dateField = optionField(block, 'dueDate');
  const dateText = v(values, dateField);
  const dueDate = dateText ? c.parse(dateField, MSG.date, () => parseFormDate(dateText)) : undefined;
  if (!dateText) c.add(dateField, MSG.dateRequired);
  return {
    installment,
    amountCents: cents ?? 0,
    dueDate: dueDate ?? '',
    description: v(values, optionField(block, 'description')) || undefined,
    transfers: transfersOf(c, values, block, cents, defaults),
  };
}

function debtorOf(c: Collector, values: PositionFormValues): DebtorDraft {
  const type = v(values, 'debtorType') || 'F';
  if (type !== 'F' && type !== 'G') c.add('debtorType', MSG.debtorType);
  const fiscalCode = v(values, 'debtorFiscalCode').toUpperCase();
  if (!fiscalCode) c.add('debtorFiscalCode', MSG.debtorFiscalCodeRequired);
  else if (fiscalCode !== ANONYMOUS_DEBTOR)
    c.parse('debtorFiscalCode', MSG.debtorFiscalCode, () => parseFiscalCode(fiscalCode));
  if (!v(values, 'debtorFullName')) c.add('debtorFullName', MSG.debtorFullName);
  const optional = (name: string) => v(values, name) || undefined;
  return {
    type,
    fiscalCode,
    fullName: v(values, 'debtorFullName'),
    email: optional('debtorEmail'),
    streetName: optional('debtorStreetName'),
    civicNumber: optional('debtorCivicNumber'),
    postalCode: optional('debtorPostalCode'),
    city: optional('debtorCity'),
    stateProvinceRegion: optional('debtorProvince'),
    country: optional('debtorCountry')?.toUpperCase(),
  };
}

export interface ParseOptions {
  defaults: FormDefaults;
  /** A new position without a typed id gets a generated one; an edit keeps its own. */
  positionId?: string;
}

/**
 * The draft the form describes, or the form's own errors. Blank installment blocks are ignored and
 * the filled ones numbered 1..n in order, so a plan without gaps comes out of any filling.
 */
export function parsePositionForm(values: PositionFormValues, opts: ParseOptions): PositionFormResult {
  const c = new Collector();
  const plan = v(values, 'plan') || 'single';
  if (!isPlan(plan)) c.add('plan', MSG.plan);
  // The form carries the id it would generate, so a double submit of a blank id is one position.
  const generated = v(values, 'generatedId');
  const positionId =
    opts.positionId ??
    (v(values, 'positionId') || (GENERATED_ID.test(generated) ? generated : generatePositionId()));
  if (!v(values, 'description')) c.add('description', MSG.description);
  const debtor = debtorOf(c, values);
  const validityText = v(values, 'validityDate');
  const validityDate = validityText
    ? c.parse('validityDate', MSG.date, () => parseFormDate(validityText))
    : undefined;
  const options: PaymentOptionDraft[] = [];
  const optionBlocks: number[] = [];
  if (plan === 'single' || plan === 'both') {
    options.push(optionOf(c, values, 0, 0, opts.defaults));
    optionBlocks.push(0);
  }
  if (plan === 'installments' || plan === 'both') {
    const filled: number[] = [];
    for (let block = 1; block <= MAX_INSTALLMENT_BLOCKS; block++)
      if (blockFilled(values, block)) filled.push(block);
    if (filled.length < 2) c.add('plan', MSG.installments);
    filled.forEach((block, i) => {
      options.push(optionOf(c, values, block, i + 1, opts.defaults));
      optionBlocks.push(block);
    });
  }
  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  const draft: DebtPositionDraft = {
    positionId,
    description: v(values, 'description'),
    debtor,
    validityDate,
    options,
  };
  return { ok: true, form: { draft, optionBlocks } };
}

/** The form filled with a stored position, to edit it: block n holds installment n. */
export function valuesFromPosition(position: StoredPosition): PositionFormValues {
  const values: PositionFormValues = {
    positionId: position.positionId,
    description: position.description,
  };
  if (position.validityDate) values.validityDate = position.validityDate;
  const debtor = position.debtor;
  if (debtor) {
    for (const [field, key] of Object.entries(DEBTOR_FIELDS)) {
      const value = debtor[key];
      if (value) values[field] = value;
    }
  }
  const hasSingle = position.options.some((o) => o.installment === 0);
  const installments = position.options.filter((o) => o.installment > 0);
  values.plan = installments.length === 0 ? 'single' : hasSingle ? 'both' : 'installments';
  values.blocks = String(Math.max(DEFAULT_INSTALLMENT_BLOCKS, ...installments.map((o) => o.installment)));
  for (const option of position.options) {
    const block = option.installment;
    if (block > MAX_INSTALLMENT_BLOCKS) continue;
    values[optionField(block, 'amount')] = formatEuroInput(option.amountCents);
    values[optionField(block, 'dueDate')] = option.dueDate;
    if (option.description && option.description !== position.description)
      values[optionField(block, 'description')] = option.description;
    const transfers = [...option.transfers].sort((a, b) => a.index - b.index);
    for (const t of transfers) {
      const f = (name: TransferField) => transferField(block, t.index, name);
      if (t.index > 1) values[f('enteFiscalCode')] = t.enteFiscalCode;
      values[f('iban')] = t.iban;
      values[f('category')] = t.category;
      if (transfers.length > 1) values[f('amount')] = formatEuroInput(t.amountCents);
      if (t.remittanceInformation && t.remittanceInformation !== option.description)
        values[f('remittance')] = t.remittanceInformation;
    }
  }
  return values;
}

/** Why a stored position cannot be shown in the form without losing options (installment > 12). */
export function fitsTheForm(position: StoredPosition): boolean {
  return position.options.every((o) => o.installment <= MAX_INSTALLMENT_BLOCKS);
}

const TRANSFER_KEYS: Record<string, TransferField> = {
  enteFiscalCode: 'enteFiscalCode',
  iban: 'iban',
  amountCents: 'amount',
  category: 'category',
  remittanceInformation: 'remittance',
};

const DEBTOR_KEYS: Record<string, string> = Object.fromEntries(
  Object.entries(DEBTOR_FIELDS).map(([field, key]) => [key, field]),
);

const FIELD_MESSAGES: Record<string, string> = {
  positionId: 'Identificativo non valido: da 1 a 64 lettere, cifre o i segni . _ - /',
  description: 'Descrizione obbligatoria, al massimo 140 caratteri.',
  validityDate: MSG.date,
  plan: 'Controlla le rate: compila il pagamento unico oppure almeno due rate.',
  debtorType: MSG.debtorType,
  debtorFiscalCode: MSG.debtorFiscalCode,
  debtorFullName: 'Nome e cognome o ragione sociale: obbligatorio, al massimo 70 caratteri.',
  debtorEmail: 'Indirizzo e-mail non valido.',
  debtorStreetName: 'Indirizzo troppo lungo (al massimo 70 caratteri).',
  debtorCivicNumber: 'Numero civico troppo lungo (al massimo 16 caratteri).',
  debtorPostalCode: 'CAP troppo lungo (al massimo 16 caratteri).',
  debtorCity: 'Comune troppo lungo (al massimo 35 caratteri).',
  debtorProvince: 'Provincia troppo lunga (al massimo 35 caratteri).',
  debtorCountry: 'Nazione: codice di due lettere, ad esempio IT.',
  amount: MSG.amount,
  dueDate: MSG.date,
  optionDescription: 'Descrizione della rata troppo lunga (al massimo 140 caratteri).',
  iban: MSG.iban,
  enteFiscalCode: "Il primo beneficiario è l'ente stesso; gli altri hanno un codice fiscale di 11 cifre.",
  category: 'Codice tassonomico non valido: usa il formato 9/0101108TS/.',
  remittance: 'Causale troppo lunga (al massimo 140 caratteri).',
};

/** The form field an item path of applyItem names (position.option[0].transfer[1].iban), or ''. */
export function formFieldOf(path: string, optionBlocks: readonly number[]): string {
  const block = (i: string | undefined) => optionBlocks[Number(i)];
  let m = /^position\.option\[(\d+)\]\.transfer\[(\d+)\]\.(\w+)$/.exec(path);
  if (m) {
    const b = block(m[1]);
    const name = TRANSFER_KEYS[m[3] ?? ''];
    return b === undefined || !name ? '' : transferField(b, Number(m[2]) + 1, name);
  }
  // itemField renames every `transfers` to `transfer`, the option's list included.
  m = /^position\.option\[(\d+)\]\.(amountCents|dueDate|description|transfers?|installment)$/.exec(path);
  if (m) {
    const b = block(m[1]);
    if (b === undefined) return '';
    if (m[2] === 'installment') return 'plan';
    if (m[2] === 'amountCents') return optionField(b, 'amount');
    if (m[2] === 'transfer' || m[2] === 'transfers') return optionField(b, 'transfers');
    return optionField(b, m[2] as 'dueDate' | 'description');
  }
  if (path === 'position.options') return 'plan';
  if (path === 'position.debtor') return 'debtorFiscalCode';
  m = /^position\.debtor\.(\w+)$/.exec(path);
  if (m) return DEBTOR_KEYS[m[1] ?? ''] ?? '';
  m = /^position\.(positionId|description|validityDate)$/.exec(path);
  return m?.[1] ?? '';
}

function transfersMessage(draft: DebtPositionDraft, optionIndex: number): string {
  const option = draft.options[optionIndex];
  if (!option) return 'I beneficiari non sono validi.';
  const sum = option.transfers.reduce((total, t) => total + Number(t.amountCents), 0);
  if (sum !== Number(option.amountCents)) {
    return `La somma degli importi dei beneficiari (${formatEuroInput(sum)} €) è diversa dall'importo (${formatEuroInput(Number(option.amountCents))} €).`;
  }
  return 'Due beneficiari hanno lo stesso ente e lo stesso IBAN: riuniscili in uno.';
}

/**
 * A domain error of applyItem as a field error of the form: the field its path names and an
 * Italian sentence for that field ('' field when it names none the form has).
 */
export function fieldErrorOf(err: DomainError, form: ParsedPositionForm): FieldError | null {
  const path = typeof err.details.field === 'string' ? err.details.field : '';
  const field = formFieldOf(path, form.optionBlocks);
  if (!field) return null;
  if (field === 'positionId' && err.code === 'POSITION_DUPLICATE')
    return { field, message: 'Esiste già una posizione con questo identificativo.' };
  if (!field.startsWith('opt')) return { field, message: FIELD_MESSAGES[field] ?? 'Valore non valido.' };
  const transfers = /^opt\d+_transfers$/.test(field);
  if (transfers) {
    const optionIndex = Number(/^position\.option\[(\d+)\]/.exec(path)?.[1]);
    return { field, message: transfersMessage(form.draft, optionIndex) };
  }
  if (err.code === 'INVALID_AMOUNT') return { field, message: MSG.amount };
  const kind = /_(?:tr\d+_)?(\w+)$/.exec(field)?.[1] ?? '';
  const key = kind === 'description' ? 'optionDescription' : kind;
  return { field, message: FIELD_MESSAGES[key] ?? 'Valore non valido.' };
}

/** A field's name as the error summary shows it: "Rata 2, beneficiario 3: IBAN". */
export function fieldLabel(field: string): string {
  const labels: Record<string, string> = {
    positionId: 'Identificativo della posizione',
    description: 'Descrizione',
    validityDate: 'Pagabile dal',
    plan: 'Tipo di pagamento',
    service: 'Servizio',
    ente: 'Ente',
    debtorType: 'Tipo di debitore',
    debtorFiscalCode: 'Codice fiscale del debitore',
    debtorFullName: 'Nome e cognome o ragione sociale',
    debtorEmail: 'E-mail del debitore',
    debtorStreetName: 'Indirizzo',
    debtorCivicNumber: 'Numero civico',
    debtorPostalCode: 'CAP',
    debtorCity: 'Comune',
    debtorProvince: 'Provincia',
    debtorCountry: 'Nazione',
  };
  if (labels[field]) return labels[field];
  const m = /^opt(\d+)_(?:tr(\d+)_)?(\w+)$/.exec(field);
  if (!m) return field;
  const block = Number(m[1]);
  const where = block === 0 ? 'Pagamento unico' : `Rata ${block}`;
  const names: Record<string, string> = {
    amount: 'importo',
    dueDate: 'scadenza',
    description: 'descrizione',
    transfers: 'beneficiari',
    enteFiscalCode: 'codice fiscale ente',
    iban: 'IBAN',
    category: 'codice tassonomico',
    remittance: 'causale',
  };
  const what = names[m[3] ?? ''] ?? m[3];
  return m[2] ? `${where}, beneficiario ${m[2]}: ${what}` : `${where}: ${what}`;
}

// Spontaneous payments offered on the connector's own pages (issue 8 item 4): an operator configures
// a service's form (title, amount, extra fields); a citizen fills it on /pay/spontaneo and either
// pays online or gets a notice. The position goes through applyItem like every other channel (the
// same domain validation, notice issuing and events); paying online reuses the Asincrona payment
// session, so both station dialects and the return from pagoPA work as for a gestionale's link.
//
// Validation of what people type answers Italian messages per input (they are shown next to it);
// anything the domain still refuses afterwards is a DomainError as usual.

import { randomBytes, randomUUID } from 'node:crypto';
import { domainError, isDomainError } from '../../domain/errors.ts';
import { fiscalCodeKind, parseFiscalCode } from '../../domain/fiscalCode.ts';
import { parseDecimalAmount } from '../../domain/money.ts';
import { addDays, italianDate } from '../../domain/payability.ts';
import { MAX_AMOUNT_CENTS, parseIsoDate, type DebtorDraft } from '../../domain/position.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { StoredOption, StoredPosition } from '../../db/repositories/positions.ts';
import type { MetadataEntry } from '../../db/repositories/positionExtras.ts';
import type {
  SpontaneousField,
  SpontaneousFieldType,
  SpontaneousForm,
} from '../../db/repositories/spontaneousForms.ts';
import { createPortalSpontaneousRepository } from '../../db/repositories/portalSpontaneous.ts';
import { SPONTANEOUS_VALIDITY_DAYS } from '../pagopa/spontaneous.ts';
import { startSessionPayment, type RedirectSettings } from '../gestionale/paymentSession.ts';
import {
  freshNoticesNeeded,
  applyItem,
  NoticeSupply,
  type UploadItemInput,
} from '../gestionale/uploadItems.ts';
import { issueNotices } from '../notices.ts';
import { newNonce, signRedirectToken } from '../redirectTokens.ts';

export const MAX_EXTRA_FIELDS = 10;
export const MAX_SELECT_OPTIONS = 30;
export const FIELD_TYPES: readonly SpontaneousFieldType[] = ['text', 'date', 'number', 'select'];
/** Used when a text field sets no maxLength. */
export const DEFAULT_TEXT_LENGTH = 140;
export const MAX_TEXT_LENGTH = 500;
/** The actor of everything a citizen does through these pages. */
export const SPONTANEOUS_ACTOR = 'citizen:spontaneous';
/** The path of the outcome page pagoPA sends the citizen back to (through the session's /done). */
export const OUTCOME_PATH = '/pay/spontaneo/esito';

const FIELD_KEY = /^[a-z][a-z0-9_]{0,31}$/;
const EURO = /^\d{1,9}(?:[.,]\d{1,2})?$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/;
const NUMBER = /^-?\d{1,15}(?:[.,]\d{1,6})?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const SUBMISSION_ID = /^[0-9a-f]{16}$/;

/** Errors by input name, in Italian: shown next to the input. */
export type FieldErrors = Record<string, string>;

/** One extra-field row of the operator's form, as typed. */
export interface FieldDraft {
  key: string;
  label: string;
  type: string;
  required: boolean;
  /** Select choices, one per line. */
  options: string;
  maxLength: string;
}

/** The operator's form as typed (amounts in euro, `12,50`). */
export interface FormConfigDraft {
  enabled: boolean;
  title: string;
  instructions: string;
  /** `fixed` or `free`. */
  amountMode: string;
  fixedAmount: string;
  minAmount: string;
  maxAmount: string;
  fields: FieldDraft[];
}

export type FormConfig = Omit<SpontaneousForm, 'serviceId' | 'updatedAt'>;

/** `12,50` or `12.50` → 1250; null when it is not an amount in euro. */
export function parseEuroAmount(text: string): number | null {
  const value = text.trim();
  if (!EURO.test(value)) return null;
  return parseDecimalAmount(value.replace(',', '.'));
}

function hasControl(text: string): boolean {
  return CONTROL.test(text);
}

function checkAmounts(draft: FormConfigDraft, errors: FieldErrors) {
  const amount = (name: keyof FormConfigDraft, text: string, required: boolean): number | null => {
    if (text.trim() === '') {
      if (required) errors[name] = "Indica l'importo.";
      return null;
    }
    const cents = parseEuroAmount(text);
    if (cents === null || cents <= 0 || cents > MAX_AMOUNT_CENTS) {
      errors[name] = 'Importo non valido: scrivi un importo in euro maggiore di zero, per esempio 25,50.';
      return null;
    }
    return cents;
  };
  if (draft.amountMode === 'fixed') {
    return { fixed: amount('fixedAmount', draft.fixedAmount, true), min: null, max: null };
  }
  if (draft.amountMode !== 'free') errors.amountMode = "Scegli se l'importo è fisso o libero.";
  const min = amount('minAmount', draft.minAmount, false);
  const max = amount('maxAmount', draft.maxAmount, false);
  if (min !== null && max !== null && min > max)
    errors.maxAmount = "L'importo massimo deve essere maggiore o uguale al minimo.";
  return { fixed: null, min, max };
}

function checkField(draft: FieldDraft, i: number, seen: Set<string>, errors: FieldErrors) {
  const name = (part: string) => `f${i}_${part}`;
  const key = draft.key.trim();
  const label = draft.label.trim();
  if (!FIELD_KEY.test(key)) {
    errors[name('key')] =
      'Il codice deve iniziare con una lettera minuscola e contenere solo lettere minuscole, cifre e _ (al massimo 32 caratteri).';
  } else if (seen.has(key)) {
    errors[name('key')] = 'Due campi hanno lo stesso codice.';
  }
  seen.add(key);
  if (label === '' || label.length > 100 || hasControl(label))
    errors[name('label')] = "Scrivi l'etichetta del campo (al massimo 100 caratteri).";
  const type = FIELD_TYPES.find((t) => t === draft.type);
  if (!type) errors[name('type')] = 'Scegli il tipo del campo.';
  let options: string[] | undefined;
  if (type === 'select') {
    options = [
      ...new Set(
        draft.options
          .split(/\r?\n/)
          .map((o) => o.trim())
          .filter(Boolean),
      ),
    ];
    if (options.length === 0 || options.length > MAX_SELECT_OPTIONS)
      errors[name('options')] = `Scrivi le scelte, una per riga (da 1 a ${MAX_SELECT_OPTIONS}).`;
    else if (options.some((o) => o.length > 100 || hasControl(o)))
      errors[name('options')] = 'Ogni scelta può avere al massimo 100 caratteri.';
  }
  let maxLength: number | undefined;
  if (type === 'text' && draft.maxLength.trim() !== '') {
    maxLength = Number(draft.maxLength.trim());
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > MAX_TEXT_LENGTH)
      errors[name('maxLength')] = `La lunghezza massima va da 1 a ${MAX_TEXT_LENGTH} caratteri.`;
  }
  const field: SpontaneousField = { key, label, type: type ?? 'text', required: draft.required };
  if (options) field.options = options;
  if (maxLength !== undefined) field.maxLength = maxLength;
  return field;
}

/** A row the operator left blank is no field. */
function isBlank(field: FieldDraft): boolean {
  return field.key.trim() === '' && field.label.trim() === '' && field.options.trim() === '';
}

/**
 * Checks the operator's form. Enabling needs an active service with an account to credit (its
 * own IBAN or the ente's).
 */
export function checkFormConfig(
  draft: FormConfigDraft,
  target: { service: Service; ente: Ente },
): { config: FormConfig | null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const title = draft.title.trim();
  if (title === '' || title.length > 140 || hasControl(title))
    errors.title = 'Scrivi il titolo del modulo (al massimo 140 caratteri).';
  const instructions = draft.instructions.trim();
  if (instructions.length > 2000)
    errors.instructions = 'Le istruzioni possono avere al massimo 2000 caratteri.';
  const amounts = checkAmounts(draft, errors);
  const rows = draft.fields.map((f, i) => ({ f, i })).filter(({ f }) => !isBlank(f));
  if (rows.length > MAX_EXTRA_FIELDS) errors.fields = `Al massimo ${MAX_EXTRA_FIELDS} campi aggiuntivi.`;
  const seen = new Set<string>();
  const fields = rows.map(({ f, i }) => checkField(f, i, seen, errors));
  if (draft.enabled) {
    if (target.service.status !== 'active' || target.ente.status !== 'active')
      errors.enabled = 'Il servizio o l’ente non è attivo: il modulo non può essere abilitato.';
    else if (!target.service.iban && !target.ente.iban)
      errors.enabled =
        'Il servizio non ha un IBAN di accredito (né ce l’ha l’ente): il modulo non può essere abilitato.';
  }
  if (Object.keys(errors).length) return { config: null, errors };
  return {
    config: {
      title,
      instructions: instructions || null,
      fixedAmountCents: amounts.fixed,
      minAmountCents: amounts.min,
      maxAmountCents: amounts.max,
      fields,
      enabled: draft.enabled,
    },
    errors,
  };
}

/** The ente's services, each with its form (null when none was ever saved). */
export async function servicesWithForms(
  store: Store,
  enteId: number,
): Promise<Array<{ service: Service; form: SpontaneousForm | null }>> {
  const services = await store.services.listByEnte(enteId);
  const forms = await store.spontaneousForms.listByEnte(enteId);
  return services.map((service) => ({
    service,
    form: forms.find((f) => f.serviceId === service.id) ?? null,
  }));
}

/**
 * Saves the form, in one transaction with its event; enabling it also marks the service as
 * accepting spontaneous payments (disabling leaves the flag: payments started at a PSP through
 * paDemandPaymentNotice do not depend on this page).
 */
export async function saveSpontaneousForm(
  store: Store,
  service: Service,
  config: FormConfig,
  actor: string,
): Promise<SpontaneousForm> {
  return store.transaction(async (tx) => {
    const before = await tx.spontaneousForms.get(service.id);
    const saved = await tx.spontaneousForms.save({ serviceId: service.id, ...config });
    const flagSet = config.enabled && !service.spontaneous;
    if (flagSet) await createPortalSpontaneousRepository(tx.db).setServiceSpontaneous(service.id, true);
    await tx.events.append({
      entityType: 'service',
      entityId: service.id,
      action: 'spontaneous_form_saved',
      fromStatus: before ? (before.enabled ? 'enabled' : 'disabled') : null,
      toStatus: config.enabled ? 'enabled' : 'disabled',
      cause: `spontaneous payment form of ${service.code} saved from the portal`,
      actor,
      payload: {
        title: config.title,
        fixedAmountCents: config.fixedAmountCents,
        minAmountCents: config.minAmountCents,
        maxAmountCents: config.maxAmountCents,
        fields: config.fields.map((f) => f.key),
        serviceMarkedSpontaneous: flagSet,
      },
    });
    return saved;
  });
}

/** What the citizen may fill: an enabled form of an active service of an active ente. */
export interface PublicForm {
  ente: Ente;
  service: Service;
  form: SpontaneousForm;
}

export async function findPublicForm(
  store: Store,
  enteFiscalCode: string,
  serviceCode: string,
): Promise<PublicForm> {
  const ente = await store.enti.getByFiscalCode(enteFiscalCode);
  const service = ente && ente.status === 'active' ? await store.services.get(ente.id, serviceCode) : null;
  const form = service && service.status === 'active' ? await store.spontaneousForms.get(service.id) : null;
  if (!ente || !service || !form?.enabled) {
    throw domainError('SERVICE_UNKNOWN', 'no enabled spontaneous form for this ente and service', {});
  }
  return { ente, service, form };
}

/** The citizen's form as typed; `values` by field key. */
export interface SubmissionDraft {
  fiscalCode: string;
  fullName: string;
  email: string;
  amount: string;
  values: Record<string, string>;
}

export interface Submission {
  debtor: DebtorDraft;
  amountCents: number;
  /** The filled extra fields, in the form's order: the position's metadata. */
  values: MetadataEntry[];
}

/** Input name of an extra field on the citizen's form (never clashes with the fixed inputs). */
export function extraInputName(key: string): string {
  return `x_${key}`;
}

function checkValue(field: SpontaneousField, raw: string): string | null {
  const value = raw.trim();
  if (value === '') return field.required ? 'Campo obbligatorio.' : null;
  if (hasControl(value)) return 'Il testo contiene caratteri non ammessi.';
  switch (field.type) {
    case 'text': {
      const max = field.maxLength ?? DEFAULT_TEXT_LENGTH;
      return value.length > max ? `Al massimo ${max} caratteri.` : null;
    }
    case 'number':
      return NUMBER.test(value) ? null : 'Scrivi un numero, per esempio 12 o 12,5.';
    case 'date':
      try {
        parseIsoDate(value);
        return null;
      } catch {
        return 'Scrivi una data valida (aaaa-mm-gg).';
      }
    case 'select':
      return field.options?.includes(value) ? null : 'Scegli una delle voci proposte.';
  }
}

function amountOf(form: SpontaneousForm, typed: string, errors: FieldErrors): number {
  if (form.fixedAmountCents !== null) return form.fixedAmountCents;
  if (typed.trim() === '') {
    errors.amount = "Indica l'importo da pagare.";
    return 0;
  }
  const cents = parseEuroAmount(typed);
  const min = form.minAmountCents ?? 1;
  const max = form.maxAmountCents ?? MAX_AMOUNT_CENTS;
  if (cents === null || cents <= 0) {
    errors.amount = 'Importo non valido: scrivi un importo in euro, per esempio 25,50.';
    return 0;
  }
  if (cents < min || cents > max) {
    errors.amount = 'Importo fuori dai limiti previsti per questo pagamento.';
    return 0;
  }
  return cents;
}

/** Checks what the citizen typed against the form; the errors name the inputs. */
export function checkSubmission(
  form: SpontaneousForm,
  draft: SubmissionDraft,
): { submission: Submission | null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  let fiscalCode = '';
  try {
    fiscalCode = parseFiscalCode(draft.fiscalCode);
  } catch (err) {
    if (!isDomainError(err)) throw err;
    errors.fiscalCode = 'Codice fiscale non valido: controlla di averlo scritto correttamente.';
  }
  const fullName = draft.fullName.trim();
  if (fullName === '') errors.fullName = 'Scrivi nome e cognome (o la ragione sociale).';
  else if (fullName.length > 70 || hasControl(fullName)) errors.fullName = 'Al massimo 70 caratteri.';
  const email = draft.email.trim();
  if (email !== '' && (email.length > 256 || !EMAIL.test(email)))
    errors.email = 'Indirizzo e-mail non valido.';
  const amountCents = amountOf(form, draft.amount, errors);
  const values: MetadataEntry[] = [];
  for (const field of form.fields) {
    const raw = draft.values[field.key] ?? '';
    const problem = checkValue(field, raw);
    if (problem) errors[extraInputName(field.key)] = problem;
    else if (raw.trim() !== '') values.push({ key: field.key, value: raw.trim() });
  }
  if (Object.keys(errors).length) return { submission: null, errors };
  const debtor: DebtorDraft = {
    type: fiscalCodeKind(parseFiscalCode(fiscalCode)) === 'person' ? 'F' : 'G',
    fiscalCode,
    fullName,
    email: email || undefined,
  };
  return { submission: { debtor, amountCents, values }, errors };
}

/** A random id the form carries, so posting it twice (a double click) makes one position. */
export function newSubmissionId(): string {
  return randomBytes(8).toString('hex');
}

export function isSubmissionId(value: string): boolean {
  return SUBMISSION_ID.test(value);
}

/** The causale: the form's title and the values typed, within pagoPA's 140 characters. */
export function descriptionOf(title: string, values: readonly MetadataEntry[]): string {
  const text = values.length ? `${title}: ${values.map((v) => v.value).join(' - ')}` : title;
  return text.length <= 140 ? text : `${text.slice(0, 139)}…`;
}

/** The notice of a spontaneous position just created. */
export interface SpontaneousNotice {
  ente: Ente;
  position: StoredPosition;
  option: StoredOption;
  noticeNumber: string;
  debtorFiscalCode: string;
}

export interface SpontaneousRequest extends PublicForm {
  submission: Submission;
  submissionId: string;
  now?: Date;
}

/**
 * Creates the position (positionId `SPONT-<yyyymmdd>-<submission id>`, one option due in
 * SPONTANEOUS_VALIDITY_DAYS, one transfer to the service's IBAN or the ente's) through applyItem:
 * posting the same submission again answers the same position.
 */
export async function createSpontaneousPosition(
  store: Store,
  request: SpontaneousRequest,
): Promise<SpontaneousNotice> {
  const { ente, service, form, submission } = request;
  if (!isSubmissionId(request.submissionId))
    throw domainError('INVALID_INPUT', 'not a submission id', { field: 'submission' });
  const iban = service.iban ?? ente.iban;
  if (!iban)
    throw domainError('CONFIG_INVALID', 'the service has no IBAN to credit', { serviceCode: service.code });
  const today = italianDate(request.now ?? new Date());
  const positionId = `SPONT-${today.replace(/-/g, '')}-${request.submissionId}`;
  const description = descriptionOf(form.title, submission.values);
  const item: UploadItemInput = {
    action: 'INSERT',
    position: {
      draft: {
        positionId,
        description,
        debtor: submission.debtor,
        options: [
          {
            installment: 0,
            amountCents: submission.amountCents,
            dueDate: addDays(today, SPONTANEOUS_VALIDITY_DAYS),
            transfers: [{ amountCents: submission.amountCents, iban, category: service.category }],
          },
        ],
      },
      iuvs: [null],
      metadata: submission.values,
    },
  };
  const scope = { ente, service, clientId: null };
  const fresh = await freshNoticesNeeded(store, ente, [item]);
  const preissued =
    fresh > 0
      ? await issueNotices(store, ente, fresh, { purpose: 'position', serviceId: service.id, clientId: null })
      : [];
  const [notice] = await store.transaction((tx) =>
    applyItem(
      tx,
      {
        ...scope,
        actor: SPONTANEOUS_ACTOR,
        cause: `spontaneous payment form of ${service.code}`,
        supply: new NoticeSupply(scope, preissued),
      },
      item,
    ),
  );
  const position = await store.positions.findByPositionId(ente.id, positionId);
  const option = position?.options.find((o) => o.noticeNumber === notice?.noticeNumber);
  if (!position || !option?.noticeNumber) throw new Error(`spontaneous position ${positionId} not stored`);
  return {
    ente,
    position,
    option,
    noticeNumber: option.noticeNumber,
    debtorFiscalCode: position.debtor?.fiscalCode ?? '',
  };
}

/**
 * "Paga online": a payment session of the connector's own (no gestionale) whose return URL is the
 * outcome page, then the Asincrona start (checkout cart or RPT by the station's dialect). Answers
 * where to send the citizen; NODE_UNAVAILABLE when the node cannot open the payment.
 */
export async function startSpontaneousPayment(
  store: Store,
  settings: RedirectSettings,
  notice: SpontaneousNotice,
  payerEmail: string | null,
): Promise<{ sessionId: string; redirectUrl: string }> {
  const now = settings.clock?.() ?? new Date();
  const expiresAt = new Date(now.getTime() + settings.sessionTtlMs);
  expiresAt.setUTCMilliseconds(0);
  const id = randomUUID();
  const nonce = newNonce();
  await store.paymentSessions.create(
    {
      id,
      nonce,
      clientId: null,
      enteId: notice.ente.id,
      positionId: notice.position.id,
      installment: notice.option.installment,
      noticeNumber: notice.noticeNumber,
      returnUrl: `${settings.access.connectorUrl()}${OUTCOME_PATH}/${id}`,
      cancelUrl: null,
      language: 'it',
      payerEmail,
      expiresAt: expiresAt.toISOString(),
    },
    { cause: `spontaneous payment ${notice.position.positionId}: paid online`, actor: SPONTANEOUS_ACTOR },
  );
  const token = signRedirectToken(settings.secret, { sessionId: id, expiresAt, nonce });
  const { redirectUrl } = await startSessionPayment(store, settings, token);
  return { sessionId: id, redirectUrl };
}

/** What the outcome page shows: read from the database, never from the query string. */
export interface SpontaneousOutcome {
  ente: Ente;
  position: StoredPosition;
  option: StoredOption;
  noticeNumber: string;
  paid: boolean;
  debtorFiscalCode: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The outcome of a spontaneous online payment by its session id; POSITION_UNKNOWN otherwise. */
export async function spontaneousOutcome(store: Store, sessionId: string): Promise<SpontaneousOutcome> {
  const unknown = () => domainError('POSITION_UNKNOWN', 'no spontaneous payment with this id', {});
  if (!UUID.test(sessionId)) throw unknown();
  const session = await store.paymentSessions.get(sessionId);
  if (!session || session.clientId !== null || !session.returnUrl.endsWith(`${OUTCOME_PATH}/${sessionId}`))
    throw unknown();
  const position = await store.positions.findById(session.positionId);
  const option = position?.options.find((o) => o.noticeNumber === session.noticeNumber);
  const ente = await store.enti.getById(session.enteId);
  if (!position || !option || !ente) throw unknown();
  return {
    ente,
    position,
    option,
    noticeNumber: session.noticeNumber,
    paid: option.status !== 'UNPAID',
    debtorFiscalCode: position.debtor?.fiscalCode ?? '',
  };
}

// Use cases behind the node's questions about a notice (pagopa-facts §5, §9): verify (current amount,
// no state change) and get payment (the payment data, recording the attempt). Shared by the current
// model (paVerifyPaymentNotice, paGetPayment[V2]) and the legacy one (paaVerificaRPT, paaAttivaRPT).

import { domainError, isDomainError } from '../../domain/errors.ts';
import { isProbeNoticeNumber } from '../../domain/noticeNumber.ts';
import { ANONYMOUS_DEBTOR } from '../../domain/position.ts';
import {
  amountDueCents,
  assertOptionPayable,
  italianDate,
  taxonomyCode,
  transferAmountsFor,
} from '../../domain/payability.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { ChangeContext } from '../../db/repositories/events.ts';
import type { Payment, PaymentKind } from '../../db/repositories/payments.ts';
import type { StoredDebtor, StoredOption, StoredPosition } from '../../db/repositories/positions.ts';
import { checkNodeCaller, type NodeCaller } from './identity.ts';

/** Who the node says is calling, and which notice it asks about (by notice number or by IUV). */
export interface NoticeQuery {
  caller: NodeCaller;
  /** The EC that issued the notice (qrCode.fiscalCode, legacy identificativoDominio). */
  fiscalCode: string;
  noticeNumber?: string;
  /** Legacy calls name the IUV (codiceIdRPT) instead of the notice number. */
  iuv?: string;
}

export interface PagopaUseCaseOptions {
  /** Who is recorded in the event log; the node unless said otherwise. */
  actor?: string;
  /** "Now", for reductions and due dates; tests pass a fixed instant. */
  now?: Date;
}

export interface NoticeDebtor {
  type: 'F' | 'G';
  fiscalCode: string;
  fullName: string;
  email: string | null;
  streetName: string | null;
  civicNumber: string | null;
  postalCode: string | null;
  city: string | null;
  stateProvinceRegion: string | null;
  country: string | null;
}

export interface PayableTransfer {
  /** 1-based idTransfer. */
  index: number;
  enteFiscalCode: string;
  /** The beneficiary's name when it is one of our enti (V2 per-transfer companyName). */
  enteName: string | null;
  amountCents: number;
  iban: string;
  postal: boolean;
  /** The stored category (`9/0101108TS/`) and its pagoPA taxonomy code (`0101108TS`). */
  category: string;
  taxonomyCode: string;
  remittanceInformation: string;
}

/** Everything the node is told about a payable notice, in domain units (cents, ISO dates). */
export interface PayableNotice {
  ente: Ente;
  position: StoredPosition;
  option: StoredOption;
  noticeNumber: string;
  iuv: string;
  /** The amount due today (a multe reduction applied), which the transfers add up to. */
  amountCents: number;
  dueDate: string;
  description: string;
  debtor: NoticeDebtor;
  transfers: PayableTransfer[];
  /** Every transfer credits a postal account (paVerifyPaymentNotice allCCP). */
  allPostal: boolean;
}

export interface AttemptRequest {
  /** `current` for paGetPayment (keyed by us), `rpt` for paaAttivaRPT (keyed by the PSP's CCP). */
  kind: PaymentKind;
  ccp?: string | null;
  pspId?: string | null;
  channelId?: string | null;
}

export interface PaymentActivation {
  notice: PayableNotice;
  payment: Payment;
  /** False when an attempt already in progress was answered again. */
  created: boolean;
}

export const NODE_ACTOR = 'pagopa-node';
/** Prefix of the key we give a current-model attempt: paGetPayment carries no token of its own. */
const CURRENT_ATTEMPT_PREFIX = 'paGetPayment-';
/** pagoPA's ctSubject.fullName is at most 70 characters. */
const FULL_NAME_MAX = 70;

function unknownNotice(): never {
  throw domainError('POSITION_UNKNOWN', 'no payable notice with this number at this EC', {
    field: 'noticeNumber',
  });
}

async function findNotice(
  store: Store,
  ente: Ente,
  query: NoticeQuery,
): Promise<{ position: StoredPosition; option: StoredOption }> {
  if (query.fiscalCode !== ente.fiscalCode) unknownNotice();
  if (query.noticeNumber !== undefined) {
    if (isProbeNoticeNumber(query.noticeNumber)) unknownNotice();
    const position = await store.positions.findByNoticeNumber(ente.id, query.noticeNumber);
    const option = position?.options.find((o) => o.noticeNumber === query.noticeNumber);
    if (!position || !option) unknownNotice();
    return { position, option };
  }
  if (query.iuv !== undefined) {
    const position = await store.positions.findByIuv(ente.id, query.iuv);
    const option = position?.options.find((o) => o.iuv === query.iuv);
    if (!position || !option) unknownNotice();
    return { position, option };
  }
  return unknownNotice();
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}

/**
 * The debtor the node must be given (the new model makes it mandatory). A multe notice is paid
 * anonymously, keyed to its ticket: pagoPA's ANONIMO code with a name that says whose fine it is.
 */
export function debtorForNode(position: StoredPosition): NoticeDebtor {
  const d: StoredDebtor | null = position.debtor;
  if (d) return { ...d };
  const ticket = position.multe?.ticketNumber;
  const fullName = ticket ? `Proprietario del veicolo, verbale n. ${ticket}` : 'Debitore anonimo';
  return {
    type: 'F',
    fiscalCode: ANONYMOUS_DEBTOR,
    fullName: truncate(fullName, FULL_NAME_MAX),
    email: null,
    streetName: null,
    civicNumber: null,
    postalCode: null,
    city: null,
    stateProvinceRegion: null,
    country: null,
  };
}

async function enteNames(
  store: Store,
  known: Ente,
  fiscalCodes: readonly string[],
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const code of new Set(fiscalCodes)) {
    // The notice's own ente (almost always the only one) is already loaded: no statement for it.
    const ente = code === known.fiscalCode ? known : await store.enti.getByFiscalCode(code);
    if (ente) names.set(code, ente.name);
  }
  return names;
}

/** The notice as the node must see it today: current amount, transfers adding up to it, debtor. */
export async function describeNotice(
  store: Store,
  ente: Ente,
  position: StoredPosition,
  option: StoredOption,
  now: Date,
): Promise<PayableNotice> {
  const amountCents = amountDueCents(option, position.multe, italianDate(now));
  const amounts = transferAmountsFor(option, amountCents);
  const names = await enteNames(
    store,
    ente,
    option.transfers.map((t) => t.enteFiscalCode),
  );
  const transfers = option.transfers.map((t, i) => ({
    index: t.index,
    enteFiscalCode: t.enteFiscalCode,
    enteName: names.get(t.enteFiscalCode) ?? null,
    amountCents: amounts[i] ?? t.amountCents,
    iban: t.iban,
    postal: t.postal,
    category: t.category,
    taxonomyCode: taxonomyCode(t.category),
    remittanceInformation: t.remittanceInformation,
  }));
  return {
    ente,
    position,
    option,
    noticeNumber: option.noticeNumber ?? '',
    iuv: option.iuv,
    amountCents,
    dueDate: option.dueDate,
    description: option.description,
    debtor: debtorForNode(position),
    transfers,
    allPostal: transfers.every((t) => t.postal),
  };
}

async function payableNotice(store: Store, query: NoticeQuery, now: Date): Promise<PayableNotice> {
  const { ente } = await checkNodeCaller(store, query.caller);
  const { position, option } = await findNotice(store, ente, query);
  assertOptionPayable(position, option);
  return describeNotice(store, ente, position, option, now);
}

/**
 * paVerifyPaymentNotice / paaVerificaRPT: the notice's current amount and data, or the reason it
 * cannot be paid. Changes nothing (pagopa-facts §5: verify must not change the position).
 */
export function verifyPaymentNotice(
  store: Store,
  query: NoticeQuery,
  options: PagopaUseCaseOptions = {},
): Promise<PayableNotice> {
  return payableNotice(store, query, options.now ?? new Date());
}

function attemptKey(attempts: readonly Payment[]): string {
  const current = attempts.filter((p) => p.kind === 'current').length;
  return `${CURRENT_ATTEMPT_PREFIX}${current + 1}`;
}

/**
 * Records the attempt, idempotently. Current model: the node locks the notice with its own token,
 * so one attempt in progress per notice is answered again rather than refused; its key is counted
 * per IUV, so two simultaneous calls collide on the unique key and the loser reads the winner's row.
 * Legacy: the PSP's CCP is the key; the same CCP again is the same attempt, another CCP while one is
 * in progress is PAYMENT_IN_PROGRESS (PAA_PAGAMENTO_IN_CORSO).
 */
async function recordAttempt(
  store: Store,
  notice: PayableNotice,
  request: AttemptRequest,
  change: ChangeContext,
): Promise<{ payment: Payment; created: boolean }> {
  const { ente, option } = notice;
  const attempts = await store.payments.listByIuv(ente.id, option.iuv);
  const open = attempts.find(
    (p) => p.kind === request.kind && (p.status === 'IN_PROGRESS' || p.status === 'STARTED'),
  );
  let key: string;
  if (request.kind === 'current') {
    if (open) return { payment: open, created: false };
    key = attemptKey(attempts);
  } else {
    if (!request.ccp) throw domainError('INVALID_INPUT', 'a legacy attempt needs its CCP', { field: 'ccp' });
    const same = attempts.find((p) => p.kind === 'rpt' && p.ccpOrToken === request.ccp);
    if (same) return { payment: same, created: false };
    if (open) throw domainError('PAYMENT_IN_PROGRESS', 'another payment attempt is in progress', {});
    key = request.ccp;
  }
  try {
    const payment = await store.payments.create(
      {
        enteId: ente.id,
        optionId: option.id,
        iuv: option.iuv,
        noticeNumber: option.noticeNumber,
        kind: request.kind,
        ccpOrToken: key,
        pspId: request.pspId ?? null,
        channelId: request.channelId ?? null,
        status: 'IN_PROGRESS',
        amountCents: notice.amountCents,
      },
      change,
    );
    return { payment, created: true };
  } catch (err) {
    if (!isDomainError(err, 'DUPLICATE')) throw err;
    const winner = await store.payments.find(ente.id, option.iuv, key);
    if (!winner) throw err;
    return { payment: winner, created: false };
  }
}

/**
 * paGetPayment[V2] / paaAttivaRPT: the same checks as verify, then the payment data, with the attempt
 * recorded (payments row IN_PROGRESS). The position itself stays open (pagopa-facts §5).
 */
export async function getPaymentNotice(
  store: Store,
  query: NoticeQuery,
  attempt: AttemptRequest,
  options: PagopaUseCaseOptions = {},
): Promise<PaymentActivation> {
  const notice = await payableNotice(store, query, options.now ?? new Date());
  const change = {
    cause: attempt.kind === 'current' ? 'paGetPayment' : 'paaAttivaRPT',
    actor: options.actor ?? NODE_ACTOR,
  };
  const { payment, created } = await recordAttempt(store, notice, attempt, change);
  return { notice, payment, created };
}

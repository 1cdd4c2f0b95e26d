// Asincrona model (DESIGN §2, §9). createPaymentSession: for a position the gestionale uploaded, a
// session row and a signed, expiring URL to the connector's landing page. The citizen's side, used
// by the pages under /pay/: open the session (token checked, position shown), start the payment
// (the nonce is consumed first, so a token starts at most one payment; it is given back when the
// node could not even open it), come back from pagoPA (sent on to the gestionale's return URL with
// the outcome), and the data of the printable notice.

import { randomBytes, randomUUID } from 'node:crypto';
import { domainError, isDomainError, type DomainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { PaymentSession } from '../../db/repositories/paymentSessions.ts';
import type { StoredOption, StoredPosition } from '../../db/repositories/positions.ts';
import { describeNotice } from '../pagopa/payments.ts';
import { startOnlinePayment } from '../pagopa/rptPayments.ts';
import { NodeAccess } from '../nodeAccess.ts';
import { noticeQrPayload } from '../noticeDocument.ts';
import { newNonce, signRedirectToken, verifyRedirectToken } from '../redirectTokens.ts';
import type { GestionaleCaller } from './common.ts';
import { findPayableOption, requirePayable } from './payableOption.ts';
import { checkReturnUrls, withOutcome } from './returnUrls.ts';

export const DEFAULT_SESSION_TTL_MS = 30 * 60 * 1000;
const CITIZEN_ACTOR = 'citizen';

/** Shared by the gestionale binding and the citizen pages: they must agree on all of it. */
export interface RedirectSettings {
  access: NodeAccess;
  /** PPAY_SECRET: signs the tokens. */
  secret: string;
  sessionTtlMs: number;
  /** "Now", for expiry; tests pass a fixed clock. */
  clock?: () => Date;
}

/**
 * Settings from the configuration, with a fresh NodeAccess to fill after listen. Without a secret
 * (a server assembled by hand, as some tests do) a random one is used: its links work only within
 * this process, which is all such a server needs.
 */
export function redirectSettingsFor(config: {
  secret?: string | undefined;
  publicUrl?: string | undefined;
  sessionTtlMinutes?: number | undefined;
}): RedirectSettings {
  return {
    access: new NodeAccess(config.publicUrl ?? null),
    secret: config.secret ?? randomBytes(32).toString('base64url'),
    sessionTtlMs: config.sessionTtlMinutes ? config.sessionTtlMinutes * 60_000 : DEFAULT_SESSION_TTL_MS,
  };
}

export interface CreateSessionRequest {
  ente: Ente;
  caller: GestionaleCaller;
  positionId?: string | null;
  noticeNumber?: string | null;
  installment?: number | null;
  returnUrl: string;
  cancelUrl?: string | null;
  language?: string | null;
  payerEmail?: string | null;
}

export interface CreatedSession {
  sessionId: string;
  sessionUrl: string;
  /** ISO-8601 UTC. */
  expiresAt: string;
}

function nowOf(settings: RedirectSettings): Date {
  return settings.clock?.() ?? new Date();
}

/** `<connector>/pay/session/<token>`: the page the gestionale sends the citizen to. */
export function sessionUrlFor(settings: RedirectSettings, token: string): string {
  return `${settings.access.connectorUrl()}/pay/session/${token}`;
}

export async function createPaymentSession(
  store: Store,
  settings: RedirectSettings,
  request: CreateSessionRequest,
): Promise<CreatedSession> {
  const cancelUrl = request.cancelUrl ?? null;
  await checkReturnUrls(store, request.caller, { returnUrl: request.returnUrl, cancelUrl });
  const { position, option } = await findPayableOption(store, request.ente, request.caller, request);
  const expiresAt = new Date(nowOf(settings).getTime() + settings.sessionTtlMs);
  // Whole seconds: the token carries the expiry in epoch seconds, the row and the answer agree.
  expiresAt.setUTCMilliseconds(0);
  const id = randomUUID();
  const nonce = newNonce();
  const token = signRedirectToken(settings.secret, { sessionId: id, expiresAt, nonce });
  const sessionUrl = sessionUrlFor(settings, token);
  await store.paymentSessions.create(
    {
      id,
      nonce,
      clientId: request.caller.clientId,
      enteId: request.ente.id,
      positionId: position.id,
      installment: option.installment,
      noticeNumber: option.noticeNumber,
      returnUrl: request.returnUrl,
      cancelUrl,
      language: request.language ?? null,
      payerEmail: request.payerEmail ?? null,
      expiresAt: expiresAt.toISOString(),
    },
    {
      cause: `createPaymentSession ${position.positionId} installment ${option.installment}`,
      actor: request.caller.actor,
    },
  );
  return { sessionId: id, sessionUrl, expiresAt: expiresAt.toISOString() };
}

/** What the landing page and the printable notice show. */
export interface SessionView {
  session: PaymentSession;
  ente: Ente;
  position: StoredPosition;
  option: StoredOption;
  noticeNumber: string;
  /** Due today (a traffic fine's reduction applied). */
  amountDueCents: number;
  /** Why the option cannot be paid now (paid, cancelled, expired, not active), or null. */
  blocked: DomainError | null;
}

/**
 * The session a token names: REDIRECT_TOKEN_INVALID when malformed, tampered or naming no session
 * (or another nonce), REDIRECT_TOKEN_EXPIRED past its expiry unless `allowExpired`.
 */
async function sessionOf(
  store: Store,
  settings: RedirectSettings,
  token: string,
  allowExpired: boolean,
): Promise<PaymentSession> {
  const payload = verifyRedirectToken(settings.secret, token, { now: nowOf(settings), allowExpired });
  const session = await store.paymentSessions.get(payload.sessionId);
  if (!session || session.nonce !== payload.nonce) {
    throw domainError('REDIRECT_TOKEN_INVALID', 'the redirect token names no session', { reason: 'unknown' });
  }
  return session;
}

async function viewOf(
  store: Store,
  settings: RedirectSettings,
  session: PaymentSession,
): Promise<SessionView> {
  const position = await store.positions.findById(session.positionId);
  const option = position?.options.find((o) => o.noticeNumber === session.noticeNumber);
  const ente = await store.enti.getById(session.enteId);
  if (!position || !option || !ente) {
    throw domainError('POSITION_UNKNOWN', 'the position of this session no longer exists', {});
  }
  let blocked: DomainError | null = null;
  try {
    requirePayable(position, option);
  } catch (err) {
    if (!isDomainError(err)) throw err;
    blocked = err;
  }
  const notice = await describeNotice(store, ente, position, option, nowOf(settings));
  return {
    session,
    ente,
    position,
    option,
    noticeNumber: session.noticeNumber,
    amountDueCents: notice.amountCents,
    blocked,
  };
}

/** The landing page's data; reloading it is harmless (nothing is consumed). */
export async function openSession(
  store: Store,
  settings: RedirectSettings,
  token: string,
): Promise<SessionView> {
  return viewOf(store, settings, await sessionOf(store, settings, token, false));
}

function usedLink() {
  return domainError('REDIRECT_TOKEN_USED', 'this payment link was already used', {});
}

async function releaseNonce(store: Store, session: PaymentSession, why: string): Promise<void> {
  await store.paymentSessions.release(session.id, {
    cause: `Asincrona: the payment did not start (${why}); the link may be used again`,
    actor: CITIZEN_ACTOR,
  });
}

/**
 * "Paga online": consumes the nonce, then opens the payment with the node (checkout cart or RPT by
 * the station's dialect) and returns where to send the citizen. A used token is REDIRECT_TOKEN_USED;
 * a node that does not answer (or refuses) is NODE_UNAVAILABLE and gives the nonce back.
 */
export async function startSessionPayment(
  store: Store,
  settings: RedirectSettings,
  token: string,
): Promise<{ redirectUrl: string }> {
  const view = await openSession(store, settings, token);
  const { session } = view;
  if (session.status !== 'OPEN') throw usedLink();
  if (view.blocked) throw view.blocked;
  const consumed = await store.paymentSessions.consumeNonce(session.id, session.nonce, {
    cause: `Asincrona: payment started from the landing page (${session.noticeNumber})`,
    actor: CITIZEN_ACTOR,
  });
  if (!consumed) throw usedLink();
  try {
    const node = settings.access.node();
    const done = `${settings.access.connectorUrl()}/pay/session/${token}/done`;
    const result = await startOnlinePayment(store, node, {
      enteFiscalCode: view.ente.fiscalCode,
      noticeNumbers: [session.noticeNumber],
      returnUrls: {
        returnOkUrl: withOutcome(done, { outcome: 'OK' }),
        returnCancelUrl: withOutcome(done, { outcome: 'CANCEL' }),
        returnErrorUrl: withOutcome(done, { outcome: 'ERROR' }),
      },
      actor: `${CITIZEN_ACTOR}:session:${session.id}`,
    });
    if (result.status !== 'redirect') {
      const why = result.status === 'unavailable' ? result.reason : (result.fault?.faultCode ?? 'refused');
      throw domainError('NODE_UNAVAILABLE', `the pagoPA node could not open the payment: ${why}`, {});
    }
    const nodeSessionId = 'nodeSessionId' in result ? result.nodeSessionId : null;
    await store.paymentSessions.setCheckoutUrl(session.id, result.url, nodeSessionId);
    return { redirectUrl: result.url };
  } catch (err) {
    await releaseNonce(store, session, isDomainError(err) ? err.code : 'unexpected error');
    throw err;
  }
}

export type ReturnOutcome = 'OK' | 'CANCEL' | 'ERROR';

function outcomeOf(value: unknown): ReturnOutcome {
  return value === 'OK' || value === 'CANCEL' ? value : 'ERROR';
}

/**
 * The citizen is back from pagoPA: records how it went and answers the gestionale's URL to send
 * them on to (cancelUrl on cancel), with `outcome`, `sessionId` and `noticeNumber` added. The
 * token may have expired meanwhile (its signature still counts). The outcome is OK when the option
 * is paid, else what the checkout said (CANCEL for a link never used): a receipt may still be on
 * its way, so the gestionale confirms with getPaymentStatus or notifyPayment.
 */
export async function finishSession(
  store: Store,
  settings: RedirectSettings,
  token: string,
  reported: unknown,
): Promise<string> {
  const session = await sessionOf(store, settings, token, true);
  const position = await store.positions.findById(session.positionId);
  const option = position?.options.find((o) => o.noticeNumber === session.noticeNumber);
  // What the database knows beats the query: a paid option is OK (the receipt is in), and a link
  // never used to start a payment paid nothing through it.
  const outcome: ReturnOutcome =
    option && option.status !== 'UNPAID' ? 'OK' : session.status === 'OPEN' ? 'CANCEL' : outcomeOf(reported);
  const to = outcome === 'OK' ? 'COMPLETED' : outcome === 'CANCEL' ? 'CANCELLED' : 'FAILED';
  await store.paymentSessions.finish(session.id, to, {
    cause: `Asincrona: back from pagoPA with outcome ${outcome}`,
    actor: CITIZEN_ACTOR,
  });
  const target = outcome === 'CANCEL' ? (session.cancelUrl ?? session.returnUrl) : session.returnUrl;
  return withOutcome(target, { outcome, sessionId: session.id, noticeNumber: session.noticeNumber });
}

/**
 * Model 1 (legacy station): the node sent the citizen to the station's redirect URL with its
 * `idDominio`, `idSession` and `esito`. Answers the session's own `/done` URL (which settles the
 * outcome from the option's status), with OK for esito OK and ERROR otherwise.
 * REDIRECT_TOKEN_INVALID when no session started a payment with this idSession, or idDominio is
 * not its ente's.
 */
export async function rptReturnTarget(
  store: Store,
  settings: RedirectSettings,
  query: { idDominio?: unknown; idSession?: unknown; esito?: unknown },
): Promise<string> {
  const idSession = typeof query.idSession === 'string' ? query.idSession : '';
  const unknown = () =>
    domainError('REDIRECT_TOKEN_INVALID', 'no payment session for this idSession', { reason: 'unknown' });
  if (!idSession || idSession.length > 128) throw unknown();
  const session = await store.paymentSessions.findByNodeSession(idSession);
  if (!session) throw unknown();
  if (typeof query.idDominio === 'string' && query.idDominio !== '') {
    const ente = await store.enti.getById(session.enteId);
    if (ente?.fiscalCode !== query.idDominio) throw unknown();
  }
  const token = signRedirectToken(settings.secret, {
    sessionId: session.id,
    expiresAt: new Date(session.expiresAt),
    nonce: session.nonce,
  });
  const done = `${settings.access.connectorUrl()}/pay/session/${token}/done`;
  return withOutcome(done, { outcome: query.esito === 'OK' ? 'OK' : 'ERROR' });
}

/** What the printable notice (avviso) shows, with the pagoPA QR payload as text. */
export interface PrintableNotice {
  view: SessionView;
  amountCents: number;
  qrPayload: string;
}

export async function printableNotice(
  store: Store,
  settings: RedirectSettings,
  token: string,
): Promise<PrintableNotice> {
  const view = await openSession(store, settings, token);
  const amountCents = view.option.amountCents;
  return {
    view,
    amountCents,
    qrPayload: noticeQrPayload(view.noticeNumber, view.ente.fiscalCode, amountCents),
  };
}

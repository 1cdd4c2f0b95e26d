// Signed redirect tokens of the Asincrona model (DESIGN §9): `<payload>.<mac>`, both base64url, the
// payload a small JSON {v, sid, exp, n} (session id, expiry in epoch seconds, the session's nonce),
// the MAC an HMAC-SHA256 of the payload text under a key derived from PPAY_SECRET for this use only
// (so a portal session signed with the same secret can never pass as a redirect token). The token
// proves who issued it and until when it is valid; the one-use rule is the nonce, consumed in the
// database by the first payment start (src/db/repositories/paymentSessions.ts).

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { domainError } from '../domain/errors.ts';

const VERSION = 1;
const KEY_LABEL = 'ppay-connector redirect token v1';
/** No legitimate token is longer: a longer one is refused before any parsing. */
const MAX_TOKEN_LENGTH = 512;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface RedirectTokenPayload {
  sessionId: string;
  expiresAt: Date;
  nonce: string;
}

export interface VerifyOptions {
  now?: Date;
  /** Accept a token past its expiry (its signature is still checked): the citizen's way back. */
  allowExpired?: boolean;
}

function keyFor(secret: string): Buffer {
  return createHmac('sha256', secret).update(KEY_LABEL).digest();
}

function macOf(secret: string, payloadPart: string): Buffer {
  return createHmac('sha256', keyFor(secret)).update(payloadPart).digest();
}

function invalid(reason: string): never {
  throw domainError('REDIRECT_TOKEN_INVALID', `the redirect token is not valid: ${reason}`, { reason });
}

/** A fresh one-use nonce (128 random bits, base64url). */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function signRedirectToken(secret: string, payload: RedirectTokenPayload): string {
  const body = {
    v: VERSION,
    sid: payload.sessionId,
    exp: Math.floor(payload.expiresAt.getTime() / 1000),
    n: payload.nonce,
  };
  const payloadPart = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  return `${payloadPart}.${macOf(secret, payloadPart).toString('base64url')}`;
}

function parsePayload(payloadPart: string): RedirectTokenPayload {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  } catch {
    return invalid('payload is not JSON');
  }
  const { v, sid, exp, n } = (body ?? {}) as Record<string, unknown>;
  if (v !== VERSION || typeof sid !== 'string' || typeof n !== 'string' || !Number.isSafeInteger(exp)) {
    return invalid('payload fields');
  }
  return { sessionId: sid, expiresAt: new Date((exp as number) * 1000), nonce: n };
}

/**
 * The token's payload once its MAC checks (REDIRECT_TOKEN_INVALID otherwise: malformed or
 * tampered) and, unless allowed, it has not expired (REDIRECT_TOKEN_EXPIRED).
 */
export function verifyRedirectToken(
  secret: string,
  token: string,
  options: VerifyOptions = {},
): RedirectTokenPayload {
  if (token.length > MAX_TOKEN_LENGTH) invalid('too long');
  const [payloadPart, macPart, ...rest] = token.split('.');
  if (!payloadPart || !macPart || rest.length > 0) invalid('not two parts');
  if (!BASE64URL.test(payloadPart) || !BASE64URL.test(macPart)) invalid('not base64url');
  // Compared as text with the signature encoded afresh, not after decoding the given one: the
  // decoder ignores a last character's padding bits, so a changed character could still decode
  // to the right bytes. Only the canonical encoding passes.
  const expected = Buffer.from(macOf(secret, payloadPart).toString('base64url'), 'utf8');
  const given = Buffer.from(macPart, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) invalid('signature mismatch');
  const payload = parsePayload(payloadPart);
  const now = options.now ?? new Date();
  if (!options.allowExpired && now.getTime() >= payload.expiresAt.getTime()) {
    throw domainError('REDIRECT_TOKEN_EXPIRED', 'the redirect token has expired', {
      expiresAt: payload.expiresAt.toISOString(),
    });
  }
  return payload;
}

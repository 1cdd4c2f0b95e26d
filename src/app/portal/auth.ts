// Portal users and login (issue 8 item 2): passwords hashed with scrypt (src/app/passwords.ts),
// failed logins counted per username and per client address so guessing is throttled, sessions
// kept server-side under the SHA-256 of a random cookie value, every login, logout and refusal in
// the event log with the user (never the password).

import { createHash, randomBytes } from 'node:crypto';
import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { PortalRole, PortalSession, PortalUser } from '../../db/repositories/portalUsers.ts';
import { hashPassword, verifyPassword } from '../passwords.ts';

/** Failures of one username within the window before it is locked. */
export const MAX_LOGIN_FAILURES = 5;
/** Failures from one address (any usernames) within the window before it is locked. */
export const MAX_ADDRESS_FAILURES = 20;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const LOGIN_LOCK_MS = 15 * 60 * 1000;
export const SESSION_TTL_MS = 8 * 3600 * 1000;
export const MIN_PASSWORD_LENGTH = 10;

const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;

/** The actor written in the event log for what a portal user does. */
export function portalActor(user: Pick<PortalUser, 'username'>): string {
  return `portal:${user.username}`;
}

export interface NewUserInput {
  username: string;
  fullName: string;
  password: string;
  role: PortalRole;
  /** The ente's fiscal code, for operators. */
  enteFiscalCode?: string | undefined;
}

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw domainError('INVALID_INPUT', `the password must have at least ${MIN_PASSWORD_LENGTH} characters`, {
      field: 'password',
    });
}

export async function createPortalUser(
  store: Store,
  input: NewUserInput,
  actor: string,
): Promise<PortalUser> {
  const username = input.username.trim().toLowerCase();
  if (!USERNAME.test(username))
    throw domainError(
      'INVALID_INPUT',
      'the username takes 3-64 lowercase letters, digits, dot, dash, underscore',
      {
        field: 'username',
      },
    );
  if (!input.fullName.trim())
    throw domainError('INVALID_INPUT', 'the full name is required', { field: 'fullName' });
  if (input.role !== 'admin' && input.role !== 'operator')
    throw domainError('INVALID_INPUT', 'the role is admin or operator', { field: 'role' });
  checkPassword(input.password);
  let enteId: number | null = null;
  if (input.role === 'operator') {
    const code = input.enteFiscalCode?.trim();
    if (!code) throw domainError('INVALID_INPUT', 'an operator belongs to an ente', { field: 'ente' });
    const ente = await store.enti.getByFiscalCode(code);
    if (!ente) throw domainError('ENTE_UNKNOWN', `no ente ${code}`, { field: 'ente' });
    enteId = ente.id;
  }
  const passwordHash = await hashPassword(input.password);
  return store.transaction(async (tx) => {
    const user = await tx.portalUsers.create({
      username,
      fullName: input.fullName.trim(),
      passwordHash,
      role: input.role,
      enteId,
    });
    await tx.events.append({
      entityType: 'portal_user',
      entityId: user.id,
      action: 'create',
      toStatus: 'active',
      cause: `portal user ${username} created (${input.role})`,
      actor,
    });
    return user;
  });
}

export async function changePortalPassword(
  store: Store,
  user: PortalUser,
  password: string,
  actor: string,
): Promise<void> {
  checkPassword(password);
  const hash = await hashPassword(password);
  await store.transaction(async (tx) => {
    await tx.portalUsers.setPassword(user.id, hash);
    await tx.events.append({
      entityType: 'portal_user',
      entityId: user.id,
      action: 'password',
      cause: `password of ${user.username} changed`,
      actor,
    });
  });
}

export async function setPortalUserStatus(
  store: Store,
  user: PortalUser,
  status: 'active' | 'disabled',
  actor: string,
): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.portalUsers.setStatus(user.id, status);
    await tx.events.append({
      entityType: 'portal_user',
      entityId: user.id,
      action: 'status',
      fromStatus: user.status,
      toStatus: status,
      cause: `portal user ${user.username} ${status === 'disabled' ? 'disabled' : 'enabled'}`,
      actor,
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Login throttling
// ---------------------------------------------------------------------------------------------

function throttleKeys(username: string, ip: string): string[] {
  return [`user:${username.slice(0, 64).toLowerCase()}`, `ip:${ip.slice(0, 64)}`];
}

async function lockedUntil(store: Store, keys: string[], now: Date): Promise<string | null> {
  for (const key of keys) {
    const entry = await store.portalUsers.loginFailures(key);
    if (entry?.lockedUntil && entry.lockedUntil > now.toISOString()) return entry.lockedUntil;
  }
  return null;
}

async function countFailure(store: Store, keys: string[], now: Date): Promise<void> {
  for (const key of keys) {
    const entry = await store.portalUsers.loginFailures(key);
    const fresh = !entry || Date.parse(entry.windowStartedAt) + LOGIN_WINDOW_MS < now.getTime();
    const failures = fresh ? 1 : entry.failures + 1;
    await store.portalUsers.saveLoginFailures({
      key,
      failures,
      windowStartedAt: fresh ? now.toISOString() : entry.windowStartedAt,
      lockedUntil:
        failures >= (key.startsWith('ip:') ? MAX_ADDRESS_FAILURES : MAX_LOGIN_FAILURES)
          ? new Date(now.getTime() + LOGIN_LOCK_MS).toISOString()
          : null,
    });
  }
}

export interface LoginAttempt {
  username: string;
  password: string;
  /** The client's address, for the per-address counter. */
  ip: string;
  now?: Date;
}

/**
 * The user whose credentials these are. Wrong credentials (unknown user, wrong password, disabled
 * user: one message for all) are UNAUTHORIZED; a username or address with too many recent failures
 * is TOO_MANY_ATTEMPTS until its lock ends, even with the right password.
 */
export async function authenticate(store: Store, attempt: LoginAttempt): Promise<PortalUser> {
  const now = attempt.now ?? new Date();
  const username = attempt.username.trim().toLowerCase();
  const keys = throttleKeys(username, attempt.ip);
  const refuse = async (reason: string) => {
    await store.events.append({
      entityType: 'portal_login',
      entityId: username.slice(0, 64) || '-',
      action: 'refused',
      cause: reason,
      actor: `portal:${attempt.ip.slice(0, 64)}`,
    });
  };
  const locked = await lockedUntil(store, keys, now);
  if (locked) {
    await refuse('login refused: too many failed attempts');
    throw domainError('TOO_MANY_ATTEMPTS', 'too many failed logins, try again later', { until: locked });
  }
  const found = username ? await store.portalUsers.findForLogin(username) : null;
  // Verify even for an unknown user, so timing does not tell which usernames exist.
  const ok = await verifyPassword(attempt.password, found?.passwordHash ?? (await dummyHash()));
  if (!found || !ok || found.user.status !== 'active') {
    await countFailure(store, keys, now);
    await refuse(
      !found
        ? 'login refused: unknown user'
        : !ok
          ? 'login refused: wrong password'
          : 'login refused: user disabled',
    );
    throw domainError('UNAUTHORIZED', 'wrong username or password');
  }
  // Only the username's counter: a valid account must not wipe an address's record of guessing.
  await store.portalUsers.clearLoginFailures(keys[0] as string);
  await store.portalUsers.touchLogin(found.user.id);
  await store.events.append({
    entityType: 'portal_user',
    entityId: found.user.id,
    action: 'login',
    cause: `login from ${attempt.ip}`,
    actor: portalActor(found.user),
  });
  return found.user;
}

/** A hash to verify against for unknown users, made on the first such login, not at start-up. */
let dummy: Promise<string> | null = null;
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(12).toString('hex'));
  return dummy;
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

export function hashSessionId(cookieValue: string): string {
  return createHash('sha256').update(cookieValue).digest('hex');
}

export interface OpenedSession {
  /** The value for the cookie; only its hash is stored. */
  cookieValue: string;
  session: PortalSession;
}

/** A new session (anonymous when user is null) with its own CSRF token. */
export async function openPortalSession(
  store: Store,
  user: PortalUser | null,
  now: Date = new Date(),
): Promise<OpenedSession> {
  const cookieValue = randomBytes(32).toString('base64url');
  const session = await store.portalUsers.createSession({
    idHash: hashSessionId(cookieValue),
    userId: user?.id ?? null,
    csrfToken: randomBytes(24).toString('base64url'),
    expiresAt: new Date(now.getTime() + SESSION_TTL_MS).toISOString(),
  });
  return { cookieValue, session };
}

export interface ActiveSession {
  session: PortalSession;
  user: PortalUser | null;
}

/** The live session of a cookie value, with its user (still active) when logged in. */
export async function resumePortalSession(store: Store, cookieValue: string): Promise<ActiveSession | null> {
  if (!cookieValue || cookieValue.length > 128) return null;
  const session = await store.portalUsers.findSession(hashSessionId(cookieValue));
  if (!session) return null;
  if (session.userId === null) return { session, user: null };
  const user = await store.portalUsers.get(session.userId);
  if (!user || user.status !== 'active') return { session, user: null };
  return { session, user };
}

export async function closePortalSession(store: Store, active: ActiveSession): Promise<void> {
  await store.portalUsers.deleteSession(active.session.idHash);
  if (active.user) {
    await store.events.append({
      entityType: 'portal_user',
      entityId: active.user.id,
      action: 'logout',
      cause: 'logout',
      actor: portalActor(active.user),
    });
  }
}

// What every portal route module is given, and what the portal middleware leaves on res.locals for
// the request: the session, its user (null before login) and the CSRF token of its forms.

import type { Request, Response } from 'express';
import type { Store } from '../db/store.ts';
import type { PortalSession, PortalUser } from '../db/repositories/portalUsers.ts';
import type { RedirectSettings } from '../app/gestionale/paymentSession.ts';
import { domainError } from '../domain/errors.ts';
import { portalActor } from '../app/portal/auth.ts';

export interface PortalContext {
  store: Store;
  /** Node access (the emulator or PPAY_NODE_URL) and the secret, shared with the citizen pages. */
  redirect: RedirectSettings;
  /** PPAY_DATA_DIR, for files the portal keeps (upload outcomes). */
  dataDir: string;
  /** Where unexpected errors are reported, with the id the page shows. */
  onUnexpected: (err: unknown, id: string) => void;
}

export interface PortalLocals {
  session: PortalSession;
  user: PortalUser | null;
  /** A one-shot message left by the previous request (post/redirect/get). */
  flash: Flash | null;
}

export interface Flash {
  kind: 'success' | 'danger' | 'info' | 'warning';
  text: string;
}

export function portalLocals(res: Response): PortalLocals {
  return res.locals.portal as PortalLocals;
}

/** The logged-in user; routes behind requireLogin only. */
export function currentUser(res: Response): PortalUser {
  const user = portalLocals(res).user;
  if (!user) throw domainError('UNAUTHORIZED', 'not logged in');
  return user;
}

export function actorOf(res: Response): string {
  return portalActor(currentUser(res));
}

/**
 * The ente ids the user may see: an operator's own ente, every ente (null) for an admin.
 * Every query of ente data is scoped by this.
 */
export function visibleEnteIds(user: PortalUser): number[] | null {
  return user.role === 'admin' ? null : user.enteId === null ? [] : [user.enteId];
}

export function canSeeEnte(user: PortalUser, enteId: number): boolean {
  const ids = visibleEnteIds(user);
  return ids === null || ids.includes(enteId);
}

/**
 * Refuses, as "not found", a record of an ente the user may not see: a direct URL to another
 * ente's data does not even tell that it exists.
 */
export function requireEnteAccess(user: PortalUser, enteId: number, what = 'record'): void {
  if (!canSeeEnte(user, enteId)) throw domainError('POSITION_UNKNOWN', `no such ${what}`, { notFound: true });
}

/** A query-string or form value as one trimmed string ('' when absent or repeated). */
export function field(source: Request['query'] | Record<string, unknown> | undefined, name: string): string {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.trim() : '';
}

// Request plumbing shared by the portal's route modules: async handlers whose failures become
// Italian error pages, the login and admin guards, post/redirect/get messages, and the list of enti
// a user may act for.

import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isDomainError } from '../domain/errors.ts';
import type { Ente } from '../db/repositories/enti.ts';
import type { PortalUser } from '../db/repositories/portalUsers.ts';
import { html } from './citizen/html.ts';
import { currentUser, portalLocals, type Flash, type PortalContext } from './context.ts';
import { PORTAL, portalPage, type PortalFrame } from './layout.ts';
import { italianMessage, statusOf } from './messages.ts';

export const PORTAL_SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; font-src 'self' data:; img-src 'self' data:; script-src 'self'; " +
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

export function sendPage(res: Response, status: number, frame: PortalFrame): void {
  res
    .status(status)
    .set(PORTAL_SECURITY_HEADERS)
    .type('text/html; charset=utf-8')
    .send(portalPage(res, frame));
}

/** A file download (CSV, xlsx, PDF) with a safe Content-Disposition. */
export function sendFile(res: Response, contentType: string, fileName: string, body: Buffer | string): void {
  const safe = fileName.replace(/[^A-Za-z0-9._-]/g, '_');
  res
    .status(200)
    .set({ ...PORTAL_SECURITY_HEADERS, 'Content-Disposition': `attachment; filename="${safe}"` })
    .type(contentType)
    .send(body);
}

export function errorPage(res: Response, status: number, title: string, text: string): void {
  sendPage(res, status, {
    title,
    body: html`<div class="alert alert-danger" role="alert">${text}</div>
      <p><a href="${PORTAL}/">Torna al cruscotto</a></p>`,
  });
}

/** Leaves a message for the next page and redirects there (303, so a reload does not re-post). */
export async function redirectWithFlash(
  ctx: PortalContext,
  res: Response,
  location: string,
  flash: Flash,
): Promise<void> {
  await ctx.store.portalUsers.setFlash(portalLocals(res).session.idHash, JSON.stringify(flash));
  res.set(PORTAL_SECURITY_HEADERS).redirect(303, location);
}

function failurePage(ctx: PortalContext, res: Response, err: unknown): void {
  if (isDomainError(err)) {
    const field = typeof err.details.field === 'string' ? ` (campo: ${err.details.field})` : '';
    return errorPage(res, statusOf(err), 'Operazione non riuscita', italianMessage(err) + field);
  }
  const id = randomUUID();
  ctx.onUnexpected(err, id);
  errorPage(res, 500, 'Errore imprevisto', `Si è verificato un errore imprevisto (codice ${id}).`);
}

/**
 * An async route whose failures become pages: a DomainError gives its status and Italian message
 * (the field it names, when any), anything else a 500 with an id to quote, reported to ctx.
 */
export function handler(
  ctx: PortalContext,
  fn: (req: Request, res: Response) => Promise<void>,
): RequestHandler {
  return (req, res, next) => {
    fn(req, res).catch((err: unknown) => (res.headersSent ? next(err) : failurePage(ctx, res, err)));
  };
}

/** An async middleware: the request goes on when fn resolves true (fn answered it otherwise). */
export function middleware(
  ctx: PortalContext,
  fn: (req: Request, res: Response) => Promise<boolean>,
): RequestHandler {
  return (req, res, next) => {
    fn(req, res).then(
      (proceed) => (proceed ? next() : undefined),
      (err: unknown) => (res.headersSent ? next(err) : failurePage(ctx, res, err)),
    );
  };
}

/** Pages behind login: a GET goes to the login page and comes back; anything else is refused. */
export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (portalLocals(res).user) return next();
  if (req.method === 'GET' || req.method === 'HEAD') {
    const nextUrl = encodeURIComponent(req.originalUrl);
    res.set(PORTAL_SECURITY_HEADERS).redirect(303, `${PORTAL}/login?next=${nextUrl}`);
    return;
  }
  errorPage(res, 401, 'Accesso richiesto', 'La sessione è scaduta: accedi di nuovo.');
}

export function requireAdmin(_req: Request, res: Response, next: NextFunction): void {
  const user = portalLocals(res).user;
  if (user?.role === 'admin') return next();
  errorPage(res, 403, 'Accesso negato', 'Questa funzione è riservata agli amministratori del connettore.');
}

/** The enti the user may act for: all for an admin, its own for an operator. */
export async function enteChoices(ctx: PortalContext, user: PortalUser): Promise<Ente[]> {
  const enti = await ctx.store.enti.list();
  return user.role === 'admin' ? enti : enti.filter((e) => e.id === user.enteId);
}

/**
 * The ente a request acts for, from its `ente` parameter (a fiscal code): an operator always gets
 * its own, whatever it asks; an admin gets the one it names, or null for "all".
 */
export async function chosenEnte(ctx: PortalContext, res: Response, requested: string): Promise<Ente | null> {
  const user = currentUser(res);
  const choices = await enteChoices(ctx, user);
  if (user.role !== 'admin') return choices[0] ?? null;
  return choices.find((e) => e.fiscalCode === requested) ?? null;
}

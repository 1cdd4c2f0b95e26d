// The operator portal under /portal (DESIGN §10, issue 8): server-rendered pages with Bootstrap
// Italia. This module owns the session cookie, the CSRF check of every POST, login and logout and
// the dashboard; each area of the portal registers its routes from ./routes/.
//
// Sessions live in portal_sessions (shared by every connector instance), keyed by the SHA-256 of
// an HttpOnly, SameSite=Lax cookie scoped to /portal. A visitor gets an anonymous session at once,
// so the login form too carries a CSRF token; logging in replaces it (no session fixation).
// Every POST must carry the session's token: in the form body (`_csrf`), or in the query string
// for multipart forms, whose body is parsed only by the route that accepts the upload.

import { timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import { isDomainError } from '../domain/errors.ts';
import {
  authenticate,
  closePortalSession,
  openPortalSession,
  resumePortalSession,
  SESSION_TTL_MS,
  type ActiveSession,
} from '../app/portal/auth.ts';
import { html } from './citizen/html.ts';
import { field, portalLocals, type PortalContext, type PortalLocals } from './context.ts';
import {
  enteChoices,
  errorPage,
  handler,
  middleware,
  PORTAL_SECURITY_HEADERS,
  requireAdmin,
  requireLogin,
  sendPage,
} from './http.ts';
import { csrfField, PORTAL, PORTAL_CSS, PORTAL_JS } from './layout.ts';
import { italianMessage, statusOf } from './messages.ts';
import { registerAdmin } from './routes/admin.ts';
import { registerMonitoring } from './routes/monitoring.ts';
import { registerNotices } from './routes/notices.ts';
import { registerPositions } from './routes/positions.ts';
import { dashboardPanels, registerReports } from './routes/reports.ts';
import { registerSpontaneousAdmin } from './routes/spontaneous.ts';
import { registerUploads } from './routes/upload.ts';

export const SESSION_COOKIE = 'ppay_portal';
/** Form bodies are small; uploads have their own limit in ./routes/upload.ts. */
const FORM_BODY_LIMIT = '256kb';

export interface PortalOptions extends Partial<Pick<PortalContext, 'onUnexpected'>> {
  /** Secure cookies: on when the connector's public URL is https. */
  secureCookies?: boolean;
}

function parseFlash(text: string | null): PortalLocals['flash'] {
  if (!text) return null;
  try {
    return JSON.parse(text) as PortalLocals['flash'];
  } catch {
    return null;
  }
}

function clientIp(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

function setSessionCookie(res: Response, value: string, secure: boolean): void {
  res.append(
    'Set-Cookie',
    serializeCookie(SESSION_COOKIE, value, {
      httpOnly: true,
      sameSite: 'lax',
      secure,
      path: PORTAL,
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
    }),
  );
}

function clearSessionCookie(res: Response, secure: boolean): void {
  res.append(
    'Set-Cookie',
    serializeCookie(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure, path: PORTAL, maxAge: 0 }),
  );
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Only the portal's own pages are places to return to after login. */
function safeNext(value: string): string {
  return /^\/portal\/[A-Za-z0-9/_\-.?=&%]*$/.test(value) && !value.includes('//') ? value : `${PORTAL}/`;
}

function loginPage(res: Response, status: number, next: string, error?: string, username = ''): void {
  sendPage(res, status, {
    title: 'Accesso al portale',
    body: html`<div class="row">
      <div class="col-md-6 col-lg-5">
        ${error ? html`<div class="alert alert-danger" role="alert">${error}</div>` : ''}
        <form method="post" action="${PORTAL}/login" novalidate>
          ${csrfField(res)}
          <input type="hidden" name="next" value="${next}" />
          <div class="form-group">
            <label for="username" class="active">Nome utente</label>
            <input
              type="text"
              class="form-control"
              id="username"
              name="username"
              value="${username}"
              autocomplete="username"
              required
            />
          </div>
          <div class="form-group">
            <label for="password" class="active">Password</label>
            <input
              type="password"
              class="form-control"
              id="password"
              name="password"
              autocomplete="current-password"
              required
            />
          </div>
          <button type="submit" class="btn btn-primary">Accedi</button>
        </form>
      </div>
    </div>`,
  });
}

export function portalRouter(context: Omit<PortalContext, 'onUnexpected'> & PortalOptions): Router {
  const ctx: PortalContext = {
    ...context,
    onUnexpected:
      context.onUnexpected ??
      ((err: unknown, id: string) => void process.stderr.write(`portal ${id}: ${String(err)}\n`)),
  };
  const secure = context.secureCookies ?? false;
  const router = express.Router();

  router.get('/static/portal.css', (_req, res) => {
    res.type('text/css').set('Cache-Control', 'public, max-age=3600').send(PORTAL_CSS);
  });
  router.get('/static/portal.js', (_req, res) => {
    res.type('text/javascript').set('Cache-Control', 'public, max-age=3600').send(PORTAL_JS);
  });

  // The session of every request (a new anonymous one when the cookie names none).
  router.use(
    middleware(ctx, async (req, res) => {
      const cookieValue = parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE] ?? '';
      let active: ActiveSession | null = await resumePortalSession(ctx.store, cookieValue);
      if (!active) {
        const opened = await openPortalSession(ctx.store, null);
        setSessionCookie(res, opened.cookieValue, secure);
        active = { session: opened.session, user: null };
      }
      const flashText = active.session.flash
        ? await ctx.store.portalUsers.takeFlash(active.session.idHash)
        : null;
      const locals: PortalLocals = {
        session: active.session,
        user: active.user,
        flash: parseFlash(flashText),
      };
      res.locals.portal = locals;
      return true;
    }),
  );

  router.use(express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 2000 }));

  // CSRF: every state-changing request carries the session's token.
  router.use(
    middleware(ctx, async (req, res) => {
      if (req.method === 'GET' || req.method === 'HEAD') return true;
      const body = (req.body ?? {}) as Record<string, unknown>;
      const given = field(body, '_csrf') || field(req.query, '_csrf');
      const { session, user } = portalLocals(res);
      if (given && sameToken(given, session.csrfToken)) return true;
      await ctx.store.events.append({
        entityType: 'portal_request',
        entityId: req.path.slice(0, 64),
        action: 'refused',
        cause: 'CSRF token missing or wrong',
        actor: user ? `portal:${user.username}` : `portal:${clientIp(req)}`,
      });
      errorPage(
        res,
        403,
        'Richiesta non valida',
        'Il modulo non contiene un token di sicurezza valido (la pagina potrebbe essere scaduta). Ricarica la pagina e riprova.',
      );
      return false;
    }),
  );

  router.get('/login', (req, res) => {
    if (portalLocals(res).user)
      return void res.set(PORTAL_SECURITY_HEADERS).redirect(303, safeNext(field(req.query, 'next')));
    loginPage(res, 200, safeNext(field(req.query, 'next')));
  });

  router.post(
    '/login',
    handler(ctx, async (req, res) => {
      const body = req.body as Record<string, unknown>;
      const username = field(body, 'username');
      const password = typeof body.password === 'string' ? body.password : '';
      const next = safeNext(field(body, 'next'));
      try {
        const user = await authenticate(ctx.store, { username, password, ip: clientIp(req) });
        await ctx.store.portalUsers.deleteSession(portalLocals(res).session.idHash);
        await ctx.store.portalUsers.purgeExpiredSessions();
        const opened = await openPortalSession(ctx.store, user);
        setSessionCookie(res, opened.cookieValue, secure);
        res.set(PORTAL_SECURITY_HEADERS).redirect(303, next);
      } catch (err) {
        if (!isDomainError(err) || (err.code !== 'UNAUTHORIZED' && err.code !== 'TOO_MANY_ATTEMPTS'))
          throw err;
        loginPage(res, statusOf(err), next, italianMessage(err), username);
      }
    }),
  );

  router.post(
    '/logout',
    handler(ctx, async (_req, res) => {
      const { session, user } = portalLocals(res);
      await closePortalSession(ctx.store, { session, user });
      clearSessionCookie(res, secure);
      res.set(PORTAL_SECURITY_HEADERS).redirect(303, `${PORTAL}/login`);
    }),
  );

  router.use(requireLogin);

  router.get(
    '/',
    handler(ctx, async (_req, res) => {
      const user = portalLocals(res).user!;
      const enti = await enteChoices(ctx, user);
      sendPage(res, 200, {
        title: 'Cruscotto',
        active: `${PORTAL}/`,
        lead: user.role === 'admin' ? 'Amministrazione del connettore: tutti gli enti' : enti[0]?.name,
        body: html`${await dashboardPanels(ctx, user)}
          <h2 class="h4 mt-4">Enti</h2>
          <ul class="list-unstyled" data-testid="enti">
            ${enti.map((e) => html`<li>${e.name} <span class="text-muted">(${e.fiscalCode})</span></li>`)}
          </ul>`,
      });
    }),
  );

  // Everything under /admin is the connector admin's, whatever the route modules forget.
  router.use('/admin', requireAdmin);
  registerPositions(router, ctx);
  registerUploads(router, ctx);
  registerSpontaneousAdmin(router, ctx);
  registerMonitoring(router, ctx);
  registerReports(router, ctx);
  registerNotices(router, ctx);
  registerAdmin(router, ctx);

  router.use((_req, res) => errorPage(res, 404, 'Pagina non trovata', 'La pagina richiesta non esiste.'));
  return router;
}

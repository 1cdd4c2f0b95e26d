// The portal's page frame: Bootstrap Italia header with the user and a logout button (a POST form
// with its CSRF token), the navigation by role, the one-shot message, and the page body. Every
// value goes through the html tag of ./citizen/html.ts, which escapes it.

import type { Response } from 'express';
import type { PortalUser } from '../db/repositories/portalUsers.ts';
import { ASSETS, html, type Html } from './citizen/html.ts';
import { portalLocals, type Flash } from './context.ts';

export const PORTAL = '/portal';

interface NavItem {
  href: string;
  label: string;
  /** Shown to admins only. */
  admin?: boolean;
}

export const NAV: readonly NavItem[] = [
  { href: `${PORTAL}/`, label: 'Cruscotto' },
  { href: `${PORTAL}/posizioni`, label: 'Posizioni' },
  { href: `${PORTAL}/posizioni/nuova`, label: 'Nuova posizione' },
  { href: `${PORTAL}/caricamenti`, label: 'Caricamento Excel' },
  { href: `${PORTAL}/pagamenti`, label: 'Pagamenti' },
  { href: `${PORTAL}/riconciliazione`, label: 'Riconciliazione' },
  { href: `${PORTAL}/notifiche`, label: 'Notifiche' },
  { href: `${PORTAL}/report`, label: 'Report' },
  { href: `${PORTAL}/spontanei`, label: 'Pagamenti spontanei' },
  { href: `${PORTAL}/admin`, label: 'Amministrazione', admin: true },
];

export interface PortalFrame {
  title: string;
  body: Html;
  /** The nav entry to mark as current (its href). */
  active?: string | undefined;
  /** Breadcrumb-like line under the title. */
  lead?: string | Html | undefined;
}

/** The hidden CSRF field every portal form carries. */
export function csrfField(res: Response): Html {
  return html`<input type="hidden" name="_csrf" value="${portalLocals(res).session.csrfToken}" />`;
}

/** The CSRF token as a query parameter, for multipart forms (read before the body is parsed). */
export function csrfQuery(res: Response): string {
  return `_csrf=${encodeURIComponent(portalLocals(res).session.csrfToken)}`;
}

function flashBox(flash: Flash | null): Html | string {
  if (!flash) return '';
  return html`<div class="alert alert-${flash.kind}" role="${flash.kind === 'danger' ? 'alert' : 'status'}">
    ${flash.text}
  </div>`;
}

function nav(user: PortalUser, active: string | undefined): Html {
  const items = NAV.filter((item) => !item.admin || user.role === 'admin');
  return html`<nav class="portal-nav" aria-label="Menu principale">
    <div class="container">
      <ul class="nav flex-row flex-wrap">
        ${items.map(
          (item) =>
            html`<li class="nav-item">
              <a
                class="nav-link${item.href === active ? ' active' : ''}"
                href="${item.href}"
                ${item.href === active ? html`aria-current="page"` : ''}
                ><span>${item.label}</span></a
              >
            </li>`,
        )}
      </ul>
    </div>
  </nav>`;
}

function userBar(res: Response, user: PortalUser | null): Html | string {
  if (!user) return '';
  return html`<div class="it-header-slim-right-zone">
    <span class="text-white me-3" data-testid="current-user"
      >${user.fullName} (${user.username}, ${user.role === 'admin' ? 'amministratore' : 'operatore'})</span
    >
    <form method="post" action="${PORTAL}/logout" class="d-inline">
      ${csrfField(res)}
      <button type="submit" class="btn btn-primary btn-sm">Esci</button>
    </form>
  </div>`;
}

export function portalPage(res: Response, frame: PortalFrame): string {
  const { user, flash } = portalLocals(res);
  return html`<!doctype html>
    <html lang="it">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${frame.title} - Portale enti ppay</title>
        <link rel="stylesheet" href="${ASSETS}/css/bootstrap-italia.min.css" />
        <link rel="stylesheet" href="${ASSETS}/fonts.css" />
        <link rel="stylesheet" href="${PORTAL}/static/portal.css" />
      </head>
      <body>
        <a class="visually-hidden-focusable" href="#main">Vai al contenuto principale</a>
        <header class="it-header-wrapper">
          <div class="it-header-slim-wrapper">
            <div class="container">
              <div class="it-header-slim-wrapper-content">
                <span class="d-none d-lg-block navbar-brand">ppay-connector</span>
                ${userBar(res, user)}
              </div>
            </div>
          </div>
          <div class="it-header-center-wrapper it-small-header">
            <div class="container">
              <div class="it-header-center-content-wrapper">
                <div class="it-brand-wrapper">
                  <a href="${PORTAL}/">
                    <div class="it-brand-text">
                      <div class="it-brand-title">Portale enti</div>
                      <div class="it-brand-tagline d-none d-md-block">
                        Posizioni debitorie e pagamenti pagoPA
                      </div>
                    </div>
                  </a>
                </div>
              </div>
            </div>
          </div>
          ${user ? nav(user, frame.active) : ''}
        </header>
        <main class="container my-4" id="main">
          <h1 class="h2 mb-3">${frame.title}</h1>
          ${frame.lead ? html`<p class="lead">${frame.lead}</p>` : ''} ${flashBox(flash)} ${frame.body}
        </main>
        <footer class="it-footer">
          <div class="it-footer-small-prints clearfix">
            <div class="container">
              <p class="text-white py-3 mb-0">ppay-connector: intermediario tecnologico pagoPA</p>
            </div>
          </div>
        </footer>
        <script src="${PORTAL}/static/portal.js" defer></script>
      </body>
    </html>`.value;
}

/** The portal's own small stylesheet (charts, tables); Bootstrap Italia does the rest. */
export const PORTAL_CSS = `
.chart-bar{fill:#0066cc}
.chart-bar-alt{fill:#008758}
.chart-axis{stroke:#5c6f82;stroke-width:1}
.chart-label{font-size:11px;fill:#17324d}
.table-sm td,.table-sm th{padding:.35rem .5rem}
.timeline-entry{border-left:3px solid #0066cc;padding-left:.75rem;margin-bottom:.75rem}
.nowrap{white-space:nowrap}
.portal-nav{background:#0066cc}
.portal-nav .nav-link{color:#fff;padding:.6rem .8rem;font-weight:600}
.portal-nav .nav-link:hover,.portal-nav .nav-link:focus{color:#fff;text-decoration:underline}
.portal-nav .nav-link.active{color:#fff;border-bottom:3px solid #fff}
`;

/**
 * Progressive enhancement only: pages work without it. Confirms destructive actions (forms with
 * data-confirm) and lets the position form add and remove installment blocks.
 */
export const PORTAL_JS = `
document.addEventListener('submit', function (e) {
  var form = e.target;
  if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) e.preventDefault();
});
`;

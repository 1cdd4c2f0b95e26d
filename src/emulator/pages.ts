// The emulator's checkout pages: plain server-rendered HTML where a person (or a test) picks a PSP
// and pays or cancels. Every value that reaches the page goes through escapeHtml.

import { formatAmount, type SignedCents } from '../domain/money.ts';
import type { Cart, EmulatorPsp } from './db.ts';

export function escapeHtml(value: string | number): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** One thing to pay, as the page lists it (a notice of a checkout cart, or an RPT). */
export interface CheckoutLine {
  /** Notice number, or "IUV <iuv> / CCP <ccp>" for an RPT. */
  reference: string;
  fiscalCode: string;
  companyName: string;
  description: string;
  amountCents: number;
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#17324d}
h1{font-size:1.5rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccd;padding:.4rem;text-align:left}
td.amount,th.amount{text-align:right}fieldset{margin:1rem 0;border:1px solid #ccd}.status{padding:.5rem;background:#eef}
button{font-size:1rem;padding:.4rem 1.2rem;margin-right:1rem}.error{color:#a00}`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="it"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><p><small>pagoPA emulator (ppay-connector) — not the real pagoPA</small></p>${body}</body></html>`;
}

function euro(cents: number): string {
  return `€ ${formatAmount(cents as SignedCents)}`;
}

function linesTable(lines: readonly CheckoutLine[]): string {
  const rows = lines
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.reference)}</td><td>${escapeHtml(l.companyName)}<br><small>${escapeHtml(
          l.fiscalCode,
        )}</small></td><td>${escapeHtml(l.description)}</td><td class="amount">${escapeHtml(euro(l.amountCents))}</td></tr>`,
    )
    .join('');
  const total = lines.reduce((sum, l) => sum + l.amountCents, 0);
  return `<table><thead><tr><th>Avviso</th><th>Ente</th><th>Causale</th><th class="amount">Importo</th></tr></thead>
<tbody>${rows}</tbody><tfoot><tr><th colspan="3">Totale</th><th class="amount" id="total">${escapeHtml(
    euro(total),
  )}</th></tr></tfoot></table>`;
}

export interface CheckoutPage {
  cart: Cart;
  lines: readonly CheckoutLine[];
  psps: readonly EmulatorPsp[];
  error?: string;
}

export function checkoutPage({ cart, lines, psps, error }: CheckoutPage): string {
  const base = `/emulator/checkout/${encodeURIComponent(cart.id)}`;
  const heading = `<h1>Pagamento ${escapeHtml(cart.id)}</h1>`;
  if (cart.status !== 'OPEN') {
    return layout(
      'pagoPA checkout (emulator)',
      `${heading}${linesTable(lines)}<p class="status" id="status" data-status="${escapeHtml(cart.status)}">Stato: ${escapeHtml(
        cart.status,
      )}</p>`,
    );
  }
  const selected = cart.pspId ?? psps[0]?.idPsp;
  const choices = psps
    .map(
      (p) =>
        `<label><input type="radio" name="psp" value="${escapeHtml(p.idPsp)}"${
          p.idPsp === selected ? ' checked' : ''
        }> ${escapeHtml(p.companyName)} <small>(${escapeHtml(p.idPsp)}, ${escapeHtml(p.channelDescription)})</small></label><br>`,
    )
    .join('');
  return layout(
    'pagoPA checkout (emulator)',
    `${heading}${error ? `<p class="error" id="error">${escapeHtml(error)}</p>` : ''}${linesTable(lines)}
<form method="post" action="${escapeHtml(`${base}/pay`)}" id="pay"><fieldset><legend>Scegli il PSP</legend>${choices}</fieldset>
<button type="submit">Paga</button></form>
<form method="post" action="${escapeHtml(`${base}/cancel`)}" id="cancel"><button type="submit">Annulla</button></form>`,
  );
}

export function outcomePage(cart: Cart): string {
  return layout(
    'pagoPA checkout (emulator)',
    `<h1>Pagamento ${escapeHtml(cart.id)}</h1><p class="status" id="status" data-status="${escapeHtml(
      cart.status,
    )}">Stato: ${escapeHtml(cart.status)}</p>`,
  );
}

export function notFoundPage(what: string): string {
  return layout('pagoPA checkout (emulator)', `<h1>Non trovato</h1><p>${escapeHtml(what)}</p>`);
}

export function indexPage(
  endpoints: ReadonlyArray<{ name: string; url: string }>,
  psps: readonly EmulatorPsp[],
): string {
  const items = endpoints
    .map((e) => `<li>${escapeHtml(e.name)}: <code>${escapeHtml(e.url)}</code></li>`)
    .join('');
  const pspItems = psps
    .map((p) => `<li>${escapeHtml(p.idPsp)} — ${escapeHtml(p.companyName)} (${escapeHtml(p.idChannel)})</li>`)
    .join('');
  return layout(
    'pagoPA emulator',
    `<h1>pagoPA emulator</h1><ul>${items}</ul><h2>PSP</h2><ul>${pspItems}</ul>`,
  );
}

// HTML helpers of the citizen pages: escaping (every value written into a page goes through
// escapeHtml or the html tag), Italian formats for money and dates (integer cents in, text out:
// formatting happens only here, at the edge), and the Bootstrap Italia page frame. No scripts.

/** Text or attribute value made safe for HTML. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Markup already built by these helpers (not escaped again). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Template tag: interpolated values are escaped unless they are Html (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

/** 12030 → `120,30 €`; thousands grouped with a dot, as Italian notices write them. */
export function formatEuro(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const euros = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `${sign}${euros},${String(abs % 100).padStart(2, '0')} €`;
}

/** `2027-01-31` → `31/01/2027`; anything else is shown as given. */
export function formatDate(isoDate: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate);
  return match ? `${match[3]}/${match[2]}/${match[1]}` : isoDate;
}

const ROME_DATE_TIME = new Intl.DateTimeFormat('it-IT', {
  timeZone: 'Europe/Rome',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/**
 * `dd/mm/yyyy hh:mm`: an instant with a zone (our UTC timestamps) in Italian time; a local
 * date-time as pagoPA writes it (no zone: already Italian time) as written; '' for none.
 */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '';
  const local = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::[\d.]+)?$/.exec(value);
  if (local) return `${local[3]}/${local[2]}/${local[1]} ${local[4]}:${local[5]}`;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return formatDate(value);
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    ROME_DATE_TIME.formatToParts(at).find((p) => p.type === type)?.value ?? '';
  return `${part('day')}/${part('month')}/${part('year')} ${part('hour')}:${part('minute')}`;
}

export const ASSETS = '/pay/assets';

export interface Frame {
  title: string;
  /** The ente's name in the header, when known. */
  heading?: string | undefined;
  body: Html;
}

export function page(frame: Frame): string {
  return html`<!doctype html>
    <html lang="it">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${frame.title} - pagoPA</title>
        <link rel="stylesheet" href="${ASSETS}/css/bootstrap-italia.min.css" />
        <link rel="stylesheet" href="${ASSETS}/fonts.css" />
      </head>
      <body>
        <header class="it-header-wrapper d-print-none">
          <div class="it-header-center-wrapper">
            <div class="container">
              <div class="row">
                <div class="col-12">
                  <div class="it-header-center-content-wrapper">
                    <div class="it-brand-wrapper">
                      <div class="it-brand-text">
                        <div class="it-brand-title">${frame.heading ?? 'Pagamenti pagoPA'}</div>
                        <div class="it-brand-tagline d-none d-md-block">
                          Pagamenti verso la pubblica amministrazione
                        </div>
                      </div>
                    </div>
                  </div>
                </div>
              </div>
            </div>
          </div>
        </header>
        <main class="container my-5" id="main">
          <h1 class="h2 mb-4">${frame.title}</h1>
          ${frame.body}
        </main>
        <footer class="it-footer d-print-none">
          <div class="it-footer-small-prints clearfix">
            <div class="container">
              <p class="text-white py-3 mb-0">Servizio di pagamento collegato al sistema pagoPA</p>
            </div>
          </div>
        </footer>
      </body>
    </html>`.value;
}

/**
 * @font-face rules for the Titillium Web files Bootstrap Italia ships (its CSS names the family but
 * leaves loading the files to its JavaScript, which these pages do not use).
 */
export function fontsCss(): string {
  const weights: Array<[number, string]> = [
    [300, '300'],
    [400, 'regular'],
    [600, '600'],
    [700, '700'],
  ];
  return weights
    .map(
      ([weight, file]) =>
        `@font-face{font-family:"Titillium Web";font-style:normal;font-weight:${weight};font-display:swap;` +
        `src:url("${ASSETS}/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-${file}.woff2") format("woff2")}`,
    )
    .join('\n');
}

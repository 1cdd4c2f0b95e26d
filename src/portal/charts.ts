// Server-rendered SVG charts of the portal (issue 8 item 6): payments per day and amount per
// service. No JavaScript and no inline styles (the portal's CSP forbids both): SVG presentation
// attributes and the chart-* classes of PORTAL_CSS. Each chart is an image for assistive
// technology (role="img" with an aria-label summing it up), a <title> per bar for mouse users, and
// a visually hidden table with the same figures for screen readers.

import { formatDate, formatEuro, html, type Html } from './citizen/html.ts';

export interface DayPoint {
  /** YYYY-MM-DD (Italian day). */
  date: string;
  count: number;
  amountCents: number;
}

export interface ServicePoint {
  label: string;
  count: number;
  amountCents: number;
}

/** viewBox widths: each chart scales to its column, so these keep the 11px labels near 11px. */
const WIDTH = 720;
const SERVICE_WIDTH = 480;

function paymentsText(count: number): string {
  return count === 1 ? '1 pagamento' : `${count} pagamenti`;
}

/** A round upper bound for the value axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceCeiling(max: number): number {
  if (max <= 0) return 100;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

const n1 = (value: number): string => (Math.round(value * 10) / 10).toString();

function shortDate(date: string): string {
  return `${date.slice(8, 10)}/${date.slice(5, 7)}`;
}

function clipLabel(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Payments per day: a column per day whose height is the amount; its count above it when there is room. */
export function perDayChart(days: readonly DayPoint[], caption = 'Pagamenti per giorno'): Html {
  const totalCount = days.reduce((sum, d) => sum + d.count, 0);
  const totalCents = days.reduce((sum, d) => sum + d.amountCents, 0);
  const height = 240;
  const [left, right, top, bottom] = [72, 8, 18, 40];
  const plotWidth = WIDTH - left - right;
  const plotHeight = height - top - bottom;
  const ceiling = niceCeiling(Math.max(0, ...days.map((d) => d.amountCents)));
  const slot = days.length > 0 ? plotWidth / days.length : plotWidth;
  const barWidth = Math.max(1, slot * 0.8);
  const labelEvery = Math.max(1, Math.ceil(days.length / 10));
  const baseline = top + plotHeight;
  const first = days[0]?.date;
  const last = days[days.length - 1]?.date;
  const summary =
    first && last
      ? `${caption} dal ${formatDate(first)} al ${formatDate(last)}: ${paymentsText(totalCount)}, totale ${formatEuro(totalCents)}`
      : `${caption}: nessun dato`;

  const ticks = [0, ceiling / 2, ceiling].map((value) => {
    const y = baseline - (plotHeight * value) / ceiling;
    return html`<line class="chart-axis" x1="${left - 4}" y1="${n1(y)}" x2="${left}" y2="${n1(y)}" />
      <text class="chart-label" x="${left - 8}" y="${n1(y + 4)}" text-anchor="end"
        >${formatEuro(Math.round(value))}</text
      >`;
  });

  const bars = days.map((day, i) => {
    const barHeight = (plotHeight * day.amountCents) / ceiling;
    const x = left + i * slot + (slot - barWidth) / 2;
    const y = baseline - barHeight;
    const center = x + barWidth / 2;
    const tip = `${formatDate(day.date)}: ${paymentsText(day.count)}, ${formatEuro(day.amountCents)}`;
    return html`<rect
        class="chart-bar"
        x="${n1(x)}"
        y="${n1(y)}"
        width="${n1(barWidth)}"
        height="${n1(barHeight)}"
        data-date="${day.date}"
        data-count="${day.count}"
        data-cents="${day.amountCents}"
        ><title>${tip}</title></rect
      >${
        days.length <= 31 && day.count > 0
          ? html`<text class="chart-label" x="${n1(center)}" y="${n1(y - 4)}" text-anchor="middle"
              >${day.count}</text
            >`
          : ''
      }${
        i % labelEvery === 0
          ? html`<text class="chart-label" x="${n1(center)}" y="${baseline + 16}" text-anchor="middle">
              ${shortDate(day.date)}
            </text>`
          : ''
      }`;
  });

  return html`<figure
    class="mb-4"
    data-testid="chart-per-day"
    data-total-count="${totalCount}"
    data-total-cents="${totalCents}"
  >
    <figcaption class="h5">${caption}</figcaption>
    <svg
      xmlns="http://www.w3.org/2000/svg"
      viewBox="0 0 ${WIDTH} ${height}"
      width="100%"
      role="img"
      aria-label="${summary}"
    >
      <line class="chart-axis" x1="${left}" y1="${top}" x2="${left}" y2="${baseline}" />
      <line class="chart-axis" x1="${left}" y1="${baseline}" x2="${WIDTH - right}" y2="${baseline}" />
      ${ticks} ${bars}
    </svg>
    <table class="visually-hidden">
      <caption>
        ${summary}
      </caption>
      <thead>
        <tr>
          <th scope="col">Giorno</th>
          <th scope="col">Pagamenti</th>
          <th scope="col">Importo</th>
        </tr>
      </thead>
      <tbody>
        ${days.map(
          (day) =>
            html`<tr data-date="${day.date}" data-count="${day.count}" data-cents="${day.amountCents}">
              <th scope="row">${formatDate(day.date)}</th>
              <td>${day.count}</td>
              <td>${formatEuro(day.amountCents)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </figure>`;
}

/** Amount per service: a horizontal bar per service, the largest first as given. */
export function perServiceChart(
  items: readonly ServicePoint[],
  caption = 'Importo incassato per servizio',
): Html {
  const totalCount = items.reduce((sum, s) => sum + s.count, 0);
  const totalCents = items.reduce((sum, s) => sum + s.amountCents, 0);
  const rowHeight = 30;
  const [left, right, top] = [160, 100, 8];
  const plotWidth = SERVICE_WIDTH - left - right;
  const height = top * 2 + Math.max(1, items.length) * rowHeight;
  const ceiling = Math.max(1, ...items.map((s) => s.amountCents));
  const summary =
    items.length === 0
      ? `${caption}: nessun pagamento nel periodo`
      : `${caption}: ${items.length === 1 ? '1 servizio' : `${items.length} servizi`}, totale ${formatEuro(totalCents)}`;

  const bars = items.map((item, i) => {
    const y = top + i * rowHeight;
    const barWidth = (plotWidth * item.amountCents) / ceiling;
    return html`<text class="chart-label" x="${left - 8}" y="${y + 19}" text-anchor="end">
        ${clipLabel(item.label, 26)}
      </text>
      <rect
        class="chart-bar"
        x="${left}"
        y="${y + 5}"
        width="${n1(barWidth)}"
        height="${rowHeight - 10}"
        data-count="${item.count}"
        data-cents="${item.amountCents}"
        ><title>${item.label}: ${paymentsText(item.count)}, ${formatEuro(item.amountCents)}</title></rect
      >
      <text class="chart-label" x="${n1(left + barWidth + 6)}" y="${y + 19}">
        ${formatEuro(item.amountCents)} (${item.count})
      </text>`;
  });

  return html`<figure
    class="mb-4"
    data-testid="chart-per-service"
    data-total-count="${totalCount}"
    data-total-cents="${totalCents}"
  >
    <figcaption class="h5">${caption}</figcaption>
    ${
      items.length === 0
        ? html`<p class="text-muted">Nessun pagamento nel periodo.</p>`
        : html`<svg
            xmlns="http://www.w3.org/2000/svg"
            viewBox="0 0 ${SERVICE_WIDTH} ${height}"
            width="100%"
            role="img"
            aria-label="${summary}"
          >
            <line class="chart-axis" x1="${left}" y1="${top}" x2="${left}" y2="${height - top}" />
            ${bars}
          </svg>`
    }
    <table class="visually-hidden">
      <caption>
        ${summary}
      </caption>
      <thead>
        <tr>
          <th scope="col">Servizio</th>
          <th scope="col">Pagamenti</th>
          <th scope="col">Importo</th>
        </tr>
      </thead>
      <tbody>
        ${items.map(
          (item) =>
            html`<tr data-count="${item.count}" data-cents="${item.amountCents}">
              <th scope="row">${item.label}</th>
              <td>${item.count}</td>
              <td>${formatEuro(item.amountCents)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </figure>`;
}

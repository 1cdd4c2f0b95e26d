// Portal routes: CSV and xlsx reports, charts (issue 8 item 6). GET /portal/report is the form (ente,
// period) with the download links and the period's charts; GET /portal/report/<kind>.<csv|xlsx>
// streams a report; dashboardPanels gives the dashboard its figures and last-30-days charts.
// Scope: an operator sees only their ente, and naming another one (?ente=) is "not found"; an admin
// names one ente or none (every ente). Every download is written to the event log with its user.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response, Router } from 'express';
import { domainError } from '../../domain/errors.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { PortalUser } from '../../db/repositories/portalUsers.ts';
import {
  createPortalReportsRepository,
  type DashboardFigures,
  type EnteScope,
  type ServicePayments,
} from '../../db/repositories/portalReports.ts';
import {
  csvChunks,
  dashboardOf,
  isReportFormat,
  isReportKind,
  MAX_RANGE_DAYS,
  parseReportRange,
  paymentsPerDay,
  paymentsPerService,
  reportDefinition,
  reportFileName,
  writeXlsx,
  type ReportFormat,
  type ReportKind,
  type ReportRange,
} from '../../app/portal/reports.ts';
import { formatDate, formatEuro, html, type Html } from '../citizen/html.ts';
import { perDayChart, perServiceChart, type ServicePoint } from '../charts.ts';
import { actorOf, canSeeEnte, currentUser, field, visibleEnteIds, type PortalContext } from '../context.ts';
import { enteChoices, errorPage, handler, PORTAL_SECURITY_HEADERS, sendPage } from '../http.ts';
import { PORTAL } from '../layout.ts';

const REPORT_PAGE = `${PORTAL}/report`;

const CONTENT_TYPE: Record<ReportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

const REPORT_DESCRIPTION: Record<ReportKind, { title: string; text: string }> = {
  posizioni: {
    title: 'Posizioni',
    text: 'Le posizioni create nel periodo, una riga per rata (0 = pagamento in unica soluzione).',
  },
  pagamenti: {
    title: 'Pagamenti',
    text: 'Le ricevute con esito positivo registrate dal connettore nel periodo, con la posizione pagata.',
  },
  riconciliazione: {
    title: 'Riconciliazione',
    text: 'I flussi di rendicontazione con data di regolamento nel periodo (righe abbinate e non), più le anomalie aperte.',
  },
};

/** What a report request reads: the ente it names (null = every ente the user sees) and the scope. */
interface ReportScope {
  ente: Ente | null;
  scope: EnteScope;
}

/**
 * The ente of `?ente=` (a fiscal code): an operator without it gets their own; naming an ente the
 * user may not see, or none that exists, is ENTE_UNKNOWN (404), so another ente's data does not
 * even show that it exists.
 */
async function reportScope(ctx: PortalContext, user: PortalUser, requested: string): Promise<ReportScope> {
  if (requested === '') {
    if (user.role === 'admin') return { ente: null, scope: null };
    const ente = user.enteId === null ? null : await ctx.store.enti.getById(user.enteId);
    return { ente, scope: visibleEnteIds(user) };
  }
  const ente = await ctx.store.enti.getByFiscalCode(requested);
  if (!ente || !canSeeEnte(user, ente.id))
    throw domainError('ENTE_UNKNOWN', 'no such ente', { notFound: true });
  return { ente, scope: [ente.id] };
}

function query(ente: Ente | null, range: Pick<ReportRange, 'fromDate' | 'toDate'>): string {
  const params = new URLSearchParams({ ente: ente?.fiscalCode ?? '', dal: range.fromDate, al: range.toDate });
  return params.toString();
}

function serviceLabel(item: ServicePayments, manyEnti: boolean): string {
  if (item.serviceId === null) return 'Senza posizione collegata';
  const name = `${item.serviceCode ?? ''} - ${item.serviceDescription ?? ''}`;
  return manyEnti && item.enteName ? `${name} (${item.enteName})` : name;
}

function servicePoints(items: readonly ServicePayments[], manyEnti: boolean): ServicePoint[] {
  return items.map((item) => ({
    label: serviceLabel(item, manyEnti),
    count: item.count,
    amountCents: item.amountCents,
  }));
}

function reportForm(
  enti: readonly Ente[],
  user: PortalUser,
  chosen: Ente | null,
  dates: { fromDate: string; toDate: string },
): Html {
  return html`<form method="get" action="${REPORT_PAGE}" class="mb-4" data-testid="report-form" novalidate>
    <div class="row align-items-end">
      <div class="col-md-4 form-group">
        <label for="report-ente" class="active">Ente</label>
        <select id="report-ente" name="ente" class="form-select">
          ${
            user.role === 'admin'
              ? html`<option value="" ${chosen === null ? html`selected` : ''}>Tutti gli enti</option>`
              : ''
          }
          ${enti.map(
            (e) =>
              html`<option value="${e.fiscalCode}" ${chosen?.id === e.id ? html`selected` : ''}>
                ${e.name} (${e.fiscalCode})
              </option>`,
          )}
        </select>
      </div>
      <div class="col-md-3 form-group">
        <label for="report-dal" class="active">Dal</label>
        <input
          type="date"
          id="report-dal"
          name="dal"
          class="form-control"
          value="${dates.fromDate}"
          required
        />
      </div>
      <div class="col-md-3 form-group">
        <label for="report-al" class="active">Al</label>
        <input type="date" id="report-al" name="al" class="form-control" value="${dates.toDate}" required />
      </div>
      <div class="col-md-2 form-group">
        <button type="submit" class="btn btn-primary">Aggiorna</button>
      </div>
    </div>
    <p class="form-text">Giorni inclusi, ora italiana; al massimo ${MAX_RANGE_DAYS} giorni.</p>
  </form>`;
}

function downloads(ente: Ente | null, range: ReportRange): Html {
  const q = query(ente, range);
  const link = (kind: ReportKind, format: ReportFormat) => {
    const text = format === 'csv' ? 'CSV' : 'Excel (.xlsx)';
    return html`<a
      href="${REPORT_PAGE}/${kind}.${format}?${q}"
      class="btn btn-outline-primary btn-sm"
      data-testid="report-download"
      data-report="${kind}-${format}"
      aria-label="Scarica ${REPORT_DESCRIPTION[kind].title.toLowerCase()} in formato ${text}"
      >${text}</a
    >`;
  };
  return html`<h2 class="h4">Download</h2>
    <p>
      Periodo dal ${formatDate(range.fromDate)} al ${formatDate(range.toDate)},
      ${ente ? `ente ${ente.name} (${ente.fiscalCode})` : 'tutti gli enti'}.
    </p>
    <table class="table table-sm">
      <caption class="visually-hidden">
        Report disponibili
      </caption>
      <thead>
        <tr>
          <th scope="col">Report</th>
          <th scope="col">Contenuto</th>
          <th scope="col">Scarica</th>
        </tr>
      </thead>
      <tbody>
        ${(['posizioni', 'pagamenti', 'riconciliazione'] as const).map(
          (kind) =>
            html`<tr>
              <th scope="row">${REPORT_DESCRIPTION[kind].title}</th>
              <td>${REPORT_DESCRIPTION[kind].text}</td>
              <td class="nowrap">${link(kind, 'csv')} ${link(kind, 'xlsx')}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <details class="mb-4">
      <summary>Formato dei file</summary>
      <ul>
        <li>
          CSV: UTF-8 (con BOM, per Excel), separatore punto e virgola, prima riga di intestazione. Ogni
          importo ha due colonne: in centesimi (numero intero) e in euro con la virgola decimale (es. 12,30).
        </li>
        <li>Excel (.xlsx): importi in euro come numeri con due decimali; date come celle data.</li>
        <li>Date e ore in ora italiana (Europe/Rome); nei CSV nel formato AAAA-MM-GG hh:mm:ss.</li>
        <li>
          Un testo che inizia con =, +, -, @ (che un foglio di calcolo leggerebbe come formula) è preceduto da
          un apostrofo nei CSV; nei file Excel è sempre una cella di testo.
        </li>
      </ul>
    </details>`;
}

function rangeError(text: string): Html {
  return html`<div class="alert alert-danger" role="alert" data-testid="report-error">${text}</div>`;
}

async function reportPage(ctx: PortalContext, res: Response, requested: string, dal: string, al: string) {
  const user = currentUser(res);
  const enti = await enteChoices(ctx, user);
  const { ente, scope } = await reportScope(ctx, user, requested);
  const parsed = parseReportRange(dal, al);
  if (!parsed.ok) {
    return sendPage(res, 400, {
      title: 'Report',
      active: REPORT_PAGE,
      body: html`${rangeError(parsed.error)} ${reportForm(enti, user, ente, parsed)}`,
    });
  }
  const { range } = parsed;
  const repo = createPortalReportsRepository(ctx.store.db);
  const perDay = await paymentsPerDay(repo, scope, range);
  const perService = await paymentsPerService(repo, scope, range);
  sendPage(res, 200, {
    title: 'Report',
    active: REPORT_PAGE,
    lead: 'Posizioni, pagamenti e riconciliazione di un periodo, da scaricare o da guardare.',
    body: html`${reportForm(enti, user, ente, range)} ${downloads(ente, range)}
      <h2 class="h4">Grafici del periodo</h2>
      <div class="row">
        <div class="col-lg-7">${perDayChart(perDay.days)}</div>
        <div class="col-lg-5">${perServiceChart(servicePoints(perService, scope === null))}</div>
      </div>`,
  });
}

async function download(ctx: PortalContext, res: Response, file: string, params: Record<string, string>) {
  const match = /^([a-z]+)\.([a-z]+)$/.exec(file);
  const kind = match?.[1] ?? '';
  const format = match?.[2] ?? '';
  if (!isReportKind(kind) || !isReportFormat(format))
    return errorPage(res, 404, 'Pagina non trovata', 'Il report richiesto non esiste.');
  const user = currentUser(res);
  const { ente, scope } = await reportScope(ctx, user, params.ente ?? '');
  const parsed = parseReportRange(params.dal ?? '', params.al ?? '');
  if (!parsed.ok) return errorPage(res, 400, 'Periodo non valido', parsed.error);
  const { range } = parsed;
  await ctx.store.events.append({
    entityType: 'portal_report',
    entityId: `${kind}.${format}`,
    action: 'downloaded',
    cause: 'report downloaded from the portal',
    actor: actorOf(res),
    payload: { ente: ente?.fiscalCode ?? null, from: range.fromDate, to: range.toDate },
  });
  const definition = reportDefinition(kind);
  const pages = definition.pages(createPortalReportsRepository(ctx.store.db), scope, range);
  const name = reportFileName(kind, format, ente?.fiscalCode ?? null, range);
  res
    .status(200)
    .set({ ...PORTAL_SECURITY_HEADERS, 'Content-Disposition': `attachment; filename="${name}"` })
    .type(CONTENT_TYPE[format]);
  if (format === 'csv') await pipeline(Readable.from(csvChunks(definition, pages)), res);
  else await writeXlsx(definition, pages, res);
}

export function registerReports(router: Router, ctx: PortalContext): void {
  router.get(
    '/report',
    handler(ctx, (req, res) =>
      reportPage(ctx, res, field(req.query, 'ente'), field(req.query, 'dal'), field(req.query, 'al')),
    ),
  );
  router.get(
    '/report/:file',
    handler(ctx, (req, res) =>
      download(ctx, res, String(req.params.file), {
        ente: field(req.query, 'ente'),
        dal: field(req.query, 'dal'),
        al: field(req.query, 'al'),
      }),
    ),
  );
}

interface FigureView {
  key: string;
  label: string;
  value: number;
  text: string;
  href?: string;
}

function figureViews(f: DashboardFigures): FigureView[] {
  return [
    {
      key: 'open-positions',
      label: 'Posizioni aperte (da pagare, in parte pagate o scadute)',
      value: f.openPositions,
      text: String(f.openPositions),
      href: `${PORTAL}/posizioni`,
    },
    {
      key: 'payments-today',
      label: `Pagamenti di oggi (${formatEuro(f.amountTodayCents)})`,
      value: f.paymentsToday,
      text: String(f.paymentsToday),
      href: `${PORTAL}/pagamenti`,
    },
    {
      key: 'amount-month',
      label: 'Incassato nel mese',
      value: f.amountThisMonthCents,
      text: formatEuro(f.amountThisMonthCents),
    },
    {
      key: 'open-anomalies',
      label: 'Anomalie di riconciliazione aperte',
      value: f.openAnomalies,
      text: String(f.openAnomalies),
      href: `${PORTAL}/riconciliazione`,
    },
    {
      key: 'failing-messages',
      label: 'Notifiche al gestionale non consegnate',
      value: f.failingMessages,
      text: String(f.failingMessages),
      href: `${PORTAL}/notifiche`,
    },
  ];
}

function figureCard(view: FigureView): Html {
  return html`<div class="col-sm-6 col-lg mb-3" data-figure="${view.key}" data-value="${view.value}">
    <div class="card card-bg rounded h-100">
      <div class="card-body">
        <p class="h3 mb-1">${view.text}</p>
        <p class="mb-0">${view.href ? html`<a href="${view.href}">${view.label}</a>` : view.label}</p>
      </div>
    </div>
  </div>`;
}

/** The dashboard's panels (figures, charts) for the user's enti. */
export async function dashboardPanels(ctx: PortalContext, user: PortalUser): Promise<Html | string> {
  const scope = visibleEnteIds(user);
  const dashboard = await dashboardOf(createPortalReportsRepository(ctx.store.db), scope);
  return html`<section aria-labelledby="dashboard-figures-title">
    <h2 class="h4" id="dashboard-figures-title">In sintesi</h2>
    <div class="row" data-testid="dashboard-figures">${figureViews(dashboard.figures).map(figureCard)}</div>
    <h2 class="h4 mt-3">
      Pagamenti dal ${formatDate(dashboard.range.fromDate)} al ${formatDate(dashboard.range.toDate)}
    </h2>
    <div class="row">
      <div class="col-lg-7">${perDayChart(dashboard.perDay.days)}</div>
      <div class="col-lg-5">${perServiceChart(servicePoints(dashboard.perService, scope === null))}</div>
    </div>
    <p><a href="${REPORT_PAGE}">Report e download</a></p>
  </section>`;
}

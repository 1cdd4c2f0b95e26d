// Pages of the portal's monitoring (issue 8 item 5): the search forms (GET, filters kept in the
// query string), the result tables with their pagination, reconciliation (flows, unmatched
// credits, anomalies with their "resolve" form) and the outbox with its "Reinvia" button. Pure
// rendering: every value goes through the html tag, which escapes it.

import type { Response } from 'express';
import { POSITION_STATUSES, type PositionStatus } from '../../domain/positionState.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { StoredAnomaly } from '../../db/repositories/anomalies.ts';
import type { StoredCredit } from '../../db/repositories/bankStatements.ts';
import type { OutboxMessage, OutboxStatus } from '../../db/repositories/outbox.ts';
import type { FlowLineDetails, StoredFlow } from '../../db/repositories/reconciliationFlows.ts';
import {
  enteFiscalCodeOfPayload,
  type PaymentSearchRow,
  type PositionSearchRow,
  type ReceiptFlowLink,
  type SearchPage,
} from '../../db/repositories/portalSearch.ts';
import type { FlowStatus } from '../../reconciliation/matching.ts';
import type { ReconciliationFlow } from '../../app/callbacks/notifyReconciliation.ts';
import type { ReconciliationFlowSummary } from '../../app/reconciliation/views.ts';
import { receiptDetails } from '../../app/callbacks/receiptDetails.ts';
import { formatDate, formatDateTime, formatEuro, html, type Html } from '../citizen/html.ts';
import { csrfField, PORTAL } from '../layout.ts';

// ---------------------------------------------------------------------------------------------
// Labels

export const POSITION_STATUS_LABELS: Readonly<Record<PositionStatus, string>> = {
  RESERVED: 'Riservata',
  VALID: 'Da pagare',
  PARTIALLY_PAID: 'Pagata in parte',
  PAID: 'Pagata',
  EXPIRED: 'Scaduta',
  CANCELLED: 'Annullata',
  RELEASED: 'Rilasciata',
  REPORTED: 'Rendicontata',
  RECONCILED: 'Riconciliata',
};

const POSITION_STATUS_BADGE: Readonly<Record<PositionStatus, string>> = {
  RESERVED: 'bg-secondary',
  VALID: 'bg-primary',
  PARTIALLY_PAID: 'bg-info',
  PAID: 'bg-success',
  EXPIRED: 'bg-warning',
  CANCELLED: 'bg-dark',
  RELEASED: 'bg-secondary',
  REPORTED: 'bg-success',
  RECONCILED: 'bg-success',
};

export const FLOW_STATUS_LABELS: Readonly<Record<FlowStatus, string>> = {
  PENDING: 'In attesa di accredito',
  RECONCILED: 'Riconciliato',
  ANOMALY: 'Con anomalie',
};

const FLOW_STATUS_BADGE: Readonly<Record<FlowStatus, string>> = {
  PENDING: 'bg-info',
  RECONCILED: 'bg-success',
  ANOMALY: 'bg-danger',
};

export const OUTBOX_STATUS_LABELS: Readonly<Record<OutboxStatus, string>> = {
  PENDING: 'In attesa',
  DELIVERED: 'Consegnata',
  DEAD: 'Non consegnata',
};

const OUTBOX_STATUS_BADGE: Readonly<Record<OutboxStatus, string>> = {
  PENDING: 'bg-info',
  DELIVERED: 'bg-success',
  DEAD: 'bg-danger',
};

const TOPIC_LABELS: Readonly<Record<string, string>> = {
  notifyPayment: 'Pagamento',
  notifyReconciliation: 'Riconciliazione',
  notifyUploadOutcome: 'Esito caricamento',
  notifyExpiredNotices: 'Avvisi non attivati',
};

/** The anomaly codes of src/reconciliation/matching.ts, as an operator reads them. */
const ANOMALY_LABELS: Readonly<Record<string, string>> = {
  RECEIPT_WITHOUT_FLOW: 'Pagamento non presente in alcun flusso di rendicontazione',
  LINE_WITHOUT_RECEIPT: 'Pagamento rendicontato senza ricevuta',
  FLOW_WITHOUT_CREDIT: 'Flusso senza accredito in tesoreria',
  CREDIT_WITHOUT_FLOW: 'Accredito in tesoreria senza flusso',
  AMOUNT_MISMATCH: 'Importo non corrispondente',
  TRN_MISMATCH: 'TRN non corrispondente',
  DUPLICATE_LINE: 'Pagamento rendicontato più volte',
  REVOKED_PAYMENT: 'Pagamento revocato',
  PAYMENT_WITHOUT_RPT: 'Pagamento senza RPT o ricevuta',
  STAND_IN_PAYMENT: 'Pagamento in stand-in',
  INVALID_FLOW: 'Flusso non valido',
};

export const OUTCOME_LABELS = { OK: 'Positivo', KO: 'Negativo', FLAGGED: 'Da verificare' } as const;

export const RECONCILIATION_LABELS = {
  NOT_REPORTED: 'Non rendicontato',
  REPORTED: 'Rendicontato, in attesa di riconciliazione',
  RECONCILED: 'Riconciliato',
} as const;

function badge(className: string, text: string): Html {
  return html`<span class="badge ${className}">${text}</span>`;
}

export function positionStatusBadge(status: PositionStatus): Html {
  return badge(POSITION_STATUS_BADGE[status], POSITION_STATUS_LABELS[status]);
}

function positionUrl(id: number): string {
  return `${PORTAL}/posizioni/${id}`;
}

function flowUrl(flowRowId: number): string {
  return `${PORTAL}/riconciliazione/flussi/${flowRowId}`;
}

// ---------------------------------------------------------------------------------------------
// Form pieces

export type Filters = Record<string, string>;

export interface Choice {
  value: string;
  label: string;
}

/** A URL of a list with its filters (empty ones left out) and a page number. */
export function listUrl(path: string, filters: Filters, page?: number): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value !== '') params.set(key, value);
  if (page !== undefined && page > 1) params.set('pagina', String(page));
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

function textInput(name: string, label: string, filters: Filters, hint?: string, type = 'text'): Html {
  const id = `f-${name}`;
  return html`<div class="col-md-4 col-lg-3">
    <div class="form-group">
      <label for="${id}" class="active">${label}</label>
      <input
        type="${type}"
        class="form-control"
        id="${id}"
        name="${name}"
        value="${filters[name] ?? ''}"
        ${hint ? html`aria-describedby="${id}-hint"` : ''}
      />
      ${hint ? html`<small id="${id}-hint" class="form-text">${hint}</small>` : ''}
    </div>
  </div>`;
}

function selectInput(
  name: string,
  label: string,
  filters: Filters,
  choices: Choice[],
  anyLabel: string,
): Html {
  const id = `f-${name}`;
  const selected = filters[name] ?? '';
  return html`<div class="col-md-4 col-lg-3">
    <div class="select-wrapper mb-4">
      <label for="${id}">${label}</label>
      <select id="${id}" name="${name}">
        ${anyLabel ? html`<option value="">${anyLabel}</option>` : ''}
        ${choices.map(
          (c) =>
            html`<option value="${c.value}" ${c.value === selected ? html`selected` : ''}>
              ${c.label}
            </option>`,
        )}
      </select>
    </div>
  </div>`;
}

/** The ente filter, for admins only (operators always see their own ente). */
function enteInput(enti: Ente[] | null, filters: Filters, anyLabel = 'Tutti gli enti'): Html | string {
  if (!enti) return '';
  return selectInput(
    'ente',
    'Ente',
    filters,
    enti.map((e) => ({ value: e.fiscalCode, label: `${e.name} (${e.fiscalCode})` })),
    anyLabel,
  );
}

function searchForm(action: string, fields: Array<Html | string>, resetUrl: string): Html {
  return html`<form method="get" action="${action}" class="mb-4" data-testid="search-form" role="search">
    <div class="row mt-5">${fields}</div>
    <button type="submit" class="btn btn-primary">Cerca</button>
    <a class="btn btn-outline-secondary ms-2" href="${resetUrl}">Azzera i filtri</a>
  </form>`;
}

export function errorsBox(errors: readonly string[]): Html | string {
  if (errors.length === 0) return '';
  return html`<div class="alert alert-danger" role="alert" data-testid="search-errors">
    <ul class="mb-0">
      ${errors.map((e) => html`<li>${e}</li>`)}
    </ul>
  </div>`;
}

export interface PageState {
  page: number;
  pageSize: number;
  total: number;
}

/** "Risultati 51–100 di 130" and the previous/next links, filters kept. */
export function pagination(path: string, filters: Filters, state: PageState): Html {
  const pages = Math.max(1, Math.ceil(state.total / state.pageSize));
  const first = state.total === 0 ? 0 : (state.page - 1) * state.pageSize + 1;
  const last = Math.min(state.total, state.page * state.pageSize);
  const link = (page: number, label: string, enabled: boolean, rel: string) =>
    enabled
      ? html`<li class="page-item">
          <a class="page-link" href="${listUrl(path, filters, page)}" rel="${rel}">${label}</a>
        </li>`
      : html`<li class="page-item disabled"><span class="page-link">${label}</span></li>`;
  return html`<nav class="pagination-wrapper" aria-label="Paginazione dei risultati" data-testid="pagination">
    <p class="mb-2" data-testid="result-count">
      ${state.total === 0 ? 'Nessun risultato' : `Risultati ${first}–${last} di ${state.total}`}
    </p>
    ${
      pages > 1
        ? html`<ul class="pagination">
            ${link(state.page - 1, 'Precedente', state.page > 1, 'prev')}
            <li class="page-item active">
              <span class="page-link" aria-current="page">Pagina ${state.page} di ${pages}</span>
            </li>
            ${link(state.page + 1, 'Successiva', state.page < pages, 'next')}
          </ul>`
        : ''
    }
  </nav>`;
}

// ---------------------------------------------------------------------------------------------
// Positions

export interface PositionsView {
  filters: Filters;
  errors: string[];
  /** The enti an admin may filter by; null for an operator. */
  enti: Ente[] | null;
  serviceCodes: string[];
  result: SearchPage<PositionSearchRow> | null;
  page: PageState;
}

function positionRow(row: PositionSearchRow, showEnte: boolean): Html {
  const installments = row.installments > 0 ? ` (${row.installments} rate)` : '';
  return html`<tr data-testid="position-row" data-position-id="${row.positionId}">
    ${showEnte ? html`<td>${row.enteName}<br /><small class="text-muted">${row.enteFiscalCode}</small></td>` : ''}
    <td>
      <a href="${positionUrl(row.id)}">${row.positionId}</a>
      ${row.noticeNumber ? html`<br /><small class="text-muted nowrap">Avviso ${row.noticeNumber}</small>` : ''}
    </td>
    <td>${row.serviceCode}</td>
    <td>
      ${row.debtorFullName ?? ''}
      ${row.debtorFiscalCode ? html`<br /><small class="text-muted">${row.debtorFiscalCode}</small>` : ''}
    </td>
    <td>${row.description}</td>
    <td class="text-end nowrap">${formatEuro(row.amountCents)}${installments}</td>
    <td>${positionStatusBadge(row.status)}</td>
    <td class="nowrap">${formatDateTime(row.createdAt)}</td>
    <td><a href="${positionUrl(row.id)}" aria-label="Apri la posizione ${row.positionId}">Apri</a></td>
  </tr>`;
}

export function positionsBody(view: PositionsView): Html {
  const path = `${PORTAL}/posizioni`;
  const f = view.filters;
  const form = searchForm(
    path,
    [
      enteInput(view.enti, f),
      textInput('avviso', 'Codice avviso', f, '18 cifre, anche con spazi'),
      textInput('iuv', 'IUV', f),
      textInput('debitore', 'Debitore', f, 'Codice fiscale o parte del nome'),
      textInput('posizione', 'Identificativo posizione', f),
      selectInput(
        'servizio',
        'Servizio',
        f,
        view.serviceCodes.map((c) => ({ value: c, label: c })),
        'Tutti i servizi',
      ),
      selectInput(
        'stato',
        'Stato',
        f,
        POSITION_STATUSES.map((s) => ({ value: s, label: POSITION_STATUS_LABELS[s] })),
        'Tutti gli stati',
      ),
      textInput('dal', 'Creata dal', f, undefined, 'date'),
      textInput('al', 'Creata fino al', f, undefined, 'date'),
    ],
    path,
  );
  const showEnte = view.enti !== null;
  const result = view.result;
  const table = result
    ? html`${pagination(path, f, view.page)}
      ${
        result.rows.length > 0
          ? html`<div class="table-responsive">
              <table class="table table-sm table-hover" data-testid="positions-table">
                <caption class="visually-hidden">
                  Posizioni debitorie trovate
                </caption>
                <thead>
                  <tr>
                    ${showEnte ? html`<th scope="col">Ente</th>` : ''}
                    <th scope="col">Posizione</th>
                    <th scope="col">Servizio</th>
                    <th scope="col">Debitore</th>
                    <th scope="col">Descrizione</th>
                    <th scope="col" class="text-end">Importo</th>
                    <th scope="col">Stato</th>
                    <th scope="col">Creata il</th>
                    <th scope="col"><span class="visually-hidden">Azioni</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${result.rows.map((r) => positionRow(r, showEnte))}
                </tbody>
              </table>
            </div>`
          : html`<p data-testid="no-results">Nessuna posizione corrisponde ai filtri.</p>`
      }`
    : '';
  return html`<p>
      <a class="btn btn-outline-primary btn-sm" href="${PORTAL}/posizioni/nuova">Nuova posizione</a>
    </p>
    ${errorsBox(view.errors)} ${form} ${table}`;
}

// ---------------------------------------------------------------------------------------------
// Payments

export interface PaymentsView {
  filters: Filters;
  errors: string[];
  enti: Ente[] | null;
  psps: string[];
  result: SearchPage<PaymentSearchRow> | null;
  flows: Map<number, ReceiptFlowLink>;
  /** `<enteId>|<iuv>` with an open anomaly. */
  anomalies: Set<string>;
  page: PageState;
}

function payerCell(row: PaymentSearchRow): Html {
  const payer = receiptDetails(row.receipt).payer;
  if (payer) return html`${payer.fullName}<br /><small class="text-muted">${payer.fiscalCode}</small>`;
  if (row.debtorFullName)
    return html`${row.debtorFullName}
      <small class="text-muted">(debitore)</small>
      ${row.debtorFiscalCode ? html`<br /><small class="text-muted">${row.debtorFiscalCode}</small>` : ''}`;
  return html`<span class="text-muted">non indicato</span>`;
}

function outcomeCell(row: PaymentSearchRow): Html {
  const r = row.receipt;
  if (r.flaggedReason)
    return html`${badge('bg-warning', OUTCOME_LABELS.FLAGGED)}<br /><small>${r.flaggedReason}</small>`;
  return r.outcome === 'OK' ? badge('bg-success', OUTCOME_LABELS.OK) : badge('bg-danger', OUTCOME_LABELS.KO);
}

function reconciliationCell(row: PaymentSearchRow, view: PaymentsView): Html {
  const r = row.receipt;
  const anomaly = view.anomalies.has(`${r.enteId}|${r.iuv}`)
    ? html`<br />${badge('bg-danger', 'Anomalia aperta')}`
    : '';
  if (r.outcome !== 'OK') return html`<span class="text-muted">-</span>`;
  const link = view.flows.get(r.id);
  if (!link) return html`${badge('bg-secondary', RECONCILIATION_LABELS.NOT_REPORTED)}${anomaly}`;
  const state =
    link.flowStatus === 'RECONCILED'
      ? badge('bg-success', RECONCILIATION_LABELS.RECONCILED)
      : link.flowStatus === 'ANOMALY'
        ? badge('bg-danger', 'Rendicontato, flusso con anomalie')
        : badge('bg-info', 'Rendicontato');
  return html`${state}<br /><small>Flusso <a href="${flowUrl(link.flowRowId)}">${link.flowId}</a></small
    >${anomaly}`;
}

function paymentRow(row: PaymentSearchRow, view: PaymentsView, showEnte: boolean): Html {
  const r = row.receipt;
  const notice = r.noticeNumber ?? row.optionNoticeNumber;
  return html`<tr data-testid="payment-row" data-receipt-id="${r.receiptId}">
    ${showEnte ? html`<td>${row.enteName}<br /><small class="text-muted">${row.enteFiscalCode}</small></td>` : ''}
    <td class="nowrap">${formatDateTime(r.paymentDateTime ?? r.receivedAt)}</td>
    <td class="nowrap">${notice ?? ''}<br /><small class="text-muted">IUV ${r.iuv}</small></td>
    <td class="text-end nowrap">${formatEuro(r.amountCents)}</td>
    <td>${payerCell(row)}</td>
    <td>${r.pspId ?? ''}<br /><small class="text-muted text-break">${r.receiptId}</small></td>
    <td>${outcomeCell(row)}</td>
    <td>${reconciliationCell(row, view)}</td>
    <td>
      ${
        row.positionRowId !== null
          ? html`<a href="${positionUrl(row.positionRowId)}">${row.positionId}</a> ${
                r.outcome === 'OK'
                  ? html`<br /><a
                        href="${positionUrl(row.positionRowId)}/ricevuta.pdf"
                        data-testid="receipt-pdf-link"
                        >Ricevuta PDF</a
                      >`
                  : ''
              }`
          : html`<span class="text-muted">nessuna posizione</span>`
      }
    </td>
  </tr>`;
}

export function paymentsBody(view: PaymentsView): Html {
  const path = `${PORTAL}/pagamenti`;
  const f = view.filters;
  const form = searchForm(
    path,
    [
      enteInput(view.enti, f),
      textInput('avviso', 'Codice avviso', f, '18 cifre, anche con spazi'),
      textInput('iuv', 'IUV', f),
      textInput('pagatore', 'Debitore o pagatore', f, 'Codice fiscale o parte del nome del debitore'),
      selectInput(
        'esito',
        'Esito',
        f,
        (['OK', 'KO', 'FLAGGED'] as const).map((v) => ({ value: v, label: OUTCOME_LABELS[v] })),
        'Tutti gli esiti',
      ),
      selectInput(
        'riconciliazione',
        'Riconciliazione',
        f,
        (['NOT_REPORTED', 'REPORTED', 'RECONCILED'] as const).map((v) => ({
          value: v,
          label: RECONCILIATION_LABELS[v],
        })),
        'Qualsiasi',
      ),
      selectInput(
        'psp',
        'PSP',
        f,
        view.psps.map((p) => ({ value: p, label: p })),
        'Tutti i PSP',
      ),
      textInput('dal', 'Pagato dal', f, undefined, 'date'),
      textInput('al', 'Pagato fino al', f, undefined, 'date'),
    ],
    path,
  );
  const showEnte = view.enti !== null;
  const result = view.result;
  const table = result
    ? html`${pagination(path, f, view.page)}
      ${
        result.rows.length > 0
          ? html`<div class="table-responsive">
              <table class="table table-sm table-hover" data-testid="payments-table">
                <caption class="visually-hidden">
                  Pagamenti trovati
                </caption>
                <thead>
                  <tr>
                    ${showEnte ? html`<th scope="col">Ente</th>` : ''}
                    <th scope="col">Pagato il</th>
                    <th scope="col">Codice avviso e IUV</th>
                    <th scope="col" class="text-end">Importo</th>
                    <th scope="col">Pagatore</th>
                    <th scope="col">PSP e id ricevuta</th>
                    <th scope="col">Esito</th>
                    <th scope="col">Riconciliazione</th>
                    <th scope="col">Posizione</th>
                  </tr>
                </thead>
                <tbody>
                  ${result.rows.map((r) => paymentRow(r, view, showEnte))}
                </tbody>
              </table>
            </div>`
          : html`<p data-testid="no-results">Nessun pagamento corrisponde ai filtri.</p>`
      }`
    : '';
  return html`${errorsBox(view.errors)} ${form} ${table}`;
}

// ---------------------------------------------------------------------------------------------
// Reconciliation

export interface ReconciliationView {
  filters: Filters;
  errors: string[];
  enti: Ente[] | null;
  ente: Ente | null;
  flows: ReconciliationFlowSummary[];
  /** flow id + PSP → stored row id, for the links to a flow's lines. */
  flowRowIds: Map<string, number>;
  page: PageState;
  credits: StoredCredit[];
  anomalies: StoredAnomaly[];
  showResolved: boolean;
}

/** What an anomaly is about, in Italian: flow, IUV, position, amounts. */
export function anomalySubject(
  a: Pick<
    StoredAnomaly,
    'flowId' | 'iuv' | 'iur' | 'positionId' | 'noticeNumber' | 'amountCents' | 'expectedAmountCents'
  >,
): string {
  const parts = [
    a.flowId && `flusso ${a.flowId}`,
    a.iuv && `IUV ${a.iuv}`,
    a.iur && `IUR ${a.iur}`,
    a.positionId && `posizione ${a.positionId}`,
    a.noticeNumber && `avviso ${a.noticeNumber}`,
    a.amountCents !== null && `importo ${formatEuro(a.amountCents)}`,
    a.expectedAmountCents !== null && `atteso ${formatEuro(a.expectedAmountCents)}`,
  ];
  return parts.filter(Boolean).join(', ');
}

export function anomalyLabel(code: string): string {
  return ANOMALY_LABELS[code] ?? code;
}

function anomalyRow(res: Response, a: StoredAnomaly, enteCode: string): Html {
  const open = a.status === 'OPEN';
  const noteId = `note-${a.id}`;
  return html`<tr data-testid="anomaly-row" data-anomaly-id="${a.id}">
    <td class="nowrap">${a.id}</td>
    <td class="nowrap">${formatDateTime(a.detectedAt)}</td>
    <td>
      <strong>${anomalyLabel(a.code)}</strong><br />
      <small class="text-muted">${a.code}</small>
    </td>
    <td>
      ${anomalySubject(a)}
      ${a.description ? html`<br /><small class="text-muted" lang="en">${a.description}</small>` : ''}
    </td>
    <td>
      ${
        open
          ? badge('bg-danger', 'Aperta')
          : html`${badge('bg-success', a.resolution === 'MANUAL' ? 'Risolta a mano' : 'Risolta')} <br /><small
                >${formatDateTime(a.resolvedAt)}</small
              >
              ${a.note ? html`<br /><small>Nota: ${a.note}</small>` : ''}`
      }
    </td>
    <td>
      ${
        open
          ? html`<form
              method="post"
              action="${PORTAL}/riconciliazione/anomalie/${a.id}/risolvi"
              data-testid="resolve-form"
            >
              ${csrfField(res)}
              <input type="hidden" name="ente" value="${enteCode}" />
              <div class="form-group mb-2">
                <label for="${noteId}" class="active">Nota (obbligatoria)</label>
                <textarea
                  class="form-control"
                  id="${noteId}"
                  name="note"
                  rows="2"
                  required
                  maxlength="1024"
                ></textarea>
              </div>
              <button type="submit" class="btn btn-sm btn-outline-primary" data-testid="resolve-button">
                Segna come risolta
              </button>
            </form>`
          : ''
      }
    </td>
  </tr>`;
}

export function anomaliesTable(res: Response, anomalies: StoredAnomaly[], enteCode: string): Html {
  if (anomalies.length === 0) return html`<p data-testid="no-anomalies">Nessuna anomalia.</p>`;
  return html`<div class="table-responsive">
    <table class="table table-sm" data-testid="anomalies-table">
      <caption class="visually-hidden">
        Anomalie di riconciliazione
      </caption>
      <thead>
        <tr>
          <th scope="col">N.</th>
          <th scope="col">Rilevata il</th>
          <th scope="col">Tipo</th>
          <th scope="col">Riguarda</th>
          <th scope="col">Stato</th>
          <th scope="col"><span class="visually-hidden">Azioni</span></th>
        </tr>
      </thead>
      <tbody>
        ${anomalies.map((a) => anomalyRow(res, a, enteCode))}
      </tbody>
    </table>
  </div>`;
}

function flowStatusBadge(status: FlowStatus): Html {
  return badge(FLOW_STATUS_BADGE[status], FLOW_STATUS_LABELS[status]);
}

function flowRow(flow: ReconciliationFlowSummary, rowId: number | undefined): Html {
  const credit = flow.bankCredit;
  return html`<tr data-testid="flow-row" data-flow-id="${flow.flowId}">
    <td>${rowId !== undefined ? html`<a href="${flowUrl(rowId)}">${flow.flowId}</a>` : flow.flowId}</td>
    <td class="nowrap">${formatDateTime(flow.flowDateTime)}</td>
    <td class="nowrap">${formatDate(flow.settlementDate)}</td>
    <td>${flow.pspName ?? ''}<br /><small class="text-muted">${flow.pspId}</small></td>
    <td class="text-end">${flow.paymentCount}</td>
    <td class="text-end nowrap">${formatEuro(flow.totalAmountCents)}</td>
    <td>
      ${
        credit
          ? html`${formatEuro(credit.amountCents)}<br /><small>valuta ${formatDate(credit.valueDate)}</small>`
          : html`<span class="text-muted">non ancora accreditato</span>`
      }
    </td>
    <td>${flowStatusBadge(flow.status)}</td>
    <td class="text-end">${flow.anomalyCount}</td>
  </tr>`;
}

function creditsTable(credits: StoredCredit[]): Html {
  if (credits.length === 0)
    return html`<p data-testid="no-unmatched-credits">Nessun accredito senza flusso nel periodo.</p>`;
  return html`<div class="table-responsive">
    <table class="table table-sm" data-testid="unmatched-credits-table">
      <caption class="visually-hidden">
        Accrediti di tesoreria non abbinati
      </caption>
      <thead>
        <tr>
          <th scope="col">Valuta</th>
          <th scope="col" class="text-end">Importo</th>
          <th scope="col">TRN</th>
          <th scope="col">Ordinante</th>
          <th scope="col">Causale</th>
          <th scope="col">Estratto conto</th>
        </tr>
      </thead>
      <tbody>
        ${credits.map(
          (c) =>
            html`<tr data-testid="credit-row">
              <td class="nowrap">${formatDate(c.valueDate)}</td>
              <td class="text-end nowrap">${formatEuro(c.amountCents)}</td>
              <td>${c.trn ?? ''}</td>
              <td>${c.debtorName ?? ''}</td>
              <td><small>${c.remittanceInformation ?? ''}</small></td>
              <td><small>${c.statementId}</small></td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function reconciliationBody(res: Response, view: ReconciliationView): Html {
  const path = `${PORTAL}/riconciliazione`;
  const f = view.filters;
  const form = searchForm(
    path,
    [
      enteInput(view.enti, f, ''),
      textInput('dal', 'Regolati dal', f, undefined, 'date'),
      textInput('al', 'Regolati fino al', f, undefined, 'date'),
      selectInput(
        'stato',
        'Stato del flusso',
        f,
        (['PENDING', 'RECONCILED', 'ANOMALY'] as const).map((s) => ({
          value: s,
          label: FLOW_STATUS_LABELS[s],
        })),
        'Tutti',
      ),
    ],
    path,
  );
  if (!view.ente)
    return html`${errorsBox(view.errors)}
      <p>Nessun ente da mostrare.</p>`;
  const enteCode = view.ente.fiscalCode;
  const toggle = view.showResolved
    ? listUrl(path, { ...f, anomalie: '' })
    : listUrl(path, { ...f, anomalie: 'tutte' });
  const flows =
    view.flows.length > 0
      ? html`<div class="table-responsive">
          <table class="table table-sm table-hover" data-testid="flows-table">
            <caption class="visually-hidden">
              Flussi di rendicontazione
            </caption>
            <thead>
              <tr>
                <th scope="col">Flusso</th>
                <th scope="col">Data flusso</th>
                <th scope="col">Regolato il</th>
                <th scope="col">PSP</th>
                <th scope="col" class="text-end">Pagamenti</th>
                <th scope="col" class="text-end">Totale</th>
                <th scope="col">Accredito</th>
                <th scope="col">Stato</th>
                <th scope="col" class="text-end">Anomalie aperte</th>
              </tr>
            </thead>
            <tbody>
              ${view.flows.map((fl) => flowRow(fl, view.flowRowIds.get(`${fl.pspId}|${fl.flowId}`)))}
            </tbody>
          </table>
        </div>`
      : html`<p data-testid="no-flows">Nessun flusso regolato nel periodo.</p>`;
  return html`${errorsBox(view.errors)} ${form}
    <p class="lead" data-testid="reconciliation-ente">${view.ente.name} (${enteCode})</p>
    <h2 class="h4 mt-4">Flussi di rendicontazione</h2>
    ${view.flows.length > 0 ? pagination(path, f, view.page) : ''} ${flows}
    <h2 class="h4 mt-4">Accrediti di tesoreria non abbinati</h2>
    ${creditsTable(view.credits)}
    <h2 class="h4 mt-4">Anomalie ${view.showResolved ? '' : 'aperte'}</h2>
    <p>
      <a href="${toggle}"
        >${view.showResolved ? 'Mostra solo le anomalie aperte' : 'Mostra anche le anomalie risolte'}</a
      >
    </p>
    ${anomaliesTable(res, view.anomalies, enteCode)}`;
}

export interface FlowDetailView {
  flow: StoredFlow;
  view: ReconciliationFlow;
  lines: FlowLineDetails[];
  /** option id → position row id. */
  positions: Map<number, number>;
  /** The flow's anomalies, open and resolved. */
  anomalies: StoredAnomaly[];
  enteCode: string;
}

const OUTCOME_CODE_LABELS: Readonly<Record<string, string>> = {
  '0': 'Eseguito',
  '3': 'Revocato',
  '4': 'Eseguito in stand-in',
  '8': 'Eseguito in stand-in senza RPT',
  '9': 'Eseguito senza RPT',
};

export function flowDetailBody(res: Response, detail: FlowDetailView): Html {
  const { flow, view } = detail;
  const credit = view.bankCredit;
  return html`<p>
      <a href="${PORTAL}/riconciliazione?ente=${detail.enteCode}">Torna alla riconciliazione</a>
    </p>
    <dl class="row" data-testid="flow-summary">
      <dt class="col-sm-3">Identificativo flusso</dt>
      <dd class="col-sm-9">${flow.flowId}</dd>
      <dt class="col-sm-3">Data flusso</dt>
      <dd class="col-sm-9">
        ${formatDateTime(flow.flowDateTime)}${flow.isLatest ? '' : ' (revisione superata)'}
      </dd>
      <dt class="col-sm-3">PSP</dt>
      <dd class="col-sm-9">${flow.senderName ?? ''} (${flow.pspId})</dd>
      <dt class="col-sm-3">TRN</dt>
      <dd class="col-sm-9">${flow.trn}</dd>
      <dt class="col-sm-3">Regolato il</dt>
      <dd class="col-sm-9">${formatDate(flow.settlementDate)}</dd>
      <dt class="col-sm-3">Pagamenti</dt>
      <dd class="col-sm-9">${flow.paymentCount} per ${formatEuro(flow.totalAmountCents)}</dd>
      <dt class="col-sm-3">Accredito</dt>
      <dd class="col-sm-9">
        ${
          credit
            ? `${formatEuro(credit.amountCents)}, valuta ${formatDate(credit.valueDate)}`
            : 'non ancora accreditato'
        }
      </dd>
      <dt class="col-sm-3">Stato</dt>
      <dd class="col-sm-9">${flowStatusBadge(flow.status)}</dd>
    </dl>
    <h2 class="h4 mt-4">Pagamenti rendicontati</h2>
    <div class="table-responsive">
      <table class="table table-sm" data-testid="flow-lines-table">
        <caption class="visually-hidden">
          Righe del flusso
        </caption>
        <thead>
          <tr>
            <th scope="col">N.</th>
            <th scope="col">IUV</th>
            <th scope="col">IUR</th>
            <th scope="col" class="text-end">Importo</th>
            <th scope="col">Esito</th>
            <th scope="col">Data</th>
            <th scope="col">Abbinamento</th>
            <th scope="col">Posizione</th>
          </tr>
        </thead>
        <tbody>
          ${detail.lines.map((l) => {
            const positionRowId = l.optionId !== null ? detail.positions.get(l.optionId) : undefined;
            return html`<tr data-testid="flow-line-row">
              <td>${l.lineNo}</td>
              <td class="nowrap">${l.iuv}</td>
              <td><small>${l.iur}</small></td>
              <td class="text-end nowrap">${formatEuro(l.amountCents)}</td>
              <td>${OUTCOME_CODE_LABELS[l.outcomeCode] ?? l.outcomeCode}</td>
              <td class="nowrap">${formatDate(l.outcomeDate)}</td>
              <td>
                ${l.status === 'MATCHED' ? badge('bg-success', 'Abbinato') : badge('bg-danger', 'Non abbinato')}
                ${l.anomalyCode ? html`<br /><small>${anomalyLabel(l.anomalyCode)}</small>` : ''}
              </td>
              <td>
                ${
                  positionRowId !== undefined
                    ? html`<a href="${positionUrl(positionRowId)}">${l.positionId}</a>${
                          l.installment ? ` rata ${l.installment}` : ''
                        }`
                    : (l.positionId ?? '')
                }
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    <h2 class="h4 mt-4">Anomalie del flusso</h2>
    ${anomaliesTable(res, detail.anomalies, detail.enteCode)}`;
}

// ---------------------------------------------------------------------------------------------
// Outbox

export interface OutboxView {
  filters: Filters;
  errors: string[];
  enti: Ente[] | null;
  result: SearchPage<OutboxMessage> | null;
  /** Client id (the outbox target) → its name. */
  clients: Map<string, string>;
  page: PageState;
}

function payloadField(payload: unknown, name: string): string | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const value = (payload as Record<string, unknown>)[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

/** What the message is about, from its payload: the position, the flow or the upload. */
function messageSubject(message: OutboxMessage): string {
  const p = message.payload;
  const flow = typeof p === 'object' && p !== null ? (p as Record<string, unknown>).flow : null;
  const flowId = payloadField(flow, 'flowId');
  const parts = [
    payloadField(p, 'serviceCode') && `servizio ${payloadField(p, 'serviceCode')}`,
    payloadField(p, 'positionId') && `posizione ${payloadField(p, 'positionId')}`,
    payloadField(p, 'noticeNumber') && `avviso ${payloadField(p, 'noticeNumber')}`,
    flowId && `flusso ${flowId}`,
    payloadField(p, 'fileName') && `file ${payloadField(p, 'fileName')}`,
    payloadField(p, 'referenceDate') && `del ${formatDate(payloadField(p, 'referenceDate') ?? '')}`,
  ];
  return parts.filter(Boolean).join(', ');
}

function outboxRow(res: Response, m: OutboxMessage, view: OutboxView): Html {
  const failing = m.status === 'PENDING' && m.lastError !== null;
  return html`<tr data-testid="outbox-row" data-outbox-id="${m.id}" data-status="${m.status}">
    <td class="nowrap">${formatDateTime(m.createdAt)}</td>
    <td>${TOPIC_LABELS[m.topic] ?? m.topic}<br /><small class="text-muted">${m.topic}</small></td>
    <td>
      ${messageSubject(m)}${view.enti ? html`<br /><small class="text-muted">ente ${enteFiscalCodeOfPayload(m.payload) ?? '-'}</small>` : ''}
    </td>
    <td>${view.clients.get(m.target) ?? m.target}</td>
    <td>
      ${badge(OUTBOX_STATUS_BADGE[m.status], OUTBOX_STATUS_LABELS[m.status])}
      ${failing ? html`<br /><small>in errore, nuovo tentativo previsto</small>` : ''}
    </td>
    <td class="text-end">${m.attempts}</td>
    <td class="nowrap">
      ${
        m.status === 'PENDING'
          ? formatDateTime(m.nextAttemptAt)
          : m.deliveredAt
            ? html`consegnata ${formatDateTime(m.deliveredAt)}`
            : ''
      }
    </td>
    <td><small>${m.lastError ?? ''}</small></td>
    <td>
      ${
        m.status === 'DEAD'
          ? html`<form
              method="post"
              action="${PORTAL}/notifiche/${m.id}/reinvia"
              data-confirm="Rimettere in coda la notifica per un nuovo invio?"
            >
              ${csrfField(res)}
              <button type="submit" class="btn btn-sm btn-outline-primary" data-testid="resend-button">
                Reinvia
              </button>
            </form>`
          : ''
      }
    </td>
  </tr>`;
}

export function outboxBody(res: Response, view: OutboxView): Html {
  const path = `${PORTAL}/notifiche`;
  const f = view.filters;
  const form = searchForm(
    path,
    [
      enteInput(view.enti, f),
      selectInput(
        'stato',
        'Stato',
        f,
        (['PENDING', 'DELIVERED', 'DEAD'] as const).map((s) => ({
          value: s,
          label: OUTBOX_STATUS_LABELS[s],
        })),
        'Tutti gli stati',
      ),
    ],
    path,
  );
  const result = view.result;
  const table = result
    ? html`${pagination(path, f, view.page)}
      ${
        result.rows.length > 0
          ? html`<div class="table-responsive">
              <table class="table table-sm" data-testid="outbox-table">
                <caption class="visually-hidden">
                  Notifiche ai gestionali
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Creata il</th>
                    <th scope="col">Tipo</th>
                    <th scope="col">Riguarda</th>
                    <th scope="col">Gestionale</th>
                    <th scope="col">Stato</th>
                    <th scope="col" class="text-end">Tentativi</th>
                    <th scope="col">Prossimo tentativo / consegna</th>
                    <th scope="col">Ultimo errore</th>
                    <th scope="col"><span class="visually-hidden">Azioni</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${result.rows.map((m) => outboxRow(res, m, view))}
                </tbody>
              </table>
            </div>`
          : html`<p data-testid="no-results">Nessuna notifica corrisponde ai filtri.</p>`
      }`
    : '';
  return html`<p>
      Le notifiche inviate ai gestionali (pagamenti, riconciliazione, esiti dei caricamenti). Una notifica non
      consegnata dopo tutti i tentativi può essere rimessa in coda con «Reinvia».
    </p>
    ${errorsBox(view.errors)} ${form} ${table}`;
}

// Pages of the portal's positions (issue 8 items 3 and 5): the manual entry / edit form with its
// Italian errors next to each field and a summary box, and the detail page of one position with its
// payment options, transfers, payments, receipts, timeline and the cancel form. Every value goes
// through the html tag; no inline script or style (the portal's CSP forbids both).

import type { Response } from 'express';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { StoredOption, StoredPosition } from '../../db/repositories/positions.ts';
import type { Payment } from '../../db/repositories/payments.ts';
import type { Receipt } from '../../db/repositories/receipts.ts';
import type { StoredEvent } from '../../db/repositories/events.ts';
import {
  fieldLabel,
  generatePositionId,
  MAX_BENEFICIARIES,
  MAX_INSTALLMENT_BLOCKS,
  optionField,
  planOf,
  transferField,
  type FieldError,
  type PositionFormValues,
} from '../../app/portal/positionForm.ts';
import { formatDate, formatDateTime, formatEuro, html, type Html } from '../citizen/html.ts';
import { csrfField, PORTAL } from '../layout.ts';

export const POSITIONS_PORTAL = `${PORTAL}/posizioni`;

export function positionPath(id: number): string {
  return `${POSITIONS_PORTAL}/${id}`;
}

export const POSITION_STATUS_LABELS: Record<string, string> = {
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

export const OPTION_STATUS_LABELS: Record<string, string> = {
  UNPAID: 'Da pagare',
  PAID: 'Pagata',
  REPORTED: 'Rendicontata',
  RECONCILED: 'Riconciliata',
};

const PAYMENT_STATUS_LABELS: Record<string, string> = {
  STARTED: 'Avviato',
  IN_PROGRESS: 'In corso',
  PAID: 'Pagato',
  FAILED: 'Non riuscito',
  EXPIRED: 'Scaduto',
};

const OUTBOX_STATUS_LABELS: Record<string, string> = {
  PENDING: 'Da consegnare',
  DELIVERED: 'Consegnata',
  DEAD: 'Non consegnata',
};

const SESSION_STATUS_LABELS: Record<string, string> = {
  OPEN: 'Aperta',
  STARTED: 'Avviata',
  COMPLETED: 'Completata',
  CANCELLED: 'Annullata',
  FAILED: 'Non riuscita',
  EXPIRED: 'Scaduta',
};

const STATUS_LABELS_BY_ENTITY: Record<string, Record<string, string>> = {
  position: POSITION_STATUS_LABELS,
  payment_option: OPTION_STATUS_LABELS,
  payment: PAYMENT_STATUS_LABELS,
  outbox: OUTBOX_STATUS_LABELS,
  payment_session: SESSION_STATUS_LABELS,
};

const EVENT_LABELS: Record<string, string> = {
  'position:created': 'Posizione creata',
  'position:updated': 'Posizione modificata',
  'position:status_changed': 'Cambio di stato della posizione',
  'position:renamed': 'Identificativo della posizione cambiato',
  'position:removed': 'Posizione rimossa',
  'payment_option:status_changed': 'Cambio di stato dell’avviso',
  'payment:created': 'Tentativo di pagamento avviato',
  'payment:rpt_sent': 'Richiesta di pagamento (RPT) inviata al nodo',
  'payment:status_changed': 'Cambio di stato del tentativo di pagamento',
  'receipt:received': 'Ricevuta di pagamento registrata',
  'receipt:received_flagged': 'Ricevuta registrata con anomalia',
  'receipt:applied': 'Ricevuta applicata alla posizione',
  'receipt:flagged': 'Ricevuta segnalata come anomala',
  'payment_session:created': 'Sessione di pagamento aperta',
  'payment_session:nonce_used': 'Sessione di pagamento usata dal cittadino',
  'payment_session:status_changed': 'Cambio di stato della sessione di pagamento',
  'outbox:status_changed': 'Notifica al gestionale: cambio di stato',
  'outbox:delivery_attempt': 'Tentativo di consegna della notifica al gestionale',
};

function installmentLabel(installment: number): string {
  return installment === 0 ? 'Pagamento unico' : `Rata ${installment}`;
}

function statusLabel(entityType: string, status: string | null): string {
  if (status === null) return '';
  return STATUS_LABELS_BY_ENTITY[entityType]?.[status] ?? status;
}

// ---------------------------------------------------------------------------------------------
// The form

export interface PositionFormView {
  mode: 'new' | 'edit';
  /** Where the form posts. */
  action: string;
  /** The enti an admin may choose among (new positions only); null for an operator. */
  enti: readonly Ente[] | null;
  ente: Ente;
  /** Active services of the ente (new positions), or the position's own (edit). */
  services: readonly Service[];
  serviceCode: string;
  /** The stored position being edited. */
  position?: StoredPosition | undefined;
  values: PositionFormValues;
  errors: readonly FieldError[];
  /** Installment blocks to show. */
  blocks: number;
}

interface InputSpec {
  name: string;
  label: string;
  type?: string;
  hint?: string;
  required?: boolean;
  maxlength?: number;
  placeholder?: string;
  inputmode?: string;
  autocomplete?: string;
}

type Ctx = Pick<PositionFormView, 'values' | 'errors'>;

function errorOf(ctx: Ctx, name: string): string {
  return ctx.errors.find((e) => e.field === name)?.message ?? '';
}

function describedBy(name: string, hint: boolean, error: boolean): Html | string {
  const ids = [hint ? `${name}-hint` : '', error ? `${name}-error` : ''].filter(Boolean).join(' ');
  return ids ? html`aria-describedby="${ids}"` : '';
}

function feedback(name: string, error: string): Html | string {
  return error ? html`<div class="invalid-feedback d-block" id="${name}-error">${error}</div>` : '';
}

function input(ctx: Ctx, spec: InputSpec): Html {
  const error = errorOf(ctx, spec.name);
  const value = ctx.values[spec.name] ?? '';
  return html`<div class="form-group">
    <label for="${spec.name}" class="active">${spec.label}${spec.required ? ' *' : ''}</label>
    <input
      type="${spec.type ?? 'text'}"
      class="form-control${error ? ' is-invalid' : ''}"
      id="${spec.name}"
      name="${spec.name}"
      value="${value}"
      ${spec.maxlength ? html`maxlength="${spec.maxlength}"` : ''}
      ${spec.placeholder ? html`placeholder="${spec.placeholder}"` : ''}
      ${spec.inputmode ? html`inputmode="${spec.inputmode}"` : ''}
      ${spec.autocomplete ? html`autocomplete="${spec.autocomplete}"` : ''}
      ${spec.required ? html`aria-required="true"` : ''}
      ${error ? html`aria-invalid="true"` : ''}
      ${describedBy(spec.name, Boolean(spec.hint), Boolean(error))}
    />
    ${spec.hint ? html`<small id="${spec.name}-hint" class="form-text">${spec.hint}</small>` : ''}
    ${feedback(spec.name, error)}
  </div>`;
}

function select(
  ctx: Ctx,
  name: string,
  label: string,
  choices: ReadonlyArray<{ value: string; text: string }>,
  selected: string,
): Html {
  const error = errorOf(ctx, name);
  return html`<div class="select-wrapper mb-4">
    <label for="${name}">${label}</label>
    <select id="${name}" name="${name}" ${describedBy(name, false, Boolean(error))}>
      ${choices.map(
        (c) =>
          html`<option value="${c.value}" ${c.value === selected ? html`selected` : ''}>${c.text}</option>`,
      )}
    </select>
    ${feedback(name, error)}
  </div>`;
}

function errorSummary(errors: readonly FieldError[]): Html | string {
  if (errors.length === 0) return '';
  return html`<div class="alert alert-danger" role="alert" data-testid="position-error-summary">
    <p class="mb-2"><strong>La posizione non è stata salvata.</strong> Correggi questi dati:</p>
    <ul class="mb-0">
      ${errors.map((e) =>
        e.field
          ? html`<li><a href="#${e.field}">${fieldLabel(e.field)}</a>: ${e.message}</li>`
          : html`<li>${e.message}</li>`,
      )}
    </ul>
  </div>`;
}

/** The GET form above the main one: the ente (admins) and how many installment blocks to show. */
function setupForm(view: PositionFormView): Html {
  const action = view.mode === 'new' ? `${POSITIONS_PORTAL}/nuova` : `${view.action}`;
  const counts = Array.from({ length: MAX_INSTALLMENT_BLOCKS - 1 }, (_, i) => i + 2);
  return html`<form
    method="get"
    action="${action}"
    class="row g-2 align-items-end mb-4"
    data-testid="position-setup"
  >
    ${
      view.enti
        ? html`<div class="col-md-5">
            <div class="select-wrapper">
              <label for="setup-ente">Ente</label>
              <select id="setup-ente" name="ente">
                ${view.enti.map(
                  (e) =>
                    html`<option value="${e.fiscalCode}" ${e.id === view.ente.id ? html`selected` : ''}>
                      ${e.name} (${e.fiscalCode})
                    </option>`,
                )}
              </select>
            </div>
          </div>`
        : ''
    }
    <div class="col-md-3">
      <div class="select-wrapper">
        <label for="setup-rate">Rate da compilare</label>
        <select id="setup-rate" name="rate">
          ${counts.map(
            (n) => html`<option value="${n}" ${n === view.blocks ? html`selected` : ''}>${n}</option>`,
          )}
        </select>
      </div>
    </div>
    <div class="col-md-4">
      <button type="submit" class="btn btn-outline-primary">Aggiorna il modulo</button>
      <small class="form-text d-block"
        >Da usare prima di compilare: i dati inseriti non vengono conservati.</small
      >
    </div>
  </form>`;
}

function beneficiary(ctx: Ctx, block: number, k: number, defaults: { iban: string; category: string }): Html {
  const f = (name: Parameters<typeof transferField>[2]) => transferField(block, k, name);
  const own = k === 1;
  return html`<fieldset class="border rounded p-3 mb-3">
    <legend class="h6 w-auto px-2">${own ? "Beneficiario 1: l'ente" : `Beneficiario ${k}`}</legend>
    <div class="row">
      ${
        own
          ? ''
          : html`<div class="col-md-4">
              ${input(ctx, { name: f('enteFiscalCode'), label: 'Codice fiscale ente', maxlength: 11, inputmode: 'numeric' })}
            </div>`
      }
      <div class="col-md-${own ? '6' : '8'}">
        ${input(ctx, {
          name: f('iban'),
          label: 'IBAN',
          maxlength: 40,
          placeholder: own ? defaults.iban : '',
          hint: own ? 'Se vuoto: IBAN del servizio o, in mancanza, dell’ente.' : '',
        })}
      </div>
      <div class="col-md-${own ? '6' : '4'}">
        ${input(ctx, {
          name: f('amount'),
          label: 'Importo (euro)',
          inputmode: 'decimal',
          hint: own ? 'Se vuoto: l’importo meno le quote degli altri beneficiari.' : '',
        })}
      </div>
      <div class="col-md-4">
        ${input(ctx, {
          name: f('category'),
          label: 'Codice tassonomico',
          maxlength: 140,
          placeholder: own ? defaults.category : '9/0101108TS/',
          hint: own ? 'Se vuoto: quello del servizio.' : '',
        })}
      </div>
      <div class="col-md-8">
        ${input(ctx, { name: f('remittance'), label: 'Causale del versamento', maxlength: 140 })}
      </div>
    </div>
  </fieldset>`;
}

function optionBlock(ctx: Ctx, block: number, defaults: { iban: string; category: string }): Html {
  const extra = Array.from({ length: MAX_BENEFICIARIES - 1 }, (_, i) => i + 2);
  const extraOpen = extra.some(
    (k) =>
      ['enteFiscalCode', 'iban', 'amount', 'category', 'remittance'].some(
        (name) => ctx.values[transferField(block, k, name as 'iban')],
      ) || ctx.errors.some((e) => e.field.startsWith(`opt${block}_tr${k}_`)),
  );
  const transfersError = errorOf(ctx, optionField(block, 'transfers'));
  return html`<fieldset class="mb-4" data-testid="option-block-${block}">
    <legend class="h5 mb-4">${installmentLabel(block)}</legend>
    <div class="row">
      <div class="col-md-4">
        ${input(ctx, { name: optionField(block, 'amount'), label: 'Importo (euro)', inputmode: 'decimal', hint: 'Ad esempio 120,50' })}
      </div>
      <div class="col-md-4">
        ${input(ctx, { name: optionField(block, 'dueDate'), label: 'Scadenza', type: 'date' })}
      </div>
      <div class="col-md-4">
        ${input(ctx, { name: optionField(block, 'description'), label: 'Descrizione (facoltativa)', maxlength: 140 })}
      </div>
    </div>
    ${
      transfersError
        ? html`<div class="alert alert-danger" id="${optionField(block, 'transfers')}" role="alert">
            ${transfersError}
          </div>`
        : ''
    }
    ${beneficiary(ctx, block, 1, defaults)}
    <details class="mb-3" ${extraOpen ? html`open` : ''}>
      <summary>Altri beneficiari (facoltativi, fino a ${MAX_BENEFICIARIES - 1})</summary>
      <div class="mt-3">${extra.map((k) => beneficiary(ctx, block, k, defaults))}</div>
    </details>
  </fieldset>`;
}

function planChoice(ctx: Ctx): Html {
  const plan = planOf(ctx.values);
  const error = errorOf(ctx, 'plan');
  const choices: Array<[string, string]> = [
    ['single', 'Pagamento unico'],
    ['installments', 'Pagamento rateale'],
    ['both', 'Pagamento unico oppure rateale (a scelta del debitore)'],
  ];
  return html`<fieldset class="mb-4" id="plan" ${describedBy('plan', false, Boolean(error))}>
    <legend class="h5 mb-4">Tipo di pagamento</legend>
    ${choices.map(
      ([value, text]) =>
        html`<div class="form-check">
          <input
            class="form-check-input"
            type="radio"
            name="plan"
            id="plan-${value}"
            value="${value}"
            ${plan === value ? html`checked` : ''}
          />
          <label class="form-check-label" for="plan-${value}">${text}</label>
        </div>`,
    )}
    <small class="form-text d-block"
      >Per il pagamento rateale compila almeno due rate; i blocchi di rata lasciati vuoti sono
      ignorati.</small
    >
    ${feedback('plan', error)}
  </fieldset>`;
}

export function positionFormBody(
  res: Response,
  view: PositionFormView,
  defaults: { iban: string; category: string },
): Html {
  const ctx: Ctx = { values: view.values, errors: view.errors };
  const edit = view.mode === 'edit';
  const blocks = Array.from({ length: view.blocks }, (_, i) => i + 1);
  const serviceChoices = view.services.map((s) => ({ value: s.code, text: `${s.code} - ${s.description}` }));
  return html`${errorSummary(view.errors)} ${setupForm(view)}
    <form method="post" action="${view.action}" novalidate data-testid="position-form">
      ${csrfField(res)}
      <input type="hidden" name="ente" value="${view.ente.fiscalCode}" />
      <input type="hidden" name="blocks" value="${view.blocks}" />
      ${edit && view.position ? html`<input type="hidden" name="version" value="${view.position.version}" />` : ''}
      <fieldset class="mb-4">
        <legend class="h5 mb-4">Posizione</legend>
        <p class="mb-5">Ente: <strong>${view.ente.name}</strong> (${view.ente.fiscalCode})</p>
        ${
          edit
            ? html`<p class="mb-5">
                Servizio: <strong>${view.serviceCode}</strong> · Identificativo:
                <strong data-testid="position-id">${view.position?.positionId ?? ''}</strong>
              </p>`
            : html`<input
                  type="hidden"
                  name="generatedId"
                  value="${view.values.generatedId || generatePositionId()}"
                />
                ${select(ctx, 'service', 'Servizio *', serviceChoices, view.serviceCode)}
                ${input(ctx, {
                  name: 'positionId',
                  label: 'Identificativo della posizione',
                  maxlength: 64,
                  hint: 'Facoltativo: se vuoto viene generato (PORTALE-aaaammgg-XXXXXXXX).',
                })}`
        }
        ${input(ctx, { name: 'description', label: 'Descrizione (causale)', required: true, maxlength: 140 })}
        ${input(ctx, {
          name: 'validityDate',
          label: 'Pagabile dal',
          type: 'date',
          hint: 'Facoltativa: la posizione è pagabile da questa data (se vuota, subito).',
        })}
      </fieldset>
      <fieldset class="mb-4">
        <legend class="h5 mb-4">Debitore</legend>
        <div class="row">
          <div class="col-md-4">
            ${select(
              ctx,
              'debtorType',
              'Tipo di debitore',
              [
                { value: 'F', text: 'Persona fisica' },
                { value: 'G', text: 'Persona giuridica' },
              ],
              view.values.debtorType ?? 'F',
            )}
          </div>
          <div class="col-md-4">
            ${input(ctx, { name: 'debtorFiscalCode', label: 'Codice fiscale o partita IVA', required: true, maxlength: 35 })}
          </div>
          <div class="col-md-4">
            ${input(ctx, { name: 'debtorFullName', label: 'Nome e cognome o ragione sociale', required: true, maxlength: 70 })}
          </div>
          <div class="col-md-6">
            ${input(ctx, { name: 'debtorEmail', label: 'E-mail', type: 'email', maxlength: 256, autocomplete: 'off' })}
          </div>
          <div class="col-md-6">
            ${input(ctx, { name: 'debtorStreetName', label: 'Indirizzo', maxlength: 70 })}
          </div>
          <div class="col-md-2">
            ${input(ctx, { name: 'debtorCivicNumber', label: 'Numero civico', maxlength: 16 })}
          </div>
          <div class="col-md-2">${input(ctx, { name: 'debtorPostalCode', label: 'CAP', maxlength: 16 })}</div>
          <div class="col-md-4">${input(ctx, { name: 'debtorCity', label: 'Comune', maxlength: 35 })}</div>
          <div class="col-md-2">
            ${input(ctx, { name: 'debtorProvince', label: 'Provincia', maxlength: 35 })}
          </div>
          <div class="col-md-2">
            ${input(ctx, { name: 'debtorCountry', label: 'Nazione', maxlength: 2, placeholder: 'IT' })}
          </div>
        </div>
      </fieldset>
      ${planChoice(ctx)}
      <p class="text-muted">
        Compila il blocco del pagamento unico, le rate o entrambi, secondo il tipo scelto.
      </p>
      ${optionBlock(ctx, 0, defaults)}
      <h2 class="h4 mt-4">Rate</h2>
      ${blocks.map((block) => optionBlock(ctx, block, defaults))}
      <div class="mt-4">
        <button type="submit" class="btn btn-primary" data-testid="position-submit">
          ${edit ? 'Salva le modifiche' : 'Salva la posizione'}
        </button>
        <a
          class="btn btn-link"
          href="${edit && view.position ? positionPath(view.position.id) : POSITIONS_PORTAL}"
          >Annulla</a
        >
      </div>
    </form>`;
}

// ---------------------------------------------------------------------------------------------
// The detail page

export interface PositionDetailView {
  position: StoredPosition;
  ente: Ente;
  service: Service | null;
  payments: readonly Payment[];
  receipts: readonly Receipt[];
  timeline: readonly StoredEvent[];
  canEdit: boolean;
  canCancel: boolean;
  /** The cancel form's error (reason missing, or the domain's refusal). */
  cancelError?: string | undefined;
  reason?: string | undefined;
}

function item(label: string, value: Html | string): Html {
  return html`<dt class="col-sm-4">${label}</dt>
    <dd class="col-sm-8">${value || html`<span class="text-muted">-</span>`}</dd>`;
}

function statusBadge(status: string): Html {
  const tone: Record<string, string> = {
    VALID: 'primary',
    PARTIALLY_PAID: 'warning',
    PAID: 'success',
    REPORTED: 'success',
    RECONCILED: 'success',
    CANCELLED: 'secondary',
    EXPIRED: 'danger',
  };
  return html`<span
    class="badge bg-${tone[status] ?? 'secondary'}"
    data-testid="position-status"
    data-status="${status}"
    >${POSITION_STATUS_LABELS[status] ?? status}</span
  >`;
}

function debtorText(position: StoredPosition): Html | string {
  const d = position.debtor;
  if (!d) return '';
  const address = [
    [d.streetName, d.civicNumber].filter(Boolean).join(' '),
    [d.postalCode, d.city, d.stateProvinceRegion ? `(${d.stateProvinceRegion})` : '']
      .filter(Boolean)
      .join(' '),
    d.country ?? '',
  ]
    .filter(Boolean)
    .join(', ');
  return html`<span data-testid="debtor">${d.fullName}</span> · ${d.fiscalCode}
    (${d.type === 'F' ? 'persona fisica' : 'persona giuridica'}) ${d.email ? html`<br />${d.email}` : ''}
    ${address ? html`<br />${address}` : ''}`;
}

function optionsTable(position: StoredPosition): Html {
  const options = [...position.options].sort((a, b) => a.installment - b.installment);
  return html`<div class="table-responsive">
    <table class="table table-sm" data-testid="position-options">
      <caption>
        Avvisi di pagamento della posizione
      </caption>
      <thead>
        <tr>
          <th scope="col">Rata</th>
          <th scope="col">Codice avviso</th>
          <th scope="col">IUV</th>
          <th scope="col" class="text-end">Importo</th>
          <th scope="col">Scadenza</th>
          <th scope="col">Stato</th>
          <th scope="col">Avviso</th>
        </tr>
      </thead>
      <tbody>
        ${options.map(
          (o) =>
            html`<tr data-testid="option-row" data-installment="${o.installment}">
              <th scope="row">${installmentLabel(o.installment)}</th>
              <td class="nowrap" data-testid="notice-number">${o.noticeNumber ?? ''}</td>
              <td class="nowrap">${o.iuv}</td>
              <td class="text-end nowrap">${formatEuro(o.amountCents)}</td>
              <td class="nowrap">${o.dueDate ? formatDate(o.dueDate) : ''}</td>
              <td>${OPTION_STATUS_LABELS[o.status] ?? o.status}</td>
              <td>
                <a
                  href="${positionPath(position.id)}/avviso.pdf?rata=${o.installment}"
                  data-testid="notice-pdf-link"
                  >Scarica avviso<span class="visually-hidden"> (${installmentLabel(o.installment)})</span></a
                >
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function transfersTable(option: StoredOption): Html {
  return html`<div class="table-responsive">
    <table class="table table-sm" data-testid="transfers-${option.installment}">
      <caption>
        Beneficiari: ${installmentLabel(option.installment)}
      </caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Ente beneficiario</th>
          <th scope="col">IBAN</th>
          <th scope="col" class="text-end">Importo</th>
          <th scope="col">Tassonomia</th>
          <th scope="col">Causale</th>
        </tr>
      </thead>
      <tbody>
        ${[...option.transfers]
          .sort((a, b) => a.index - b.index)
          .map(
            (t) =>
              html`<tr>
                <th scope="row">${t.index}</th>
                <td>${t.enteFiscalCode}</td>
                <td class="nowrap">${t.iban}${t.postal ? ' (postale)' : ''}</td>
                <td class="text-end nowrap">${formatEuro(t.amountCents)}</td>
                <td>${t.category}</td>
                <td>${t.remittanceInformation}</td>
              </tr>`,
          )}
      </tbody>
    </table>
  </div>`;
}

function paymentsSection(payments: readonly Payment[], receipts: readonly Receipt[]): Html {
  const attempts =
    payments.length === 0
      ? html`<p class="text-muted">Nessun tentativo di pagamento.</p>`
      : html`<div class="table-responsive">
          <table class="table table-sm" data-testid="position-payments">
            <caption>
              Tentativi di pagamento
            </caption>
            <thead>
              <tr>
                <th scope="col">Avviato il</th>
                <th scope="col">Codice avviso</th>
                <th scope="col">Token / CCP</th>
                <th scope="col">PSP</th>
                <th scope="col" class="text-end">Importo</th>
                <th scope="col">Stato</th>
              </tr>
            </thead>
            <tbody>
              ${payments.map(
                (p) =>
                  html`<tr>
                    <th scope="row" class="nowrap">${formatDateTime(p.createdAt)}</th>
                    <td class="nowrap">${p.noticeNumber ?? p.iuv}</td>
                    <td>${p.ccpOrToken}</td>
                    <td>${p.pspId ?? ''}</td>
                    <td class="text-end nowrap">${formatEuro(p.amountCents)}</td>
                    <td>${PAYMENT_STATUS_LABELS[p.status] ?? p.status}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>`;
  const stored =
    receipts.length === 0
      ? html`<p class="text-muted">Nessuna ricevuta.</p>`
      : html`<div class="table-responsive">
          <table class="table table-sm" data-testid="position-receipts">
            <caption>
              Ricevute di pagamento
            </caption>
            <thead>
              <tr>
                <th scope="col">Ricevuta il</th>
                <th scope="col">Identificativo ricevuta</th>
                <th scope="col">Codice avviso</th>
                <th scope="col">Esito</th>
                <th scope="col" class="text-end">Importo</th>
                <th scope="col">Data pagamento</th>
                <th scope="col">PSP</th>
                <th scope="col">Anomalia</th>
              </tr>
            </thead>
            <tbody>
              ${receipts.map(
                (r) =>
                  html`<tr data-testid="receipt-row">
                    <th scope="row" class="nowrap">${formatDateTime(r.receivedAt)}</th>
                    <td>${r.receiptId}</td>
                    <td class="nowrap">${r.noticeNumber ?? r.iuv}</td>
                    <td>${r.outcome === 'OK' ? 'Positivo' : 'Negativo'}</td>
                    <td class="text-end nowrap">${formatEuro(r.amountCents)}</td>
                    <td class="nowrap">${r.paymentDateTime ? formatDateTime(r.paymentDateTime) : ''}</td>
                    <td>${r.pspId ?? ''}</td>
                    <td>${r.flaggedReason ?? ''}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>`;
  return html`<h2 class="h4 mt-4">Pagamenti</h2>
    ${attempts} ${stored}`;
}

function timelineSection(position: StoredPosition, events: readonly StoredEvent[]): Html {
  const installmentOf = new Map(position.options.map((o) => [String(o.id), o.installment]));
  const label = (e: StoredEvent): string => {
    const base = EVENT_LABELS[`${e.entityType}:${e.action}`] ?? `${e.entityType}: ${e.action}`;
    const installment = e.entityType === 'payment_option' ? installmentOf.get(e.entityId) : undefined;
    return installment === undefined ? base : `${base} (${installmentLabel(installment).toLowerCase()})`;
  };
  const change = (e: StoredEvent): Html | string => {
    const from = statusLabel(e.entityType, e.fromStatus);
    const to = statusLabel(e.entityType, e.toStatus);
    if (!from && !to) return '';
    if (from === to) return html` · <span class="text-muted">${to}</span>`;
    return html` · <span data-testid="timeline-change">${from ? `${from} → ` : ''}${to}</span>`;
  };
  return html`<h2 class="h4 mt-4" id="cronologia">Cronologia</h2>
    ${
      events.length === 0
        ? html`<p class="text-muted">Nessun evento registrato.</p>`
        : html`<ol class="list-unstyled" data-testid="timeline" aria-labelledby="cronologia">
            ${events.map(
              (e) =>
                html`<li
                  class="timeline-entry"
                  data-testid="timeline-entry"
                  data-action="${e.entityType}:${e.action}"
                >
                  <time datetime="${e.occurredAt}" class="fw-semibold">${formatDateTime(e.occurredAt)}</time>
                  · ${label(e)}${change(e)}
                  <br /><small class="text-muted"
                    >Causa: ${e.cause} · Autore: <span data-testid="timeline-actor">${e.actor}</span></small
                  >
                </li>`,
            )}
          </ol>`
    }`;
}

function cancelForm(res: Response, view: PositionDetailView): Html | string {
  if (!view.canCancel) return '';
  const error = view.cancelError ?? '';
  return html`<h2 class="h4 mt-4">Annulla la posizione</h2>
    <form
      method="post"
      action="${positionPath(view.position.id)}/annulla"
      data-confirm="Annullare la posizione ${view.position.positionId}? I suoi avvisi non saranno più pagabili."
      data-testid="cancel-form"
      novalidate
    >
      ${csrfField(res)}
      ${error ? html`<div class="alert alert-danger" role="alert" data-testid="cancel-error">${error}</div>` : ''}
      <div class="form-group mt-5">
        <label for="reason" class="active">Motivo dell'annullamento *</label>
        <input
          type="text"
          class="form-control${error ? ' is-invalid' : ''}"
          id="reason"
          name="reason"
          value="${view.reason ?? ''}"
          maxlength="200"
          aria-required="true"
          ${error ? html`aria-invalid="true" aria-describedby="reason-error"` : ''}
        />
        ${error ? html`<div class="invalid-feedback d-block" id="reason-error">${error}</div>` : ''}
      </div>
      <button type="submit" class="btn btn-danger">Annulla la posizione</button>
    </form>`;
}

export function positionDetailBody(res: Response, view: PositionDetailView): Html {
  const { position, ente, service } = view;
  const paid = position.options.some((o) => o.status !== 'UNPAID');
  const options = [...position.options].sort((a, b) => a.installment - b.installment);
  const refused =
    view.cancelError && !view.canCancel
      ? html`<div class="alert alert-danger" role="alert" data-testid="cancel-error">
          ${view.cancelError}
        </div>`
      : '';
  return html`${refused}
    <div class="mb-3">
      ${
        view.canEdit
          ? html`<a
              class="btn btn-primary me-2"
              href="${positionPath(position.id)}/modifica"
              data-testid="edit-link"
              >Modifica</a
            >`
          : ''
      }
      ${
        paid
          ? html`<a
              class="btn btn-outline-primary me-2"
              href="${positionPath(position.id)}/ricevuta.pdf"
              data-testid="receipt-pdf-link"
              >Scarica ricevuta</a
            >`
          : ''
      }
      <a class="btn btn-link" href="${POSITIONS_PORTAL}">Torna alle posizioni</a>
    </div>
    <dl class="row" data-testid="position-detail">
      ${item('Stato', statusBadge(position.status))} ${item('Ente', `${ente.name} (${ente.fiscalCode})`)}
      ${item('Servizio', service ? `${service.code} - ${service.description}` : '')}
      ${item('Identificativo', html`<span data-testid="position-id">${position.positionId}</span>`)}
      ${item('Descrizione', html`<span data-testid="position-description">${position.description}</span>`)}
      ${item('Debitore', debtorText(position))}
      ${item('Pagabile dal', position.validityDate ? formatDate(position.validityDate) : '')}
      ${item('Creata il', formatDateTime(position.createdAt))}
      ${item('Ultima modifica', formatDateTime(position.updatedAt))}
    </dl>
    <h2 class="h4 mt-4">Avvisi e rate</h2>
    ${optionsTable(position)}
    <details class="mb-3">
      <summary>Beneficiari di ogni avviso</summary>
      <div class="mt-3">${options.map((o) => transfersTable(o))}</div>
    </details>
    ${paymentsSection(view.payments, view.receipts)} ${timelineSection(position, view.timeline)}
    ${cancelForm(res, view)}`;
}

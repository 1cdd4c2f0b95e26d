// The connector admin's pages (issue 8 item 2): overview, stations and brokers, enti with their
// services, operators and bound gestionali, gestionale clients (the generated password shown once)
// and portal users. Pure rendering: every value goes through the html tag; forms keep what the admin
// typed (never a password) and show the Italian reason of a refusal next to them.

import type { DomainError } from '../../domain/errors.ts';
import type { Broker } from '../../db/repositories/brokers.ts';
import type { Station } from '../../db/repositories/stations.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { Client, ClientBindings } from '../../db/repositories/clients.ts';
import type { ClientSummary } from '../../db/repositories/portalAdmin.ts';
import type { PortalUser } from '../../db/repositories/portalUsers.ts';
import { MIN_PASSWORD_LENGTH } from '../../app/portal/auth.ts';
import { formatDate, html, type Html } from '../citizen/html.ts';
import { PORTAL, type PortalFrame } from '../layout.ts';
import { italianMessage } from '../messages.ts';

export const ADMIN = `${PORTAL}/admin`;

/** A form's submitted values, by field name (strings; repeated fields as lists). */
export type FormValues = Record<string, string | string[] | undefined>;

function value(values: FormValues, name: string): string {
  const v = values[name];
  return typeof v === 'string' ? v : '';
}

function values(values: FormValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' && v ? [v] : [];
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

const FIELD_TEXT: Record<string, string> = {
  username: 'Il nome utente deve avere da 3 a 64 caratteri: lettere minuscole, cifre, punto, trattino.',
  fullName: 'Il nome e cognome è obbligatorio.',
  name: 'Il nome è obbligatorio (al massimo 140 caratteri).',
  description: 'La descrizione è obbligatoria (al massimo 140 caratteri).',
  code: 'Il codice del servizio può contenere lettere, cifre, punto, trattino e trattino basso (al massimo 64).',
  password: `La password deve avere almeno ${MIN_PASSWORD_LENGTH} caratteri.`,
  passwordConfirm: 'Le due password non coincidono.',
  role: 'Scegli il ruolo: amministratore o operatore.',
  ente: "Un operatore deve appartenere a un ente: scegli l'ente.",
  enti: 'Scegli almeno un ente.',
  models: 'Scegli almeno un modello di integrazione.',
  callbackUrl: "L'indirizzo di callback deve essere un URL assoluto http o https.",
  returnUrlPrefixes: 'Ogni prefisso di URL di ritorno deve essere un URL assoluto http o https.',
  pagopaServiceId: 'Il codice servizio pagoPA (idServizio) è composto da 5 cifre.',
  stationId:
    "L'identificativo della stazione ha la forma <codice fiscale intermediario>_NN (es. 12345678903_01).",
  dialect: 'Scegli il dialetto pagoPA: attuale o legacy.',
  broker: "Scegli l'intermediario.",
};

const STATION_PASSWORD_TEXT = 'La password della stazione deve avere da 8 a 15 caratteri, senza spazi.';

/** The Italian sentence for a refused admin form. */
export function adminErrorText(err: DomainError, form?: 'station'): string {
  const field = typeof err.details.field === 'string' ? err.details.field : '';
  switch (err.code) {
    case 'INVALID_FISCAL_CODE':
      return 'Il codice fiscale non è valido: 11 cifre con la cifra di controllo corretta.';
    case 'INVALID_IBAN':
      return field === 'iban' && err.message.includes('no default')
        ? "Indica un IBAN: l'ente non ha un IBAN predefinito."
        : "L'IBAN non è valido (controlla lunghezza e caratteri di controllo).";
    case 'INVALID_AUX_DIGIT':
      return 'La cifra ausiliaria deve essere 0, 1, 2 o 3.';
    case 'INVALID_SEGREGATION_CODE':
      return 'Il codice di segregazione è di 2 cifre ed è obbligatorio con la cifra ausiliaria 3.';
    case 'INVALID_APPLICATION_CODE':
      return 'Il codice applicativo è di 2 cifre ed è obbligatorio con la cifra ausiliaria 0.';
    case 'INVALID_TRANSFER':
      return 'La categoria deve essere un codice di tassonomia pagoPA, ad esempio 9/0101108TS/.';
    case 'STATION_UNKNOWN':
      return 'Scegli una stazione esistente.';
    case 'SERVICE_UNKNOWN':
      return `Servizi non presenti negli enti scelti: ${((err.details.unknown as string[] | undefined) ?? []).join(', ')}.`;
    case 'ENTE_UNKNOWN':
      return 'Ente non trovato: scegli un ente esistente.';
    case 'DUPLICATE':
      if (field === 'username') return 'Esiste già un utente con questo nome.';
      if (form === 'station') return 'Esiste già una stazione o un intermediario con questo identificativo.';
      return 'Il dato esiste già.';
    case 'FORBIDDEN':
      return field === 'self' ? 'Non puoi disattivare il tuo stesso utente.' : italianMessage(err);
    case 'INVALID_STATE_TRANSITION':
      return 'Operazione non consentita: il gestionale è revocato.';
    case 'INVALID_INPUT':
      if (field === 'password' && form === 'station') return STATION_PASSWORD_TEXT;
      return FIELD_TEXT[field] ?? italianMessage(err);
    default:
      return italianMessage(err);
  }
}

// ---------------------------------------------------------------------------------------------
// Pieces
// ---------------------------------------------------------------------------------------------

const SECTIONS = [
  { href: ADMIN, label: 'Panoramica' },
  { href: `${ADMIN}/enti`, label: 'Enti' },
  { href: `${ADMIN}/stazioni`, label: 'Stazioni e intermediari' },
  { href: `${ADMIN}/gestionali`, label: 'Gestionali' },
  { href: `${ADMIN}/utenti`, label: 'Utenti del portale' },
] as const;

export type AdminSection = (typeof SECTIONS)[number]['href'];

function adminNav(current: AdminSection): Html {
  return html`<nav class="mb-4" aria-label="Sezioni di amministrazione" data-testid="admin-nav">
    <ul class="nav nav-tabs">
      ${SECTIONS.map(
        (s) =>
          html`<li class="nav-item">
            <a
              class="nav-link${s.href === current ? ' active' : ''}"
              href="${s.href}"
              ${s.href === current ? html`aria-current="page"` : ''}
              >${s.label}</a
            >
          </li>`,
      )}
    </ul>
  </nav>`;
}

function frame(section: AdminSection, title: string, body: Html, lead?: string | Html): PortalFrame {
  return { title, active: ADMIN, lead, body: html`${adminNav(section)}${body}` };
}

function errorBox(error: string | undefined): Html | string {
  return error
    ? html`<div class="alert alert-danger" role="alert" data-testid="form-error">${error}</div>`
    : '';
}

function statusBadge(status: string): Html {
  const text =
    status === 'active'
      ? 'attivo'
      : status === 'revoked'
        ? 'revocato'
        : status === 'disabled'
          ? 'disattivato'
          : status;
  return html`<span class="badge ${status === 'active' ? 'bg-success' : 'bg-secondary'}" data-testid="status"
    >${text}</span
  >`;
}

interface InputOptions {
  id: string;
  name?: string;
  label: string;
  value?: string;
  type?: string;
  help?: string;
  required?: boolean;
  autocomplete?: string;
  maxlength?: number;
}

function input(o: InputOptions): Html {
  const helpId = o.help ? `${o.id}-help` : '';
  return html`<div class="form-group">
    <label for="${o.id}" class="active">${o.label}${o.required ? ' *' : ''}</label>
    <input
      type="${o.type ?? 'text'}"
      class="form-control"
      id="${o.id}"
      name="${o.name ?? o.id}"
      value="${o.value ?? ''}"
      ${o.required ? html`required` : ''}
      ${o.autocomplete ? html`autocomplete="${o.autocomplete}"` : ''}
      ${o.maxlength ? html`maxlength="${o.maxlength}"` : ''}
      ${helpId ? html`aria-describedby="${helpId}"` : ''}
    />
    ${o.help ? html`<small id="${helpId}" class="form-text">${o.help}</small>` : ''}
  </div>`;
}

function select(
  id: string,
  label: string,
  options: Array<{ value: string; label: string }>,
  selected: string,
  required = false,
): Html {
  return html`<div class="select-wrapper mb-5">
    <label for="${id}">${label}${required ? ' *' : ''}</label>
    <select id="${id}" name="${id}" ${required ? html`required` : ''}>
      ${options.map(
        (o) =>
          html`<option value="${o.value}" ${o.value === selected ? html`selected` : ''}>${o.label}</option>`,
      )}
    </select>
  </div>`;
}

function checkbox(name: string, id: string, val: string, label: string | Html, checked: boolean): Html {
  return html`<div class="form-check">
    <input type="checkbox" id="${id}" name="${name}" value="${val}" ${checked ? html`checked` : ''} />
    <label for="${id}">${label}</label>
  </div>`;
}

function postButton(
  csrf: Html,
  action: string,
  label: string,
  options: { testid: string; kind?: string; hidden?: Record<string, string>; subject?: string },
): Html {
  return html`<form method="post" action="${action}" class="d-inline" data-testid="${options.testid}">
    ${csrf}
    ${Object.entries(options.hidden ?? {}).map(
      ([name, v]) => html`<input type="hidden" name="${name}" value="${v}" />`,
    )}
    <button type="submit" class="btn btn-${options.kind ?? 'outline-primary'} btn-sm">
      ${label}${options.subject ? html`<span class="visually-hidden"> ${options.subject}</span>` : ''}
    </button>
  </form>`;
}

/** Disable / enable button; subject names the row for screen readers (tables repeat the label). */
function statusToggle(csrf: Html, action: string, status: string, testid: string, subject?: string): Html {
  const named = subject ? { subject } : {};
  return status === 'active'
    ? postButton(csrf, action, 'Disattiva', {
        testid,
        kind: 'outline-danger',
        hidden: { status: 'disabled' },
        ...named,
      })
    : postButton(csrf, action, 'Riattiva', { testid, hidden: { status: 'active' }, ...named });
}

const MODEL_LABELS: Record<string, string> = {
  base: 'Base (posizioni e codici IUV)',
  multe: 'Multe con preavviso',
  async: 'Asincrona (redirect)',
  sync: 'Sincrona (redirect)',
};

// ---------------------------------------------------------------------------------------------
// Overview
// ---------------------------------------------------------------------------------------------

export interface Overview {
  enti: number;
  stations: number;
  clients: number;
  users: number;
}

export function overviewPage(counts: Overview): PortalFrame {
  const card = (href: string, title: string, count: number, text: string, testid: string) =>
    html`<div class="col-md-6 col-lg-3 mb-3">
      <div class="card card-bg h-100" data-testid="${testid}">
        <div class="card-body">
          <h2 class="h5 card-title"><a href="${href}">${title}</a></h2>
          <p class="h3 mb-2" data-testid="count">${count}</p>
          <p class="card-text">${text}</p>
        </div>
      </div>
    </div>`;
  return frame(
    ADMIN,
    'Amministrazione',
    html`<div class="row">
      ${card(`${ADMIN}/enti`, 'Enti', counts.enti, 'Enti creditori, servizi, operatori.', 'overview-enti')}
      ${card(
        `${ADMIN}/stazioni`,
        'Stazioni',
        counts.stations,
        'Stazioni e intermediari verso il nodo pagoPA.',
        'overview-stations',
      )}
      ${card(
        `${ADMIN}/gestionali`,
        'Gestionali',
        counts.clients,
        'Credenziali SOAP dei gestionali e loro abilitazioni.',
        'overview-clients',
      )}
      ${card(
        `${ADMIN}/utenti`,
        'Utenti',
        counts.users,
        'Amministratori e operatori del portale.',
        'overview-users',
      )}
    </div>`,
    'Configurazione del connettore',
  );
}

// ---------------------------------------------------------------------------------------------
// Stations and brokers
// ---------------------------------------------------------------------------------------------

export interface StationsView {
  stations: Station[];
  brokers: Broker[];
  entiPerStation: Map<number, number>;
  stationForm: FormValues;
  brokerForm: FormValues;
  stationError?: string;
  brokerError?: string;
}

export function stationsPage(csrf: Html, view: StationsView): PortalFrame {
  const brokerOf = new Map(view.brokers.map((b) => [b.id, b]));
  const brokerOptions = [
    { value: '', label: 'Scegli un intermediario' },
    ...view.brokers.map((b) => ({ value: b.fiscalCode, label: `${b.name} (${b.fiscalCode})` })),
  ];
  const s = view.stationForm;
  return frame(
    `${ADMIN}/stazioni`,
    'Stazioni e intermediari',
    html`<h2 class="h4">Stazioni</h2>
      <div class="table-responsive">
        <table class="table table-striped" data-testid="stations-table">
          <caption class="visually-hidden">
            Stazioni del connettore
          </caption>
          <thead>
            <tr>
              <th scope="col">Stazione</th>
              <th scope="col">Intermediario</th>
              <th scope="col">Dialetto</th>
              <th scope="col">Enti</th>
              <th scope="col">Stato</th>
              <th scope="col"><span class="visually-hidden">Azioni</span></th>
            </tr>
          </thead>
          <tbody>
            ${view.stations.map((st) => {
              const broker = brokerOf.get(st.brokerId);
              return html`<tr data-testid="station-row-${st.stationId}">
                <th scope="row">${st.stationId}</th>
                <td>${broker ? `${broker.name} (${broker.fiscalCode})` : ''}</td>
                <td>${st.dialect === 'current' ? 'attuale (SANP 3)' : 'legacy (SANP 2)'}</td>
                <td>${view.entiPerStation.get(st.id) ?? 0}</td>
                <td>${statusBadge(st.status)}</td>
                <td>
                  ${statusToggle(csrf, `${ADMIN}/stazioni/${st.id}/stato`, st.status, 'station-status-form', st.stationId)}
                </td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>
      ${view.stations.length === 0 ? html`<p>Nessuna stazione.</p>` : ''}

      <div class="row mt-4">
        <div class="col-lg-6">
          <h2 class="h4">Nuova stazione</h2>
          ${errorBox(view.stationError)}
          ${
            view.brokers.length === 0
              ? html`<p>Crea prima un intermediario.</p>`
              : html`<form
                  method="post"
                  action="${ADMIN}/stazioni"
                  data-testid="station-form"
                  class="pt-4"
                  novalidate
                >
                  ${csrf} ${select('broker', 'Intermediario', brokerOptions, value(s, 'broker'), true)}
                  ${input({
                    id: 'stationId',
                    label: 'Identificativo stazione',
                    value: value(s, 'stationId'),
                    required: true,
                    maxlength: 35,
                    help: 'Nella forma <codice fiscale intermediario>_NN, es. 12345678903_01.',
                  })}
                  ${input({
                    id: 'station-password',
                    name: 'password',
                    label: 'Password della stazione',
                    type: 'password',
                    required: true,
                    autocomplete: 'new-password',
                    maxlength: 15,
                    help: 'Quella assegnata da pagoPA (da 8 a 15 caratteri).',
                  })}
                  ${select(
                    'dialect',
                    'Dialetto pagoPA',
                    [
                      { value: 'current', label: 'Attuale (SANP 3, paVerifyPaymentNotice)' },
                      { value: 'legacy', label: 'Legacy (SANP 2, RPT/RT)' },
                    ],
                    value(s, 'dialect') || 'current',
                    true,
                  )}
                  <button type="submit" class="btn btn-primary">Crea la stazione</button>
                </form>`
          }
        </div>
        <div class="col-lg-6">
          <h2 class="h4">Intermediari</h2>
          <ul data-testid="brokers-list">
            ${view.brokers.map((b) => html`<li>${b.name} <span class="text-muted">(${b.fiscalCode})</span></li>`)}
          </ul>
          <h3 class="h5">Nuovo intermediario</h3>
          ${errorBox(view.brokerError)}
          <form
            method="post"
            action="${ADMIN}/intermediari"
            data-testid="broker-form"
            class="pt-4"
            novalidate
          >
            ${csrf}
            ${input({
              id: 'brokerFiscalCode',
              name: 'fiscalCode',
              label: 'Codice fiscale',
              value: value(view.brokerForm, 'fiscalCode'),
              required: true,
              maxlength: 11,
            })}
            ${input({
              id: 'brokerName',
              name: 'name',
              label: 'Denominazione',
              value: value(view.brokerForm, 'name'),
              required: true,
              maxlength: 255,
            })}
            <button type="submit" class="btn btn-primary">Crea l'intermediario</button>
          </form>
        </div>
      </div>`,
  );
}

// ---------------------------------------------------------------------------------------------
// Enti
// ---------------------------------------------------------------------------------------------

export function entiPage(enti: Ente[], stations: Station[]): PortalFrame {
  const stationOf = new Map(stations.map((s) => [s.id, s.stationId]));
  return frame(
    `${ADMIN}/enti`,
    'Enti',
    html`<p><a class="btn btn-primary" href="${ADMIN}/enti/nuovo" data-testid="new-ente">Nuovo ente</a></p>
      <div class="table-responsive">
        <table class="table table-striped" data-testid="enti-table">
          <caption class="visually-hidden">
            Enti creditori
          </caption>
          <thead>
            <tr>
              <th scope="col">Codice fiscale</th>
              <th scope="col">Denominazione</th>
              <th scope="col">Stazione</th>
              <th scope="col">Codice segregazione</th>
              <th scope="col">IBAN</th>
              <th scope="col">Stato</th>
            </tr>
          </thead>
          <tbody>
            ${enti.map(
              (e) =>
                html`<tr data-testid="ente-row-${e.fiscalCode}">
                  <th scope="row"><a href="${ADMIN}/enti/${e.id}">${e.fiscalCode}</a></th>
                  <td>${e.name}</td>
                  <td>${stationOf.get(e.stationId) ?? ''}</td>
                  <td>${e.segregationCode ?? ''}</td>
                  <td>${e.iban ?? ''}</td>
                  <td>${statusBadge(e.status)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${enti.length === 0 ? html`<p>Nessun ente.</p>` : ''}`,
  );
}

export function enteFormPage(csrf: Html, stations: Station[], form: FormValues, error?: string): PortalFrame {
  const active = stations.filter((s) => s.status === 'active');
  // With one station there is nothing to choose.
  const chosenStation = value(form, 'station') || (active.length === 1 ? (active[0]?.stationId ?? '') : '');
  const stationOptions = [
    { value: '', label: 'Scegli una stazione' },
    ...active.map((s) => ({
      value: s.stationId,
      label: `${s.stationId} (${s.dialect === 'current' ? 'attuale' : 'legacy'})`,
    })),
  ];
  return frame(
    `${ADMIN}/enti`,
    'Nuovo ente',
    html`${errorBox(error)}
      <form method="post" action="${ADMIN}/enti" data-testid="ente-form" class="pt-4" novalidate>
        ${csrf}
        <div class="row">
          <div class="col-md-6">
            ${input({
              id: 'fiscalCode',
              label: 'Codice fiscale (identificativo dominio)',
              value: value(form, 'fiscalCode'),
              required: true,
              maxlength: 11,
            })}
          </div>
          <div class="col-md-6">
            ${input({ id: 'name', label: 'Denominazione', value: value(form, 'name'), required: true, maxlength: 255 })}
          </div>
        </div>
        ${select('station', 'Stazione', stationOptions, chosenStation, true)}
        <div class="row">
          <div class="col-md-4">
            ${select(
              'auxDigit',
              'Cifra ausiliaria',
              ['3', '0', '1', '2'].map((d) => ({ value: d, label: d })),
              value(form, 'auxDigit') || '3',
              true,
            )}
          </div>
          <div class="col-md-4">
            ${input({
              id: 'segregationCode',
              label: 'Codice di segregazione',
              value: value(form, 'segregationCode'),
              maxlength: 2,
              help: '2 cifre, obbligatorio con la cifra ausiliaria 3.',
            })}
          </div>
          <div class="col-md-4">
            ${input({
              id: 'applicationCode',
              label: 'Codice applicativo',
              value: value(form, 'applicationCode'),
              maxlength: 2,
              help: '2 cifre, solo con la cifra ausiliaria 0.',
            })}
          </div>
        </div>
        ${input({
          id: 'iban',
          label: 'IBAN predefinito',
          value: value(form, 'iban'),
          maxlength: 34,
          help: 'Usato dai servizi che non indicano un proprio IBAN.',
        })}
        <button type="submit" class="btn btn-primary">Crea l'ente</button>
        <a class="btn btn-outline-secondary" href="${ADMIN}/enti">Annulla</a>
      </form>`,
  );
}

function serviceFields(form: FormValues): Html {
  return html`${input({
    id: 'description',
    label: 'Descrizione (causale)',
    value: value(form, 'description'),
    required: true,
    maxlength: 140,
  })}
  ${input({
    id: 'category',
    label: 'Categoria (tassonomia pagoPA)',
    value: value(form, 'category'),
    required: true,
    maxlength: 140,
    help: 'Ad esempio 9/0101108TS/.',
  })}
  ${input({
    id: 'serviceIban',
    name: 'iban',
    label: 'IBAN',
    value: value(form, 'iban'),
    maxlength: 34,
    help: "Vuoto: l'IBAN predefinito dell'ente.",
  })}
  ${input({
    id: 'pagopaServiceId',
    label: 'Codice servizio pagoPA (idServizio)',
    value: value(form, 'pagopaServiceId'),
    maxlength: 5,
    help: 'Facoltativo: 5 cifre, per i pagamenti spontanei dal catalogo pagoPA.',
  })}`;
}

export interface EnteView {
  ente: Ente;
  station: Station | null;
  services: Service[];
  operators: PortalUser[];
  clients: ClientSummary[];
  serviceForm: FormValues;
  serviceError?: string;
}

export function entePage(csrf: Html, view: EnteView): PortalFrame {
  const { ente } = view;
  const base = `${ADMIN}/enti/${ente.id}`;
  return frame(
    `${ADMIN}/enti`,
    ente.name,
    html`<dl class="row" data-testid="ente-detail">
        <dt class="col-sm-3">Codice fiscale</dt>
        <dd class="col-sm-9">${ente.fiscalCode}</dd>
        <dt class="col-sm-3">Stazione</dt>
        <dd class="col-sm-9">${view.station?.stationId ?? ''}</dd>
        <dt class="col-sm-3">Cifra ausiliaria</dt>
        <dd class="col-sm-9">${ente.auxDigit}</dd>
        <dt class="col-sm-3">Codice di segregazione</dt>
        <dd class="col-sm-9">${ente.segregationCode ?? '-'}</dd>
        <dt class="col-sm-3">Codice applicativo</dt>
        <dd class="col-sm-9">${ente.applicationCode ?? '-'}</dd>
        <dt class="col-sm-3">IBAN predefinito</dt>
        <dd class="col-sm-9">${ente.iban ?? '-'}</dd>
        <dt class="col-sm-3">Stato</dt>
        <dd class="col-sm-9">
          ${statusBadge(ente.status)} ${statusToggle(csrf, `${base}/stato`, ente.status, 'ente-status-form')}
        </dd>
      </dl>

      <h2 class="h4 mt-4">Servizi</h2>
      <div class="table-responsive">
        <table class="table table-striped" data-testid="ente-services-table">
          <caption class="visually-hidden">
            Servizi dell'ente
          </caption>
          <thead>
            <tr>
              <th scope="col">Codice</th>
              <th scope="col">Descrizione</th>
              <th scope="col">Categoria</th>
              <th scope="col">IBAN</th>
              <th scope="col">idServizio</th>
              <th scope="col">Spontaneo</th>
              <th scope="col">Stato</th>
              <th scope="col"><span class="visually-hidden">Azioni</span></th>
            </tr>
          </thead>
          <tbody>
            ${view.services.map(
              (s) =>
                html`<tr data-testid="service-row-${s.code}">
                  <th scope="row">${s.code}</th>
                  <td>${s.description}</td>
                  <td>${s.category}</td>
                  <td>${s.iban ?? ''}</td>
                  <td>${s.pagopaServiceId ?? ''}</td>
                  <td>${s.spontaneous ? 'sì' : 'no'}</td>
                  <td>${statusBadge(s.status)}</td>
                  <td class="text-nowrap">
                    <a class="btn btn-outline-primary btn-sm" href="${base}/servizi/${s.id}/modifica"
                      >Modifica<span class="visually-hidden"> ${s.code}</span></a
                    >
                    ${statusToggle(csrf, `${base}/servizi/${s.id}/stato`, s.status, 'service-status-form', s.code)}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${view.services.length === 0 ? html`<p>Nessun servizio.</p>` : ''}

      <h3 class="h5 mt-3">Nuovo servizio</h3>
      ${errorBox(view.serviceError)}
      <form method="post" action="${base}/servizi" data-testid="service-form" class="pt-4" novalidate>
        ${csrf}
        ${input({ id: 'code', label: 'Codice (tipo dovuto)', value: value(view.serviceForm, 'code'), required: true, maxlength: 64 })}
        ${serviceFields(view.serviceForm)}
        <button type="submit" class="btn btn-primary">Crea il servizio</button>
      </form>

      <h2 class="h4 mt-5">Operatori</h2>
      <ul data-testid="ente-operators">
        ${view.operators.map(
          (u) =>
            html`<li>
              <a href="${ADMIN}/utenti/${u.id}">${u.username}</a> (${u.fullName}) ${statusBadge(u.status)}
            </li>`,
        )}
      </ul>
      ${view.operators.length === 0 ? html`<p>Nessun operatore.</p>` : ''}
      <p><a href="${ADMIN}/utenti?ente=${ente.fiscalCode}">Aggiungi un operatore</a></p>

      <h2 class="h4 mt-4">Gestionali abilitati</h2>
      <ul data-testid="ente-clients">
        ${view.clients.map(
          (c) =>
            html`<li>
              <a href="${ADMIN}/gestionali/${c.id}">${c.username}</a> (${c.name}) ${statusBadge(c.status)}
            </li>`,
        )}
      </ul>
      ${view.clients.length === 0 ? html`<p>Nessun gestionale.</p>` : ''}`,
    html`Ente ${ente.fiscalCode}`,
  );
}

export function serviceEditPage(
  csrf: Html,
  ente: Ente,
  service: Service,
  form: FormValues,
  error?: string,
): PortalFrame {
  return frame(
    `${ADMIN}/enti`,
    `Servizio ${service.code}`,
    html`${errorBox(error)}
      <form
        method="post"
        action="${ADMIN}/enti/${ente.id}/servizi/${service.id}"
        data-testid="service-form"
        class="pt-4"
        novalidate
      >
        ${csrf} ${serviceFields(form)}
        <button type="submit" class="btn btn-primary">Salva</button>
        <a class="btn btn-outline-secondary" href="${ADMIN}/enti/${ente.id}">Annulla</a>
      </form>`,
    html`${ente.name} (${ente.fiscalCode})`,
  );
}

// ---------------------------------------------------------------------------------------------
// Gestionale clients
// ---------------------------------------------------------------------------------------------

export function clientsPage(clients: ClientSummary[]): PortalFrame {
  return frame(
    `${ADMIN}/gestionali`,
    'Gestionali',
    html`<p>
        <a class="btn btn-primary" href="${ADMIN}/gestionali/nuovo" data-testid="new-client"
          >Nuovo gestionale</a
        >
      </p>
      <div class="table-responsive">
        <table class="table table-striped" data-testid="clients-table">
          <caption class="visually-hidden">
            Gestionali (credenziali SOAP)
          </caption>
          <thead>
            <tr>
              <th scope="col">Nome utente</th>
              <th scope="col">Gestionale</th>
              <th scope="col">Enti</th>
              <th scope="col">Callback</th>
              <th scope="col">Creato il</th>
              <th scope="col">Stato</th>
            </tr>
          </thead>
          <tbody>
            ${clients.map(
              (c) =>
                html`<tr data-testid="client-row-${c.username}">
                  <th scope="row"><a href="${ADMIN}/gestionali/${c.id}">${c.username}</a></th>
                  <td>${c.name}</td>
                  <td>${c.enti.join(', ')}</td>
                  <td>${c.callbackUrl ?? '-'}</td>
                  <td>${formatDate(c.createdAt)}</td>
                  <td>${statusBadge(c.status)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${clients.length === 0 ? html`<p>Nessun gestionale.</p>` : ''}`,
  );
}

function modelChoices(form: FormValues, fallbackAll: boolean): Html {
  const chosen = values(form, 'models');
  return html`<fieldset class="mb-5">
    <legend class="h6">Modelli di integrazione *</legend>
    ${Object.entries(MODEL_LABELS).map(([model, label]) =>
      checkbox('models', `model-${model}`, model, label, fallbackAll ? true : chosen.includes(model)),
    )}
  </fieldset>`;
}

export function clientFormPage(
  csrf: Html,
  enti: Ente[],
  form: FormValues,
  error?: string,
  submitted = false,
): PortalFrame {
  const chosenEnti = values(form, 'enti');
  return frame(
    `${ADMIN}/gestionali`,
    'Nuovo gestionale',
    html`${errorBox(error)}
      <form method="post" action="${ADMIN}/gestionali" data-testid="client-form" class="pt-4" novalidate>
        ${csrf}
        <div class="row">
          <div class="col-md-6">
            ${input({
              id: 'username',
              label: 'Nome utente (WS-Security)',
              value: value(form, 'username'),
              required: true,
              maxlength: 64,
              autocomplete: 'off',
            })}
          </div>
          <div class="col-md-6">
            ${input({ id: 'name', label: 'Gestionale (fornitore, prodotto)', value: value(form, 'name'), required: true })}
          </div>
        </div>
        <fieldset class="mb-5">
          <legend class="h6">Enti per cui opera *</legend>
          ${enti.map((e) =>
            checkbox(
              'enti',
              `ente-${e.fiscalCode}`,
              e.fiscalCode,
              `${e.name} (${e.fiscalCode})`,
              chosenEnti.includes(e.fiscalCode),
            ),
          )}
        </fieldset>
        ${input({
          id: 'services',
          label: 'Servizi abilitati',
          value: value(form, 'services'),
          help: 'Codici separati da virgola; vuoto: tutti i servizi degli enti scelti.',
        })}
        ${modelChoices(form, !submitted)}
        ${input({
          id: 'callbackUrl',
          label: 'URL di callback (SOAP del gestionale)',
          value: value(form, 'callbackUrl'),
          type: 'url',
          help: 'Facoltativo: dove inviare notifyPayment e le altre notifiche.',
        })}
        <div class="form-group">
          <label for="returnUrlPrefixes" class="active">Prefissi ammessi per gli URL di ritorno</label>
          <textarea
            id="returnUrlPrefixes"
            name="returnUrlPrefixes"
            class="form-control"
            rows="3"
            aria-describedby="returnUrlPrefixes-help"
          >
${value(form, 'returnUrlPrefixes')}</textarea>
          <small id="returnUrlPrefixes-help" class="form-text"
            >Uno per riga, es. https://gestionale.example.it/esito</small
          >
        </div>
        <p>La password viene generata dal connettore e mostrata una sola volta.</p>
        <button type="submit" class="btn btn-primary">Crea il gestionale</button>
        <a class="btn btn-outline-secondary" href="${ADMIN}/gestionali">Annulla</a>
      </form>`,
  );
}

/** The generated password, shown on this page only (it is stored as a hash). */
export function clientPasswordPage(client: Client, password: string, isNew: boolean): PortalFrame {
  return frame(
    `${ADMIN}/gestionali`,
    isNew ? 'Gestionale creato' : 'Nuova password del gestionale',
    html`<div class="alert alert-warning" role="status">
        La password è mostrata solo ora: copiala e consegnala al fornitore del gestionale. Non sarà più
        visibile; se va persa, generane una nuova.
      </div>
      <dl class="row">
        <dt class="col-sm-3">Nome utente</dt>
        <dd class="col-sm-9" data-testid="client-username">${client.username}</dd>
        <dt class="col-sm-3">Password</dt>
        <dd class="col-sm-9"><code class="fs-5" data-testid="client-password">${password}</code></dd>
      </dl>
      <p><a href="${ADMIN}/gestionali/${client.id}">Vai al gestionale</a></p>`,
  );
}

export interface ClientView {
  client: Client;
  bindings: ClientBindings;
  enti: Ente[];
  services: Array<{ enteFiscalCode: string; code: string }>;
  endpointsForm: FormValues;
  endpointsError?: string;
}

export function clientPage(csrf: Html, view: ClientView): PortalFrame {
  const { client } = view;
  const base = `${ADMIN}/gestionali/${client.id}`;
  const boundEnti = view.enti.filter((e) => view.bindings.enteIds.includes(e.id));
  const active = client.status === 'active';
  return frame(
    `${ADMIN}/gestionali`,
    `Gestionale ${client.username}`,
    html`<dl class="row" data-testid="client-detail">
        <dt class="col-sm-3">Gestionale</dt>
        <dd class="col-sm-9">${client.name}</dd>
        <dt class="col-sm-3">Stato</dt>
        <dd class="col-sm-9">
          ${statusBadge(client.status)} ${client.revokedAt ? html`dal ${formatDate(client.revokedAt)}` : ''}
        </dd>
        <dt class="col-sm-3">Enti</dt>
        <dd class="col-sm-9">
          ${boundEnti.map((e) => html`<a href="${ADMIN}/enti/${e.id}">${e.name} (${e.fiscalCode})</a><br />`)}
        </dd>
        <dt class="col-sm-3">Servizi</dt>
        <dd class="col-sm-9">
          ${view.services.map((s) => `${s.code} (${s.enteFiscalCode})`).join(', ') || '-'}
        </dd>
        <dt class="col-sm-3">Modelli</dt>
        <dd class="col-sm-9">${view.bindings.models.map((m) => MODEL_LABELS[m] ?? m).join(', ')}</dd>
        <dt class="col-sm-3">Creato il</dt>
        <dd class="col-sm-9">${formatDate(client.createdAt)}</dd>
      </dl>

      ${
        active
          ? html`<div class="d-flex gap-2 mb-4">
              ${postButton(csrf, `${base}/password`, 'Genera una nuova password', { testid: 'client-reset-form' })}
              ${postButton(csrf, `${base}/revoca`, 'Revoca le credenziali', {
                testid: 'client-revoke-form',
                kind: 'outline-danger',
              })}
            </div>`
          : html`<p>Le credenziali sono revocate: il gestionale non può più chiamare il connettore.</p>`
      }

      <h2 class="h4">Indirizzi</h2>
      ${errorBox(view.endpointsError)}
      <form
        method="post"
        action="${base}/indirizzi"
        data-testid="client-endpoints-form"
        class="pt-4"
        novalidate
      >
        ${csrf}
        ${input({
          id: 'callbackUrl',
          label: 'URL di callback (SOAP del gestionale)',
          value: value(view.endpointsForm, 'callbackUrl'),
          type: 'url',
          help: 'Vuoto: nessuna notifica.',
        })}
        <div class="form-group">
          <label for="returnUrlPrefixes" class="active">Prefissi ammessi per gli URL di ritorno</label>
          <textarea
            id="returnUrlPrefixes"
            name="returnUrlPrefixes"
            class="form-control"
            rows="3"
            aria-describedby="returnUrlPrefixes-help"
          >
${value(view.endpointsForm, 'returnUrlPrefixes')}</textarea>
          <small id="returnUrlPrefixes-help" class="form-text d-block">Uno per riga.</small>
        </div>
        <button type="submit" class="btn btn-primary">Salva gli indirizzi</button>
      </form>`,
  );
}

// ---------------------------------------------------------------------------------------------
// Portal users
// ---------------------------------------------------------------------------------------------

function roleText(user: PortalUser): string {
  return user.role === 'admin' ? 'amministratore' : 'operatore';
}

function passwordPair(): Html {
  return html`${input({
    id: 'password',
    label: `Password (almeno ${MIN_PASSWORD_LENGTH} caratteri)`,
    type: 'password',
    required: true,
    autocomplete: 'new-password',
  })}
  ${input({
    id: 'passwordConfirm',
    label: 'Ripeti la password',
    type: 'password',
    required: true,
    autocomplete: 'new-password',
  })}`;
}

export interface UsersView {
  users: PortalUser[];
  enti: Ente[];
  selfId: number;
  form: FormValues;
  error?: string;
}

export function usersPage(csrf: Html, view: UsersView): PortalFrame {
  const enteOf = new Map(view.enti.map((e) => [e.id, e]));
  const enteOptions = [
    { value: '', label: "Scegli l'ente (solo per gli operatori)" },
    ...view.enti.map((e) => ({ value: e.fiscalCode, label: `${e.name} (${e.fiscalCode})` })),
  ];
  return frame(
    `${ADMIN}/utenti`,
    'Utenti del portale',
    html`<div class="table-responsive">
        <table class="table table-striped" data-testid="users-table">
          <caption class="visually-hidden">
            Utenti del portale
          </caption>
          <thead>
            <tr>
              <th scope="col">Nome utente</th>
              <th scope="col">Nome</th>
              <th scope="col">Ruolo</th>
              <th scope="col">Ente</th>
              <th scope="col">Ultimo accesso</th>
              <th scope="col">Stato</th>
              <th scope="col"><span class="visually-hidden">Azioni</span></th>
            </tr>
          </thead>
          <tbody>
            ${view.users.map((u) => {
              const ente = u.enteId === null ? null : enteOf.get(u.enteId);
              return html`<tr data-testid="user-row-${u.username}">
                <th scope="row"><a href="${ADMIN}/utenti/${u.id}">${u.username}</a></th>
                <td>${u.fullName}</td>
                <td>${roleText(u)}</td>
                <td>${ente ? `${ente.name} (${ente.fiscalCode})` : '-'}</td>
                <td>${u.lastLoginAt ? formatDate(u.lastLoginAt) : '-'}</td>
                <td>${statusBadge(u.status)}</td>
                <td>
                  ${
                    u.id === view.selfId
                      ? html`<span class="text-muted">(tu)</span>`
                      : statusToggle(
                          csrf,
                          `${ADMIN}/utenti/${u.id}/stato`,
                          u.status,
                          'user-status-form',
                          u.username,
                        )
                  }
                </td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>

      <h2 class="h4 mt-4">Nuovo utente</h2>
      ${errorBox(view.error)}
      <form method="post" action="${ADMIN}/utenti" data-testid="user-form" class="pt-4" novalidate>
        ${csrf}
        <div class="row">
          <div class="col-md-6">
            ${input({
              id: 'username',
              label: 'Nome utente',
              value: value(view.form, 'username'),
              required: true,
              maxlength: 64,
              autocomplete: 'off',
            })}
          </div>
          <div class="col-md-6">
            ${input({ id: 'fullName', label: 'Nome e cognome', value: value(view.form, 'fullName'), required: true })}
          </div>
        </div>
        <div class="row">
          <div class="col-md-6">
            ${select(
              'role',
              'Ruolo',
              [
                { value: 'operator', label: 'Operatore di un ente' },
                { value: 'admin', label: 'Amministratore del connettore' },
              ],
              value(view.form, 'role') || 'operator',
              true,
            )}
          </div>
          <div class="col-md-6">${select('ente', 'Ente', enteOptions, value(view.form, 'ente'))}</div>
        </div>
        ${passwordPair()}
        <button type="submit" class="btn btn-primary">Crea l'utente</button>
      </form>`,
  );
}

export function userPage(
  csrf: Html,
  user: PortalUser,
  ente: Ente | null,
  self: boolean,
  error?: string,
): PortalFrame {
  const base = `${ADMIN}/utenti/${user.id}`;
  return frame(
    `${ADMIN}/utenti`,
    `Utente ${user.username}`,
    html`<dl class="row" data-testid="user-detail">
        <dt class="col-sm-3">Nome</dt>
        <dd class="col-sm-9">${user.fullName}</dd>
        <dt class="col-sm-3">Ruolo</dt>
        <dd class="col-sm-9">${roleText(user)}</dd>
        <dt class="col-sm-3">Ente</dt>
        <dd class="col-sm-9">
          ${ente ? html`<a href="${ADMIN}/enti/${ente.id}">${ente.name} (${ente.fiscalCode})</a>` : '-'}
        </dd>
        <dt class="col-sm-3">Creato il</dt>
        <dd class="col-sm-9">${formatDate(user.createdAt)}</dd>
        <dt class="col-sm-3">Ultimo accesso</dt>
        <dd class="col-sm-9">${user.lastLoginAt ? formatDate(user.lastLoginAt) : '-'}</dd>
        <dt class="col-sm-3">Stato</dt>
        <dd class="col-sm-9">
          ${statusBadge(user.status)}
          ${self ? '' : statusToggle(csrf, `${base}/stato`, user.status, 'user-status-form')}
        </dd>
      </dl>
      <h2 class="h4">Nuova password</h2>
      ${errorBox(error)}
      <form method="post" action="${base}/password" data-testid="user-password-form" class="pt-4" novalidate>
        ${csrf} ${passwordPair()}
        <p>${self ? '' : "Le sessioni aperte dell'utente vengono chiuse."}</p>
        <button type="submit" class="btn btn-primary">Imposta la password</button>
      </form>`,
  );
}

// Operator pages of the spontaneous payments (issue 8 item 4): the ente's services with the state
// of their form, and the form's editor (enabled, title, instructions, amount, up to 10 extra
// fields). Errors in Italian next to their input; every value through the html tag.

import type { Response } from 'express';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { SpontaneousForm } from '../../db/repositories/spontaneousForms.ts';
import {
  FIELD_TYPES,
  MAX_EXTRA_FIELDS,
  type FieldDraft,
  type FieldErrors,
  type FormConfigDraft,
} from '../../app/portal/spontaneous.ts';
import { formatEuro, html, type Html } from '../citizen/html.ts';
import { csrfField, PORTAL } from '../layout.ts';

export const SPONTANEOUS_PORTAL = `${PORTAL}/spontanei`;

const TYPE_LABELS: Record<string, string> = {
  text: 'Testo',
  date: 'Data',
  number: 'Numero',
  select: 'Scelta da elenco',
};

/** 1250 → `12,50`, as the amount inputs take it. */
export function centsInput(cents: number | null): string {
  if (cents === null) return '';
  return `${Math.floor(cents / 100)},${String(cents % 100).padStart(2, '0')}`;
}

/** The public page of a service's form. */
export function publicFormPath(ente: Pick<Ente, 'fiscalCode'>, service: Pick<Service, 'code'>): string {
  return `/pay/spontaneo/${encodeURIComponent(ente.fiscalCode)}/${encodeURIComponent(service.code)}`;
}

function emptyField(): FieldDraft {
  return { key: '', label: '', type: 'text', required: false, options: '', maxLength: '' };
}

/** The editor's values for a saved form, or the defaults of a new one. */
export function draftOf(form: SpontaneousForm | null, service: Service): FormConfigDraft {
  const fields: FieldDraft[] = (form?.fields ?? []).map((f) => ({
    key: f.key,
    label: f.label,
    type: f.type,
    required: f.required,
    options: (f.options ?? []).join('\n'),
    maxLength: f.maxLength === undefined ? '' : String(f.maxLength),
  }));
  while (fields.length < MAX_EXTRA_FIELDS) fields.push(emptyField());
  return {
    enabled: form?.enabled ?? false,
    title: form?.title ?? service.description,
    instructions: form?.instructions ?? '',
    amountMode: form && form.fixedAmountCents !== null ? 'fixed' : 'free',
    fixedAmount: centsInput(form?.fixedAmountCents ?? null),
    minAmount: centsInput(form?.minAmountCents ?? null),
    maxAmount: centsInput(form?.maxAmountCents ?? null),
    fields,
  };
}

function amountSummary(form: SpontaneousForm): string {
  if (form.fixedAmountCents !== null) return `Fisso: ${formatEuro(form.fixedAmountCents)}`;
  const min = form.minAmountCents === null ? '' : `da ${formatEuro(form.minAmountCents)}`;
  const max = form.maxAmountCents === null ? '' : `fino a ${formatEuro(form.maxAmountCents)}`;
  return ['Libero', min, max].filter(Boolean).join(' ');
}

/** The ente chooser of an admin (a GET form). */
export function enteChooser(enti: readonly Ente[], chosen: Ente | null): Html {
  return html`<form method="get" action="${SPONTANEOUS_PORTAL}" class="row g-2 align-items-end mb-4">
    <div class="col-md-6">
      <div class="select-wrapper">
        <label for="ente">Ente</label>
        <select id="ente" name="ente">
          <option value="">Scegli un ente</option>
          ${enti.map(
            (e) =>
              html`<option value="${e.fiscalCode}" ${e.id === chosen?.id ? html`selected` : ''}>
                ${e.name} (${e.fiscalCode})
              </option>`,
          )}
        </select>
      </div>
    </div>
    <div class="col-md-3"><button type="submit" class="btn btn-outline-primary">Mostra</button></div>
  </form>`;
}

/** The services of one ente and the state of their forms. */
export function servicesTable(
  ente: Ente,
  rows: ReadonlyArray<{ service: Service; form: SpontaneousForm | null }>,
): Html {
  if (rows.length === 0) return html`<p>L'ente non ha servizi configurati.</p>`;
  return html`<div class="table-responsive">
    <table class="table table-sm" data-testid="spontaneous-services">
      <caption>
        Servizi di ${ente.name} e moduli di pagamento spontaneo
      </caption>
      <thead>
        <tr>
          <th scope="col">Servizio</th>
          <th scope="col">Modulo</th>
          <th scope="col">Importo</th>
          <th scope="col">Campi</th>
          <th scope="col">Azioni</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          ({ service, form }) =>
            html`<tr data-testid="spontaneous-service-${service.code}">
              <th scope="row">${service.code} <span class="text-muted">${service.description}</span></th>
              <td>
                ${
                  form
                    ? html`${
                        form.enabled
                          ? html`<span class="badge bg-success">Attivo</span>`
                          : html`<span class="badge bg-secondary">Disattivato</span>`
                      }
                      ${form.title}`
                    : html`<span class="text-muted">Non configurato</span>`
                }
              </td>
              <td>${form ? amountSummary(form) : ''}</td>
              <td>${form ? form.fields.length : ''}</td>
              <td class="nowrap">
                <a href="${SPONTANEOUS_PORTAL}/${service.id}">Configura</a>
                ${
                  form?.enabled ? html` · <a href="${publicFormPath(ente, service)}">Pagina pubblica</a>` : ''
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function errorOf(errors: FieldErrors, name: string): Html | string {
  const text = errors[name];
  return text
    ? html`<div
        class="invalid-feedback d-block"
        id="${name}-error"
        role="alert"
        data-testid="field-error-${name}"
      >
        ${text}
      </div>`
    : '';
}

function invalidAttrs(errors: FieldErrors, name: string): Html | string {
  return errors[name] ? html`aria-invalid="true" aria-describedby="${name}-error"` : '';
}

function textInput(
  errors: FieldErrors,
  name: string,
  label: string,
  value: string,
  extra: { hint?: string; inputmode?: string; maxlength?: number } = {},
): Html {
  return html`<div class="form-group">
    <label for="${name}" class="active">${label}</label>
    <input
      type="text"
      class="form-control${errors[name] ? ' is-invalid' : ''}"
      id="${name}"
      name="${name}"
      value="${value}"
      ${extra.inputmode ? html`inputmode="${extra.inputmode}"` : ''}
      ${extra.maxlength ? html`maxlength="${extra.maxlength}"` : ''}
      ${invalidAttrs(errors, name)}
    />
    ${extra.hint ? html`<small class="form-text">${extra.hint}</small>` : ''} ${errorOf(errors, name)}
  </div>`;
}

function fieldRow(errors: FieldErrors, field: FieldDraft, i: number): Html {
  const name = (part: string) => `f${i}_${part}`;
  return html`<fieldset class="border rounded p-3 mb-3" data-testid="spontaneous-field-${i}">
    <legend class="h6 px-2 w-auto">Campo ${i + 1}</legend>
    <div class="row">
      <div class="col-md-3">
        ${textInput(errors, name('key'), 'Codice (nei metadati)', field.key, { maxlength: 32 })}
      </div>
      <div class="col-md-5">
        ${textInput(errors, name('label'), 'Etichetta', field.label, { maxlength: 100 })}
      </div>
      <div class="col-md-4">
        <div class="select-wrapper">
          <label for="${name('type')}">Tipo</label>
          <select id="${name('type')}" name="${name('type')}" ${invalidAttrs(errors, name('type'))}>
            ${FIELD_TYPES.map(
              (t) =>
                html`<option value="${t}" ${t === field.type ? html`selected` : ''}>
                  ${TYPE_LABELS[t]}
                </option>`,
            )}
          </select>
          ${errorOf(errors, name('type'))}
        </div>
      </div>
    </div>
    <div class="row">
      <div class="col-md-3">
        <div class="form-check">
          <input
            type="checkbox"
            id="${name('required')}"
            name="${name('required')}"
            value="1"
            ${field.required ? html`checked` : ''}
          />
          <label for="${name('required')}">Obbligatorio</label>
        </div>
      </div>
      <div class="col-md-3">
        ${textInput(errors, name('maxLength'), 'Lunghezza massima (testo)', field.maxLength, {
          inputmode: 'numeric',
        })}
      </div>
      <div class="col-md-6">
        <div class="form-group">
          <label for="${name('options')}" class="active">Scelte (per «Scelta da elenco», una per riga)</label>
          <textarea
            class="form-control${errors[name('options')] ? ' is-invalid' : ''}"
            id="${name('options')}"
            name="${name('options')}"
            rows="3"
            ${invalidAttrs(errors, name('options'))}
          >
${field.options}</textarea>
          ${errorOf(errors, name('options'))}
        </div>
      </div>
    </div>
  </fieldset>`;
}

/** The editor of one service's form. */
export function configForm(
  res: Response,
  target: { ente: Ente; service: Service; saved: SpontaneousForm | null },
  draft: FormConfigDraft,
  errors: FieldErrors,
): Html {
  const { ente, service, saved } = target;
  const hasErrors = Object.keys(errors).length > 0;
  return html`${
      hasErrors
        ? html`<div class="alert alert-danger" role="alert" data-testid="spontaneous-config-errors">
            Il modulo non è stato salvato: correggi i campi indicati.
            ${errors.fields ? html`<br />${errors.fields}` : ''}
          </div>`
        : ''
    }
    ${
      saved?.enabled
        ? html`<p>
            Pagina pubblica del modulo:
            <a href="${publicFormPath(ente, service)}" data-testid="spontaneous-public-link"
              >${publicFormPath(ente, service)}</a
            >
          </p>`
        : ''
    }
    <form
      method="post"
      action="${SPONTANEOUS_PORTAL}/${service.id}"
      novalidate
      data-testid="spontaneous-config-form"
    >
      ${csrfField(res)}
      <div class="form-check mb-3">
        <input
          type="checkbox"
          id="enabled"
          name="enabled"
          value="1"
          ${draft.enabled ? html`checked` : ''}
          ${invalidAttrs(errors, 'enabled')}
        />
        <label for="enabled">Modulo attivo (visibile ai cittadini)</label>
        ${errorOf(errors, 'enabled')}
      </div>
      ${textInput(errors, 'title', 'Titolo del modulo', draft.title, { maxlength: 140 })}
      <div class="form-group">
        <label for="instructions" class="active">Istruzioni per il cittadino</label>
        <textarea
          class="form-control${errors.instructions ? ' is-invalid' : ''}"
          id="instructions"
          name="instructions"
          rows="3"
          ${invalidAttrs(errors, 'instructions')}
        >
${draft.instructions}</textarea>
        ${errorOf(errors, 'instructions')}
      </div>
      <fieldset class="mb-4">
        <legend class="h5 mb-4">Importo</legend>
        <div class="form-check form-check-inline">
          <input
            type="radio"
            id="amountMode-fixed"
            name="amountMode"
            value="fixed"
            ${draft.amountMode === 'fixed' ? html`checked` : ''}
          />
          <label for="amountMode-fixed">Importo fisso</label>
        </div>
        <div class="form-check form-check-inline">
          <input
            type="radio"
            id="amountMode-free"
            name="amountMode"
            value="free"
            ${draft.amountMode !== 'fixed' ? html`checked` : ''}
          />
          <label for="amountMode-free">Importo libero, tra un minimo e un massimo</label>
        </div>
        ${errorOf(errors, 'amountMode')}
        <div class="row mt-3">
          <div class="col-md-4">
            ${textInput(errors, 'fixedAmount', 'Importo fisso (euro)', draft.fixedAmount, {
              inputmode: 'decimal',
              hint: 'Per esempio 25,50',
            })}
          </div>
          <div class="col-md-4">
            ${textInput(errors, 'minAmount', 'Importo minimo (euro)', draft.minAmount, {
              inputmode: 'decimal',
              hint: 'Facoltativo',
            })}
          </div>
          <div class="col-md-4">
            ${textInput(errors, 'maxAmount', 'Importo massimo (euro)', draft.maxAmount, {
              inputmode: 'decimal',
              hint: 'Facoltativo',
            })}
          </div>
        </div>
      </fieldset>
      <h2 class="h5">Campi aggiuntivi</h2>
      <p class="text-muted">
        Oltre a codice fiscale, nome e e-mail del pagatore. Le righe lasciate vuote sono ignorate; i valori
        inseriti dal cittadino sono salvati nei metadati della posizione con il codice del campo.
      </p>
      ${draft.fields.map((f, i) => fieldRow(errors, f, i))}
      <button type="submit" class="btn btn-primary" data-testid="spontaneous-save">Salva il modulo</button>
      <a class="btn btn-outline-secondary ms-2" href="${SPONTANEOUS_PORTAL}?ente=${ente.fiscalCode}"
        >Annulla</a
      >
    </form>`;
}

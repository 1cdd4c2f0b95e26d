// Public pages of the spontaneous payments (issue 8 item 4), mounted at /pay/spontaneo:
//   GET  /                         the enti and services with an enabled form
//   GET  /:ente                    the same, for one ente (by fiscal code)
//   GET  /:ente/:service           the form: payer, configured fields, amount, "Paga online" / "Genera avviso"
//   POST /:ente/:service           creates the position; 303 to pagoPA's checkout, or the notice page
//   GET  /esito/:sessionId         back from pagoPA (through /pay/session/<token>/done): paid or not,
//                                  read from the position, never from the query string
// No login here, so CSRF is a double submit: a random value in an HttpOnly, SameSite=Lax cookie
// scoped to /pay/spontaneo, and its HMAC-SHA256 under PPAY_SECRET in the form; a POST without a
// matching pair is refused (403). When the node is unavailable the position stays and the page
// offers its notice instead (503).

import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import { domainError, isDomainError, type DomainError } from '../../domain/errors.ts';
import type { RedirectSettings } from '../../app/gestionale/paymentSession.ts';
import type { Store } from '../../db/store.ts';
import type { SpontaneousField } from '../../db/repositories/spontaneousForms.ts';
import type { PublicSpontaneousEntry } from '../../db/repositories/portalSpontaneous.ts';
import { createPortalSpontaneousRepository } from '../../db/repositories/portalSpontaneous.ts';
import {
  checkSubmission,
  createSpontaneousPosition,
  extraInputName,
  findPublicForm,
  isSubmissionId,
  newSubmissionId,
  spontaneousOutcome,
  startSpontaneousPayment,
  type FieldErrors,
  type PublicForm,
  type SpontaneousNotice,
  type SpontaneousOutcome,
  type SubmissionDraft,
} from '../../app/portal/spontaneous.ts';
import { formatDate, formatEuro, html, page, type Html } from './html.ts';
import { blockedReason } from './pages.ts';

export const SPONTANEOUS_BASE = '/pay/spontaneo';
export const CSRF_COOKIE = 'ppay_spont';
const CSRF_FIELD = '_csrf';
const FORM_BODY_LIMIT = '64kb';
const COOKIE_MAX_AGE_S = 4 * 3600;

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

type Values = Record<string, string>;

// ---------------------------------------------------------------------------------------------
// CSRF: double submit, the form's token bound to the cookie by an HMAC under the secret.

function tokenFor(secret: string, cookieValue: string): string {
  return createHmac('sha256', secret).update(`spontaneous-form:${cookieValue}`).digest('base64url');
}

function isCookieValue(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}

function cookieOf(req: Request): string {
  const value = parseCookies(req.headers.cookie ?? '')[CSRF_COOKIE] ?? '';
  return isCookieValue(value) ? value : '';
}

function secureCookies(settings: RedirectSettings): boolean {
  try {
    return settings.access.connectorUrl().startsWith('https:');
  } catch {
    return false;
  }
}

/** The form's token, setting the cookie when the visitor has none yet. */
function csrfTokenFor(req: Request, res: Response, settings: RedirectSettings): string {
  let value = cookieOf(req);
  if (!value) {
    value = randomBytes(32).toString('base64url');
    res.append(
      'Set-Cookie',
      serializeCookie(CSRF_COOKIE, value, {
        httpOnly: true,
        sameSite: 'lax',
        secure: secureCookies(settings),
        path: SPONTANEOUS_BASE,
        maxAge: COOKIE_MAX_AGE_S,
      }),
    );
  }
  return tokenFor(settings.secret, value);
}

function csrfMatches(req: Request, settings: RedirectSettings): boolean {
  const value = cookieOf(req);
  const given = (req.body as Values | undefined)?.[CSRF_FIELD];
  if (!value || typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(tokenFor(settings.secret, value));
  return a.length === b.length && timingSafeEqual(a, b);
}

// ---------------------------------------------------------------------------------------------
// Pages.

function pdfLink(notice: { ente: { fiscalCode: string }; noticeNumber: string; debtorFiscalCode: string }) {
  return (
    `/pay/avviso/${encodeURIComponent(notice.ente.fiscalCode)}/${encodeURIComponent(notice.noticeNumber)}.pdf` +
    `?debtor=${encodeURIComponent(notice.debtorFiscalCode)}`
  );
}

function formPath(enteFiscalCode: string, serviceCode: string): string {
  return `${SPONTANEOUS_BASE}/${encodeURIComponent(enteFiscalCode)}/${encodeURIComponent(serviceCode)}`;
}

function messagePage(title: string, text: string, heading?: string): string {
  return page({
    title,
    heading,
    body: html`<div class="alert alert-danger" role="alert">${text}</div>
      <p><a href="${SPONTANEOUS_BASE}">Torna ai pagamenti spontanei</a></p>`,
  });
}

function listPage(entries: readonly PublicSpontaneousEntry[], enteName?: string): string {
  const byEnte = new Map<string, PublicSpontaneousEntry[]>();
  for (const e of entries) byEnte.set(e.enteFiscalCode, [...(byEnte.get(e.enteFiscalCode) ?? []), e]);
  const body =
    entries.length === 0
      ? html`<p data-testid="spontaneous-list">Non ci sono pagamenti spontanei disponibili.</p>`
      : html`<div data-testid="spontaneous-list">
          ${[...byEnte.values()].map(
            (list) =>
              html`<section class="mb-4">
                <h2 class="h4">${list[0]!.enteName}</h2>
                <ul class="list-unstyled">
                  ${list.map(
                    (e) =>
                      html`<li class="mb-2" data-testid="spontaneous-entry">
                        <a href="${formPath(e.enteFiscalCode, e.serviceCode)}">${e.title}</a>
                        <span class="text-muted">(${e.serviceDescription})</span>
                      </li>`,
                  )}
                </ul>
              </section>`,
          )}
        </div>`;
  return page({ title: 'Pagamenti spontanei', heading: enteName, body });
}

function fieldError(errors: FieldErrors, name: string): Html | string {
  const text = errors[name];
  return text
    ? html`<div class="invalid-feedback d-block" id="${name}-error" data-testid="field-error-${name}">
        ${text}
      </div>`
    : '';
}

function invalidAttrs(errors: FieldErrors, name: string): Html | string {
  return errors[name] ? html`aria-invalid="true" aria-describedby="${name}-error"` : '';
}

function input(
  errors: FieldErrors,
  name: string,
  label: string,
  value: string,
  attrs: {
    type?: string;
    required?: boolean;
    maxlength?: number;
    autocomplete?: string;
    inputmode?: string;
    hint?: string;
  } = {},
): Html {
  return html`<div class="form-group">
    <label for="${name}" class="active">${label}${attrs.required ? ' *' : ''}</label>
    <input
      type="${attrs.type ?? 'text'}"
      class="form-control${errors[name] ? ' is-invalid' : ''}"
      id="${name}"
      name="${name}"
      value="${value}"
      ${attrs.required ? html`required` : ''}
      ${attrs.maxlength ? html`maxlength="${attrs.maxlength}"` : ''}
      ${attrs.autocomplete ? html`autocomplete="${attrs.autocomplete}"` : ''}
      ${attrs.inputmode ? html`inputmode="${attrs.inputmode}"` : ''}
      ${invalidAttrs(errors, name)}
    />
    ${attrs.hint ? html`<small class="form-text">${attrs.hint}</small>` : ''} ${fieldError(errors, name)}
  </div>`;
}

function extraInput(field: SpontaneousField, values: Values, errors: FieldErrors): Html {
  const name = extraInputName(field.key);
  const value = values[name] ?? '';
  switch (field.type) {
    case 'select':
      return html`<div class="select-wrapper mb-4">
        <label for="${name}">${field.label}${field.required ? ' *' : ''}</label>
        <select
          id="${name}"
          name="${name}"
          ${field.required ? html`required` : ''}
          ${invalidAttrs(errors, name)}
        >
          <option value="">Scegli</option>
          ${(field.options ?? []).map(
            (o) => html`<option value="${o}" ${o === value ? html`selected` : ''}>${o}</option>`,
          )}
        </select>
        ${fieldError(errors, name)}
      </div>`;
    case 'date':
      return input(errors, name, field.label, value, { type: 'date', required: field.required });
    case 'number':
      return input(errors, name, field.label, value, { required: field.required, inputmode: 'decimal' });
    case 'text':
      return input(errors, name, field.label, value, {
        required: field.required,
        maxlength: field.maxLength ?? 140,
      });
  }
}

function amountBlock(target: PublicForm, values: Values, errors: FieldErrors): Html {
  const { form } = target;
  if (form.fixedAmountCents !== null) {
    return html`<p class="lead">Importo da pagare: <strong>${formatEuro(form.fixedAmountCents)}</strong></p>`;
  }
  const bounds = [
    form.minAmountCents !== null ? `minimo ${formatEuro(form.minAmountCents)}` : '',
    form.maxAmountCents !== null ? `massimo ${formatEuro(form.maxAmountCents)}` : '',
  ].filter(Boolean);
  return input(errors, 'amount', 'Importo in euro', values.amount ?? '', {
    required: true,
    inputmode: 'decimal',
    hint: `Per esempio 25,50${bounds.length ? ` (${bounds.join(', ')})` : ''}.`,
  });
}

interface FormState {
  values: Values;
  errors: FieldErrors;
  csrf: string;
  submissionId: string;
  /** A problem with the whole submission (not one input). */
  general?: string;
}

function formPage(target: PublicForm, state: FormState): string {
  const { ente, service, form } = target;
  const { values, errors } = state;
  const problems = Object.keys(errors).length > 0 || state.general;
  const instructions = (form.instructions ?? '').split(/\r?\n/).filter((l) => l.trim() !== '');
  return page({
    title: form.title,
    heading: ente.name,
    body: html`${
        problems
          ? html`<div class="alert alert-danger" role="alert" data-testid="spontaneous-error">
              ${state.general ?? 'Controlla i dati inseriti: alcuni campi non sono corretti.'}
            </div>`
          : ''
      }
      ${instructions.map((line) => html`<p>${line}</p>`)}
      <form
        method="post"
        action="${formPath(ente.fiscalCode, service.code)}"
        novalidate
        data-testid="spontaneous-form"
      >
        <input type="hidden" name="${CSRF_FIELD}" value="${state.csrf}" />
        <input type="hidden" name="submission" value="${state.submissionId}" />
        <fieldset class="mb-4">
          <legend class="h5 mb-4">Chi paga</legend>
          ${input(errors, 'fiscalCode', 'Codice fiscale o partita IVA', values.fiscalCode ?? '', {
            required: true,
            maxlength: 16,
            autocomplete: 'off',
          })}
          ${input(errors, 'fullName', 'Nome e cognome o ragione sociale', values.fullName ?? '', {
            required: true,
            maxlength: 70,
            autocomplete: 'name',
          })}
          ${input(errors, 'email', 'E-mail (facoltativa)', values.email ?? '', {
            type: 'email',
            maxlength: 256,
            autocomplete: 'email',
          })}
        </fieldset>
        ${
          form.fields.length
            ? html`<fieldset class="mb-4">
                <legend class="h5 mb-4">Dati del pagamento</legend>
                ${form.fields.map((f) => extraInput(f, values, errors))}
              </fieldset>`
            : ''
        }
        ${amountBlock(target, values, errors)}
        <p class="small text-muted">I campi con * sono obbligatori.</p>
        <div class="d-flex flex-wrap gap-2">
          <button type="submit" name="mode" value="online" class="btn btn-primary" data-testid="pay-online">
            Paga online
          </button>
          <button
            type="submit"
            name="mode"
            value="notice"
            class="btn btn-outline-primary"
            data-testid="get-notice"
          >
            Genera avviso
          </button>
        </div>
      </form>`,
  });
}

function noticeDetails(notice: {
  ente: { name: string; fiscalCode: string };
  noticeNumber: string;
  option: { amountCents: number; dueDate: string; description: string };
}): Html {
  return html`<dl class="row">
    <dt class="col-sm-4">Ente creditore</dt>
    <dd class="col-sm-8">${notice.ente.name} (codice fiscale ${notice.ente.fiscalCode})</dd>
    <dt class="col-sm-4">Causale</dt>
    <dd class="col-sm-8">${notice.option.description}</dd>
    <dt class="col-sm-4">Codice avviso</dt>
    <dd class="col-sm-8" data-testid="notice-number">${notice.noticeNumber}</dd>
    <dt class="col-sm-4">Importo</dt>
    <dd class="col-sm-8"><strong>${formatEuro(notice.option.amountCents)}</strong></dd>
    <dt class="col-sm-4">Scadenza</dt>
    <dd class="col-sm-8">${formatDate(notice.option.dueDate)}</dd>
  </dl>`;
}

function noticeResultPage(notice: SpontaneousNotice, nodeDown: boolean): string {
  return page({
    title: nodeDown ? 'Pagamento online non disponibile' : 'Avviso di pagamento generato',
    heading: notice.ente.name,
    body: html`${
        nodeDown
          ? html`<div class="alert alert-warning" role="alert">
              Il sistema pagoPA non è raggiungibile in questo momento, quindi il pagamento online non può
              essere avviato. L'avviso è stato comunque generato: puoi pagarlo più tardi presso gli sportelli,
              le app o i siti abilitati a pagoPA.
            </div>`
          : ''
      }
      <div data-testid="spontaneous-notice">
        <p>
          Conserva il codice avviso: ti serve per pagare presso gli sportelli, le app o i siti abilitati a
          pagoPA.
        </p>
        ${noticeDetails(notice)}
        <a class="btn btn-primary" href="${pdfLink(notice)}" data-testid="notice-pdf"
          >Scarica l'avviso (PDF)</a
        >
      </div>`,
  });
}

function outcomeMessage(reported: string): string {
  if (reported === 'CANCEL') return 'Il pagamento è stato annullato: non ti è stato addebitato nulla.';
  if (reported === 'OK')
    return "Non abbiamo ancora ricevuto la conferma del pagamento da pagoPA. Se hai completato il pagamento, la ricevuta arriverà all'ente: non pagare di nuovo.";
  return 'Il pagamento non è andato a buon fine.';
}

function outcomePage(outcome: SpontaneousOutcome, reported: string): string {
  const { position, option } = outcome;
  const details = noticeDetails({ ente: outcome.ente, noticeNumber: outcome.noticeNumber, option });
  return page({
    title: outcome.paid ? 'Pagamento completato' : 'Pagamento non completato',
    heading: outcome.ente.name,
    body: outcome.paid
      ? html`<div data-testid="spontaneous-outcome" data-outcome="paid">
          <div class="alert alert-success" role="status">
            Pagamento completato: grazie. L'ente ha ricevuto la ricevuta del pagamento.
          </div>
          ${details}
        </div>`
      : html`<div data-testid="spontaneous-outcome" data-outcome="unpaid">
          <div class="alert alert-warning" role="status">${outcomeMessage(reported)}</div>
          ${details}
          ${
            position.status === 'VALID'
              ? html`<p>Puoi pagare più tardi con l'avviso di pagamento.</p>
                  <a class="btn btn-primary" href="${pdfLink(outcome)}" data-testid="notice-pdf"
                    >Scarica l'avviso (PDF)</a
                  >`
              : ''
          }
        </div>`,
  });
}

// ---------------------------------------------------------------------------------------------
// Routes.

export interface SpontaneousPagesOptions {
  onUnexpected?: (err: unknown, id: string) => void;
}

function send(res: Response, status: number, body: string): void {
  res.status(status).set(SECURITY_HEADERS).type('text/html; charset=utf-8').send(body);
}

function submissionDraft(body: Values, target: PublicForm): SubmissionDraft {
  const text = (name: string) => (typeof body[name] === 'string' ? body[name] : '');
  const values: Record<string, string> = {};
  for (const f of target.form.fields) values[f.key] = text(extraInputName(f.key));
  return {
    fiscalCode: text('fiscalCode'),
    fullName: text('fullName'),
    email: text('email'),
    amount: text('amount'),
    values,
  };
}

/** What to show again in the inputs after an error: only the form's own inputs. */
function keptValues(body: Values, target: PublicForm): Values {
  const names = [
    'fiscalCode',
    'fullName',
    'email',
    'amount',
    ...target.form.fields.map((f) => extraInputName(f.key)),
  ];
  const kept: Values = {};
  for (const name of names) if (typeof body[name] === 'string') kept[name] = body[name];
  return kept;
}

export function spontaneousRouter(
  store: Store,
  settings: RedirectSettings,
  options: SpontaneousPagesOptions = {},
): Router {
  const router = express.Router();
  const listing = createPortalSpontaneousRepository(store.db);
  const onUnexpected =
    options.onUnexpected ??
    ((err: unknown, id: string) => void process.stderr.write(`spontaneous pages ${id}: ${String(err)}\n`));

  const fail = (res: Response, err: unknown): void => {
    if (isDomainError(err, 'SERVICE_UNKNOWN') || isDomainError(err, 'POSITION_UNKNOWN')) {
      return send(
        res,
        404,
        messagePage('Pagina non trovata', 'Il pagamento richiesto non esiste o non è più disponibile.'),
      );
    }
    const id = randomUUID();
    onUnexpected(err, id);
    send(res, 500, messagePage('Errore imprevisto', `Si è verificato un errore imprevisto (codice ${id}).`));
  };
  const handle =
    (fn: (req: Request, res: Response) => Promise<void>) =>
    (req: Request, res: Response): void => {
      fn(req, res).catch((err: unknown) => fail(res, err));
    };

  router.get(
    '/',
    handle(async (_req, res) => send(res, 200, listPage(await listing.listEnabled()))),
  );

  router.get(
    '/esito/:sessionId',
    handle(async (req, res) => {
      const outcome = await spontaneousOutcome(store, String(req.params.sessionId ?? ''));
      const reported = typeof req.query.outcome === 'string' ? req.query.outcome : '';
      send(res, 200, outcomePage(outcome, reported));
    }),
  );

  router.get(
    '/:ente',
    handle(async (req, res) => {
      const entries = await listing.listEnabled({ enteFiscalCode: String(req.params.ente ?? '') });
      if (entries.length === 0)
        throw domainError('SERVICE_UNKNOWN', 'no spontaneous forms for this ente', {});
      send(res, 200, listPage(entries, entries[0]?.enteName));
    }),
  );

  router.get(
    '/:ente/:service',
    handle(async (req, res) => {
      const target = await findPublicForm(
        store,
        String(req.params.ente ?? ''),
        String(req.params.service ?? ''),
      );
      const csrf = csrfTokenFor(req, res, settings);
      send(res, 200, formPage(target, { values: {}, errors: {}, csrf, submissionId: newSubmissionId() }));
    }),
  );

  router.post(
    '/:ente/:service',
    express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 200 }),
    handle(async (req, res) => {
      if (!csrfMatches(req, settings)) {
        return send(
          res,
          403,
          messagePage(
            'Richiesta non valida',
            'Il modulo non contiene un token di sicurezza valido (la pagina potrebbe essere scaduta). Ricarica la pagina e compila di nuovo il modulo.',
          ),
        );
      }
      const target = await findPublicForm(
        store,
        String(req.params.ente ?? ''),
        String(req.params.service ?? ''),
      );
      const body = (req.body ?? {}) as Values;
      const given = typeof body.submission === 'string' ? body.submission : '';
      const submissionId = isSubmissionId(given) ? given : newSubmissionId();
      const again = (status: number, errors: FieldErrors, general?: string) =>
        send(
          res,
          status,
          formPage(target, {
            values: keptValues(body, target),
            errors,
            csrf: csrfTokenFor(req, res, settings),
            submissionId,
            general,
          }),
        );
      const { submission, errors } = checkSubmission(target.form, submissionDraft(body, target));
      if (!submission) return again(400, errors);
      let notice: SpontaneousNotice;
      try {
        notice = await createSpontaneousPosition(store, { ...target, submission, submissionId });
      } catch (err) {
        const refusal = isDomainError(err) ? refusalOf(err) : null;
        if (!refusal) throw err;
        return again(refusal[0], {}, refusal[1]);
      }
      if (body.mode !== 'online') return send(res, 200, noticeResultPage(notice, false));
      try {
        const email = submission.debtor.email ?? null;
        const { redirectUrl } = await startSpontaneousPayment(store, settings, notice, email);
        res.set(SECURITY_HEADERS).redirect(303, redirectUrl);
      } catch (err) {
        if (isDomainError(err, 'NODE_UNAVAILABLE')) return send(res, 503, noticeResultPage(notice, true));
        if (!isDomainError(err)) throw err;
        send(res, 409, messagePage('Pagamento non possibile', blockedReason(err), target.ente.name));
      }
    }),
  );

  return router;
}

/**
 * A submission the domain refused after the form's own checks: status and message for the form,
 * or null for a failure that is not the citizen's.
 */
function refusalOf(err: DomainError): [number, string] | null {
  if (err.code === 'POSITION_DUPLICATE') {
    return [
      409,
      'Questo modulo è già stato inviato con dati diversi: ricarica la pagina e compilalo di nuovo.',
    ];
  }
  if (err.code.startsWith('INVALID_'))
    return [400, 'I dati inseriti non sono accettati dal sistema pagoPA: controllali e riprova.'];
  return null;
}

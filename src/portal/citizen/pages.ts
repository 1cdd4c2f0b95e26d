// The citizen pages of the Asincrona model, in Italian: the landing page of a payment session (the
// position, "Paga online", "Scarica l'avviso" as a page and as a PDF, the receipt PDF once paid),
// the printable notice, and the message pages for refused links. Plain server-rendered HTML with Bootstrap Italia classes; every value is escaped.

import type { DomainError } from '../../domain/errors.ts';
import type { PrintableNotice, SessionView } from '../../app/gestionale/paymentSession.ts';
import { formatDate, formatEuro, html, page, type Html } from './html.ts';

/** Why an option cannot be paid, as the citizen reads it. */
export function blockedReason(error: DomainError): string {
  switch (error.code) {
    case 'POSITION_ALREADY_PAID':
      return 'Questo avviso risulta già pagato.';
    case 'POSITION_CANCELLED':
      return "La posizione debitoria è stata annullata dall'ente: non c'è nulla da pagare.";
    case 'POSITION_EXPIRED':
      return "L'avviso è scaduto e non può più essere pagato.";
    case 'POSITION_NOT_PAYABLE':
      return "L'avviso non è ancora attivo: riprova più tardi.";
    default:
      return "L'avviso non può essere pagato in questo momento.";
  }
}

function sessionBase(token: string): string {
  return `/pay/session/${encodeURIComponent(token)}`;
}

function detail(label: string, value: Html | string): Html {
  return html`<dt class="col-sm-4">${label}</dt>
    <dd class="col-sm-8">${value}</dd>`;
}

function details(view: SessionView, amountCents: number): Html {
  const { ente, position, option } = view;
  const description = option.description || position.description;
  const debtor = position.debtor;
  return html`<dl class="row mb-0">
    ${detail('Ente creditore', `${ente.name} (codice fiscale ${ente.fiscalCode})`)}
    ${detail('Causale', description)} ${detail('Importo', html`<strong>${formatEuro(amountCents)}</strong>`)}
    ${option.dueDate ? detail('Scadenza', formatDate(option.dueDate)) : ''}
    ${detail('Codice avviso', view.noticeNumber)} ${detail('Codice IUV', option.iuv)}
    ${debtor ? detail('Intestatario', `${debtor.fullName} (${debtor.fiscalCode})`) : ''}
  </dl>`;
}

export function landingPage(view: SessionView, token: string): string {
  const base = sessionBase(token);
  const started = view.session.status !== 'OPEN';
  const blocked = view.blocked
    ? html`<div class="alert alert-warning" role="alert">${blockedReason(view.blocked)}</div>`
    : '';
  const used = started
    ? html`<div class="alert alert-info" role="alert">
        Il pagamento con questo collegamento è già stato avviato. Se non è andato a buon fine, richiedi un
        nuovo collegamento al servizio dell'ente.
      </div>`
    : '';
  const pay =
    view.blocked || started
      ? ''
      : html`<form method="post" action="${base}/pay" class="d-inline">
          <button type="submit" class="btn btn-primary me-2 mb-2">Paga online</button>
        </form>`;
  const notice = view.blocked
    ? ''
    : html`<a class="btn btn-outline-primary me-2 mb-2" href="${base}/avviso">Scarica l'avviso</a>
        <a
          class="btn btn-outline-primary me-2 mb-2"
          href="${base}/avviso.pdf"
          data-testid="notice-pdf-link"
          download
          >Scarica l'avviso (PDF)</a
        >`;
  const receipt =
    view.option.status === 'UNPAID'
      ? ''
      : html`<a
          class="btn btn-outline-primary me-2 mb-2"
          href="${base}/ricevuta.pdf"
          data-testid="receipt-pdf-link"
          download
          >Scarica la ricevuta (PDF)</a
        >`;
  const back = html`<a class="btn btn-link mb-2" href="${base}/done?outcome=CANCEL"
    >Annulla e torna al servizio</a
  >`;
  return page({
    title: 'Pagamento della posizione',
    heading: view.ente.name,
    body: html`${blocked}${used}
      <div class="card-wrapper card-space">
        <div class="card card-bg no-after">
          <div class="card-body">
            <h2 class="h4 card-title">Dati del pagamento</h2>
            ${details(view, view.amountDueCents)}
          </div>
        </div>
      </div>
      <p class="mt-4">
        Puoi pagare subito online con pagoPA oppure scaricare l'avviso e pagarlo presso uno dei prestatori di
        servizi di pagamento aderenti (banche, uffici postali, tabaccherie, app).
      </p>
      <div class="mt-3">${pay}${notice}${receipt}${back}</div>`,
  });
}

export function noticePage(notice: PrintableNotice, token: string): string {
  const { view } = notice;
  return page({
    title: 'Avviso di pagamento pagoPA',
    heading: view.ente.name,
    body: html`<div class="card card-bg no-after">
        <div class="card-body">
          ${details(view, notice.amountCents)}
          <h2 class="h5 mt-4">Dati del codice QR</h2>
          <p class="mb-1">
            Inquadra questi dati con l'app del tuo prestatore di servizi di pagamento o riportali allo
            sportello:
          </p>
          <p class="font-monospace fs-5 text-break" id="qr-payload">${notice.qrPayload}</p>
          <p class="small mb-0">
            Paga entro la scadenza presso banche, uffici postali, tabaccherie, home banking e app aderenti a
            pagoPA indicando il codice avviso e il codice fiscale dell'ente creditore.
          </p>
        </div>
      </div>
      <p class="mt-4 d-print-none">
        Per conservare l'avviso usa la funzione di stampa del browser (anche come PDF).
      </p>
      <p class="d-print-none">
        <a
          class="btn btn-outline-primary me-2"
          href="${sessionBase(token)}/avviso.pdf"
          data-testid="notice-pdf-link"
          download
          >Scarica l'avviso (PDF)</a
        >
        <a class="btn btn-outline-primary" href="${sessionBase(token)}">Torna al pagamento</a>
      </p>`,
  });
}

export function messagePage(title: string, message: string, heading?: string): string {
  return page({
    title,
    heading,
    body: html`<div class="alert alert-danger" role="alert">${message}</div>
      <p>Se il problema persiste, torna al servizio dell'ente e avvia di nuovo il pagamento.</p>`,
  });
}

/** Back from pagoPA (model 1) with an idSession no payment session of ours started. */
export function unknownRptReturnPage(): string {
  return messagePage(
    'Pagamento non riconosciuto',
    "Non è stato possibile collegare il ritorno da pagoPA a un pagamento avviato da questo servizio. Se hai completato il pagamento, l'ente riceverà comunque la ricevuta.",
  );
}

/** A receipt PDF asked for through a payment link whose notice is not paid (yet). */
export function receiptNotPaidPage(): string {
  return messagePage(
    'Ricevuta non disponibile',
    'La ricevuta sarà disponibile quando il pagamento risulterà eseguito. Se hai appena pagato, riprova tra qualche minuto.',
  );
}

/** A notice PDF asked for an ente and notice number that name no payable or paid position. */
export function unknownNoticePage(): string {
  return messagePage(
    'Avviso non trovato',
    "Non esiste un avviso di pagamento da pagare o pagato con questo codice avviso e questo codice fiscale dell'ente creditore. Controlla i dati riportati sull'avviso.",
  );
}

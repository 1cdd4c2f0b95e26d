// Pages of the portal's Excel upload (issue 8 item 3): the upload form with the template link and
// the history of uploads, and the outcome of one upload (summary and every row of the sheet with
// its Italian message). Bodies only: routes/upload.ts frames them with sendPage.

import type { Response } from 'express';
import type { Ente } from '../../db/repositories/enti.ts';
import type { PortalUploadRow } from '../../db/repositories/portalUploads.ts';
import {
  MAX_UPLOAD_BYTES,
  portalUploadOf,
  type UploadRow,
  type UploadSummary,
} from '../../app/portal/excelUpload.ts';
import { formatDateTime, formatEuro, html, type Html } from '../citizen/html.ts';
import { csrfQuery, PORTAL } from '../layout.ts';

export const UPLOADS = `${PORTAL}/caricamenti`;
const XLSX_ACCEPT = '.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function formatDay(isoDate: string | null): string {
  const m = isoDate ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate) : null;
  return m ? `${m[3]}/${m[2]}/${m[1]}` : (isoDate ?? '');
}

function statusBadge(status: string, result: string | null, errorCode: string | null): Html {
  if (status === 'DONE') return html`<span class="badge bg-success">Completato</span>`;
  if (status === 'REJECTED' || result === 'REJECTED') {
    return html`<span class="badge bg-danger">Rifiutato${errorCode ? ` (${errorCode})` : ''}</span>`;
  }
  return html`<span class="badge bg-secondary">In corso</span>`;
}

function outcomeBadge(outcome: string): Html {
  if (outcome === 'OK') return html`<span class="badge bg-success">OK</span>`;
  if (outcome === 'WARN') return html`<span class="badge bg-warning text-dark">Avviso</span>`;
  return html`<span class="badge bg-danger">KO</span>`;
}

export interface UploadFormView {
  /** The enti the user may upload for; an admin chooses one of them. */
  enti: readonly Ente[];
  isAdmin: boolean;
  /** The admin's previous choice (fiscal code), to keep it after an error. */
  selectedEnte: string;
  uploads: readonly PortalUploadRow[];
  /** An Italian sentence: why the last upload was not imported. */
  error?: string | undefined;
}

function enteSelect(view: UploadFormView): Html | string {
  if (!view.isAdmin) return '';
  return html`<div class="select-wrapper mb-4">
    <label for="ente">Ente</label>
    <select id="ente" name="ente" required>
      <option value="">Scegli un ente</option>
      ${view.enti.map(
        (e) =>
          html`<option value="${e.fiscalCode}" ${e.fiscalCode === view.selectedEnte ? html`selected` : ''}>
            ${e.name} (${e.fiscalCode})
          </option>`,
      )}
    </select>
  </div>`;
}

function uploadForm(res: Response, view: UploadFormView): Html {
  const enteName = view.isAdmin ? '' : (view.enti[0]?.name ?? '');
  return html`<h2 class="h4">Carica un file</h2>
    ${enteName ? html`<p>Le posizioni saranno caricate per <strong>${enteName}</strong>.</p>` : ''}
    ${
      view.error
        ? html`<div class="alert alert-danger" role="alert" data-testid="upload-error">${view.error}</div>`
        : ''
    }
    <form
      method="post"
      action="${UPLOADS}?${csrfQuery(res)}"
      enctype="multipart/form-data"
      data-testid="upload-form"
    >
      ${enteSelect(view)}
      <div class="mb-3">
        <label for="file" class="form-label">File Excel compilato (.xlsx)</label>
        <input
          type="file"
          class="form-control"
          id="file"
          name="file"
          accept="${XLSX_ACCEPT}"
          required
          aria-describedby="file-help"
        />
        <small id="file-help" class="form-text"
          >Il modello compilato, al massimo ${MAX_UPLOAD_BYTES / 1024 / 1024} MB. Le righe sono importate
          subito; quelle con errori sono scartate e indicate nell'esito.</small
        >
      </div>
      <button type="submit" class="btn btn-primary">Carica e importa</button>
    </form>`;
}

function templateBox(): Html {
  return html`<div class="callout note">
    <div class="callout-title">Modello</div>
    <p>
      Scarica il modello, compila il foglio «Posizioni» dalla riga 2 (una riga per rata) e caricalo qui. Il
      foglio «Istruzioni» descrive ogni colonna.
    </p>
    <ul>
      <li>Azione I = inserimento, M = modifica, A = annullamento.</li>
      <li>Importi in centesimi di euro: 3000 = 30,00 €.</li>
      <li>Date come AAAA-MM-GG o come date di Excel.</li>
    </ul>
    <a class="btn btn-outline-primary" href="${UPLOADS}/modello.xlsx" data-testid="template-link"
      >Scarica il modello Excel</a
    >
  </div>`;
}

function history(view: UploadFormView): Html {
  if (view.uploads.length === 0) {
    return html`<h2 class="h4 mt-5">Caricamenti precedenti</h2>
      <p data-testid="upload-history">Nessun file caricato finora.</p>`;
  }
  return html`<h2 class="h4 mt-5">Caricamenti precedenti</h2>
    <div class="table-responsive">
      <table class="table table-sm table-hover" data-testid="upload-history">
        <caption class="visually-hidden">
          Ultimi file caricati dal portale, dal più recente
        </caption>
        <thead>
          <tr>
            <th scope="col">Data</th>
            <th scope="col">File</th>
            ${view.isAdmin ? html`<th scope="col">Ente</th>` : ''}
            <th scope="col">Utente</th>
            <th scope="col" class="text-end">Righe OK</th>
            <th scope="col" class="text-end">Righe KO</th>
            <th scope="col">Stato</th>
            <th scope="col">Esito</th>
          </tr>
        </thead>
        <tbody>
          ${view.uploads.map((u) => {
            const mark = portalUploadOf(u.options);
            return html`<tr data-testid="upload-history-row" data-import-id="${u.id}">
              <td class="nowrap">${formatDateTime(u.createdAt)}</td>
              <td><a href="${UPLOADS}/${u.id}">${mark?.originalName ?? u.fileName}</a></td>
              ${view.isAdmin ? html`<td>${u.enteName} <span class="text-muted">(${u.enteFiscalCode})</span></td>` : ''}
              <td>${mark?.user.replace(/^portal:/, '') ?? ''}</td>
              <td class="text-end">${u.okCount + u.warnCount}</td>
              <td class="text-end">${u.koCount}</td>
              <td>${statusBadge(u.status, u.result, u.errorCode)}</td>
              <td>
                <a href="${UPLOADS}/${u.id}/esito.xlsx" data-testid="outcome-link"
                  >Esito .xlsx<span class="visually-hidden"> di ${mark?.originalName ?? u.fileName}</span></a
                >
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>`;
}

export function uploadFormBody(res: Response, view: UploadFormView): Html {
  return html`<div class="row">
      <div class="col-lg-7 mb-4">${uploadForm(res, view)}</div>
      <div class="col-lg-5">${templateBox()}</div>
    </div>
    ${history(view)}`;
}

export interface UploadResultView {
  summary: UploadSummary;
  ente: Ente;
  rows: readonly UploadRow[];
  /** Rows not shown (the page shows the first ones; the workbook has them all). */
  truncated: boolean;
  /** The earlier upload of the same content, when the user may open it. */
  duplicateLink: string | null;
}

function summaryBox(view: UploadResultView): Html {
  const s = view.summary;
  const status = s.inProgress
    ? 'In corso'
    : s.rejected
      ? 'Rifiutato: nessuna riga è stata importata'
      : 'Completato';
  return html`<div class="card card-bg mb-4" data-testid="upload-summary">
    <div class="card-body">
      <dl class="row mb-0">
        <dt class="col-sm-3">Ente</dt>
        <dd class="col-sm-9">${view.ente.name} (${view.ente.fiscalCode})</dd>
        <dt class="col-sm-3">File</dt>
        <dd class="col-sm-9" data-testid="upload-file-name">${s.fileName}</dd>
        <dt class="col-sm-3">Caricato da</dt>
        <dd class="col-sm-9">${s.user ?? 'cartella di scambio'}</dd>
        <dt class="col-sm-3">Data</dt>
        <dd class="col-sm-9">${formatDateTime(s.uploadedAt)}</dd>
        <dt class="col-sm-3">Stato</dt>
        <dd class="col-sm-9" data-testid="upload-status">${status}</dd>
        <dt class="col-sm-3">Righe</dt>
        <dd class="col-sm-9" data-testid="upload-count-rows">${s.rows}</dd>
        <dt class="col-sm-3">Importate (OK)</dt>
        <dd class="col-sm-9">
          <span data-testid="upload-count-ok">${s.ok + s.warn}</span
          >${s.warn ? ` (${s.warn} con avviso)` : ''}
        </dd>
        <dt class="col-sm-3">Scartate (KO)</dt>
        <dd class="col-sm-9" data-testid="upload-count-ko">${s.ko}</dd>
      </dl>
    </div>
  </div>`;
}

function fileError(view: UploadResultView): Html | string {
  const s = view.summary;
  if (!s.fileErrorCode) return '';
  return html`<div class="alert alert-danger" role="alert" data-testid="upload-file-error">
    <p class="mb-1"><strong>${s.fileErrorMessage ?? 'Il file non è stato importato.'}</strong></p>
    ${
      view.duplicateLink
        ? html`<p class="mb-1">
            <a href="${view.duplicateLink}">Vedi il caricamento precedente dello stesso file</a>
          </p>`
        : ''
    }
    <p class="mb-0 small">
      Codice ${s.fileErrorCode}${s.fileErrorTechnical ? `: ${s.fileErrorTechnical}` : ''}
    </p>
  </div>`;
}

function rowsTable(view: UploadResultView): Html {
  if (view.rows.length === 0) return html`<p>Nessuna riga da mostrare.</p>`;
  return html`<div class="table-responsive">
      <table class="table table-sm" data-testid="upload-rows">
        <caption class="visually-hidden">
          Esito di ogni riga del foglio caricato
        </caption>
        <thead>
          <tr>
            <th scope="col" class="text-end">Riga</th>
            <th scope="col">Posizione</th>
            <th scope="col" class="text-end">Rata</th>
            <th scope="col">Esito</th>
            <th scope="col">IUV</th>
            <th scope="col">Codice avviso</th>
            <th scope="col" class="text-end">Importo</th>
            <th scope="col">Scadenza</th>
            <th scope="col">Codice errore</th>
            <th scope="col">Messaggio</th>
          </tr>
        </thead>
        <tbody>
          ${view.rows.map(
            (r) =>
              html`<tr data-testid="upload-row" data-row="${r.rowNo}" data-outcome="${r.outcome}">
                <th scope="row" class="text-end">${r.rowNo === 0 ? 'file' : r.rowNo}</th>
                <td>${r.positionId ?? ''}</td>
                <td class="text-end">${r.installmentNo ?? ''}</td>
                <td>${outcomeBadge(r.outcome)}</td>
                <td class="nowrap">${r.iuv ?? ''}</td>
                <td class="nowrap">${r.noticeNumber ?? ''}</td>
                <td class="text-end nowrap">${r.amountCents === null ? '' : formatEuro(r.amountCents)}</td>
                <td class="nowrap">${formatDay(r.dueDate)}</td>
                <td>${r.errorCode ?? ''}</td>
                <td data-testid="upload-row-message">${r.italianMessage}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${
      view.truncated
        ? html`<p class="text-muted">
            Sono mostrate solo le prime ${view.rows.length} righe: l'esito completo è nel file Excel.
          </p>`
        : ''
    }`;
}

export function uploadResultBody(view: UploadResultView): Html {
  const id = view.summary.importId;
  return html`${summaryBox(view)} ${fileError(view)}
    <p>
      <a class="btn btn-primary me-2" href="${UPLOADS}/${id}/esito.xlsx" data-testid="outcome-link"
        >Scarica l'esito (.xlsx)</a
      >
      <a class="btn btn-outline-primary" href="${UPLOADS}">Carica un altro file</a>
    </p>
    <h2 class="h4">Esito delle righe</h2>
    ${rowsTable(view)}`;
}

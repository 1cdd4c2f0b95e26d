// Portal routes: Excel upload, template and outcome workbook (issue 8 item 3).
//   GET  /portal/caricamenti                  the form, the template link, the history of uploads
//   GET  /portal/caricamenti/modello.xlsx     the template (Posizioni + Istruzioni)
//   POST /portal/caricamenti                  multipart upload, imported at once, then 303 to its outcome
//   GET  /portal/caricamenti/:id              the outcome: summary and every row
//   GET  /portal/caricamenti/:id/esito.xlsx   the outcome workbook
// The CSRF token of the multipart form is checked from the query string by server.ts before the
// body is read here. Another ente's upload answers 404, as if it did not exist.

import { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { Response, Router } from 'express';
import multer from 'multer';
import {
  fileRejectionRow,
  findImport,
  importUploadedWorkbook,
  MAX_UPLOAD_BYTES,
  summaryOf,
  UPLOAD_PROBLEM_TEXT,
  uploadRows,
  type RunFileImport,
  type UploadProblem,
  type UploadRow,
  type UploadSummary,
} from '../../app/portal/excelUpload.ts';
import { Importer } from '../../batch/importer/importer.ts';
import { writeXlsxTemplate } from '../../batch/formats/xlsx.ts';
import {
  writeOutcomeWorkbook,
  XLSX_CONTENT_TYPE,
  type OutcomeWorkbookRow,
} from '../../batch/formats/outcomeXlsx.ts';
import type { FileImport } from '../../db/repositories/imports.ts';
import { createPortalUploadsRepository } from '../../db/repositories/portalUploads.ts';
import { domainError } from '../../domain/errors.ts';
import {
  actorOf,
  canSeeEnte,
  currentUser,
  field,
  requireEnteAccess,
  visibleEnteIds,
  type PortalContext,
} from '../context.ts';
import { chosenEnte, enteChoices, handler, PORTAL_SECURITY_HEADERS, sendFile, sendPage } from '../http.ts';
import { UPLOADS, uploadFormBody, uploadResultBody } from '../pages/upload.ts';
import { formatDateTime } from '../citizen/html.ts';

/** Rows the outcome page shows; the workbook has them all. */
const PAGE_ROWS = 1000;
const TITLE = 'Caricamento Excel';

/** The same code `ppay import --file <f> --ente <cf> --format xlsx` runs, with the operator as actor. */
function importerRun(ctx: PortalContext): RunFileImport {
  return async (enteFiscalCode, filePath, options) => {
    const importer = new Importer({
      store: ctx.store,
      dataDir: ctx.dataDir,
      actor: options.portalUpload.user,
    });
    try {
      return (await importer.importFile(enteFiscalCode, filePath, options)).importId;
    } finally {
      await importer.close();
    }
  };
}

/** Multer errors (and a broken multipart body) as the upload page explains them. */
function problemOfParseError(err: unknown): UploadProblem {
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') return 'TOO_LARGE';
    if (err.code === 'LIMIT_FILE_COUNT' || err.code === 'LIMIT_UNEXPECTED_FILE') return 'TOO_MANY_FILES';
  }
  return 'INCOMPLETE';
}

async function showForm(
  ctx: PortalContext,
  res: Response,
  status: number,
  state: { selectedEnte: string; error?: string },
): Promise<void> {
  const user = currentUser(res);
  const isAdmin = user.role === 'admin';
  const filter = isAdmin && state.selectedEnte ? await chosenEnte(ctx, res, state.selectedEnte) : null;
  const uploads = await createPortalUploadsRepository(ctx.store.db).list(
    filter ? [filter.id] : visibleEnteIds(user),
  );
  sendPage(res, status, {
    title: TITLE,
    active: UPLOADS,
    lead: 'Posizioni debitorie da un file Excel compilato sul modello',
    body: uploadFormBody(res, {
      enti: await enteChoices(ctx, user),
      isAdmin,
      selectedEnte: state.selectedEnte,
      uploads,
      error: state.error,
    }),
  });
}

/** The upload, or a 404 for an id that is not one or is another ente's. */
async function visibleImport(ctx: PortalContext, res: Response, id: string): Promise<FileImport> {
  const imp = await findImport(ctx.store, id);
  if (!imp) throw domainError('UPLOAD_UNKNOWN', `no import ${id}`, { notFound: true });
  requireEnteAccess(currentUser(res), imp.enteId, 'upload');
  return imp;
}

async function rowsOf(ctx: PortalContext, imp: FileImport, limit?: number): Promise<UploadRow[]> {
  const rows: UploadRow[] = [];
  for await (const row of uploadRows(ctx.store, imp, limit)) rows.push(row);
  if (rows.length === 0) {
    const rejection = fileRejectionRow(imp);
    if (rejection) rows.push(rejection);
  }
  return rows;
}

async function* workbookRows(ctx: PortalContext, imp: FileImport): AsyncGenerator<OutcomeWorkbookRow> {
  let any = false;
  const toRow = (r: UploadRow): OutcomeWorkbookRow => ({
    rowNo: r.rowNo,
    positionId: r.positionId,
    installmentNo: r.installmentNo,
    outcome: r.outcome,
    iuv: r.iuv,
    noticeNumber: r.noticeNumber,
    amountCents: r.amountCents,
    dueDate: r.dueDate,
    errorCode: r.errorCode,
    message: r.italianMessage,
    technicalMessage: r.errorMessage,
  });
  for await (const row of uploadRows(ctx.store, imp)) {
    any = true;
    yield toRow(row);
  }
  const rejection = any ? null : fileRejectionRow(imp);
  if (rejection) yield toRow(rejection);
}

function summaryPairs(
  summary: UploadSummary,
  ente: { name: string; fiscalCode: string },
): Array<[string, string | number]> {
  const pairs: Array<[string, string | number]> = [
    ['Ente', `${ente.name} (${ente.fiscalCode})`],
    ['File', summary.fileName],
    ['Caricato da', summary.user ?? 'cartella di scambio'],
    ['Data', formatDateTime(summary.uploadedAt)],
    ['Stato', summary.inProgress ? 'In corso' : summary.rejected ? 'Rifiutato' : 'Completato'],
    ['Righe', summary.rows],
    ['Importate (OK)', summary.ok + summary.warn],
    ['di cui con avviso', summary.warn],
    ['Scartate (KO)', summary.ko],
  ];
  if (summary.fileErrorCode) {
    pairs.push(['Errore del file', `${summary.fileErrorCode}: ${summary.fileErrorMessage ?? ''}`]);
  }
  pairs.push(['Identificativo del caricamento', summary.importId]);
  return pairs;
}

async function enteOf(ctx: PortalContext, enteId: number) {
  const ente = await ctx.store.enti.getById(enteId);
  if (!ente) throw domainError('ENTE_UNKNOWN', `no ente ${enteId}`);
  return ente;
}

export function registerUploads(router: Router, ctx: PortalContext): void {
  const parseUpload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 5, parts: 6, fieldSize: 1024 },
    defParamCharset: 'utf8',
  }).single('file');
  const runImport = importerRun(ctx);

  router.get(
    '/caricamenti',
    handler(ctx, (req, res) => showForm(ctx, res, 200, { selectedEnte: field(req.query, 'ente') })),
  );

  router.get(
    '/caricamenti/modello.xlsx',
    handler(ctx, async (_req, res) => {
      const stream = new PassThrough();
      const [bytes] = await Promise.all([buffer(stream), writeXlsxTemplate(stream).then(() => stream.end())]);
      sendFile(res, XLSX_CONTENT_TYPE, 'modello-posizioni.xlsx', bytes);
    }),
  );

  router.post(
    '/caricamenti',
    handler(ctx, async (req, res) => {
      const refuse = (problem: UploadProblem, selectedEnte = '') =>
        showForm(ctx, res, 400, { selectedEnte, error: UPLOAD_PROBLEM_TEXT[problem] });
      try {
        await new Promise<void>((resolve, reject) =>
          parseUpload(req, res, (err: unknown) => (err ? reject(err) : resolve())),
        );
      } catch (err) {
        return refuse(problemOfParseError(err));
      }
      const body = (req.body ?? {}) as Record<string, unknown>;
      const requested = field(body, 'ente');
      const ente = await chosenEnte(ctx, res, requested);
      if (!ente) return refuse('NO_ENTE', requested);
      const file = req.file;
      if (!file) return refuse('NO_FILE', requested);
      const result = await importUploadedWorkbook(
        { store: ctx.store, dataDir: ctx.dataDir, runImport },
        { ente, actor: actorOf(res), originalName: file.originalname, content: file.buffer },
      );
      if (!result.ok) return refuse(result.problem, requested);
      res.set(PORTAL_SECURITY_HEADERS).redirect(303, `${UPLOADS}/${result.importId}`);
    }),
  );

  router.get(
    '/caricamenti/:id',
    handler(ctx, async (req, res) => {
      const imp = await visibleImport(ctx, res, String(req.params.id));
      const summary = summaryOf(imp);
      const rows = await rowsOf(ctx, imp, PAGE_ROWS + 1);
      const duplicate = imp.duplicateOf ? await findImport(ctx.store, imp.duplicateOf) : null;
      sendPage(res, 200, {
        title: 'Esito del caricamento',
        active: UPLOADS,
        lead: summary.fileName,
        body: uploadResultBody({
          summary,
          ente: await enteOf(ctx, imp.enteId),
          rows: rows.slice(0, PAGE_ROWS),
          truncated: rows.length > PAGE_ROWS,
          duplicateLink:
            duplicate && canSeeEnte(currentUser(res), duplicate.enteId) ? `${UPLOADS}/${duplicate.id}` : null,
        }),
      });
    }),
  );

  router.get(
    '/caricamenti/:id/esito.xlsx',
    handler(ctx, async (req, res) => {
      const imp = await visibleImport(ctx, res, String(req.params.id));
      const summary = summaryOf(imp);
      const ente = await enteOf(ctx, imp.enteId);
      const stream = new PassThrough();
      const [bytes] = await Promise.all([
        buffer(stream),
        writeOutcomeWorkbook(stream, { summary: summaryPairs(summary, ente), rows: workbookRows(ctx, imp) }),
      ]);
      const base = summary.fileName.replace(/\.xlsx$/i, '');
      sendFile(res, XLSX_CONTENT_TYPE, `esito-${base}.xlsx`, bytes);
    }),
  );
}

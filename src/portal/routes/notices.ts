// Portal routes: the notice and receipt PDFs of a position (issue 8 item 7), :id being the positions
// row id. A position of another ente is "not found" (requireEnteAccess), as if it did not exist.
//   GET /portal/posizioni/:id/avviso.pdf[?rata=N]    the notice: one page per option, or only option N
//   GET /portal/posizioni/:id/ricevuta.pdf[?rata=N]  the receipt of a paid option (the first paid one
//                                                    unless N is given); 409 when it is not paid
// Downloads change nothing, so they write no event.

import type { Request, Response, Router } from 'express';
import { domainError, isDomainError } from '../../domain/errors.ts';
import type { StoredPosition } from '../../db/repositories/positions.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import { isPrintable, noticeDocumentOf, onlyInstallment } from '../../app/noticeDocument.ts';
import { receiptDocumentOf } from '../../app/receiptDocument.ts';
import { currentUser, field, requireEnteAccess, type PortalContext } from '../context.ts';
import { errorPage, handler, sendFile } from '../http.ts';
import { renderNoticePdf } from '../noticePdf.ts';
import { renderReceiptPdf } from '../receiptPdf.ts';

/** The portal path of a position's notice PDF (`installment` for one option only). */
export function noticePdfPath(positionRowId: number, installment?: number): string {
  const query = installment === undefined ? '' : `?rata=${installment}`;
  return `/portal/posizioni/${positionRowId}/avviso.pdf${query}`;
}

/** The portal path of the receipt PDF of a paid option (the first paid one by default). */
export function receiptPdfPath(positionRowId: number, installment?: number): string {
  const query = installment === undefined ? '' : `?rata=${installment}`;
  return `/portal/posizioni/${positionRowId}/ricevuta.pdf${query}`;
}

function notFound(): never {
  throw domainError('POSITION_UNKNOWN', 'no such position', { notFound: true });
}

/** The position the URL names, if the user may see its ente; else not found. */
async function positionOf(
  ctx: PortalContext,
  req: Request,
  res: Response,
): Promise<{
  position: StoredPosition;
  ente: Ente;
}> {
  const id = String(req.params.id ?? '');
  if (!/^[0-9]{1,15}$/.test(id)) notFound();
  const position = await ctx.store.positions.findById(Number(id));
  if (!position) notFound();
  requireEnteAccess(currentUser(res), position.enteId, 'position');
  const ente = await ctx.store.enti.getById(position.enteId);
  if (!ente) notFound();
  return { position, ente };
}

/** `?rata=N`: undefined when absent, null when malformed (the caller answers 400). */
function installmentOf(req: Request): number | undefined | null {
  const rata = field(req.query, 'rata');
  if (rata === '') return undefined;
  return /^[0-9]{1,3}$/.test(rata) ? Number(rata) : null;
}

export function registerNotices(router: Router, ctx: PortalContext): void {
  router.get(
    '/posizioni/:id/avviso.pdf',
    handler(ctx, async (req, res) => {
      const { position, ente } = await positionOf(ctx, req, res);
      const installment = installmentOf(req);
      if (installment === null) {
        return errorPage(res, 400, 'Richiesta non valida', 'Il numero della rata non è valido.');
      }
      if (!isPrintable(position.status)) {
        return errorPage(
          res,
          409,
          'Avviso non disponibile',
          "L'avviso di pagamento è disponibile solo per le posizioni da pagare o già pagate.",
        );
      }
      const whole = await noticeDocumentOf(ctx.store, ente, position);
      const data = installment === undefined ? whole : onlyInstallment(whole, installment);
      const pdf = await renderNoticePdf(data);
      const suffix = installment === undefined ? '' : `-rata-${installment}`;
      sendFile(res, 'application/pdf', `avviso-${position.positionId}${suffix}.pdf`, pdf);
    }),
  );

  router.get(
    '/posizioni/:id/ricevuta.pdf',
    handler(ctx, async (req, res) => {
      const { position, ente } = await positionOf(ctx, req, res);
      const installment = installmentOf(req);
      if (installment === null) {
        return errorPage(res, 400, 'Richiesta non valida', 'Il numero della rata non è valido.');
      }
      try {
        const data = await receiptDocumentOf(ctx.store, ente, position, installment);
        const pdf = await renderReceiptPdf(data);
        sendFile(res, 'application/pdf', `ricevuta-${data.noticeNumber ?? data.iuv}.pdf`, pdf);
      } catch (err) {
        if (!isDomainError(err, 'RECEIPT_UNKNOWN') || err.details.notPaid !== true) throw err;
        errorPage(
          res,
          409,
          'Ricevuta non disponibile',
          'La ricevuta di pagamento è disponibile solo per gli avvisi già pagati.',
        );
      }
    }),
  );
}

// Citizen pages under /pay/ (DESIGN §10), the Asincrona landing of createPaymentSession:
//   GET  /pay/session/:token          the position, "Paga online", "Scarica l'avviso" (reload: harmless)
//   POST /pay/session/:token/pay      consumes the token's nonce, opens the payment, 303 to pagoPA
//   GET  /pay/session/:token/done     back from pagoPA: 303 to the gestionale's return URL + outcome
//   GET  /pay/session/:token/avviso   the printable notice (QR payload as text)
//   GET  /pay/session/:token/avviso.pdf    the session's notice as a PDF (its option's page)
//   GET  /pay/session/:token/ricevuta.pdf  the receipt PDF once the session's option is paid (409 before)
//   GET  /pay/avviso/:ente/:notice.pdf?debtor=CF  the notice as a PDF, for a payable or paid position
//                                     whose debtor is CF (or anonymous); else 404, the same page
//   GET  /pay/rpt/return              a legacy station's redirect URL after a model 1 (RPT) payment:
//                                     the node's idSession names the session, 303 to its /done
//   GET  /pay/assets/...              Bootstrap Italia's CSS, fonts and icons, served locally
// Refusals are pages with their HTTP status: 400 invalid or tampered link, 410 expired, 409 used or
// not payable, 503 node unavailable. The token sits in the URL, so no page sends a Referer.

import path from 'node:path';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { domainError, isDomainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import {
  finishSession,
  openSession,
  printableNotice,
  rptReturnTarget,
  startSessionPayment,
  type RedirectSettings,
} from '../../app/gestionale/paymentSession.ts';
import { noticeDocument, noticeDocumentOf, onlyInstallment } from '../../app/noticeDocument.ts';
import { receiptDocumentOf } from '../../app/receiptDocument.ts';
import { renderNoticePdf } from '../noticePdf.ts';
import { renderReceiptPdf } from '../receiptPdf.ts';
import { spontaneousRouter } from './spontaneous.ts';
import { fontsCss } from './html.ts';
import {
  blockedReason,
  landingPage,
  messagePage,
  noticePage,
  receiptNotPaidPage,
  unknownNoticePage,
  unknownRptReturnPage,
} from './pages.ts';

const BOOTSTRAP_ITALIA_DIST = path.join(
  path.dirname(createRequire(import.meta.url).resolve('bootstrap-italia/package.json')),
  'dist',
);

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

function send(res: Response, status: number, body: string): void {
  res.status(status).set(SECURITY_HEADERS).type('text/html; charset=utf-8').send(body);
}

/** One place where failures become pages: status and Italian text per error code. */
function refuse(res: Response, err: unknown, onUnexpected: (err: unknown, id: string) => void): void {
  if (!isDomainError(err)) {
    const id = randomUUID();
    onUnexpected(err, id);
    send(res, 500, messagePage('Errore imprevisto', `Si è verificato un errore imprevisto (codice ${id}).`));
    return;
  }
  switch (err.code) {
    case 'REDIRECT_TOKEN_INVALID':
      return send(
        res,
        400,
        messagePage('Collegamento non valido', 'Il collegamento di pagamento non è valido.'),
      );
    case 'REDIRECT_TOKEN_EXPIRED':
      return send(
        res,
        410,
        messagePage(
          'Collegamento scaduto',
          "Il collegamento di pagamento è scaduto. Richiedine uno nuovo al servizio dell'ente.",
        ),
      );
    case 'REDIRECT_TOKEN_USED':
      return send(
        res,
        409,
        messagePage(
          'Collegamento già utilizzato',
          "Questo collegamento di pagamento è già stato utilizzato per avviare un pagamento e non può essere usato di nuovo. Per un nuovo tentativo richiedi un nuovo collegamento al servizio dell'ente.",
        ),
      );
    case 'NODE_UNAVAILABLE':
      return send(
        res,
        503,
        messagePage(
          'Servizio non disponibile',
          'Il sistema pagoPA non è raggiungibile in questo momento. Riprova tra qualche minuto con lo stesso collegamento.',
        ),
      );
    case 'POSITION_UNKNOWN':
      return send(res, 404, messagePage('Posizione non trovata', 'La posizione da pagare non esiste più.'));
    case 'POSITION_ALREADY_PAID':
    case 'POSITION_CANCELLED':
    case 'POSITION_EXPIRED':
    case 'POSITION_NOT_PAYABLE':
    case 'PAYMENT_IN_PROGRESS':
      return send(res, 409, messagePage('Pagamento non possibile', blockedReason(err)));
    default:
      return send(res, 500, messagePage('Errore', 'Il pagamento non può essere avviato.'));
  }
}

const REFUSED_LINK_CODES = new Set([
  'REDIRECT_TOKEN_INVALID',
  'REDIRECT_TOKEN_EXPIRED',
  'REDIRECT_TOKEN_USED',
]);

/**
 * A refused payment link goes to the event log with its reason (tampered, expired, used); the
 * token itself is a bearer secret, so the logged path shows it masked.
 */
async function auditRefusedLink(store: Store, req: Request, err: unknown): Promise<void> {
  if (!isDomainError(err) || !REFUSED_LINK_CODES.has(err.code)) return;
  const reason = typeof err.details.reason === 'string' ? `: ${err.details.reason}` : '';
  await store.events.append({
    entityType: 'citizen_request',
    entityId: req.path.replace(/^\/session\/[^/]*/, '/session/***').slice(0, 64),
    action: 'refused',
    cause: `${err.code}${reason}`,
    actor: `citizen:${(req.socket.remoteAddress ?? 'unknown').slice(0, 64)}`,
  });
}

export interface CitizenPagesOptions {
  /** Where unexpected errors go, with the id the page shows; stderr by default. */
  onUnexpected?: (err: unknown, id: string) => void;
}

export function citizenRouter(
  store: Store,
  settings: RedirectSettings,
  options: CitizenPagesOptions = {},
): Router {
  const router = express.Router();
  const onUnexpected =
    options.onUnexpected ??
    ((err: unknown, id: string) => void process.stderr.write(`citizen pages ${id}: ${String(err)}\n`));
  const handle =
    (fn: (req: Request, res: Response) => Promise<void>) =>
    (req: Request, res: Response): void => {
      fn(req, res)
        .catch(async (err: unknown) => {
          await auditRefusedLink(store, req, err).catch(() => undefined);
          refuse(res, err, onUnexpected);
        })
        .catch((err: unknown) => onUnexpected(err, randomUUID()));
    };
  const tokenOf = (req: Request): string => String(req.params.token ?? '');

  router.get('/assets/fonts.css', (_req, res) => {
    res.type('text/css').set('Cache-Control', 'public, max-age=86400').send(fontsCss());
  });
  router.use('/assets', express.static(BOOTSTRAP_ITALIA_DIST, { index: false, maxAge: '1d' }));
  router.use('/assets', (_req, res) => void res.status(404).type('text/plain').send('not found'));
  router.use('/spontaneo', spontaneousRouter(store, settings, { onUnexpected }));

  router.get(
    '/session/:token',
    handle(async (req, res) => {
      const token = tokenOf(req);
      send(res, 200, landingPage(await openSession(store, settings, token), token));
    }),
  );

  router.post(
    '/session/:token/pay',
    handle(async (req, res) => {
      const { redirectUrl } = await startSessionPayment(store, settings, tokenOf(req));
      res.set(SECURITY_HEADERS).redirect(303, redirectUrl);
    }),
  );

  router.get(
    '/session/:token/done',
    handle(async (req, res) => {
      const target = await finishSession(store, settings, tokenOf(req), req.query.outcome);
      res.set(SECURITY_HEADERS).redirect(303, target);
    }),
  );

  router.get(
    '/rpt/return',
    handle(async (req, res) => {
      try {
        const target = await rptReturnTarget(store, settings, req.query);
        res.set(SECURITY_HEADERS).redirect(303, target);
      } catch (err) {
        if (!isDomainError(err, 'REDIRECT_TOKEN_INVALID')) throw err;
        send(res, 400, unknownRptReturnPage());
      }
    }),
  );

  router.get(
    '/session/:token/avviso',
    handle(async (req, res) => {
      const token = tokenOf(req);
      send(res, 200, noticePage(await printableNotice(store, settings, token), token));
    }),
  );

  const sendPdf = (res: Response, fileName: string, pdf: Buffer): void => {
    res
      .status(200)
      .set(SECURITY_HEADERS)
      .set('Content-Disposition', `inline; filename="${fileName}"`)
      .type('application/pdf')
      .send(pdf);
  };

  router.get(
    '/session/:token/avviso.pdf',
    handle(async (req, res) => {
      const { ente, position, option, noticeNumber } = await openSession(store, settings, tokenOf(req));
      const data = onlyInstallment(await noticeDocumentOf(store, ente, position), option.installment);
      sendPdf(res, `avviso-${noticeNumber}.pdf`, await renderNoticePdf(data));
    }),
  );

  router.get(
    '/session/:token/ricevuta.pdf',
    handle(async (req, res) => {
      const { ente, position, option, noticeNumber } = await openSession(store, settings, tokenOf(req));
      try {
        const data = await receiptDocumentOf(store, ente, position, option.installment);
        sendPdf(res, `ricevuta-${noticeNumber}.pdf`, await renderReceiptPdf(data));
      } catch (err) {
        if (!isDomainError(err, 'RECEIPT_UNKNOWN')) throw err;
        send(res, err.details.notPaid === true ? 409 : 404, receiptNotPaidPage());
      }
    }),
  );

  router.get(
    '/avviso/:enteFiscalCode/:file',
    handle(async (req, res) => {
      const noticeNumber = /^([0-9]{18})\.pdf$/.exec(String(req.params.file ?? ''))?.[1];
      try {
        if (!noticeNumber) throw domainError('POSITION_UNKNOWN', 'not a notice PDF name', {});
        const data = await noticeDocument(store, String(req.params.enteFiscalCode ?? ''), noticeNumber);
        // The notice names its debtor: notice numbers run in sequence, so knowing one is not enough.
        const debtor = typeof req.query.debtor === 'string' ? req.query.debtor.trim().toUpperCase() : '';
        const named = data.debtor && data.debtor.fiscalCode.toUpperCase() !== 'ANONIMO';
        if (named && data.debtor?.fiscalCode.toUpperCase() !== debtor) {
          throw domainError('POSITION_UNKNOWN', 'the debtor does not match', {});
        }
        sendPdf(res, `avviso-${noticeNumber}.pdf`, await renderNoticePdf(data));
      } catch (err) {
        if (!isDomainError(err, 'POSITION_UNKNOWN')) throw err;
        send(res, 404, unknownNoticePage());
      }
    }),
  );

  return router;
}

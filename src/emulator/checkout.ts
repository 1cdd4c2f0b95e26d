// The emulated pagoPA checkout: POST /emulator/checkout/carts (JSON as pagoPA Checkout's carts API:
// 1-5 paymentNotices with amounts in euro cents, returnUrls, optional idCart) answers 302 to the
// cart's page; the carts the node opens for nodoInviaRPT / nodoInviaCarrelloRPT use the same page.
// Pay completes the flow against the connector (current model: verify, get payment and receipt per
// notice; legacy: a positive RT per RPT) and redirects to the return URL; Cancel sends negative RTs
// for RPT carts and redirects to the cancel URL.

import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { parseRptXml } from './rpt.ts';
import { activateNotice, authorizeAndNotify, type Activation } from './current.ts';
import { EmulatorDuplicate, type Cart, type EmulatorDb, type EmulatorPsp } from './db.ts';
import { issueRt } from './legacy.ts';
import { checkoutUrl } from './node/common.ts';
import { originOf } from './node/requestInfo.ts';
import { checkoutPage, notFoundPage, outcomePage, type CheckoutLine } from './pages.ts';
import { StepLog, type EmulatorContext } from './steps.ts';
import type { Store } from '../db/store.ts';

const httpUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const url = new URL(v);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL');

const cartRequest = z.object({
  paymentNotices: z
    .array(
      z.object({
        noticeNumber: z.string().regex(/^[0-9]{18}$/, 'must be 18 digits'),
        fiscalCode: z.string().regex(/^[0-9]{11}$/, 'must be 11 digits'),
        amount: z.number().int().min(1).max(99_999_999_999),
        companyName: z.string().min(1).max(140),
        description: z.string().min(1).max(140),
      }),
    )
    .min(1)
    .max(5),
  returnUrls: z.object({ returnOkUrl: httpUrl, returnCancelUrl: httpUrl, returnErrorUrl: httpUrl }),
  idCart: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,35}$/, 'must be 1-35 letters, digits, dot, underscore or dash')
    .optional(),
  emailNotice: z.string().max(256).optional(),
});

export interface CheckoutOptions {
  store: Store;
  edb: EmulatorDb;
  publicUrl?: string | undefined;
  /** Base URL of the connector; by default the address this request reached (they share the server). */
  connectorUrl?: string | undefined;
}

function problem(res: Response, status: number, title: string, detail: string): void {
  res.status(status).type('application/problem+json').send(JSON.stringify({ status, title, detail }));
}

/** The connector's base URL as seen from this server: the local address the request came in on. */
function localOrigin(req: Request): string {
  const address = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${req.socket.localPort ?? 80}`;
}

function page(res: Response, status: number, html: string): void {
  res
    .status(status)
    .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
    .type('text/html; charset=utf-8')
    .send(html);
}

async function linesOf(edb: EmulatorDb, cart: Cart): Promise<CheckoutLine[]> {
  if (cart.kind === 'checkout') {
    return (await edb.carts.notices(cart.id)).map((n) => ({
      reference: n.noticeNumber,
      fiscalCode: n.fiscalCode,
      companyName: n.companyName,
      description: n.description,
      amountCents: n.amountCents,
    }));
  }
  return (await edb.rpts.listByCart(cart.id)).map((stored) => {
    const rpt = parseRptXml(stored.rptXml);
    return {
      reference: `IUV ${rpt.iuv} / CCP ${rpt.ccp}`,
      fiscalCode: rpt.idDominio,
      companyName: rpt.beneficiaryName,
      description: rpt.transfers.map((t) => t.causale).join('; '),
      amountCents: rpt.totalCents,
    };
  });
}

/** Where an RPT cart sends the citizen back: the station's redirect URL, or the emulator's outcome page. */
async function rptReturnUrl(edb: EmulatorDb, cart: Cart, esito: 'OK' | 'ERROR'): Promise<string> {
  const [first] = await edb.rpts.listByCart(cart.id);
  const settings = cart.stationId ? await edb.stations.settings(cart.stationId) : null;
  if (!settings?.redirectUrl) return `/emulator/checkout/${encodeURIComponent(cart.id)}/outcome`;
  const url = new URL(settings.redirectUrl);
  url.searchParams.set('idDominio', first?.idDominio ?? '');
  url.searchParams.set('idSession', cart.id);
  url.searchParams.set('esito', esito);
  return url.toString();
}

async function payCheckoutCart(ctx: EmulatorContext, cart: Cart, psp: EmulatorPsp): Promise<boolean> {
  const log = new StepLog();
  const activations: Activation[] = [];
  for (const notice of await ctx.edb.carts.notices(cart.id)) {
    const activation = await activateNotice(
      ctx,
      log,
      { fiscalCode: notice.fiscalCode, noticeNumber: notice.noticeNumber, cartId: cart.id },
      psp,
    );
    if (!activation) {
      // Nothing was charged: release the tokens already taken for the other notices.
      for (const a of activations)
        await ctx.edb.payments.update(a.payment.paymentToken, { status: 'CANCELLED' });
      return false;
    }
    activations.push(activation);
  }
  // Charged once for the whole cart; receipts not delivered now stay pending for a later delivery.
  for (const activation of activations) await authorizeAndNotify(ctx, log, activation, psp, 'creditCard');
  return true;
}

async function completeRptCart(
  ctx: EmulatorContext,
  cart: Cart,
  psp: EmulatorPsp,
  paid: boolean,
): Promise<void> {
  const log = new StepLog();
  for (const rpt of await ctx.edb.rpts.listByCart(cart.id))
    await issueRt(ctx, log, rpt, psp, paid ? '0' : '1');
}

export function checkoutRouter(options: CheckoutOptions): Router {
  const { edb } = options;
  const router = express.Router();
  const context = (req: Request): EmulatorContext => ({
    store: options.store,
    edb,
    connectorUrl: options.connectorUrl ?? localOrigin(req),
  });
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  router.post('/checkout/carts', express.json({ limit: '64kb' }), async (req, res) => {
    const parsed = cartRequest.safeParse(req.body);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      return problem(res, 400, 'Bad Request', detail);
    }
    const body = parsed.data;
    const id = body.idCart ?? randomUUID();
    try {
      await edb.carts.create(
        { id, kind: 'checkout', returnUrls: body.returnUrls },
        {
          notices: body.paymentNotices.map((n) => ({
            fiscalCode: n.fiscalCode,
            noticeNumber: n.noticeNumber,
            amountCents: n.amount,
            companyName: n.companyName,
            description: n.description,
          })),
        },
      );
    } catch (err) {
      if (err instanceof EmulatorDuplicate)
        return problem(res, 409, 'PPT_ID_CARRELLO_DUPLICATO', `idCart ${id}`);
      throw err;
    }
    const url = checkoutUrl(originOf(req, options.publicUrl), id);
    res.status(302).location(url).json({ cartId: id, checkoutUrl: url });
  });

  router.get('/checkout/:cartId', async (req, res) => {
    const cart = await edb.carts.get(req.params.cartId);
    if (!cart) return page(res, 404, notFoundPage(`carrello ${req.params.cartId}`));
    page(
      res,
      200,
      checkoutPage({ cart, lines: await linesOf(edb, cart), psps: await edb.psps.listPaying() }),
    );
  });

  router.get('/checkout/:cartId/outcome', async (req, res) => {
    const cart = await edb.carts.get(req.params.cartId);
    if (!cart) return page(res, 404, notFoundPage(`carrello ${req.params.cartId}`));
    page(res, 200, outcomePage(cart));
  });

  router.post('/checkout/:cartId/pay', form, async (req, res) => {
    const cart = await edb.carts.get(req.params.cartId);
    if (!cart) return page(res, 404, notFoundPage(`carrello ${req.params.cartId}`));
    const chosen = typeof req.body?.psp === 'string' ? await edb.psps.get(req.body.psp) : null;
    if (!chosen || chosen.kind !== 'psp') {
      const psps = await edb.psps.listPaying();
      return page(
        res,
        400,
        checkoutPage({ cart, lines: await linesOf(edb, cart), psps, error: 'Scegli un PSP' }),
      );
    }
    // A second click (or a second tab) finds the cart taken and just sees its state.
    if (!(await edb.carts.claim(cart.id, chosen.idPsp)))
      return res.redirect(303, `/emulator/checkout/${encodeURIComponent(cart.id)}`);
    const ctx = context(req);
    if (cart.kind === 'rpt') {
      await completeRptCart(ctx, cart, chosen, true);
      await edb.carts.setStatus(cart.id, 'PAID');
      return res.redirect(303, await rptReturnUrl(edb, cart, 'OK'));
    }
    const paid = await payCheckoutCart(ctx, cart, chosen);
    await edb.carts.setStatus(cart.id, paid ? 'PAID' : 'FAILED');
    const urls = cart.returnUrls;
    res.redirect(
      303,
      (paid ? urls?.returnOkUrl : urls?.returnErrorUrl) ??
        `/emulator/checkout/${encodeURIComponent(cart.id)}`,
    );
  });

  router.post('/checkout/:cartId/cancel', form, async (req, res) => {
    const cart = await edb.carts.get(req.params.cartId);
    if (!cart) return page(res, 404, notFoundPage(`carrello ${req.params.cartId}`));
    if (!(await edb.carts.claim(cart.id, cart.pspId)))
      return res.redirect(303, `/emulator/checkout/${encodeURIComponent(cart.id)}`);
    if (cart.kind === 'rpt') {
      // The node closes an abandoned RPT with a negative RT (codiceEsitoPagamento 1) in the PSP's name.
      const psp = (cart.pspId ? await edb.psps.get(cart.pspId) : null) ?? (await edb.psps.listPaying())[0];
      if (psp) await completeRptCart(context(req), cart, psp, false);
      await edb.carts.setStatus(cart.id, 'CANCELLED');
      return res.redirect(303, await rptReturnUrl(edb, cart, 'ERROR'));
    }
    await edb.carts.setStatus(cart.id, 'CANCELLED');
    res.redirect(
      303,
      cart.returnUrls?.returnCancelUrl ?? `/emulator/checkout/${encodeURIComponent(cart.id)}`,
    );
  });

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const type = (err as { type?: string }).type;
    if (type === 'entity.parse.failed') return problem(res, 400, 'Bad Request', 'the body is not JSON');
    if (type === 'entity.too.large') return problem(res, 413, 'Payload Too Large', 'the body is too large');
    next(err);
  });

  return router;
}

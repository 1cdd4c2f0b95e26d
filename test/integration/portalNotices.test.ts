// Notice and receipt PDFs through HTTP against the whole app on the suite's database: the portal's
// /portal/posizioni/:id/avviso.pdf and ricevuta.pdf (scoped to the operator's ente), and the
// Asincrona landing page's PDF links (/pay/session/:token/avviso.pdf, ricevuta.pdf). PDFs are read
// for real: pages counted and QR codes decoded (pdftoppm + jsQR), text extracted (pdftotext).
// Receipts come from a real payment by the emulated PSP.

import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { decodePdfQr, pdfPageCount, pdfText } from '../support/pdfQr.ts';
import {
  loggedIn,
  PortalClient,
  seedPortalWorld,
  startPortalServer,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import { allocateNotices, CHANGE, samplePosition } from './helpers.ts';
import type { StoredPosition } from '../../src/db/repositories/positions.ts';
import type { SeededEnte } from '../support/db.ts';
import type { DebtPosition } from '../../src/domain/position.ts';
import { addClient } from '../../src/app/admin.ts';
import { createPaymentSession } from '../../src/app/gestionale/paymentSession.ts';
import { payNotice } from '../../src/emulator/index.ts';

const XSS = '<script>alert(1)</script>';

forEachDatabase('portal: notice and receipt PDFs', (ctx) => {
  let server: PortalServer;
  let world: PortalWorld;
  let operatorA: PortalClient;
  let operatorB: PortalClient;
  /** Single payment and two installments, each with a bank and a postal transfer. */
  let plan: StoredPosition;

  const insert = async (
    ente: SeededEnte,
    installments = 0,
    description?: string,
  ): Promise<StoredPosition> => {
    const sample = samplePosition(ente.ente.fiscalCode, installments);
    // A validated position with another causale (HTML included: it is plain text to the domain).
    const draft: DebtPosition = description
      ? { ...sample, description, options: sample.options.map((o) => ({ ...o, description })) }
      : sample;
    const notices = await allocateNotices(ctx.store, ente.ente.id, draft.options.length);
    return ctx.store.positions.insert(ente.ente.id, ente.service.id, draft, { notices, ...CHANGE });
  };

  const optionOf = (position: StoredPosition, installment: number) => {
    const option = position.options.find((o) => o.installment === installment);
    if (!option?.noticeNumber) throw new Error(`no option ${installment}`);
    return option as typeof option & { noticeNumber: string };
  };

  const qrOf = (ente: SeededEnte, position: StoredPosition, installment: number) => {
    const option = optionOf(position, installment);
    return `PAGOPA|002|${option.noticeNumber}|${ente.ente.fiscalCode}|${option.amountCents}`;
  };

  const pay = async (ente: SeededEnte, noticeNumber: string) => {
    const paid = await payNotice({
      store: ctx.store,
      connectorUrl: server.url,
      enteFiscalCode: ente.ente.fiscalCode,
      noticeNumber,
    });
    expect(paid.ok, JSON.stringify(paid.steps)).to.equal(true);
  };

  before(async function () {
    this.timeout(30_000);
    server = await startPortalServer(ctx);
    world = await seedPortalWorld(ctx);
    plan = await insert(world.a, 2);
    operatorA = await loggedIn(server.url, world.operatorA);
    operatorB = await loggedIn(server.url, world.operatorB);
  });
  after(() => server.close());

  describe('portal routes', () => {
    it('serves the whole notice: one page per option, each QR decoding to its own notice', async function () {
      this.timeout(30_000);
      const res = await operatorA.get(`/portal/posizioni/${plan.id}/avviso.pdf`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/pdf');
      expect(res.headers.get('content-disposition')).to.equal(
        `attachment; filename="avviso-${plan.positionId}.pdf"`,
      );
      expect(await pdfPageCount(res.body)).to.equal(3);
      for (const installment of [0, 1, 2]) {
        expect(await decodePdfQr(res.body, installment + 1)).to.equal(qrOf(world.a, plan, installment));
      }
    });

    it('prints the postal slip for options credited to a postal account', async () => {
      const res = await operatorA.get(`/portal/posizioni/${plan.id}/avviso.pdf`);
      const text = await pdfText(res.body);
      expect(text).to.include('BOLLETTINO POSTALE PA');
      expect(text).to.include('sul C/C n. 000012345678');
      expect(text).to.include('RATA 2 DI 2');
    });

    it('serves only installment N with ?rata=N; 404 for an installment the position lacks, 400 for garbage', async function () {
      this.timeout(20_000);
      const second = await operatorA.get(`/portal/posizioni/${plan.id}/avviso.pdf?rata=2`);
      expect(second.status).to.equal(200);
      expect(await pdfPageCount(second.body)).to.equal(1);
      expect(await decodePdfQr(second.body)).to.equal(qrOf(world.a, plan, 2));
      expect((await operatorA.get(`/portal/posizioni/${plan.id}/avviso.pdf?rata=7`)).status).to.equal(404);
      const bad = await operatorA.get(`/portal/posizioni/${plan.id}/avviso.pdf?rata=abc`);
      expect(bad.status).to.equal(400);
      expect(bad.text).to.include('Il numero della rata non è valido.');
    });

    it('answers 404 to an operator of another ente, as for a position that does not exist', async () => {
      for (const path of [
        `/portal/posizioni/${plan.id}/avviso.pdf`,
        `/portal/posizioni/${plan.id}/ricevuta.pdf`,
        `/portal/posizioni/${plan.id}/avviso.pdf?rata=1`,
      ]) {
        const res = await operatorB.get(path);
        expect(res.status, path).to.equal(404);
        expect(res.headers.get('content-type')).to.match(/^text\/html/);
        expect(res.body.subarray(0, 5).toString('latin1')).not.to.equal('%PDF-');
      }
      expect((await operatorA.get('/portal/posizioni/999999999/avviso.pdf')).status).to.equal(404);
      expect((await operatorA.get('/portal/posizioni/not-a-number/avviso.pdf')).status).to.equal(404);
    });

    it('lets an admin download any ente’s notice', async () => {
      const admin = await loggedIn(server.url, world.admin);
      const res = await admin.get(`/portal/posizioni/${plan.id}/avviso.pdf`);
      expect(res.status).to.equal(200);
      expect(res.body.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
    });

    it('sends a visitor without a session to the login page', async () => {
      const res = await new PortalClient(server.url).get(`/portal/posizioni/${plan.id}/avviso.pdf`);
      expect(res.status).to.equal(303);
      expect(res.location).to.match(/^\/portal\/login\?next=/);
    });

    it('refuses a POST without its CSRF token (403)', async () => {
      await operatorA.get('/portal/');
      const res = await operatorA.post(`/portal/posizioni/${plan.id}/avviso.pdf`, {}, { csrf: false });
      expect(res.status).to.equal(403);
    });

    it('answers 409 with an Italian message for the notice of a cancelled position', async () => {
      const cancelled = await insert(world.a);
      await ctx.store.positions.transition(cancelled.id, 'CANCELLED', CHANGE);
      const res = await operatorA.get(`/portal/posizioni/${cancelled.id}/avviso.pdf`);
      expect(res.status).to.equal(409);
      expect(res.text).to.include('solo per le posizioni da pagare o già pagate');
    });

    it('answers 409 for the receipt of an unpaid position, and the receipt PDF once it is paid', async function () {
      this.timeout(30_000);
      const position = await insert(world.a, 2);
      const unpaid = await operatorA.get(`/portal/posizioni/${position.id}/ricevuta.pdf`);
      expect(unpaid.status).to.equal(409);
      expect(unpaid.text).to.include('disponibile solo per gli avvisi già pagati');

      const first = optionOf(position, 1);
      await pay(world.a, first.noticeNumber);
      const res = await operatorA.get(`/portal/posizioni/${position.id}/ricevuta.pdf`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/pdf');
      expect(res.headers.get('content-disposition')).to.include(`ricevuta-${first.noticeNumber}.pdf`);
      const text = await pdfText(res.body);
      expect(text).to.include('RICEVUTA DI PAGAMENTO');
      expect(text).to.include(first.iuv);
      expect(text).to.include('Rata 1 di 2');
      expect(text).to.include('50,01 €');

      expect((await operatorA.get(`/portal/posizioni/${position.id}/ricevuta.pdf?rata=1`)).status).to.equal(
        200,
      );
      expect((await operatorA.get(`/portal/posizioni/${position.id}/ricevuta.pdf?rata=0`)).status).to.equal(
        409,
      );
      expect((await operatorB.get(`/portal/posizioni/${position.id}/ricevuta.pdf`)).status).to.equal(404);
    });

    it('prints user text as text: a causale with HTML stays literal in the PDF', async () => {
      const position = await insert(world.a, 0, `TARI ${XSS}`);
      const res = await operatorA.get(`/portal/posizioni/${position.id}/avviso.pdf`);
      expect(res.status).to.equal(200);
      expect(await pdfText(res.body)).to.include(`TARI ${XSS}`);
    });
  });

  describe('Asincrona landing page (/pay/session/:token)', () => {
    let username: string;

    const sessionFor = async (position: StoredPosition, installment = 0): Promise<string> => {
      const client = await ctx.store.clients.findByUsername(username);
      if (!client) throw new Error('no test client');
      const bindings = await ctx.store.clients.bindings(client.id);
      const created = await createPaymentSession(ctx.store, server.redirect, {
        ente: world.a.ente,
        caller: { clientId: client.id, actor: `gestionale:${username}`, serviceIds: bindings.serviceIds },
        positionId: position.positionId,
        installment,
        returnUrl: 'http://localhost/gestionale/esito',
      });
      return created.sessionUrl.slice(created.sessionUrl.lastIndexOf('/') + 1);
    };

    const get = async (path: string) => {
      const res = await fetch(`${server.url}${path}`, { redirect: 'manual' });
      return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
    };

    before(async () => {
      username = `notices-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
      await addClient(ctx.store, {
        username,
        name: 'Notice tests',
        enti: [world.a.ente.fiscalCode],
        services: [],
        models: ['async'],
        password: 'notice-tests-password',
        returnUrlPrefixes: ['http://localhost'],
      });
    });

    it('links the notice PDF, which holds the session option’s page and QR', async function () {
      this.timeout(20_000);
      const token = await sessionFor(plan, 1);
      const landing = await get(`/pay/session/${token}`);
      expect(landing.status).to.equal(200);
      const page = landing.body.toString('utf8');
      expect(page).to.include(`href="/pay/session/${token}/avviso.pdf"`);
      expect(page).to.include('data-testid="notice-pdf-link"');
      expect(page).not.to.include('data-testid="receipt-pdf-link"');
      const pdf = await get(`/pay/session/${token}/avviso.pdf`);
      expect(pdf.status).to.equal(200);
      expect(pdf.headers.get('content-type')).to.equal('application/pdf');
      expect(await pdfPageCount(pdf.body)).to.equal(1);
      expect(await decodePdfQr(pdf.body)).to.equal(qrOf(world.a, plan, 1));
    });

    it('shows HTML in the causale escaped on the landing page', async () => {
      const position = await insert(world.a, 0, `Mensa ${XSS}`);
      const page = (await get(`/pay/session/${await sessionFor(position)}`)).body.toString('utf8');
      expect(page).to.include('Mensa &lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page).not.to.include(XSS);
    });

    it('answers 409 for the receipt before payment, then links and serves it once paid', async function () {
      this.timeout(30_000);
      const position = await insert(world.a);
      const token = await sessionFor(position);
      const before = await get(`/pay/session/${token}/ricevuta.pdf`);
      expect(before.status).to.equal(409);
      expect(before.body.toString('utf8')).to.include('Ricevuta non disponibile');

      await pay(world.a, optionOf(position, 0).noticeNumber);
      const landing = (await get(`/pay/session/${token}`)).body.toString('utf8');
      expect(landing).to.include('data-testid="receipt-pdf-link"');
      expect(landing).to.include(`href="/pay/session/${token}/ricevuta.pdf"`);
      const receipt = await get(`/pay/session/${token}/ricevuta.pdf`);
      expect(receipt.status).to.equal(200);
      expect(receipt.headers.get('content-type')).to.equal('application/pdf');
      expect(await pdfText(receipt.body)).to.include('RICEVUTA DI PAGAMENTO');
    });

    it('refuses a tampered token with 400 and no PDF', async () => {
      const token = await sessionFor(plan);
      const res = await get(`/pay/session/${token.slice(0, -2)}xx/avviso.pdf`);
      expect(res.status).to.equal(400);
      expect(res.headers.get('content-type')).to.match(/^text\/html/);
    });
  });
});

// Spontaneous payments (issue 8 item 4) through HTTP against the whole app on the suite's database:
// an operator configures a service's form in the portal; a citizen fills it on /pay/spontaneo and
// gets a notice (whose PDF downloads) or pays through the emulator's checkout and reads the outcome.
// Scoping (another ente's service is 404), CSRF on both sides, escaping of what people type.

import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import {
  loggedIn,
  PortalClient,
  seedPortalWorld,
  startPortalServer,
  type PortalResponse,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import { payOnCheckout } from '../e2e/redirectSupport.ts';

const PAYER_CF = 'RSSMRA85T10A562S';
const XSS = '<script>alert(1)</script>';

function submissionOf(page: PortalResponse): string {
  const match = /name="submission" value="([0-9a-f]{16})"/.exec(page.text);
  expect(match, page.text).to.not.equal(null);
  return match![1]!;
}

function pdfLinkOf(page: PortalResponse): string {
  const match = /href="(\/pay\/avviso\/[^"]+)"/.exec(page.text);
  expect(match, page.text).to.not.equal(null);
  return match![1]!.replace(/&amp;/g, '&');
}

forEachDatabase('portal: spontaneous payments', (ctx) => {
  let server: PortalServer;
  let world: PortalWorld;
  let formPath: string;

  const configPath = () => `/portal/spontanei/${world.a.service.id}`;

  const goodConfig = {
    enabled: '1',
    title: 'Diritti di segreteria',
    instructions: 'Indica il numero della pratica.\nIl pagamento vale per una sola pratica.',
    amountMode: 'free',
    fixedAmount: '',
    minAmount: '1,00',
    maxAmount: '500,00',
    f0_key: 'pratica',
    f0_label: 'Numero pratica',
    f0_type: 'text',
    f0_required: '1',
    f0_maxLength: '20',
    f1_key: 'documento',
    f1_label: 'Documento richiesto',
    f1_type: 'select',
    f1_required: '1',
    f1_options: "Carta d'identità\nCertificato anagrafico",
    f2_key: 'data_richiesta',
    f2_label: 'Data della richiesta',
    f2_type: 'date',
  };

  const positionsOfA = () =>
    ctx
      .db('positions')
      .where({ ente_id: world.a.ente.id })
      .andWhere('position_id', 'like', 'SPONT-%')
      .select('id', 'position_id', 'status', 'description');

  /** A citizen on the public form, ready to post (cookie and token in hand). */
  async function citizenOnForm(): Promise<{ citizen: PortalClient; page: PortalResponse }> {
    const citizen = new PortalClient(server.url);
    const page = await citizen.get(formPath);
    expect(page.status, page.text).to.equal(200);
    return { citizen, page };
  }

  function payer(page: PortalResponse, extra: Record<string, string> = {}): Record<string, string> {
    return {
      submission: submissionOf(page),
      fiscalCode: PAYER_CF,
      fullName: 'Mario Rossi',
      email: 'mario.rossi@example.org',
      amount: '16,00',
      x_pratica: 'PR-2024-77',
      x_documento: 'Certificato anagrafico',
      x_data_richiesta: '2024-05-02',
      ...extra,
    };
  }

  before(async () => {
    server = await startPortalServer(ctx);
    world = await seedPortalWorld(ctx);
    formPath = `/pay/spontaneo/${world.a.ente.fiscalCode}/TARI`;
    // Ente B has a form too, but not enabled: the public pages must not offer it.
    await ctx.store.spontaneousForms.save({
      serviceId: world.b.service.id,
      title: 'Modulo di B non attivo',
      instructions: null,
      fixedAmountCents: 1000,
      minAmountCents: null,
      maxAmountCents: null,
      fields: [],
      enabled: false,
    });
  });
  after(() => server?.close());

  describe('operator side', () => {
    it("lists the ente's services with the state of their form", async () => {
      const operator = await loggedIn(server.url, world.operatorA);
      const res = await operator.get('/portal/spontanei');
      expect(res.status).to.equal(200);
      expect(res.text).to.include('data-testid="spontaneous-services"');
      expect(res.text).to.include(`href="${configPath()}"`);
      expect(res.text).to.include('Non configurato');
      expect(res.text).not.to.include(`/portal/spontanei/${world.b.service.id}"`);
    });

    it('refuses a wrong configuration with Italian messages next to the inputs, saving nothing', async () => {
      const operator = await loggedIn(server.url, world.operatorA);
      await operator.get(configPath());
      const res = await operator.post(configPath(), {
        ...goodConfig,
        title: XSS,
        amountMode: 'fixed',
        fixedAmount: '',
        f1_key: 'pratica',
        f1_options: '',
      });
      expect(res.status).to.equal(400);
      expect(res.text).to.include('data-testid="spontaneous-config-errors"');
      expect(res.text).to.include('data-testid="field-error-fixedAmount"');
      expect(res.text).to.include('Due campi hanno lo stesso codice.');
      expect(res.text).to.include('Scrivi le scelte, una per riga');
      expect(res.text).to.include('&lt;script&gt;alert(1)&lt;/script&gt;').and.not.include(XSS);
      expect(await ctx.store.spontaneousForms.get(world.a.service.id)).to.equal(null);
    });

    it('saves the form as operator A, sets the service spontaneous and logs the change', async () => {
      const operator = await loggedIn(server.url, world.operatorA);
      const editor = await operator.get(configPath());
      expect(editor.status).to.equal(200);
      expect(editor.text).to.include('data-testid="spontaneous-config-form"');
      const res = await operator.post(configPath(), goodConfig);
      expect(res.status, res.text).to.equal(303);
      expect(res.location).to.equal(configPath());
      const after = await operator.get(res.location!);
      expect(after.text).to.include('Modulo salvato');
      expect(after.text).to.include('data-testid="spontaneous-public-link"');
      const form = await ctx.store.spontaneousForms.get(world.a.service.id);
      expect(form).to.include({
        title: 'Diritti di segreteria',
        enabled: true,
        fixedAmountCents: null,
        minAmountCents: 100,
        maxAmountCents: 50000,
      });
      expect(form!.fields.map((f) => f.key)).to.deep.equal(['pratica', 'documento', 'data_richiesta']);
      expect(form!.fields[1]).to.deep.include({
        type: 'select',
        required: true,
        options: ["Carta d'identità", 'Certificato anagrafico'],
      });
      expect((await ctx.store.services.getById(world.a.service.id))!.spontaneous).to.equal(true);
      const events = await ctx.store.events.listFor('service', world.a.service.id);
      const saved = events.find((e) => e.action === 'spontaneous_form_saved');
      expect(saved?.actor).to.equal(`portal:${world.operatorA.username}`);
      expect(saved?.toStatus).to.equal('enabled');
    });

    it("answers 404 to operator B on ente A's service, by GET and by POST", async () => {
      const operator = await loggedIn(server.url, world.operatorB);
      const page = await operator.get(configPath());
      expect(page.status).to.equal(404);
      expect(page.text).not.to.include('Diritti di segreteria');
      const post = await operator.post(configPath(), { ...goodConfig, title: 'Preso da B' });
      expect(post.status).to.equal(404);
      expect((await ctx.store.spontaneousForms.get(world.a.service.id))!.title).to.equal(
        'Diritti di segreteria',
      );
      expect((await operator.get('/portal/spontanei/999999999')).status).to.equal(404);
    });

    it('refuses a configuration posted without its CSRF token (403)', async () => {
      const operator = await loggedIn(server.url, world.operatorA);
      await operator.get(configPath());
      const res = await operator.post(configPath(), { ...goodConfig, title: 'Senza token' }, { csrf: false });
      expect(res.status).to.equal(403);
      expect((await ctx.store.spontaneousForms.get(world.a.service.id))!.title).to.equal(
        'Diritti di segreteria',
      );
    });

    it('lets an admin choose the ente', async () => {
      const admin = await loggedIn(server.url, world.admin);
      const none = await admin.get('/portal/spontanei');
      expect(none.status).to.equal(200);
      expect(none.text).to.include('Scegli un ente');
      const res = await admin.get(`/portal/spontanei?ente=${world.b.ente.fiscalCode}`);
      expect(res.text).to.include(`/portal/spontanei/${world.b.service.id}"`);
      expect(res.text).to.include('Disattivato');
    });
  });

  describe('citizen side', () => {
    it('lists only the enabled forms', async () => {
      const citizen = new PortalClient(server.url);
      const res = await citizen.get('/pay/spontaneo');
      expect(res.status).to.equal(200);
      expect(res.text).to.include('data-testid="spontaneous-list"');
      expect(res.text).to.include(`href="${formPath}"`);
      expect(res.text).to.include('Diritti di segreteria');
      expect(res.text).not.to.include('Modulo di B non attivo');
      expect((await citizen.get(`/pay/spontaneo/${world.a.ente.fiscalCode}`)).text).to.include(
        'Diritti di segreteria',
      );
      expect((await citizen.get(`/pay/spontaneo/${world.b.ente.fiscalCode}`)).status).to.equal(404);
      expect((await citizen.get(`/pay/spontaneo/${world.b.ente.fiscalCode}/TARI`)).status).to.equal(404);
    });

    it('shows the form with the configured fields and the two choices', async () => {
      const { page } = await citizenOnForm();
      expect(page.text).to.include('data-testid="spontaneous-form"');
      expect(page.text).to.include('for="x_pratica"').and.include('id="x_pratica"');
      expect(page.text).to.include('<option value="Certificato anagrafico"');
      expect(page.text).to.include('type="date"');
      expect(page.text).to.include('data-testid="pay-online"').and.include('data-testid="get-notice"');
      expect(page.headers.getSetCookie().join(';')).to.match(/ppay_spont=.*HttpOnly/i);
      expect(page.headers.getSetCookie().join(';')).to.match(/Path=\/pay\/spontaneo/);
    });

    it('refuses a submission without a matching CSRF pair (403) and creates nothing', async () => {
      const before = (await positionsOfA()).length;
      const { citizen, page } = await citizenOnForm();
      const none = await citizen.post(formPath, { ...payer(page), mode: 'notice' }, { csrf: false });
      expect(none.status).to.equal(403);
      const wrong = await citizen.post(formPath, { ...payer(page), mode: 'notice', _csrf: 'x'.repeat(43) });
      expect(wrong.status).to.equal(403);
      // The right token without its cookie (another visitor's page) is refused too.
      const stranger = new PortalClient(server.url);
      const stolen = await stranger.post(formPath, { ...payer(page), mode: 'notice', _csrf: citizen.csrf });
      expect(stolen.status).to.equal(403);
      expect((await positionsOfA()).length).to.equal(before);
    });

    it('answers 400 with Italian messages and the typed values kept, escaped', async () => {
      const { citizen, page } = await citizenOnForm();
      const res = await citizen.post(formPath, {
        ...payer(page, { fiscalCode: 'RSSMRA85T10A562X', fullName: XSS, amount: '9999,00', x_pratica: '' }),
        mode: 'notice',
      });
      expect(res.status).to.equal(400);
      expect(res.text).to.include('data-testid="spontaneous-error"');
      expect(res.text).to.include('Codice fiscale non valido');
      expect(res.text).to.include('Importo fuori dai limiti');
      expect(res.text).to.include('data-testid="field-error-x_pratica"');
      expect(res.text).to.include('value="&lt;script&gt;alert(1)&lt;/script&gt;"').and.not.include(XSS);
      expect(res.text).to.include('value="RSSMRA85T10A562X"');
    });

    it('"Genera avviso" creates one position with the metadata and links a PDF that downloads', async () => {
      const before = await positionsOfA();
      const { citizen, page } = await citizenOnForm();
      const fields = { ...payer(page), mode: 'notice' };
      const res = await citizen.post(formPath, fields);
      expect(res.status, res.text).to.equal(200);
      expect(res.text).to.include('data-testid="spontaneous-notice"');
      const created = (await positionsOfA()).filter((p) => !before.some((b) => b.id === p.id));
      expect(created).to.have.length(1);
      const position = (await ctx.store.positions.findById(Number(created[0]!.id)))!;
      expect(position.positionId).to.match(/^SPONT-\d{8}-[0-9a-f]{16}$/);
      expect(position.description).to.equal(
        'Diritti di segreteria: PR-2024-77 - Certificato anagrafico - 2024-05-02',
      );
      expect(position.debtor).to.include({ fiscalCode: PAYER_CF, fullName: 'Mario Rossi', type: 'F' });
      const [option] = position.options;
      expect(option).to.include({ amountCents: 1600, installment: 0 });
      expect(option!.transfers[0]).to.include({ iban: world.a.service.iban, category: '9/0101108TS/' });
      expect(res.text).to.include(option!.noticeNumber!);
      expect((await ctx.store.positionExtras.get(position.id)).metadata).to.deep.equal([
        { key: 'pratica', value: 'PR-2024-77' },
        { key: 'documento', value: 'Certificato anagrafico' },
        { key: 'data_richiesta', value: '2024-05-02' },
      ]);
      const link = pdfLinkOf(res);
      expect(link).to.equal(
        `/pay/avviso/${world.a.ente.fiscalCode}/${option!.noticeNumber}.pdf?debtor=${PAYER_CF}`,
      );
      const pdf = await citizen.get(link);
      expect(pdf.status).to.equal(200);
      expect(pdf.headers.get('content-type')).to.match(/^application\/pdf/);
      expect(pdf.body.subarray(0, 5).toString()).to.equal('%PDF-');
      // The same form posted again (a double click) makes no second position.
      const again = await citizen.post(formPath, fields);
      expect(again.status).to.equal(200);
      expect((await positionsOfA()).length).to.equal(before.length + 1);
      const events = await ctx.store.events.listFor('position', position.id);
      expect(events.map((e) => e.actor)).to.include('citizen:spontaneous');
    });

    it('"Paga online" goes to the checkout and, once paid, the outcome page says so', async () => {
      const { citizen, page } = await citizenOnForm();
      const res = await citizen.post(formPath, { ...payer(page, { amount: '20' }), mode: 'online' });
      expect(res.status, res.text).to.equal(303);
      const checkoutUrl = res.headers.get('location')!;
      expect(checkoutUrl).to.match(new RegExp(`^${server.url}/emulator/checkout/`));
      const paid = await payOnCheckout(checkoutUrl);
      expect(paid.status, paid.text).to.equal(303);
      const done = await citizen.get(paid.location!);
      expect(done.status).to.equal(303);
      expect(done.location).to.match(/^\/pay\/spontaneo\/esito\/[0-9a-f-]{36}\?/);
      const outcome = await citizen.get(done.location!);
      expect(outcome.status).to.equal(200);
      expect(outcome.text).to.include('data-testid="spontaneous-outcome"');
      expect(outcome.text).to.include('Pagamento completato');
      const sessionId = /esito\/([0-9a-f-]{36})/.exec(done.location!)![1]!;
      const session = (await ctx.store.paymentSessions.get(sessionId))!;
      expect(session.status).to.equal('COMPLETED');
      const position = (await ctx.store.positions.findById(session.positionId))!;
      expect(position.status).to.equal('PAID');
      expect(position.options[0]!.amountCents).to.equal(2000);
    });

    it('does not trust the query string: an unpaid position is not "completed" with outcome=OK', async () => {
      const { citizen, page } = await citizenOnForm();
      const res = await citizen.post(formPath, { ...payer(page), mode: 'online' });
      expect(res.status).to.equal(303);
      const session = await ctx
        .db('payment_sessions')
        .whereNull('client_id')
        .orderBy('created_at', 'desc')
        .first<{ id: string }>('id');
      const outcome = await citizen.get(`/pay/spontaneo/esito/${session!.id}?outcome=OK`);
      expect(outcome.status).to.equal(200);
      expect(outcome.text).to.include('Pagamento non completato').and.not.include('Pagamento completato');
      expect(outcome.text).to.include('data-testid="notice-pdf"');
      expect(
        (await citizen.get('/pay/spontaneo/esito/00000000-0000-4000-8000-000000000000')).status,
      ).to.equal(404);
    });

    it('keeps the position and offers its notice (503) when the node is unavailable', async () => {
      const before = (await positionsOfA()).length;
      server.redirect.access.attach(null, server.url);
      try {
        const { citizen, page } = await citizenOnForm();
        const res = await citizen.post(formPath, { ...payer(page), mode: 'online' });
        expect(res.status).to.equal(503);
        expect(res.text).to.include('data-testid="spontaneous-notice"');
        const pdf = await citizen.get(pdfLinkOf(res));
        expect(pdf.status).to.equal(200);
      } finally {
        server.redirect.access.attach(server.node, server.url);
      }
      expect((await positionsOfA()).length).to.equal(before + 1);
    });
  });
});

// The portal's positions through HTTP against the whole app on every database of the matrix: manual
// entry (single payment and installments with several beneficiaries), field errors and escaping,
// the detail page with its timeline (a receipt applied through paSendRT's use case), edit, cancel,
// and what another ente's operator and a form without its CSRF token are refused.

import { expect } from 'chai';
import { forEachDatabase, TEST_IBAN, TEST_POSTAL_IBAN } from '../support/db.ts';
import {
  loggedIn,
  seedPortalWorld,
  startPortalServer,
  type PortalClient,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import { receiveReceipt } from '../../src/app/pagopa/receipts.ts';
import type { AmountCents } from '../../src/domain/money.ts';
import type { StoredPosition } from '../../src/db/repositories/positions.ts';

const XSS = '<script>alert(1)</script>';
const DEBTOR = 'RSSMRA85T10A562S';
let sequence = 0;
const uid = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;

function singleFields(extra: Record<string, string> = {}): Record<string, string> {
  return {
    service: 'TARI',
    positionId: uid('MAN'),
    description: 'TARI 2026 acconto',
    debtorType: 'F',
    debtorFiscalCode: DEBTOR,
    debtorFullName: 'Mario Rossi',
    debtorEmail: 'mario.rossi@example.org',
    debtorCity: 'Torino',
    plan: 'single',
    opt0_amount: '120,50',
    opt0_dueDate: '2027-01-31',
    ...extra,
  };
}

function rowIdOf(location: string | null): number {
  const match = /^\/portal\/posizioni\/(\d+)$/.exec(location ?? '');
  if (!match) throw new Error(`not a position page: ${location}`);
  return Number(match[1]);
}

forEachDatabase('portal: positions (manual entry, detail, timeline, edit, cancel)', (ctx) => {
  let server: PortalServer;
  let world: PortalWorld;
  let opA: PortalClient;
  let opB: PortalClient;

  before(async () => {
    server = await startPortalServer(ctx);
    world = await seedPortalWorld(ctx);
    opA = await loggedIn(server.url, world.operatorA);
    opB = await loggedIn(server.url, world.operatorB);
  });
  after(() => server.close());

  async function stored(id: number): Promise<StoredPosition> {
    const position = await ctx.store.positions.findById(id);
    if (!position) throw new Error(`no position ${id}`);
    return position;
  }

  /** Creates a position through the form as operator A; returns its row id. */
  async function create(fields: Record<string, string> = singleFields()): Promise<number> {
    await opA.get('/portal/posizioni/nuova');
    const res = await opA.post('/portal/posizioni', fields);
    expect(res.status, res.text.slice(0, 2000)).to.equal(303);
    return rowIdOf(res.location);
  }

  /** Pays the single option of a position as the node would (paSendRT). */
  async function pay(position: StoredPosition): Promise<void> {
    const option = position.options[0]!;
    const receiptId = uid('rcpt').replace(/-/g, '');
    await receiveReceipt(ctx.store, {
      source: 'paSendRT',
      caller: {
        enteFiscalCode: world.a.ente.fiscalCode,
        brokerFiscalCode: world.a.broker.fiscalCode,
        stationId: world.a.station.stationId,
      },
      creditorFiscalCode: world.a.ente.fiscalCode,
      iuv: option.iuv,
      receiptId,
      noticeNumber: option.noticeNumber,
      outcome: 'OK',
      amountCents: option.amountCents as AmountCents,
      paymentDateTime: '2026-11-25T10:29:00',
      pspId: 'TESTPSP01',
      document: `<receipt><receiptId>${receiptId}</receiptId></receipt>`,
    });
  }

  it('shows the entry form with the ente, its services and a CSRF token', async () => {
    const res = await opA.get('/portal/posizioni/nuova');
    expect(res.status).to.equal(200);
    expect(res.text).to.include('data-testid="position-form"').and.include('name="_csrf"');
    expect(res.text).to.include(world.a.ente.fiscalCode).and.not.include(world.b.ente.fiscalCode);
    expect(res.text).to.include('<option value="TARI"');
    expect(res.text)
      .to.include('for="opt0_amount"')
      .and.include('id="opt3_amount"')
      .and.not.include('id="opt4_amount"');
    const more = await opA.get('/portal/posizioni/nuova?rate=6');
    expect(more.text).to.include('id="opt6_amount"').and.not.include('id="opt7_amount"');
  });

  it('creates a single payment from the form, with the ente as beneficiary by default, and logs who did it', async () => {
    const fields = singleFields();
    const id = await create(fields);
    const position = await stored(id);
    expect(position.enteId).to.equal(world.a.ente.id);
    expect(position.positionId).to.equal(fields.positionId);
    expect(position.status).to.equal('VALID');
    expect(position.debtor).to.deep.include({
      fiscalCode: DEBTOR,
      email: 'mario.rossi@example.org',
      city: 'Torino',
    });
    const [option] = position.options;
    expect(option).to.deep.include({ installment: 0, amountCents: 12050, dueDate: '2027-01-31' });
    expect(option?.transfers.map((t) => [t.enteFiscalCode, t.iban, t.amountCents, t.category])).to.deep.equal(
      [[world.a.ente.fiscalCode, TEST_IBAN, 12050, '9/0101108TS/']],
    );
    const events = await ctx.db('events').where({ entity_type: 'position', entity_id: String(id) });
    expect(
      events.map((e: { action: string; actor: string; cause: string }) => [e.action, e.actor, e.cause]),
    ).to.deep.equal([['created', `portal:${world.operatorA.username}`, 'portal: manual entry']]);

    const page = await opA.get(`/portal/posizioni/${id}`);
    expect(page.status).to.equal(200);
    expect(page.text)
      .to.include('data-testid="position-detail"')
      .and.include('data-testid="position-status"');
    expect(page.text).to.include(`data-testid="notice-number">${option?.noticeNumber}<`);
    expect(page.text).to.include(`Codici avviso: ${option?.noticeNumber}`);
    expect(page.text).to.include(`/portal/posizioni/${id}/avviso.pdf?rata=0`);
    expect(page.text).not.to.include('ricevuta.pdf');
    expect(page.text).to.include('data-testid="edit-link"').and.include('data-testid="cancel-form"');
    expect(page.text).to.include('data-confirm="Annullare la posizione');
  });

  it('generates the position id when left blank', async () => {
    const id = await create(singleFields({ positionId: '' }));
    expect((await stored(id)).positionId).to.match(/^PORTALE-\d{8}-[A-Z0-9]{8}$/);
  });

  it('makes one position of a form with a blank id submitted twice (double click, reload)', async () => {
    const form = await opA.get('/portal/posizioni/nuova');
    const generatedId = /name="generatedId"\s+value="([^"]+)"/.exec(form.text)?.[1] ?? '';
    expect(generatedId).to.match(/^PORTALE-\d{8}-[A-Z0-9]{8}$/);
    const fields = { ...singleFields({ positionId: '' }), generatedId };
    const first = await opA.post('/portal/posizioni', fields);
    const second = await opA.post('/portal/posizioni', fields);
    expect(first.status).to.equal(303);
    expect(second.status).to.equal(303);
    expect(second.location).to.equal(first.location);
    const rows = await ctx.db('positions').where({ ente_id: world.a.ente.id, position_id: generatedId });
    expect(rows).to.have.length(1);
  });

  it('creates an installment plan with a second beneficiary, ignoring blank blocks', async () => {
    const beneficiary = (block: number, amount: string) => ({
      [`opt${block}_tr2_enteFiscalCode`]: world.b.ente.fiscalCode,
      [`opt${block}_tr2_iban`]: TEST_POSTAL_IBAN,
      [`opt${block}_tr2_amount`]: amount,
      [`opt${block}_tr2_category`]: '9/0201111TS/',
      [`opt${block}_tr2_remittance`]: 'Quota provinciale',
    });
    const id = await create(
      singleFields({
        plan: 'installments',
        opt0_amount: '',
        opt0_dueDate: '',
        opt1_amount: '60',
        opt1_dueDate: '31/01/2027',
        ...beneficiary(1, '5,00'),
        opt3_amount: '60.50',
        opt3_dueDate: '2027-03-31',
        ...beneficiary(3, '5'),
      }),
    );
    const position = await stored(id);
    const options = [...position.options].sort((a, b) => a.installment - b.installment);
    expect(options.map((o) => [o.installment, o.amountCents, o.dueDate])).to.deep.equal([
      [1, 6000, '2027-01-31'],
      [2, 6050, '2027-03-31'],
    ]);
    expect(options[1]?.transfers.map((t) => [t.enteFiscalCode, t.amountCents, t.postal])).to.deep.equal([
      [world.a.ente.fiscalCode, 5550, false],
      [world.b.ente.fiscalCode, 500, true],
    ]);
    const page = await opA.get(`/portal/posizioni/${id}`);
    expect(page.text.match(/data-testid="notice-number"/g)).to.have.length(2);
    expect(page.text).to.include('avviso.pdf?rata=2').and.include('Quota provinciale');
  });

  it('shows the form again with the values kept and an Italian error on each wrong field', async () => {
    const before = await ctx
      .db('positions')
      .where({ ente_id: world.a.ente.id })
      .count<{ n: number | string }[]>({ n: '*' });
    await opA.get('/portal/posizioni/nuova');
    const res = await opA.post(
      '/portal/posizioni',
      singleFields({
        debtorFiscalCode: 'RSSMRA85T10A562X',
        opt0_amount: '12,345',
        debtorFullName: 'Anna Bianchi',
      }),
    );
    expect(res.status).to.equal(400);
    expect(res.text).to.include('data-testid="position-error-summary"').and.include('role="alert"');
    expect(res.text).to.include('href="#debtorFiscalCode"').and.include('href="#opt0_amount"');
    expect(res.text).to.include('id="debtorFiscalCode-error"').and.include('id="opt0_amount-error"');
    expect(res.text).to.include('value="Anna Bianchi"').and.include('value="RSSMRA85T10A562X"');
    const after = await ctx
      .db('positions')
      .where({ ente_id: world.a.ente.id })
      .count<{ n: number | string }[]>({ n: '*' });
    expect(Number(after[0]?.n)).to.equal(Number(before[0]?.n));
  });

  it("maps the domain's refusals to the field: e-mail, transfers' sum, duplicate id", async () => {
    await opA.get('/portal/posizioni/nuova');
    const email = await opA.post('/portal/posizioni', singleFields({ debtorEmail: 'mario-at-example' }));
    expect(email.status).to.equal(400);
    expect(email.text).to.include('id="debtorEmail-error"').and.include('Indirizzo e-mail non valido');

    const sum = await opA.post(
      '/portal/posizioni',
      singleFields({
        opt0_tr1_amount: '100',
        opt0_tr2_enteFiscalCode: world.b.ente.fiscalCode,
        opt0_tr2_iban: TEST_POSTAL_IBAN,
        opt0_tr2_amount: '10',
        opt0_tr2_category: '9/0201111TS/',
      }),
    );
    expect(sum.status).to.equal(400);
    expect(sum.text).to.include('id="opt0_transfers"').and.include('110,00').and.include('120,50');

    const fields = singleFields();
    await create(fields);
    await opA.get('/portal/posizioni/nuova');
    const duplicate = await opA.post('/portal/posizioni', { ...fields, description: 'Altro contenuto' });
    expect(duplicate.status).to.equal(409);
    expect(duplicate.text).to.include('id="positionId-error"').and.include('Esiste già una posizione');
  });

  it('escapes HTML typed in any field, on the detail page and in the form shown again', async () => {
    const id = await create(singleFields({ description: XSS, debtorFullName: XSS }));
    const page = await opA.get(`/portal/posizioni/${id}`);
    expect(page.text).to.include('&lt;script&gt;alert(1)&lt;/script&gt;').and.not.include(XSS);
    await opA.get('/portal/posizioni/nuova');
    const again = await opA.post('/portal/posizioni', singleFields({ debtorCity: XSS, opt0_amount: XSS }));
    expect(again.status).to.equal(400);
    expect(again.text).to.include('&lt;script&gt;alert(1)&lt;/script&gt;').and.not.include(XSS);
  });

  it('edits a position in place: same notice, new amount, an "updated" event by the user', async () => {
    const id = await create();
    const original = await stored(id);
    const form = await opA.get(`/portal/posizioni/${id}/modifica`);
    expect(form.status).to.equal(200);
    expect(form.text).to.include('value="120,50"').and.include(`value="${original.version}"`);
    const res = await opA.post(`/portal/posizioni/${id}/modifica`, {
      ...singleFields({ positionId: 'ignored', description: 'TARI 2026 saldo', opt0_amount: '99' }),
      version: String(original.version),
    });
    expect(res.status, res.text.slice(0, 2000)).to.equal(303);
    expect(res.location).to.equal(`/portal/posizioni/${id}`);
    const updated = await stored(id);
    expect(updated.positionId).to.equal(original.positionId);
    expect(updated.description).to.equal('TARI 2026 saldo');
    expect(updated.options.map((o) => [o.noticeNumber, o.amountCents])).to.deep.equal([
      [original.options[0]?.noticeNumber, 9900],
    ]);
    const events = await ctx
      .db('events')
      .where({ entity_type: 'position', entity_id: String(id), action: 'updated' });
    expect(events.map((e: { actor: string; cause: string }) => [e.actor, e.cause])).to.deep.equal([
      [`portal:${world.operatorA.username}`, 'portal: edit'],
    ]);
  });

  it('refuses an edit made on a stale page (the position changed meanwhile)', async () => {
    const id = await create();
    await opA.get(`/portal/posizioni/${id}/modifica`);
    const stale = await opA.post(`/portal/posizioni/${id}/modifica`, {
      ...singleFields({ opt0_amount: '1' }),
      version: '0',
    });
    expect(stale.status).to.equal(409);
    expect(stale.text).to.include('modificata nel frattempo');
    expect((await stored(id)).options[0]?.amountCents).to.equal(12050);
  });

  it('cancels with a reason (required), then offers neither edit nor cancel', async () => {
    const id = await create();
    await opA.get(`/portal/posizioni/${id}`);
    const noReason = await opA.post(`/portal/posizioni/${id}/annulla`, { reason: '' });
    expect(noReason.status).to.equal(400);
    expect(noReason.text).to.include('id="reason-error"');
    expect((await stored(id)).status).to.equal('VALID');

    const res = await opA.post(`/portal/posizioni/${id}/annulla`, { reason: `Sgravio ${XSS}` });
    expect(res.status).to.equal(303);
    expect((await stored(id)).status).to.equal('CANCELLED');
    const page = await opA.get(`/portal/posizioni/${id}`);
    expect(page.text).to.include('data-status="CANCELLED"').and.include('annullata');
    expect(page.text).not.to.include('data-testid="edit-link"').and.not.include('data-testid="cancel-form"');
    expect(page.text).to.include('Sgravio &lt;script&gt;').and.not.include(XSS);
    const edit = await opA.get(`/portal/posizioni/${id}/modifica`);
    expect(edit.status).to.equal(409);
    expect(edit.text).to.include('Annullata');
  });

  it('shows the timeline of a paid position, and refuses to edit or cancel it', async () => {
    const id = await create();
    await opA.get(`/portal/posizioni/${id}/modifica`);
    const version = (await stored(id)).version;
    await opA.post(`/portal/posizioni/${id}/modifica`, {
      ...singleFields({ opt0_amount: '80' }),
      version: String(version),
    });
    await pay(await stored(id));
    expect((await stored(id)).status).to.equal('PAID');

    const page = await opA.get(`/portal/posizioni/${id}`);
    expect(page.text).to.include('data-testid="timeline"');
    const actions = [...page.text.matchAll(/data-testid="timeline-entry"\s+data-action="([^"]+)"/g)].map(
      (m) => m[1],
    );
    expect(actions.slice(0, 2)).to.deep.equal(['position:created', 'position:updated']);
    expect(actions).to.include.members([
      'receipt:received',
      'receipt:applied',
      'payment_option:status_changed',
      'position:status_changed',
    ]);
    expect(actions.indexOf('receipt:received')).to.be.lessThan(actions.indexOf('position:status_changed'));
    expect(page.text).to.include(`portal:${world.operatorA.username}`).and.include('Da pagare → Pagata');
    expect(page.text).to.match(
      /<time datetime="[^"]+" class="fw-semibold"\s*>\s*\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}\s*<\/time\s*>/,
    );
    // The receipt's paymentDateTime has no zone: it is Italian time already and shown as written.
    expect(page.text).to.include('25/11/2026 10:29');
    expect(page.text)
      .to.include('data-testid="receipt-row"')
      .and.include(`/portal/posizioni/${id}/ricevuta.pdf`);
    expect(page.text).not.to.include('data-testid="edit-link"').and.not.include('data-testid="cancel-form"');

    expect((await opA.get(`/portal/posizioni/${id}/modifica`)).status).to.equal(409);
    const cancel = await opA.post(`/portal/posizioni/${id}/annulla`, { reason: 'errore' });
    expect(cancel.status).to.equal(409);
    expect(cancel.text).to.include('data-testid="cancel-error"').and.include('non può essere annullata');
    expect((await stored(id)).status).to.equal('PAID');
  });

  it("answers 404 to another ente's operator on every position URL, and changes nothing", async () => {
    const id = await create();
    await opB.get('/portal/');
    expect((await opB.get(`/portal/posizioni/${id}`)).status).to.equal(404);
    expect((await opB.get(`/portal/posizioni/${id}/modifica`)).status).to.equal(404);
    const edit = await opB.post(`/portal/posizioni/${id}/modifica`, {
      ...singleFields({ opt0_amount: '1' }),
      version: '1',
    });
    expect(edit.status).to.equal(404);
    const cancel = await opB.post(`/portal/posizioni/${id}/annulla`, { reason: 'mine now' });
    expect(cancel.status).to.equal(404);
    const position = await stored(id);
    expect(position.status).to.equal('VALID');
    expect(position.options[0]?.amountCents).to.equal(12050);
    expect((await opB.get('/portal/posizioni/999999999')).status).to.equal(404);
  });

  it("creates in the operator's own ente whatever ente the form names; an admin chooses", async () => {
    await opB.get('/portal/posizioni/nuova');
    const res = await opB.post('/portal/posizioni', singleFields({ ente: world.a.ente.fiscalCode }));
    expect(res.status).to.equal(303);
    expect((await stored(rowIdOf(res.location))).enteId).to.equal(world.b.ente.id);

    const admin = await loggedIn(server.url, world.admin);
    const form = await admin.get(`/portal/posizioni/nuova?ente=${world.b.ente.fiscalCode}`);
    expect(form.text).to.include(`name="ente" value="${world.b.ente.fiscalCode}"`);
    const made = await admin.post('/portal/posizioni', singleFields({ ente: world.b.ente.fiscalCode }));
    expect(made.status).to.equal(303);
    const position = await stored(rowIdOf(made.location));
    expect(position.enteId).to.equal(world.b.ente.id);
    expect((await admin.get(`/portal/posizioni/${position.id}`)).status).to.equal(200);
  });

  it('refuses every position form posted without its CSRF token', async () => {
    const fields = singleFields();
    await opA.get('/portal/posizioni/nuova');
    const created = await opA.post('/portal/posizioni', fields, { csrf: false });
    expect(created.status).to.equal(403);
    expect(await ctx.store.positions.findByPositionId(world.a.ente.id, fields.positionId!)).to.equal(null);
    const id = await create();
    const cancel = await opA.post(`/portal/posizioni/${id}/annulla`, { reason: 'x' }, { csrf: false });
    expect(cancel.status).to.equal(403);
    const edit = await opA.post(
      `/portal/posizioni/${id}/modifica`,
      { ...fields, version: '1' },
      { csrf: false },
    );
    expect(edit.status).to.equal(403);
    expect((await stored(id)).status).to.equal('VALID');
  });
});

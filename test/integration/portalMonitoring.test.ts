// The portal's monitoring pages through HTTP against the whole app on the suite's database: the
// positions and payments searches (each filter, paging, scoping to the operator's ente whatever the
// query string says), reconciliation (flows, anomalies and their manual resolution) and the outbox
// with its "Reinvia". Payments are real: the emulated PSP pays a notice through the connector.

import { expect } from 'chai';
import { forEachDatabase, randomEnteFiscalCode, type SeededEnte } from '../support/db.ts';
import {
  loggedIn,
  seedPortalWorld,
  startPortalServer,
  type PortalClient,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import { allocateNotices, CHANGE } from './helpers.ts';
import { flowDocument, linesOf } from './reconciliationSupport.ts';
import { validateDebtPosition } from '../../src/domain/position.ts';
import type { PositionStatus } from '../../src/domain/positionState.ts';
import { italianDate } from '../../src/domain/payability.ts';
import { payNotice } from '../../src/emulator/index.ts';
import { buildFlussoRiversamento } from '../../src/pagopa/flussoRiversamento.ts';
import { reconcileEnte } from '../../src/app/reconciliation/reconcile.ts';
import type { StoredPosition } from '../../src/db/repositories/positions.ts';
import type { Receipt } from '../../src/db/repositories/receipts.ts';
import { TEST_IBAN } from '../support/db.ts';

const SCRIPT = '<script>alert(1)</script>';
const ESCAPED_SCRIPT = '&lt;script&gt;alert(1)&lt;/script&gt;';

interface Debtor {
  fiscalCode: string;
  fullName: string;
}

/** "301000000000012345" → "3010 0000 0000 1234 5", as a printed notice groups it. */
function spaced(noticeNumber: string): string {
  return noticeNumber.replace(/(.{4})/g, '$1 ').trim();
}

function rowsOf(text: string, testId: string): string[] {
  return text.split(`data-testid="${testId}"`).slice(1);
}

forEachDatabase('portal: monitoring (positions, payments, reconciliation, outbox)', (ctx) => {
  let server: PortalServer;
  let world: PortalWorld;
  let opA: PortalClient;
  let opB: PortalClient;
  let admin: PortalClient;
  const debtorA: Debtor = { fiscalCode: randomEnteFiscalCode(), fullName: 'Giuseppina Verdiana' };
  const debtorB: Debtor = { fiscalCode: randomEnteFiscalCode(), fullName: 'Zenobia Brunetti' };
  const posIds = {
    a1: `MONA1-${process.pid}`,
    aScript: `MONA2-${process.pid}`,
    aExpired: `MONA3-${process.pid}`,
    aPlan: `MONA4-${process.pid}`,
    b1: `MONB1-${process.pid}`,
  };
  const positions: Record<string, StoredPosition> = {};
  let receipt: Receipt;
  const today = italianDate(new Date());

  async function insertPosition(
    seeded: SeededEnte,
    positionId: string,
    debtor: Debtor,
    opts: { status?: PositionStatus; installments?: number } = {},
  ): Promise<StoredPosition> {
    const enteFiscalCode = seeded.ente.fiscalCode;
    const option = (installment: number, amountCents: number) => ({
      installment,
      amountCents,
      dueDate: '2030-12-31',
      transfers: [{ enteFiscalCode, amountCents, iban: TEST_IBAN, category: '9/0101108TS/' }],
    });
    const options =
      (opts.installments ?? 0) > 0
        ? Array.from({ length: opts.installments ?? 0 }, (_, i) => option(i + 1, 10_000))
        : [option(0, 4_560)];
    const draft = validateDebtPosition(
      {
        positionId,
        description: `Tassa rifiuti ${positionId}`,
        debtor: { type: 'G', fiscalCode: debtor.fiscalCode, fullName: debtor.fullName },
        options,
      },
      { enteFiscalCode },
    );
    const notices = await allocateNotices(ctx.store, seeded.ente.id, draft.options.length);
    return ctx.store.positions.insert(seeded.ente.id, seeded.service.id, draft, {
      notices,
      ...CHANGE,
      ...(opts.status ? { status: opts.status } : {}),
    });
  }

  const noticeOf = (p: StoredPosition) => p.options[0]?.noticeNumber ?? '';

  before(async () => {
    server = await startPortalServer(ctx);
    world = await seedPortalWorld(ctx);
    positions.a1 = await insertPosition(world.a, posIds.a1, debtorA);
    positions.aScript = await insertPosition(world.a, posIds.aScript, {
      fiscalCode: randomEnteFiscalCode(),
      fullName: `${SCRIPT} Rossi`,
    });
    positions.aExpired = await insertPosition(world.a, posIds.aExpired, debtorA, { status: 'EXPIRED' });
    positions.aPlan = await insertPosition(world.a, posIds.aPlan, debtorA, { installments: 3 });
    positions.b1 = await insertPosition(world.b, posIds.b1, debtorB);
    // The emulated PSP pays A's first position through the connector (a real receipt).
    const paid = await payNotice({
      store: ctx.store,
      connectorUrl: server.url,
      enteFiscalCode: world.a.ente.fiscalCode,
      noticeNumber: noticeOf(positions.a1),
    });
    expect(paid.ok, JSON.stringify(paid.steps)).to.equal(true);
    const receipts = await ctx.store.receipts.listByIuv(world.a.ente.id, positions.a1.options[0]!.iuv);
    receipt = receipts.at(-1)!;
    const paidB = await payNotice({
      store: ctx.store,
      connectorUrl: server.url,
      enteFiscalCode: world.b.ente.fiscalCode,
      noticeNumber: noticeOf(positions.b1),
    });
    expect(paidB.ok, JSON.stringify(paidB.steps)).to.equal(true);
    opA = await loggedIn(server.url, world.operatorA);
    opB = await loggedIn(server.url, world.operatorB);
    admin = await loggedIn(server.url, world.admin);
  });
  after(() => server.close());

  describe('positions search', () => {
    it("lists only the operator's own positions, whatever ente the query string names", async () => {
      const res = await opA.get('/portal/posizioni');
      expect(res.status).to.equal(200);
      expect(res.text).to.include('data-testid="positions-table"').and.include('data-testid="pagination"');
      for (const id of [posIds.a1, posIds.aScript, posIds.aExpired, posIds.aPlan])
        expect(res.text).to.include(id);
      expect(res.text).not.to.include(posIds.b1);
      expect(res.text).to.include(`href="/portal/posizioni/${positions.a1!.id}"`);
      expect(res.text).to.include('href="/portal/posizioni/nuova"');

      const sneaky = await opB.get(`/portal/posizioni?ente=${world.a.ente.fiscalCode}`);
      expect(sneaky.status).to.equal(200);
      expect(sneaky.text).to.include(posIds.b1);
      for (const id of [posIds.a1, posIds.aScript, posIds.aExpired, posIds.aPlan])
        expect(sneaky.text).not.to.include(id);
      expect(sneaky.text).not.to.include(debtorA.fullName);
    });

    it('finds a position by notice number typed with spaces, and by IUV', async () => {
      const byNotice = await opA.get(
        `/portal/posizioni?avviso=${encodeURIComponent(spaced(noticeOf(positions.aPlan!)))}`,
      );
      expect(rowsOf(byNotice.text, 'position-row')).to.have.length(1);
      expect(byNotice.text).to.include(posIds.aPlan);
      // Any option's notice number finds its position (here the third installment's).
      const third = positions.aPlan!.options.find((o) => o.installment === 3)!;
      const byInstallment = await opA.get(`/portal/posizioni?avviso=${third.noticeNumber}`);
      expect(rowsOf(byInstallment.text, 'position-row')).to.have.length(1);
      expect(byInstallment.text).to.include(posIds.aPlan).and.include('300,00 €');
      const byIuv = await opA.get(`/portal/posizioni?iuv=${positions.aExpired!.options[0]!.iuv}`);
      expect(rowsOf(byIuv.text, 'position-row')).to.have.length(1);
      expect(byIuv.text).to.include(posIds.aExpired);
      // Notice numbers are unique per ente only: B's, searched by A, never finds B's position.
      const other = await opA.get(`/portal/posizioni?avviso=${noticeOf(positions.b1!)}`);
      expect(other.text).not.to.include(posIds.b1);
      const none = await opA.get('/portal/posizioni?avviso=399999999999999999');
      expect(rowsOf(none.text, 'position-row')).to.have.length(0);
      expect(none.text).to.include('data-testid="no-results"');
    });

    it('filters by debtor (fiscal code or part of the name, any case), positionId, service and status', async () => {
      const byCode = await opA.get(`/portal/posizioni?debitore=${debtorA.fiscalCode}`);
      expect(rowsOf(byCode.text, 'position-row')).to.have.length(3);
      expect(byCode.text).not.to.include(posIds.aScript);
      const byName = await opA.get('/portal/posizioni?debitore=VERDIA');
      expect(rowsOf(byName.text, 'position-row')).to.have.length(3);
      const wildcard = await opA.get('/portal/posizioni?debitore=%25');
      expect(rowsOf(wildcard.text, 'position-row')).to.have.length(0);
      const byId = await opA.get(`/portal/posizioni?posizione=${posIds.aExpired}`);
      expect(rowsOf(byId.text, 'position-row')).to.have.length(1);
      const byStatus = await opA.get('/portal/posizioni?stato=EXPIRED');
      expect(rowsOf(byStatus.text, 'position-row')).to.have.length(1);
      expect(byStatus.text).to.include(posIds.aExpired).and.include('Scaduta');
      const paid = await opA.get('/portal/posizioni?stato=PAID');
      expect(rowsOf(paid.text, 'position-row')).to.have.length(1);
      expect(paid.text).to.include(posIds.a1).and.include('Pagata');
      const byService = await opA.get('/portal/posizioni?servizio=TARI');
      expect(rowsOf(byService.text, 'position-row')).to.have.length(4);
      const noService = await opA.get('/portal/posizioni?servizio=IMU');
      expect(rowsOf(noService.text, 'position-row')).to.have.length(0);
    });

    it('filters by creation date, in either date format, and refuses a date that is not one', async () => {
      const [y, m, d] = today.split('-');
      const italian = await opA.get(`/portal/posizioni?dal=${d}/${m}/${y}&al=${today}`);
      expect(rowsOf(italian.text, 'position-row')).to.have.length(4);
      const tomorrow = new Date(Date.parse(`${today}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      const later = await opA.get(`/portal/posizioni?dal=${tomorrow}`);
      expect(rowsOf(later.text, 'position-row')).to.have.length(0);
      const bad = await opA.get('/portal/posizioni?dal=31/02/2026');
      expect(bad.status).to.equal(400);
      expect(bad.text).to.include('role="alert"').and.include('Creata dal');
      expect(bad.text).to.include('value="31/02/2026"');
    });

    it('pages 50 at a time, newest first, keeping the filters in the links', async () => {
      const extra: string[] = [];
      for (let i = 0; i < 51; i++) {
        const id = `MONPAGE-${process.pid}-${String(i).padStart(2, '0')}`;
        extra.push(id);
        await insertPosition(world.b, id, debtorB);
      }
      const first = await opB.get(`/portal/posizioni?debitore=${debtorB.fiscalCode}`);
      expect(rowsOf(first.text, 'position-row')).to.have.length(50);
      expect(first.text).to.include('Risultati 1–50 di 52');
      expect(first.text).to.include(extra[50]!).and.not.include(posIds.b1);
      expect(first.text).to.include(`href="/portal/posizioni?debitore=${debtorB.fiscalCode}&amp;pagina=2"`);
      const second = await opB.get(`/portal/posizioni?debitore=${debtorB.fiscalCode}&pagina=2`);
      expect(rowsOf(second.text, 'position-row')).to.have.length(2);
      expect(second.text).to.include(posIds.b1).and.include(extra[0]!);
    });

    it('shows a debtor name with HTML in it escaped', async () => {
      const res = await opA.get(`/portal/posizioni?posizione=${posIds.aScript}`);
      expect(res.text).to.include(ESCAPED_SCRIPT);
      expect(res.text).not.to.include(SCRIPT);
      const echoed = await opA.get(`/portal/posizioni?debitore=${encodeURIComponent(SCRIPT)}`);
      expect(echoed.text).to.include(`value="${ESCAPED_SCRIPT}"`);
      expect(echoed.text).not.to.include(SCRIPT);
    });

    it('lets an admin see every ente, or choose one', async () => {
      const all = await admin.get('/portal/posizioni?stato=PAID');
      expect(all.text).to.include(posIds.a1).and.include(posIds.b1);
      const onlyA = await admin.get(`/portal/posizioni?stato=PAID&ente=${world.a.ente.fiscalCode}`);
      expect(onlyA.text).to.include(posIds.a1).and.not.include(posIds.b1);
    });
  });

  describe('payments search', () => {
    it("lists the operator's payments with their receipt, PSP and position, never another ente's", async () => {
      const res = await opA.get('/portal/pagamenti');
      expect(res.status).to.equal(200);
      const rows = rowsOf(res.text, 'payment-row');
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include(noticeOf(positions.a1!)).and.include(receipt.iuv).and.include('45,60 €');
      expect(rows[0])
        .to.include(receipt.receiptId)
        .and.include(receipt.pspId ?? 'no PSP');
      expect(rows[0]).to.include(`href="/portal/posizioni/${positions.a1!.id}"`);
      expect(rows[0]).to.include('Non rendicontato');
      const sneaky = await opB.get(`/portal/pagamenti?ente=${world.a.ente.fiscalCode}`);
      expect(rowsOf(sneaky.text, 'payment-row')).to.have.length(1);
      // Notice numbers and IUVs repeat across enti; receipt ids and debtors do not.
      expect(sneaky.text).to.include(debtorB.fullName).and.not.include(receipt.receiptId);
      expect(sneaky.text).not.to.include(debtorA.fullName);
    });

    it('filters by notice number, IUV, debtor, outcome, PSP and payment date', async () => {
      const count = async (query: string) =>
        rowsOf((await opA.get(`/portal/pagamenti?${query}`)).text, 'payment-row').length;
      expect(await count(`avviso=${encodeURIComponent(spaced(noticeOf(positions.a1!)))}`)).to.equal(1);
      expect(await count(`avviso=${noticeOf(positions.aExpired!)}`)).to.equal(0);
      expect(await count(`iuv=${receipt.iuv}`)).to.equal(1);
      expect(await count(`iuv=${positions.aPlan!.options[0]!.iuv}`)).to.equal(0);
      expect(await count(`pagatore=${debtorA.fiscalCode}`)).to.equal(1);
      expect(await count('pagatore=verdiana')).to.equal(1);
      expect(await count('pagatore=Brunetti')).to.equal(0);
      expect(await count('esito=OK')).to.equal(1);
      expect(await count('esito=KO')).to.equal(0);
      expect(await count(`psp=${receipt.pspId}`)).to.equal(1);
      expect(await count('psp=NOPSP')).to.equal(0);
      expect(await count(`dal=${today}&al=${today}`)).to.equal(1);
      expect(await count('al=2020-01-01')).to.equal(0);
      expect((await opA.get('/portal/pagamenti?esito=MAYBE')).status).to.equal(400);
    });
  });

  describe('reconciliation', () => {
    let flowRowId: number;
    let anomalyA: number;
    let anomalyB: number;
    const flowId = `${today}BCITITMM-${process.pid}`;

    before(async () => {
      const doc = flowDocument({
        flowId,
        flowDateTime: `${today}T08:00:00`,
        settlementDate: today,
        psp: receipt.pspId ?? 'BCITITMM',
        ente: world.a.ente.fiscalCode,
        payments: linesOf(receipt, world.a.ente.fiscalCode, today),
      });
      const stored = await ctx.store.reconciliationFlows.insertRevision(
        world.a.ente.id,
        doc,
        buildFlussoRiversamento(doc),
        CHANGE,
      );
      flowRowId = stored.flow.id;
      await reconcileEnte(ctx.store, world.a.ente, { asOf: today });
      const open = (enteId: number, subject: string) =>
        ctx.store.anomalies.open(
          {
            enteId,
            code: 'CREDIT_WITHOUT_FLOW',
            subjectKey: `credit|${subject}`,
            description: `bank credit ${subject} names flow X, which was not received`,
            flowId: `FLOW-${subject}`,
            pspId: null,
            iuv: null,
            iur: null,
            positionId: null,
            noticeNumber: null,
            amountCents: 12_345,
            expectedAmountCents: null,
          },
          CHANGE,
        );
      anomalyA = (await open(world.a.ente.id, 'ANOMA')).id;
      anomalyB = (await open(world.b.ente.id, 'ANOMB')).id;
    });

    it("shows the ente's flows, the payment's reconciliation state and the flow's lines", async () => {
      const page = await opA.get('/portal/riconciliazione');
      expect(page.status).to.equal(200);
      expect(page.text).to.include('data-testid="flows-table"').and.include(flowId);
      expect(page.text).to.include(`href="/portal/riconciliazione/flussi/${flowRowId}"`);
      const payments = await opA.get('/portal/pagamenti?riconciliazione=REPORTED');
      expect(rowsOf(payments.text, 'payment-row')).to.have.length(1);
      expect(payments.text).to.include(flowId);
      expect(
        rowsOf((await opA.get('/portal/pagamenti?riconciliazione=NOT_REPORTED')).text, 'payment-row'),
      ).to.have.length(0);
      const detail = await opA.get(`/portal/riconciliazione/flussi/${flowRowId}`);
      expect(detail.status).to.equal(200);
      expect(detail.text)
        .to.include('data-testid="flow-lines-table"')
        .and.include(receipt.iuv)
        .and.include('Abbinato');
      expect(detail.text).to.include(`href="/portal/posizioni/${positions.a1!.id}"`);
    });

    it("answers 404 for another ente's flow and never lists it", async () => {
      const res = await opB.get(`/portal/riconciliazione/flussi/${flowRowId}`);
      expect(res.status).to.equal(404);
      expect(res.text).not.to.include(flowId);
      const list = await opB.get(`/portal/riconciliazione?ente=${world.a.ente.fiscalCode}`);
      expect(list.text).not.to.include(flowId).and.not.include('FLOW-ANOMA');
      expect(list.text).to.include('FLOW-ANOMB');
      expect((await opB.get('/portal/riconciliazione/flussi/999999')).status).to.equal(404);
    });

    it('lists open anomalies in Italian', async () => {
      const res = await opA.get('/portal/riconciliazione');
      expect(res.text).to.include('data-testid="anomalies-table"');
      expect(res.text).to.include('Accredito in tesoreria senza flusso').and.include('FLOW-ANOMA');
      expect(res.text).to.include('123,45 €').and.not.include('FLOW-ANOMB');
    });

    it('refuses to resolve without CSRF, without a note, or for another ente', async () => {
      await opA.get('/portal/riconciliazione');
      const noCsrf = await opA.post(
        `/portal/riconciliazione/anomalie/${anomalyA}/risolvi`,
        { note: 'ok' },
        { csrf: false },
      );
      expect(noCsrf.status).to.equal(403);
      const noNote = await opA.post(`/portal/riconciliazione/anomalie/${anomalyA}/risolvi`, { note: '  ' });
      expect(noNote.status).to.equal(303);
      const back = await opA.get(noNote.location ?? '');
      expect(back.text).to.include('role="alert"').and.include('Scrivi una nota');
      await opB.get('/portal/riconciliazione');
      const other = await opB.post(`/portal/riconciliazione/anomalie/${anomalyA}/risolvi`, {
        note: 'not mine',
      });
      expect(other.status).to.equal(404);
      expect((await ctx.store.anomalies.getById(anomalyA))?.status).to.equal('OPEN');
    });

    it('resolves an anomaly with a note, in the event log with the user', async () => {
      await opA.get('/portal/riconciliazione');
      const res = await opA.post(`/portal/riconciliazione/anomalie/${anomalyA}/risolvi`, {
        note: `verificato con la tesoreria ${SCRIPT}`,
      });
      expect(res.status).to.equal(303);
      expect(res.location).to.equal(`/portal/riconciliazione?ente=${world.a.ente.fiscalCode}`);
      const resolved = await ctx.store.anomalies.getById(anomalyA);
      expect(resolved?.status).to.equal('RESOLVED');
      expect(resolved?.resolution).to.equal('MANUAL');
      const events = await ctx.db('events').where({
        entity_type: 'reconciliation_anomaly',
        entity_id: String(anomalyA),
        action: 'resolved_manually',
      });
      expect(events.map((e: { actor: string }) => e.actor)).to.deep.equal([
        `portal:${world.operatorA.username}`,
      ]);
      const page = await opA.get('/portal/riconciliazione?anomalie=tutte');
      expect(page.text).to.include('Risolta a mano').and.include(ESCAPED_SCRIPT).and.not.include(SCRIPT);
      const openOnly = await opA.get('/portal/riconciliazione');
      expect(openOnly.text).not.to.include('FLOW-ANOMA');
      expect((await ctx.store.anomalies.getById(anomalyB))?.status).to.equal('OPEN');
    });
  });

  describe('outbox', () => {
    const ids: Record<string, string> = {};

    before(async () => {
      const queue = async (key: string, ente: SeededEnte, positionId: string) => {
        const { message } = await ctx.store.outbox.enqueueOnce(`mon-${key}-${process.pid}`, {
          topic: 'notifyPayment',
          target: 1,
          payload: {
            notificationId: key,
            enteFiscalCode: ente.ente.fiscalCode,
            positionId,
            serviceCode: 'TARI',
          },
        });
        ids[key] = message.id;
      };
      await queue('deadA', world.a, 'OUTBOX-POS-A');
      await queue('pendingA', world.a, 'OUTBOX-POS-A2');
      await queue('deadB', world.b, 'OUTBOX-POS-B');
      await ctx.store.outbox.markDead(ids.deadA!, 'callback answered HTTP 500');
      await ctx.store.outbox.markDead(ids.deadB!, 'callback answered HTTP 500');
    });

    it("lists the ente's messages only, with a resend button on dead ones", async () => {
      const res = await opA.get('/portal/notifiche');
      expect(res.status).to.equal(200);
      expect(res.text).to.include('data-testid="outbox-table"');
      const rows = rowsOf(res.text, 'outbox-row');
      expect(rows).to.have.length(2);
      expect(res.text).to.include('OUTBOX-POS-A').and.not.include('OUTBOX-POS-B').and.not.include(ids.deadB!);
      const dead = rows.find((r) => r.includes(ids.deadA!))!;
      expect(dead).to.include('data-testid="resend-button"').and.include('callback answered HTTP 500');
      expect(rows.find((r) => r.includes(ids.pendingA!))).not.to.include('resend-button');
      const onlyDead = await opA.get('/portal/notifiche?stato=DEAD');
      expect(rowsOf(onlyDead.text, 'outbox-row')).to.have.length(1);
      const sneaky = await opB.get(`/portal/notifiche?ente=${world.a.ente.fiscalCode}`);
      expect(sneaky.text).to.include('OUTBOX-POS-B').and.not.include('OUTBOX-POS-A');
      const all = await admin.get('/portal/notifiche?stato=DEAD');
      expect(all.text).to.include('OUTBOX-POS-A').and.include('OUTBOX-POS-B');
    });

    it("refuses a resend without CSRF or of another ente's message", async () => {
      await opB.get('/portal/notifiche');
      const noCsrf = await opB.post(`/portal/notifiche/${ids.deadB}/reinvia`, {}, { csrf: false });
      expect(noCsrf.status).to.equal(403);
      const other = await opB.post(`/portal/notifiche/${ids.deadA}/reinvia`);
      expect(other.status).to.equal(404);
      expect((await ctx.store.outbox.get(ids.deadA!))?.status).to.equal('DEAD');
      expect((await ctx.store.outbox.get(ids.deadB!))?.status).to.equal('DEAD');
    });

    it('puts a dead message back in the queue, with the user in the event log', async () => {
      await opA.get('/portal/notifiche');
      const res = await opA.post(`/portal/notifiche/${ids.deadA}/reinvia`);
      expect(res.status).to.equal(303);
      const message = await ctx.store.outbox.get(ids.deadA!);
      expect(message?.status).to.equal('PENDING');
      expect(message?.attempts).to.equal(0);
      const events = await ctx
        .db('events')
        .where({ entity_type: 'outbox', entity_id: ids.deadA, to_status: 'PENDING' });
      expect(events.map((e: { actor: string }) => e.actor)).to.deep.equal([
        `portal:${world.operatorA.username}`,
      ]);
      const page = await opA.get(res.location ?? '');
      expect(page.text).to.include('Notifica rimessa in coda');
      const again = await opA.post(`/portal/notifiche/${ids.pendingA}/reinvia`);
      expect(again.status).to.equal(303);
      expect((await opA.get(again.location ?? '')).text).to.include('Solo una notifica non consegnata');
    });
  });
});

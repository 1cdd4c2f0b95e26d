// Authorization matrix of the operator portal (issue 10 item 6): EVERY route registered on the
// router of portalRouter() (read from the Express Router stack, so a route added later fails the
// completeness test until it gets a row here) × the roles {anonymous, operator of ente A, operator
// of ente B, admin}, over the whole app on the suite's database. Each route is called at a concrete
// URL naming records of ente A (position, paid position, upload, flow, anomaly, notification,
// service, station, gestionale client, portal user).
//
// Expected outcomes (each cell states its HTTP status):
//   anonymous    GET → 303 to /portal/login?next=<the URL>; POST (with its anonymous session's CSRF
//                token, so the check is about login) → 401;
//   operator A   200 / 303 (or the 400 / 409 of a harmless invalid form) on A's records;
//   operator B   404 on A's records; 200 on lists and downloads, which never contain A's
//                distinctive values (positionIds, debtor, receipt id, flow id, upload name...) —
//                that operator A and the admin do see them proves the markers mean something;
//   admin        200 everywhere (or the 400 of a harmless invalid form); /portal/admin* → 403 for
//                both operators.
// POST cells send inputs that are invalid or harmless (an empty reason, a stale version, a status
// that is neither active nor disabled...) so they test authorization, not the form; every POST
// cell but the two admin ones that are meant to act (reset password / revoke a throwaway client)
// leaves every business table unchanged (snapshotDb). The citizen notice PDF (/pay/avviso/...)
// is checked without, with a wrong and with the right debtor, and under the other ente's code.

import { expect } from 'chai';
import type { Router } from 'express';
import type ExcelJS from 'exceljs';
import { forEachDatabase, randomEnteFiscalCode, TEST_IBAN, type SeededEnte } from '../support/db.ts';
import { snapshotDb, changedTables } from '../support/dbSnapshot.ts';
import {
  PORTAL_PASSWORD,
  PortalClient,
  seedPortalWorld,
  startPortalServer,
  type PortalResponse,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import { allocateNotices, CHANGE } from './helpers.ts';
import { flowDocument, linesOf } from './reconciliationSupport.ts';
import { portalRouter } from '../../src/portal/server.ts';
import { addClient } from '../../src/app/admin.ts';
import { validateDebtPosition } from '../../src/domain/position.ts';
import { italianDate } from '../../src/domain/payability.ts';
import { payNotice } from '../../src/emulator/index.ts';
import { buildFlussoRiversamento } from '../../src/pagopa/flussoRiversamento.ts';
import { buildXlsxTemplate, XLSX_DATA_SHEET } from '../../src/batch/formats/xlsx.ts';
import { PPAY_CSV_COLUMNS } from '../../src/batch/formats/ppayCsv.ts';
import type { StoredPosition } from '../../src/db/repositories/positions.ts';

const ROLES = ['anonymous', 'operatorB', 'operatorA', 'admin'] as const;
type Role = (typeof ROLES)[number];

/** Everything the URLs and the markers name; all of ente A unless said otherwise. */
interface MatrixWorld extends PortalWorld {
  position: StoredPosition;
  paid: StoredPosition;
  importId: string;
  uploadName: string;
  flowRowId: number;
  flowId: string;
  anomalyId: number;
  messageId: string;
  clientId: number;
  /** A client of A the admin cells may reset and revoke. */
  throwawayClientId: number;
  receiptId: string;
  debtorName: string;
  debtorCode: string;
}

interface Expectation {
  status: number;
  /** The redirect target (path + query) when it matters. */
  location?: (w: MatrixWorld, url: string) => string;
  /** Values that must be in the answer (they show the page really is about A). */
  present?: (w: MatrixWorld) => string[];
  /** Values of A that must not be in the answer. */
  absent?: (w: MatrixWorld) => string[];
  /** The cell is meant to change data (admin acting on a throwaway record): no snapshot check. */
  changes?: boolean;
  /** The answer's content type, for downloads. */
  type?: string;
}

interface RouteRow {
  method: 'GET' | 'POST';
  /** The path as registered on the portal router. */
  route: string;
  url: (w: MatrixWorld) => string;
  form?: (w: MatrixWorld) => Record<string, string>;
  /** Run each role on a freshly logged-in client (the cell ends the session). */
  freshSession?: boolean;
  expect: Record<Role, Expectation>;
}

// --- expectation builders ----------------------------------------------------------------------

const ANON_GET: Expectation = {
  status: 303,
  location: (_w, url) => `/portal/login?next=${encodeURIComponent(url)}`,
};
const ANON_POST: Expectation = { status: 401 };
const FORBIDDEN: Expectation = { status: 403 };
const NOT_FOUND: Expectation = { status: 404 };

const positionMarkers = (w: MatrixWorld) => [w.position.positionId, w.paid.positionId, w.debtorName];

/** A record of ente A by id: A and the admin reach it, B gets 404 as if it did not exist. */
function ownRecord(
  method: 'GET' | 'POST',
  allowed: number,
  extra: Partial<Expectation> = {},
): Record<Role, Expectation> {
  return {
    anonymous: method === 'GET' ? ANON_GET : ANON_POST,
    operatorB: NOT_FOUND,
    operatorA: { status: allowed, ...extra },
    admin: { status: allowed, ...extra },
  };
}

/** A list or download scoped by role: B's never shows A's values, A's and the admin's do. */
function scopedList(markers: (w: MatrixWorld) => string[], type?: string): Record<Role, Expectation> {
  const seen: Expectation = { status: 200, present: markers, ...(type ? { type } : {}) };
  return {
    anonymous: ANON_GET,
    operatorB: { status: 200, absent: markers, ...(type ? { type } : {}) },
    operatorA: seen,
    admin: seen,
  };
}

/** A page of the operator's own ente with nothing of A's to show (forms, templates). */
function anyLoggedIn(method: 'GET' | 'POST', status: number, extra: Partial<Expectation> = {}) {
  return {
    anonymous: method === 'GET' ? ANON_GET : ANON_POST,
    operatorB: { status, ...extra },
    operatorA: { status, ...extra },
    admin: { status, ...extra },
  };
}

/** Under /portal/admin: both operators 403 whatever the record, the admin `status`. */
function adminOnly(method: 'GET' | 'POST', status: number, extra: Partial<Expectation> = {}) {
  return {
    anonymous: method === 'GET' ? ANON_GET : ANON_POST,
    operatorB: FORBIDDEN,
    operatorA: FORBIDDEN,
    admin: { status, ...extra },
  };
}

const everyone = (e: Expectation): Record<Role, Expectation> => ({
  anonymous: e,
  operatorB: e,
  operatorA: e,
  admin: e,
});

const XLSX = 'spreadsheetml.sheet';
const NOT_A_STATUS = { status: 'maybe' };

// --- the table: one row per registered route ---------------------------------------------------

const ROUTES: RouteRow[] = [
  {
    method: 'GET',
    route: '/static/portal.css',
    url: () => '/portal/static/portal.css',
    expect: everyone({ status: 200, type: 'text/css' }),
  },
  {
    method: 'GET',
    route: '/static/portal.js',
    url: () => '/portal/static/portal.js',
    expect: everyone({ status: 200, type: 'text/javascript' }),
  },
  {
    method: 'GET',
    route: '/login',
    url: () => '/portal/login',
    expect: {
      anonymous: { status: 200 },
      operatorB: { status: 303, location: () => '/portal/' },
      operatorA: { status: 303, location: () => '/portal/' },
      admin: { status: 303, location: () => '/portal/' },
    },
  },
  {
    // Whoever sends it, a wrong login is the login page again with 401 (UNAUTHORIZED).
    method: 'POST',
    route: '/login',
    url: () => '/portal/login',
    form: () => ({ username: 'matrix-nobody', password: 'not-a-password' }),
    expect: everyone({ status: 401 }),
  },
  {
    method: 'POST',
    route: '/logout',
    url: () => '/portal/logout',
    freshSession: true,
    expect: everyone({ status: 303, location: () => '/portal/login' }),
  },
  {
    method: 'GET',
    route: '/',
    url: () => '/portal/',
    expect: {
      anonymous: ANON_GET,
      operatorB: { status: 200, absent: (w) => [w.a.ente.fiscalCode] },
      operatorA: { status: 200, present: (w) => [w.a.ente.fiscalCode] },
      admin: { status: 200, present: (w) => [w.a.ente.fiscalCode, w.b.ente.fiscalCode] },
    },
  },
  // positions
  {
    method: 'GET',
    route: '/posizioni/nuova',
    url: (w) => `/portal/posizioni/nuova?ente=${w.a.ente.fiscalCode}`,
    expect: anyLoggedIn('GET', 200),
  },
  {
    // No service chosen: 400 with the form again (an operator B's goes to its own ente anyway).
    method: 'POST',
    route: '/posizioni',
    url: () => '/portal/posizioni',
    form: (w) => ({ ente: w.a.ente.fiscalCode, service: '' }),
    expect: anyLoggedIn('POST', 400),
  },
  {
    method: 'GET',
    route: '/posizioni/:id',
    url: (w) => `/portal/posizioni/${w.position.id}`,
    expect: ownRecord('GET', 200, { present: (w) => [w.position.positionId] }),
  },
  {
    method: 'GET',
    route: '/posizioni/:id/modifica',
    url: (w) => `/portal/posizioni/${w.position.id}/modifica`,
    expect: ownRecord('GET', 200, { present: (w) => [w.position.positionId] }),
  },
  {
    // A stale version: 409 (the position changed meanwhile) for whoever may see it.
    method: 'POST',
    route: '/posizioni/:id/modifica',
    url: (w) => `/portal/posizioni/${w.position.id}/modifica`,
    form: () => ({ version: '999999' }),
    expect: ownRecord('POST', 409),
  },
  {
    // No reason: 400 with the detail page.
    method: 'POST',
    route: '/posizioni/:id/annulla',
    url: (w) => `/portal/posizioni/${w.position.id}/annulla`,
    form: () => ({ reason: '' }),
    expect: ownRecord('POST', 400),
  },
  // uploads
  {
    method: 'GET',
    route: '/caricamenti',
    url: (w) => `/portal/caricamenti?ente=${w.a.ente.fiscalCode}`,
    expect: scopedList((w) => [w.importId]),
  },
  {
    method: 'GET',
    route: '/caricamenti/modello.xlsx',
    url: () => '/portal/caricamenti/modello.xlsx',
    expect: anyLoggedIn('GET', 200, { type: XLSX }),
  },
  {
    // No file (not even multipart): 400 NO_FILE, nothing imported.
    method: 'POST',
    route: '/caricamenti',
    url: () => '/portal/caricamenti',
    form: (w) => ({ ente: w.a.ente.fiscalCode }),
    expect: anyLoggedIn('POST', 400),
  },
  {
    method: 'GET',
    route: '/caricamenti/:id',
    url: (w) => `/portal/caricamenti/${w.importId}`,
    expect: ownRecord('GET', 200, { present: (w) => [w.uploadName] }),
  },
  {
    method: 'GET',
    route: '/caricamenti/:id/esito.xlsx',
    url: (w) => `/portal/caricamenti/${w.importId}/esito.xlsx`,
    expect: ownRecord('GET', 200, { type: XLSX }),
  },
  // spontaneous payment forms
  {
    method: 'GET',
    route: '/spontanei',
    url: (w) => `/portal/spontanei?ente=${w.a.ente.fiscalCode}`,
    expect: {
      anonymous: ANON_GET,
      operatorB: { status: 200, absent: (w) => [`/portal/spontanei/${w.a.service.id}"`] },
      operatorA: { status: 200, present: (w) => [`/portal/spontanei/${w.a.service.id}"`] },
      admin: { status: 200, present: (w) => [`/portal/spontanei/${w.a.service.id}"`] },
    },
  },
  {
    method: 'GET',
    route: '/spontanei/:serviceId',
    url: (w) => `/portal/spontanei/${w.a.service.id}`,
    expect: ownRecord('GET', 200),
  },
  {
    // No title: 400 with the form.
    method: 'POST',
    route: '/spontanei/:serviceId',
    url: (w) => `/portal/spontanei/${w.a.service.id}`,
    form: () => ({ title: '', enabled: 'on' }),
    expect: ownRecord('POST', 400),
  },
  // monitoring
  {
    method: 'GET',
    route: '/posizioni',
    url: (w) => `/portal/posizioni?ente=${w.a.ente.fiscalCode}`,
    expect: scopedList(positionMarkers),
  },
  {
    method: 'GET',
    route: '/pagamenti',
    url: (w) => `/portal/pagamenti?ente=${w.a.ente.fiscalCode}`,
    expect: scopedList((w) => [w.receiptId, w.debtorName]),
  },
  {
    method: 'GET',
    route: '/riconciliazione',
    url: (w) => `/portal/riconciliazione?ente=${w.a.ente.fiscalCode}`,
    expect: scopedList((w) => [w.flowId, `/portal/riconciliazione/anomalie/${w.anomalyId}/risolvi`]),
  },
  {
    method: 'GET',
    route: '/riconciliazione/flussi/:id',
    url: (w) => `/portal/riconciliazione/flussi/${w.flowRowId}`,
    expect: ownRecord('GET', 200, { present: (w) => [w.flowId] }),
  },
  {
    // No note: the anomaly stays open, 303 back with a message (B: 404 ANOMALY_UNKNOWN).
    method: 'POST',
    route: '/riconciliazione/anomalie/:id/risolvi',
    url: (w) => `/portal/riconciliazione/anomalie/${w.anomalyId}/risolvi`,
    form: () => ({ note: '' }),
    expect: ownRecord('POST', 303),
  },
  {
    method: 'GET',
    route: '/notifiche',
    url: (w) => `/portal/notifiche?ente=${w.a.ente.fiscalCode}`,
    expect: scopedList((w) => [w.messageId]),
  },
  {
    // A message still pending: nothing to resend, 303 with a warning (B: 404).
    method: 'POST',
    route: '/notifiche/:id/reinvia',
    url: (w) => `/portal/notifiche/${w.messageId}/reinvia`,
    expect: ownRecord('POST', 303, { location: () => '/portal/notifiche' }),
  },
  // reports and documents: naming another ente is ENTE_UNKNOWN (404) for an operator
  {
    method: 'GET',
    route: '/report',
    url: (w) => `/portal/report?ente=${w.a.ente.fiscalCode}`,
    expect: ownRecord('GET', 200),
  },
  {
    method: 'GET',
    route: '/report/:file',
    url: (w) => `/portal/report/posizioni.csv?ente=${w.a.ente.fiscalCode}`,
    expect: ownRecord('GET', 200, {
      type: 'text/csv',
      present: (w) => [w.position.positionId, w.paid.positionId],
    }),
  },
  {
    method: 'GET',
    route: '/posizioni/:id/avviso.pdf',
    url: (w) => `/portal/posizioni/${w.position.id}/avviso.pdf`,
    expect: ownRecord('GET', 200, { type: 'application/pdf' }),
  },
  {
    method: 'GET',
    route: '/posizioni/:id/ricevuta.pdf',
    url: (w) => `/portal/posizioni/${w.paid.id}/ricevuta.pdf`,
    expect: ownRecord('GET', 200, { type: 'application/pdf' }),
  },
  // administration (the connector admin's only)
  { method: 'GET', route: '/admin', url: () => '/portal/admin', expect: adminOnly('GET', 200) },
  {
    method: 'GET',
    route: '/admin/stazioni',
    url: () => '/portal/admin/stazioni',
    expect: adminOnly('GET', 200, { present: (w) => [w.a.station.stationId] }),
  },
  {
    method: 'POST',
    route: '/admin/stazioni',
    url: () => '/portal/admin/stazioni',
    form: () => ({ stationId: '' }),
    expect: adminOnly('POST', 400),
  },
  {
    method: 'POST',
    route: '/admin/stazioni/:id/stato',
    url: (w) => `/portal/admin/stazioni/${w.a.station.id}/stato`,
    form: () => NOT_A_STATUS,
    expect: adminOnly('POST', 400),
  },
  {
    method: 'POST',
    route: '/admin/intermediari',
    url: () => '/portal/admin/intermediari',
    form: () => ({ fiscalCode: 'x' }),
    expect: adminOnly('POST', 400),
  },
  {
    method: 'GET',
    route: '/admin/enti',
    url: () => '/portal/admin/enti',
    expect: adminOnly('GET', 200, { present: (w) => [w.a.ente.fiscalCode] }),
  },
  {
    method: 'GET',
    route: '/admin/enti/nuovo',
    url: () => '/portal/admin/enti/nuovo',
    expect: adminOnly('GET', 200),
  },
  {
    method: 'POST',
    route: '/admin/enti',
    url: () => '/portal/admin/enti',
    form: () => ({ fiscalCode: '123' }),
    expect: adminOnly('POST', 400),
  },
  {
    method: 'GET',
    route: '/admin/enti/:id',
    url: (w) => `/portal/admin/enti/${w.a.ente.id}`,
    expect: adminOnly('GET', 200, { present: (w) => [w.a.ente.fiscalCode] }),
  },
  {
    method: 'POST',
    route: '/admin/enti/:id/stato',
    url: (w) => `/portal/admin/enti/${w.a.ente.id}/stato`,
    form: () => NOT_A_STATUS,
    expect: adminOnly('POST', 400),
  },
  {
    method: 'POST',
    route: '/admin/enti/:id/servizi',
    url: (w) => `/portal/admin/enti/${w.a.ente.id}/servizi`,
    form: () => ({ code: '' }),
    expect: adminOnly('POST', 400),
  },
  {
    method: 'GET',
    route: '/admin/enti/:id/servizi/:serviceId/modifica',
    url: (w) => `/portal/admin/enti/${w.a.ente.id}/servizi/${w.a.service.id}/modifica`,
    expect: adminOnly('GET', 200),
  },
  {
    method: 'POST',
    route: '/admin/enti/:id/servizi/:serviceId',
    url: (w) => `/portal/admin/enti/${w.a.ente.id}/servizi/${w.a.service.id}`,
    form: () => ({ description: '', category: '', iban: 'IT00X' }),
    expect: adminOnly('POST', 400),
  },
  {
    method: 'POST',
    route: '/admin/enti/:id/servizi/:serviceId/stato',
    url: (w) => `/portal/admin/enti/${w.a.ente.id}/servizi/${w.a.service.id}/stato`,
    form: () => NOT_A_STATUS,
    expect: adminOnly('POST', 400),
  },
  {
    method: 'GET',
    route: '/admin/gestionali',
    url: () => '/portal/admin/gestionali',
    expect: adminOnly('GET', 200),
  },
  {
    method: 'GET',
    route: '/admin/gestionali/nuovo',
    url: () => '/portal/admin/gestionali/nuovo',
    expect: adminOnly('GET', 200),
  },
  {
    method: 'POST',
    route: '/admin/gestionali',
    url: () => '/portal/admin/gestionali',
    form: () => ({ username: '' }),
    expect: adminOnly('POST', 400),
  },
  {
    method: 'GET',
    route: '/admin/gestionali/:id',
    url: (w) => `/portal/admin/gestionali/${w.clientId}`,
    expect: adminOnly('GET', 200),
  },
  {
    // Nothing invalid to send: the admin really resets the throwaway client's password (200, shown once).
    method: 'POST',
    route: '/admin/gestionali/:id/password',
    url: (w) => `/portal/admin/gestionali/${w.throwawayClientId}/password`,
    expect: adminOnly('POST', 200, { changes: true }),
  },
  {
    method: 'POST',
    route: '/admin/gestionali/:id/revoca',
    url: (w) => `/portal/admin/gestionali/${w.throwawayClientId}/revoca`,
    expect: adminOnly('POST', 303, { changes: true }),
  },
  {
    method: 'POST',
    route: '/admin/gestionali/:id/indirizzi',
    url: (w) => `/portal/admin/gestionali/${w.clientId}/indirizzi`,
    form: () => ({ callbackUrl: 'not a url' }),
    expect: adminOnly('POST', 400),
  },
  {
    method: 'GET',
    route: '/admin/utenti',
    url: () => '/portal/admin/utenti',
    expect: adminOnly('GET', 200, { present: (w) => [w.operatorA.username] }),
  },
  {
    method: 'POST',
    route: '/admin/utenti',
    url: () => '/portal/admin/utenti',
    form: () => ({ username: '' }),
    expect: adminOnly('POST', 400),
  },
  {
    method: 'GET',
    route: '/admin/utenti/:id',
    url: (w) => `/portal/admin/utenti/${w.operatorA.id}`,
    expect: adminOnly('GET', 200, { present: (w) => [w.operatorA.username] }),
  },
  {
    method: 'POST',
    route: '/admin/utenti/:id/password',
    url: (w) => `/portal/admin/utenti/${w.operatorA.id}/password`,
    form: () => ({ password: 'a-new-password-1', passwordConfirm: 'another-password-2' }),
    expect: adminOnly('POST', 400),
  },
  {
    method: 'POST',
    route: '/admin/utenti/:id/stato',
    url: (w) => `/portal/admin/utenti/${w.operatorA.id}/stato`,
    form: () => NOT_A_STATUS,
    expect: adminOnly('POST', 400),
  },
];

const key = (method: string, route: string) => `${method.toUpperCase()} ${route}`;

/** The method + path of every route on the portal router, read from its Express stack. */
function registeredRoutes(router: Router): string[] {
  interface Layer {
    route?: { path: string | string[]; methods: Record<string, boolean> };
  }
  const stack = (router as unknown as { stack: Layer[] }).stack;
  const found: string[] = [];
  for (const layer of stack) {
    if (!layer.route) continue;
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    for (const method of Object.keys(layer.route.methods).filter((m) => layer.route!.methods[m]))
      for (const p of paths) found.push(key(method, p));
  }
  return found;
}

const CELL_COUNT = ROUTES.length * ROLES.length;

forEachDatabase(`portal: route × role authorization matrix (${CELL_COUNT} cells)`, (ctx) => {
  let server: PortalServer;
  let world: MatrixWorld;
  const clients = {} as Record<Role, PortalClient>;
  const today = italianDate(new Date());

  async function insertPosition(
    seeded: SeededEnte,
    positionId: string,
    debtor: { type: 'F' | 'G'; code: string; name: string },
  ) {
    const enteFiscalCode = seeded.ente.fiscalCode;
    const draft = validateDebtPosition(
      {
        positionId,
        description: `Tassa rifiuti ${positionId}`,
        debtor: { type: debtor.type, fiscalCode: debtor.code, fullName: debtor.name },
        options: [
          {
            installment: 0,
            amountCents: 4_560,
            dueDate: '2030-12-31',
            transfers: [{ enteFiscalCode, amountCents: 4_560, iban: TEST_IBAN, category: '9/0101108TS/' }],
          },
        ],
      },
      { enteFiscalCode },
    );
    const notices = await allocateNotices(ctx.store, seeded.ente.id, 1);
    return ctx.store.positions.insert(seeded.ente.id, seeded.service.id, draft, { notices, ...CHANGE });
  }

  before(async function () {
    this.timeout(60_000);
    server = await startPortalServer(ctx);
    const base = await seedPortalWorld(ctx);
    const tag = `${process.pid}-${ctx.dialect}`;
    const debtor = { type: 'F' as const, code: 'RSSMRA85T10A562S', name: `Giuseppina Matrice ${tag}` };
    const position = await insertPosition(base.a, `RMX-OPEN-${tag}`, debtor);
    const paid = await insertPosition(base.a, `RMX-PAID-${tag}`, debtor);
    await insertPosition(base.b, `RMX-B-${tag}`, {
      type: 'G',
      code: randomEnteFiscalCode(),
      name: 'Zenobia Altrove',
    });
    const payment = await payNotice({
      store: ctx.store,
      connectorUrl: server.url,
      enteFiscalCode: base.a.ente.fiscalCode,
      noticeNumber: paid.options[0]!.noticeNumber!,
    });
    expect(payment.ok, JSON.stringify(payment.steps)).to.equal(true);
    const receipt = (await ctx.store.receipts.listByIuv(base.a.ente.id, paid.options[0]!.iuv)).at(-1)!;

    const flowId = `${today}BCITITMM-RMX${process.pid}`;
    const doc = flowDocument({
      flowId,
      flowDateTime: `${today}T08:00:00`,
      settlementDate: today,
      psp: receipt.pspId ?? 'BCITITMM',
      ente: base.a.ente.fiscalCode,
      payments: linesOf(receipt, base.a.ente.fiscalCode, today),
    });
    const stored = await ctx.store.reconciliationFlows.insertRevision(
      base.a.ente.id,
      doc,
      buildFlussoRiversamento(doc),
      CHANGE,
    );
    const anomaly = await ctx.store.anomalies.open(
      {
        enteId: base.a.ente.id,
        code: 'CREDIT_WITHOUT_FLOW',
        subjectKey: `credit|RMX-${tag}`,
        description: 'bank credit names flow X, which was not received',
        flowId: `FLOW-RMX-${tag}`,
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
    const { message } = await ctx.store.outbox.enqueueOnce(`rmx-${tag}`, {
      topic: 'notifyPayment',
      target: 1,
      payload: {
        notificationId: `rmx-${tag}`,
        enteFiscalCode: base.a.ente.fiscalCode,
        positionId: position.positionId,
        serviceCode: 'TARI',
      },
    });
    const client = async (username: string) => {
      await addClient(ctx.store, {
        username,
        name: `client of A ${username}`,
        enti: [base.a.ente.fiscalCode],
        services: [],
        models: ['base'],
        returnUrlPrefixes: ['https://a.example.it'],
      });
      return (await ctx.store.clients.findByUsername(username))!.id;
    };

    for (const role of ROLES) clients[role] = new PortalClient(server.url);
    await clients.operatorA.login(base.operatorA.username);
    await clients.operatorB.login(base.operatorB.username);
    await clients.admin.login(base.admin.username);
    await clients.anonymous.get('/portal/login'); // an anonymous session and its CSRF token

    // An upload of A through the portal: operator A's workbook with one position.
    const uploadName = `rmx-upload-${tag}.xlsx`;
    const workbook = buildXlsxTemplate();
    const sheet = workbook.getWorksheet(XLSX_DATA_SHEET) as ExcelJS.Worksheet;
    const row: Record<string, string | number> = {
      action: 'I',
      position_id: `RMX-UP-${tag}`,
      service_code: 'TARI',
      description: 'TARI upload',
      debtor_type: 'F',
      debtor_fiscal_code: 'RSSMRA80A01H501U',
      debtor_name: 'Rossi',
      debtor_first_name: 'Mario',
      installment_no: 0,
      due_date: '2031-04-30',
      amount_cents: 1000,
    };
    sheet.addRow(PPAY_CSV_COLUMNS.map((c) => row[c] ?? null));
    await clients.operatorA.get('/portal/caricamenti');
    const uploaded = await clients.operatorA.postFile('/portal/caricamenti', {
      field: 'file',
      name: uploadName,
      content: Buffer.from(await workbook.xlsx.writeBuffer()),
    });
    expect(uploaded.status, uploaded.text.slice(0, 400)).to.equal(303);
    const importId = /^\/portal\/caricamenti\/(imp-[0-9a-f]+)$/.exec(uploaded.location ?? '')?.[1];
    expect(importId, uploaded.location ?? '').to.be.a('string');

    world = {
      ...base,
      position,
      paid,
      importId: importId!,
      uploadName,
      flowRowId: stored.flow.id,
      flowId,
      anomalyId: anomaly.id,
      messageId: message.id,
      clientId: await client(`rmx-client-${tag}`),
      throwawayClientId: await client(`rmx-throwaway-${tag}`),
      receiptId: receipt.receiptId,
      debtorName: debtor.name,
      debtorCode: debtor.code,
    };
  });
  after(() => server?.close());

  it('has a row for every route registered on the portal router, and no row for a route that is gone', () => {
    const router = portalRouter({ store: ctx.store, redirect: server.redirect, dataDir: server.dataDir });
    const registered = registeredRoutes(router);
    expect(registered.length, 'routes found on the Express stack').to.be.greaterThan(50);
    const rows = ROUTES.map((r) => key(r.method, r.route));
    expect(new Set(rows).size, 'one row per route').to.equal(rows.length);
    const missing = registered.filter((r) => !rows.includes(r));
    const stale = rows.filter((r) => !registered.includes(r));
    expect(missing, 'routes without an expectation: add a row to ROUTES').to.deep.equal([]);
    expect(stale, 'rows naming no registered route').to.deep.equal([]);
    expect(CELL_COUNT).to.equal(registered.length * 4);
  });

  async function send(client: PortalClient, row: RouteRow, url: string): Promise<PortalResponse> {
    if (row.method === 'GET') return client.get(url);
    // A POST goes as a browser's form would: with the token of a page of this session.
    return client.post(url, row.form?.(world) ?? {});
  }

  async function clientFor(role: Role, fresh: boolean): Promise<PortalClient> {
    if (!fresh) return clients[role];
    const client = new PortalClient(server.url);
    if (role === 'anonymous') await client.get('/portal/login');
    else await client.login(world[role].username, PORTAL_PASSWORD);
    return client;
  }

  for (const row of ROUTES) {
    describe(`${row.method} /portal${row.route}`, () => {
      for (const role of ROLES) {
        const expected = row.expect[role];
        it(`${role} → ${expected.status}${expected.absent ? " without A's values" : ''}`, async () => {
          const client = await clientFor(role, row.freshSession === true);
          const url = row.url(world);
          const check = row.method === 'POST' && !expected.changes;
          const before = check ? await snapshotDb(ctx.db) : null;
          const res = await send(client, row, url);
          const shown = `${row.method} ${url} as ${role}: ${res.status} ${res.location ?? ''} ${res.text.slice(0, 300)}`;
          expect(res.status, shown).to.equal(expected.status);
          if (expected.location) expect(res.location, shown).to.equal(expected.location(world, url));
          if (expected.type) expect(res.headers.get('content-type') ?? '', shown).to.include(expected.type);
          const content = res.text || res.body.toString('utf8');
          for (const value of expected.present?.(world) ?? []) expect(content, shown).to.include(value);
          for (const value of expected.absent?.(world) ?? []) expect(content, shown).to.not.include(value);
          if (before) {
            const after = await snapshotDb(ctx.db);
            expect(changedTables(before, after), `${shown}: tables changed`).to.deep.equal([]);
          }
          if (row.freshSession && role !== 'anonymous') {
            const again = await client.get('/portal/');
            expect(again.status, 'the session ended').to.equal(303);
          }
        });
      }
    });
  }

  describe('what the admin cells did, and paths the router does not name', () => {
    it('the throwaway client was really reset and revoked by the admin, and the event log names the admin', async () => {
      const client = await ctx.store.clients.getById(world.throwawayClientId);
      expect(client?.status).to.equal('revoked');
      const events = (await ctx.db('events').where({
        entity_type: 'client',
        entity_id: String(world.throwawayClientId),
      })) as Array<{ action: string; actor: string }>;
      expect(events.map((e) => e.action)).to.include.members(['password', 'revoked']);
      for (const e of events.filter((x) => x.action !== 'create'))
        expect(e.actor).to.equal(`portal:${world.admin.username}`);
    });

    it("operator B's reports without an ente are its own: no position of A in the CSV", async () => {
      const page = await clients.operatorB.get('/portal/report');
      expect(page.status).to.equal(200);
      const csv = await clients.operatorB.get('/portal/report/posizioni.csv');
      expect(csv.status).to.equal(200);
      const text = csv.body.toString('utf8');
      expect(text).to.include(`RMX-B-`);
      for (const id of [world.position.positionId, world.paid.positionId]) expect(text).to.not.include(id);
    });

    it('an unknown path under /portal/admin is 403 for an operator, 404 for the admin', async () => {
      expect((await clients.operatorA.get('/portal/admin/nothing-here')).status).to.equal(403);
      expect((await clients.admin.get('/portal/admin/nothing-here')).status).to.equal(404);
    });

    it('a record id that is no number, or of no record, is 404 for operator A and the admin', async () => {
      for (const client of [clients.operatorA, clients.admin]) {
        expect((await client.get('/portal/posizioni/999999999')).status).to.equal(404);
        expect((await client.get('/portal/posizioni/1%27%20OR%201=1')).status).to.equal(404);
        expect((await client.get('/portal/caricamenti/imp-000000000000000000000000')).status).to.equal(404);
        expect((await client.get('/portal/riconciliazione/flussi/abc')).status).to.equal(404);
      }
    });

    it('a POST without the CSRF token is 403 before any authorization, for every role', async () => {
      const url = `/portal/posizioni/${world.position.id}/annulla`;
      const before = await snapshotDb(ctx.db);
      for (const role of ROLES) {
        const res = await clients[role].post(url, { reason: 'no token' }, { csrf: false });
        expect(res.status, role).to.equal(403);
      }
      expect(changedTables(before, await snapshotDb(ctx.db))).to.deep.equal([]);
    });
  });

  describe('citizen notice PDF /pay/avviso/:ente/:notice.pdf (named debtor)', () => {
    const pdfUrl = (ente: string, debtor?: string) =>
      `/pay/avviso/${ente}/${world.position.options[0]!.noticeNumber!}.pdf${debtor === undefined ? '' : `?debtor=${debtor}`}`;

    it('without the debtor → 404 POSITION_UNKNOWN page', async () => {
      const res = await new PortalClient(server.url).get(pdfUrl(world.a.ente.fiscalCode));
      expect(res.status).to.equal(404);
      expect(res.headers.get('content-type')).to.not.include('pdf');
    });

    it('with a wrong debtor → 404', async () => {
      const res = await new PortalClient(server.url).get(
        pdfUrl(world.a.ente.fiscalCode, randomEnteFiscalCode()),
      );
      expect(res.status).to.equal(404);
    });

    it("under the other ente's fiscal code, even with the right debtor → 404", async () => {
      const res = await new PortalClient(server.url).get(pdfUrl(world.b.ente.fiscalCode, world.debtorCode));
      expect(res.status).to.equal(404);
    });

    it('with the right debtor (any case) → 200 application/pdf', async () => {
      const res = await new PortalClient(server.url).get(
        pdfUrl(world.a.ente.fiscalCode, world.debtorCode.toLowerCase()),
      );
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.include('application/pdf');
      expect(res.body.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
    });
  });
});

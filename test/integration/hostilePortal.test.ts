// Issue 10 item 1, portal forms: the hostile-input corpus of fixtures/hostile/portal/cases.json
// (documented in its README) posted to the real portal (the whole app on port 0) on every database
// of the matrix: the position form, the citizens' spontaneous-payment form, the admin forms (ente,
// service) and the login form. What it proves, for each case: the stated status (400, 401...) with
// the stated Italian message; the database unchanged (every table but the audit ones, snapshotDb);
// what was typed never comes back unescaped (no raw `<script>` or attribute-breaking payload in the
// page); and the server still answers /health.

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { forEachDatabase, randomEnteFiscalCode, TEST_IBAN } from '../support/db.ts';
import { changedTables, snapshotDb } from '../support/dbSnapshot.ts';
import {
  loggedIn,
  PortalClient,
  seedPortalWorld,
  startPortalServer,
  type PortalResponse,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import { PROJECT_ROOT } from '../../src/xml/paths.ts';

type FormKind = 'position' | 'spontaneous' | 'ente' | 'service' | 'login';

interface HostilePortalCase {
  id: string;
  form: FormKind;
  /** Override the form's valid fields. */
  fields: Record<string, string>;
  status: number;
  /** A fragment of the Italian message the page shows (HTML as sent). */
  message: string;
  why: string;
}

const { cases } = JSON.parse(
  readFileSync(path.join(PROJECT_ROOT, 'fixtures/hostile/portal/cases.json'), 'utf8'),
) as { cases: HostilePortalCase[] };

/** Payloads that must never come back as markup. */
const RAW_MARKUP = ['<script>alert("ppay")</script>', '<img src=x onerror=alert(1)>'];

const ROUTES: Record<FormKind, string> = {
  position: 'POST /portal/posizioni',
  spontaneous: 'POST /pay/spontaneo/<ente>/TARI',
  ente: 'POST /portal/admin/enti',
  service: 'POST /portal/admin/enti/<id>/servizi',
  login: 'POST /portal/login',
};

const SPONTANEOUS_CONFIG = {
  enabled: '1',
  title: 'Diritti di segreteria',
  instructions: 'Indica il numero della pratica.',
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

let sequence = 0;

forEachDatabase('hostile portal forms: typed refusals, nothing stored, output escaped', (ctx) => {
  let server: PortalServer;
  let world: PortalWorld;
  let operator: PortalClient;
  let admin: PortalClient;

  before(async () => {
    server = await startPortalServer(ctx);
    world = await seedPortalWorld(ctx);
    operator = await loggedIn(server.url, world.operatorA);
    admin = await loggedIn(server.url, world.admin);
    await operator.get(`/portal/spontanei/${world.a.service.id}`);
    const saved = await operator.post(`/portal/spontanei/${world.a.service.id}`, SPONTANEOUS_CONFIG);
    expect(saved.status, saved.text.slice(0, 500)).to.equal(303);
  });
  after(() => server?.close());

  /** The client, the route and the valid fields of a form, its page read first (cookie, CSRF). */
  async function prepare(form: FormKind): Promise<{
    client: PortalClient;
    route: string;
    fields: Record<string, string>;
  }> {
    const n = ++sequence;
    switch (form) {
      case 'position':
        await operator.get('/portal/posizioni/nuova');
        return {
          client: operator,
          route: '/portal/posizioni',
          fields: {
            service: 'TARI',
            positionId: `HOSTILE-${process.pid}-${n}`,
            description: 'TARI 2026 acconto',
            debtorType: 'F',
            debtorFiscalCode: 'RSSMRA85T10A562S',
            debtorFullName: 'Mario Rossi',
            debtorEmail: 'mario.rossi@example.org',
            debtorCity: 'Torino',
            plan: 'single',
            opt0_amount: '120,50',
            opt0_dueDate: '2027-01-31',
          },
        };
      case 'spontaneous': {
        const client = new PortalClient(server.url);
        const route = `/pay/spontaneo/${world.a.ente.fiscalCode}/TARI`;
        const page = await client.get(route);
        const submission = /name="submission" value="([0-9a-f]{16})"/.exec(page.text)?.[1] ?? '';
        return {
          client,
          route,
          fields: {
            submission,
            mode: 'notice',
            fiscalCode: 'RSSMRA85T10A562S',
            fullName: 'Mario Rossi',
            email: 'mario.rossi@example.org',
            amount: '16,00',
            x_pratica: 'PR-2024-77',
            x_documento: 'Certificato anagrafico',
            x_data_richiesta: '2024-05-02',
          },
        };
      }
      case 'ente':
        await admin.get('/portal/admin/enti/nuovo');
        return {
          client: admin,
          route: '/portal/admin/enti',
          fields: {
            fiscalCode: randomEnteFiscalCode(),
            name: 'Comune di Valle',
            station: world.a.station.stationId,
            auxDigit: '3',
            segregationCode: '05',
            iban: TEST_IBAN,
          },
        };
      case 'service':
        await admin.get(`/portal/admin/enti/${world.a.ente.id}`);
        return {
          client: admin,
          route: `/portal/admin/enti/${world.a.ente.id}/servizi`,
          fields: {
            code: `S${n}`,
            description: 'Imposta municipale',
            category: '9/0101100IM/',
            iban: '',
            pagopaServiceId: '',
          },
        };
      case 'login': {
        const client = new PortalClient(server.url);
        await client.get('/portal/login');
        return {
          client,
          route: '/portal/login',
          fields: { username: `nobody-${process.pid}-${n}`, password: 'una-password-sbagliata' },
        };
      }
    }
  }

  function rawMarkupIn(res: PortalResponse): string[] {
    return RAW_MARKUP.filter((payload) => res.text.includes(payload) || res.body.includes(payload));
  }

  for (const c of cases) {
    it(`${ROUTES[c.form]} / ${c.id}: ${c.status}${c.message ? ` «${c.message}»` : ''} (${c.why})`, async () => {
      const { client, route, fields } = await prepare(c.form);
      const before = await snapshotDb(ctx.db);
      const res = await client.post(route, { ...fields, ...c.fields });
      if (process.env.PPAY_HOSTILE_DISCOVER) {
        const errors = [...res.text.matchAll(/(?:-error"|role="alert")[^>]*>([\s\S]{0,200}?)</g)].map(
          (m) => m[1],
        );
        console.log(c.id, res.status, JSON.stringify(errors));
      }
      expect(res.status, res.text.slice(0, 1500)).to.equal(c.status);
      expect(res.headers.get('content-type') ?? '').to.match(/^text\/html/);
      if (c.message) expect(res.text).to.include(c.message);
      expect(rawMarkupIn(res), 'a payload came back unescaped').to.deep.equal([]);
      expect(
        changedTables(before, await snapshotDb(ctx.db)),
        'tables changed by a refused form',
      ).to.deep.equal([]);
      const health = await fetch(`${server.url}/health`);
      expect(health.status).to.equal(200);
    });
  }

  it('the corpus holds at least 35 cases over the five forms', () => {
    expect(cases.length).to.be.at.least(35);
    expect(new Set(cases.map((c) => c.form))).to.deep.equal(
      new Set(['position', 'spontaneous', 'ente', 'service', 'login']),
    );
    expect(new Set(cases.map((c) => c.id)).size).to.equal(cases.length);
  });
});

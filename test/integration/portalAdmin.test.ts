// The portal's administration pages through HTTP against the whole app on the suite's database:
// brokers and stations, enti and services, gestionale clients (password shown once, checked with
// the SOAP guard's own Authenticator), portal users; admins only, CSRF, escaping, and no password in
// the event log.

import { expect } from 'chai';
import { forEachDatabase, randomEnteFiscalCode, TEST_IBAN } from '../support/db.ts';
import {
  loggedIn,
  PortalClient,
  seedPortalWorld,
  startPortalServer,
  type PortalClient as Client,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import { Authenticator } from '../../src/soap/wsSecurity.ts';
import { addClient } from '../../src/app/admin.ts';

const XSS = '<script>alert(1)</script>';
const ADMIN = '/portal/admin';

function passwordOn(page: string): string {
  const match = /data-testid="client-password">([^<]+)</.exec(page);
  if (!match?.[1]) throw new Error(`no password on the page: ${page.slice(0, 500)}`);
  return match[1];
}

function idFrom(location: string | null, pattern: RegExp): number {
  const match = pattern.exec(location ?? '');
  if (!match?.[1]) throw new Error(`unexpected location ${location}`);
  return Number(match[1]);
}

forEachDatabase('portal: administration', (ctx) => {
  let server: PortalServer;
  let world: PortalWorld;
  let admin: Client;
  /** Every password typed or shown in these tests, to look for in the event log at the end. */
  const secrets: string[] = [];

  before(async () => {
    server = await startPortalServer(ctx);
    world = await seedPortalWorld(ctx);
    admin = await loggedIn(server.url, world.admin);
  });
  after(() => server.close());

  async function eventsText(): Promise<string> {
    return JSON.stringify(await ctx.db('events').select());
  }

  async function newEnte(name = 'Comune di Test'): Promise<number> {
    await admin.get(`${ADMIN}/enti/nuovo`);
    const res = await admin.post(`${ADMIN}/enti`, {
      fiscalCode: randomEnteFiscalCode(),
      name,
      station: world.a.station.stationId,
      auxDigit: '3',
      segregationCode: '07',
      iban: TEST_IBAN,
    });
    expect(res.status, res.text.slice(0, 2000)).to.equal(303);
    return idFrom(res.location, /\/admin\/enti\/(\d+)$/);
  }

  it('shows the overview and the stations with the admin navigation', async () => {
    const overview = await admin.get(ADMIN);
    expect(overview.status).to.equal(200);
    expect(overview.text).to.include('data-testid="admin-nav"');
    const stations = await admin.get(`${ADMIN}/stazioni`);
    expect(stations.status).to.equal(200);
    expect(stations.text).to.include('data-testid="stations-table"');
    expect(stations.text).to.include(world.a.station.stationId);
    expect(stations.text).not.to.include('password01');
  });

  it('creates a broker and a station named after it, refusing another name', async () => {
    const brokerCode = randomEnteFiscalCode();
    await admin.get(`${ADMIN}/stazioni`);
    const broker = await admin.post(`${ADMIN}/intermediari`, {
      fiscalCode: brokerCode,
      name: 'Intermediario 2',
    });
    expect(broker.status).to.equal(303);
    const wrong = await admin.post(`${ADMIN}/stazioni`, {
      broker: brokerCode,
      stationId: `${world.a.broker.fiscalCode}_09`,
      password: 'Station-pw1',
      dialect: 'legacy',
    });
    expect(wrong.status).to.equal(400);
    expect(wrong.text).to.include('data-testid="form-error"');
    expect(wrong.text).to.include(`value="${world.a.broker.fiscalCode}_09"`);
    expect(wrong.text).not.to.include('Station-pw1');
    const created = await admin.post(`${ADMIN}/stazioni`, {
      broker: brokerCode,
      stationId: `${brokerCode}_02`,
      password: 'Station-pw1',
      dialect: 'legacy',
    });
    expect(created.status).to.equal(303);
    secrets.push('Station-pw1');
    const station = await ctx.store.stations.getByStationId(`${brokerCode}_02`);
    expect(station).to.include({ dialect: 'legacy', status: 'active', password: 'Station-pw1' });
    const list = await admin.follow(created.location as string);
    expect(list.text).to.include(`${brokerCode}_02`).and.include('Stazione');
    const events = await ctx.db('events').where({ entity_type: 'station', entity_id: String(station?.id) });
    expect(events.map((e: { actor: string }) => e.actor)).to.deep.equal([`portal:${world.admin.username}`]);
  });

  it('creates an ente, refusing a bad fiscal code or IBAN and keeping what was typed', async () => {
    await admin.get(`${ADMIN}/enti/nuovo`);
    const fields = {
      fiscalCode: '12345678901',
      name: 'Comune di Valle',
      station: world.a.station.stationId,
      auxDigit: '3',
      segregationCode: '05',
      iban: TEST_IBAN,
    };
    const badCode = await admin.post(`${ADMIN}/enti`, fields);
    expect(badCode.status).to.equal(400);
    expect(badCode.text).to.include('Il codice fiscale non è valido');
    expect(badCode.text).to.include('value="Comune di Valle"').and.include('value="12345678901"');
    const fiscalCode = randomEnteFiscalCode();
    const badIban = await admin.post(`${ADMIN}/enti`, {
      ...fields,
      fiscalCode,
      iban: 'IT00X0000000000000000000000',
    });
    expect(badIban.status).to.equal(400);
    expect(badIban.text).to.include('L&#39;IBAN non è valido');
    const noSegregation = await admin.post(`${ADMIN}/enti`, { ...fields, fiscalCode, segregationCode: '' });
    expect(noSegregation.status).to.equal(400);
    expect(noSegregation.text).to.include('codice di segregazione');
    const ok = await admin.post(`${ADMIN}/enti`, { ...fields, fiscalCode });
    expect(ok.status).to.equal(303);
    const id = idFrom(ok.location, /\/admin\/enti\/(\d+)$/);
    const detail = await admin.follow(ok.location as string);
    expect(detail.text).to.include('data-testid="ente-detail"').and.include(fiscalCode);
    expect(detail.text).to.include('creato');
    const ente = await ctx.store.enti.getById(id);
    expect(ente).to.include({ fiscalCode, name: 'Comune di Valle', segregationCode: '05', status: 'active' });
    const list = await admin.get(`${ADMIN}/enti`);
    expect(list.text)
      .to.include('data-testid="enti-table"')
      .and.include(`data-testid="ente-row-${fiscalCode}"`);
    const [event] = await ctx.db('events').where({ entity_type: 'ente', entity_id: String(id) });
    expect(event).to.include({ action: 'create', actor: `portal:${world.admin.username}` });
  });

  it('shows HTML typed in an ente name escaped, in the list and in a refused form', async () => {
    const id = await newEnte(XSS);
    const list = await admin.get(`${ADMIN}/enti`);
    expect(list.text).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(list.text).not.to.include(XSS);
    const detail = await admin.get(`${ADMIN}/enti/${id}`);
    expect(detail.text).to.include('&lt;script&gt;').and.not.include(XSS);
    const refused = await admin.post(`${ADMIN}/enti`, { fiscalCode: 'x', name: XSS, station: XSS });
    expect(refused.status).to.equal(400);
    expect(refused.text).to.include('value="&lt;script&gt;alert(1)&lt;/script&gt;"').and.not.include(XSS);
  });

  it('disables and enables an ente, with events', async () => {
    const id = await newEnte();
    await admin.get(`${ADMIN}/enti/${id}`);
    const off = await admin.post(`${ADMIN}/enti/${id}/stato`, { status: 'disabled' });
    expect(off.status).to.equal(303);
    expect((await ctx.store.enti.getById(id))?.status).to.equal('disabled');
    expect((await admin.follow(off.location as string)).text).to.include('disattivato');
    await admin.post(`${ADMIN}/enti/${id}/stato`, { status: 'active' });
    expect((await ctx.store.enti.getById(id))?.status).to.equal('active');
    const events = await ctx
      .db('events')
      .where({ entity_type: 'ente', entity_id: String(id), action: 'status' });
    expect(events.map((e: { to_status: string }) => e.to_status)).to.deep.equal(['disabled', 'active']);
  });

  it('creates, edits and disables a service of an ente', async () => {
    const id = await newEnte();
    await admin.get(`${ADMIN}/enti/${id}`);
    const bad = await admin.post(`${ADMIN}/enti/${id}/servizi`, {
      code: 'IMU',
      description: 'Imposta municipale',
      category: 'nonsense',
      iban: '',
      pagopaServiceId: '',
    });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.include('tassonomia').and.include('value="Imposta municipale"');
    expect(bad.text).to.include('data-testid="service-form"');
    const ok = await admin.post(`${ADMIN}/enti/${id}/servizi`, {
      code: 'IMU',
      description: 'Imposta municipale',
      category: '9/0101100IM/',
      iban: '',
      pagopaServiceId: '00042',
    });
    expect(ok.status).to.equal(303);
    const service = await ctx.store.services.get(id, 'IMU');
    expect(service).to.include({ iban: TEST_IBAN, pagopaServiceId: '00042', status: 'active' });
    const duplicate = await admin.post(`${ADMIN}/enti/${id}/servizi`, {
      code: 'IMU',
      description: 'Ancora',
      category: '9/0101100IM/',
    });
    expect(duplicate.status).to.equal(409);
    const edit = await admin.get(`${ADMIN}/enti/${id}/servizi/${service?.id}/modifica`);
    expect(edit.status).to.equal(200);
    expect(edit.text).to.include('value="Imposta municipale"');
    const saved = await admin.post(`${ADMIN}/enti/${id}/servizi/${service?.id}`, {
      description: 'IMU saldo',
      category: '9/0101100IM/',
      iban: '',
      pagopaServiceId: '',
    });
    expect(saved.status).to.equal(303);
    expect(await ctx.store.services.getById(service?.id as number)).to.include({
      description: 'IMU saldo',
      pagopaServiceId: null,
      iban: TEST_IBAN,
    });
    await admin.post(`${ADMIN}/enti/${id}/servizi/${service?.id}/stato`, { status: 'disabled' });
    expect((await ctx.store.services.getById(service?.id as number))?.status).to.equal('disabled');
    // A service of another ente is not found under this one.
    const foreign = await admin.get(`${ADMIN}/enti/${id}/servizi/${world.b.service.id}/modifica`);
    expect(foreign.status).to.equal(404);
  });

  it('creates a gestionale client whose password is shown once and authenticates at the SOAP guard', async () => {
    const form = await admin.get(`${ADMIN}/gestionali/nuovo`);
    expect(form.text).to.include('data-testid="client-form"');
    const username = `acme-${ctx.dialect}`;
    const refused = await admin.post(`${ADMIN}/gestionali`, {
      username,
      name: 'ACME',
      models: ['base'],
      callbackUrl: '',
      returnUrlPrefixes: '',
    });
    expect(refused.status).to.equal(400);
    expect(refused.text).to.include('Scegli almeno un ente').and.include(`value="${username}"`);
    const res = await admin.post(`${ADMIN}/gestionali`, {
      username,
      name: 'ACME gestionale',
      enti: [world.a.ente.fiscalCode],
      services: 'TARI',
      models: ['base', 'async'],
      callbackUrl: 'https://acme.example/callback',
      returnUrlPrefixes: 'https://acme.example/esito\nhttps://acme.example/altro',
    });
    expect(res.status).to.equal(200);
    const password = passwordOn(res.text);
    secrets.push(password);
    expect(password).to.have.length.of.at.least(20);
    const principal = await new Authenticator(ctx.store).authenticate({ username, password });
    expect(principal).to.include({ username });
    expect(principal?.enteIds).to.deep.equal([world.a.ente.id]);
    expect(principal?.serviceIds).to.deep.equal([world.a.service.id]);
    expect(principal?.models).to.deep.equal(['async', 'base']);
    const client = await ctx.store.clients.findByUsername(username);
    expect(client?.passwordHash).not.to.include(password);
    expect(client?.returnUrlPrefixes).to.deep.equal([
      'https://acme.example/esito',
      'https://acme.example/altro',
    ]);
    const detail = await admin.get(`${ADMIN}/gestionali/${client?.id}`);
    expect(detail.status).to.equal(200);
    expect(detail.text).not.to.include(password).and.not.include('data-testid="client-password"');
    expect(detail.text).to.include('https://acme.example/callback');
    const list = await admin.get(`${ADMIN}/gestionali`);
    expect(list.text).to.include('data-testid="clients-table"').and.include(username);
    expect(list.text).not.to.include(password);
    const again = await admin.post(`${ADMIN}/gestionali`, {
      username,
      name: 'ACME',
      enti: [world.a.ente.fiscalCode],
      models: ['base'],
    });
    expect(again.status).to.equal(409);
    expect(again.text).to.include('Esiste già un gestionale');
  });

  it('resets a client password (the old one stops working at once) and revokes the client', async () => {
    const username = `reset-${ctx.dialect}`;
    const first = await addClient(ctx.store, {
      username,
      name: 'Reset',
      enti: [world.b.ente.fiscalCode],
      services: [],
      models: ['base'],
    });
    secrets.push(first.password);
    const client = await ctx.store.clients.findByUsername(username);
    const guard = new Authenticator(ctx.store);
    expect(await guard.authenticate({ username, password: first.password })).not.to.equal(null);
    await admin.get(`${ADMIN}/gestionali/${client?.id}`);
    const reset = await admin.post(`${ADMIN}/gestionali/${client?.id}/password`);
    expect(reset.status).to.equal(200);
    const second = passwordOn(reset.text);
    secrets.push(second);
    expect(second).not.to.equal(first.password);
    expect(await guard.authenticate({ username, password: first.password })).to.equal(null);
    expect(await guard.authenticate({ username, password: second })).not.to.equal(null);
    const revoked = await admin.post(`${ADMIN}/gestionali/${client?.id}/revoca`);
    expect(revoked.status).to.equal(303);
    expect(await guard.authenticate({ username, password: second })).to.equal(null);
    const detail = await admin.follow(revoked.location as string);
    expect(detail.text).to.include('revocat');
    expect(detail.text).not.to.include('data-testid="client-reset-form"');
    const events = await ctx.db('events').where({ entity_type: 'client', entity_id: String(client?.id) });
    expect(events.map((e: { action: string }) => e.action)).to.deep.equal(['password', 'revoked']);
  });

  it("edits a client's callback endpoints, refusing a URL that is not http(s)", async () => {
    const username = `endpoints-${ctx.dialect}`;
    const created = await addClient(ctx.store, {
      username,
      name: 'Endpoints',
      enti: [world.a.ente.fiscalCode],
      services: [],
      models: ['base'],
    });
    secrets.push(created.password);
    const client = await ctx.store.clients.findByUsername(username);
    await admin.get(`${ADMIN}/gestionali/${client?.id}`);
    const bad = await admin.post(`${ADMIN}/gestionali/${client?.id}/indirizzi`, {
      callbackUrl: 'ftp://x.example/',
      returnUrlPrefixes: '',
    });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.include('URL assoluto').and.include('value="ftp://x.example/"');
    const ok = await admin.post(`${ADMIN}/gestionali/${client?.id}/indirizzi`, {
      callbackUrl: 'https://gest.example/cb',
      returnUrlPrefixes: 'https://gest.example/back',
    });
    expect(ok.status).to.equal(303);
    expect(await ctx.store.clients.getById(client?.id as number)).to.include({
      callbackUrl: 'https://gest.example/cb',
    });
    expect((await ctx.store.clients.getById(client?.id as number))?.returnUrlPrefixes).to.deep.equal([
      'https://gest.example/back',
    ]);
  });

  it('creates a portal user who can log in; disabling ends its session and refuses its login', async () => {
    const page = await admin.get(`${ADMIN}/utenti?ente=${world.a.ente.fiscalCode}`);
    expect(page.text).to.include('data-testid="users-table"').and.include('data-testid="user-form"');
    const username = `nuovo.${ctx.dialect}`;
    const fields = {
      username,
      fullName: 'Nuovo Operatore',
      role: 'operator',
      ente: world.a.ente.fiscalCode,
      password: 'una-password-lunga',
      passwordConfirm: 'una-password-diversa',
    };
    secrets.push(fields.password, fields.passwordConfirm);
    const mismatch = await admin.post(`${ADMIN}/utenti`, fields);
    expect(mismatch.status).to.equal(400);
    expect(mismatch.text).to.include('non coincidono').and.include(`value="${username}"`);
    expect(mismatch.text).not.to.include('una-password-lunga');
    const short = await admin.post(`${ADMIN}/utenti`, {
      ...fields,
      password: 'corta',
      passwordConfirm: 'corta',
    });
    expect(short.status).to.equal(400);
    expect(short.text).to.include('almeno 10 caratteri');
    const noEnte = await admin.post(`${ADMIN}/utenti`, {
      ...fields,
      ente: '',
      passwordConfirm: fields.password,
    });
    expect(noEnte.status).to.equal(400);
    const created = await admin.post(`${ADMIN}/utenti`, { ...fields, passwordConfirm: fields.password });
    expect(created.status).to.equal(303);
    const user = (await ctx.store.portalUsers.list()).find((u) => u.username === username);
    expect(user).to.include({ role: 'operator', enteId: world.a.ente.id, status: 'active' });

    const operator = new PortalClient(server.url);
    await operator.login(username, fields.password);
    expect((await operator.get('/portal/')).status).to.equal(200);

    await admin.get(`${ADMIN}/utenti`);
    const off = await admin.post(`${ADMIN}/utenti/${user?.id}/stato`, { status: 'disabled' });
    expect(off.status).to.equal(303);
    const after = await operator.get('/portal/');
    expect(after.status).to.equal(303);
    expect(after.location).to.match(/^\/portal\/login/);
    const again = new PortalClient(server.url);
    await again.get('/portal/login');
    const refused = await again.post('/portal/login', { username, password: fields.password });
    expect(refused.status).to.equal(401);

    await admin.post(`${ADMIN}/utenti/${user?.id}/stato`, { status: 'active' });
    await admin.get(`${ADMIN}/utenti/${user?.id}`);
    const reset = await admin.post(`${ADMIN}/utenti/${user?.id}/password`, {
      password: 'un-altra-password',
      passwordConfirm: 'un-altra-password',
    });
    secrets.push('un-altra-password');
    expect(reset.status).to.equal(303);
    const fresh = new PortalClient(server.url);
    await fresh.login(username, 'un-altra-password');
    expect((await fresh.get('/portal/')).text).to.include(username);
  });

  it('does not let an admin disable itself', async () => {
    await admin.get(`${ADMIN}/utenti/${world.admin.id}`);
    const res = await admin.post(`${ADMIN}/utenti/${world.admin.id}/stato`, { status: 'disabled' });
    expect(res.status).to.equal(403);
    expect(res.text).to.include('Non puoi disattivare il tuo stesso utente');
    expect((await ctx.store.portalUsers.get(world.admin.id))?.status).to.equal('active');
    expect((await admin.get(ADMIN)).status).to.equal(200);
  });

  it('refuses an admin form without its CSRF token', async () => {
    const fiscalCode = randomEnteFiscalCode();
    const res = await admin.post(
      `${ADMIN}/enti`,
      { fiscalCode, name: 'Senza token', station: world.a.station.stationId, segregationCode: '01' },
      { csrf: false },
    );
    expect(res.status).to.equal(403);
    expect(await ctx.store.enti.getByFiscalCode(fiscalCode)).to.equal(null);
  });

  it('answers 404 for unknown records', async () => {
    for (const path of [
      `${ADMIN}/enti/999999`,
      `${ADMIN}/gestionali/999999`,
      `${ADMIN}/utenti/999999`,
      `${ADMIN}/enti/abc`,
    ]) {
      expect((await admin.get(path)).status, path).to.equal(404);
    }
  });

  it('refuses every admin page and action to an operator (403), changing nothing', async () => {
    const created = await addClient(ctx.store, {
      username: `guarded-${ctx.dialect}`,
      name: 'Guarded',
      enti: [world.a.ente.fiscalCode],
      services: [],
      models: ['base'],
    });
    secrets.push(created.password);
    const client = await ctx.store.clients.findByUsername(created.username);
    const { a, operatorA } = world;
    const ente = `${ADMIN}/enti/${a.ente.id}`;
    const service = `${ente}/servizi/${a.service.id}`;
    const gets = [
      ADMIN,
      `${ADMIN}/stazioni`,
      `${ADMIN}/enti`,
      `${ADMIN}/enti/nuovo`,
      ente,
      `${service}/modifica`,
      `${ADMIN}/gestionali`,
      `${ADMIN}/gestionali/nuovo`,
      `${ADMIN}/gestionali/${client?.id}`,
      `${ADMIN}/utenti`,
      `${ADMIN}/utenti/${operatorA.id}`,
    ];
    const posts = [
      `${ADMIN}/stazioni`,
      `${ADMIN}/stazioni/${a.station.id}/stato`,
      `${ADMIN}/intermediari`,
      `${ADMIN}/enti`,
      `${ente}/stato`,
      `${ente}/servizi`,
      service,
      `${service}/stato`,
      `${ADMIN}/gestionali`,
      `${ADMIN}/gestionali/${client?.id}/password`,
      `${ADMIN}/gestionali/${client?.id}/revoca`,
      `${ADMIN}/gestionali/${client?.id}/indirizzi`,
      `${ADMIN}/utenti`,
      `${ADMIN}/utenti/${world.admin.id}/password`,
      `${ADMIN}/utenti/${world.admin.id}/stato`,
    ];
    // The admin reaches every one of these pages: the list names real routes.
    for (const path of gets) expect((await admin.get(path)).status, path).to.equal(200);
    const operator = await loggedIn(server.url, operatorA);
    for (const path of gets) expect((await operator.get(path)).status, path).to.equal(403);
    for (const path of posts) {
      const res = await operator.post(path, {
        status: 'disabled',
        password: 'x-password-x',
        passwordConfirm: 'x-password-x',
      });
      expect(res.status, path).to.equal(403);
    }
    expect((await ctx.store.enti.getById(a.ente.id))?.status).to.equal('active');
    expect((await ctx.store.services.getById(a.service.id))?.status).to.equal('active');
    expect((await ctx.store.clients.getById(client?.id as number))?.status).to.equal('active');
    expect((await ctx.store.portalUsers.get(world.admin.id))?.status).to.equal('active');
  });

  it('writes no password into the event log', async () => {
    expect(secrets.length).to.be.at.least(6);
    const text = await eventsText();
    for (const secret of secrets) expect(text, secret).not.to.include(secret);
    expect(text).to.include(`portal:${world.admin.username}`);
  });
});

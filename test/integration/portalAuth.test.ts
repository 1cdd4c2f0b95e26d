// The portal's sessions, login throttling and CSRF check, through HTTP against the whole app on the
// suite's database: a real cookie, a real form post, the event log read back.

import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import {
  loggedIn,
  PortalClient,
  seedPortalWorld,
  startPortalServer,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import { MAX_LOGIN_FAILURES } from '../../src/app/portal/auth.ts';

forEachDatabase('portal: login, sessions, CSRF', (ctx) => {
  let server: PortalServer;
  let world: PortalWorld;

  before(async () => {
    server = await startPortalServer(ctx);
    world = await seedPortalWorld(ctx);
  });
  after(() => server.close());

  it('sends a visitor to the login page and back to the page asked for after login', async () => {
    const client = new PortalClient(server.url);
    const first = await client.get('/portal/posizioni');
    expect(first.status).to.equal(303);
    expect(first.location).to.equal('/portal/login?next=%2Fportal%2Fposizioni');
    const form = await client.get(first.location as string);
    expect(form.text).to.include('name="_csrf"');
    const res = await client.post('/portal/login', {
      username: world.operatorA.username,
      password: 'portal-test-password',
      next: '/portal/posizioni',
    });
    expect(res.status).to.equal(303);
    expect(res.location).to.equal('/portal/posizioni');
    const home = await client.get('/portal/');
    expect(home.status).to.equal(200);
    expect(home.text).to.include(world.operatorA.username);
    expect(home.text).to.include(world.a.ente.fiscalCode).and.not.include(world.b.ente.fiscalCode);
  });

  it('does not redirect after login to another site', async () => {
    const client = new PortalClient(server.url);
    await client.get('/portal/login');
    const res = await client.post('/portal/login', {
      username: world.operatorA.username,
      password: 'portal-test-password',
      next: '//evil.example/portal/',
    });
    expect(res.location).to.equal('/portal/');
  });

  it('refuses a wrong password with one message for unknown users too, and logs the refusal', async () => {
    const client = new PortalClient(server.url);
    await client.get('/portal/login');
    const wrong = await client.post('/portal/login', {
      username: world.operatorB.username,
      password: 'nope-nope-nope',
    });
    expect(wrong.status).to.equal(401);
    expect(wrong.text).to.include('Nome utente o password errati');
    const unknown = await client.post('/portal/login', {
      username: 'nobody-here',
      password: 'nope-nope-nope',
    });
    expect(unknown.status).to.equal(401);
    expect(unknown.text).to.include('Nome utente o password errati');
    const events = await ctx
      .db('events')
      .where({ entity_type: 'portal_login', entity_id: world.operatorB.username });
    expect(events.map((e: { cause: string }) => e.cause)).to.include('login refused: wrong password');
    expect(JSON.stringify(events)).not.to.include('nope-nope-nope');
  });

  it('locks a username after repeated failures, even against the right password', async () => {
    const { createPortalUser } = await import('../../src/app/portal/auth.ts');
    const victim = await createPortalUser(
      ctx.store,
      {
        username: `victim-${process.pid}-${Date.now() % 100000}`,
        fullName: 'V',
        password: 'portal-test-password',
        role: 'admin',
      },
      'mocha',
    );
    const client = new PortalClient(server.url);
    await client.get('/portal/login');
    for (let i = 0; i < MAX_LOGIN_FAILURES; i++) {
      const res = await client.post('/portal/login', {
        username: victim.username,
        password: `wrong-${i}-password`,
      });
      expect(res.status, `attempt ${i}: ${res.text.slice(-800)}`).to.equal(401);
    }
    const locked = await client.post('/portal/login', {
      username: victim.username,
      password: 'portal-test-password',
    });
    expect(locked.status).to.equal(429);
    expect(locked.text).to.include('Troppi tentativi');
    // The address is locked too: clear it so other tests from 127.0.0.1 can log in.
    await ctx.store.portalUsers.clearLoginFailures('ip:127.0.0.1');
    await ctx.store.portalUsers.clearLoginFailures('ip:::ffff:127.0.0.1');
  });

  it("refuses a form without its CSRF token or with another session's, and logs it", async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const other = await loggedIn(server.url, world.operatorB);
    const none = await client.post('/portal/logout', {}, { csrf: false });
    expect(none.status).to.equal(403);
    expect(none.text).to.include('token di sicurezza');
    const foreign = await client.post('/portal/logout', { _csrf: other.csrf });
    expect(foreign.status).to.equal(403);
    // Still logged in: the refused logout changed nothing.
    expect((await client.get('/portal/')).status).to.equal(200);
    const refused = await ctx
      .db('events')
      .where({ entity_type: 'portal_request', actor: `portal:${world.operatorA.username}` });
    expect(refused.length).to.be.at.least(2);
  });

  it('ends the session on logout: the old cookie no longer opens pages', async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const res = await client.post('/portal/logout');
    expect(res.status).to.equal(303);
    expect((await client.get('/portal/')).status).to.equal(303);
  });

  it('keeps administration pages from operators', async () => {
    const client = await loggedIn(server.url, world.operatorA);
    expect((await client.get('/portal/admin')).status).to.equal(403);
  });

  it('sends security headers on portal pages', async () => {
    const res = await new PortalClient(server.url).get('/portal/login');
    expect(res.headers.get('content-security-policy')).to.include("default-src 'none'");
    expect(res.headers.get('x-frame-options')).to.equal('DENY');
    expect(res.headers.getSetCookie().join())
      .to.match(/HttpOnly/i)
      .and.match(/SameSite=Lax/i);
  });
});

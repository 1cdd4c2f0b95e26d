// Audit of refusals (issue 10, item 8): every refused request leaves an entry in the event log that
// says why, and no secret reaches the database in clear. One case per refusal: a gestionale call
// with a wrong WS-Security password, one cut off inside the password element, one for an ente the
// credential is not bound to, a node (emulator) call with a wrong station password, a portal login
// with a wrong password, a portal POST without CSRF token, a payment link signed by another key, and
// a drop-folder file the importer rejects. The last case reads every table of the database and looks
// for each secret the suite sent (passwords right and wrong, the tampered token): none may appear.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { forEachDatabase } from '../support/db.ts';
import { post } from '../support/soapServer.ts';
import {
  PORTAL_PASSWORD,
  PortalClient,
  loggedIn,
  seedPortalWorld,
  startPortalServer,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { WSSE_NS } from '../../src/soap/wsSecurity.ts';
import { SOAP_MESSAGE } from '../../src/soap/messageLog.ts';
import { signRedirectToken } from '../../src/app/redirectTokens.ts';
import { enteFolder } from '../../src/batch/dropFolder/forEnte.ts';
import { LocalDropFolder } from '../../src/batch/dropFolder/local.ts';
import { formatPpayFileName } from '../../src/batch/fileNames.ts';
import { Importer } from '../../src/batch/importer/importer.ts';

const PASSWORD_TEXT =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';

interface EventRow {
  entity_type: string;
  entity_id: string;
  action: string;
  cause: string | null;
  actor: string | null;
  payload: string | null;
}

/** A secret no table could hold by chance. */
function secret(label: string): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

function requestIuv(enteFiscalCode: string, username: string, password: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header>` +
    `<wsse:Security xmlns:wsse="${WSSE_NS}"><wsse:UsernameToken><wsse:Username>${username}</wsse:Username>` +
    `<wsse:Password Type="${PASSWORD_TEXT}">${password}</wsse:Password></wsse:UsernameToken></wsse:Security>` +
    `</soapenv:Header><soapenv:Body><g:requestIUVRequest xmlns:g="http://ppay-connector.it/gestionale/v1">` +
    `<enteFiscalCode>${enteFiscalCode}</enteFiscalCode><serviceCode>TARI</serviceCode>` +
    `</g:requestIUVRequest></soapenv:Body></soapenv:Envelope>`
  );
}

/**
 * The logged messages of one exchange, once `count` are there: node-soap's answers are logged as
 * they are sent, so the last entry may land just after the client has read the answer.
 */
async function soapMessages(db: Knex, correlationId: string, count = 2): Promise<EventRow[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const rows = await db<EventRow>('events')
      .where({ entity_type: SOAP_MESSAGE, entity_id: correlationId })
      .orderBy('id')
      .select('entity_type', 'entity_id', 'action', 'cause', 'actor', 'payload');
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function loggedXml(row: EventRow | undefined): string {
  return (JSON.parse(row?.payload ?? '{}') as { xml?: string }).xml ?? '';
}

/** Every table of the suite's database as text: secrets are looked for everywhere, not only in events. */
async function everyTableAsText(db: Knex, dialect: 'sqlite' | 'postgres'): Promise<Map<string, string>> {
  const tables =
    dialect === 'sqlite'
      ? (
          await db.raw<{ name: string }[]>(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'",
          )
        ).map((r) => r.name)
      : (
          await db.raw<{ rows: { table_name: string }[] }>(
            "select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
          )
        ).rows.map((r) => r.table_name);
  const out = new Map<string, string>();
  for (const table of tables) {
    const rows = (await db(table).select()) as Record<string, unknown>[];
    out.set(
      table,
      JSON.stringify(rows, (_k, v: unknown) =>
        Buffer.isBuffer(v) ? v.toString('utf8') : (v as { type?: string })?.type === 'Buffer' ? '' : v,
      ),
    );
  }
  return out;
}

forEachDatabase('audit of refused requests', (ctx) => {
  let server: PortalServer;
  let demo: DemoSummary;
  let world: PortalWorld;
  let importRoot: string;
  const secrets: string[] = [];

  before(async () => {
    demo = await seedDemo(ctx.store);
    world = await seedPortalWorld(ctx);
    server = await startPortalServer(ctx);
    importRoot = await mkdtemp(path.join(os.tmpdir(), 'ppay-audit-'));
    // The right passwords too: they are stored hashed, or not at all, never in clear.
    secrets.push(demo.client.password, PORTAL_PASSWORD);
  });
  after(async () => {
    await server?.close();
    if (importRoot) await rm(importRoot, { recursive: true, force: true });
  });

  it('logs a gestionale call with a wrong password as refused (500 soap:Client "Authentication failed"), password masked', async () => {
    const wrong = secret('wrong-gestionale-password');
    secrets.push(wrong);
    const res = await post(
      `${server.url}/ws/gestionale`,
      requestIuv(demo.enti[0]!.fiscalCode, demo.client.username, wrong),
      {
        SOAPAction: '"requestIUV"',
      },
    );
    expect(res.status).to.equal(500);
    expect(res.text).to.contain('soapenv:Client').and.contain('Authentication failed');
    const rows = await soapMessages(ctx.db, res.correlationId!);
    expect(rows.map((r) => r.action)).to.deep.equal(['request', 'fault']);
    expect(loggedXml(rows[0])).to.contain(`<wsse:Password Type="${PASSWORD_TEXT}">********</wsse:Password>`);
    expect(loggedXml(rows[0])).to.contain(`<wsse:Username>${demo.client.username}</wsse:Username>`);
    expect(loggedXml(rows[1])).to.contain('Authentication failed');
    expect(JSON.parse(rows[1]!.payload!)).to.include({ httpStatus: 500 });
  });

  it('masks the password of a gestionale message cut off inside the password element (500 soap:Client malformed)', async () => {
    const cut = requestIuv(demo.enti[0]!.fiscalCode, demo.client.username, demo.client.password);
    const body = cut.slice(0, cut.indexOf(demo.client.password) + demo.client.password.length);
    const res = await post(`${server.url}/ws/gestionale`, body, { SOAPAction: '"requestIUV"' });
    expect(res.status).to.equal(500);
    expect(res.text).to.contain('The message is not well-formed XML');
    const rows = await soapMessages(ctx.db, res.correlationId!);
    expect(rows.map((r) => r.action)).to.deep.equal(['request', 'fault']);
    expect(loggedXml(rows[0])).to.match(/<wsse:Password [^>]*>\*{8}$/);
  });

  it('logs a gestionale call for an ente the credential is not bound to as KO PPAY_UNAUTHORIZED', async () => {
    const res = await post(
      `${server.url}/ws/gestionale`,
      requestIuv(world.a.ente.fiscalCode, demo.client.username, demo.client.password),
      { SOAPAction: '"requestIUV"' },
    );
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('<faultCode>PPAY_UNAUTHORIZED</faultCode>');
    const rows = await soapMessages(ctx.db, res.correlationId!);
    expect(rows.map((r) => r.action)).to.deep.equal(['request', 'response']);
    expect(rows[1]!.cause).to.equal('GestionaleService.requestIUV');
    expect(loggedXml(rows[1])).to.contain('<faultCode>PPAY_UNAUTHORIZED</faultCode>');
    expect(loggedXml(rows[0])).to.contain('********').and.not.contain(demo.client.password);
  });

  it('logs a node call with a wrong station password as refused (PPT_AUTENTICAZIONE), password masked', async () => {
    const wrong = `W${randomBytes(5).toString('hex')}`; // station passwords are 8-15 characters
    secrets.push(wrong);
    const answer = await server.node.nodoChiediElencoFlussiRendicontazione({
      brokerFiscalCode: demo.broker.fiscalCode,
      stationId: demo.station.stationId,
      password: wrong,
    });
    expect(answer.fault?.faultCode).to.equal('PPT_AUTENTICAZIONE');
    const logged = () =>
      ctx
        .db<EventRow>('events')
        .where({ entity_type: SOAP_MESSAGE })
        .andWhere('cause', 'like', '%nodoChiediElencoFlussiRendicontazione')
        .orderBy('id')
        .select('entity_type', 'entity_id', 'action', 'cause', 'actor', 'payload');
    // Outbound request + response (connector) and inbound request + response (emulator).
    let rows = await logged();
    for (const deadline = Date.now() + 5_000; rows.length < 4 && Date.now() < deadline;) {
      await new Promise((resolve) => setImmediate(resolve));
      rows = await logged();
    }
    // The connector's outbound log and the emulator's inbound one: both masked, the answer says why.
    const requests = rows.filter((r) => r.action === 'request');
    expect(requests.length).to.equal(2);
    for (const r of requests) expect(loggedXml(r)).to.contain('<password>********</password>');
    expect(rows.some((r) => r.action === 'response' && loggedXml(r).includes('PPT_AUTENTICAZIONE'))).to.equal(
      true,
    );
  });

  it('logs a portal login with a wrong password as refused (401, "login refused: wrong password")', async () => {
    const wrong = secret('wrong-portal-password');
    secrets.push(wrong);
    const client = new PortalClient(server.url);
    await client.get('/portal/login');
    const res = await client.post('/portal/login', { username: world.operatorA.username, password: wrong });
    expect(res.status).to.equal(401);
    const refused = await ctx
      .db<EventRow>('events')
      .where({ entity_type: 'portal_login', entity_id: world.operatorA.username, action: 'refused' })
      .select('cause', 'actor');
    expect(refused.map((r) => r.cause)).to.deep.equal(['login refused: wrong password']);
    expect(refused[0]!.actor).to.match(/^portal:/);
  });

  it('logs a portal POST without CSRF token as refused (403, "CSRF token missing or wrong")', async () => {
    const client = await loggedIn(server.url, world.operatorB);
    const res = await client.post('/portal/logout', {}, { csrf: false });
    expect(res.status).to.equal(403);
    const refused = await ctx
      .db<EventRow>('events')
      .where({ entity_type: 'portal_request', action: 'refused' })
      .select('entity_id', 'cause', 'actor');
    expect(refused).to.deep.include({
      entity_id: '/logout',
      cause: 'CSRF token missing or wrong',
      actor: `portal:${world.operatorB.username}`,
    });
  });

  it('logs a payment link signed by another key as refused (400, REDIRECT_TOKEN_INVALID: signature mismatch), token masked', async () => {
    const forged = signRedirectToken(secret('another-key'), {
      sessionId: 'c0ffee00-0000-4000-8000-000000000000',
      expiresAt: new Date(Date.now() + 3_600_000),
      nonce: randomBytes(16).toString('base64url'),
    });
    secrets.push(forged, forged.split('.')[1]!);
    const res = await fetch(`${server.url}/pay/session/${forged}`);
    expect(res.status).to.equal(400);
    await res.arrayBuffer();
    const refused = await ctx
      .db<EventRow>('events')
      .where({ entity_type: 'citizen_request', action: 'refused' })
      .select('entity_id', 'cause', 'actor');
    expect(refused).to.deep.include({
      entity_id: '/session/***',
      cause: 'REDIRECT_TOKEN_INVALID: signature mismatch',
      actor: 'citizen:127.0.0.1',
    });
  });

  it('logs a drop-folder file the importer rejects with its error code (status_changed → result REJECTED)', async () => {
    const cf = demo.enti[0]!.fiscalCode;
    const dataDir = path.join(importRoot, 'data');
    const root = enteFolder(dataDir, cf);
    await new LocalDropFolder({ root }).ensureLayout();
    const name = formatPpayFileName({
      enteFiscalCode: cf,
      flowId: 'AUDIT',
      date: '2026-01-15',
      extension: 'csv',
    });
    await writeFile(path.join(root, 'in', `${name}.part`), 'not;a;ppay;header\n1;2;3;4\n');
    await rename(path.join(root, 'in', `${name}.part`), path.join(root, 'in', name));
    const importer = new Importer({ store: ctx.store, dataDir, completion: { settleMs: 0 }, batchRows: 50 });
    let report;
    try {
      report = await importer.runPass({ enteFiscalCode: cf });
    } finally {
      await importer.close();
    }
    const [file] = report.files;
    expect(file?.outcome).to.equal('REJECTED');
    expect(file?.errorCode).to.match(/^F_/);
    const events = await ctx
      .db<EventRow>('events')
      .where({ entity_type: 'import', action: 'status_changed', cause: 'result REJECTED' })
      .select('entity_id', 'payload');
    expect(events.map((e) => (JSON.parse(e.payload ?? '{}') as { errorCode?: string }).errorCode)).to.include(
      file?.errorCode,
    );
  });

  it('holds none of the secrets sent above in any table', async () => {
    expect(secrets.length).to.be.at.least(6);
    const tables = await everyTableAsText(ctx.db, ctx.dialect);
    expect(tables.get('events')?.length ?? 0, 'the events table was read').to.be.greaterThan(0);
    const found: string[] = [];
    for (const [table, text] of tables) {
      for (const s of secrets) if (text.includes(s)) found.push(`${table} holds ${s}`);
    }
    expect(found).to.deep.equal([]);
  });
});

// Fixture-driven conformance suite (node-soap's own test layout): one test per folder
// fixtures/soap/<operation>/<case>/ with request.xml and case.json, sent to the real server on
// port 0 over the demo data. Requests and answers are validated against our schemas and, for
// pagoPA services, against the official ones; rejected requests must leave the database unchanged.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { businessSnapshot, post, startTestServer, type TestServer } from '../support/soapServer.ts';
import { officialValidator, specAvailable } from '../support/officialSchemas.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { addClient } from '../../src/app/admin.ts';
import { loadManifest, PROJECT_ROOT, type ServiceDescription } from '../../src/soap/manifest.ts';
import { firstText, readEnvelope } from '../../src/soap/envelope.ts';
import { parseUntrusted, schemaSetFor, type ValidationResult } from '../../src/xml/schema.ts';
import { WSSE_NS } from '../../src/soap/wsSecurity.ts';

const FIXTURES = path.join(PROJECT_ROOT, 'fixtures/soap');

export type Credentials = 'demo' | 'none' | 'wrong' | 'revoked' | 'other-ente';

interface CaseFile {
  description: string;
  /** Whether request.xml's body element is valid against the schemas (ours, and the official ones for pagoPA). */
  valid: boolean;
  soapAction?: string;
  credentials?: Credentials;
  expect: { httpStatus: number; outcome?: 'OK' | 'KO'; faultCode?: string; soapFault?: 'Client' | 'Server' };
}

interface Fixture {
  operation: string;
  name: string;
  dir: string;
  service: ServiceDescription;
  spec: CaseFile;
  request: string;
}

const DEMO_PASSWORD = 'demo-gestionale-password';
const CREDENTIALS: Record<Exclude<Credentials, 'none'>, { username: string; password: string }> = {
  demo: { username: 'demo-gestionale', password: DEMO_PASSWORD },
  wrong: { username: 'demo-gestionale', password: 'not-the-password' },
  revoked: { username: 'fixture-revoked', password: 'fixture-revoked-password' },
  'other-ente': { username: 'fixture-other-ente', password: 'fixture-other-ente-password' },
};

function loadFixtures(): Fixture[] {
  if (!fs.existsSync(FIXTURES)) return [];
  const services = loadManifest().filter(
    (s) => s.path && (s.interface === 'pagopa' || s.interface === 'gestionale'),
  );
  const fixtures: Fixture[] = [];
  for (const operation of fs.readdirSync(FIXTURES).sort()) {
    const opDir = path.join(FIXTURES, operation);
    if (!fs.statSync(opDir).isDirectory()) continue;
    const service = services.find((s) => s.operations.some((o) => o.name === operation));
    if (!service)
      throw new Error(`fixtures/soap/${operation}: no served operation of that name in xsd/manifest`);
    for (const name of fs.readdirSync(opDir).sort()) {
      const dir = path.join(opDir, name);
      if (!fs.statSync(dir).isDirectory()) continue;
      const spec = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8')) as CaseFile;
      fixtures.push({
        operation,
        name,
        dir,
        service,
        spec,
        request: fs.readFileSync(path.join(dir, 'request.xml'), 'utf8'),
      });
    }
  }
  return fixtures;
}

/** A UsernameToken header for gestionale requests: fixtures carry none, the case says whose it is. */
function withCredentials(xml: string, credentials: Credentials): string {
  if (credentials === 'none') return xml;
  const { username, password } = CREDENTIALS[credentials];
  const security =
    `<wsse:Security xmlns:wsse="${WSSE_NS}"><wsse:UsernameToken><wsse:Username>${username}</wsse:Username>` +
    `<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">${password}</wsse:Password>` +
    `</wsse:UsernameToken></wsse:Security>`;
  const header = /<([\w-]+:)?Header\s*\/>|<([\w-]+:)?Header(\s[^>]*)?>/.exec(xml);
  if (header) {
    const prefix = header[1] ?? header[2] ?? '';
    if (header[0].endsWith('/>'))
      return xml.replace(header[0], `<${prefix}Header>${security}</${prefix}Header>`);
    return xml.replace(header[0], `${header[0]}${security}`);
  }
  const body = /<([\w-]+:)?Body[\s>]/.exec(xml);
  if (!body) throw new Error('request.xml has no SOAP Body');
  const prefix = body[1] ?? '';
  return xml.replace(body[0], `<${prefix}Header>${security}</${prefix}Header>${body[0]}`);
}

function payloadVerdicts(
  xml: string,
  service: ServiceDescription,
): { ours: ValidationResult; official: ValidationResult | null } {
  const doc = parseUntrusted(xml);
  try {
    const { payload } = readEnvelope(doc);
    const ours = schemaSetFor(service.schemas).validateNode(payload);
    const official =
      service.interface === 'pagopa' && specAvailable()
        ? officialValidator(service.wsdl).validateNode(payload)
        : null;
    return { ours, official };
  } finally {
    doc.dispose();
  }
}

function answerOf(xml: string): { fault: string | null; outcome: string | null; faultCode: string | null } {
  const doc = parseUntrusted(xml);
  try {
    const { payload } = readEnvelope(doc);
    if (payload.name === 'Fault')
      return { fault: firstText(payload, 'faultcode'), outcome: null, faultCode: null };
    return {
      fault: null,
      outcome: firstText(payload, 'outcome') ?? firstText(payload, 'esito'),
      faultCode: firstText(payload, 'faultCode'),
    };
  } finally {
    doc.dispose();
  }
}

const fixtures = loadFixtures();

describe('SOAP conformance fixtures', () => {
  it('cover every served operation with a valid case and three invalid ones', () => {
    const served = loadManifest()
      .filter((s) => s.path && (s.interface === 'pagopa' || s.interface === 'gestionale'))
      .flatMap((s) => s.operations.map((o) => o.name));
    for (const operation of served) {
      const cases = fixtures.filter((f) => f.operation === operation);
      expect(cases.filter((c) => c.spec.valid).length, `${operation}: valid cases`).to.be.at.least(1);
      expect(cases.filter((c) => !c.spec.valid).length, `${operation}: invalid cases`).to.be.at.least(3);
    }
  });

  for (const f of fixtures) {
    it(`${f.operation}/${f.name}: request is ${f.spec.valid ? 'valid' : 'invalid'} against our schema and the official one`, () => {
      const { ours, official } = payloadVerdicts(f.request, f.service);
      expect(ours.ok, JSON.stringify(ours)).to.equal(f.spec.valid);
      if (official) expect(official.ok, JSON.stringify(official)).to.equal(f.spec.valid);
    });
  }
});

forEachDatabase('SOAP conformance fixtures against the server', (ctx) => {
  let server: TestServer;

  before(async () => {
    const demo = await seedDemo(ctx.store);
    const [first, second] = demo.enti;
    await addClient(ctx.store, {
      ...CREDENTIALS.revoked,
      name: 'revoked fixture client',
      enti: [first!.fiscalCode],
      services: [],
      models: ['base', 'multe', 'async', 'sync'],
    });
    const revoked = await ctx.store.clients.findByUsername(CREDENTIALS.revoked.username);
    await ctx.store.clients.revoke(revoked!.id, { cause: 'fixture', actor: 'mocha' });
    await addClient(ctx.store, {
      ...CREDENTIALS['other-ente'],
      name: 'client bound to the second ente only',
      enti: [second!.fiscalCode],
      services: [],
      models: ['base', 'multe', 'async', 'sync'],
    });
    server = await startTestServer(ctx.db, ctx.store);
  });
  after(() => server?.close());

  for (const f of fixtures) {
    it(`${f.operation}/${f.name}: ${f.spec.description}`, async () => {
      const operation = f.service.operations.find((o) => o.name === f.operation)!;
      const xml =
        f.service.interface === 'gestionale'
          ? withCredentials(f.request, f.spec.credentials ?? 'demo')
          : f.request;
      const before = f.spec.expect.outcome === 'OK' ? null : await businessSnapshot(ctx.db);
      const res = await post(`${server.url}${f.service.path}`, xml, {
        SOAPAction: `"${f.spec.soapAction ?? operation.soapAction}"`,
      });
      expect(res.status, res.text).to.equal(f.spec.expect.httpStatus);
      const answer = answerOf(res.text);
      if (f.spec.expect.soapFault) {
        expect(answer.fault, res.text).to.equal(`soapenv:${f.spec.expect.soapFault}`);
      } else {
        const verdicts = payloadVerdicts(res.text, f.service);
        expect(verdicts.ours, `answer against our schema: ${res.text}`).to.deep.equal({ ok: true });
        if (verdicts.official)
          expect(verdicts.official, `answer against the official schema: ${res.text}`).to.deep.equal({
            ok: true,
          });
        expect(answer.outcome, res.text).to.equal(f.spec.expect.outcome);
        if (f.spec.expect.faultCode) expect(answer.faultCode, res.text).to.equal(f.spec.expect.faultCode);
      }
      if (before)
        expect(await businessSnapshot(ctx.db), 'business tables after a refused request').to.deep.equal(
          before,
        );
    });
  }
});

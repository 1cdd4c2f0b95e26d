// The SOAP plumbing against a real server on port 0 and a real database: size caps, DOCTYPE and
// entities, malformed envelopes, SOAPAction, XSD failures as pagoPA KO answers, fixed-text Faults,
// the message log, served WSDLs, and clients built from our WSDL and from the official one.
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import * as soap from 'soap';
import { forEachDatabase } from '../support/db.ts';
import { businessSnapshot, post, startTestServer, type TestServer } from '../support/soapServer.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { addClient } from '../../src/app/admin.ts';
import { parseUntrusted, schemaFor } from '../../src/xml/schema.ts';
import { readEnvelope, firstText } from '../../src/soap/envelope.ts';
import { pagopaBindings } from '../../src/soap/pagopa/bindings.ts';
import { checkOneToOne } from '../../src/soap/server.ts';
import { loadManifest } from '../../src/soap/manifest.ts';
import type { SoapServiceBinding } from '../../src/soap/server.ts';
import type { Store } from '../../src/db/store.ts';
import { logMessage, purgeMessageLog, redact } from '../../src/soap/messageLog.ts';

const SPEC = path.resolve(import.meta.dirname, '../../../shared/pagopa-spec');
const OFFICIAL_PA_FOR_NODE = path.join(SPEC, 'current/xsd/paForNode.xsd');
const PATH = '/ws/pagopa/paForNode';
const EC = '01234567897';

function verifyRequest(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:pafn="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd">
  <soapenv:Body>
    <pafn:paVerifyPaymentNoticeReq>${body}</pafn:paVerifyPaymentNoticeReq>
  </soapenv:Body>
</soapenv:Envelope>`;
}

const VALID_BODY = `<idPA>${EC}</idPA><idBrokerPA>12345678903</idBrokerPA><idStation>12345678903_01</idStation>
  <qrCode><fiscalCode>${EC}</fiscalCode><noticeNumber>301000000001234519</noticeNumber></qrCode>`;
const VERIFY = { SOAPAction: '"paVerifyPaymentNotice"' };

/** The answer element inside the response envelope, checked against our schema and the official one. */
function answer(xml: string): {
  outcome: string | null;
  faultCode: string | null;
  id: string | null;
  officialOk: boolean;
} {
  const doc = parseUntrusted(xml);
  try {
    const { payload } = readEnvelope(doc);
    const ours = schemaFor('xsd/pagopa/current/paForNode.xsd').validateNode(payload);
    expect(ours, JSON.stringify(ours)).to.deep.equal({ ok: true });
    const official = fs.existsSync(OFFICIAL_PA_FOR_NODE)
      ? schemaFor(OFFICIAL_PA_FOR_NODE).validateNode(payload).ok
      : true;
    return {
      outcome: firstText(payload, 'outcome'),
      faultCode: firstText(payload, 'faultCode'),
      id: firstText(payload, 'id'),
      officialOk: official,
    };
  } finally {
    doc.dispose();
  }
}

function soapFaultOf(xml: string): {
  code: string | null;
  text: string | null;
  correlationId: string | null;
} {
  const doc = parseUntrusted(xml);
  try {
    const { payload } = readEnvelope(doc);
    expect(payload.name).to.equal('Fault');
    return {
      code: firstText(payload, 'faultcode'),
      text: firstText(payload, 'faultstring'),
      correlationId: firstText(payload, 'correlationId'),
    };
  } finally {
    doc.dispose();
  }
}

forEachDatabase('SOAP plumbing (paForNode)', (ctx) => {
  let server: TestServer;
  let url: string;

  before(async () => {
    await seedDemo(ctx.store);
    server = await startTestServer(ctx.db, ctx.store);
    url = `${server.url}${PATH}`;
  });
  after(() => server?.close());

  async function expectUnchanged(fn: () => Promise<void>): Promise<void> {
    const before = await businessSnapshot(ctx.db);
    await fn();
    expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).to.equal(200);
  }

  /** The logged directions of one exchange; node-soap's replies are logged just after they are sent. */
  async function loggedFor(correlationId: string | null, expected = 2): Promise<string[]> {
    expect(correlationId).to.be.a('string');
    for (let attempt = 0; ; attempt++) {
      const events = await ctx.store.events.listFor('soap_message', correlationId as string);
      if (events.length >= expected || attempt === 50) return events.map((e) => e.action);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('answers a valid request through node-soap with a KO that validates against both schemas', async () => {
    const res = await post(url, verifyRequest(VALID_BODY), VERIFY);
    expect(res.status).to.equal(200);
    const a = answer(res.text);
    expect(a).to.include({ outcome: 'KO', faultCode: 'PAA_PAGAMENTO_SCONOSCIUTO', id: EC, officialOk: true });
    expect(await loggedFor(res.correlationId)).to.deep.equal(['request', 'response']);
  });

  it('answers PAA_SINTASSI_EXTRAXSD (HTTP 200, KO) when a required element is missing', async () => {
    await expectUnchanged(async () => {
      const res = await post(
        url,
        verifyRequest(VALID_BODY.replace(/<idStation>.*?<\/idStation>/, '')),
        VERIFY,
      );
      expect(res.status).to.equal(200);
      expect(answer(res.text)).to.include({
        outcome: 'KO',
        faultCode: 'PAA_SINTASSI_EXTRAXSD',
        id: EC,
        officialOk: true,
      });
      expect(await loggedFor(res.correlationId)).to.deep.equal(['request', 'response']);
    });
  });

  it('answers PAA_SINTASSI_EXTRAXSD for a pattern violation (17-digit notice number)', async () => {
    const res = await post(
      url,
      verifyRequest(VALID_BODY.replace('301000000001234519', '30100000000123451')),
      VERIFY,
    );
    expect(answer(res.text)).to.include({ outcome: 'KO', faultCode: 'PAA_SINTASSI_EXTRAXSD' });
  });

  it('refuses a DOCTYPE with a soap:Client Fault and a fixed text', async () => {
    await expectUnchanged(async () => {
      const xml = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>${verifyRequest(VALID_BODY).replace(/^<\?xml[^>]*>/, '')}`;
      const res = await post(url, xml, VERIFY);
      expect(res.status).to.equal(500);
      const fault = soapFaultOf(res.text);
      expect(fault).to.include({ code: 'soapenv:Client', text: 'DOCTYPE is not allowed' });
      expect(fault.correlationId).to.equal(res.correlationId);
      expect(await loggedFor(res.correlationId)).to.deep.equal(['request', 'fault']);
    });
  });

  it('refuses an external entity without reading it', async () => {
    const xml = `<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${verifyRequest(VALID_BODY.replace(EC, '&xxe;'))}`;
    const res = await post(url, xml, VERIFY);
    expect(soapFaultOf(res.text).text).to.equal('DOCTYPE is not allowed');
    expect(res.text).not.to.contain('root:');
  });

  it('refuses a body over the size cap with 413, also when it only grows past it once inflated', async () => {
    await expectUnchanged(async () => {
      const huge = verifyRequest(VALID_BODY + `<!--${'x'.repeat(6 * 1024 * 1024)}-->`);
      const plain = await post(url, huge, VERIFY);
      expect(plain.status).to.equal(413);
      expect(soapFaultOf(plain.text)).to.include({
        code: 'soapenv:Client',
        text: 'The message is too large',
      });
      const bomb = gzipSync(Buffer.from(huge));
      expect(bomb.length).to.be.below(100 * 1024);
      const zipped = await post(url, bomb, { ...VERIFY, 'Content-Encoding': 'gzip' });
      expect(zipped.status).to.equal(413);
      expect(await loggedFor(zipped.correlationId, 1)).to.deep.equal(['fault']);
    });
  });

  it('refuses malformed XML, a non-SOAP root and an unknown body element with soap:Client', async () => {
    const cases: Array<[string, string]> = [
      [
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>',
        'The message is not well-formed XML',
      ],
      ['<hello/>', 'The message is not a SOAP 1.1 envelope with one body element'],
      [
        verifyRequest('').replace(/pafn:paVerifyPaymentNoticeReq/g, 'pafn:somethingElse'),
        'The body element is not an operation of this service',
      ],
      [
        verifyRequest(VALID_BODY).replace('http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd', 'urn:wrong'),
        'The body element is not an operation of this service',
      ],
    ];
    for (const [xml, text] of cases) {
      const res = await post(url, xml, VERIFY);
      expect(res.status, xml).to.equal(500);
      expect(soapFaultOf(res.text), xml).to.include({ code: 'soapenv:Client', text });
    }
  });

  it('refuses a SOAPAction that does not match the body element', async () => {
    await expectUnchanged(async () => {
      for (const action of ['"paGetPayment"', '', '"paVerifyPaymentNoticeX"']) {
        const res = await post(url, verifyRequest(VALID_BODY), { SOAPAction: action });
        expect(soapFaultOf(res.text).text, action).to.equal(
          'The SOAPAction header does not match the body element',
        );
      }
    });
  });

  it('turns an unexpected handler error into soap:Server with a fixed text and a correlation id', async () => {
    const reported: string[] = [];
    const bindings: SoapServiceBinding[] = pagopaBindings(ctx.store).map((b) =>
      b.wsdl !== 'paForNode.wsdl'
        ? b
        : {
            ...b,
            handlers: {
              ...b.handlers,
              paVerifyPaymentNotice: async () => {
                throw new Error('secret internal detail: /var/lib/db password=hunter2');
              },
            },
          },
    );
    const broken = await startTestServer(ctx.db, ctx.store, bindings);
    try {
      const res = await post(`${broken.url}${PATH}`, verifyRequest(VALID_BODY), VERIFY);
      expect(res.status).to.equal(500);
      const fault = soapFaultOf(res.text);
      expect(fault).to.include({ text: 'Internal error' });
      expect(fault.code).to.match(/:Server$/);
      expect(fault.correlationId).to.equal(res.correlationId);
      expect(res.text).not.to.contain('secret');
      expect(res.text).not.to.contain('hunter2');
      reported.push(fault.correlationId ?? '');
    } finally {
      await broken.close();
    }
    expect(reported).to.have.length(1);
  });

  it('trims the message log to its retention and keeps the other events', async () => {
    const old = ctx.storeWith({ clock: () => new Date('2020-01-01T00:00:00Z') });
    await logMessage(old, {
      correlationId: 'old-one',
      direction: 'request',
      service: 'x',
      operation: null,
      xml: '<a/>',
    });
    await old.events.append({
      entityType: 'position',
      entityId: 'old-one',
      action: 'created',
      cause: 't',
      actor: 't',
    });
    const purged = await purgeMessageLog(ctx.store, 30);
    expect(purged).to.be.at.least(1);
    expect(await ctx.store.events.listFor('soap_message', 'old-one')).to.deep.equal([]);
    expect(await ctx.store.events.listFor('position', 'old-one')).to.have.length(1);
  });

  it('logs WS-Security passwords redacted', () => {
    const xml =
      '<wsse:UsernameToken><wsse:Username>u</wsse:Username><wsse:Password Type="x">s3cret</wsse:Password></wsse:UsernameToken>';
    expect(redact(xml)).to.equal(
      '<wsse:UsernameToken><wsse:Username>u</wsse:Username><wsse:Password Type="x">********</wsse:Password></wsse:UsernameToken>',
    );
    expect(redact('<Password>p</Password>')).to.equal('<Password>********</Password>');
    expect(redact('<password>DemoStation01</password>')).to.equal('<password>********</password>');
  });

  it('serves the generated WSDL with schema locations this server answers', async () => {
    const wsdl = await (await fetch(`${url}?wsdl`)).text();
    const locations = [...wsdl.matchAll(/schemaLocation="([^"]+)"/g)].map((m) => m[1] as string);
    expect(locations.length).to.be.greaterThan(0);
    for (const location of locations) {
      expect(location.startsWith(`${server.url}/xsd/`), location).to.equal(true);
      const xsd = await fetch(location);
      expect(xsd.status, location).to.equal(200);
      expect(await xsd.text()).to.contain('<xs:schema');
    }
    expect((await fetch(`${server.url}/xsd/../package.json`)).status).to.equal(404);
    expect(wsdl).to.contain(`location="${url}"`);
  });

  it('is callable by a node-soap client built from our served WSDL and from the official WSDL', async () => {
    const request = {
      idPA: EC,
      idBrokerPA: '12345678903',
      idStation: '12345678903_01',
      qrCode: { fiscalCode: EC, noticeNumber: '301000000001234519' },
    };
    const ours = await soap.createClientAsync(`${url}?wsdl`, { endpoint: url });
    const [fromOurs] = await ours.paVerifyPaymentNoticeAsync(request);
    expect(fromOurs).to.deep.include({ outcome: 'KO' });
    expect(fromOurs.fault.faultCode).to.equal('PAA_PAGAMENTO_SCONOSCIUTO');
    if (!fs.existsSync(SPEC)) return;
    const official = await soap.createClientAsync(path.join(SPEC, 'current/paForNode.wsdl'), {
      endpoint: url,
    });
    const [fromOfficial] = await official.paVerifyPaymentNoticeAsync(request);
    expect(fromOfficial.fault.faultCode).to.equal('PAA_PAGAMENTO_SCONOSCIUTO');
  });
});

forEachDatabase('SOAP plumbing (gestionale, WS-Security)', (ctx) => {
  let server: TestServer;
  before(async () => {
    await seedDemo(ctx.store);
    server = await startTestServer(ctx.db, ctx.store);
  });
  after(() => server?.close());

  async function client(password: string) {
    const wsdl = `${server.url}/ws/gestionale?wsdl`;
    const c = await soap.createClientAsync(wsdl, { endpoint: `${server.url}/ws/gestionale` });
    c.setSecurity(
      new soap.WSSecurity('demo-gestionale', password, { passwordType: 'PasswordText', hasTimeStamp: true }),
    );
    return c;
  }

  it('lets a node-soap client built from the served WSDL call with a UsernameToken', async () => {
    const c = await client('demo-gestionale-password');
    const [answer] = await c.requestIUVAsync({ enteFiscalCode: EC, serviceCode: 'TARI' });
    expect(answer.outcome).to.equal('OK');
    expect(answer.noticeNumber).to.match(/^301[0-9]{15}$/);
  });

  it('answers a wrong password with a soap:Client Fault and nothing else', async () => {
    const c = await client('wrong-password');
    try {
      await c.requestIUVAsync({ enteFiscalCode: EC, serviceCode: 'TARI' });
      expect.fail('the call was accepted');
    } catch (err) {
      const body = String((err as { body?: string }).body ?? '');
      expect(soapFaultOf(body)).to.include({ code: 'soapenv:Client', text: 'Authentication failed' });
    }
  });

  it('scopes a valid credential to its enti: another ente gets KO PPAY_UNAUTHORIZED', async () => {
    await addClient(ctx.store, {
      username: 'only-second-ente',
      password: 'only-second-ente-password',
      name: 'scoped',
      enti: ['98765432103'],
      services: [],
      models: ['base'],
    });
    const c = await soap.createClientAsync(`${server.url}/ws/gestionale?wsdl`, {
      endpoint: `${server.url}/ws/gestionale`,
    });
    c.setSecurity(
      new soap.WSSecurity('only-second-ente', 'only-second-ente-password', { passwordType: 'PasswordText' }),
    );
    const [mine] = await c.requestIUVAsync({ enteFiscalCode: '98765432103', serviceCode: 'CANONE' });
    expect(mine.outcome).to.equal('OK');
    const [other] = await c.requestIUVAsync({ enteFiscalCode: EC, serviceCode: 'TARI' });
    expect(other.fault.faultCode).to.equal('PPAY_UNAUTHORIZED');
    const [model] = await c.reserveNoticesAsync({
      enteFiscalCode: '98765432103',
      serviceCode: 'CANONE',
      count: 1,
    });
    expect(model.fault.faultCode).to.equal('PPAY_UNAUTHORIZED');
  });
});

forEachDatabase('SOAP plumbing (legacy PaPerNodo, SOAP header)', (ctx) => {
  let server: TestServer;
  before(async () => {
    await seedDemo(ctx.store);
    server = await startTestServer(ctx.db, ctx.store);
  });
  after(() => server?.close());

  const rt = fs.readFileSync(
    path.resolve(import.meta.dirname, '../../fixtures/pagopa/documents/rt/valid-five-payments.xml'),
  );
  const header = {
    identificativoIntermediarioPA: '12345678903',
    identificativoStazioneIntermediarioPA: '12345678903_01',
    identificativoDominio: EC,
    identificativoUnivocoVersamento: '01000000001234519',
    codiceContestoPagamento: 'CCP-0001',
  };

  async function callPaaInviaRT(wsdl: string) {
    const endpoint = `${server.url}/ws/pagopa/PaPerNodo`;
    const c = await soap.createClientAsync(wsdl, { endpoint });
    c.addSoapHeader({ intestazionePPT: header }, '', 'ppthead', 'http://ws.pagamenti.telematici.gov/ppthead');
    const [answer] = await c.paaInviaRTAsync({ tipoFirma: '', rt: rt.toString('base64') });
    return answer;
  }

  // The RT names another key than the header, so a real answer is PAA_SEMANTICA: what matters here
  // is that the header reached the connector and the answer came back through both clients.
  it('is callable, header included, by a node-soap client built from our served WSDL', async () => {
    const answer = await callPaaInviaRT(`${server.url}/ws/pagopa/PaPerNodo?wsdl`);
    expect(answer.paaInviaRTRisposta.esito).to.equal('KO');
    expect(answer.paaInviaRTRisposta.fault.faultCode).to.equal('PAA_SEMANTICA');
    expect(answer.paaInviaRTRisposta.fault.id).to.equal(EC);
  });

  it('is callable by a node-soap client built from the official PaPerNodo.wsdl', async function () {
    const official = path.join(SPEC, 'legacy/wsdl/PaPerNodo.wsdl');
    if (!fs.existsSync(official)) this.skip();
    const answer = await callPaaInviaRT(official);
    expect(answer.paaInviaRTRisposta.fault.faultCode).to.equal('PAA_SEMANTICA');
  });

  it('answers PAA_SINTASSI_EXTRAXSD when the intestazionePPT header is missing', async () => {
    const xml = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ppt="http://ws.pagamenti.telematici.gov/">
      <soapenv:Body><ppt:paaInviaRT><tipoFirma/><rt>${rt.toString('base64')}</rt></ppt:paaInviaRT></soapenv:Body></soapenv:Envelope>`;
    const res = await post(`${server.url}/ws/pagopa/PaPerNodo`, xml, { SOAPAction: 'paaInviaRT' });
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('<faultCode>PAA_SINTASSI_EXTRAXSD</faultCode>');
    expect(res.text).to.contain('<esito>KO</esito>');
  });
});

describe('SOAP services start-up check', () => {
  it('fails when the handlers and the WSDL operations differ', () => {
    const service = loadManifest().find((s) => s.wsdl === 'paForNode.wsdl');
    expect(service).to.not.equal(undefined);
    // The handlers are only listed here, never called: no database is needed.
    const handlers = pagopaBindings({} as Store).find((b) => b.wsdl === 'paForNode.wsdl')?.handlers ?? {};
    expect(() => checkOneToOne(service!, handlers)).not.to.throw();
    const { paSendRTV2: _dropped, ...missing } = handlers;
    expect(() => checkOneToOne(service!, missing)).to.throw(/no handler: paSendRTV2/);
    expect(() => checkOneToOne(service!, { ...handlers, paExtra: handlers.paSendRT })).to.throw(
      /not in WSDL: paExtra/,
    );
  });
});

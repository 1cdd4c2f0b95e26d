// Hostile-input corpus against every SOAP endpoint (issue 10 item 1): each case of
// fixtures/hostile/soap/<category>/<case>/ (format in fixtures/hostile/README.md, written by
// scripts/hostile-soap.ts) is posted to ONE real server (the whole app with its emulator, over the
// demo data) and must get exactly its typed answer (HTTP status and soap:Client Fault, or KO with
// its PAA_* / PPT_* / PPAY_* faultCode), leak nothing internal (assertNoLeak), leave every
// non-audit table unchanged (snapshotDb; an upload's own record where the case says why) and leave
// the server answering GET /health 200.
// The whole corpus runs on both databases (about 15 s each: one server, one snapshot per case).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { changedTables, snapshotDb, type DbSnapshot } from '../support/dbSnapshot.ts';
import {
  assertNoLeak,
  HOSTILE_SOAP_DIR,
  loadHostileCases,
  readSoapAnswer,
  sendHostile,
  startHostileServer,
  type HostileCase,
  type HostileServer,
} from '../support/hostile.ts';
import { PROJECT_ROOT } from '../../src/soap/manifest.ts';

const cases = loadHostileCases();

/** What each category proves, in corpus order (folder names). */
const CATEGORIES: Record<string, string> = {
  'malformed-xml': 'malformed XML: unclosed, truncated, garbage, empty, encodings, BOMs',
  'doctype-entities': 'DOCTYPE, external and parameter entities, billion laughs, quadratic blowup, XInclude',
  'size-compression': 'bodies over the limit, gzip / deflate / brotli bombs, invalid compression',
  'nesting-attributes': 'deep nesting, huge attribute and element counts',
  envelope: 'wrong namespaces, wrong root, no Body, two children, two Bodies, SOAP 1.2, wrong service',
  soapaction: 'SOAPAction missing, empty, of another operation or service, malformed',
  strings: 'strings over their XSD maxLength, control and invisible characters',
  amounts: 'negative, zero, fractional-cent, overflowing, exponent, signed and comma amounts',
  'notice-numbers': 'notice numbers and IUVs with wrong check or aux digits, length, letters',
  'fiscal-codes-ibans': 'invalid person and company fiscal codes, invalid IBANs',
  identity: 'unknown ente, wrong broker, wrong station, wrong station password',
  'invalid-utf8': 'invalid UTF-8 in text, names, attributes, comments and credentials',
  'ws-security': 'WS-Security: missing, wrong, unknown, digest, revoked, misplaced credentials',
};

function byCategory(list: HostileCase[]): Map<string, HostileCase[]> {
  const groups = new Map<string, HostileCase[]>();
  for (const c of list) groups.set(c.category, [...(groups.get(c.category) ?? []), c]);
  return groups;
}

/** Every file under `dir`, relative path → content. */
function filesUnder(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, full), fs.readFileSync(full));
  }
  return files;
}

describe('hostile SOAP corpus', () => {
  it('is exactly what scripts/hostile-soap.ts writes', function () {
    this.timeout(60_000);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-hostile-'));
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/hostile-soap.ts', out], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).to.equal(0);
      const committed = filesUnder(HOSTILE_SOAP_DIR);
      const generated = filesUnder(out);
      expect([...committed.keys()].sort()).to.deep.equal([...generated.keys()].sort());
      const differing = [...generated].filter(([file, bytes]) => !bytes.equals(committed.get(file)!));
      expect(
        differing.map(([file]) => file),
        'files that differ from the script output',
      ).to.deep.equal([]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('has at least 220 cases, each in a known category with a typed expectation', () => {
    expect(cases.length).to.be.at.least(220);
    for (const c of cases) {
      expect(Object.keys(CATEGORIES), c.dir).to.include(c.category);
      const typed = c.expect.soapFault !== undefined || c.expect.outcome === 'OK' || !!c.expect.faultCode;
      expect(typed, `${c.dir}: expected answer must be typed`).to.equal(true);
    }
  });
});

forEachDatabase('hostile SOAP corpus against one server', (ctx) => {
  let server: HostileServer;
  /** The database as the previous case left it; null after a failure, so the next case reads it afresh. */
  let snapshot: DbSnapshot | null = null;

  before(async function () {
    this.timeout(60_000);
    server = await startHostileServer(ctx.db, ctx.store);
  });
  after(() => server?.close());

  for (const [category, list] of byCategory(cases)) {
    describe(`${CATEGORIES[category] ?? category} (${list.length} cases)`, () => {
      for (const c of list) {
        it(`${c.name}: ${c.description}`, async () => {
          const before = snapshot ?? (await snapshotDb(ctx.db));
          snapshot = null;
          const res = await sendHostile(server.url, c);
          const where = `${c.category}/${c.name}`;
          expect(res.status, `${where}: HTTP status\n${res.text.slice(0, 2000)}`).to.equal(
            c.expect.httpStatus,
          );
          expect(res.headers.get('x-powered-by'), 'X-Powered-By').to.equal(null);
          assertNoLeak(res.text, where);
          const answer = readSoapAnswer(res.text);
          if (c.expect.soapFault) {
            expect(answer.fault, `${where}: ${res.text}`).to.equal(`soapenv:${c.expect.soapFault}`);
          } else {
            expect(answer.fault, `${where}: ${res.text}`).to.equal(null);
            if (c.expect.outcome) expect(answer.outcome, `${where}: ${res.text}`).to.equal(c.expect.outcome);
            if (c.expect.faultCode)
              expect(answer.faultCode, `${where}: ${res.text}`).to.equal(c.expect.faultCode);
          }

          const health = await fetch(`${server.url}/health`);
          expect(health.status, 'GET /health after the case').to.equal(200);
          await health.arrayBuffer();

          const now = await snapshotDb(ctx.db);
          const allowed = c.allowedChanges?.tables ?? [];
          const changed = changedTables(before, now).filter((t) => !allowed.includes(t));
          expect(changed, `${where}: tables changed by a refused request`).to.deep.equal([]);
          snapshot = now;
        });
      }
    });
  }
});

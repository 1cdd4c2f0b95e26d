// Authorization matrix of the gestionale API (issue 5 point 8, DESIGN §9), generated from a table
// as GovPay's suite does for its API: every operation × every credential situation is one test,
// sent to a real server over the demo data. The requests are the valid conformance fixtures
// (fixtures/soap/<operation>/valid-*/request.xml) pointed at data of the MENSA / MULTE services,
// which the "TARI only" client is not bound to.
//
// What each cell asserts is the AUTHORIZATION outcome only, so it holds whether the operation is
// implemented yet or still answers PPAY_NOT_IMPLEMENTED:
//   served       never PPAY_UNAUTHORIZED / PPAY_ENTE_UNKNOWN / PPAY_SERVICE_UNKNOWN /
//                PPAY_MODEL_NOT_ALLOWED, never a soap:Client fault;
//   unauthorized HTTP 200, KO PPAY_UNAUTHORIZED;
//   unknown      a request without serviceCode naming a position, notice or upload of an unbound
//                service is answered as if it did not exist (PPAY_*_UNKNOWN), never with its data;
//   unknown ente HTTP 200, KO PPAY_ENTE_UNKNOWN (a fiscal code with a valid check digit that no
//                ente has: a public fact, answered as such);
//   no access    HTTP 500, SOAP Fault soap:Client "Authentication failed".
// The revoked credential is revoked through the admin use case (revokeClient, what the portal's
// /portal/admin/gestionali/:id/revoca runs); a last group proves that a revocation and a password
// reset are refused on the very next call (no cached authentication).
// Every refused cell also leaves the business tables as they were (businessSnapshot). Refusals run
// before the served cell of each operation, so they meet the data in its initial state. A last
// group checks that a bound serviceCode cannot reach another service's data by reference.

import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { XmlElement } from 'libxml2-wasm';
import { forEachDatabase } from '../support/db.ts';
import { businessSnapshot, post, startTestServer, type TestServer } from '../support/soapServer.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { addClient } from '../../src/app/admin.ts';
import { resetClientPassword, revokeClient } from '../../src/app/portal/adminActions.ts';
import { parseEnteFiscalCode } from '../../src/domain/fiscalCode.ts';
import { INTEGRATION_MODELS, type IntegrationModel } from '../../src/db/repositories/clients.ts';
import { addDays, italianDate } from '../../src/domain/payability.ts';
import { payNotice } from '../../src/emulator/index.ts';
import { loadManifest, PROJECT_ROOT } from '../../src/soap/manifest.ts';
import { firstText, readEnvelope } from '../../src/soap/envelope.ts';
import { WSSE_NS } from '../../src/soap/wsSecurity.ts';
import { parseUntrusted } from '../../src/xml/schema.ts';

const EC = '01234567897'; // Comune di Esempio: TARI, MULTE, MENSA
const EC2 = '98765432103'; // Unione dei Comuni Demo: TRASPORTO, CANONE
const UNKNOWN_EC = '11111111115'; // a valid check digit, but no ente has it
const RETURN_URLS = ['https://servizi.comune.esempio.it', 'http://localhost'];
const AUTHORIZATION_CODES = [
  'PPAY_UNAUTHORIZED',
  'PPAY_ENTE_UNKNOWN',
  'PPAY_SERVICE_UNKNOWN',
  'PPAY_MODEL_NOT_ALLOWED',
];

interface Credential {
  username: string;
  password: string;
}

/** The credentials of the matrix, all created in `before` (the revoked one then revoked). */
const BOUND: Credential = { username: 'matrix-bound', password: 'matrix-bound-password' };
const TARI_ONLY: Credential = { username: 'matrix-tari-only', password: 'matrix-tari-only-password' };
const MULTE_ONLY: Credential = { username: 'matrix-multe-only', password: 'matrix-multe-only-password' };
const REVOKED: Credential = { username: 'matrix-revoked', password: 'matrix-revoked-password' };
const withoutModel = (model: IntegrationModel): Credential => ({
  username: `matrix-no-${model}`,
  password: `matrix-no-${model}-password`,
});

/** What the test setup created and the requests point at. */
interface World {
  /** Notice number of DEMO-MENSA-0001, paid by the emulated PSP (a receipt exists). */
  paidMensaNotice: string;
  /** Its IUV (the notice number without the aux digit): a listing that shows the payment has it. */
  paidMensaIuv: string;
  /** messageId of an upload of position MATRIX-MENSA-0001 to MENSA. */
  mensaUploadMessageId: string;
  /** Three notices reserved for MULTE: [0] activated and [1] released by the served cells. */
  reservedMulte: string[];
  /** Notice number of DEMO-CANONE-0001, on the other ente. */
  canoneNotice: string;
  today: string;
}

/** Element text to set in a fixture request; a list replaces every occurrence with these. */
type Edits = Record<string, string | string[]>;

type Scope =
  /** The request names its service (serviceCode). */
  | 'serviceCode'
  /** The request names a position, notice or upload, which belongs to a service. */
  | 'reference'
  /** The request reads data of the whole ente (reconciliation flows have no service). */
  | 'ente';

interface OperationRow {
  operation: string;
  /** The integration model the operation belongs to; null: a read any bound client may use. */
  model: IntegrationModel | null;
  /** The valid fixture case the request starts from. */
  fixture: string;
  scope: Scope;
  /** Edits for the call on the client's own ente: data of a service TARI_ONLY is not bound to. */
  own: (w: World) => Edits;
  /** Edits for the call on the other ente: its own data, so a leak would show. */
  other: (w: World) => Edits;
  /** scope 'reference': how the unbound service's data is answered (besides NOT_IMPLEMENTED). */
  unknownAs?: string[];
}

const OPERATIONS: OperationRow[] = [
  {
    operation: 'requestIUV',
    model: 'base',
    fixture: 'valid-tari',
    scope: 'serviceCode',
    own: () => ({ serviceCode: 'MENSA' }),
    other: () => ({ serviceCode: 'CANONE' }),
  },
  {
    operation: 'requestIUVBatch',
    model: 'base',
    fixture: 'valid-three',
    scope: 'serviceCode',
    own: () => ({ serviceCode: 'MENSA' }),
    other: () => ({ serviceCode: 'CANONE' }),
  },
  {
    operation: 'uploadDebtPositions',
    model: 'base',
    fixture: 'valid-insert',
    scope: 'serviceCode',
    own: () => ({ serviceCode: 'MENSA', messageId: 'MATRIX-UPLOAD-0001', positionId: 'MATRIX-MENSA-0002' }),
    other: () => ({ serviceCode: 'CANONE', messageId: 'MATRIX-UPLOAD-0001' }),
  },
  {
    operation: 'getUploadOutcome',
    model: null,
    fixture: 'valid-by-message-id-paged',
    scope: 'reference',
    own: (w) => ({ messageId: w.mensaUploadMessageId, pageNumber: '1' }),
    other: (w) => ({ messageId: w.mensaUploadMessageId, pageNumber: '1' }),
    unknownAs: ['PPAY_UPLOAD_UNKNOWN'],
  },
  {
    operation: 'getDebtPosition',
    model: null,
    fixture: 'valid-by-position-id',
    scope: 'reference',
    own: () => ({ positionId: 'DEMO-MENSA-0001' }),
    other: () => ({ positionId: 'DEMO-CANONE-0001' }),
    unknownAs: ['PPAY_POSITION_UNKNOWN'],
  },
  {
    operation: 'reserveNotices',
    model: 'multe',
    fixture: 'valid-multe',
    scope: 'serviceCode',
    own: () => ({ serviceCode: 'MULTE', count: '2' }),
    other: () => ({ serviceCode: 'CANONE', count: '2' }),
  },
  {
    operation: 'activateNotice',
    model: 'multe',
    fixture: 'valid-minimal',
    scope: 'reference',
    own: (w) => ({ noticeNumber: w.reservedMulte[0]!, dueDate: addDays(w.today, 60) }),
    other: (w) => ({ noticeNumber: w.reservedMulte[0]!, dueDate: addDays(w.today, 60) }),
    unknownAs: ['PPAY_NOTICE_UNKNOWN'],
  },
  {
    operation: 'releaseNotices',
    model: 'multe',
    fixture: 'valid-three',
    scope: 'reference',
    own: (w) => ({ noticeNumber: [w.reservedMulte[1]!] }),
    other: (w) => ({ noticeNumber: [w.reservedMulte[1]!] }),
    unknownAs: ['PPAY_NOTICE_UNKNOWN'],
  },
  {
    operation: 'createPaymentSession',
    model: 'async',
    fixture: 'valid-by-position-id',
    scope: 'reference',
    own: () => ({ positionId: 'MATRIX-MENSA-0001' }),
    other: () => ({ positionId: 'DEMO-CANONE-0001' }),
    unknownAs: ['PPAY_POSITION_UNKNOWN'],
  },
  {
    operation: 'startPayment',
    model: 'sync',
    fixture: 'valid-new-position',
    scope: 'serviceCode',
    own: () => ({ serviceCode: 'MENSA' }),
    other: () => ({ serviceCode: 'CANONE' }),
  },
  {
    operation: 'getPaymentStatus',
    model: null,
    fixture: 'valid-by-notice-number',
    scope: 'reference',
    own: (w) => ({ noticeNumber: w.paidMensaNotice }),
    other: (w) => ({ noticeNumber: w.canoneNotice }),
    unknownAs: ['PPAY_POSITION_UNKNOWN', 'PPAY_NOTICE_UNKNOWN'],
  },
  {
    operation: 'getReceipt',
    model: null,
    fixture: 'valid-by-notice-number',
    scope: 'reference',
    own: (w) => ({ noticeNumber: w.paidMensaNotice }),
    other: (w) => ({ noticeNumber: w.canoneNotice }),
    unknownAs: ['PPAY_NOTICE_UNKNOWN', 'PPAY_RECEIPT_UNKNOWN', 'PPAY_POSITION_UNKNOWN'],
  },
  {
    operation: 'getNoticeDocument',
    model: null,
    fixture: 'valid-notice-by-position-id',
    scope: 'reference',
    own: () => ({ positionId: 'DEMO-MENSA-0001', kind: 'RECEIPT' }),
    other: () => ({ positionId: 'DEMO-CANONE-0001' }),
    unknownAs: ['PPAY_POSITION_UNKNOWN'],
  },
  {
    operation: 'listPayments',
    model: null,
    fixture: 'valid-tari-month',
    scope: 'serviceCode',
    own: (w) => ({ serviceCode: 'MENSA', fromDate: w.today, toDate: w.today }),
    other: (w) => ({ serviceCode: 'CANONE', fromDate: w.today, toDate: w.today }),
  },
  {
    operation: 'listReconciliationFlows',
    model: null,
    fixture: 'valid-anomalies',
    scope: 'ente',
    own: () => ({}),
    other: () => ({}),
  },
  {
    operation: 'getReconciliationFlow',
    model: null,
    fixture: 'valid-minimal',
    scope: 'ente',
    own: () => ({}),
    other: () => ({}),
  },
];

type Expectation =
  | { kind: 'served' }
  | { kind: 'unauthorized' }
  | { kind: 'unknown'; codes: string[] }
  | { kind: 'ente-unknown' }
  | { kind: 'authentication-failed' };

interface Cell {
  title: string;
  credential: Credential | null;
  ente: 'own' | 'other' | 'unknown';
  expect: Expectation;
}

/** The credential situations, refusals first; the bound client last (it may change the data). */
function cellsOf(row: OperationRow): Cell[] {
  const own = { ente: 'own' as const };
  const served: Expectation = { kind: 'served' };
  const unauthorized: Expectation = { kind: 'unauthorized' };
  const refusedLogin: Expectation = { kind: 'authentication-failed' };
  const unboundService: Cell =
    row.scope === 'serviceCode'
      ? {
          ...own,
          title: 'client not bound to the serviceCode of its own ente → KO PPAY_UNAUTHORIZED',
          credential: TARI_ONLY,
          expect: unauthorized,
        }
      : row.scope === 'reference'
        ? {
            ...own,
            title: `client not bound to the service of the data named (no serviceCode) → answered as unknown (${(row.unknownAs ?? []).join(' / ')})`,
            credential: TARI_ONLY,
            expect: { kind: 'unknown', codes: row.unknownAs ?? [] },
          }
        : {
            ...own,
            title:
              'client bound to another service of the ente → served: flows belong to the ente, not to a service',
            credential: TARI_ONLY,
            expect: served,
          };
  const wrongModel: Cell = row.model
    ? {
        ...own,
        title: `client not bound to the ${row.model} model → KO PPAY_UNAUTHORIZED`,
        credential: withoutModel(row.model),
        expect: unauthorized,
      }
    : {
        ...own,
        title: 'client bound only to the multe model → served: the operation belongs to no model',
        credential: MULTE_ONLY,
        expect: served,
      };
  return [
    {
      ...own,
      title: 'no credential → soap:Client "Authentication failed"',
      credential: null,
      expect: refusedLogin,
    },
    {
      ...own,
      title: 'wrong password → soap:Client "Authentication failed"',
      credential: { username: BOUND.username, password: 'not-the-password' },
      expect: refusedLogin,
    },
    {
      ...own,
      title: 'revoked credential → soap:Client "Authentication failed"',
      credential: REVOKED,
      expect: refusedLogin,
    },
    {
      ente: 'other',
      title: 'bound client on an ente it is not bound to → KO PPAY_UNAUTHORIZED',
      credential: BOUND,
      expect: unauthorized,
    },
    {
      ente: 'unknown',
      title: 'bound client on an ente that does not exist → KO PPAY_ENTE_UNKNOWN',
      credential: BOUND,
      expect: { kind: 'ente-unknown' },
    },
    wrongModel,
    unboundService,
    {
      ...own,
      title: 'bound client on its own ente and bound service → served (no authorization error)',
      credential: BOUND,
      expect: served,
    },
  ];
}

// --- requests ------------------------------------------------------------------------------------

function fixtureRequest(operation: string, fixture: string): string {
  return fs.readFileSync(path.join(PROJECT_ROOT, 'fixtures/soap', operation, fixture, 'request.xml'), 'utf8');
}

/** Sets the text of every `<name>` element (unqualified children); a list replaces them all. */
function applyEdits(xml: string, edits: Edits): string {
  let out = xml;
  for (const [name, value] of Object.entries(edits)) {
    const pattern = new RegExp(`<${name}>[^<]*</${name}>`, 'g');
    if (!pattern.test(out)) throw new Error(`the fixture has no <${name}> to set`);
    if (Array.isArray(value)) {
      let first = true;
      out = out.replace(pattern, () => {
        if (!first) return '';
        first = false;
        return value.map((v) => `<${name}>${v}</${name}>`).join('');
      });
    } else {
      out = out.replace(pattern, `<${name}>${value}</${name}>`);
    }
  }
  return out;
}

function requestFor(row: OperationRow, world: World, ente: 'own' | 'other' | 'unknown'): string {
  const edits =
    ente === 'own'
      ? row.own(world)
      : ente === 'other'
        ? { enteFiscalCode: EC2, ...row.other(world) }
        : { enteFiscalCode: UNKNOWN_EC, ...row.own(world) };
  return applyEdits(fixtureRequest(row.operation, row.fixture), edits);
}

/** The request with a WS-Security UsernameToken (PasswordText) in its SOAP header. */
function withCredential(xml: string, credential: Credential | null): string {
  if (!credential) return xml;
  const security =
    `<wsse:Security xmlns:wsse="${WSSE_NS}"><wsse:UsernameToken>` +
    `<wsse:Username>${credential.username}</wsse:Username>` +
    `<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">${credential.password}</wsse:Password>` +
    `</wsse:UsernameToken></wsse:Security>`;
  const withoutHeader = xml.replace(/<soapenv:Header\s*\/>/, '');
  return withoutHeader.replace(
    /<soapenv:Body>/,
    `<soapenv:Header>${security}</soapenv:Header><soapenv:Body>`,
  );
}

interface Answer {
  status: number;
  text: string;
  /** soapenv:Client / soapenv:Server for a SOAP Fault, else null. */
  soapFault: string | null;
  faultString: string | null;
  /** The answer's own outcome and fault code (the response element's children). */
  outcome: string | null;
  faultCode: string | null;
  /** Every faultCode in the answer, the per-item ones included. */
  faultCodes: string[];
}

function elementChildren(node: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (let child = node.firstChild; child; child = child.next)
    if (child instanceof XmlElement) out.push(child);
  return out;
}

function allTexts(root: XmlElement, localName: string): string[] {
  const found: string[] = [];
  const stack = [root];
  while (stack.length) {
    const node = stack.shift()!;
    if (node.name === localName) found.push(node.content.trim());
    stack.push(...elementChildren(node));
  }
  return found;
}

async function call(server: TestServer, operation: string, xml: string, credential: Credential | null) {
  const res = await post(`${server.url}/ws/gestionale`, withCredential(xml, credential), {
    SOAPAction: `"${operation}"`,
  });
  const doc = parseUntrusted(res.text);
  try {
    const { payload } = readEnvelope(doc);
    const answer: Answer = {
      status: res.status,
      text: res.text,
      soapFault: null,
      faultString: null,
      outcome: null,
      faultCode: null,
      faultCodes: [],
    };
    if (payload.name === 'Fault') {
      answer.soapFault = firstText(payload, 'faultcode');
      answer.faultString = firstText(payload, 'faultstring');
      return answer;
    }
    const own = elementChildren(payload);
    answer.outcome = own.find((e) => e.name === 'outcome')?.content.trim() ?? null;
    const fault = own.find((e) => e.name === 'fault');
    answer.faultCode = fault ? firstText(fault, 'faultCode') : null;
    answer.faultCodes = allTexts(payload, 'faultCode');
    return answer;
  } finally {
    doc.dispose();
  }
}

function expectAnswer(answer: Answer, expected: Expectation): void {
  const text = answer.text;
  switch (expected.kind) {
    case 'served':
      expect(answer.soapFault, text).to.not.equal('soapenv:Client');
      if (!answer.soapFault) {
        expect(answer.status, text).to.equal(200);
        expect(answer.outcome, text).to.be.oneOf(['OK', 'KO']);
        expect([...AUTHORIZATION_CODES, 'PPAY_XSD_INVALID'], text).to.not.include(answer.faultCode);
      }
      return;
    case 'unauthorized':
      expect(answer.status, text).to.equal(200);
      expect(answer.soapFault, text).to.equal(null);
      expect(answer.outcome, text).to.equal('KO');
      expect(answer.faultCode, text).to.equal('PPAY_UNAUTHORIZED');
      return;
    case 'unknown':
      // KO (or, for releaseNotices, a KO per notice): the data is not shown, its absence is.
      expect(answer.status, text).to.equal(200);
      expect(answer.soapFault, text).to.equal(null);
      expect(answer.faultCodes.length, text).to.be.greaterThan(0);
      for (const code of answer.faultCodes)
        expect(code, text).to.be.oneOf([...expected.codes, 'PPAY_UNAUTHORIZED', 'PPAY_NOT_IMPLEMENTED']);
      return;
    case 'ente-unknown':
      expect(answer.status, text).to.equal(200);
      expect(answer.soapFault, text).to.equal(null);
      expect(answer.outcome, text).to.equal('KO');
      expect(answer.faultCode, text).to.equal('PPAY_ENTE_UNKNOWN');
      return;
    case 'authentication-failed':
      expect(answer.status, text).to.equal(500);
      expect(answer.soapFault, text).to.equal('soapenv:Client');
      expect(answer.faultString, text).to.equal('Authentication failed');
      return;
  }
}

// --- the suite -----------------------------------------------------------------------------------

const CELLS = OPERATIONS.flatMap((row) => cellsOf(row).map((cell) => ({ row, cell })));

describe('gestionale authorization matrix (table)', () => {
  it(`has ${OPERATIONS.length} operations × 8 credential situations = ${CELLS.length} cells`, () => {
    const service = loadManifest().find((s) => s.wsdl === 'gestionale.wsdl');
    const declared = (service?.operations ?? []).map((o) => o.name);
    expect(declared, 'operations of xsd/manifest/gestionale.json').to.have.length(16);
    expect(OPERATIONS.map((r) => r.operation).sort()).to.deep.equal([...declared].sort());
    expect(CELLS).to.have.length(OPERATIONS.length * 8);
    for (const row of OPERATIONS) {
      const kinds = cellsOf(row).map(
        (c) => `${c.ente}:${c.credential?.username ?? 'none'}:${c.credential?.password ?? ''}`,
      );
      expect(new Set(kinds).size, `${row.operation}: 8 distinct situations`).to.equal(8);
    }
    expect(String(parseEnteFiscalCode(UNKNOWN_EC))).to.equal(UNKNOWN_EC);
  });
});

forEachDatabase(
  'gestionale API authorization matrix (client × ente × service × model × operation)',
  (ctx) => {
    let server: TestServer;
    let world: World;

    async function demoCall(operation: string, fixture: string, edits: Edits): Promise<string> {
      const res = await post(
        `${server.url}/ws/gestionale`,
        withCredential(applyEdits(fixtureRequest(operation, fixture), edits), {
          username: 'demo-gestionale',
          password: 'demo-gestionale-password',
        }),
        { SOAPAction: `"${operation}"` },
      );
      expect(res.status, res.text).to.equal(200);
      expect(res.text, res.text).to.match(/<outcome>OK<\/outcome>/);
      return res.text;
    }

    before(async function () {
      this.timeout(60_000);
      const demo = await seedDemo(ctx.store);
      const client = (credential: Credential, name: string, services: string[], models: IntegrationModel[]) =>
        addClient(ctx.store, {
          ...credential,
          name,
          enti: [EC],
          services,
          models,
          returnUrlPrefixes: RETURN_URLS,
        });
      const all = [...INTEGRATION_MODELS];
      await client(BOUND, 'every service and model of the first ente', [], all);
      await client(TARI_ONLY, 'only TARI of the first ente, every model', ['TARI'], all);
      await client(MULTE_ONLY, 'every service of the first ente, multe model only', [], ['multe']);
      for (const model of INTEGRATION_MODELS)
        await client(
          withoutModel(model),
          `every service of the first ente, not the ${model} model`,
          [],
          all.filter((m) => m !== model),
        );
      await client(REVOKED, 'revoked', [], all);
      const revoked = await ctx.store.clients.findByUsername(REVOKED.username);
      expect(await revokeClient(ctx.store, revoked!, 'portal:mocha-admin')).to.equal(true);

      server = await startTestServer(ctx.db, ctx.store);

      const mensa = demo.positions.find((p) => p.positionId === 'DEMO-MENSA-0001')!;
      const paid = await payNotice({
        store: ctx.store,
        connectorUrl: server.url,
        enteFiscalCode: mensa.enteFiscalCode,
        noticeNumber: mensa.noticeNumber,
      });
      expect(paid.ok, JSON.stringify(paid.steps)).to.equal(true);

      const mensaUploadMessageId = 'MATRIX-MENSA-UPLOAD';
      await demoCall('uploadDebtPositions', 'valid-insert', {
        serviceCode: 'MENSA',
        messageId: mensaUploadMessageId,
        positionId: 'MATRIX-MENSA-0001',
        category: '9/0201133IM/',
      });
      const reserved = await demoCall('reserveNotices', 'valid-multe', {
        count: '3',
        requestId: 'matrix-reservation',
      });
      const reservedMulte = [...reserved.matchAll(/<noticeNumber>([0-9]{18})<\/noticeNumber>/g)].map(
        (m) => m[1]!,
      );
      expect(reservedMulte).to.have.length(3);

      world = {
        paidMensaNotice: mensa.noticeNumber,
        paidMensaIuv: mensa.iuv,
        mensaUploadMessageId,
        reservedMulte,
        canoneNotice: demo.positions.find((p) => p.positionId === 'DEMO-CANONE-0001')!.noticeNumber,
        today: italianDate(new Date()),
      };
    });
    after(() => server?.close());

    for (const row of OPERATIONS) {
      const scope =
        row.scope === 'serviceCode'
          ? 'serviceCode'
          : row.scope === 'reference'
            ? 'no serviceCode'
            : 'ente data';
      describe(`${row.operation} (model ${row.model ?? 'none'}, ${scope})`, () => {
        for (const cell of cellsOf(row)) {
          it(`${row.operation}: ${cell.title}`, async () => {
            const refused = cell.expect.kind !== 'served';
            const before = refused ? await businessSnapshot(ctx.db) : null;
            const answer = await call(
              server,
              row.operation,
              requestFor(row, world, cell.ente),
              cell.credential,
            );
            expectAnswer(answer, cell.expect);
            if (before)
              expect(await businessSnapshot(ctx.db), 'business tables after a refused call').to.deep.equal(
                before,
              );
          });
        }
      });
    }

    // A request under a bound serviceCode must not reach data of another service by reference.
    describe('references to an unbound service under a bound serviceCode (TARI-only client)', () => {
      it('uploadDebtPositions to TARI cancelling a MENSA position → item KO PPAY_POSITION_UNKNOWN, position unchanged', async () => {
        const ente = await ctx.store.enti.getByFiscalCode(EC);
        const before = await ctx.store.positions.findByPositionId(ente!.id, 'MATRIX-MENSA-0001');
        const xml = applyEdits(fixtureRequest('uploadDebtPositions', 'valid-cancel'), {
          messageId: 'MATRIX-CROSS-CANCEL',
          positionId: 'MATRIX-MENSA-0001',
        });
        const answer = await call(server, 'uploadDebtPositions', xml, TARI_ONLY);
        expect(answer.status, answer.text).to.equal(200);
        expect(answer.faultCodes, answer.text).to.deep.equal(['PPAY_POSITION_UNKNOWN']);
        const after = await ctx.store.positions.findByPositionId(ente!.id, 'MATRIX-MENSA-0001');
        expect({ status: after?.status, version: after?.version }).to.deep.equal({
          status: before?.status,
          version: before?.version,
        });
      });

      it('startPayment for TARI with a MENSA position in the cart → never OK, nothing stored', async () => {
        const xml = applyEdits(fixtureRequest('startPayment', 'valid-existing-positions'), {
          positionId: 'MATRIX-MENSA-0001',
        });
        const before = await businessSnapshot(ctx.db);
        const answer = await call(server, 'startPayment', xml, TARI_ONLY);
        expect(answer.status, answer.text).to.equal(200);
        expect(answer.outcome, answer.text).to.equal('KO');
        expect(answer.faultCode, answer.text).to.be.oneOf([
          'PPAY_POSITION_UNKNOWN',
          'PPAY_UNAUTHORIZED',
          'PPAY_NOT_IMPLEMENTED',
        ]);
        expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
      });

      it('listPayments without serviceCode → no authorization error, and never the MENSA payment', async () => {
        const xml = applyEdits(fixtureRequest('listPayments', 'valid-every-service'), {
          fromDate: world.today,
          toDate: world.today,
        });
        const answer = await call(server, 'listPayments', xml, TARI_ONLY);
        expectAnswer(answer, { kind: 'served' });
        expect(answer.text).to.not.include(world.paidMensaIuv);
      });
    });

    // The Authenticator reads the credential on every call and keys its password cache by the
    // stored hash: neither a revocation nor a reset may keep working for a while.
    describe('revocation and password reset through the admin use cases act on the next call', () => {
      const getDebtPosition = OPERATIONS.find((r) => r.operation === 'getDebtPosition')!;
      const addLiveClient = async (credential: Credential) => {
        await addClient(ctx.store, {
          ...credential,
          name: 'a client changed while in use',
          enti: [EC],
          services: [],
          models: [...INTEGRATION_MODELS],
          returnUrlPrefixes: RETURN_URLS,
        });
        return (await ctx.store.clients.findByUsername(credential.username))!;
      };

      it('served, then revokeClient → the very next call is soap:Client "Authentication failed"', async () => {
        const credential = { username: 'matrix-live-revoked', password: 'matrix-live-revoked-password' };
        const client = await addLiveClient(credential);
        const xml = requestFor(getDebtPosition, world, 'own');
        const first = await call(server, 'getDebtPosition', xml, credential);
        expectAnswer(first, { kind: 'served' });
        expect(first.outcome, first.text).to.equal('OK');
        expect(await revokeClient(ctx.store, client, 'portal:mocha-admin')).to.equal(true);
        const before = await businessSnapshot(ctx.db);
        expectAnswer(await call(server, 'getDebtPosition', xml, credential), {
          kind: 'authentication-failed',
        });
        expectAnswer(await call(server, 'requestIUV', requestFor(OPERATIONS[0]!, world, 'own'), credential), {
          kind: 'authentication-failed',
        });
        expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
        expect(await revokeClient(ctx.store, client, 'portal:mocha-admin'), 'a second revocation').to.equal(
          false,
        );
        expect((await ctx.store.clients.findByUsername(credential.username))?.status).to.equal('revoked');
      });

      it('served, then resetClientPassword → the old password fails at once, the new one is served', async () => {
        const credential = { username: 'matrix-live-reset', password: 'matrix-live-reset-password' };
        const client = await addLiveClient(credential);
        const xml = requestFor(getDebtPosition, world, 'own');
        expectAnswer(await call(server, 'getDebtPosition', xml, credential), { kind: 'served' });
        const password = await resetClientPassword(ctx.store, client, 'portal:mocha-admin');
        expect(password).to.not.equal(credential.password);
        expectAnswer(await call(server, 'getDebtPosition', xml, credential), {
          kind: 'authentication-failed',
        });
        const renewed = await call(server, 'getDebtPosition', xml, { ...credential, password });
        expectAnswer(renewed, { kind: 'served' });
        expect(renewed.outcome, renewed.text).to.equal('OK');
      });
    });
  },
);

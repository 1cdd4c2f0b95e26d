// The current-model EC endpoints (paForNode) end to end: a node-soap client built from the OFFICIAL
// paForNode.wsdl calls the real server on port 0 over the demo data, and every answer is checked
// against our schema and the official one. One test per outcome of verify / get payment / send RT /
// demand, plus the crash window between storing a receipt and closing its position.
import path from 'node:path';
import { expect } from 'chai';
import * as soap from 'soap';
import { forEachDatabase } from '../support/db.ts';
import { officialValidator, SPEC_DIR, specAvailable } from '../support/officialSchemas.ts';
import { businessSnapshot, startTestServer, type TestServer } from '../support/soapServer.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { createPosition } from '../../src/app/positions.ts';
import { issueNotices } from '../../src/app/notices.ts';
import { validateDebtPosition, type DebtPositionDraft } from '../../src/domain/position.ts';
import type { Store } from '../../src/db/store.ts';
import type { StoredPosition } from '../../src/db/repositories/positions.ts';
import { pagopaBindings } from '../../src/soap/pagopa/bindings.ts';
import { loadManifest } from '../../src/soap/manifest.ts';
import { readEnvelope } from '../../src/soap/envelope.ts';
import { parseUntrusted, schemaSetFor } from '../../src/xml/schema.ts';
import { XmlElement } from 'libxml2-wasm';

const OFFICIAL_WSDL = path.join(SPEC_DIR, 'current/paForNode.wsdl');
const PATH = '/ws/pagopa/paForNode';
const BROKER = '12345678903';
const STATION = '12345678903_01';
const COMUNE = '01234567897';
const UNIONE = '98765432103';
const IBAN_COMUNE = 'IT92F0306901000100000046001';
const CHANGE = { cause: 'test', actor: 'mocha' };

type Tree = { [name: string]: Tree | Tree[] | string | string[] };

/** An element as nested plain objects: leaves are text, repeated names are arrays. */
function treeOf(element: XmlElement): Tree | string {
  const children: XmlElement[] = [];
  for (let c = element.firstChild; c; c = c.next) if (c instanceof XmlElement) children.push(c);
  if (children.length === 0) return element.content;
  const tree: Tree = {};
  for (const child of children) {
    const value = treeOf(child);
    const existing = tree[child.name];
    if (existing === undefined) tree[child.name] = value as Tree;
    else tree[child.name] = [...(Array.isArray(existing) ? existing : [existing]), value] as Tree[];
  }
  return tree;
}

const manifest = loadManifest().find((s) => s.wsdl === 'paForNode.wsdl');
const ourSchema = () => schemaSetFor(manifest!.schemas);

/** The answer element of a raw response, after checking it against our schema and the official one. */
function answerOf(raw: string): { name: string; tree: Tree } {
  const doc = parseUntrusted(raw);
  try {
    const { payload } = readEnvelope(doc);
    expect(ourSchema().validateNode(payload), `ours: ${raw}`).to.deep.equal({ ok: true });
    expect(officialValidator('paForNode.wsdl').validateNode(payload), `official: ${raw}`).to.deep.equal({
      ok: true,
    });
    return { name: payload.name, tree: treeOf(payload) as Tree };
  } finally {
    doc.dispose();
  }
}

function identity(idPA = COMUNE) {
  return { idPA, idBrokerPA: BROKER, idStation: STATION };
}

function qr(noticeNumber: string, fiscalCode = COMUNE) {
  return { qrCode: { fiscalCode, noticeNumber } };
}

function arr<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

function faultCodeOf(tree: Tree): string | undefined {
  return (tree.fault as Tree | undefined)?.faultCode as string | undefined;
}

interface ReceiptInput {
  receiptId: string;
  noticeNumber: string;
  fiscalCode?: string;
  iuv: string;
  amount: string;
  transfers: Array<{ amount: string; fiscalCodePA: string; iban: string; companyName?: string }>;
  outcome?: 'OK' | 'KO';
}

/** A receipt as the node writes it, keys in schema order (node-soap writes them as given). */
function receipt(input: ReceiptInput, v2 = false) {
  return {
    receiptId: input.receiptId,
    noticeNumber: input.noticeNumber,
    fiscalCode: input.fiscalCode ?? COMUNE,
    outcome: input.outcome ?? 'OK',
    creditorReferenceId: input.iuv,
    paymentAmount: input.amount,
    description: 'Pagamento di prova',
    companyName: 'Comune di Esempio',
    debtor: {
      uniqueIdentifier: { entityUniqueIdentifierType: 'F', entityUniqueIdentifierValue: 'RSSMRA85T10A562S' },
      fullName: 'Mario Rossi',
    },
    transferList: {
      transfer: input.transfers.map((t, i) => ({
        idTransfer: String(i + 1),
        transferAmount: t.amount,
        fiscalCodePA: t.fiscalCodePA,
        ...(v2 && t.companyName ? { companyName: t.companyName } : {}),
        IBAN: t.iban,
        remittanceInformation: `/RFB/${input.iuv}/${t.amount}`,
        transferCategory: '0101101IM',
      })),
    },
    idPSP: 'ABCDITMMXXX',
    PSPCompanyName: 'Banca Esempio S.p.A.',
    idChannel: '88888888888_01',
    channelDescription: 'app',
    paymentDateTime: '2026-11-05T10:31:12',
  };
}

/** A one-transfer receipt to the Comune for a notice of a given IUV and amount. */
function simpleReceipt(receiptId: string, noticeNumber: string, iuv: string, amount: string) {
  return receipt({
    receiptId,
    noticeNumber,
    iuv,
    amount,
    transfers: [{ amount, fiscalCodePA: COMUNE, iban: IBAN_COMUNE }],
  });
}

let receiptCounter = 0;
function newReceiptId(): string {
  receiptCounter += 1;
  return `${process.pid.toString(16)}r${Date.now().toString(16)}${receiptCounter}`.slice(0, 35);
}

/** A store whose next transaction runs its writes and then fails: a crash after the completion. */
function crashingOnce(store: Store): Store {
  let armed = true;
  return {
    ...store,
    transaction: <T>(fn: (tx: Store) => Promise<T>): Promise<T> => {
      if (!armed) return store.transaction(fn);
      armed = false;
      return store.transaction(async (tx) => {
        await fn(tx);
        throw new Error('simulated crash after the completion writes');
      });
    },
  };
}

forEachDatabase('pagoPA current model (paForNode) with a client from the official WSDL', (ctx) => {
  let server: TestServer;
  let client: soap.Client;
  let demo: DemoSummary;
  let comuneId: number;

  before(async function () {
    if (!specAvailable()) this.skip();
    demo = await seedDemo(ctx.store);
    comuneId = (await ctx.store.enti.getByFiscalCode(COMUNE))!.id;
    server = await startTestServer(ctx.db, ctx.store);
    client = await soap.createClientAsync(OFFICIAL_WSDL, { endpoint: `${server.url}${PATH}` });
  });
  after(() => server?.close());

  /** Calls an operation with the official client; returns the checked answer. */
  async function call(operation: string, args: object, on = client): Promise<Tree> {
    const method = (on as unknown as Record<string, (a: object) => Promise<[unknown, string]>>)[
      `${operation}Async`
    ];
    const [, raw] = await method!.call(on, args);
    return answerOf(raw).tree;
  }

  function demoNotice(positionId: string, installment = 0): string {
    const p = demo.positions.find((x) => x.positionId === positionId)!;
    return installment === 0
      ? p.noticeNumber
      : p.installments.find((i) => i.installment === installment)!.noticeNumber;
  }

  async function position(noticeNumber: string, ente: string | number = COMUNE): Promise<StoredPosition> {
    return (await ctx.store.positions.findByNoticeNumber(ente, noticeNumber))!;
  }

  async function newPosition(positionId: string, cents: number): Promise<StoredPosition> {
    const draft: DebtPositionDraft = {
      positionId,
      description: `Posizione ${positionId}`,
      debtor: { type: 'F', fiscalCode: 'VRDLGU72C15F205L', fullName: 'Luigi Verdi' },
      options: [
        {
          installment: 0,
          amountCents: cents,
          dueDate: '2027-06-30',
          transfers: [{ amountCents: cents, iban: IBAN_COMUNE, category: '9/0101101IM/' }],
        },
      ],
    };
    return createPosition(ctx.store, { enteFiscalCode: COMUNE, serviceCode: 'TARI', draft, ...CHANGE });
  }

  /** A multe notice stored directly, without a debtor (anonymous fine), in the given status. */
  async function multeNotice(
    status: 'RESERVED' | 'VALID',
    multe: { ticketNumber: string; reducedAmountCents?: number; reducedUntil?: string },
  ): Promise<StoredPosition> {
    const ente = (await ctx.store.enti.getByFiscalCode(COMUNE))!;
    const service = (await ctx.store.services.get(ente.id, 'MULTE'))!;
    const [notice] = await issueNotices(ctx.store, ente, 1, { purpose: 'reserve', serviceId: service.id });
    const draft: DebtPositionDraft = {
      positionId: `MULTA-${multe.ticketNumber}`,
      description: `Verbale ${multe.ticketNumber}`,
      options: [
        {
          installment: 0,
          amountCents: 8750,
          dueDate: '2027-03-31',
          transfers: [{ amountCents: 8750, iban: IBAN_COMUNE, category: '9/0301107TS/' }],
        },
      ],
    };
    const valid = validateDebtPosition(draft, { enteFiscalCode: COMUNE, debtorOptional: true });
    return ctx.store.positions.insert(ente.id, service.id, valid, {
      status,
      notices: [{ iuv: notice!.iuv, noticeNumber: notice!.noticeNumber ?? null }],
      multe: {
        ticketNumber: multe.ticketNumber,
        reducedAmountCents: multe.reducedAmountCents ?? null,
        reducedUntil: multe.reducedUntil ?? null,
      },
      ...CHANGE,
    });
  }

  describe('paying a demo notice', () => {
    it('verifies, gets the payment and receives the receipt (V1), closing the position once', async () => {
      const notice = demoNotice('DEMO-TARI-0001');
      const before = await businessSnapshot(ctx.db);
      const verify = await call('paVerifyPaymentNotice', { ...identity(), ...qr(notice) });
      expect(await businessSnapshot(ctx.db), 'verify changes nothing').to.deep.equal(before);
      expect(verify).to.deep.include({
        outcome: 'OK',
        paymentDescription: 'TARI 2026 - DEMO-TARI-0001',
        fiscalCodePA: COMUNE,
        companyName: 'Comune di Esempio',
      });
      expect((verify.paymentList as Tree).paymentOptionDescription).to.deep.include({
        amount: '120.30',
        options: 'EQ',
        dueDate: '2027-01-31',
        allCCP: 'false',
      });

      const get = await call('paGetPayment', { ...identity(), ...qr(notice) });
      expect(get.outcome).to.equal('OK');
      const data = get.data as Tree;
      expect(data).to.deep.include({
        creditorReferenceId: '01000000000000144',
        paymentAmount: '120.30',
        dueDate: '2027-01-31',
        description: 'TARI 2026 - DEMO-TARI-0001',
        companyName: 'Comune di Esempio',
      });
      expect(data.debtor).to.deep.equal({
        uniqueIdentifier: {
          entityUniqueIdentifierType: 'F',
          entityUniqueIdentifierValue: 'RSSMRA85T10A562S',
        },
        fullName: 'Mario Rossi',
        'e-mail': 'mario.rossi@example.org',
      });
      const transfers = arr((data.transferList as Tree).transfer as Tree | Tree[]);
      expect(transfers).to.have.length(1);
      expect(transfers[0]).to.deep.include({
        idTransfer: '1',
        transferAmount: '120.30',
        fiscalCodePA: COMUNE,
        IBAN: IBAN_COMUNE,
        transferCategory: '0101101IM',
      });
      const attempts = await ctx.store.payments.listByIuv(comuneId, '01000000000000144');
      expect(attempts.map((p) => [p.kind, p.status, p.amountCents])).to.deep.equal([
        ['current', 'IN_PROGRESS', 12030],
      ]);

      const receiptId = newReceiptId();
      const sent = await call('paSendRT', {
        ...identity(),
        receipt: simpleReceipt(receiptId, notice, '01000000000000144', '120.30'),
      });
      expect(sent).to.deep.equal({ outcome: 'OK' });
      const paid = await position(notice);
      expect(paid.status).to.equal('PAID');
      expect(paid.options[0]!.status).to.equal('PAID');
      const stored = await ctx.store.receipts.listByIuv(comuneId, '01000000000000144');
      expect(stored).to.have.length(1);
      expect(stored[0]).to.include({
        receiptId,
        source: 'paSendRT',
        amountCents: 12030,
        flaggedReason: null,
      });
      expect(stored[0]!.optionId).to.equal(paid.options[0]!.id);
      expect(stored[0]!.document).to.match(/^<receipt>.*<receiptId>[^<]+<\/receiptId>.*<\/receipt>$/s);
      const settled = await ctx.store.payments.listByIuv(comuneId, '01000000000000144');
      expect(settled.map((p) => p.status)).to.deep.equal(['PAID']);
      const positionEvents = await ctx.store.events.listFor('position', paid.id);
      expect(positionEvents.map((e) => e.toStatus)).to.deep.equal(['VALID', 'PAID']);

      const again = await call('paVerifyPaymentNotice', { ...identity(), ...qr(notice) });
      expect(again.outcome).to.equal('KO');
      expect(faultCodeOf(again)).to.equal('PAA_PAGAMENTO_DUPLICATO');
      expect((again.fault as Tree).id).to.equal(COMUNE);
      const getAgain = await call('paGetPayment', { ...identity(), ...qr(notice) });
      expect(faultCodeOf(getAgain)).to.equal('PAA_PAGAMENTO_DUPLICATO');
    });

    it('gets the payment and receives the receipt with the V2 operations', async () => {
      const notice = demoNotice('DEMO-TARI-0002');
      const get = await call('paGetPaymentV2', { ...identity(), ...qr(notice) });
      expect(get.outcome).to.equal('OK');
      const data = get.data as Tree;
      expect(data).to.deep.include({ paymentAmount: '87.50', companyName: 'Comune di Esempio' });
      const [transfer] = arr((data.transferList as Tree).transfer as Tree | Tree[]);
      expect(transfer).to.deep.include({ companyName: 'Comune di Esempio', IBAN: IBAN_COMUNE });
      expect(transfer!.metadata).to.deep.equal({ mapEntry: { key: 'positionId', value: 'DEMO-TARI-0002' } });

      const sent = await call('paSendRTV2', {
        ...identity(),
        receipt: receipt(
          {
            receiptId: newReceiptId(),
            noticeNumber: notice,
            iuv: data.creditorReferenceId as string,
            amount: '87.50',
            transfers: [
              { amount: '87.50', fiscalCodePA: COMUNE, iban: IBAN_COMUNE, companyName: 'Comune di Esempio' },
            ],
          },
          true,
        ),
      });
      expect(sent).to.deep.equal({ outcome: 'OK' });
      expect((await position(notice)).status).to.equal('PAID');
      const [stored] = await ctx.store.receipts.listByIuv(comuneId, data.creditorReferenceId as string);
      expect(stored).to.include({ source: 'paSendRTV2', flaggedReason: null });
    });

    it('answers the postal account and allCCP true for a postal notice', async () => {
      const notice = demoNotice('DEMO-TRASP-0001');
      const verify = await call('paVerifyPaymentNotice', { ...identity(UNIONE), ...qr(notice, UNIONE) });
      expect((verify.paymentList as Tree).paymentOptionDescription).to.deep.include({
        amount: '180.00',
        allCCP: 'true',
      });
      const get = await call('paGetPaymentV2', {
        ...identity(UNIONE),
        ...qr(notice, UNIONE),
        transferType: 'POSTAL',
      });
      const [transfer] = arr(((get.data as Tree).transferList as Tree).transfer as Tree | Tree[]);
      expect(transfer).to.deep.include({
        IBAN: 'IT48F0760101000000012345678',
        transferCategory: '0201102IM',
      });
    });

    it('splits a two-beneficiary notice in two transfers and flags the copy the second EC receives', async () => {
      const notice = demoNotice('DEMO-TARI-TEFA-0001');
      const get = await call('paGetPaymentV2', { ...identity(), ...qr(notice) });
      const data = get.data as Tree;
      const transfers = arr((data.transferList as Tree).transfer as Tree | Tree[]);
      expect(transfers.map((t) => [t.fiscalCodePA, t.transferAmount, t.companyName])).to.deep.equal([
        [COMUNE, '70.00', 'Comune di Esempio'],
        [UNIONE, '30.00', 'Unione dei Comuni Demo'],
      ]);
      expect(data.paymentAmount).to.equal('100.00');
      const iuv = data.creditorReferenceId as string;
      const body = receipt({
        receiptId: newReceiptId(),
        noticeNumber: notice,
        iuv,
        amount: '100.00',
        transfers: [
          { amount: '70.00', fiscalCodePA: COMUNE, iban: IBAN_COMUNE },
          { amount: '30.00', fiscalCodePA: UNIONE, iban: 'IT40M0200801000000100200300' },
        ],
      });
      expect(await call('paSendRT', { ...identity(), receipt: body })).to.deep.equal({ outcome: 'OK' });
      expect(await call('paSendRT', { ...identity(UNIONE), receipt: body })).to.deep.equal({ outcome: 'OK' });
      expect((await position(notice)).status).to.equal('PAID');
      const unione = (await ctx.store.enti.getByFiscalCode(UNIONE))!;
      const [copy] = await ctx.store.receipts.listByIuv(unione.id, iuv);
      expect(copy).to.include({ flaggedReason: 'SECONDARY_BENEFICIARY', optionId: null });
      const [own] = await ctx.store.receipts.listByIuv(comuneId, iuv);
      expect(own).to.include({ flaggedReason: null });
    });

    it('offers installments one by one and refuses the single payment once an installment is paid', async () => {
      const first = demoNotice('DEMO-TARI-RATE-0001', 1);
      const get = await call('paGetPayment', { ...identity(), ...qr(first) });
      const iuv = (get.data as Tree).creditorReferenceId as string;
      expect((get.data as Tree).paymentAmount).to.equal('100.00');
      await call('paSendRT', { ...identity(), receipt: simpleReceipt(newReceiptId(), first, iuv, '100.00') });
      expect((await position(first)).status).to.equal('PARTIALLY_PAID');
      const single = await call('paVerifyPaymentNotice', {
        ...identity(),
        ...qr(demoNotice('DEMO-TARI-RATE-0001')),
      });
      expect(faultCodeOf(single)).to.equal('PAA_PAGAMENTO_DUPLICATO');
      const paidAgain = await call('paVerifyPaymentNotice', { ...identity(), ...qr(first) });
      expect(faultCodeOf(paidAgain)).to.equal('PAA_PAGAMENTO_DUPLICATO');
      const second = await call('paVerifyPaymentNotice', {
        ...identity(),
        ...qr(demoNotice('DEMO-TARI-RATE-0001', 2)),
      });
      expect(second.outcome).to.equal('OK');
    });
  });

  describe('notices that cannot be paid', () => {
    async function expectRefused(noticeNumber: string, faultCode: string, idPA = COMUNE): Promise<void> {
      const before = await businessSnapshot(ctx.db);
      for (const operation of ['paVerifyPaymentNotice', 'paGetPayment', 'paGetPaymentV2']) {
        const answer = await call(operation, { ...identity(idPA), ...qr(noticeNumber, idPA) });
        expect(answer.outcome, operation).to.equal('KO');
        expect(faultCodeOf(answer), operation).to.equal(faultCode);
        expect((answer.fault as Tree).id, operation).to.equal(idPA);
      }
      expect(await businessSnapshot(ctx.db), 'a refusal changes nothing').to.deep.equal(before);
    }

    it('answers KO PAA_PAGAMENTO_SCONOSCIUTO for the all-zero probe notice', async () => {
      await expectRefused('000000000000000000', 'PAA_PAGAMENTO_SCONOSCIUTO');
    });

    it('answers KO PAA_PAGAMENTO_SCONOSCIUTO for a notice never issued', async () => {
      await expectRefused('301000000009999058', 'PAA_PAGAMENTO_SCONOSCIUTO');
    });

    it('answers KO PAA_PAGAMENTO_SCONOSCIUTO for a notice of another EC', async () => {
      await expectRefused(demoNotice('DEMO-CANONE-0002'), 'PAA_PAGAMENTO_SCONOSCIUTO');
    });

    it('answers KO PAA_PAGAMENTO_SCONOSCIUTO for an inactive (reserved) multe notice', async () => {
      const reserved = await multeNotice('RESERVED', { ticketNumber: 'V-0001' });
      await expectRefused(reserved.options[0]!.noticeNumber!, 'PAA_PAGAMENTO_SCONOSCIUTO');
    });

    it('answers KO PAA_PAGAMENTO_ANNULLATO for a cancelled position', async () => {
      const created = await newPosition('CANCELLED-0001', 4200);
      await ctx.store.positions.cancel(created.id, CHANGE);
      await expectRefused(created.options[0]!.noticeNumber!, 'PAA_PAGAMENTO_ANNULLATO');
    });

    it('answers KO PAA_PAGAMENTO_SCADUTO for an expired position', async () => {
      const created = await newPosition('EXPIRED-0001', 4300);
      await ctx.store.positions.transition(created.id, 'EXPIRED', CHANGE);
      await expectRefused(created.options[0]!.noticeNumber!, 'PAA_PAGAMENTO_SCADUTO');
    });
  });

  describe('identity checks', () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ['idPA', { idPA: '11111111115' }, 'PAA_ID_DOMINIO_ERRATO'],
      ['idBrokerPA', { idBrokerPA: '99999999990' }, 'PAA_ID_INTERMEDIARIO_ERRATO'],
      ['idStation', { idStation: `${BROKER}_99` }, 'PAA_STAZIONE_INT_ERRATA'],
    ];
    for (const [field, override, faultCode] of cases) {
      it(`answers KO ${faultCode} on every operation when ${field} is wrong`, async () => {
        const notice = demoNotice('DEMO-CANONE-0001');
        const ids = { ...identity(UNIONE), ...override };
        const before = await businessSnapshot(ctx.db);
        const answers = [
          await call('paVerifyPaymentNotice', { ...ids, ...qr(notice, UNIONE) }),
          await call('paGetPayment', { ...ids, ...qr(notice, UNIONE) }),
          await call('paGetPaymentV2', { ...ids, ...qr(notice, UNIONE) }),
          await call('paSendRT', {
            ...ids,
            receipt: simpleReceipt(newReceiptId(), notice, '02000000000000285', '450.00'),
          }),
          await call('paDemandPaymentNotice', {
            ...ids,
            idServizio: '00012',
            idSoggettoServizio: '00001',
            datiSpecificiServizioRequest: Buffer.from('<service><importo>1.00</importo></service>').toString(
              'base64',
            ),
          }),
        ];
        for (const answer of answers) expect(faultCodeOf(answer)).to.equal(faultCode);
        expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
      });
    }
  });

  describe('paGetPayment', () => {
    it('answers the same data again and records one attempt while the payment is in progress', async () => {
      const created = await newPosition('GET-TWICE-0001', 2500);
      const notice = created.options[0]!.noticeNumber!;
      const first = await call('paGetPayment', { ...identity(), ...qr(notice) });
      const second = await call('paGetPayment', { ...identity(), ...qr(notice) });
      const third = await call('paGetPaymentV2', { ...identity(), ...qr(notice) });
      expect(second).to.deep.equal(first);
      expect((third.data as Tree).paymentAmount).to.equal('25.00');
      const attempts = await ctx.store.payments.listByIuv(comuneId, created.options[0]!.iuv);
      expect(attempts.map((p) => p.status)).to.deep.equal(['IN_PROGRESS']);
    });

    it('records one attempt when two activations of the same notice arrive together', async () => {
      const created = await newPosition('GET-RACE-0001', 2600);
      const notice = created.options[0]!.noticeNumber!;
      const answers = await Promise.all(
        [1, 2, 3].map(() => call('paGetPayment', { ...identity(), ...qr(notice) })),
      );
      for (const answer of answers) expect(answer.outcome).to.equal('OK');
      const attempts = await ctx.store.payments.listByIuv(comuneId, created.options[0]!.iuv);
      expect(attempts).to.have.length(1);
    });

    it('answers an anonymous fine with the ANONIMO debtor and its reduced amount while the reduction lasts', async () => {
      const reduced = await multeNotice('VALID', {
        ticketNumber: 'V-0002',
        reducedAmountCents: 6125,
        reducedUntil: '2099-12-31',
      });
      const get = await call('paGetPayment', { ...identity(), ...qr(reduced.options[0]!.noticeNumber!) });
      const data = get.data as Tree;
      expect(data.paymentAmount).to.equal('61.25');
      expect(arr((data.transferList as Tree).transfer as Tree | Tree[])[0]!.transferAmount).to.equal('61.25');
      expect(data.debtor).to.deep.equal({
        uniqueIdentifier: { entityUniqueIdentifierType: 'F', entityUniqueIdentifierValue: 'ANONIMO' },
        fullName: 'Proprietario del veicolo, verbale n. V-0002',
      });
      const late = await multeNotice('VALID', {
        ticketNumber: 'V-0003',
        reducedAmountCents: 6125,
        reducedUntil: '2000-01-31',
      });
      const verify = await call('paVerifyPaymentNotice', {
        ...identity(),
        ...qr(late.options[0]!.noticeNumber!),
      });
      expect((verify.paymentList as Tree).paymentOptionDescription).to.deep.include({ amount: '87.50' });
    });
  });

  describe('paSendRT', () => {
    it('stores a repeated receipt once and answers KO PAA_RECEIPT_DUPLICATA', async () => {
      const created = await newPosition('DUP-RECEIPT-0001', 3100);
      const option = created.options[0]!;
      const body = simpleReceipt(newReceiptId(), option.noticeNumber!, option.iuv, '31.00');
      expect(await call('paSendRT', { ...identity(), receipt: body })).to.deep.equal({ outcome: 'OK' });
      const before = await businessSnapshot(ctx.db);
      const repeat = await call('paSendRT', { ...identity(), receipt: body });
      expect(repeat.outcome).to.equal('KO');
      expect(faultCodeOf(repeat)).to.equal('PAA_RECEIPT_DUPLICATA');
      expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
      expect(await ctx.store.receipts.listByIuv(comuneId, option.iuv)).to.have.length(1);
      const v2Repeat = await call('paSendRTV2', { ...identity(), receipt: body });
      expect(faultCodeOf(v2Repeat)).to.equal('PAA_RECEIPT_DUPLICATA');
    });

    it('stores a receipt for an unknown position, flagged, and answers OK', async () => {
      const body = simpleReceipt(newReceiptId(), '301000000009999159', '01000000009999159', '12.00');
      expect(await call('paSendRT', { ...identity(), receipt: body })).to.deep.equal({ outcome: 'OK' });
      const [stored] = await ctx.store.receipts.listByIuv(comuneId, '01000000009999159');
      expect(stored).to.include({ flaggedReason: 'UNKNOWN_POSITION', optionId: null, amountCents: 1200 });
      expect(stored!.document).to.contain('<creditorReferenceId>01000000009999159</creditorReferenceId>');
    });

    it('stores a second payment of a paid notice flagged as a double payment, closing the position once', async () => {
      const created = await newPosition('DOUBLE-0001', 3200);
      const option = created.options[0]!;
      for (const id of [newReceiptId(), newReceiptId()]) {
        const body = simpleReceipt(id, option.noticeNumber!, option.iuv, '32.00');
        expect(await call('paSendRT', { ...identity(), receipt: body })).to.deep.equal({ outcome: 'OK' });
      }
      const receipts = await ctx.store.receipts.listByIuv(comuneId, option.iuv);
      expect(receipts.map((r) => r.flaggedReason)).to.deep.equal([null, 'DOUBLE_PAYMENT']);
      const paidEvents = (await ctx.store.events.listFor('payment_option', option.id)).filter(
        (e) => e.toStatus === 'PAID',
      );
      expect(paidEvents).to.have.length(1);
    });

    it('stores a receipt for a cancelled position flagged and leaves the position cancelled', async () => {
      const created = await newPosition('CANCELLED-RT-0001', 3300);
      const option = created.options[0]!;
      await ctx.store.positions.cancel(created.id, CHANGE);
      const body = simpleReceipt(newReceiptId(), option.noticeNumber!, option.iuv, '33.00');
      expect(await call('paSendRT', { ...identity(), receipt: body })).to.deep.equal({ outcome: 'OK' });
      expect((await position(option.noticeNumber!)).status).to.equal('CANCELLED');
      const [stored] = await ctx.store.receipts.listByIuv(comuneId, option.iuv);
      expect(stored).to.include({ flaggedReason: 'POSITION_CANCELLED', optionId: null });
    });

    it('closes an expired position that is paid anyway, flagging the receipt as a late payment', async () => {
      const created = await newPosition('EXPIRED-RT-0001', 3400);
      const option = created.options[0]!;
      await ctx.store.positions.transition(created.id, 'EXPIRED', CHANGE);
      const body = simpleReceipt(newReceiptId(), option.noticeNumber!, option.iuv, '34.00');
      expect(await call('paSendRT', { ...identity(), receipt: body })).to.deep.equal({ outcome: 'OK' });
      expect((await position(option.noticeNumber!)).status).to.equal('PAID');
      const [stored] = await ctx.store.receipts.listByIuv(comuneId, option.iuv);
      expect(stored).to.include({ flaggedReason: 'PAID_AFTER_EXPIRY', optionId: option.id });
    });

    it('keeps a receipt whose completion failed, and completes the position exactly once when it is sent again', async () => {
      const created = await newPosition('CRASH-0001', 3500);
      const option = created.options[0]!;
      await call('paGetPayment', { ...identity(), ...qr(option.noticeNumber!) });
      const crashing = await startTestServer(ctx.db, ctx.store, pagopaBindings(crashingOnce(ctx.store)));
      try {
        const crashClient = await soap.createClientAsync(OFFICIAL_WSDL, {
          endpoint: `${crashing.url}${PATH}`,
        });
        const body = simpleReceipt(newReceiptId(), option.noticeNumber!, option.iuv, '35.00');
        const failed = await call('paSendRT', { ...identity(), receipt: body }, crashClient).then(
          () => null,
          (err: { response?: { status?: number } }) => err,
        );
        expect(failed?.response?.status, 'the node sees a failure and will retry').to.equal(500);
        const [kept] = await ctx.store.receipts.listByIuv(comuneId, option.iuv);
        expect(kept).to.include({ optionId: null, flaggedReason: null });
        expect((await position(option.noticeNumber!)).status).to.equal('VALID');

        expect(await call('paSendRT', { ...identity(), receipt: body }, crashClient)).to.deep.equal({
          outcome: 'OK',
        });
        const paid = await position(option.noticeNumber!);
        expect(paid.status).to.equal('PAID');
        expect(await ctx.store.receipts.listByIuv(comuneId, option.iuv)).to.have.length(1);
        const paidEvents = (await ctx.store.events.listFor('payment_option', option.id)).filter(
          (e) => e.toStatus === 'PAID',
        );
        expect(paidEvents).to.have.length(1);
        const attempts = await ctx.store.payments.listByIuv(comuneId, option.iuv);
        expect(attempts.map((p) => p.status)).to.deep.equal(['PAID']);

        const third = await call('paSendRT', { ...identity(), receipt: body }, crashClient);
        expect(faultCodeOf(third)).to.equal('PAA_RECEIPT_DUPLICATA');
      } finally {
        await crashing.close();
      }
    });
  });

  describe('paDemandPaymentNotice', () => {
    const serviceData = (xml: string) => Buffer.from(xml).toString('base64');

    it('creates a spontaneous position and answers its notice, which can then be paid', async () => {
      const answer = await call('paDemandPaymentNotice', {
        ...identity(),
        idServizio: '00001',
        idSoggettoServizio: '00001',
        datiSpecificiServizioRequest: serviceData(
          '<datiSpecifici><importo>12.30</importo><codiceFiscale>BNCGLI90A41L219W</codiceFiscale>' +
            '<anagrafica>Giulia Bianchi</anagrafica><causale>Mensa gennaio</causale></datiSpecifici>',
        ),
      });
      expect(answer.outcome).to.equal('OK');
      const qrCode = answer.qrCode as Tree;
      expect(qrCode.fiscalCode).to.equal(COMUNE);
      expect((answer.paymentList as Tree).paymentOptionDescription).to.deep.include({
        amount: '12.30',
        options: 'EQ',
      });
      expect(answer).to.deep.include({
        paymentDescription: 'Mensa gennaio',
        companyName: 'Comune di Esempio',
      });
      const created = await position(qrCode.noticeNumber as string);
      expect(created.debtor).to.include({
        type: 'F',
        fiscalCode: 'BNCGLI90A41L219W',
        fullName: 'Giulia Bianchi',
      });
      const service = await ctx.store.services.getById(created.serviceId);
      expect(service?.code).to.equal('MENSA');

      const get = await call('paGetPayment', { ...identity(), ...qr(qrCode.noticeNumber as string) });
      const iuv = (get.data as Tree).creditorReferenceId as string;
      await call('paSendRT', {
        ...identity(),
        receipt: simpleReceipt(newReceiptId(), qrCode.noticeNumber as string, iuv, '12.30'),
      });
      expect((await position(qrCode.noticeNumber as string)).status).to.equal('PAID');
    });

    it('accepts the pagoPA generic service shape with a company and no name', async () => {
      const answer = await call('paDemandPaymentNotice', {
        ...identity(UNIONE),
        idServizio: '00012',
        idSoggettoServizio: '00003',
        datiSpecificiServizioRequest: serviceData(
          '<service xmlns="http://PuntoAccessoPSP.spcoop.gov.it/Servizio_generico"><codiceServizio>CANONE</codiceServizio>' +
            '<partitaIva>00514490010</partitaIva><importo>450</importo></service>',
        ),
      });
      expect(answer.outcome).to.equal('OK');
      const created = await position((answer.qrCode as Tree).noticeNumber as string, UNIONE);
      expect(created.debtor).to.include({ type: 'G', fiscalCode: '00514490010', fullName: '00514490010' });
      expect(created.options[0]!.amountCents).to.equal(45000);
    });

    it('answers KO PAA_SEMANTICA for an unknown or non-spontaneous service and for unusable service data', async () => {
      const before = await businessSnapshot(ctx.db);
      const bad: Array<[string, string]> = [
        ['99999', '<service><importo>1.00</importo></service>'],
        ['00001', '<!DOCTYPE service [<!ENTITY a "1.00">]><service><importo>&a;</importo></service>'],
        ['00001', '<service><causale>no amount</causale></service>'],
        ['00001', '<service><importo>1,00</importo></service>'],
        ['00001', '<other><importo>1.00</importo></other>'],
        ['00001', '<service><codiceServizio>TARI</codiceServizio><importo>1.00</importo></service>'],
        ['00001', 'not xml at all'],
      ];
      for (const [idServizio, xml] of bad) {
        const answer = await call('paDemandPaymentNotice', {
          ...identity(),
          idServizio,
          idSoggettoServizio: '00001',
          datiSpecificiServizioRequest: serviceData(xml),
        });
        expect(faultCodeOf(answer), xml).to.equal('PAA_SEMANTICA');
      }
      expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
    });
  });
});

// The outcome operations on real databases (getReceipt, getPaymentStatus, listPayments) and the
// redirect building blocks (signed tokens, the one-use nonce, the return URL allow-list). Receipts
// are produced the real way, by paying on the emulated node: paSendRTV2 (default station), paSendRT
// (station on primitive version 1) and a legacy RT (station on the legacy dialect). Every SOAP
// answer is validated against xsd/gestionale by the client helper.

import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { expectDomainError } from '../support/expectDomainError.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { addClient } from '../../src/app/admin.ts';
import { startOnlinePayment } from '../../src/app/pagopa/rptPayments.ts';
import { newNonce, signRedirectToken, verifyRedirectToken } from '../../src/app/redirectTokens.ts';
import { isAllowedReturnUrl, withOutcome } from '../../src/app/gestionale/returnUrls.ts';
import {
  EC,
  EC2,
  expectKo,
  expectOk,
  gestionaleClient,
  list,
  type GestionaleClient,
} from '../e2e/gestionaleClient.ts';
import {
  italianToday,
  payOnCheckout,
  startRedirectServer,
  type RedirectServer,
} from '../e2e/redirectSupport.ts';

type Obj = Record<string, unknown>;

const STATION = '12345678903_01';
const RETURN_URLS = {
  returnOkUrl: 'http://127.0.0.1/ok',
  returnCancelUrl: 'http://127.0.0.1/cancel',
  returnErrorUrl: 'http://127.0.0.1/error',
};
const SECRET = 'outcomes-test-secret-0123456789abcdef';

describe('redirect tokens', () => {
  // Far ahead: the suite may run long after this file was loaded.
  const expiresAt = new Date(Date.now() + 24 * 3600_000);
  const payload = { sessionId: 'c0ffee00-0000-4000-8000-000000000001', expiresAt, nonce: newNonce() };

  it('round-trips the session id, the expiry (whole seconds) and the nonce', () => {
    const token = signRedirectToken(SECRET, payload);
    const read = verifyRedirectToken(SECRET, token);
    expect(read.sessionId).to.equal(payload.sessionId);
    expect(read.nonce).to.equal(payload.nonce);
    expect(read.expiresAt.getTime()).to.equal(Math.floor(expiresAt.getTime() / 1000) * 1000);
  });

  it('refuses a token signed with another secret, or with a changed payload or signature', () => {
    const token = signRedirectToken(SECRET, payload);
    const [body, mac] = token.split('.') as [string, string];
    const other = signRedirectToken('another-secret-0123456789abcdef-xyz', payload);
    const forged = Buffer.from(
      JSON.stringify({ v: 1, sid: payload.sessionId, exp: 4102444800, n: payload.nonce }),
    ).toString('base64url');
    for (const bad of [
      other,
      `${forged}.${mac}`,
      `${body}.${mac.slice(1)}`,
      `${body}`,
      '',
      `${body}.${mac}.x`,
    ]) {
      expectDomainError(() => verifyRedirectToken(SECRET, bad), 'REDIRECT_TOKEN_INVALID');
    }
  });

  it('refuses a signature whose last character is changed, even to one that decodes the same', () => {
    // 32 MAC bytes take 43 base64url characters: the last one's two low bits are padding, which
    // the decoder ignores, so three of these changes decode to the right MAC.
    const token = signRedirectToken(SECRET, payload);
    const [body, mac] = token.split('.') as [string, string];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const others = [...alphabet].filter((c) => c !== mac.at(-1));
    expect(others).to.have.length(63);
    for (const c of others) {
      expectDomainError(
        () => verifyRedirectToken(SECRET, `${body}.${mac.slice(0, -1)}${c}`),
        'REDIRECT_TOKEN_INVALID',
      );
    }
  });

  it('refuses an expired token unless the caller accepts expired ones (the way back from pagoPA)', () => {
    const token = signRedirectToken(SECRET, { ...payload, expiresAt: new Date(Date.now() - 1000) });
    expectDomainError(() => verifyRedirectToken(SECRET, token), 'REDIRECT_TOKEN_EXPIRED');
    expect(verifyRedirectToken(SECRET, token, { allowExpired: true }).sessionId).to.equal(payload.sessionId);
  });
});

describe('return URL allow-list', () => {
  const prefixes = ['https://servizi.comune.example.it/tari', 'http://localhost/'];

  it('accepts URLs under an allowed prefix, any port when the prefix names none', () => {
    expect(isAllowedReturnUrl('https://servizi.comune.example.it/tari/esito?id=1', prefixes)).to.equal(true);
    expect(isAllowedReturnUrl('https://servizi.comune.example.it/tari', prefixes)).to.equal(true);
    expect(isAllowedReturnUrl('http://localhost:3000/x', prefixes)).to.equal(true);
  });

  it('refuses look-alike hosts, user info, other schemes and sibling paths', () => {
    for (const url of [
      'https://servizi.comune.example.it.evil.org/tari/esito',
      'https://servizi.comune.example.it@evil.org/tari/esito',
      'http://servizi.comune.example.it/tari/esito',
      'https://servizi.comune.example.it/tarif/esito',
      'https://servizi.comune.example.it/imu',
      'javascript:alert(1)',
      'not a url',
    ]) {
      expect(isAllowedReturnUrl(url, prefixes), url).to.equal(false);
    }
  });

  it('adds the outcome parameters and keeps the gestionale own query', () => {
    const url = withOutcome('https://g.example.it/esito?pratica=7', { outcome: 'OK', sessionId: 's1' });
    expect(url).to.equal('https://g.example.it/esito?pratica=7&outcome=OK&sessionId=s1');
  });
});

forEachDatabase('outcome operations: getReceipt, getPaymentStatus, listPayments', (ctx) => {
  let server: RedirectServer;
  let demo: DemoSummary;
  let client: GestionaleClient;
  let mensaOnly: GestionaleClient;
  let otherEnte: GestionaleClient;

  function notice(positionId: string) {
    return demo.positions.find((p) => p.positionId === positionId)!;
  }

  async function pay(positionId: string): Promise<void> {
    const result = await startOnlinePayment(ctx.store, server.node, {
      enteFiscalCode: EC,
      noticeNumbers: [notice(positionId).noticeNumber],
      returnUrls: RETURN_URLS,
    });
    expect(result.status, JSON.stringify(result)).to.equal('redirect');
    const paid = await payOnCheckout((result as { url: string }).url);
    expect(paid.status).to.equal(303);
  }

  async function setDialect(dialect: 'current' | 'legacy'): Promise<void> {
    const station = await ctx.store.stations.getByStationId(STATION);
    await ctx.store.stations.setDialect(station!.id, dialect);
  }

  before(async () => {
    demo = await seedDemo(ctx.store);
    server = await startRedirectServer(ctx);
    client = await gestionaleClient(server, {
      username: demo.client.username,
      password: demo.client.password,
    });
    const credentials = [
      { username: 'outcomes-mensa', password: 'outcomes-mensa-password', enti: [EC], services: ['MENSA'] },
      { username: 'outcomes-unione', password: 'outcomes-unione-password', enti: [EC2], services: [] },
    ];
    for (const c of credentials) {
      await addClient(ctx.store, { ...c, name: c.username, models: ['base'] });
    }
    mensaOnly = await gestionaleClient(server, credentials[0]!);
    otherEnte = await gestionaleClient(server, credentials[1]!);

    await pay('DEMO-TARI-0001'); // paSendRTV2: the emulator's default primitive version
    await server.edb.stations.update(STATION, { primitiveVersion: 1 });
    try {
      await pay('DEMO-TARI-0003'); // paSendRT
    } finally {
      await server.edb.stations.update(STATION, { primitiveVersion: 2 });
    }
    await setDialect('legacy');
    try {
      await pay('DEMO-TARI-0004'); // RPT → RT through paaInviaRT
    } finally {
      await setDialect('current');
    }
  });
  after(() => server?.close());

  async function receiptOf(positionId: string): Promise<Obj> {
    const answer = await client.call('getReceipt', {
      enteFiscalCode: EC,
      noticeNumber: notice(positionId).noticeNumber,
    });
    expectOk(answer);
    return answer.receipt as Obj;
  }

  describe('getReceipt', () => {
    it('reads a paSendRTV2 receipt: parsed fields, transfers and the document', async () => {
      const r = await receiptOf('DEMO-TARI-0001');
      expect(r).to.include({
        format: 'paSendRTV2',
        outcome: 'PAID',
        amountCents: '12030',
        serviceCode: 'TARI',
      });
      expect(r.iur).to.equal(r.receiptId);
      expect(r.ccp).to.equal(undefined);
      expect(r.description).to.equal('TARI 2026 - DEMO-TARI-0001');
      expect((r.debtor as Obj).fiscalCode).to.equal('RSSMRA85T10A562S');
      const [transfer] = list(r.transfer as Obj | Obj[]);
      expect(transfer).to.include({
        index: '1',
        enteFiscalCode: EC,
        amountCents: '12030',
        category: '9/0101101IM/',
      });
      expect(transfer!.iban).to.equal('IT92F0306901000100000046001');
      const document = Buffer.from(r.document as string, 'base64').toString('utf8');
      expect(document).to.match(/^<receipt[\s>]/);
      expect(document).to.include('<PSPCompanyName>');
    });

    it('reads a paSendRT receipt', async () => {
      const r = await receiptOf('DEMO-TARI-0003');
      expect(r).to.include({
        format: 'paSendRT',
        outcome: 'PAID',
        amountCents: '23400',
        positionId: 'DEMO-TARI-0003',
      });
      expect(r.pspName).to.be.a('string').and.not.equal(r.pspId);
    });

    it('reads a legacy RT: IUR and CCP of its own, the RT document whole', async () => {
      const r = await receiptOf('DEMO-TARI-0004');
      expect(r).to.include({
        format: 'RT',
        outcome: 'PAID',
        amountCents: '5000',
        positionId: 'DEMO-TARI-0004',
      });
      expect(r.ccp).to.be.a('string');
      const [transfer] = list(r.transfer as Obj | Obj[]);
      expect(transfer!.iur).to.equal(r.iur);
      expect(transfer).to.include({ category: '9/0101101IM/', amountCents: '5000' });
      const document = Buffer.from(r.document as string, 'base64').toString('utf8');
      expect(document).to.include('identificativoMessaggioRicevuta');
      const byId = await client.call('getReceipt', { enteFiscalCode: EC, receiptId: r.receiptId });
      expectOk(byId);
      expect((byId.receipt as Obj).format).to.equal('RT');
    });

    it('answers RECEIPT_UNKNOWN before payment, NOTICE_UNKNOWN for an unknown notice', async () => {
      expectKo(
        await client.call('getReceipt', {
          enteFiscalCode: EC,
          noticeNumber: notice('DEMO-TARI-0006').noticeNumber,
        }),
        'PPAY_RECEIPT_UNKNOWN',
      );
      expectKo(
        await client.call('getReceipt', { enteFiscalCode: EC, receiptId: 'no-such-receipt' }),
        'PPAY_RECEIPT_UNKNOWN',
      );
      expectKo(
        await client.call('getReceipt', { enteFiscalCode: EC, noticeNumber: '301999999999999999' }),
        'PPAY_NOTICE_UNKNOWN',
      );
    });

    it('hides the receipts of services the client is not bound to', async () => {
      const r = await receiptOf('DEMO-TARI-0001');
      expectKo(
        await mensaOnly.call('getReceipt', { enteFiscalCode: EC, receiptId: r.receiptId }),
        'PPAY_RECEIPT_UNKNOWN',
      );
      expectKo(
        await mensaOnly.call('getReceipt', {
          enteFiscalCode: EC,
          noticeNumber: notice('DEMO-TARI-0001').noticeNumber,
        }),
        'PPAY_NOTICE_UNKNOWN',
      );
    });
  });

  describe('getPaymentStatus', () => {
    it('answers every option of an installment plan, or only the one a notice number names', async () => {
      const plan = notice('DEMO-TARI-RATE-0001');
      const all = await client.call('getPaymentStatus', {
        enteFiscalCode: EC,
        positionId: 'DEMO-TARI-RATE-0001',
      });
      expectOk(all);
      expect(all.positionStatus).to.equal('VALID');
      const options = list(all.option as Obj | Obj[]);
      expect(options.map((o) => o.installment)).to.deep.equal(['0', '1', '2', '3']);
      expect(options.every((o) => o.status === 'UNPAID' && o.payment === undefined)).to.equal(true);
      const second = plan.installments.find((i) => i.installment === 2)!;
      const one = await client.call('getPaymentStatus', {
        enteFiscalCode: EC,
        noticeNumber: second.noticeNumber,
      });
      const [only, ...rest] = list(one.option as Obj | Obj[]);
      expect(rest).to.have.length(0);
      expect(only).to.include({ installment: '2', amountCents: '10000', status: 'UNPAID' });
      // node-soap's client reads xs:date as a Date at UTC midnight.
      expect(new Date(only!.dueDate as string).toISOString().slice(0, 10)).to.equal('2027-03-31');
    });

    it('answers POSITION_UNKNOWN for a position of a service the client is not bound to', async () => {
      expectKo(
        await mensaOnly.call('getPaymentStatus', { enteFiscalCode: EC, positionId: 'DEMO-TARI-0001' }),
        'PPAY_POSITION_UNKNOWN',
      );
    });
  });

  describe('listPayments', () => {
    const today = () => italianToday();

    async function listing(c: GestionaleClient, extra: Obj = {}) {
      return c.call('listPayments', { enteFiscalCode: EC, fromDate: today(), toDate: today(), ...extra });
    }

    it('lists the three payments of the day with their PSP, in payment order', async () => {
      const answer = await listing(client);
      expectOk(answer);
      expect(answer.pageInfo).to.deep.include({
        pageNumber: '1',
        pageSize: '100',
        totalItems: '3',
        totalPages: '1',
      });
      const payments = list(answer.payment as Obj | Obj[]);
      expect(payments.map((p) => p.positionId).sort()).to.deep.equal([
        'DEMO-TARI-0001',
        'DEMO-TARI-0003',
        'DEMO-TARI-0004',
      ]);
      for (const p of payments) expect(p.pspName, JSON.stringify(p)).to.be.a('string');
    });

    it('pages with pageSize and pageNumber, past the end to an empty page', async () => {
      const pages = [];
      for (const pageNumber of [1, 2, 3, 4]) {
        const answer = await listing(client, { pageNumber, pageSize: 1 });
        expectOk(answer);
        expect(answer.pageInfo).to.deep.include({ totalItems: '3', totalPages: '3' });
        pages.push(list(answer.payment as Obj | Obj[]));
      }
      expect(pages.map((p) => p.length)).to.deep.equal([1, 1, 1, 0]);
      expect(new Set(pages.flat().map((p) => p.receiptId)).size).to.equal(3);
    });

    it('is scoped to the service asked for and to the services the client is bound to', async () => {
      const tari = await listing(client, { serviceCode: 'TARI' });
      expect(tari.pageInfo).to.deep.include({ totalItems: '3' });
      const mensa = await listing(client, { serviceCode: 'MENSA' });
      expect(mensa.pageInfo).to.deep.include({ totalItems: '0', totalPages: '0' });
      expect(mensa.payment).to.equal(undefined);
      const bound = await listing(mensaOnly);
      expect(bound.pageInfo).to.deep.include({ totalItems: '0' });
      expectKo(await listing(mensaOnly, { serviceCode: 'TARI' }), 'PPAY_UNAUTHORIZED');
      expectKo(await listing(otherEnte), 'PPAY_UNAUTHORIZED');
    });

    it('finds nothing on other days and refuses reversed or too long ranges', async () => {
      const empty = await client.call('listPayments', {
        enteFiscalCode: EC,
        fromDate: '2020-01-01',
        toDate: '2020-01-31',
      });
      expect(empty.pageInfo).to.deep.include({ totalItems: '0' });
      const reversed = await client.call('listPayments', {
        enteFiscalCode: EC,
        fromDate: '2020-02-01',
        toDate: '2020-01-31',
      });
      expectKo(reversed, 'PPAY_INVALID_INPUT');
      expect(reversed.fault?.field).to.equal('toDate');
      const tooLong = await client.call('listPayments', {
        enteFiscalCode: EC,
        fromDate: '2020-01-01',
        toDate: '2020-02-01',
      });
      expectKo(tooLong, 'PPAY_INVALID_INPUT');
    });
  });

  describe('the one-use nonce', () => {
    it('lets exactly one of two concurrent payment starts consume it', async () => {
      const ente = await ctx.store.enti.getByFiscalCode(EC);
      const position = await ctx.store.positions.findByPositionId(ente!.id, 'DEMO-TARI-0005');
      const nonce = newNonce();
      const session = await ctx.store.paymentSessions.create(
        {
          id: `nonce-${ctx.dialect}`,
          nonce,
          clientId: null,
          enteId: ente!.id,
          positionId: position!.id,
          installment: 0,
          noticeNumber: position!.options[0]!.noticeNumber!,
          returnUrl: 'http://127.0.0.1/esito',
          cancelUrl: null,
          language: null,
          payerEmail: null,
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
        },
        { cause: 'test', actor: 'mocha' },
      );
      const change = { cause: 'test', actor: 'mocha' };
      const results = await Promise.all([
        ctx.store.paymentSessions.consumeNonce(session.id, nonce, change),
        ctx.store.paymentSessions.consumeNonce(session.id, nonce, change),
      ]);
      expect(results.filter(Boolean)).to.have.length(1);
      expect(await ctx.store.paymentSessions.consumeNonce(session.id, 'wrong-nonce', change)).to.equal(false);
      expect((await ctx.store.paymentSessions.get(session.id))!.status).to.equal('STARTED');
    });
  });
});

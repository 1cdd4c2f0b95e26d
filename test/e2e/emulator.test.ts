// The connector and its pagoPA node emulator in one server on port 0, with the model 3 RPT sender
// attached to a node client pointed at that emulator (as startConnector wires them), paying notices
// the way pagoPA does: a PSP paying a printed notice (verify → get payment → receipt, V2 and V1), a
// notice with two beneficiaries, the checkout page for a cart, a second attempt on a paid notice, a
// receipt delivered after the connector failed to take it; on a legacy station, model 3
// (paaVerificaRPT → paaAttivaRPT → the connector's nodoInviaRPT → paaInviaRT) and model 1 (the
// connector's RPT, the citizen paying or cancelling on the node's page, the RT); then every SOAP
// message exchanged, and every RPT and RT inside them, is checked against our schemas and the
// official ones. Last, `ppay start` + `ppay emulator pay` as real processes.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http, { type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { XmlElement } from 'libxml2-wasm';
import type { Knex } from 'knex';
import { forEachDatabase, randomEnteFiscalCode } from '../support/db.ts';
import { OFFICIAL_DOCUMENTS, officialValidator, specAvailable } from '../support/officialSchemas.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { startOnlinePayment } from '../../src/app/pagopa/rptPayments.ts';
import type { Store } from '../../src/db/store.ts';
import { loadManifest, XSD_DIR } from '../../src/soap/manifest.ts';
import { readEnvelope } from '../../src/soap/envelope.ts';
import { parseUntrusted, schemaFor, schemaSetFor } from '../../src/xml/schema.ts';
import { payNotice, type PaymentStep } from '../../src/emulator/index.ts';
import { createEmulatorDb } from '../../src/emulator/db.ts';
import {
  createLegacyEnte,
  createLegacyTariPosition,
  startLegacyServer,
  type LegacyServer,
} from '../integration/pagopaLegacySupport.ts';

const STATION = '12345678903_01';
/** A second station of the demo broker, on the legacy dialect (SANP 2.x). */
const LEGACY_STATION = '12345678903_09';
/** Where the node sends the citizen back after an RPT payment of the legacy station. */
const LEGACY_RETURN_URL = 'https://comune-legacy.example.org/pagopa/esito';
const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const CLI = path.join(ROOT, 'src/cli.ts');

type DemoPosition = DemoSummary['positions'][number];

function listen(handler: http.RequestListener | Parameters<typeof http.createServer>[1]): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler as http.RequestListener).listen(0, '127.0.0.1');
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** Steps as "<step> <outcome>[ <faultCode>]", the way the CLI prints them. */
const brief = (steps: PaymentStep[]) =>
  steps.map((s) => `${s.step} ${s.outcome}${s.faultCode ? ` ${s.faultCode}` : ''}`);

/**
 * A proxy to the connector that answers HTTP 503 to receipts (paSendRT / paSendRTV2): the connector
 * "down" exactly between get payment and send receipt.
 */
async function receiptBlackhole(target: string): Promise<Server> {
  return listen(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const action = String(req.headers.soapaction ?? '');
    if (/paSendRT/.test(action)) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('connector down');
      return;
    }
    const answer = await fetch(`${target}${req.url ?? '/'}`, {
      method: req.method ?? 'POST',
      headers: { 'Content-Type': String(req.headers['content-type'] ?? 'text/xml'), SOAPAction: action },
      body: Buffer.concat(chunks),
    });
    res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'text/xml' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
}

/** The children of an element that are elements. */
function childElements(element: XmlElement): XmlElement[] {
  const children: XmlElement[] = [];
  for (let node = element.firstChild; node; node = node.next)
    if (node instanceof XmlElement) children.push(node);
  return children;
}

/** The base64 RPT / RT documents a legacy message carries (nodoInviaRPT's rpt, paaInviaRT's rt, ...). */
function embeddedDocuments(element: XmlElement): string[] {
  const children = childElements(element);
  if ((element.name === 'rpt' || element.name === 'rt') && children.length === 0) {
    return [Buffer.from(element.content.trim(), 'base64').toString('utf8')];
  }
  return children.flatMap(embeddedDocuments);
}

/** An RPT or RT document checked against our rpt-rt.xsd and the official one; returns its root name. */
function checkDocument(xml: string): string {
  const ours = schemaFor(path.join(XSD_DIR, 'pagopa/documents/rpt-rt.xsd')).validateXml(xml);
  expect(ours, `ours: ${xml}`).to.deep.equal({ ok: true });
  if (specAvailable()) {
    const official = schemaFor(OFFICIAL_DOCUMENTS.rptRt()).validateXml(xml);
    expect(official, `official: ${xml}`).to.deep.equal({ ok: true });
  }
  const doc = parseUntrusted(xml);
  try {
    return doc.root.name;
  } finally {
    doc.dispose();
  }
}

/**
 * Every SOAP message in the connector's message log, checked against our schema and the official one,
 * with the RPTs and RTs inside legacy messages. The served side logs the service by its WSDL name
 * (PagamentiTelematiciRPTservice); the connector's node client logs the node's own name (NodoPerPa).
 */
async function checkMessageLog(
  db: Knex,
): Promise<{ operations: Set<string>; documents: Record<string, boolean> }> {
  const manifest = loadManifest();
  const services = new Map(manifest.map((s) => [s.service, s]));
  const byWsdl = new Map(manifest.map((s) => [path.basename(s.wsdl, '.wsdl'), s]));
  const rows = await db('events')
    .where({ entity_type: 'soap_message' })
    .select<Array<{ payload: string }>>('payload');
  const operations = new Set<string>();
  const documents: Record<string, boolean> = {};
  for (const row of rows) {
    const message = JSON.parse(row.payload) as { service: string; xml: string; operation: string | null };
    const service = services.get(message.service) ?? byWsdl.get(message.service);
    expect(service, message.service).to.not.equal(undefined);
    const doc = parseUntrusted(message.xml);
    try {
      const { header, payload } = readEnvelope(doc);
      expect(payload.name, message.xml).to.not.equal('Fault');
      const blocks = [payload, ...(header ? childElements(header) : [])];
      for (const block of blocks) {
        expect(schemaSetFor(service!.schemas).validateNode(block), `ours: ${message.xml}`).to.deep.equal({
          ok: true,
        });
        if (specAvailable()) {
          expect(
            officialValidator(service!.wsdl).validateNode(block),
            `official: ${message.xml}`,
          ).to.deep.equal({
            ok: true,
          });
        }
      }
      for (const document of embeddedDocuments(payload)) documents[checkDocument(document)] = true;
      operations.add(payload.name);
    } finally {
      doc.dispose();
    }
  }
  return { operations, documents };
}

forEachDatabase('pagoPA end to end: connector + emulator (current and legacy models)', (ctx) => {
  let legacy: LegacyServer;
  let url: string;
  let demo: DemoSummary;

  before(async () => {
    demo = await seedDemo(ctx.store);
    legacy = await startLegacyServer(ctx);
    url = legacy.url;
  });
  after(() => legacy?.close());

  const position = (positionId: string): DemoPosition => {
    const found = demo.positions.find((p) => p.positionId === positionId);
    if (!found) throw new Error(`no demo position ${positionId}`);
    return found;
  };

  async function statusOf(store: Store, p: DemoPosition): Promise<string | undefined> {
    const ente = await store.enti.getByFiscalCode(p.enteFiscalCode);
    return (await store.positions.findByNoticeNumber(ente!.id, p.noticeNumber))?.status;
  }

  const pay = (p: DemoPosition, extra: Partial<Parameters<typeof payNotice>[0]> = {}) =>
    payNotice({
      store: ctx.store,
      connectorUrl: url,
      enteFiscalCode: p.enteFiscalCode,
      noticeNumber: p.noticeNumber,
      ...extra,
    });

  /** A checkout cart of these notices, as a gestionale or the connector would open it. */
  const postCart = (notices: DemoPosition[]) =>
    fetch(`${url}/emulator/checkout/carts`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        paymentNotices: notices.map((n) => ({
          noticeNumber: n.noticeNumber,
          fiscalCode: n.enteFiscalCode,
          amount: n.amountCents,
          companyName: 'Ente demo',
          description: n.positionId,
        })),
        returnUrls: {
          returnOkUrl: 'https://gestionale.example.org/ok',
          returnCancelUrl: 'https://gestionale.example.org/cancel',
          returnErrorUrl: 'https://gestionale.example.org/error',
        },
      }),
      redirect: 'manual',
    });

  it('a PSP pays a demo notice: verify OK → get payment V2 OK → receipt V2 OK → position PAID', async () => {
    const p = position('DEMO-TARI-0001');
    const result = await pay(p);
    expect(brief(result.steps)).to.deep.equal([
      'paVerifyPaymentNotice OK',
      'paGetPaymentV2 OK',
      'activatePaymentNotice OK',
      'authorize OK',
      'paSendRTV2 OK',
    ]);
    expect(result).to.include({ ok: true, dialect: 'current' });
    expect(await statusOf(ctx.store, p)).to.equal('PAID');
    const payment = await createEmulatorDb(ctx.db).payments.get(result.paymentToken!);
    expect(payment).to.include({ status: 'NOTIFIED', amountCents: p.amountCents, pspId: 'BCITITMM' });
  });

  it('a second PSP on the paid notice gets PAA_PAGAMENTO_DUPLICATO from the EC at verify', async () => {
    const p = position('DEMO-TARI-0001');
    const again = await pay(p, { psp: 'UNCRITMM' });
    expect(again.ok).to.equal(false);
    expect(brief(again.steps)).to.deep.equal(['paVerifyPaymentNotice KO PAA_PAGAMENTO_DUPLICATO']);
    const ente = await ctx.store.enti.getByFiscalCode(p.enteFiscalCode);
    expect(await ctx.store.receipts.listByIuv(ente!.id, p.iuv)).to.have.length(1);
  });

  it('pays with paGetPayment and paSendRT (V1) when asked to', async () => {
    const p = position('DEMO-TARI-0002');
    const result = await pay(p, { version: 1, psp: 'BPPIITRRXXX', amount: p.amount });
    expect(brief(result.steps)).to.deep.equal([
      'paVerifyPaymentNotice OK',
      'paGetPayment OK',
      'activatePaymentNotice OK',
      'authorize OK',
      'paSendRT OK',
    ]);
    expect(await statusOf(ctx.store, p)).to.equal('PAID');
  });

  it('refuses, without any receipt, an amount other than the one the EC asks', async () => {
    const p = position('DEMO-CANONE-0004');
    const result = await pay(p, { amount: '1.00' });
    expect(result.ok).to.equal(false);
    expect(result.steps.map((s) => s.step)).to.not.include('paSendRTV2');
    expect(await statusOf(ctx.store, p)).to.equal('VALID');
  });

  it('answers PPT_PAGAMENTO_IN_CORSO, without asking the EC, while another activation of the notice is live', async () => {
    const p = position('DEMO-CANONE-0002');
    await createEmulatorDb(ctx.db).payments.create({
      paymentToken: `live-${process.pid}-${Date.now()}`,
      kind: 'current',
      fiscalCode: p.enteFiscalCode,
      noticeNumber: p.noticeNumber,
      pspId: 'UNCRITMM',
      primitiveVersion: 2,
      status: 'ACTIVATED',
    });
    const result = await pay(p);
    expect(brief(result.steps)).to.deep.equal(['activatePaymentNotice KO PPT_PAGAMENTO_IN_CORSO']);
    expect(await statusOf(ctx.store, p)).to.equal('VALID');
  });

  it('sends the receipt of a two-beneficiary notice to each EC of its transfer list', async () => {
    const p = demo.positions.find((x) => x.kind === 'two-beneficiaries')!;
    const result = await pay(p);
    expect(result.ok).to.equal(true);
    const receipts = result.steps.filter((s) => s.step === 'paSendRTV2');
    expect(receipts.map((s) => [s.fiscalCode, s.outcome])).to.deep.equal([
      [p.enteFiscalCode, 'OK'],
      [demo.enti.find((e) => e.fiscalCode !== p.enteFiscalCode)!.fiscalCode, 'OK'],
    ]);
    expect(await statusOf(ctx.store, p)).to.equal('PAID');
  });

  it('pays a cart of two notices on the checkout page and returns to returnOkUrl', async () => {
    const notices = [position('DEMO-TARI-0003'), demo.positions.find((x) => x.kind === 'postal')!];
    const created = await postCart(notices);
    expect(created.status).to.equal(302);
    const pageUrl = created.headers.get('location')!;
    const html = await (await fetch(pageUrl)).text();
    // Act as the browser would: submit the page's own Pay form with a PSP of its list.
    const action = /<form method="post" action="([^"]+)" id="pay">/.exec(html)?.[1];
    expect(action).to.be.a('string');
    expect(html).to.contain('value="UNCRITMM"');
    const paid = await fetch(new URL(action!, pageUrl), {
      method: 'POST',
      body: new URLSearchParams({ psp: 'UNCRITMM' }),
      redirect: 'manual',
    });
    expect(paid.status).to.equal(303);
    expect(paid.headers.get('location')).to.equal('https://gestionale.example.org/ok');
    for (const n of notices) expect(await statusOf(ctx.store, n), n.positionId).to.equal('PAID');
    const cartId = decodeURIComponent(pageUrl.split('/').pop()!);
    const payments = await createEmulatorDb(ctx.db).payments.listByCart(cartId);
    expect(payments.map((x) => x.status)).to.deep.equal(['NOTIFIED', 'NOTIFIED']);
    expect(await (await fetch(pageUrl)).text()).to.contain('data-status="PAID"');
  });

  it("follows the station's primitive version: V1 when the node is set so for the station", async () => {
    const edb = createEmulatorDb(ctx.db);
    await edb.stations.update(STATION, { primitiveVersion: 1 });
    try {
      const result = await pay(position('DEMO-TARI-0004'));
      expect(brief(result.steps)).to.include.members(['paGetPayment OK', 'paSendRT OK']);
    } finally {
      await edb.stations.update(STATION, { primitiveVersion: 2 });
    }
  });

  it('delivers a receipt the connector failed to take on the next attempt, and the position is paid once', async () => {
    const p = position('DEMO-TARI-0005');
    const proxy = await receiptBlackhole(url);
    try {
      const first = await pay(p, { connectorUrl: urlOf(proxy) });
      expect(first.ok).to.equal(false);
      expect(brief(first.steps).at(-1)).to.equal('paSendRTV2 KO PPT_STAZIONE_INT_PA_ERRORE_RESPONSE');
      expect(await statusOf(ctx.store, p)).to.equal('VALID');
      expect(await createEmulatorDb(ctx.db).payments.get(first.paymentToken!)).to.include({
        status: 'AUTHORIZED',
      });
    } finally {
      await close(proxy);
    }
    // Meanwhile the notice is paid as far as the node knows: the checkout refuses it, nothing is charged twice.
    const checkoutUrl = (await postCart([p])).headers.get('location')!;
    const refused = await fetch(`${checkoutUrl}/pay`, {
      method: 'POST',
      body: new URLSearchParams({ psp: 'BCITITMM' }),
      redirect: 'manual',
    });
    expect(refused.headers.get('location')).to.equal('https://gestionale.example.org/error');
    const second = await pay(p);
    expect(brief(second.steps)).to.deep.equal(['resume OK', 'paSendRTV2 OK']);
    expect(second.ok).to.equal(true);
    expect(await statusOf(ctx.store, p)).to.equal('PAID');
    const ente = await ctx.store.enti.getByFiscalCode(p.enteFiscalCode);
    expect(await ctx.store.receipts.listByIuv(ente!.id, p.iuv)).to.have.length(1);
  });

  /** The legacy (SANP 2.x) EC of this suite: a second station of the demo broker, made once. */
  let legacyEc: Promise<string> | undefined;
  function legacyEnte(): Promise<string> {
    legacyEc ??= (async () => {
      const fiscalCode = await createLegacyEnte(ctx.store, {
        brokerFiscalCode: demo.broker.fiscalCode,
        stationId: LEGACY_STATION,
        iban: demo.enti[0]!.iban!,
        fiscalCode: randomEnteFiscalCode(),
      });
      await legacy.edb.stations.update(LEGACY_STATION, { redirectUrl: LEGACY_RETURN_URL });
      return fiscalCode;
    })();
    return legacyEc;
  }

  /** A TARI notice of the legacy EC, as its gestionale would load it. */
  async function legacyNotice(positionId: string, amountCents: number): Promise<DemoPosition> {
    const fiscalCode = await legacyEnte();
    const iban = demo.enti[0]!.iban!;
    const created = await createLegacyTariPosition(ctx.store, {
      enteFiscalCode: fiscalCode,
      positionId,
      amountCents,
      iban,
      cause: 'legacy e2e',
    });
    const option = created.options[0]!;
    return {
      positionId,
      enteFiscalCode: fiscalCode,
      noticeNumber: option.noticeNumber!,
      iuv: option.iuv,
      amountCents,
    } as DemoPosition;
  }

  async function legacyState(p: DemoPosition) {
    const ente = await ctx.store.enti.getByFiscalCode(p.enteFiscalCode);
    const position = await ctx.store.positions.findByIuv(ente!.id, p.iuv);
    return {
      status: position?.status,
      receipts: await ctx.store.receipts.listByIuv(ente!.id, p.iuv),
      attempts: await ctx.store.payments.listByIuv(ente!.id, p.iuv),
      timesPaid: (await ctx.store.events.listFor('position', position!.id)).filter(
        (e) => e.toStatus === 'PAID',
      ).length,
    };
  }

  /** A model 1 payment the connector starts for the legacy EC: the RPT it sent and the node's page for it. */
  async function startModel1(p: DemoPosition) {
    const started = await startOnlinePayment(ctx.store, legacy.node, {
      enteFiscalCode: p.enteFiscalCode,
      noticeNumbers: [p.noticeNumber],
      returnUrls: {
        returnOkUrl: 'https://gestionale.example.org/ok',
        returnCancelUrl: 'https://gestionale.example.org/cancel',
        returnErrorUrl: 'https://gestionale.example.org/error',
      },
    });
    if (started.status !== 'redirect' || !('rpts' in started)) {
      expect.fail(`expected a model 1 redirect, got ${JSON.stringify(started)}`);
    }
    expect(started.cartId).to.equal(null);
    expect(started.rpts).to.have.length(1);
    const sent = started.rpts[0]!;
    expect(sent).to.include({ ente: p.enteFiscalCode, iuv: p.iuv });
    expect(started.url.startsWith(`${url}/emulator/checkout/`), started.url).to.equal(true);
    const stored = await legacy.edb.rpts.get({ idDominio: p.enteFiscalCode, iuv: p.iuv, ccp: sent.ccp });
    expect(stored, 'the node holds the RPT the connector sent').to.include({
      rptXml: sent.rpt,
      tipoVersamento: 'BBT',
      status: 'RPT_ACCETTATA_NODO',
    });
    // The citizen's browser: the page the connector redirects to, with this RPT on it.
    const page = await fetch(started.url);
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html).to.contain(`IUV ${p.iuv} / CCP ${sent.ccp}`);
    return { pageUrl: started.url, html, sent };
  }

  /** Submits one of the page's forms (pay / cancel) the way the browser does; returns the redirect. */
  async function submit(
    pageUrl: string,
    html: string,
    form: 'pay' | 'cancel',
    fields: Record<string, string>,
  ) {
    const action = new RegExp(`<form method="post" action="([^"]+)" id="${form}">`).exec(html)?.[1];
    expect(action, `the page's ${form} form`).to.be.a('string');
    const res = await fetch(new URL(action!, pageUrl), {
      method: 'POST',
      body: new URLSearchParams(fields),
      redirect: 'manual',
    });
    expect(res.status).to.equal(303);
    return new URL(res.headers.get('location')!, pageUrl);
  }

  it('legacy model 3 (paaVerificaRPT → paaAttivaRPT → nodoInviaRPT → paaInviaRT): the PSP pays, the connector sends its RPT, the RT pays the position once', async () => {
    // A PSP paying a printed notice of a legacy station: the node asks the EC, the connector's RPT
    // sender (woken by paaAttivaRPT) sends the RPT with nodoInviaRPT to this emulator, the RT comes back.
    const p = await legacyNotice('LEGACY-TARI-0001', 5000);
    const result = await pay(p, { rptWaitMs: 5_000 });
    expect(brief(result.steps)).to.deep.equal([
      'paaVerificaRPT OK',
      'paaAttivaRPT OK',
      'nodoInviaRPT OK',
      'authorize OK',
      'paaInviaRT OK',
    ]);
    expect(result).to.include({ ok: true, dialect: 'legacy' });
    const key = { idDominio: p.enteFiscalCode, iuv: p.iuv, ccp: result.paymentToken! };
    const rpt = await legacy.edb.rpts.get(key);
    expect(rpt, 'the RPT the connector sent').to.include({
      tipoVersamento: 'PO',
      pspId: 'BCITITMM',
      amountCents: 5000,
      stationId: LEGACY_STATION,
      status: 'RT_ACCETTATA_PA',
    });
    const rt = await legacy.edb.rts.get(key);
    expect(rt).to.include({ outcomeCode: '0', deliveryStatus: 'ACCEPTED' });

    const state = await legacyState(p);
    expect(state.status).to.equal('PAID');
    expect(state.timesPaid).to.equal(1);
    expect(state.receipts).to.have.length(1);
    expect(state.receipts[0]).to.include({
      ccp: key.ccp,
      outcome: 'OK',
      amountCents: 5000,
      document: rt!.rtXml,
    });
    expect(state.attempts.map((a) => [a.ccpOrToken, a.status, a.requestDocument])).to.deep.equal([
      [key.ccp, 'PAID', rpt!.rptXml],
    ]);

    // A second PSP finds the notice paid: nothing is activated, the position stays paid once.
    const again = await pay(p, { psp: 'UNCRITMM', rptWaitMs: 5_000 });
    expect(brief(again.steps)).to.deep.equal(['paaVerificaRPT KO PAA_PAGAMENTO_DUPLICATO']);
    const after = await legacyState(p);
    expect(after.receipts).to.have.length(1);
    expect(after.timesPaid).to.equal(1);
  });

  it('model 1 with RPT/RT through the checkout page: the connector sends the RPT, the citizen pays, the RT closes the position', async () => {
    const p = await legacyNotice('LEGACY-TARI-0002', 12345);
    const { pageUrl, html, sent } = await startModel1(p);
    expect(html).to.contain('value="UNCRITMM"');
    const back = await submit(pageUrl, html, 'pay', { psp: 'UNCRITMM' });
    // Back to the EC's site, as the node sends the citizen after an RPT payment.
    expect(`${back.origin}${back.pathname}`).to.equal(LEGACY_RETURN_URL);
    expect(Object.fromEntries(back.searchParams)).to.deep.equal({
      idDominio: p.enteFiscalCode,
      idSession: decodeURIComponent(pageUrl.split('/').pop()!),
      esito: 'OK',
    });
    expect(await (await fetch(pageUrl)).text()).to.contain('data-status="PAID"');

    const key = { idDominio: p.enteFiscalCode, iuv: p.iuv, ccp: sent.ccp };
    const rt = await legacy.edb.rts.get(key);
    expect(rt).to.include({ outcomeCode: '0', deliveryStatus: 'ACCEPTED', amountCents: 12345 });
    const state = await legacyState(p);
    expect(state.status).to.equal('PAID');
    expect(state.timesPaid).to.equal(1);
    expect(state.receipts).to.have.length(1);
    expect(state.receipts[0]).to.include({
      ccp: sent.ccp,
      outcome: 'OK',
      amountCents: 12345,
      pspId: 'UNCRITMM',
      document: rt!.rtXml,
      flaggedReason: null,
    });
    expect(state.attempts.map((a) => [a.kind, a.ccpOrToken, a.status])).to.deep.equal([
      ['rpt', sent.ccp, 'PAID'],
    ]);
    // Pay once more on the same page: the cart is taken, nothing is charged twice.
    const twice = await fetch(`${pageUrl}/pay`, {
      method: 'POST',
      body: new URLSearchParams({ psp: 'UNCRITMM' }),
      redirect: 'manual',
    });
    expect(twice.status).to.equal(303);
    expect((await legacyState(p)).receipts).to.have.length(1);
  });

  it('model 1 with RPT/RT, Cancel on the checkout page: a negative RT, the attempt failed, the notice still payable', async () => {
    const p = await legacyNotice('LEGACY-TARI-0003', 4200);
    const first = await startModel1(p);
    const back = await submit(first.pageUrl, first.html, 'cancel', {});
    expect(back.searchParams.get('esito')).to.equal('ERROR');
    expect(await (await fetch(first.pageUrl)).text()).to.contain('data-status="CANCELLED"');
    const rt = await legacy.edb.rts.get({ idDominio: p.enteFiscalCode, iuv: p.iuv, ccp: first.sent.ccp });
    expect(rt).to.include({ outcomeCode: '1', deliveryStatus: 'ACCEPTED' });
    const cancelled = await legacyState(p);
    expect(cancelled.status).to.equal('VALID');
    expect(cancelled.timesPaid).to.equal(0);
    expect(cancelled.receipts.map((r) => [r.ccp, r.outcome, r.flaggedReason])).to.deep.equal([
      [first.sent.ccp, 'KO', 'NEGATIVE_OUTCOME'],
    ]);
    expect(cancelled.attempts.map((a) => a.status)).to.deep.equal(['FAILED']);

    // Still payable: a new attempt, paid this time on its own page.
    const second = await startModel1(p);
    expect(second.sent.ccp).to.not.equal(first.sent.ccp);
    await submit(second.pageUrl, second.html, 'pay', { psp: 'BCITITMM' });
    const paid = await legacyState(p);
    expect(paid.status).to.equal('PAID');
    expect(paid.timesPaid).to.equal(1);
    expect(paid.receipts.map((r) => [r.ccp, r.outcome])).to.deep.equal([
      [first.sent.ccp, 'KO'],
      [second.sent.ccp, 'OK'],
    ]);
    expect(paid.attempts.map((a) => a.status)).to.deep.equal(['FAILED', 'PAID']);
  });

  it('exchanged only messages valid against our schemas and the official ones, RPTs and RTs included', async () => {
    const { operations, documents } = await checkMessageLog(ctx.db);
    expect([...operations]).to.include.members([
      'paVerifyPaymentNoticeReq',
      'paVerifyPaymentNoticeRes',
      'paGetPaymentV2Request',
      'paGetPaymentV2Response',
      'paGetPaymentReq',
      'paGetPaymentRes',
      'paSendRTV2Request',
      'paSendRTV2Response',
      'paSendRTReq',
      'paSendRTRes',
      'paaVerificaRPT',
      'paaVerificaRPTRisposta',
      'paaAttivaRPT',
      'paaAttivaRPTRisposta',
      'nodoInviaRPT',
      'nodoInviaRPTRisposta',
      'paaInviaRT',
      'paaInviaRTRisposta',
    ]);
    expect(documents).to.include({ RPT: true, RT: true });
  });
});

/** Starts `ppay start` and resolves with the URL it prints once it listens, and all it printed. */
function startServer(
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcessWithoutNullStreams; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CLI, 'start'], { cwd: ROOT, env });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] && out.includes('nodeForPa')) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output: () => out });
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${out}`));
    });
  });
}

function ppay(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CLI, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('close');
    child.on('close', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('ppay emulator pay against ppay start (real processes, SQLite)', function () {
  this.timeout(90000);
  let dataDir: string;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-emulator-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('start prints the emulator endpoints; emulator pay on a demo notice exits 0 and the position is PAID', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PPAY_DATA_DIR: dataDir,
      PORT: '0',
    };
    const { child, url, output } = await startServer(env);
    try {
      expect(output())
        .to.contain(`${url}/emulator/checkout/carts`)
        .and.contain(`${url}/emulator/ws/NodoPerPa`);
      const demo = JSON.parse((await ppay(['seed', '--demo', '--json'], env)).stdout) as DemoSummary;
      const p = demo.positions.find((x) => x.positionId === 'DEMO-CANONE-0001')!;
      const paid = await ppay(['emulator', 'pay', p.enteFiscalCode, p.noticeNumber, '--url', url], env);
      expect(paid.code, paid.stdout + paid.stderr).to.equal(0);
      expect(paid.stdout)
        .to.match(/paVerifyPaymentNotice\s+OK/)
        .and.match(/paSendRTV2\s+OK/);
      expect(paid.stdout).to.contain('receipt accepted');
      const shown = await ppay(['position', 'show', p.enteFiscalCode, p.noticeNumber], env);
      expect(JSON.parse(shown.stdout).status).to.equal('PAID');
      const again = await ppay(
        ['emulator', 'pay', p.enteFiscalCode, p.noticeNumber, '--url', url, '--v1'],
        env,
      );
      expect(again.code).to.equal(1);
      expect(again.stdout).to.contain('PAA_PAGAMENTO_DUPLICATO');
    } finally {
      expect(await stop(child)).to.equal(0);
    }
  });
});

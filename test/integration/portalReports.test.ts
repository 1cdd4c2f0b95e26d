// The portal's reports and charts through HTTP against the whole app, on every database of the
// matrix: positions made with createPosition and receipts stored by receiveReceipt (the paSendRT use
// case) at chosen instants, a reporting flow with a matched and an unmatched line, open anomalies and
// failed callbacks for two enti. Checked: the CSV and .xlsx files hold the ente's rows and none of
// the other's, with numeric amounts and formula-like text made inert; the per-day chart adds up to
// the seeded payments on their Italian days; scope by direct URL; the dashboard's figures; escaping.

import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { forEachDatabase, type SeededEnte } from '../support/db.ts';
import {
  loggedIn,
  seedPortalWorld,
  startPortalServer,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import type { Store } from '../../src/db/store.ts';
import type { Service } from '../../src/db/repositories/services.ts';
import type { StoredPosition } from '../../src/db/repositories/positions.ts';
import type { AmountCents } from '../../src/domain/money.ts';
import type { PaymentOptionDraft } from '../../src/domain/position.ts';
import { createPosition } from '../../src/app/positions.ts';
import { receiveReceipt } from '../../src/app/pagopa/receipts.ts';
import { rangeOf } from '../../src/app/portal/reports.ts';
import { createPortalReportsRepository } from '../../src/db/repositories/portalReports.ts';

const DAL = '2026-10-01';
const AL = '2026-10-31';
const FORMULA = '=HYPERLINK("x")';
const SCRIPT = '<script>alert(1)</script>';

let sequence = 0;
const uid = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;

type CsvRow = Record<string, string>;

function parseCsv(text: string): CsvRow[] {
  return parse(text, { delimiter: ';', columns: true, bom: true }) as CsvRow[];
}

async function readWorkbook(body: Buffer): Promise<ExcelJS.Worksheet> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(body as unknown as ArrayBuffer);
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new Error('no worksheet');
  return sheet;
}

/** The sheet's data rows as header → cell, the header row read from row 1. */
function sheetRows(sheet: ExcelJS.Worksheet): Array<Map<string, ExcelJS.Cell>> {
  const headers = (sheet.getRow(1).values as unknown[]).map((v) => String(v ?? ''));
  const rows: Array<Map<string, ExcelJS.Cell>> = [];
  sheet.eachRow((row, n) => {
    if (n === 1) return;
    const cells = new Map<string, ExcelJS.Cell>();
    headers.forEach((h, i) => {
      if (i > 0) cells.set(h, row.getCell(i));
    });
    rows.push(cells);
  });
  return rows;
}

function receiptDocument(receiptId: string): string {
  return (
    `<receipt><receiptId>${receiptId}</receiptId><PSPCompanyName>Banca di Prova S.p.A.</PSPCompanyName>` +
    `<payer><uniqueIdentifier><entityUniqueIdentifierType>F</entityUniqueIdentifierType>` +
    `<entityUniqueIdentifierValue>VRDLGU80A01L219K</entityUniqueIdentifierValue></uniqueIdentifier>` +
    `<fullName>Luigi Verdi</fullName></payer><paymentMethod>creditCard</paymentMethod></receipt>`
  );
}

/** Attribute values of the elements matching `pattern` (a regex with one capture group). */
function all(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)].map((m) => m[1]!);
}

function figure(text: string, key: string): number {
  const m = new RegExp(`data-figure="${key}" data-value="(\\d+)"`).exec(text);
  if (!m) throw new Error(`no figure ${key}`);
  return Number(m[1]);
}

forEachDatabase('portal: reports and charts', (ctx) => {
  let server: PortalServer;
  let world: PortalWorld;
  let evilService: Service;
  const positions: Record<string, StoredPosition> = {};

  /** The store as it is at an instant: every row it writes carries that time. */
  const at = (instant: string): Store => ctx.storeWith({ clock: () => new Date(instant) });

  function option(seeded: SeededEnte, installment: number, amountCents: number): PaymentOptionDraft {
    return {
      installment,
      amountCents,
      dueDate: '2026-12-31',
      transfers: [{ amountCents, iban: seeded.ente.iban!, category: '9/0101108TS/' }],
    };
  }

  async function position(
    name: string,
    seeded: SeededEnte,
    store: Store,
    amounts: number[],
    extra: { fullName?: string; serviceCode?: string } = {},
  ): Promise<StoredPosition> {
    const options =
      amounts.length === 1
        ? [option(seeded, 0, amounts[0]!)]
        : amounts.map((a, i) => option(seeded, i + 1, a));
    positions[name] = await createPosition(store, {
      enteFiscalCode: seeded.ente.fiscalCode,
      serviceCode: extra.serviceCode ?? seeded.service.code,
      actor: 'mocha',
      cause: 'test',
      draft: {
        positionId: uid(name),
        description: `Posizione ${name}`,
        debtor: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: extra.fullName ?? `Debitore ${name}` },
        options,
      },
    });
    return positions[name];
  }

  async function pay(
    store: Store,
    seeded: SeededEnte,
    name: string,
    installment = 0,
    outcome: 'OK' | 'KO' = 'OK',
  ): Promise<void> {
    const target = positions[name]!.options.find((o) => o.installment === installment)!;
    const receiptId = uid('rcpt').replace(/-/g, '');
    await receiveReceipt(store, {
      source: 'paSendRT',
      caller: {
        enteFiscalCode: seeded.ente.fiscalCode,
        brokerFiscalCode: seeded.broker.fiscalCode,
        stationId: seeded.station.stationId,
      },
      creditorFiscalCode: seeded.ente.fiscalCode,
      iuv: target.iuv,
      receiptId,
      noticeNumber: target.noticeNumber,
      outcome,
      amountCents: target.amountCents as AmountCents,
      paymentDateTime: '2026-10-05T00:29:00',
      pspId: 'TESTPSP01',
      document: receiptDocument(receiptId),
    });
  }

  async function flow(seeded: SeededEnte, settlementDate: string, matched: boolean): Promise<string> {
    const flowId = `${settlementDate}TESTPSP01-${++sequence}`;
    const stored = await ctx.store.reconciliationFlows.insertRevision(
      seeded.ente.id,
      {
        version: '1.1',
        flowId,
        flowDateTime: `${settlementDate}T08:00:00`,
        trn: `TRN${sequence}`,
        settlementDate,
        sender: { idType: 'B', id: 'TESTPSP01', name: 'Banca di Prova' },
        bic: null,
        receiver: { idType: 'G', id: seeded.ente.fiscalCode, name: null },
        paymentCount: 2,
        totalAmountCents: 17_300,
        payments: [
          {
            iuv: '01000000000000001',
            iur: 'IUR1',
            transferIndex: 1,
            amountCents: 12_300,
            outcomeCode: '0',
            outcomeDate: settlementDate,
          },
          {
            iuv: '01000000000000002',
            iur: 'IUR2',
            transferIndex: 1,
            amountCents: 5_000,
            outcomeCode: '0',
            outcomeDate: settlementDate,
          },
        ],
      },
      '<FlussoRiversamento/>',
      { cause: 'test', actor: 'mocha' },
    );
    if (matched) {
      const [line] = await ctx.store.reconciliationFlows.listLines([stored.flow.id]);
      await ctx.store.reconciliationFlows.updateLines([
        { id: line!.id, status: 'MATCHED', receiptRowId: null, optionId: null, anomalyCode: null },
      ]);
    }
    return flowId;
  }

  async function anomaly(seeded: SeededEnte, code: string): Promise<void> {
    await ctx.store.anomalies.open(
      {
        enteId: seeded.ente.id,
        code,
        subjectKey: uid('subject'),
        description: `Anomalia ${code}`,
        flowId: null,
        pspId: 'TESTPSP01',
        iuv: '01000000000000009',
        iur: null,
        positionId: null,
        noticeNumber: null,
        amountCents: 900,
        expectedAmountCents: 1000,
      },
      { cause: 'test', actor: 'mocha' },
    );
  }

  async function failedCallback(seeded: SeededEnte, status: 'DEAD' | 'DELIVERED'): Promise<void> {
    const message = await ctx.store.outbox.enqueue({
      topic: 'notifyPayment',
      target: 1,
      payload: { enteFiscalCode: seeded.ente.fiscalCode, positionId: 'x' },
    });
    await ctx.db('outbox').where({ id: message.id }).update({ status, attempts: 3, last_error: 'HTTP 500' });
  }

  before(async () => {
    server = await startPortalServer(ctx);
    world = await seedPortalWorld(ctx);
    const { a, b } = world;
    evilService = await ctx.store.services.create({
      enteId: a.ente.id,
      code: 'EVIL',
      description: SCRIPT,
      category: '9/0101108TS/',
      iban: a.ente.iban,
    });

    await position('aPaid', a, at('2026-10-02T08:00:00Z'), [12_300]);
    await position('aPlan', a, at('2026-10-03T08:00:00Z'), [5_000, 5_000]);
    await position('aEvil', a, at('2026-10-04T08:00:00Z'), [700], { fullName: FORMULA });
    await position('aSvc', a, at('2026-10-04T09:00:00Z'), [1_000], { serviceCode: evilService.code });
    await position('aOld', a, at('2026-09-15T08:00:00Z'), [999]);
    await position('bPaid', b, at('2026-10-02T09:00:00Z'), [45_600]);

    // 00:30 on 5 October in Rome (CEST), still the 4th in UTC.
    await pay(at('2026-10-04T22:30:00Z'), a, 'aPaid');
    await pay(at('2026-10-06T10:00:00Z'), a, 'aPlan', 1);
    await pay(at('2026-10-06T11:00:00Z'), a, 'aSvc');
    await pay(at('2026-10-06T12:00:00Z'), a, 'aEvil', 0, 'KO');
    await pay(at('2026-10-05T09:00:00Z'), b, 'bPaid');

    // Today, on the real clock: the dashboard's "today" and "this month".
    await position('aToday', a, ctx.store, [2_500]);
    await pay(ctx.store, a, 'aToday');

    await flow(a, '2026-10-07', true);
    await flow(b, '2026-10-07', false);
    await anomaly(a, 'AMOUNT_MISMATCH');
    await anomaly(b, 'LINE_WITHOUT_RECEIPT');
    await failedCallback(a, 'DEAD');
    await failedCallback(a, 'DELIVERED');
    await failedCallback(b, 'DEAD');
  });
  after(() => server.close());

  const range = `dal=${DAL}&al=${AL}`;

  it('shows the form, the six download links and charts that add up to the payments of the period', async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const res = await client.get(`/portal/report?${range}`);
    expect(res.status).to.equal(200);
    expect(res.text).to.include('data-testid="report-form"');
    expect(all(res.text, /data-report="([a-z-]+)"/g)).to.have.members([
      'posizioni-csv',
      'posizioni-xlsx',
      'pagamenti-csv',
      'pagamenti-xlsx',
      'riconciliazione-csv',
      'riconciliazione-xlsx',
    ]);
    expect(res.text).to.include(
      `/portal/report/pagamenti.csv?ente=${world.a.ente.fiscalCode}&amp;dal=${DAL}&amp;al=${AL}`,
    );
    expect(res.text).not.to.include(world.b.ente.fiscalCode);

    const perDay = /<figure[^>]*data-testid="chart-per-day"[^>]*>[\s\S]*?<\/figure>/.exec(res.text)![0];
    expect(perDay)
      .to.match(/data-total-count="3"/)
      .and.match(/data-total-cents="18300"/);
    // One bar per day of October; the table rows add up to the seeded positive receipts.
    expect(all(perDay, /<rect[^>]*data-date="([\d-]+)"/g)).to.have.length(31);
    const rowCents = all(perDay, /<tr data-date="[\d-]+" data-count="\d+" data-cents="(\d+)"/g).map(Number);
    expect(rowCents.reduce((s, c) => s + c, 0)).to.equal(12_300 + 5_000 + 1_000);
    expect(perDay).to.include('<tr data-date="2026-10-05" data-count="1" data-cents="12300"');
    expect(perDay).to.include('<tr data-date="2026-10-04" data-count="0" data-cents="0"');
    expect(perDay).to.include('<tr data-date="2026-10-06" data-count="2" data-cents="6000"');
    expect(perDay).to.include('role="img"').and.include('aria-label="Pagamenti per giorno dal 01/10/2026');

    const perService = /<figure[^>]*data-testid="chart-per-service"[^>]*>[\s\S]*?<\/figure>/.exec(
      res.text,
    )![0];
    expect(perService).to.match(/data-total-cents="18300"/);
    expect(perService).to.include('data-count="2" data-cents="17300"');
    // The service's description is shown, escaped.
    expect(perService).to.include('&lt;script&gt;alert(1)&lt;/script&gt;').and.not.include(SCRIPT);
  });

  it("writes the positions CSV with the ente's rows only, cents and euro columns, formulas made inert", async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const res = await client.get(`/portal/report/posizioni.csv?${range}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/csv/);
    expect(res.headers.get('content-disposition')).to.equal(
      `attachment; filename="posizioni_${world.a.ente.fiscalCode}_${DAL}_${AL}.csv"`,
    );
    const text = res.body.toString('utf8');
    expect(text.startsWith('\uFEFF'), 'a BOM for Excel').to.equal(true);
    const rows = parseCsv(text);
    const ids = rows.map((r) => r['Codice posizione']);
    expect(ids).to.have.members([
      positions.aPaid!.positionId,
      positions.aPlan!.positionId,
      positions.aPlan!.positionId,
      positions.aEvil!.positionId,
      positions.aSvc!.positionId,
    ]);
    expect(rows.every((r) => r['Codice fiscale ente'] === world.a.ente.fiscalCode)).to.equal(true);
    expect(text).not.to.include(positions.bPaid!.positionId).and.not.include(positions.aOld!.positionId);
    const paid = rows.find((r) => r['Codice posizione'] === positions.aPaid!.positionId)!;
    expect(paid).to.include({
      'Importo (centesimi)': '12300',
      'Importo (euro)': '123,00',
      'Stato posizione': 'Pagata',
      'Rata (0 = unica)': '0',
      Scadenza: '2026-12-31',
      'Creata il': '2026-10-02 10:00:00',
    });
    const evil = rows.find((r) => r['Codice posizione'] === positions.aEvil!.positionId)!;
    expect(evil.Debitore).to.equal(`'${FORMULA}`);
  });

  it('writes the same positions as .xlsx with numeric euro amounts and formula-like text as plain text', async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const csv = parseCsv((await client.get(`/portal/report/posizioni.csv?${range}`)).body.toString('utf8'));
    const res = await client.get(`/portal/report/posizioni.xlsx?${range}`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.include('spreadsheetml.sheet');
    const sheet = await readWorkbook(res.body);
    expect(sheet.name).to.equal('Posizioni');
    const rows = sheetRows(sheet);
    expect(rows.map((r) => String(r.get('IUV')!.value))).to.deep.equal(csv.map((r) => r.IUV));
    const paid = rows.find((r) => r.get('Codice posizione')!.value === positions.aPaid!.positionId)!;
    const euro = paid.get('Importo (euro)')!;
    expect(euro.value).to.equal(123);
    expect(euro.numFmt).to.equal('#,##0.00');
    expect(paid.get('Importo (centesimi)')!.value).to.equal(12_300);
    const created = paid.get('Creata il')!.value as Date;
    expect(created.toISOString()).to.equal('2026-10-02T10:00:00.000Z');
    const evil = rows.find((r) => r.get('Codice posizione')!.value === positions.aEvil!.positionId)!;
    const debtor = evil.get('Debitore')!;
    expect(debtor.type).to.equal(ExcelJS.ValueType.String);
    expect(debtor.value).to.equal(FORMULA);
    expect(debtor.formula).to.equal(undefined);
  });

  it('lists the positive receipts of the period in the payments report, in both formats', async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const rows = parseCsv((await client.get(`/portal/report/pagamenti.csv?${range}`)).body.toString('utf8'));
    expect(rows.map((r) => r['Codice posizione'])).to.have.members([
      positions.aPaid!.positionId,
      positions.aPlan!.positionId,
      positions.aSvc!.positionId,
    ]);
    expect(rows.reduce((s, r) => s + Number(r['Importo (centesimi)']), 0)).to.equal(18_300);
    const paid = rows.find((r) => r['Codice posizione'] === positions.aPaid!.positionId)!;
    expect(paid).to.include({
      'Importo (euro)': '123,00',
      'Ricevuta registrata il': '2026-10-05 00:30:00',
      'Data pagamento': '2026-10-05 00:29:00',
      Pagatore: 'Luigi Verdi',
      'Nome PSP': 'Banca di Prova S.p.A.',
      Servizio: world.a.service.code,
    });
    const sheet = await readWorkbook((await client.get(`/portal/report/pagamenti.xlsx?${range}`)).body);
    const cells = sheetRows(sheet);
    expect(cells).to.have.length(3);
    expect(cells.reduce((s, r) => s + Number(r.get('Importo (euro)')!.value), 0)).to.be.closeTo(183, 1e-9);
  });

  it('lists the flows of the period with their matched and unmatched lines, and the open anomalies', async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const rows = parseCsv(
      (await client.get(`/portal/report/riconciliazione.csv?${range}`)).body.toString('utf8'),
    );
    expect(rows.map((r) => r['Tipo riga'])).to.deep.equal(['Flusso', 'Anomalia aperta']);
    expect(rows[0]).to.include({
      'Codice fiscale ente': world.a.ente.fiscalCode,
      'Righe abbinate': '1',
      'Righe non abbinate': '1',
      'Importo (euro)': '173,00',
      'Data regolamento': '2026-10-07',
      Stato: 'In attesa di accredito',
    });
    expect(rows[1]).to.include({
      'Codice anomalia': 'AMOUNT_MISMATCH',
      'Importo atteso (centesimi)': '1000',
    });
    const sheet = await readWorkbook((await client.get(`/portal/report/riconciliazione.xlsx?${range}`)).body);
    expect(sheetRows(sheet).map((r) => r.get('Tipo riga')!.value)).to.deep.equal([
      'Flusso',
      'Anomalia aperta',
    ]);
  });

  it("answers 404 to an operator naming another ente's fiscal code, on the page and on every download", async () => {
    const client = await loggedIn(server.url, world.operatorB);
    const foreign = `ente=${world.a.ente.fiscalCode}&${range}`;
    for (const path of ['/portal/report', '/portal/report/posizioni.csv', '/portal/report/pagamenti.xlsx']) {
      const res = await client.get(`${path}?${foreign}`);
      expect(res.status, path).to.equal(404);
      expect(res.text).not.to.include(positions.aPaid!.positionId);
    }
    const own = parseCsv((await client.get(`/portal/report/posizioni.csv?${range}`)).body.toString('utf8'));
    expect(own.map((r) => r['Codice posizione'])).to.deep.equal([positions.bPaid!.positionId]);
    expect((await client.get(`/portal/report/nulla.csv?${range}`)).status).to.equal(404);
  });

  it('lets an admin report on one ente or on every ente', async () => {
    const client = await loggedIn(server.url, world.admin);
    const one = parseCsv(
      (
        await client.get(`/portal/report/pagamenti.csv?ente=${world.b.ente.fiscalCode}&${range}`)
      ).body.toString('utf8'),
    );
    expect(one.map((r) => r['Codice fiscale ente'])).to.deep.equal([world.b.ente.fiscalCode]);
    const every = parseCsv((await client.get(`/portal/report/pagamenti.csv?${range}`)).body.toString('utf8'));
    expect(every.reduce((s, r) => s + Number(r['Importo (centesimi)']), 0)).to.equal(18_300 + 45_600);
    const page = await client.get(`/portal/report?${range}`);
    expect(page.text)
      .to.include('Tutti gli enti')
      .and.match(/data-total-cents="63900"/);
  });

  it('refuses a period longer than a year or upside down, with an Italian message', async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const long = await client.get('/portal/report?dal=2025-01-01&al=2026-06-30');
    expect(long.status).to.equal(400);
    expect(long.text).to.include('role="alert"').and.include('non può superare 366 giorni');
    const reversed = await client.get('/portal/report/posizioni.csv?dal=2026-10-31&al=2026-10-01');
    expect(reversed.status).to.equal(400);
    expect(reversed.text).to.include('successiva alla data finale');
    const garbage = await client.get(`/portal/report?dal=${encodeURIComponent(SCRIPT)}`);
    expect(garbage.status).to.equal(400);
    expect(garbage.text).to.include('&lt;script&gt;alert(1)&lt;/script&gt;').and.not.include(SCRIPT);
  });

  it('defaults to the last 30 days and records every download in the event log', async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const page = await client.get('/portal/report');
    expect(page.status).to.equal(200);
    // Today's payment is in the default period.
    expect(page.text).to.match(
      /data-testid="chart-per-day"[^>]*data-total-count="1"[^>]*data-total-cents="2500"/,
    );
    await client.get(`/portal/report/riconciliazione.xlsx?${range}`);
    const events: Array<{ actor: string; entity_id: string }> = await ctx
      .db('events')
      .where({ entity_type: 'portal_report', action: 'downloaded' });
    expect(events.map((e) => `${e.actor} ${e.entity_id}`)).to.include(
      `portal:${world.operatorA.username} riconciliazione.xlsx`,
    );
  });

  it("shows on the dashboard the figures of the operator's own ente", async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const home = await client.get('/portal/');
    expect(home.status).to.equal(200);
    expect(home.text).to.include('data-testid="dashboard-figures"');
    expect(figure(home.text, 'open-positions')).to.equal(3);
    expect(figure(home.text, 'payments-today')).to.equal(1);
    expect(figure(home.text, 'amount-month')).to.equal(2_500);
    expect(figure(home.text, 'open-anomalies')).to.equal(1);
    expect(figure(home.text, 'failing-messages')).to.equal(1);
    expect(home.text)
      .to.include('data-testid="chart-per-day"')
      .and.include('data-testid="chart-per-service"');

    const admin = await (await loggedIn(server.url, world.admin)).get('/portal/');
    expect(figure(admin.text, 'open-positions')).to.equal(3);
    expect(figure(admin.text, 'open-anomalies')).to.equal(2);
    expect(figure(admin.text, 'failing-messages')).to.equal(2);
  });

  it('reads the reports in keyset pages that together hold every row once', async () => {
    const repo = createPortalReportsRepository(ctx.db);
    const period = rangeOf(DAL, AL);
    const scope = [world.a.ente.id];
    const paged: number[] = [];
    for (let afterId = 0; ;) {
      const page = await repo.positionsPage(scope, period, { afterId, limit: 2 });
      if (page.length === 0) break;
      expect(page.length).to.be.at.most(2);
      paged.push(...page.map((r) => r.optionRowId));
      afterId = page[page.length - 1]!.optionRowId;
    }
    const whole = await repo.positionsPage(scope, period, { afterId: 0, limit: 500 });
    expect(paged).to.deep.equal(whole.map((r) => r.optionRowId));
    expect(new Set(paged).size).to.equal(5);
  });

  it('refuses a POST to the reports without its CSRF token', async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const res = await client.post('/portal/report', { ente: world.a.ente.fiscalCode }, { csrf: false });
    expect(res.status).to.equal(403);
  });
});

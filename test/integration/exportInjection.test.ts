// Issue 10 item 1, CSV injection: positions and payments whose texts start with `=`, `+`, `-`, `@`,
// a tab or a CR are stored as given, and go out neutralised (a leading `'`, src/batch/formats/
// csvSafety.ts) in every CSV the connector writes, and as plain string cells (never a formula) in
// every .xlsx: the importer's outcome CSV, the nightly PAGATI and SCADUTI exports, the
// reconciliation CSV, the portal reports (CSV and .xlsx), the upload outcome workbook, and the
// PiemontePay / MyPay compatibility outcomes. Each file is checked cell by cell: no cell may start
// with a formula character, and the hostile texts must be there, neutralised (so the check cannot
// pass on a file that simply lost them).

import { expect } from 'chai';
import { mkdtemp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import yauzl from 'yauzl';
import { forEachDatabase, type DbContext } from '../support/db.ts';
import { insertRow, ppayCsv } from '../support/batchFormats.ts';
import {
  loggedIn,
  seedPortalWorld,
  startPortalServer,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import { splitCsvLine } from '../../src/batch/formats/csvLines.ts';
import { looksLikeFormula } from '../../src/batch/formats/csvSafety.ts';
import { enteFolder } from '../../src/batch/dropFolder/forEnte.ts';
import { LocalDropFolder } from '../../src/batch/dropFolder/local.ts';
import { formatPpayFileName, outcomeFileName } from '../../src/batch/fileNames.ts';
import { Importer } from '../../src/batch/importer/importer.ts';
import { exportPaymentsOfTheDay } from '../../src/batch/exports/payments.ts';
import { exportExpiredNotices } from '../../src/batch/exports/expiredNotices.ts';
import { buildReconciliationReportCsv } from '../../src/reconciliation/report.ts';
import { writeOutcomeWorkbook, type OutcomeWorkbookRow } from '../../src/batch/formats/outcomeXlsx.ts';
import { writePiemontePayOutcome } from '../../src/batch/formats/piemontepay.ts';
import { myPayColumns, writeMyPayOutcome } from '../../src/batch/formats/mypay.ts';
import { receiveReceipt } from '../../src/app/pagopa/receipts.ts';
import { romeDate } from '../../src/pagopa/time.ts';
import type { AmountCents } from '../../src/domain/money.ts';

const DDE = "=cmd|' /C calc'!A0";
/** Texts a spreadsheet would run, one per formula character. */
const HOSTILE = {
  equals: DDE,
  plus: '+SUM(1,2)',
  minus: '-2+3',
  at: '@SUM(A1)',
  tab: '\t=1+1',
  cr: '\r=1+1',
};

/** Cells of a `;` CSV that a spreadsheet would read as formulas (BOM and quotes handled). */
function formulaCells(
  csv: string,
  split: (line: string) => string[] = (l) => splitCsvLine(l, ';'),
): string[] {
  return (
    csv
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .filter((line) => line !== '')
      .flatMap((line) => split(line))
      // A negative number (an amount in cents) is a number to a spreadsheet, not a formula.
      .filter((cell) => looksLikeFormula(cell) && !/^-\d+$/.test(cell))
  );
}

/** The entries of a zip (an .xlsx, a MyPay package), as text. */
async function unzip(bytes: Buffer): Promise<Map<string, string>> {
  const zip = await yauzl.fromBufferPromise(bytes, { lazyEntries: true });
  const entries = new Map<string, string>();
  for await (const entry of zip.eachEntry()) {
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    entries.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
  }
  return entries;
}

/** The sheets of an .xlsx: none may hold a formula (`<f>`), and their text is returned. */
async function sheetsWithoutFormulas(bytes: Buffer): Promise<string> {
  const parts = await unzip(bytes);
  const sheets = [...parts].filter(([name]) => /^xl\/(worksheets\/.*|sharedStrings)\.xml$/.test(name));
  expect(sheets.length).to.be.greaterThan(0);
  for (const [name, xml] of sheets) expect(xml, `${name} holds a formula`).to.not.match(/<f[\s>]/);
  return sheets.map(([, xml]) => xml).join('\n');
}

forEachDatabase('CSV injection: hostile texts go out neutralised in every export', (ctx) => {
  let server: PortalServer;
  let world: PortalWorld;
  let root: string;
  const today = romeDate(new Date());

  before(async function () {
    this.timeout(60_000);
    root = await mkdtemp(path.join(os.tmpdir(), 'ppay-injection-'));
    server = await startPortalServer(ctx);
    world = await seedPortalWorld(ctx);
    await importHostilePositions(ctx);
    await payHostile(ctx);
  });
  after(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  const cf = () => world.a.ente.fiscalCode;
  const dataDir = () => path.join(root, 'data');
  const out = (name: string) => path.join(enteFolder(dataDir(), cf()), 'out', name);
  const inputName = () =>
    formatPpayFileName({ enteFiscalCode: cf(), flowId: 'INJ', date: '2024-02-01', extension: 'csv' });

  /** Positions of ente A through the real importer: every text field hostile, due today. */
  async function importHostilePositions(c: DbContext): Promise<void> {
    await new LocalDropFolder({ root: enteFolder(dataDir(), cf()) }).ensureLayout();
    const rows = Object.entries(HOSTILE).map(([kind, text], i) =>
      insertRow(`INJ-${kind}`, {
        description: text,
        debtor_name: text,
        debtor_first_name: '',
        notes: text,
        due_date: today,
        amount_cents: String(1000 + i),
      }),
    );
    // A refused row whose id the outcome repeats.
    rows.push(insertRow(DDE));
    const file = path.join(enteFolder(dataDir(), cf()), 'in', inputName());
    await writeFile(`${file}.tmp`, ppayCsv(rows));
    const past = new Date(Date.now() - 60_000);
    await utimes(`${file}.tmp`, past, past);
    await rename(`${file}.tmp`, file);
    const importer = new Importer({ store: c.store, dataDir: dataDir(), completion: { settleMs: 0 } });
    try {
      const report = await importer.runPass({ enteFiscalCode: cf() });
      expect(
        report.files.map((f) => [f.outcome, f.ko]),
        JSON.stringify(report),
      ).to.deep.equal([['DONE', 1]]);
    } finally {
      await importer.close();
    }
  }

  /** The `equals` position paid today by a payer and a PSP with hostile names. */
  async function payHostile(c: DbContext): Promise<void> {
    const position = await c.store.positions.findByPositionId(world.a.ente.id, 'INJ-equals');
    const option = position!.options[0]!;
    const receiptId = `inj${process.pid}${c.dialect}`;
    const document =
      `<receipt><receiptId>${receiptId}</receiptId><PSPCompanyName>@PSP SpA</PSPCompanyName>` +
      `<payer><uniqueIdentifier><entityUniqueIdentifierType>F</entityUniqueIdentifierType>` +
      `<entityUniqueIdentifierValue>RSSMRA80A01H501U</entityUniqueIdentifierValue></uniqueIdentifier>` +
      `<fullName>=cmd|' /C calc'!A0</fullName></payer></receipt>`;
    await receiveReceipt(c.store, {
      source: 'paSendRT',
      caller: {
        enteFiscalCode: cf(),
        brokerFiscalCode: world.a.broker.fiscalCode,
        stationId: world.a.station.stationId,
      },
      creditorFiscalCode: cf(),
      iuv: option.iuv,
      receiptId,
      noticeNumber: option.noticeNumber,
      outcome: 'OK',
      amountCents: option.amountCents as AmountCents,
      paymentDateTime: `${today}T10:29:00`,
      pspId: 'TESTPSP01',
      document,
    });
  }

  it('stores the hostile texts as given (trimmed, like every CSV cell)', async () => {
    for (const [kind, text] of Object.entries(HOSTILE)) {
      const position = await ctx.store.positions.findByPositionId(world.a.ente.id, `INJ-${kind}`);
      expect(position?.description, kind).to.equal(text.trim());
    }
  });

  it("neutralises the importer's outcome CSV (the refused DDE id it repeats)", async () => {
    const csv = await readFile(out(outcomeFileName(inputName())), 'utf8');
    expect(formulaCells(csv)).to.deep.equal([]);
    expect(csv).to.include(`'${DDE}`);
  });

  it('neutralises the nightly PAGATI export (payer and PSP names from the receipt)', async () => {
    const result = await exportPaymentsOfTheDay({
      store: ctx.store,
      dataDir: dataDir(),
      date: today,
      enteFiscalCode: cf(),
    });
    const csv = await readFile(out(result.files[0]!.fileName), 'utf8');
    expect(result.files[0]?.rows).to.equal(1);
    expect(formulaCells(csv)).to.deep.equal([]);
    expect(csv).to.include(`'${DDE}`).and.include("'@PSP SpA");
  });

  it('neutralises the nightly SCADUTI export (debtor names)', async () => {
    const result = await exportExpiredNotices({
      store: ctx.store,
      dataDir: dataDir(),
      date: today,
      enteFiscalCode: cf(),
    });
    const csv = await readFile(out(result.files[0]!.fileName), 'utf8');
    expect(result.files[0]?.rows).to.equal(5);
    expect(formulaCells(csv)).to.deep.equal([]);
    expect(csv).to.include("'+SUM(1,2)").and.include("'-2+3").and.include("'@SUM(A1)");
  });

  it('neutralises the reconciliation CSV (a bank remittance, an anomaly description, a flow id)', () => {
    const csv = buildReconciliationReportCsv({
      enteFiscalCode: cf(),
      reportDate: today,
      reportId: 'r1',
      generatedAt: new Date().toISOString(),
      flows: [],
      unmatchedCredits: [
        { valueDate: today, amountCents: 1000, trn: '+TRN', remittanceInformation: '=HYPERLINK("http://x")' },
      ],
      anomalies: [
        {
          code: 'CREDIT_WITHOUT_FLOW',
          status: 'OPEN',
          detectedAt: today,
          description: '-1+1',
          flowId: '@flow',
          amountCents: -500,
        },
      ],
    });
    expect(formulaCells(csv)).to.deep.equal([]);
    expect(csv).to.include(`'=HYPERLINK`).and.include("'-1+1").and.include("'@flow").and.include("'+TRN");
    // A negative amount is a number, not a text: it stays as it is.
    expect(csv).to.include(';-500;');
  });

  it('neutralises the portal reports in CSV and writes .xlsx texts as string cells', async () => {
    const client = await loggedIn(server.url, world.operatorA);
    const range = `dal=${today}&al=${today}`;
    for (const kind of ['posizioni', 'pagamenti']) {
      const csv = await client.get(`/portal/report/${kind}.csv?${range}`);
      expect(csv.status, kind).to.equal(200);
      const text = csv.body.toString('utf8');
      expect(formulaCells(text), kind).to.deep.equal([]);
      expect(text, kind).to.include(`'${DDE}`);
      const xlsx = await client.get(`/portal/report/${kind}.xlsx?${range}`);
      expect(xlsx.status, kind).to.equal(200);
      expect(await sheetsWithoutFormulas(xlsx.body), kind).to.include('=cmd|');
    }
  });

  it('writes the upload outcome workbook without formulas', async () => {
    const rows: OutcomeWorkbookRow[] = Object.values(HOSTILE).map((text, i) => ({
      rowNo: i + 2,
      positionId: text,
      installmentNo: 0,
      outcome: 'KO',
      iuv: null,
      noticeNumber: null,
      amountCents: null,
      dueDate: null,
      errorCode: 'E_SYNTAX',
      message: text,
      technicalMessage: text,
    }));
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    await writeOutcomeWorkbook(sink, {
      summary: [['File', DDE]],
      rows: (async function* () {
        yield* rows;
      })(),
    });
    const xml = await sheetsWithoutFormulas(Buffer.concat(chunks));
    expect(xml).to.include('=cmd|').and.include('@SUM(A1)');
  });

  it('neutralises the PiemontePay _ESITO.csv and the MyPay _IUV / _SCARTI outcomes', async () => {
    const dir = path.join(root, 'legacy');
    await rm(dir, { recursive: true, force: true });
    await new LocalDropFolder({ root: dir }).ensureLayout();
    const esito = path.join(dir, 'ESITO.csv');
    await writePiemontePayOutcome(
      [
        { rowNo: 2, positionId: DDE, outcome: 'KO', errorCode: 'E_SYNTAX', errorMessage: '-bad' },
        {
          rowNo: 3,
          positionId: '@ok',
          outcome: 'OK',
          iuv: '01000000000012345',
          noticeNumber: '301000000000012345',
        },
      ],
      esito,
    );
    const esitoText = (await readFile(esito)).toString('latin1');
    expect(formulaCells(esitoText)).to.deep.equal([]);
    expect(esitoText).to.include(`'${DDE}`).and.include("'@ok");

    const base = 'c_l219-INJ-1_1';
    const columns = myPayColumns('1.1');
    const line = (iud: string, name: string) =>
      columns
        .map((c) => (c === 'IUD' ? iud : c === 'anagraficaPagatore' ? name : c === 'azione' ? 'I' : ''))
        .join(';');
    const flow = path.join(dir, `${base}.csv`);
    await writeFile(flow, `${columns.join(';')}\r\n${line('IUD1', DDE)}\r\n${line('IUD2', '+39 123')}\r\n`);
    const written = await writeMyPayOutcome(
      flow,
      [
        { rowNo: 2, outcome: 'OK', iuv: '01000000000012345', noticeNumber: '301000000000012345' },
        { rowNo: 3, outcome: 'KO', errorCode: 'E_SYNTAX', errorMessage: '=1+1' },
      ],
      dir,
      { version: '1.1' },
    );
    const split = (l: string) => l.split(';');
    for (const zip of [written.iuv, written.scarti]) {
      const [csv] = [...(await unzip(await readFile(zip))).values()];
      expect(formulaCells(csv ?? '', split), zip).to.deep.equal([]);
    }
    const [iuvCsv] = [...(await unzip(await readFile(written.iuv))).values()];
    const [scartiCsv] = [...(await unzip(await readFile(written.scarti))).values()];
    expect(iuvCsv).to.include(`'${DDE}`);
    expect(scartiCsv).to.include("'+39 123").and.include("'=1+1");
  });
});

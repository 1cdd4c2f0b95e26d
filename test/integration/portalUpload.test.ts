// The portal's Excel upload through HTTP against the whole app on the suite's database: real
// workbooks built from the template with exceljs, imported by the drop-folder importer, the
// outcome page and workbook read back, the positions and events checked in the database.

import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import ExcelJS from 'exceljs';
import { forEachDatabase } from '../support/db.ts';
import {
  loggedIn,
  seedPortalWorld,
  startPortalServer,
  type PortalClient,
  type PortalResponse,
  type PortalServer,
  type PortalWorld,
} from '../support/portal.ts';
import { buildXlsxTemplate, XLSX_DATA_SHEET, XLSX_HELP_SHEET } from '../../src/batch/formats/xlsx.ts';
import { PPAY_CSV_COLUMNS } from '../../src/batch/formats/ppayCsv.ts';
import { OUTCOME_SHEET, SUMMARY_SHEET } from '../../src/batch/formats/outcomeXlsx.ts';
import { MAX_UPLOAD_BYTES } from '../../src/app/portal/excelUpload.ts';

const XSS = '<script>alert(1)</script>';
const XSS_NAME = '<img src=x onerror=alert(1)>.xlsx';

type Cells = Record<string, string | number>;

function insertRow(positionId: string, changes: Cells = {}): Cells {
  return {
    action: 'I',
    position_id: positionId,
    service_code: 'TARI',
    description: `TARI ${positionId}`,
    debtor_type: 'F',
    debtor_fiscal_code: 'RSSMRA80A01H501U',
    debtor_name: 'Rossi',
    debtor_first_name: 'Mario',
    installment_no: 0,
    due_date: '2031-04-30',
    amount_cents: 1000,
    ...changes,
  };
}

/** The template filled with these rows (from row 2), as an operator saves it. */
async function workbookOf(rows: readonly Cells[]): Promise<Buffer> {
  const workbook = buildXlsxTemplate();
  const sheet = workbook.getWorksheet(XLSX_DATA_SHEET) as ExcelJS.Worksheet;
  for (const row of rows) sheet.addRow(PPAY_CSV_COLUMNS.map((c) => row[c] ?? null));
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

async function readWorkbook(body: Buffer): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.read(Readable.from([body]));
  return workbook;
}

function upload(client: PortalClient, name: string, content: Buffer, fields: Record<string, string> = {}) {
  return client.postFile('/portal/caricamenti', { field: 'file', name, content }, fields);
}

/** The rows of the outcome page: row number → [outcome, Italian message]. */
function pageRows(text: string): Map<number, { outcome: string; html: string }> {
  const rows = new Map<number, { outcome: string; html: string }>();
  for (const m of text.matchAll(
    /<tr data-testid="upload-row" data-row="(\d+)" data-outcome="(\w+)">([\s\S]*?)<\/tr>/g,
  )) {
    rows.set(Number(m[1]), { outcome: m[2] as string, html: m[3] as string });
  }
  return rows;
}

function importIdOf(res: PortalResponse): string {
  expect(res.status, res.text.slice(0, 500)).to.equal(303);
  const m = /^\/portal\/caricamenti\/(imp-[0-9a-f]{24})$/.exec(res.location ?? '');
  expect(m, res.location ?? '').to.not.equal(null);
  return (m as RegExpExecArray)[1] as string;
}

forEachDatabase('portal: Excel upload', (ctx) => {
  let server: PortalServer;
  let world: PortalWorld;
  let operatorA: PortalClient;
  let operatorB: PortalClient;
  let admin: PortalClient;

  before(async () => {
    server = await startPortalServer(ctx);
    world = await seedPortalWorld(ctx);
    operatorA = await loggedIn(server.url, world.operatorA);
    operatorB = await loggedIn(server.url, world.operatorB);
    admin = await loggedIn(server.url, world.admin);
  });
  after(() => server.close());

  const positionIdsOf = async (enteId: number) =>
    (await ctx.store.positions.list(enteId, { limit: 1000 })).map((p) => p.positionId).sort();
  const importCount = async (enteId: number) => (await ctx.store.imports.list(enteId, 1000)).length;

  it('shows the upload form with its CSRF token, the template link and no ente choice to an operator', async () => {
    const res = await operatorA.get('/portal/caricamenti');
    expect(res.status).to.equal(200);
    expect(res.text).to.match(
      /<form[^>]*action="\/portal\/caricamenti\?_csrf=[^"]+"[^>]*enctype="multipart\/form-data"/,
    );
    expect(res.text).to.include('data-testid="upload-form"');
    expect(res.text).to.include('<label for="file"');
    expect(res.text).to.include('data-testid="template-link"');
    expect(res.text).to.not.include('<select id="ente"');
    const forAdmin = await admin.get('/portal/caricamenti');
    expect(forAdmin.text).to.include('<select id="ente"').and.include(world.b.ente.fiscalCode);
  });

  it('serves the template with its «Posizioni» and «Istruzioni» sheets', async () => {
    const res = await operatorA.get('/portal/caricamenti/modello.xlsx');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.include('spreadsheetml.sheet');
    expect(res.headers.get('content-disposition')).to.include(
      'attachment; filename="modello-posizioni.xlsx"',
    );
    const book = await readWorkbook(res.body);
    expect(book.worksheets.map((s) => s.name)).to.deep.equal([XLSX_DATA_SHEET, XLSX_HELP_SHEET]);
    const header = (book.getWorksheet(XLSX_DATA_SHEET)?.getRow(1).values as unknown[]).slice(1);
    expect(header).to.deep.equal([...PPAY_CSV_COLUMNS]);
  });

  describe('a sheet with good and bad rows', () => {
    let importId: string;
    let content: Buffer;
    let page: PortalResponse;

    before(async () => {
      content = await workbookOf([
        insertRow('UP-OK-1'),
        insertRow('UP-BAD-CF', { debtor_fiscal_code: 'RSSMRA80A01H501X' }),
        insertRow('UP-BAD-IBAN', { tr1_amount_cents: 1000, tr1_iban: 'IT00X123' }),
        insertRow('UP-ZERO', { amount_cents: 0 }),
        insertRow('UP-NO-NAME', { debtor_name: '' }),
        insertRow(XSS, { debtor_email: 'not-an-email' }),
        insertRow('=1+2', { debtor_fiscal_code: 'RSSMRA80A01H501X' }),
        insertRow('UP-OK-2', { description: `${XSS} =HYPERLINK("http://x")` }),
      ]);
      importId = importIdOf(await upload(operatorA, XSS_NAME, content));
      page = await operatorA.get(`/portal/caricamenti/${importId}`);
    });

    it('shows the summary and every row with its outcome and Italian message', () => {
      expect(page.status).to.equal(200);
      expect(page.text).to.include('data-testid="upload-summary"');
      expect(page.text).to.match(/data-testid="upload-count-rows">8</);
      expect(page.text).to.match(/data-testid="upload-count-ok">2</);
      expect(page.text).to.match(/data-testid="upload-count-ko">6</);
      const rows = pageRows(page.text);
      expect([...rows.keys()]).to.deep.equal([2, 3, 4, 5, 6, 7, 8, 9]);
      expect([...rows.values()].map((r) => r.outcome)).to.deep.equal([
        'OK',
        'KO',
        'KO',
        'KO',
        'KO',
        'KO',
        'KO',
        'OK',
      ]);
      expect(rows.get(2)?.html)
        .to.include('Posizione inserita.')
        .and.match(/\d{17}/);
      expect(rows.get(3)?.html)
        .to.include('E_DEBTOR_INVALID')
        .and.include('Dati del debitore mancanti o non validi.')
        .and.include('colonna debtor_fiscal_code');
      expect(rows.get(4)?.html)
        .to.include('E_SYNTAX')
        .and.include('colonna tr1_iban (IBAN del trasferimento 1)');
      expect(rows.get(5)?.html).to.include('E_AMOUNT').and.include('Importo non valido');
      expect(rows.get(6)?.html).to.include('Valore obbligatorio mancante nella colonna debtor_name');
      expect(rows.get(7)?.html).to.include('colonna debtor_email');
    });

    it('shows HTML typed into the sheet and the file name escaped', () => {
      expect(page.text).to.not.include(XSS).and.not.include('<img src=x');
      expect(page.text).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page.text).to.include('&lt;img src=x onerror=alert(1)&gt;.xlsx');
    });

    it('stores positions for the good rows only, created by the operator', async () => {
      const ids = await positionIdsOf(world.a.ente.id);
      expect(ids).to.include.members(['UP-OK-1', 'UP-OK-2']);
      expect(ids).to.not.include.members(['UP-BAD-CF', 'UP-BAD-IBAN', 'UP-ZERO', 'UP-NO-NAME', XSS, '=1+2']);
      const stored = await ctx.store.positions.findByPositionId(world.a.ente.id, 'UP-OK-1');
      const events = await ctx.store.events.listFor('position', stored?.id as number);
      expect(events.find((e) => e.action === 'created')?.actor).to.equal(
        `portal:${world.operatorA.username}`,
      );
      const uploadEvents = await ctx.store.events.listFor('import', importId);
      const uploaded = uploadEvents.find((e) => e.action === 'portal_upload');
      expect(uploaded?.actor).to.equal(`portal:${world.operatorA.username}`);
      const imp = await ctx.store.imports.get(importId);
      expect(imp?.options).to.deep.include({ format: 'xlsx' });
      expect((imp?.options as { portalUpload: unknown }).portalUpload).to.deep.equal({
        user: `portal:${world.operatorA.username}`,
        originalName: XSS_NAME,
      });
    });

    it("leaves no temporary copy behind; the ente's drop folder keeps the file and its outcome", () => {
      expect(readdirSync(path.join(server.dataDir, 'portal-uploads', world.a.ente.fiscalCode))).to.deep.equal(
        [],
      );
      const folder = path.join(server.dataDir, 'sftp', world.a.ente.fiscalCode);
      expect(readdirSync(path.join(folder, 'in'))).to.deep.equal([]);
      expect(
        readdirSync(path.join(folder, 'done')).some((n) =>
          /portale_.*img_src_x_onerror_alert_1_\.xlsx$/.test(n),
        ),
      ).to.equal(true);
      expect(readdirSync(path.join(folder, 'out')).some((n) => n.endsWith('.esito.csv'))).to.equal(true);
    });

    it('gives the outcome workbook: one row per input row, Italian messages, a summary, no formulas', async () => {
      const res = await operatorA.get(`/portal/caricamenti/${importId}/esito.xlsx`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.include('spreadsheetml.sheet');
      const book = await readWorkbook(res.body);
      expect(book.worksheets.map((s) => s.name)).to.deep.equal([OUTCOME_SHEET, SUMMARY_SHEET]);
      const sheet = book.getWorksheet(OUTCOME_SHEET) as ExcelJS.Worksheet;
      expect(sheet.getRow(1).getCell(1).font?.bold).to.equal(true);
      expect(sheet.getColumn(10).width).to.be.greaterThan(40);
      const values = (n: number) => (sheet.getRow(n).values as unknown[]).slice(1);
      expect(sheet.rowCount).to.equal(9);
      expect(values(2).slice(0, 4)).to.deep.equal([2, 'UP-OK-1', 0, 'OK']);
      expect(values(2)[6]).to.equal(10);
      expect(values(3)).to.include('E_DEBTOR_INVALID');
      expect(String(values(3)[9])).to.include('Dati del debitore');
      expect(String(values(5)[9])).to.include('Importo non valido');
      const injected = sheet.getRow(8).getCell(2);
      expect(injected.type).to.equal(ExcelJS.ValueType.String);
      expect(injected.value).to.equal('=1+2');
      sheet.eachRow((row) =>
        row.eachCell((cell) => expect(cell.type).to.not.equal(ExcelJS.ValueType.Formula)),
      );
      const summary = book.getWorksheet(SUMMARY_SHEET) as ExcelJS.Worksheet;
      const pairs = new Map<string, unknown>();
      summary.eachRow((row) => pairs.set(String(row.getCell(1).value), row.getCell(2).value));
      expect(pairs.get('Righe')).to.equal(8);
      expect(pairs.get('Scartate (KO)')).to.equal(6);
      expect(pairs.get('Caricato da')).to.equal(world.operatorA.username);
    });

    it('lists the upload in the history with its counts and outcome link', async () => {
      const res = await operatorA.get('/portal/caricamenti');
      expect(res.text).to.include('data-testid="upload-history"');
      const row = new RegExp(
        `<tr data-testid="upload-history-row" data-import-id="${importId}">([\\s\\S]*?)</tr>`,
      ).exec(res.text)?.[1];
      expect(row, 'history row').to.be.a('string');
      expect(row).to.include('&lt;img src=x onerror=alert(1)&gt;.xlsx').and.include(world.operatorA.username);
      expect(row).to.include(`href="/portal/caricamenti/${importId}/esito.xlsx"`).and.include('outcome-link');
    });

    it('answers the same file uploaded again as a duplicate and creates nothing', async () => {
      const before = await positionIdsOf(world.a.ente.id);
      const again = importIdOf(await upload(operatorA, 'di-nuovo.xlsx', content));
      expect(again).to.not.equal(importId);
      const res = await operatorA.get(`/portal/caricamenti/${again}`);
      expect(res.text).to.include('data-testid="upload-file-error"').and.include('già stato caricato');
      expect(res.text).to.include('F_DUP_FLOW').and.include(`href="/portal/caricamenti/${importId}"`);
      expect(pageRows(res.text).get(0)?.outcome).to.equal('KO');
      expect(await positionIdsOf(world.a.ente.id)).to.deep.equal(before);
      const book = await readWorkbook((await operatorA.get(`/portal/caricamenti/${again}/esito.xlsx`)).body);
      const row = (book.getWorksheet(OUTCOME_SHEET)?.getRow(2).values as unknown[]).slice(1);
      expect(row[0]).to.equal(0);
      expect(row).to.include('F_DUP_FLOW');
    });

    it("answers another ente's operator 404 on the upload, its workbook, and hides it from the history", async () => {
      expect((await operatorB.get(`/portal/caricamenti/${importId}`)).status).to.equal(404);
      expect((await operatorB.get(`/portal/caricamenti/${importId}/esito.xlsx`)).status).to.equal(404);
      expect((await operatorB.get('/portal/caricamenti')).text).to.not.include(importId);
      const forAdmin = await admin.get('/portal/caricamenti');
      expect(forAdmin.text).to.include(importId).and.include(world.a.ente.fiscalCode);
      expect((await admin.get(`/portal/caricamenti/${importId}`)).status).to.equal(200);
    });
  });

  it('refuses what is not an .xlsx workbook with a 400 page and no import', async () => {
    const before = await importCount(world.a.ente.id);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['posizioni.csv', Buffer.from('action;position_id\n'), /estensione \.xlsx/],
      [
        'posizioni.xlsx',
        Buffer.from('this is not a zip at all'),
        /non è una cartella di lavoro Excel valida/,
      ],
      ['vuoto.xlsx', Buffer.alloc(0), /Il file è vuoto/],
      ['enorme.xlsx', Buffer.alloc(MAX_UPLOAD_BYTES + 1, 0x50), /dimensione massima di 10 MB/],
    ];
    for (const [name, content, message] of cases) {
      const res = await upload(operatorA, name, content);
      expect(res.status, name).to.equal(400);
      expect(res.text, name).to.include('data-testid="upload-error"').and.match(message);
    }
    expect(await importCount(world.a.ente.id)).to.equal(before);
  });

  it('refuses an upload without its CSRF token (403) and imports nothing', async () => {
    const before = await importCount(world.a.ente.id);
    const res = await operatorA.postFile(
      '/portal/caricamenti',
      { field: 'file', name: 'p.xlsx', content: await workbookOf([insertRow('UP-CSRF')]) },
      {},
      { csrf: false },
    );
    expect(res.status).to.equal(403);
    expect(await importCount(world.a.ente.id)).to.equal(before);
    expect(await positionIdsOf(world.a.ente.id)).to.not.include('UP-CSRF');
  });

  it('lets an admin upload for the ente it chooses, and asks for one when it does not', async () => {
    const content = await workbookOf([insertRow('UP-ADMIN-B')]);
    await admin.get('/portal/caricamenti');
    const none = await upload(admin, 'admin.xlsx', content);
    expect(none.status).to.equal(400);
    expect(none.text).to.include('Scegli l&#39;ente').and.include('data-testid="upload-error"');
    const id = importIdOf(await upload(admin, 'admin.xlsx', content, { ente: world.b.ente.fiscalCode }));
    expect((await ctx.store.imports.get(id))?.enteId).to.equal(world.b.ente.id);
    expect(await positionIdsOf(world.b.ente.id)).to.include('UP-ADMIN-B');
    expect(await positionIdsOf(world.a.ente.id)).to.not.include('UP-ADMIN-B');
    expect((await operatorB.get(`/portal/caricamenti/${id}`)).status).to.equal(200);
    expect((await operatorA.get(`/portal/caricamenti/${id}`)).status).to.equal(404);
  });

  it("imports an operator's upload for its own ente whatever ente the form names", async () => {
    const id = importIdOf(
      await upload(operatorB, 'b.xlsx', await workbookOf([insertRow('UP-OWN-B')]), {
        ente: world.a.ente.fiscalCode,
      }),
    );
    expect((await ctx.store.imports.get(id))?.enteId).to.equal(world.b.ente.id);
    expect(await positionIdsOf(world.a.ente.id)).to.not.include('UP-OWN-B');
  });

  it('answers 404 for ids that are no upload', async () => {
    expect((await operatorA.get('/portal/caricamenti/imp-000000000000000000000000')).status).to.equal(404);
    expect((await operatorA.get('/portal/caricamenti/nonsense')).status).to.equal(404);
    expect((await operatorA.get('/portal/caricamenti/nonsense/esito.xlsx')).status).to.equal(404);
  });
});

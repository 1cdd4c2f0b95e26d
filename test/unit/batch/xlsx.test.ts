// The portal's Excel template: the workbook it writes (ppay CSV v1 header, Italian instructions,
// data validation) and its streaming reader, which must give exactly the records and errors of the
// same rows written as ppay CSV v1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import ExcelJS from 'exceljs';
import { splitCsvLine } from '../../../src/batch/formats/csvLines.ts';
import { PPAY_CSV_COLUMNS, readPpayCsv } from '../../../src/batch/formats/ppayCsv.ts';
import {
  buildXlsxTemplate,
  readSheetRows,
  readXlsxTemplate,
  writeXlsxTemplate,
  XLSX_DATA_SHEET,
  XLSX_HELP_SHEET,
} from '../../../src/batch/formats/xlsx.ts';
import { PROJECT_ROOT } from '../../../src/xml/paths.ts';
import {
  insertRow,
  plain,
  PPAY_FIXTURES,
  ppayCsv,
  readAll,
  summary,
  textStream,
} from '../../support/batchFormats.ts';

const FILLED = path.join(PROJECT_ROOT, 'fixtures/batch/xlsx/valid-ppay-template.xlsx');
const WHOLE_NUMBER = /^(amount_cents|installment_no|reference_year|tr\d_amount_cents|tr\d_acc_year)$/;
const DATE = /^(due_date|validity_from|validity_to)$/;

/** A value as a person types it into the template: numbers in number columns, real dates in date columns. */
function typed(column: string, value: string): string | number | Date | null {
  if (value === '') return null;
  if (WHOLE_NUMBER.test(column) && /^\d+$/.test(value)) return Number(value);
  const date = new Date(`${value}T00:00:00Z`);
  // Excel makes a date only of a real day; 2024-02-30 stays the text it was typed as.
  if (DATE.test(column) && date.toISOString().startsWith(value)) return date;
  return value;
}

/** The template filled with the rows of a ppay CSV text (by column name; x_ columns dropped). */
async function templateOf(csvText: string, target: string): Promise<string> {
  const [headerLine = '', ...lines] = csvText.split(/\r?\n/).filter((l) => l !== '');
  const header = splitCsvLine(headerLine);
  const workbook = buildXlsxTemplate();
  const sheet = workbook.getWorksheet(XLSX_DATA_SHEET) as ExcelJS.Worksheet;
  for (const line of lines) {
    const values = splitCsvLine(line);
    const byName = Object.fromEntries(header.map((name, i) => [name, values[i] ?? '']));
    sheet.addRow(PPAY_CSV_COLUMNS.map((column) => typed(column, byName[column] ?? '')));
  }
  await workbook.xlsx.writeFile(target);
  return target;
}

describe('the .xlsx template', () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-xlsx-'));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function readBoth(csvText: string) {
    const file = await templateOf(csvText, path.join(dir, `t-${Math.random().toString(36).slice(2)}.xlsx`));
    const xlsx = await readAll(readXlsxTemplate(file));
    const csv = await readAll(readPpayCsv(textStream(csvText)));
    return { xlsx, csv };
  }

  describe('writing', () => {
    it('has a «Posizioni» sheet headed by the 61 ppay CSV v1 columns and an Italian «Istruzioni» sheet', async () => {
      const target = path.join(dir, 'template.xlsx');
      await writeXlsxTemplate(target);
      const book = new ExcelJS.Workbook();
      await book.xlsx.readFile(target);
      expect(book.worksheets.map((s) => s.name)).to.deep.equal([XLSX_DATA_SHEET, XLSX_HELP_SHEET]);
      const header = (book.getWorksheet(XLSX_DATA_SHEET)?.getRow(1).values as unknown[]).slice(1);
      expect(header).to.deep.equal([...PPAY_CSV_COLUMNS]);
      const help = book.getWorksheet(XLSX_HELP_SHEET) as ExcelJS.Worksheet;
      const documented = new Set<string>();
      help.eachRow((row) => documented.add(String(row.getCell(1).value)));
      for (const column of PPAY_CSV_COLUMNS) expect(documented.has(column), column).to.equal(true);
      expect(String(help.getCell('A3').value)).to.contain('Compilare il foglio');
    });

    it('validates the action and debtor type lists and the whole-number amount columns', async () => {
      const target = path.join(dir, 'template-validation.xlsx');
      await writeXlsxTemplate(target);
      const book = new ExcelJS.Workbook();
      await book.xlsx.readFile(target);
      const sheet = book.getWorksheet(XLSX_DATA_SHEET) as ExcelJS.Worksheet;
      const cellOf = (column: string, row: number) =>
        sheet.getRow(row).getCell(PPAY_CSV_COLUMNS.indexOf(column) + 1);
      expect(cellOf('action', 2).dataValidation).to.deep.include({ type: 'list', formulae: ['"I,M,A"'] });
      expect(cellOf('debtor_type', 500).dataValidation).to.deep.include({
        type: 'list',
        formulae: ['"F,G"'],
      });
      expect(cellOf('amount_cents', 2).dataValidation).to.deep.include({
        type: 'whole',
        operator: 'between',
      });
      expect(cellOf('debtor_postal_code', 2).numFmt).to.equal('@');
    });

    it("writes to a stream, e.g. the portal's download response", async () => {
      const stream = new PassThrough();
      const [bytes] = await Promise.all([buffer(stream), writeXlsxTemplate(stream).then(() => stream.end())]);
      expect(bytes.subarray(0, 2).toString()).to.equal('PK');
    });
  });

  describe('reading', () => {
    it('gives for the filled fixture the records of the ppay CSV v1 valid fixture', async () => {
      const xlsx = await readAll(readXlsxTemplate(FILLED));
      const csv = await readAll(readPpayCsv(fs.createReadStream(path.join(PPAY_FIXTURES, 'valid.csv'))));
      expect(xlsx.fileError).to.equal(null);
      expect(summary(xlsx.items)).to.deep.equal(summary(csv.items));
      expect(plain(xlsx.items)).to.deep.equal(plain(csv.items));
    });

    it('names the format xlsx in the header', () => {
      expect(readXlsxTemplate(FILLED).header.format).to.equal('xlsx');
    });

    it('answers bad rows with the codes the CSV reader gives the same rows', async () => {
      const rows = [
        insertRow('P-1'),
        insertRow('P-2', { amount_cents: '12,50' }),
        insertRow('P-3', { debtor_fiscal_code: 'RSSMRA80A01H501X' }),
        insertRow('P-4', { due_date: '2024-02-30' }),
        insertRow('P-1', { description: 'again' }),
        insertRow('P-5', { action: 'X' }),
      ];
      const { xlsx, csv } = await readBoth(ppayCsv(rows));
      expect(summary(xlsx.items)).to.deep.equal([
        'R INSERT P-1 2',
        'E 3 E_AMOUNT amount_cents',
        'E 4 E_DEBTOR_INVALID debtor_fiscal_code',
        'E 5 E_DUE_DATE due_date',
        'E 6 E_DUP_IN_FILE position_id',
        'E 7 E_SYNTAX action',
      ]);
      expect(plain(xlsx.items)).to.deep.equal(plain(csv.items));
    });

    it("keeps the sheet's row numbers across empty rows and answers a cell past the header as ragged", async () => {
      const book = buildXlsxTemplate();
      const sheet = book.getWorksheet(XLSX_DATA_SHEET) as ExcelJS.Worksheet;
      const values = insertRow('P-9');
      sheet.getRow(5).values = PPAY_CSV_COLUMNS.map((c) => values[c] ?? null);
      const ragged = insertRow('P-10');
      sheet.getRow(6).values = [...PPAY_CSV_COLUMNS.map((c) => ragged[c] ?? null), 'beyond the header'];
      const file = path.join(dir, 'gaps.xlsx');
      await book.xlsx.writeFile(file);
      expect(summary((await readAll(readXlsxTemplate(file))).items)).to.deep.equal([
        'R INSERT P-9 5',
        'E 6 E_SYNTAX -',
      ]);
    });

    it('turns a line break typed in a cell into a space', async () => {
      const book = buildXlsxTemplate();
      const values = insertRow('P-1', { description: 'prima riga\nseconda riga' });
      book.getWorksheet(XLSX_DATA_SHEET)?.addRow(PPAY_CSV_COLUMNS.map((c) => values[c] ?? null));
      const file = path.join(dir, 'newline.xlsx');
      await book.xlsx.writeFile(file);
      const [record] = (await readAll(readXlsxTemplate(file))).records;
      expect(plain(record)).to.have.nested.property('position.description', 'prima riga seconda riga');
    });

    it('rejects the empty template as F_EMPTY and a file that is no workbook as F_FORMAT', async () => {
      const empty = path.join(dir, 'empty-template.xlsx');
      await writeXlsxTemplate(empty);
      expect((await readAll(readXlsxTemplate(empty))).fileError?.code).to.equal('F_EMPTY');
      const broken = path.join(dir, 'broken.xlsx');
      fs.writeFileSync(broken, 'this is not a zip');
      expect((await readAll(readXlsxTemplate(broken))).fileError?.code).to.equal('F_FORMAT');
    });

    it('streams the first sheet row by row and skips the instructions', async () => {
      const rows = Array.from({ length: 1000 }, (_, i) => insertRow(`P-${i + 1}`));
      const file = await templateOf(ppayCsv(rows), path.join(dir, 'many.xlsx'));
      let count = 0;
      for await (const row of readSheetRows(file)) {
        count += 1;
        expect(row.line).to.equal(count);
      }
      expect(count).to.equal(1001);
      const result = await readAll(readXlsxTemplate(file));
      expect(result.records).to.have.length(1000);
      expect(result.errors).to.deep.equal([]);
    });
  });
});

// The Excel upload's pure parts: which files are refused before the importer, the drop-folder
// name, the Italian catalogue of every outcome code, and the outcome workbook's cells (text, never
// formulas, whatever the uploaded sheet held).

import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import ExcelJS from 'exceljs';
import yauzl from 'yauzl';
import {
  columnOfMessage,
  dropNameOf,
  ITALIAN_OUTCOME_TEXT,
  italianOutcomeMessage,
  MAX_UPLOAD_BYTES,
  portalUploadOf,
  problemOfUpload,
} from '../../../src/app/portal/excelUpload.ts';
import {
  OUTCOME_SHEET,
  SUMMARY_SHEET,
  writeOutcomeWorkbook,
  type OutcomeWorkbookRow,
} from '../../../src/batch/formats/outcomeXlsx.ts';
import { FILE_ERROR_CODES, ROW_ERROR_CODES, WARNING_CODES } from '../../../src/batch/formats/types.ts';

const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0]);

function row(changes: Partial<OutcomeWorkbookRow>): OutcomeWorkbookRow {
  return {
    rowNo: 2,
    positionId: 'P-1',
    installmentNo: 0,
    outcome: 'OK',
    iuv: '01000000000000144',
    noticeNumber: '301000000000000144',
    amountCents: 12345,
    dueDate: '2031-04-30',
    errorCode: null,
    message: 'Posizione inserita.',
    technicalMessage: null,
    ...changes,
  };
}

async function* each<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function workbookBytes(rows: readonly OutcomeWorkbookRow[]): Promise<Buffer> {
  const stream = new PassThrough();
  const [bytes] = await Promise.all([
    buffer(stream),
    writeOutcomeWorkbook(stream, {
      summary: [
        ['Righe', rows.length],
        ['File', '=cmd|x'],
      ],
      rows: each(rows),
    }),
  ]);
  return bytes;
}

async function readBook(bytes: Buffer): Promise<ExcelJS.Workbook> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.read(Readable.from([bytes]));
  return book;
}

/** The text of every worksheet XML entry of an .xlsx. */
function sheetXml(bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      let text = '';
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!/^xl\/worksheets\/.*\.xml$/.test(entry.fileName)) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          void buffer(stream).then((b) => {
            text += b.toString('utf8');
            zip.readEntry();
          }, reject);
        });
      });
      zip.on('end', () => resolve(text));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('portal Excel upload', () => {
  describe('problemOfUpload', () => {
    it('accepts a zip named .xlsx (any case)', () => {
      expect(problemOfUpload('posizioni.XLSX', ZIP)).to.equal(null);
    });

    it('refuses other extensions, empty, oversized and non-zip content', () => {
      expect(problemOfUpload('posizioni.xls', ZIP)).to.equal('NOT_XLSX');
      expect(problemOfUpload('posizioni.csv', ZIP)).to.equal('NOT_XLSX');
      expect(problemOfUpload('posizioni.xlsx', Buffer.alloc(0))).to.equal('EMPTY');
      expect(problemOfUpload('posizioni.xlsx', Buffer.from('plain text'))).to.equal('NOT_ZIP');
      const big = Buffer.concat([ZIP, Buffer.alloc(MAX_UPLOAD_BYTES)]);
      expect(problemOfUpload('posizioni.xlsx', big)).to.equal('TOO_LARGE');
    });
  });

  describe('dropNameOf', () => {
    it('makes a unique plain .xlsx name that keeps a readable part of the original', () => {
      const now = new Date('2025-03-04T05:06:07.890Z');
      const a = dropNameOf('Posizioni marzo (1).xlsx', now);
      const b = dropNameOf('Posizioni marzo (1).xlsx', now);
      expect(a).to.match(/^portale_20250304T050607_[0-9a-f]{6}_Posizioni_marzo_1_\.xlsx$/);
      expect(a).to.not.equal(b);
    });

    it('drops folders, dots and characters a drop folder name must not hold', () => {
      const name = dropNameOf('..\\..\\C:\\tmp\\<script>.xlsx', new Date());
      expect(name).to.match(/^portale_\d{8}T\d{6}_[0-9a-f]{6}_script_\.xlsx$/);
      expect(dropNameOf('.xlsx', new Date())).to.match(/_file\.xlsx$/);
    });
  });

  describe('portalUploadOf', () => {
    it("reads the portal's mark and ignores options without one", () => {
      expect(
        portalUploadOf({ format: 'xlsx', portalUpload: { user: 'portal:u', originalName: 'a.xlsx' } }),
      ).to.deep.equal({
        user: 'portal:u',
        originalName: 'a.xlsx',
      });
      expect(portalUploadOf({ format: 'xlsx' })).to.equal(null);
      expect(portalUploadOf(null)).to.equal(null);
      expect(portalUploadOf({ portalUpload: { user: 3 } })).to.equal(null);
    });
  });

  describe('Italian messages', () => {
    it('has a text for every outcome code of the importer', () => {
      for (const code of [...ROW_ERROR_CODES, ...FILE_ERROR_CODES, ...WARNING_CODES]) {
        expect(ITALIAN_OUTCOME_TEXT[code], code).to.be.a('string').and.not.equal('');
      }
    });

    it('names the template column the technical message is about', () => {
      expect(columnOfMessage('tr1_iban: IBAN for IT must be 27 characters')).to.equal('tr1_iban');
      expect(columnOfMessage('debtor_fiscal_code: check character does not match')).to.equal(
        'debtor_fiscal_code',
      );
      expect(columnOfMessage('the ente has no service XXX')).to.equal(null);
      expect(columnOfMessage(null)).to.equal(null);
    });

    it('tells a missing value from a wrong one', () => {
      const missing = italianOutcomeMessage({
        outcome: 'KO',
        errorCode: 'E_DEBTOR_INVALID',
        errorMessage: 'debtor_name is required',
      });
      expect(missing).to.equal(
        'Dati del debitore mancanti o non validi. Valore obbligatorio mancante nella colonna debtor_name (cognome o ragione sociale del debitore).',
      );
      const wrong = italianOutcomeMessage({
        outcome: 'KO',
        errorCode: 'E_SYNTAX',
        errorMessage: 'tr2_iban: IBAN for IT must be 27 characters',
      });
      expect(wrong).to.equal(
        'Valore mancante o non valido. Controllare la colonna tr2_iban (IBAN del trasferimento 2).',
      );
    });

    it('says what was done for an OK row and falls back for an unknown code', () => {
      expect(
        italianOutcomeMessage({ outcome: 'OK', errorCode: null, errorMessage: null, action: 'CANCEL' }),
      ).to.equal('Posizione annullata.');
      expect(italianOutcomeMessage({ outcome: 'KO', errorCode: 'E_NEW', errorMessage: null })).to.include(
        'E_NEW',
      );
      expect(
        italianOutcomeMessage({
          outcome: 'WARN',
          errorCode: 'W_TRUNCATED',
          errorMessage: 'description cut to 140',
        }),
      ).to.include('140 caratteri');
    });
  });

  describe('the outcome workbook', () => {
    it('writes «Esito» with a bold header and readable widths, then «Riepilogo»', async () => {
      const book = await readBook(await workbookBytes([row({})]));
      expect(book.worksheets.map((s) => s.name)).to.deep.equal([OUTCOME_SHEET, SUMMARY_SHEET]);
      const sheet = book.getWorksheet(OUTCOME_SHEET) as ExcelJS.Worksheet;
      expect(sheet.getRow(1).getCell(1).value).to.equal('Riga');
      expect(sheet.getRow(1).getCell(10).value).to.equal('Messaggio');
      expect(sheet.getRow(1).font?.bold ?? sheet.getRow(1).getCell(1).font?.bold).to.equal(true);
      expect(sheet.getColumn(10).width).to.equal(90);
      const values = (sheet.getRow(2).values as unknown[]).slice(1);
      expect(values.slice(0, 7)).to.deep.equal([
        2,
        'P-1',
        0,
        'OK',
        '01000000000000144',
        '301000000000000144',
        123.45,
      ]);
      expect(values[7]).to.be.instanceOf(Date);
      expect((values[7] as Date).toISOString()).to.equal('2031-04-30T00:00:00.000Z');
    });

    it('writes = + - @ texts as text cells, never as formulas', async () => {
      const hostile = ['=1+2', '+SUM(A1:A2)', '-2+3', '@SUM(1)', '=HYPERLINK("http://x","y")'];
      const bytes = await workbookBytes(
        hostile.map((text, i) =>
          row({ rowNo: i + 2, positionId: text, outcome: 'KO', message: text, technicalMessage: text }),
        ),
      );
      expect(await sheetXml(bytes)).to.not.match(/<f[ >]/);
      const book = await readBook(bytes);
      const sheet = book.getWorksheet(OUTCOME_SHEET) as ExcelJS.Worksheet;
      hostile.forEach((text, i) => {
        const cell = sheet.getRow(i + 2).getCell(2);
        expect(cell.type, text).to.equal(ExcelJS.ValueType.String);
        expect(cell.value).to.equal(text);
      });
      const summary = book.getWorksheet(SUMMARY_SHEET) as ExcelJS.Worksheet;
      expect(summary.getRow(2).getCell(2).type).to.equal(ExcelJS.ValueType.String);
    });
  });
});

// Format detection for the drop folder: `--format` names, what each naming convention announces,
// the first row where the name says too little, and openImportFile giving each format's reader.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import ExcelJS from 'exceljs';
import yazl from 'yazl';
import {
  detectImportFormat,
  factsOfFileName,
  IMPORT_FORMATS,
  openImportFile,
  parseImportFormat,
  readerFor,
} from '../../../src/batch/formats/detect.ts';
import { myPayColumns } from '../../../src/batch/formats/mypay.ts';
import { LISTA_V29_COLUMNS } from '../../../src/batch/formats/piemontepay.ts';
import { readPpayCsv } from '../../../src/batch/formats/ppayCsv.ts';
import { isFileFormatError } from '../../../src/batch/formats/types.ts';
import { PROJECT_ROOT } from '../../../src/xml/paths.ts';
import { expectDomainError } from '../../support/expectDomainError.ts';
import { plain, PPAY_FIXTURES, readAll, summary } from '../../support/batchFormats.ts';

const FIXTURES = path.join(PROJECT_ROOT, 'fixtures/batch');
const LIDC_V29 = path.join(FIXTURES, 'piemontepay/LIDC_80000010001_TARI_20250301-TARI-42-001.csv');
const LIDC_V28 = path.join(FIXTURES, 'piemontepay/LIDC_80000010001_TARI_20250302-TARI-43-001.csv');
const AGPD = path.join(FIXTURES, 'piemontepay/agpd-v2.8-tari-marzo.csv');
const MYPAY = path.join(FIXTURES, 'mypay/c_l219-TARI2025N1-1_4.zip');
const XLSX = path.join(FIXTURES, 'xlsx/valid-ppay-template.xlsx');
const PPAY_VALID = path.join(PPAY_FIXTURES, 'valid.csv');
const XML_VALID = path.join(PROJECT_ROOT, 'fixtures/flows/debtPositionsFile/valid-file.xml');

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('format detection', () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-detect-'));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function copyAs(source: string, name: string): string {
    const target = path.join(dir, name);
    fs.copyFileSync(source, target);
    return target;
  }

  describe('--format names', () => {
    it('knows the eleven formats', () => {
      expect(IMPORT_FORMATS).to.deep.equal([
        'ppay-csv-1',
        'ppay-xml-1',
        'xlsx',
        'piemontepay-v2.9',
        'piemontepay-v2.8',
        'piemontepay-agpd-v2.8',
        'mypay-1.0',
        'mypay-1.1',
        'mypay-1.2',
        'mypay-1.3',
        'mypay-1.4',
      ]);
      for (const format of IMPORT_FORMATS) expect(readerFor(format)).to.be.a('function');
    });

    it('refuses an unknown name with INVALID_INPUT', () => {
      expect(parseImportFormat('mypay-1.2')).to.equal('mypay-1.2');
      expectDomainError(() => parseImportFormat('mypay-2.0'), 'INVALID_INPUT', { field: 'format' });
    });
  });

  describe('from the file name', () => {
    it('reads the ppay convention, with or without date, for csv, xml, zip and xlsx', () => {
      expect(factsOfFileName('01234567897_TARI-2024-0042_20240201_ppay-1.csv')).to.deep.equal({
        family: 'ppay',
        format: 'ppay-csv-1',
        enteFiscalCode: '01234567897',
        flowId: 'TARI-2024-0042',
        date: '2024-02-01',
      });
      expect(factsOfFileName('01234567897_F1_ppay-1.xml')?.format).to.equal('ppay-xml-1');
      expect(factsOfFileName('01234567897_F1_ppay-1.zip')?.format).to.equal('ppay-csv-1');
      expect(factsOfFileName('01234567897_F1_ppay-1.xlsx')).to.deep.include({
        family: 'xlsx',
        format: 'xlsx',
      });
    });

    it('reads MyPay packages with their version, ente and IUF', () => {
      expect(factsOfFileName('/drop/in/c_l219-TARI2025N1-1_2.zip')).to.deep.equal({
        family: 'mypay',
        format: 'mypay-1.2',
        enteIpaCode: 'c_l219',
        flowId: 'TARI2025N1',
      });
      expect(factsOfFileName('c_l219-TARI2025N1-1_0.csv')?.format).to.equal('mypay-1.0');
    });

    it('reads PiemontePay LIDC_ exports, leaving the list version to the header', () => {
      expect(factsOfFileName('LIDC_80000010001_TARI_AT_20250301-TARI-42-001.csv')).to.deep.equal({
        family: 'piemontepay',
        format: null,
        enteFiscalCode: '80000010001',
        serviceCode: 'TARI',
        flowId: '20250301-TARI-42-001',
      });
    });

    it('says nothing of a name off every convention', () => {
      expect(factsOfFileName('posizioni.csv')).to.equal(null);
      expect(factsOfFileName('c_l219-TARI-2025-1_4.zip')).to.equal(null);
    });
  });

  describe('detectImportFormat', () => {
    it('tells PiemontePay list versions apart by the header cell count', async () => {
      expect(await detectImportFormat(LIDC_V29)).to.equal('piemontepay-v2.9');
      expect(await detectImportFormat(LIDC_V28)).to.equal('piemontepay-v2.8');
      expect(await detectImportFormat(AGPD)).to.equal('piemontepay-agpd-v2.8');
    });

    it('recognises a ppay CSV and a MyPay CSV by their header when the name says nothing', async () => {
      expect(await detectImportFormat(PPAY_VALID)).to.equal('ppay-csv-1');
      const mypay = path.join(dir, 'dovuti.csv');
      fs.writeFileSync(mypay, `${myPayColumns('1.3').join(';')}\r\n`);
      expect(await detectImportFormat(mypay)).to.equal('mypay-1.3');
    });

    it('takes MyPay packages by name and workbooks by their first row', async () => {
      expect(await detectImportFormat(MYPAY)).to.equal('mypay-1.4');
      expect(await detectImportFormat(XLSX)).to.equal('xlsx');
      const book = new ExcelJS.Workbook();
      book.addWorksheet('Lista').addRow([...LISTA_V29_COLUMNS]);
      const lidc = path.join(dir, 'LIDC_80000010001_TARI_20250301-TARI-7-001.xlsx');
      await book.xlsx.writeFile(lidc);
      expect(await detectImportFormat(lidc)).to.equal('piemontepay-v2.9');
    });

    it('lets --format win over the name', async () => {
      expect(await detectImportFormat(MYPAY, 'mypay-1.3')).to.equal('mypay-1.3');
    });

    it('refuses a file no rule recognises with F_NAME', async () => {
      const other = path.join(dir, 'report.txt');
      fs.writeFileSync(other, 'hello');
      const unknownCsv = path.join(dir, 'other.csv');
      fs.writeFileSync(unknownCsv, 'a;b;c\r\n1;2;3\r\n');
      for (const file of [other, unknownCsv]) {
        const err = await rejection(detectImportFormat(file));
        expect(isFileFormatError(err, 'F_NAME'), String(err)).to.equal(true);
      }
    });
  });

  describe('openImportFile', () => {
    it('opens each legacy format with its reader and the facts of its name', async () => {
      const cases: Array<[string, string, number]> = [
        [LIDC_V29, 'piemontepay-v2.9', 4],
        [LIDC_V28, 'piemontepay-v2.8', 4],
        [AGPD, 'piemontepay-agpd-v2.8', 3],
        [MYPAY, 'mypay-1.4', 4],
        [XLSX, 'xlsx', 6],
      ];
      for (const [file, format, records] of cases) {
        const opened = await openImportFile(file, { secondaryEnte: { fiscalCode: '00514660018' } });
        expect(opened.header.format).to.equal(format);
        const result = await readAll(opened);
        expect(result.fileError, `${format}: ${result.fileError?.message}`).to.equal(null);
        expect(result.records, format).to.have.length(records);
      }
    });

    it('opens a ppay CSV under its conventional name with ente and flow id in the header', async () => {
      const named = copyAs(PPAY_VALID, '01234567897_TARI-2024-0042_20240201_ppay-1.csv');
      const opened = await openImportFile(named);
      expect(opened.header).to.include({
        format: 'ppay-csv-1',
        enteFiscalCode: '01234567897',
        flowId: 'TARI-2024-0042',
      });
      const direct = await readAll(readPpayCsv(fs.createReadStream(PPAY_VALID)));
      expect(plain((await readAll(opened)).items)).to.deep.equal(plain(direct.items));
    });

    it('opens a ppay CSV packed in a .zip of the same base name', async () => {
      const base = '01234567897_TARI-2024-0043_ppay-1';
      const zip = new yazl.ZipFile();
      zip.addFile(PPAY_VALID, `${base}.csv`);
      zip.end();
      const target = path.join(dir, `${base}.zip`);
      await new Promise<void>((resolve, reject) =>
        zip.outputStream.pipe(fs.createWriteStream(target)).on('close', resolve).on('error', reject),
      );
      const result = await readAll(await openImportFile(target));
      const direct = await readAll(readPpayCsv(fs.createReadStream(PPAY_VALID)));
      expect(summary(result.items)).to.deep.equal(summary(direct.items));
    });

    it('opens a ppay XML file with the XML reader', async () => {
      const opened = await openImportFile(copyAs(XML_VALID, 'flow.xml'));
      expect(opened.header.format).to.equal('ppay-xml-1');
      expect((await readAll(opened)).records.length).to.be.greaterThan(0);
    });

    it("passes the drop folder's ente on: a MyPay package of another ente is F_ENTE", async () => {
      const err = await rejection(openImportFile(MYPAY, { enteIpaCode: 'c_a001' }));
      expect(isFileFormatError(err, 'F_ENTE')).to.equal(true);
    });
  });
});

// PiemontePay's Lista di carico v2.9 / v2.8 and AGPD v2.8 read onto the ppay import model: the
// fixtures give the records of their ppay CSV v1 equivalents, errors carry the crosswalked codes,
// ISO-8859-1 is the default, and the compatibility outcome speaks PiemontePay's CodiceEsito.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import ExcelJS from 'exceljs';
import {
  AGPD_V28_COLUMNS,
  LISTA_V28_COLUMNS,
  LISTA_V29_COLUMNS,
  parseLidcFileName,
  piemontePayEsitoCode,
  readPiemontePayList,
  writePiemontePayOutcome,
  type PiemontePayLayout,
  type PiemontePayReadOptions,
} from '../../../src/batch/formats/piemontepay.ts';
import { readPpayCsv } from '../../../src/batch/formats/ppayCsv.ts';
import {
  OUTCOME_CROSSWALK,
  type OutcomeLine,
  type PositionRecord,
} from '../../../src/batch/formats/types.ts';
import { PROJECT_ROOT } from '../../../src/xml/paths.ts';
import { plain, readAll, summary } from '../../support/batchFormats.ts';

const FIXTURES = path.join(PROJECT_ROOT, 'fixtures/batch/piemontepay');
const V29 = path.join(FIXTURES, 'LIDC_80000010001_TARI_20250301-TARI-42-001.csv');
const V28 = path.join(FIXTURES, 'LIDC_80000010001_TARI_20250302-TARI-43-001.csv');
const AGPD = path.join(FIXTURES, 'agpd-v2.8-tari-marzo.csv');
const SECONDARY = { fiscalCode: '00514660018' };

async function readPpayEquivalent(name: string) {
  return readAll(readPpayCsv(fs.createReadStream(path.join(FIXTURES, 'expected', name))));
}

async function readList(file: string, layout: PiemontePayLayout, options: PiemontePayReadOptions = {}) {
  return readAll(readPiemontePayList(file, layout, { secondaryEnte: SECONDARY, ...options }));
}

/** A valid v2.9 row (natural person, one component); `changes` sets cells by v2.9 index. */
function listaRow(changes: Record<number, string> = {}): string[] {
  const row: string[] = new Array(LISTA_V29_COLUMNS.length).fill('');
  Object.assign(row, {
    1: '3000',
    2: '20250331',
    3: 'TARI 2025',
    5: '3000',
    6: 'TARI quota unica',
    35: 'F',
    36: 'RSSMRA85T10A562S',
    37: 'Rossi',
    38: 'Mario',
  });
  for (const [index, value] of Object.entries(changes)) row[Number(index)] = value;
  return row;
}

function agpdRow(changes: Record<number, string>): string[] {
  const row: string[] = new Array(AGPD_V28_COLUMNS.length).fill('');
  for (const [index, value] of Object.entries(changes)) row[Number(index)] = value;
  return row;
}

function csvText(header: readonly string[], rows: readonly string[][]): string {
  const quote = (v: string) => (/[;"]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [header, ...rows].map((r) => r.map(quote).join(';')).join('\r\n') + '\r\n';
}

describe('PiemontePay lists', () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-piemontepay-'));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a list in ISO-8859-1 under a LIDC_ name (service TARI, flow 20250301-TARI-1-001). */
  function writeList(
    content: string | Buffer,
    name = 'LIDC_80000010001_TARI_20250301-TARI-1-001.csv',
  ): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof content === 'string' ? Buffer.from(content, 'latin1') : content);
    return file;
  }

  async function rowResult(row: string[], options: PiemontePayReadOptions = {}) {
    const result = await readList(writeList(csvText(LISTA_V29_COLUMNS, [row])), 'v2.9', options);
    expect(result.fileError).to.equal(null);
    return result;
  }

  async function rowCode(row: string[], options: PiemontePayReadOptions = {}): Promise<string> {
    const [item] = (await rowResult(row, options)).items;
    expect(item?.error, JSON.stringify(item)).to.not.equal(undefined);
    return item?.error?.code as string;
  }

  describe('Lista di carico v2.9', () => {
    it('gives the records of the equivalent ppay CSV v1 file', async () => {
      const piemontepay = await readList(V29, 'v2.9');
      const ppay = await readPpayEquivalent('lista-v2.9.ppay.csv');
      expect(ppay.errors).to.deep.equal([]);
      expect(piemontepay.errors).to.deep.equal([]);
      expect(piemontepay.fileError).to.equal(null);
      expect(plain(piemontepay.records)).to.deep.equal(plain(ppay.records));
    });

    it('takes ente, codice versamento and flow id from the LIDC_ name', async () => {
      const file = readPiemontePayList(V29, 'v2.9');
      expect(file.header).to.include({
        format: 'piemontepay-v2.9',
        enteFiscalCode: '80000010001',
        serviceCode: 'TARI',
        flowId: '20250301-TARI-42-001',
      });
      expect(parseLidcFileName('LIDC_80000010001_TARI_PS_20250301-TARI-42-001.xlsx')).to.deep.equal({
        enteFiscalCode: '80000010001',
        serviceCode: 'TARI',
        idMessaggio: '20250301-TARI-42-001',
        extension: 'xlsx',
      });
    });

    it('reads ISO-8859-1 accented letters by default', async () => {
      const bytes = fs.readFileSync(V29);
      expect(bytes.includes(Buffer.from('Località', 'latin1'))).to.equal(true);
      const [first, second] = (await readList(V29, 'v2.9')).records as PositionRecord[];
      expect(first?.position.description).to.equal('TARI 2025 - Località Pianezza');
      expect(second?.position.debtor?.fullName).to.equal('Società Agricola Bianchi S.r.l.');
    });

    it('reads the same list saved as UTF-8 (with or without BOM) to the same records', async () => {
      const text = fs.readFileSync(V29).toString('latin1');
      const expected = plain((await readList(V29, 'v2.9')).records);
      for (const bytes of [
        Buffer.from(text, 'utf8'),
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
      ]) {
        const file = writeList(bytes, 'LIDC_80000010001_TARI_20250301-TARI-42-001.csv');
        expect(plain((await readList(file, 'v2.9')).records)).to.deep.equal(expected);
      }
    });

    it('rejects an ISO-8859-1 file read with --encoding utf-8 as F_ENCODING', async () => {
      const result = await readList(V29, 'v2.9', { encoding: 'utf-8' });
      expect(result.fileError?.code).to.equal('F_ENCODING');
    });

    it('builds stable position ids <flowId>-<line>, or from --id-from', async () => {
      const again = await readList(V29, 'v2.9');
      expect(again.records.map((r) => r.positionId)).to.deep.equal(
        [2, 3, 4, 5].map((n) => `20250301-TARI-42-001-${n}`),
      );
      const custom = await readList(V29, 'v2.9', { idTemplate: 'TARI25-{row}' });
      expect(custom.records.map((r) => r.positionId)).to.deep.equal([
        'TARI25-1',
        'TARI25-2',
        'TARI25-3',
        'TARI25-4',
      ]);
    });

    it('gives every position the service and validity window of the upload', async () => {
      const result = await readList(V29, 'v2.9', {
        serviceCode: 'TARI-NEW',
        validityFrom: '2025-03-01',
        validityTo: '2025-12-31',
      });
      for (const record of result.records as PositionRecord[]) {
        expect(record.serviceCode).to.equal('TARI-NEW');
        expect(record.position).to.include({ validityFrom: '2025-03-01', validityTo: '2025-12-31' });
      }
    });

    it('refuses a list that names no codice versamento (F_NAME)', () => {
      const file = writeList(csvText(LISTA_V29_COLUMNS, [listaRow()]), 'lista.csv');
      expect(() => readPiemontePayList(file, 'v2.9'))
        .to.throw()
        .with.property('code', 'F_NAME');
      expect(readPiemontePayList(file, 'v2.9', { serviceCode: 'TARI' }).header.flowId).to.equal('lista');
    });
  });

  describe('Lista di carico v2.8', () => {
    it('gives the records of the equivalent ppay CSV v1 file, ids from Posizione debitoria esterna', async () => {
      const piemontepay = await readList(V28, 'v2.8');
      const ppay = await readPpayEquivalent('lista-v2.8.ppay.csv');
      expect(piemontepay.errors).to.deep.equal([]);
      expect(plain(piemontepay.records)).to.deep.equal(plain(ppay.records));
    });

    it('answers a repeated Posizione debitoria esterna with E_DUP_IN_FILE', async () => {
      const row = ['POS-1', ...listaRow()];
      const file = writeList(csvText(LISTA_V28_COLUMNS, [row, row]));
      const result = await readList(file, 'v2.8');
      expect(summary(result.items)).to.deep.equal([
        'R INSERT POS-1 2',
        'E 3 E_DUP_IN_FILE Posizione debitoria esterna',
      ]);
    });
  });

  describe('row errors, with the crosswalked code', () => {
    const cases: Array<[string, Record<number, string>, string, PiemontePayReadOptions?]> = [
      [
        'an amount with a decimal point (PiemontePay would read 20.00 as €0.20)',
        { 1: '20.00', 5: '20.00' },
        'E_AMOUNT',
      ],
      ['a zero amount', { 1: '0', 5: '', 6: '' }, 'E_AMOUNT'],
      ['a missing amount', { 1: '' }, 'E_SYNTAX'],
      ['a due date that is no calendar day', { 2: '20250230' }, 'E_DUE_DATE'],
      ['a due date in another format', { 2: '31/03/2025' }, 'E_DUE_DATE'],
      ['a missing causale', { 3: '' }, 'E_SYNTAX'],
      ['a causale over 100 characters', { 3: 'x'.repeat(101) }, 'E_SYNTAX'],
      ['an unknown debtor type', { 35: 'X' }, 'E_DEBTOR_INVALID'],
      ['a natural person without first name', { 38: '' }, 'E_DEBTOR_INVALID'],
      ['a natural person with a company name', { 39: 'ACME S.p.A.' }, 'E_DEBTOR_INVALID'],
      ['a missing fiscal code', { 36: '' }, 'E_DEBTOR_INVALID'],
      ['riferimenti pagamento on a named debtor', { 25: 'Targa', 26: 'AB123CD' }, 'E_DEBTOR_INVALID'],
      ['a riferimento without its value', { 25: 'Targa', 36: 'ANONIMO' }, 'E_SYNTAX'],
      ['components that do not add up to the total', { 5: '2500' }, 'E_AMOUNT'],
      ['a component without causale', { 6: '' }, 'E_SYNTAX'],
      ['an anno accertamento without numero', { 7: '2025' }, 'E_SYNTAX'],
      [
        'a secondary total that differs from its component',
        { 1: '4000', 49: '1000', 50: '900', 51: 'Quota' },
        'E_AMOUNT',
      ],
      [
        'a total that is not principal + secondary',
        { 1: '5000', 48: '3000', 49: '1000', 50: '1000', 51: 'Quota' },
        'E_AMOUNT',
      ],
      ['a bad e-mail', { 46: 'mario.rossi-at-example.it' }, 'E_SYNTAX'],
      ['a reference year out of range', { 0: '1850' }, 'E_SYNTAX'],
    ];
    for (const [what, changes, code, options] of cases) {
      it(`answers ${what} with ${code}`, async () => {
        expect(await rowCode(listaRow(changes), options)).to.equal(code);
      });
    }

    it('answers a secondary component with E_AMOUNT when the service has no secondary ente', async () => {
      const row = listaRow({ 1: '4000', 48: '3000', 49: '1000', 50: '1000', 51: 'Quota ente B' });
      expect(await rowCode(row, { secondaryEnte: undefined })).to.equal('E_AMOUNT');
      const [ok] = (await rowResult(row)).records as PositionRecord[];
      expect(ok?.position.options[0]?.transfers.map((t) => [t.amountCents, t.enteFiscalCode])).to.deep.equal([
        [3000, undefined],
        [1000, '00514660018'],
      ]);
    });

    it('answers five components plus a secondary with E_TOO_MANY_TRANSFERS', async () => {
      const changes: Record<number, string> = {
        1: '6000',
        48: '5000',
        49: '1000',
        50: '1000',
        51: 'Quota B',
      };
      for (let k = 0; k < 5; k++)
        Object.assign(changes, { [5 + 4 * k]: '1000', [6 + 4 * k]: `Componente ${k + 1}` });
      expect(await rowCode(listaRow(changes))).to.equal('E_TOO_MANY_TRANSFERS');
    });

    it('answers a ragged row and a broken quote with E_SYNTAX and reads the rows around them', async () => {
      const good = csvText(LISTA_V29_COLUMNS, [listaRow()]).split('\r\n')[1];
      const text = [LISTA_V29_COLUMNS.join(';'), good, `${good};extra`, `"${good}`, good].join('\r\n');
      const result = await readList(writeList(text), 'v2.9');
      expect(summary(result.items)).to.deep.equal([
        'R INSERT 20250301-TARI-1-001-2 2',
        'E 3 E_SYNTAX -',
        'E 4 E_SYNTAX -',
        'R INSERT 20250301-TARI-1-001-5 5',
      ]);
    });

    it('names the PiemontePay column and keeps every problem of a row in the message', async () => {
      const [item] = (await rowResult(listaRow({ 3: '', 38: '' }))).items;
      expect(item?.error).to.include({ line: 2, code: 'E_SYNTAX', field: 'Descrizione causale versamento' });
      expect(item?.error?.message).to.contain('Nome soggetto debitore');
    });
  });

  describe('file errors', () => {
    it('rejects a header with the wrong cell count as F_HEADER', async () => {
      const file = writeList(csvText(LISTA_V28_COLUMNS, [['P', ...listaRow()]]));
      const result = await readList(file, 'v2.9');
      expect(result.fileError?.code).to.equal('F_HEADER');
      expect(result.fileError?.line).to.equal(1);
    });

    it('rejects an empty file and a header-only file as F_EMPTY', async () => {
      for (const content of ['', '\r\n', `${LISTA_V29_COLUMNS.join(';')}\r\n`]) {
        expect((await readList(writeList(content), 'v2.9')).fileError?.code).to.equal('F_EMPTY');
      }
    });

    it('checks the upload form control totals at the end (F_COUNT, F_TOTAL)', async () => {
      expect((await readList(V29, 'v2.9', { expectCount: 4, expectTotalCents: 32250 })).fileError).to.equal(
        null,
      );
      expect((await readList(V29, 'v2.9', { expectCount: 5 })).fileError?.code).to.equal('F_COUNT');
      expect((await readList(V29, 'v2.9', { expectTotalCents: 32251 })).fileError?.code).to.equal('F_TOTAL');
    });

    it('skips rows of empty cells, as spreadsheets export them', async () => {
      const text = csvText(LISTA_V29_COLUMNS, [listaRow(), new Array(52).fill('')]);
      const result = await readList(writeList(text), 'v2.9');
      expect(result.fileError).to.equal(null);
      expect(result.items).to.have.length(1);
    });
  });

  describe('AGPD update / cancel list v2.8', () => {
    it('reads an A row as the cancel of the equivalent ppay CSV v1 row', async () => {
      const agpd = await readList(AGPD, 'agpd-v2.8');
      const ppay = await readPpayEquivalent('agpd-cancel.ppay.csv');
      expect(agpd.fileError).to.equal(null);
      expect(plain(agpd.records[0])).to.deep.equal(plain(ppay.records[0]));
    });

    it('reads M rows as patches of only the fields they give', async () => {
      const [, due, debtor] = (await readList(AGPD, 'agpd-v2.8')).records;
      expect(plain(due)).to.deep.equal({
        action: 'UPDATE',
        positionId: 'COSAP-2025-77',
        lines: [3],
        warnings: [],
        changeReason: 'Proroga concessa',
        patch: {
          description: 'Canone occupazione suolo pubblico - proroga',
          option: { dueDate: '2025-06-30', amountCents: 16000 },
        },
      });
      expect(plain(debtor)).to.deep.equal({
        action: 'UPDATE',
        positionId: 'CDS-234',
        lines: [4],
        warnings: [],
        changeReason: 'Intestatario identificato',
        patch: {
          debtor: {
            type: 'F',
            fiscalCode: 'BNCLCU90M41F205Q',
            fullName: 'Lucia Bianchi',
            streetName: 'Corso Francia',
            civicNumber: '12',
            postalCode: '10138',
            city: 'Torino',
            stateProvinceRegion: 'TO',
            country: 'IT',
            email: 'lucia.bianchi@example.it',
          },
        },
      });
    });

    it('accepts the 51-cell legacy header', async () => {
      const header = AGPD_V28_COLUMNS.slice(0, 51);
      const file = writeList(
        csvText(header, [agpdRow({ 0: 'A', 1: 'P-1', 37: 'Errore' }).slice(0, 51)]),
        'agpd.csv',
      );
      expect(summary((await readList(file, 'agpd-v2.8')).items)).to.deep.equal(['R CANCEL P-1 2']);
    });

    const cases: Array<[string, Record<number, string>, string]> = [
      ['an A row that carries an amount', { 0: 'A', 1: 'P-1', 5: '1000', 37: 'x' }, 'E_SYNTAX'],
      ['an M row that changes nothing', { 0: 'M', 1: 'P-1', 37: 'x' }, 'E_SYNTAX'],
      ['a row without Motivazione', { 0: 'A', 1: 'P-1' }, 'E_SYNTAX'],
      ['an unknown Tipo aggiornamento', { 0: 'X', 1: 'P-1', 37: 'x' }, 'E_SYNTAX'],
      [
        'validity dates in the wrong order',
        { 0: 'M', 1: 'P-1', 3: '20251231', 4: '20250101', 37: 'x' },
        'E_DUE_DATE',
      ],
      [
        'a debtor block without Tipo soggetto',
        { 0: 'M', 1: 'P-1', 43: 'Via Roma', 37: 'x' },
        'E_DEBTOR_INVALID',
      ],
    ];
    for (const [what, changes, code] of cases) {
      it(`answers ${what} with ${code}`, async () => {
        const file = writeList(csvText(AGPD_V28_COLUMNS, [agpdRow(changes)]), 'agpd.csv');
        const [item] = (await readList(file, 'agpd-v2.8')).items;
        expect(item?.error?.code, JSON.stringify(item)).to.equal(code);
      });
    }
  });

  describe('as .xlsx', () => {
    async function workbook(rows: unknown[][], sheets = 1): Promise<string> {
      const book = new ExcelJS.Workbook();
      const sheet = book.addWorksheet('Lista');
      sheet.addRow([...LISTA_V29_COLUMNS]);
      for (const row of rows) sheet.addRow(row);
      for (let i = 1; i < sheets; i++) book.addWorksheet(`Altro ${i}`).addRow(['x']);
      const file = path.join(dir, 'LIDC_80000010001_TARI_20250301-TARI-9-001.xlsx');
      await book.xlsx.writeFile(file);
      return file;
    }

    it('reads numeric cells as euros, text cells as cents and date cells as dates', async () => {
      const row: unknown[] = listaRow({ 2: '' });
      row[1] = 30;
      row[5] = '3000';
      row[2] = new Date(Date.UTC(2025, 2, 31));
      const result = await readList(await workbook([row]), 'v2.9');
      expect(result.errors).to.deep.equal([]);
      const option = (result.records[0] as PositionRecord).position.options[0];
      expect(option).to.include({ amountCents: 3000, dueDate: '2025-03-31' });
      expect(option?.transfers[0]?.amountCents).to.equal(3000);
    });

    it('refuses a workbook with more than one sheet (F_FORMAT)', async () => {
      const result = await readList(await workbook([listaRow()], 2), 'v2.9');
      expect(result.fileError?.code).to.equal('F_FORMAT');
    });
  });

  describe('compatibility outcome (--esito piemontepay)', () => {
    const lines: Array<OutcomeLine & { field?: string }> = [
      {
        rowNo: 2,
        positionId: 'P-1',
        outcome: 'OK',
        iuv: '01000000000000012',
        noticeNumber: '301000000000000012',
      },
      {
        rowNo: 3,
        positionId: 'P-2',
        outcome: 'KO',
        errorCode: 'E_ALREADY_EXISTS',
        errorMessage: 'già presente',
      },
      {
        rowNo: 4,
        positionId: 'P-3',
        outcome: 'KO',
        errorCode: 'E_SYNTAX',
        field: 'Descrizione causale versamento',
        errorMessage: 'manca la causale €',
      },
      {
        rowNo: 5,
        positionId: 'P-4',
        outcome: 'KO',
        errorCode: 'E_TOO_MANY_TRANSFERS',
        errorMessage: 'troppi',
      },
    ];

    it('maps every ppay code to a PiemontePay CodiceEsito of three digits', () => {
      for (const code of Object.keys(OUTCOME_CROSSWALK)) {
        const esito = piemontePayEsitoCode({
          rowNo: 1,
          outcome: code === 'OK' ? 'OK' : 'KO',
          errorCode: code as never,
        });
        expect(esito, code).to.match(/^[012]\d\d$/);
      }
      expect(piemontePayEsitoCode({ rowNo: 1, outcome: 'KO', errorCode: 'E_NOT_FOUND' })).to.equal('176');
      expect(piemontePayEsitoCode({ rowNo: 1, outcome: 'KO', errorCode: 'F_DUP_FLOW' })).to.equal('150');
      expect(
        piemontePayEsitoCode({
          rowNo: 1,
          outcome: 'KO',
          errorCode: 'E_DEBTOR_INVALID',
          field: 'debtor_fiscal_code',
        }),
      ).to.equal('167');
      expect(piemontePayEsitoCode({ rowNo: 1, outcome: 'WARN', errorCode: 'W_TRUNCATED' })).to.equal('000');
    });

    it('writes IdPosizioneDebitoria;IUV;CodiceAvviso;CodiceEsito;DescrizioneEsito in ISO-8859-1', async () => {
      const target = path.join(dir, 'esito.csv');
      const summaryOf = await writePiemontePayOutcome(lines, target);
      expect(summaryOf).to.deep.equal({ ok: 1, ko: 3, resultCode: '050' });
      const text = fs.readFileSync(target).toString('latin1');
      expect(text.split('\r\n')).to.deep.equal([
        'IdPosizioneDebitoria;IUV;CodiceAvviso;CodiceEsito;DescrizioneEsito',
        'P-1;01000000000000012;301000000000000012;000;OK',
        'P-2;;;161;già presente',
        'P-3;;;164;manca la causale ?',
        'P-4;;;183;troppi',
        '',
      ]);
    });

    it('says 051 when no position went in and names the parse error of a file-level failure', async () => {
      const target = path.join(dir, 'esito-ko.csv');
      const file: OutcomeLine = { rowNo: 1, outcome: 'KO', errorCode: 'F_HEADER', errorMessage: 'header' };
      expect((await writePiemontePayOutcome([file], target)).resultCode).to.equal('051');
      expect(fs.readFileSync(target, 'latin1')).to.contain(';;;200;PARSE_ERROR_INTESTAZIONE: header');
    });
  });
});

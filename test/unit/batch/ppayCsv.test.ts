import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { generatePpayCsv } from '../../../src/batch/formats/generate.ts';
import { PPAY_CSV_COLUMNS, readPpayCsv } from '../../../src/batch/formats/ppayCsv.ts';
import type { PositionRecord } from '../../../src/batch/formats/types.ts';
import {
  chunked,
  fixtureStream,
  insertRow,
  plain,
  PPAY_FIXTURES,
  ppayCsv,
  readAll,
  summary,
  textStream,
} from '../../support/batchFormats.ts';

async function readFixture(name: string, options = {}) {
  return readAll(readPpayCsv(fixtureStream(name), options));
}

async function readText(text: string | Buffer) {
  return readAll(readPpayCsv(textStream(text)));
}

function positionOf(record: unknown): PositionRecord {
  const r = record as PositionRecord;
  expect(r).to.have.property('position');
  return r;
}

describe('ppay CSV v1 reader', () => {
  it('documents 61 columns', () => {
    expect(PPAY_CSV_COLUMNS).to.have.length(61);
    expect(new Set(PPAY_CSV_COLUMNS).size).to.equal(61);
  });

  describe('the valid fixture', () => {
    it('reads singles, a plan, a two-beneficiary position, an update and a cancel, one record each', async () => {
      const result = await readFixture('valid.csv');
      expect(result.fileError).to.equal(null);
      expect(summary(result.items)).to.deep.equal([
        'R INSERT TARI-2024-0001 2',
        'R INSERT TARI-2024-0002 3',
        'R INSERT TARI-2024-0003 4,5,6',
        'R INSERT CDS-2024-0042 7',
        'R UPDATE TARI-2023-0777 8',
        'R CANCEL TARI-2023-0999 9',
      ]);
    });

    it('unquotes RFC 4180 fields, joins the debtor name, decodes metadata and ignores x_ columns', async () => {
      const [single] = (await readFixture('valid.csv')).records;
      expect(plain(single)).to.deep.equal({
        action: 'INSERT',
        positionId: 'TARI-2024-0001',
        lines: [2],
        warnings: [],
        serviceCode: 'TARI',
        position: {
          description: 'TARI 2024; utenza domestica "Corso Francia 10"',
          referenceYear: 2024,
          notes: 'Pagabile presso ogni PSP',
          debtor: {
            type: 'F',
            fiscalCode: 'RSSMRA80A01H501U',
            fullName: 'Mario Rossi',
            streetName: 'Corso Francia',
            civicNumber: '10',
            postalCode: '10138',
            city: 'Torino',
            stateProvinceRegion: 'TO',
            country: 'IT',
            email: 'mario.rossi@example.it',
          },
          metadata: [
            { key: 'rif.Utenza', value: 'UT-001' },
            { key: 'note', value: 'a=b|c' },
          ],
          options: [{ installment: 0, line: 2, dueDate: '2024-04-30', amountCents: 18900, transfers: [] }],
        },
      });
    });

    it('keeps a description over 140 characters whole and warns W_TRUNCATED on its line', async () => {
      const record = positionOf((await readFixture('valid.csv')).records[1]);
      expect(record.position.description).to.have.length.above(140);
      expect(record.warnings).to.deep.equal([
        {
          line: 3,
          code: 'W_TRUNCATED',
          field: 'description',
          message: 'description cut to 140 characters for pagoPA',
        },
      ]);
      expect(record.position.options[0]?.iuv).to.equal('01000000000012345');
    });

    it('gathers the contiguous rows of a plan into one position with its installments', async () => {
      const record = positionOf((await readFixture('valid.csv')).records[2]);
      expect(plain(record.position.options)).to.deep.equal([
        {
          installment: 1,
          line: 4,
          label: 'rata 1 di 3',
          dueDate: '2024-04-30',
          amountCents: 7000,
          transfers: [],
        },
        {
          installment: 2,
          line: 5,
          label: 'rata 2 di 3',
          dueDate: '2024-07-31',
          amountCents: 7000,
          transfers: [],
        },
        {
          installment: 3,
          line: 6,
          label: 'rata 3 di 3',
          dueDate: '2024-10-31',
          amountCents: 7100,
          transfers: [],
        },
      ]);
    });

    it('reads two transfers with their beneficiary, IBAN, taxonomy and accertamento', async () => {
      const record = positionOf((await readFixture('valid.csv')).records[3]);
      expect(record.position.validityFrom).to.equal('2024-02-01');
      expect(record.position.validityTo).to.equal('2024-12-31');
      expect(plain(record.position.options[0]?.transfers)).to.deep.equal([
        {
          amountCents: 7000,
          iban: 'IT60X0542811101000000123456',
          remittanceInformation: 'Sanzione CdS quota comune',
          category: '9/0101108TS/',
          accountingYear: 2024,
          accountingNumber: 'ACC-17',
        },
        {
          amountCents: 3000,
          enteFiscalCode: '98765432103',
          iban: 'IT92F0306901000100000046001',
          remittanceInformation: 'Quota provincia',
          category: '9/0301109AP/',
        },
      ]);
      expect(record.position.metadata.map((m) => m.key)).to.deep.equal([
        'rif.Targa',
        'rif.Verbale',
        'sec.name',
      ]);
    });

    it('reads only position_id and change_reason on a cancel row', async () => {
      const cancel = (await readFixture('valid.csv')).records[5];
      expect(plain(cancel)).to.deep.equal({
        action: 'CANCEL',
        positionId: 'TARI-2023-0999',
        lines: [9],
        warnings: [],
        reason: 'Utenza cessata',
      });
    });

    it('reads the same records when the bytes arrive one at a time', async () => {
      const bytes = fs.readFileSync(path.join(PPAY_FIXTURES, 'valid.csv'));
      const whole = await readFixture('valid.csv');
      const trickled = await readAll(readPpayCsv(chunked(bytes, 1)));
      expect(trickled.items).to.deep.equal(whole.items);
    });
  });

  describe('edge-case fixtures', () => {
    it('fails only the ragged rows (too few and too many fields)', async () => {
      const result = await readFixture('ragged-row.csv');
      expect(summary(result.items)).to.deep.equal([
        'R INSERT P-1 2',
        'E 3 E_SYNTAX -',
        'R INSERT P-3 4',
        'E 5 E_SYNTAX -',
      ]);
      expect(result.errors[0]?.message).to.equal('the row has 8 fields, the header has 9');
      expect(result.errors[0]?.positionId).to.equal('P-2');
    });

    it('fails bad amounts with E_AMOUNT: a comma, zero, a sign, above the pagoPA maximum', async () => {
      const result = await readFixture('bad-amount.csv');
      expect(summary(result.items)).to.deep.equal([
        'R INSERT P-1 2',
        'E 3 E_AMOUNT amount_cents',
        'E 4 E_AMOUNT amount_cents',
        'E 5 E_AMOUNT amount_cents',
        'E 6 E_AMOUNT amount_cents',
        'R INSERT P-6 7',
      ]);
    });

    it('answers E_DUP_IN_FILE to a position_id given again, keeping the first', async () => {
      const result = await readFixture('duplicate-position-id.csv');
      expect(summary(result.items)).to.deep.equal([
        'R INSERT P-1 2',
        'R INSERT P-2 3',
        'E 4 E_DUP_IN_FILE position_id',
        'R INSERT P-3 5',
      ]);
      expect(result.errors[0]?.message).to.contain('already appeared at line 2');
    });

    it('treats the rows of a position split by another position as two positions, the second a duplicate', async () => {
      const result = await readFixture('non-contiguous-position.csv');
      expect(summary(result.items)).to.deep.equal([
        'E 2 E_SYNTAX installment_no',
        'R INSERT P-2 3',
        'E 4 E_DUP_IN_FILE position_id',
        'R INSERT P-3 5',
      ]);
    });

    it('fails a line with broken quotes and the rest of its position, and goes on', async () => {
      const result = await readFixture('bad-quote.csv');
      expect(summary(result.items)).to.deep.equal(['E 2 E_SYNTAX -', 'E 3 E_SYNTAX -', 'R INSERT P-2 4']);
      expect(result.errors[0]?.message).to.match(/^position rejected because of line 3/);
      expect(result.errors[1]?.message).to.contain('text after its closing quote');
    });

    it('rejects a header-only file and an empty file with F_EMPTY', async () => {
      for (const name of ['header-only.csv', 'empty.csv']) {
        const result = await readFixture(name);
        expect(result.items, name).to.deep.equal([]);
        expect(result.fileError?.code, name).to.equal('F_EMPTY');
      }
    });

    it('rejects an ISO-8859-1 file with F_ENCODING at the first line that is not UTF-8', async () => {
      const result = await readFixture('wrong-encoding-latin1.csv');
      expect(result.fileError?.code).to.equal('F_ENCODING');
      expect(result.fileError?.line).to.equal(3);
    });

    it('drops a UTF-8 BOM and reads accented text', async () => {
      const result = await readFixture('bom.csv');
      expect(summary(result.items)).to.deep.equal(['R INSERT P-1 2', 'R INSERT P-2 3']);
      expect(positionOf(result.records[1]).position.description).to.equal('Tassa rifiuti - località Pià');
    });

    it('reads CRLF line ends as LF ones', async () => {
      const result = await readFixture('crlf.csv');
      expect(summary(result.items)).to.deep.equal(['R INSERT P-1 2', 'R INSERT P-2 3']);
      expect(positionOf(result.records[1]).position.description).to.equal('Tassa rifiuti; "centro"');
      expect(positionOf(result.records[0]).position.options[0]?.amountCents).to.equal(1000);
    });

    it('rejects an unknown column with F_HEADER', async () => {
      const result = await readFixture('unknown-column.csv');
      expect(result.items).to.deep.equal([]);
      expect(result.fileError?.code).to.equal('F_HEADER');
      expect(result.fileError?.message).to.contain('"amount"');
    });
  });

  describe('header', () => {
    it('matches columns by name in any order and reads a missing optional column as empty', async () => {
      const row = insertRow('P-1');
      const reordered = Object.fromEntries(Object.entries(row).reverse());
      const result = await readText(ppayCsv([reordered]));
      expect(summary(result.items)).to.deep.equal(['R INSERT P-1 2']);
      expect(positionOf(result.records[0]).position.notes).to.equal(undefined);
    });

    it('rejects a header without action or position_id, or with a column twice', async () => {
      const noAction = await readText('position_id;description\nP-1;x\n');
      expect(noAction.fileError?.code).to.equal('F_HEADER');
      const twice = await readText('action;position_id;action\nA;P-1;A\n');
      expect(twice.fileError?.code).to.equal('F_HEADER');
    });
  });

  describe('row rules', () => {
    it('names the code and column of each field problem', async () => {
      const rows = [
        insertRow('P-1', { debtor_fiscal_code: 'RSSMRA80A01H501X' }),
        insertRow('P-2', { tr1_amount_cents: '1000', tr1_iban: 'IT00X0000000000000000000000' }),
        insertRow('P-3', { tr1_amount_cents: '600', tr2_amount_cents: '300' }),
        insertRow('P-4', { tr1_amount_cents: '1000', tr1_taxonomy: 'TARI' }),
        insertRow('P-5', { due_date: '2024-02-30' }),
        insertRow('P-6', { iuv: '12345' }),
        insertRow('P-7', { action: 'X' }),
        insertRow('P-8', { metadata: 'no-equals-sign' }),
        insertRow('P-9', { tr2_amount_cents: '1000' }),
        insertRow('P-10', { debtor_type: 'G' }),
        insertRow('bad id', {}),
        insertRow('P-11', { validity_from: '2024-05-01', validity_to: '2024-04-01' }),
        insertRow('P-12', { description: '' }),
        insertRow('P-13', { tr1_org_fiscal_code: '12345678901', tr1_amount_cents: '1000' }),
      ];
      const result = await readText(ppayCsv(rows));
      expect(summary(result.items)).to.deep.equal([
        'E 2 E_DEBTOR_INVALID debtor_fiscal_code',
        'E 3 E_SYNTAX tr1_iban',
        'E 4 E_AMOUNT amount_cents',
        'E 5 E_TAXONOMY tr1_taxonomy',
        'E 6 E_DUE_DATE due_date',
        'E 7 E_IUV_INVALID iuv',
        'E 8 E_SYNTAX action',
        'E 9 E_SYNTAX metadata',
        'E 10 E_SYNTAX tr2_amount_cents',
        'E 11 E_DEBTOR_INVALID debtor_first_name',
        'E 12 E_SYNTAX position_id',
        'E 13 E_DUE_DATE validity_to',
        'E 14 E_SYNTAX description',
        'E 15 E_SYNTAX tr1_org_fiscal_code',
      ]);
    });

    it('reports every problem of a row in one message', async () => {
      const result = await readText(ppayCsv([insertRow('P-1', { amount_cents: 'x', due_date: 'tomorrow' })]));
      expect(result.errors).to.have.length(1);
      expect(result.errors[0]?.code).to.equal('E_AMOUNT');
      expect(result.errors[0]?.message).to.contain('amount_cents').and.contain('due_date');
    });

    it('accepts an RF creditor reference and a 15-digit IUV', async () => {
      const rows = [
        insertRow('P-1', { iuv: 'RF22TARI2024000123' }),
        insertRow('P-2', { iuv: '123456789012345' }),
      ];
      const result = await readText(ppayCsv(rows));
      expect(summary(result.items)).to.deep.equal(['R INSERT P-1 2', 'R INSERT P-2 3']);
    });

    it('fails a whole position when one of its rows is wrong, each row with its own line', async () => {
      const plan = (n: string, due: string, extra = {}) =>
        insertRow('PLAN-1', { installment_no: n, due_date: due, amount_cents: '5000', ...extra });
      const result = await readText(
        ppayCsv([
          plan('1', '2024-04-30'),
          plan('2', '2024-07-31', { amount_cents: '50,00' }),
          plan('3', '2024-10-31'),
        ]),
      );
      expect(summary(result.items)).to.deep.equal([
        'E 2 E_AMOUNT -',
        'E 3 E_AMOUNT amount_cents',
        'E 4 E_AMOUNT -',
      ]);
      expect(result.errors[0]?.message).to.match(/^position rejected because of line 3: /);
      expect(result.errors.map((e) => e.installment)).to.deep.equal([1, 2, 3]);
    });

    it('checks a plan: repeated position columns, duplicate installment, numbering, ascending due dates', async () => {
      const plan = (id: string, n: string, due: string, extra = {}) =>
        insertRow(id, { installment_no: n, due_date: due, amount_cents: '5000', ...extra });
      const result = await readText(
        ppayCsv([
          plan('A', '1', '2024-04-30'),
          plan('A', '2', '2024-07-31', { description: 'other' }),
          plan('B', '1', '2024-04-30'),
          plan('B', '1', '2024-07-31'),
          plan('C', '1', '2024-04-30'),
          plan('C', '3', '2024-07-31'),
          plan('D', '1', '2024-07-31'),
          plan('D', '2', '2024-04-30'),
          plan('E', '0', '2024-04-30', { action: 'I' }),
          plan('E', '1', '2024-04-30', { action: 'M' }),
        ]),
      );
      expect(summary(result.items)).to.deep.equal([
        'E 2 E_SYNTAX -',
        'E 3 E_SYNTAX description',
        'E 4 E_DUP_IN_FILE -',
        'E 5 E_DUP_IN_FILE installment_no',
        'E 6 E_SYNTAX installment_no',
        'E 7 E_SYNTAX -',
        'E 8 E_DUE_DATE -',
        'E 9 E_DUE_DATE due_date',
        'E 10 E_SYNTAX -',
        'E 11 E_SYNTAX action',
      ]);
    });

    it('accepts a single payment next to a plan in one position', async () => {
      const result = await readText(
        ppayCsv([
          insertRow('P', { installment_no: '0', amount_cents: '9000' }),
          insertRow('P', { installment_no: '1', amount_cents: '4500', due_date: '2024-04-30' }),
          insertRow('P', { installment_no: '2', amount_cents: '4500', due_date: '2024-05-31' }),
        ]),
      );
      expect(summary(result.items)).to.deep.equal(['R INSERT P 2,3,4']);
    });

    it('ignores every column but position_id and change_reason on cancel rows', async () => {
      const result = await readText(
        ppayCsv([
          {
            action: 'A',
            position_id: 'P-1',
            change_reason: 'cessata',
            amount_cents: 'garbage',
            debtor_type: 'Z',
          },
        ]),
      );
      expect(plain(result.records)).to.deep.equal([
        { action: 'CANCEL', positionId: 'P-1', lines: [2], warnings: [], reason: 'cessata' },
      ]);
    });

    it('skips blank lines without giving them an outcome', async () => {
      const text = ppayCsv([insertRow('P-1'), insertRow('P-2')]).replace('\nI;P-2', '\n\n   \nI;P-2');
      const result = await readText(text);
      const lines = result.items.map((i) => i.record?.lines ?? []);
      expect(lines).to.deep.equal([[2], [5]]);
    });

    it('fails a position of more than 100 rows, answering every row, without holding them all', async () => {
      const rows = Array.from({ length: 130 }, (_, k) =>
        insertRow('BIG', { installment_no: String(k + 1), due_date: '2024-04-30' }),
      );
      const result = await readText(ppayCsv([...rows, insertRow('NEXT')]));
      expect(result.errors).to.have.length(130);
      expect(result.errors.map((e) => e.line)).to.deep.equal(Array.from({ length: 130 }, (_, k) => k + 2));
      expect(result.errors.every((e) => e.code === 'E_SYNTAX')).to.equal(true);
      expect(summary(result.items).at(-1)).to.equal('R INSERT NEXT 132');
    });
  });

  describe('file rules', () => {
    it('checks control totals at the end: positions and the cents of I and M rows', async () => {
      const ok = await readFixture('valid.csv', { expectCount: 6, expectTotalCents: 196100 });
      expect(ok.fileError).to.equal(null);
      const count = await readFixture('valid.csv', { expectCount: 7 });
      expect(count.fileError?.code).to.equal('F_COUNT');
      expect(count.records, 'records come before the end').to.have.length(6);
      const total = await readFixture('valid.csv', { expectTotalCents: 196000 });
      expect(total.fileError?.code).to.equal('F_TOTAL');
    });

    it('passes header facts and control totals through to the file header', () => {
      const file = readPpayCsv(textStream(''), {
        expectCount: 3,
        header: { flowId: 'F-1', enteFiscalCode: '01234567897' },
      });
      expect(plain(file.header)).to.deep.equal({
        format: 'ppay-csv-1',
        flowId: 'F-1',
        enteFiscalCode: '01234567897',
        expectCount: 3,
      });
    });

    it('rejects UTF-16 text (NUL bytes) with F_ENCODING and an endless line with F_FORMAT', async () => {
      const utf16 = await readText(Buffer.from(ppayCsv([insertRow('P-1')]), 'utf16le'));
      expect(utf16.fileError?.code).to.equal('F_ENCODING');
      const long = await readAll(
        readPpayCsv(textStream('action;position_id\n' + 'x'.repeat(5000)), { maxLineBytes: 1000 }),
      );
      expect(long.fileError?.code).to.equal('F_FORMAT');
    });

    it('may yield records before a wrong encoding is found further down', async () => {
      const text = Buffer.concat([
        Buffer.from(ppayCsv([insertRow('P-1'), insertRow('P-2')])),
        Buffer.from('I;P-3;TARI;caf\xe9;F;RSSMRA80A01H501U;Rossi;Mario;0;2024-04-30;1000\n', 'latin1'),
      ]);
      const result = await readText(text);
      // P-2 is still open (its position could go on) when line 4 stops the file.
      expect(summary(result.items)).to.deep.equal(['R INSERT P-1 2']);
      expect(result.fileError?.code).to.equal('F_ENCODING');
      expect(result.fileError?.line).to.equal(4);
    });
  });

  describe('streaming', function () {
    this.timeout(180_000);
    let dir: string;

    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-csv-'));
    });

    after(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    function collectGarbage(): () => void {
      setFlagsFromString('--expose-gc');
      return runInNewContext('gc') as () => void;
    }

    it('reads a generated 200,000-row file with retained memory far below the file’s records', async () => {
      const file = path.join(dir, 'big.csv');
      const out = fs.createWriteStream(file);
      const generated = await generatePpayCsv(out, { rows: 200_000 });
      out.end();
      await finished(out);

      const gc = collectGarbage();
      gc();
      const baseline = process.memoryUsage().heapUsed;
      let peakGrowth = 0;
      let lines = 0;
      let records = 0;
      const reader = readPpayCsv(fs.createReadStream(file), {
        expectCount: generated.positions,
        expectTotalCents: generated.totalCents,
      });
      for await (const item of reader.items) {
        expect(item.error, item.error?.message).to.equal(undefined);
        records += 1;
        lines += item.record?.lines.length ?? 0;
        if (records % 25_000 === 0) {
          gc();
          peakGrowth = Math.max(peakGrowth, process.memoryUsage().heapUsed - baseline);
        }
      }
      expect(lines).to.equal(200_000);
      expect(records).to.equal(generated.positions);
      // What stays is the set of position ids seen (about 170,000 here, some 15 MB); the records
      // themselves (well over 200 MB if kept) must not.
      expect(peakGrowth, `heap growth ${Math.round(peakGrowth / 1e6)} MB`).to.be.below(40e6);
    });
  });
});

import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { expect } from 'chai';
import { splitCsvLine } from '../../../src/batch/formats/csvLines.ts';
import {
  buildOutcomeXml,
  fileRejectionLine,
  OUTCOME_CSV_HEADER,
  OutcomeCsvWriter,
  outcomeCsvLine,
  outcomeLineOfError,
  outcomeLinesOf,
  outcomeXmlRecordOf,
  outcomeXmlRecordOfError,
  outcomeXmlRecordOfLine,
  type RecordResult,
} from '../../../src/batch/formats/outcome.ts';
import { readPpayCsv } from '../../../src/batch/formats/ppayCsv.ts';
import { readXmlFile } from '../../../src/batch/formats/xmlFile.ts';
import {
  FileFormatError,
  OUTCOME_CROSSWALK,
  FILE_ERROR_CODES,
  ROW_ERROR_CODES,
  WARNING_CODES,
  rowCodeOfDomainError,
  type ImportRecord,
  type OutcomeLine,
} from '../../../src/batch/formats/types.ts';
import type { NoticeResult } from '../../../src/app/gestionale/uploadItems.ts';
import { PROJECT_ROOT } from '../../../src/xml/paths.ts';
import { schemaFor } from '../../../src/xml/schema.ts';
import { messages } from '../../support/xmlFiles.ts';
import { fixtureStream, plain, readAll } from '../../support/batchFormats.ts';

const FLOWS_SCHEMA = path.join(PROJECT_ROOT, 'xsd/flows/ppay-flows.xsd');

/** A fake application: notices numbered from the record's first line, installments as read. */
function applied(record: ImportRecord): RecordResult {
  if (!('position' in record)) return { outcome: 'OK', notices: [] };
  const notices: NoticeResult[] = record.position.options.map((o) => {
    const iuv = `0100000000${String(record.lines[0]).padStart(5, '0')}${String(o.installment).padStart(2, '0')}`;
    return {
      installment: o.installment,
      iuv,
      noticeNumber: `3${iuv}`,
      amountCents: o.amountCents,
      dueDate: o.dueDate ?? '',
    };
  });
  return { outcome: 'OK', notices };
}

/** Every outcome line of a ppay CSV fixture, the records applied by `apply`. */
async function outcomeOfFixture(
  name: string,
  apply: (r: ImportRecord) => RecordResult,
): Promise<OutcomeLine[]> {
  const { items } = await readAll(readPpayCsv(fixtureStream(name)));
  return items.flatMap((i) =>
    i.record ? outcomeLinesOf(i.record, apply(i.record)) : [outcomeLineOfError(i.error)],
  );
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('outcome files', () => {
  describe('outcome lines', () => {
    it('gives every input line of a file exactly one outcome line, in input order', async () => {
      const lines = await outcomeOfFixture('duplicate-position-id.csv', applied);
      expect(lines.map((l) => `${l.rowNo} ${l.outcome} ${l.errorCode ?? ''}`)).to.deep.equal([
        '2 OK ',
        '3 OK ',
        '4 KO E_DUP_IN_FILE',
        '5 OK ',
      ]);
    });

    it('puts each installment of a plan on its own row with its IUV and notice number', async () => {
      const lines = await outcomeOfFixture('valid.csv', applied);
      expect(lines.map((l) => l.rowNo)).to.deep.equal([2, 3, 4, 5, 6, 7, 8, 9]);
      expect(plain(lines.slice(2, 5))).to.deep.equal(
        [1, 2, 3].map((n, k) => ({
          rowNo: 4 + k,
          positionId: 'TARI-2024-0003',
          installmentNo: n,
          action: 'INSERT',
          outcome: 'OK',
          iuv: `010000000000004${String(n).padStart(2, '0')}`,
          noticeNumber: `3010000000000004${String(n).padStart(2, '0')}`,
          amountCents: [7000, 7000, 7100][k],
          dueDate: ['2024-04-30', '2024-07-31', '2024-10-31'][k],
        })),
      );
      expect(plain(lines[7])).to.deep.equal({
        rowNo: 9,
        positionId: 'TARI-2023-0999',
        action: 'CANCEL',
        outcome: 'OK',
      });
    });

    it('marks an applied line with a warning WARN, with the warning code and message', async () => {
      const lines = await outcomeOfFixture('valid.csv', applied);
      expect(lines[1]).to.include({ rowNo: 3, outcome: 'WARN', errorCode: 'W_TRUNCATED' });
      expect(lines[1]?.iuv).to.be.a('string');
    });

    it('answers KO on every line of a refused record, with the field in the message', async () => {
      const refuse = (): RecordResult => ({
        outcome: 'KO',
        code: 'E_ALREADY_EXISTS',
        message: 'position exists with other content',
        field: 'position.positionId',
      });
      const lines = await outcomeOfFixture('valid.csv', refuse);
      const plan = lines.filter((l) => l.positionId === 'TARI-2024-0003');
      expect(plan.map((l) => [l.rowNo, l.outcome, l.errorCode, l.installmentNo, l.iuv])).to.deep.equal([
        [4, 'KO', 'E_ALREADY_EXISTS', 1, undefined],
        [5, 'KO', 'E_ALREADY_EXISTS', 2, undefined],
        [6, 'KO', 'E_ALREADY_EXISTS', 3, undefined],
      ]);
      expect(plan[0]?.errorMessage).to.equal('position.positionId: position exists with other content');
    });

    it('answers a rejected file with one line, row 0, and its F_ code', () => {
      const line = fileRejectionLine(new FileFormatError('F_ENCODING', 'not UTF-8', 57));
      expect(plain(line)).to.deep.equal({
        rowNo: 0,
        outcome: 'KO',
        errorCode: 'F_ENCODING',
        errorMessage: 'not UTF-8 (line 57)',
      });
    });
  });

  describe('CSV', () => {
    it('writes the header then one line per outcome; fields read back with the CSV reader', async () => {
      const { stream, text } = collect();
      const writer = new OutcomeCsvWriter(stream);
      const lines = await outcomeOfFixture('valid.csv', applied);
      const tricky: OutcomeLine = {
        rowNo: 10,
        positionId: 'P;1',
        outcome: 'KO',
        errorCode: 'E_SYNTAX',
        errorMessage: 'say "no";\nthen stop ',
      };
      await writer.writeAll([...lines, tricky]);
      await writer.finish();
      const physical = text().split('\n');
      expect(physical.at(-1)).to.equal('');
      expect(physical[0]).to.equal(OUTCOME_CSV_HEADER);
      expect(OUTCOME_CSV_HEADER).to.equal(
        'row_no;position_id;installment_no;action;outcome;error_code;error_message;iuv;notice_number;amount_cents;due_date',
      );
      expect(physical).to.have.length(1 + lines.length + 1 + 1);
      expect(writer.lineCount).to.equal(lines.length + 1);
      expect(physical[3]).to.equal(
        '4;TARI-2024-0003;1;I;OK;;;01000000000000401;301000000000000401;7000;2024-04-30',
      );
      expect(splitCsvLine(physical[9] as string)).to.deep.equal([
        '10',
        'P;1',
        '',
        '',
        'KO',
        'E_SYNTAX',
        'say "no"; then stop ',
        '',
        '',
        '',
        '',
      ]);
    });

    it('writes only the header when there is nothing else', async () => {
      const { stream, text } = collect();
      await new OutcomeCsvWriter(stream).finish();
      expect(text()).to.equal(`${OUTCOME_CSV_HEADER}\n`);
    });

    it('waits for a slow destination instead of buffering every line', async () => {
      let received = 0;
      let maxBuffered = 0;
      const slow = new Writable({
        highWaterMark: 256,
        write(chunk: Buffer, _encoding, done) {
          received += chunk.toString().split('\n').length - 1;
          setImmediate(done);
        },
      });
      const writer = new OutcomeCsvWriter(slow);
      for (let i = 0; i < 2000; i++) {
        await writer.write({ rowNo: i + 2, positionId: `P-${i}`, action: 'INSERT', outcome: 'OK' });
        maxBuffered = Math.max(maxBuffered, slow.writableLength);
      }
      await writer.finish();
      expect(received).to.equal(2001);
      expect(maxBuffered).to.be.below(1024);
    });

    it('formats a line with the action letter', () => {
      expect(
        outcomeCsvLine({ rowNo: 2, positionId: 'P', action: 'UPDATE', outcome: 'OK', amountCents: 0 }),
      ).to.equal('2;P;;M;OK;;;;;0;');
    });
  });

  describe('XML (debtPositionsOutcome)', () => {
    const header = {
      enteFiscalCode: '01234567897',
      serviceCode: 'TARI',
      flowId: 'TARI-2024-NIGHT-0042',
      uploadId: 'upl-1',
      sourceFileName: '01234567897_TARI-2024-NIGHT-0042_20240201_ppay-1.xml',
      sourceSha256: 'a'.repeat(64),
      processedAt: '2024-02-02T02:00:41+01:00',
    };

    function expectValid(xml: string): void {
      const verdict = schemaFor(FLOWS_SCHEMA).validateXml(xml);
      expect(verdict.ok, messages(verdict)).to.equal(true);
    }

    it('answers an XML input with one valid record per item and the counts in the header', async () => {
      const fs = await import('node:fs');
      const input = fs.readFileSync(
        path.join(PROJECT_ROOT, 'fixtures/flows/debtPositionsFile/valid-file.xml'),
      );
      const { records } = await readAll(await readXmlFile(input));
      const results: RecordResult[] = [
        applied(records[0] as ImportRecord),
        { outcome: 'KO', code: 'E_NOT_FOUND', message: 'no position TARI-2024-000123 in this service' },
        applied(records[2] as ImportRecord),
      ];
      const xml = buildOutcomeXml(
        header,
        records.map((r, i) => outcomeXmlRecordOf(r, results[i] as RecordResult)),
      );
      expectValid(xml);
      expect(xml).to.contain(
        '<recordCount>3</recordCount><okCount>2</okCount><koCount>1</koCount><warnCount>0</warnCount>',
      );
      expect(xml).to.contain(
        '<record><line>2</line><positionId>TARI-2024-000123</positionId><action>UPDATE</action><outcome>KO</outcome><errorCode>E_NOT_FOUND</errorCode>',
      );
      expect(xml.match(/<notice>/g)).to.have.length(1);
    });

    it('can answer a CSV input in XML too, leaving out what the schema would refuse', async () => {
      const lines = await outcomeOfFixture('valid.csv', applied);
      const broken: OutcomeLine = {
        rowNo: 12,
        positionId: 'bad id',
        outcome: 'KO',
        errorCode: 'E_SYNTAX',
        errorMessage: '<&>',
      };
      const xml = buildOutcomeXml(header, [...lines, broken].map(outcomeXmlRecordOfLine));
      expectValid(xml);
      expect(xml).to.contain('<warnCount>1</warnCount>');
      expect(xml).to.contain(
        '<record><line>12</line><outcome>KO</outcome><errorCode>E_SYNTAX</errorCode><message>&lt;&amp;&gt;</message></record>',
      );
    });

    it('turns a row error into a KO record', () => {
      const record = outcomeXmlRecordOfError({
        line: 3,
        positionId: 'P-1',
        code: 'E_AMOUNT',
        field: 'amount_cents',
        message: 'bad',
      });
      expect(plain(record)).to.deep.equal({
        line: 3,
        positionId: 'P-1',
        outcome: 'KO',
        errorCode: 'E_AMOUNT',
        message: 'amount_cents: bad',
        notices: [],
      });
    });

    it('answers a rejected file with KO in the header and no record', () => {
      const xml = buildOutcomeXml(
        {
          ...header,
          rejection: { code: 'F_CHECKSUM', message: 'the .sha256 sidecar does not match the file' },
        },
        [{ line: 1, outcome: 'OK', notices: [] }],
      );
      expectValid(xml);
      expect(xml).to.contain('<outcome>KO</outcome><errorCode>F_CHECKSUM</errorCode>');
      expect(xml).not.to.contain('<record>');
      expect(xml).not.to.contain('<summary>');
    });
  });

  describe('code catalogue', () => {
    it('crosswalks every code to PiemontePay and MyPay', () => {
      for (const code of [...ROW_ERROR_CODES, ...FILE_ERROR_CODES, ...WARNING_CODES, 'OK' as const]) {
        const entry = OUTCOME_CROSSWALK[code];
        expect(entry, code).to.not.equal(undefined);
        expect(
          entry.piemontepay === '' || entry.piemontepayEquivalents.includes(entry.piemontepay),
          code,
        ).to.equal(true);
      }
      expect(OUTCOME_CROSSWALK.E_NOT_FOUND).to.include({
        piemontepay: '176',
        mypay: 'PAA_IMPORT_DOVUTO_NON_PRESENTE',
      });
      expect(OUTCOME_CROSSWALK.F_DUP_FLOW).to.include({
        piemontepay: '150',
        mypay: 'PAA_IMPORT_FLUSSO_DUPLICATO',
      });
      expect(OUTCOME_CROSSWALK.E_TOO_MANY_TRANSFERS).to.include({ piemontepay: '183', mypay: '' });
    });

    it('maps the domain errors of the upload rules to row codes', () => {
      expect(rowCodeOfDomainError('POSITION_DUPLICATE')).to.equal('E_ALREADY_EXISTS');
      expect(rowCodeOfDomainError('POSITION_UNKNOWN')).to.equal('E_NOT_FOUND');
      expect(rowCodeOfDomainError('NOTICE_DUPLICATE')).to.equal('E_IUV_DUPLICATE');
      expect(rowCodeOfDomainError('INVALID_FISCAL_CODE')).to.equal('E_DEBTOR_INVALID');
      expect(rowCodeOfDomainError('INVALID_DATE', { field: 'options[0].dueDate' })).to.equal('E_DUE_DATE');
      expect(rowCodeOfDomainError('INVALID_TRANSFER', { field: 'options[0].transfers' })).to.equal(
        'E_AMOUNT',
      );
      expect(
        rowCodeOfDomainError('INVALID_TRANSFER', { field: 'options[0].transfers[1].category' }),
      ).to.equal('E_TAXONOMY');
      expect(rowCodeOfDomainError('INVALID_STATE_TRANSITION', { from: 'CANCELLED' })).to.equal('E_CANCELLED');
      expect(rowCodeOfDomainError('INVALID_STATE_TRANSITION', { from: 'PAID' })).to.equal('E_PAID');
      expect(rowCodeOfDomainError('CONCURRENT_UPDATE')).to.equal('E_INTERNAL');
    });
  });
});

import { expect } from 'chai';
import {
  baseName,
  formatPpayFileName,
  outcomeFileName,
  outcomeXmlFileName,
  parsePpayFileName,
  requirePpayFileName,
} from '../../../src/batch/fileNames.ts';
import { isFileFormatError } from '../../../src/batch/formats/types.ts';

describe('ppay file names', () => {
  it('reads ente, flow id and date from the full form', () => {
    expect(parsePpayFileName('01234567897_TARI-2024-0042_20240201_ppay-1.csv')).to.deep.equal({
      enteFiscalCode: '01234567897',
      flowId: 'TARI-2024-0042',
      date: '2024-02-01',
      extension: 'csv',
    });
  });

  it('accepts the short form without a date, and xml and zip', () => {
    expect(parsePpayFileName('01234567897_TARI.2024_ppay-1.xml')).to.deep.equal({
      enteFiscalCode: '01234567897',
      flowId: 'TARI.2024',
      date: undefined,
      extension: 'xml',
    });
    expect(parsePpayFileName('01234567897_F1_ppay-1.ZIP')?.extension).to.equal('zip');
  });

  it('keeps underscores in the flow id, reading the date and the tag from the end', () => {
    expect(parsePpayFileName('01234567897_TARI_NIGHT_20240201_ppay-1.csv')).to.include({
      flowId: 'TARI_NIGHT',
      date: '2024-02-01',
    });
    expect(parsePpayFileName('01234567897_TARI_NIGHT_ppay-1.csv')).to.include({ flowId: 'TARI_NIGHT' });
  });

  it('refuses names off the convention', () => {
    for (const name of [
      '01234567898_F1_ppay-1.csv', // check digit
      '1234567897_F1_ppay-1.csv', // 10 digits
      '01234567897_F1_20240230_ppay-1.csv', // no such day
      '01234567897_F1_ppay-2.csv', // another version
      '01234567897_F1_ppay-1.txt',
      '01234567897__ppay-1.csv', // no flow id
      '01234567897_F:1_ppay-1.csv', // ':' in a file name
      'LIDC_01234567897_TARI_20240201-TARI-1-001.csv', // PiemontePay
      '01234567897_F1_ppay-1.csv.part',
    ]) {
      expect(parsePpayFileName(name), name).to.equal(null);
    }
  });

  it('says F_NAME when a name is required', () => {
    try {
      requirePpayFileName('positions.csv');
      expect.fail('accepted');
    } catch (err) {
      expect(isFileFormatError(err, 'F_NAME')).to.equal(true);
    }
    expect(requirePpayFileName('01234567897_F1_ppay-1.csv').flowId).to.equal('F1');
  });

  it('formats names that parse back to the same parts', () => {
    const parts = {
      enteFiscalCode: '01234567897',
      flowId: 'TARI_2024',
      date: '2024-12-31',
      extension: 'csv' as const,
    };
    const name = formatPpayFileName(parts);
    expect(name).to.equal('01234567897_TARI_2024_20241231_ppay-1.csv');
    expect(parsePpayFileName(name)).to.deep.equal(parts);
    expect(formatPpayFileName({ enteFiscalCode: '01234567897', flowId: 'F1', extension: 'xml' })).to.equal(
      '01234567897_F1_ppay-1.xml',
    );
    expect(() => formatPpayFileName({ ...parts, flowId: 'a/b' })).to.throw(RangeError);
    expect(() => formatPpayFileName({ ...parts, enteFiscalCode: '1' })).to.throw(RangeError);
  });

  it('names the outcome after the input base, whatever the input format', () => {
    expect(baseName('01234567897_F1_ppay-1.csv')).to.equal('01234567897_F1_ppay-1');
    expect(outcomeFileName('01234567897_F1_ppay-1.zip')).to.equal('01234567897_F1_ppay-1.esito.csv');
    expect(outcomeFileName('LIDC_01234567897_TARI.csv')).to.equal('LIDC_01234567897_TARI.esito.csv');
    expect(outcomeXmlFileName('01234567897_F1_ppay-1.xml')).to.equal('01234567897_F1_ppay-1.esito.xml');
  });
});

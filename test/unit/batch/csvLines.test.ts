import { expect } from 'chai';
import { CsvLineError, readLines, splitCsvLine, type TextLine } from '../../../src/batch/formats/csvLines.ts';
import { isFileFormatError } from '../../../src/batch/formats/types.ts';
import { chunked } from '../../support/batchFormats.ts';

async function linesOf(bytes: Buffer, chunkSize = bytes.length || 1, encoding?: 'utf-8' | 'latin1') {
  const lines: TextLine[] = [];
  for await (const line of readLines(chunked(bytes, chunkSize), { encoding })) lines.push(line);
  return lines;
}

describe('flat-file lines', () => {
  describe('splitCsvLine', () => {
    it('splits on the delimiter and keeps empty fields', () => {
      expect(splitCsvLine('a;;b;')).to.deep.equal(['a', '', 'b', '']);
      expect(splitCsvLine('')).to.deep.equal(['']);
    });

    it('reads RFC 4180 quotes: delimiters and doubled quotes inside, empty quoted fields', () => {
      expect(splitCsvLine('"a;b";"say ""hi""";""')).to.deep.equal(['a;b', 'say "hi"', '']);
    });

    it('keeps a quote inside an unquoted field as text', () => {
      expect(splitCsvLine('5" disk;x')).to.deep.equal(['5" disk', 'x']);
    });

    it('throws CsvLineError for an unclosed quote or text after a closing quote', () => {
      expect(() => splitCsvLine('a;"open')).to.throw(CsvLineError, /never closed/);
      expect(() => splitCsvLine('"closed"x;b')).to.throw(CsvLineError, /after its closing quote/);
    });

    it('takes another delimiter', () => {
      expect(splitCsvLine('a,"b,c"', ',')).to.deep.equal(['a', 'b,c']);
    });
  });

  describe('readLines', () => {
    it('numbers lines, drops CR before LF and reads a last line without LF', async () => {
      const lines = await linesOf(Buffer.from('a\r\nb\n\nc'));
      expect(lines).to.deep.equal([
        { line: 1, text: 'a' },
        { line: 2, text: 'b' },
        { line: 3, text: '' },
        { line: 4, text: 'c' },
      ]);
    });

    it('gives the same lines whatever the chunking, multi-byte characters cut included', async () => {
      const bytes = Buffer.from('\ufeffcittà;perché\r\nnaïve €\n');
      const whole = await linesOf(bytes);
      expect(whole).to.deep.equal([
        { line: 1, text: 'città;perché' },
        { line: 2, text: 'naïve €' },
      ]);
      for (const size of [1, 2, 3, 5])
        expect(await linesOf(bytes, size), `chunks of ${size}`).to.deep.equal(whole);
    });

    it('reads ISO-8859-1 when asked', async () => {
      const lines = await linesOf(Buffer.from('località\n', 'latin1'), 4, 'latin1');
      expect(lines).to.deep.equal([{ line: 1, text: 'località' }]);
    });

    it('has no lines for an empty input', async () => {
      expect(await linesOf(Buffer.alloc(0))).to.deep.equal([]);
    });

    it('throws F_ENCODING with the line of the first invalid UTF-8 byte', async () => {
      try {
        await linesOf(Buffer.from('ok\nstill ok\ncaf\xe9\n', 'latin1'));
        expect.fail('no error');
      } catch (err) {
        expect(isFileFormatError(err, 'F_ENCODING')).to.equal(true);
        expect((err as { line?: number }).line).to.equal(3);
      }
    });
  });
});

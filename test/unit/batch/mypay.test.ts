// MyPay "flusso dovuti" 1.0–1.4 read onto the ppay import model: the zipped fixture gives the
// records of its ppay CSV v1 equivalent, the .md5 sidecar is checked, the version comes from the
// name or the header, errors carry the crosswalked codes, and _SCARTI / _IUV are written back.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text as streamText } from 'node:stream/consumers';
import { expect } from 'chai';
import yauzl from 'yauzl';
import yazl from 'yazl';
import {
  bilancioTotal,
  myPayColumns,
  myPayRejectCode,
  myPayVersionOfWidth,
  parseMyPayFileName,
  readMyPayFlow,
  splitMyPayLine,
  writeMyPayOutcome,
  type MyPayReadOptions,
  type MyPayVersion,
} from '../../../src/batch/formats/mypay.ts';
import { readPpayCsv } from '../../../src/batch/formats/ppayCsv.ts';
import type { ImportRecord, OutcomeLine, PositionRecord } from '../../../src/batch/formats/types.ts';
import { PROJECT_ROOT } from '../../../src/xml/paths.ts';
import { plain, readAll, summary } from '../../support/batchFormats.ts';

const FIXTURES = path.join(PROJECT_ROOT, 'fixtures/batch/mypay');
const FLOW = path.join(FIXTURES, 'c_l219-TARI2025N1-1_4.zip');

/** Records compared on content: a warning by line and code (its field is the format's own name). */
function comparable(records: readonly ImportRecord[]) {
  return plain(records).map((r) => ({
    ...r,
    warnings: r.warnings.map((w) => ({ line: w.line, code: w.code })),
  }));
}

/** A valid 1.4 row (non multi-beneficiary); `changes` sets fields by name. */
function row(version: MyPayVersion, changes: Record<string, string> = {}): string[] {
  const values: Record<string, string> = {
    IUD: 'IUD-1',
    tipoIdentificativoUnivoco: 'F',
    codiceIdentificativoUnivoco: 'RSSMRA85T10A562S',
    anagraficaPagatore: 'Mario Rossi',
    dataScadenzaPagamento: '2025-03-31',
    importoDovuto: '30.00',
    tipoDovuto: 'TARI',
    causaleVersamento: 'Tassa rifiuti 2025',
    datiSpecificiRiscossione: '9/0101100IM/',
    azione: 'I',
    ...changes,
  };
  return myPayColumns(version).map((name) => values[name] ?? '');
}

const MB_CHANGES = {
  flagMultiBeneficiario: 'true',
  codiceFiscaleEnteSecondario: '00514660018',
  denominazioneEnteSecondario: 'Comune di Secondo',
  ibanAccreditoEnteSecondario: 'IT60X0542811101000000123456',
  datiSpecificiRiscossioneEnteSecondario: '9/0201102IM/',
  importoVersamentoEnteSecondario: '10.00',
};

function csvOf(version: MyPayVersion, rows: readonly string[][]): string {
  const quote = (v: string) => (/[;"]/.test(v) ? `"${v.replaceAll('"', '\\"')}"` : v);
  return [myPayColumns(version), ...rows].map((r) => r.map(quote).join(';')).join('\r\n') + '\r\n';
}

async function zipBytes(entries: Record<string, string | Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(entries)) zip.addBuffer(Buffer.from(content), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function unzipText(zipPath: string): Promise<Record<string, string>> {
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true });
  const files: Record<string, string> = {};
  for await (const entry of zip.eachEntry())
    files[entry.fileName] = await streamText(await zip.openReadStreamPromise(entry));
  zip.close();
  return files;
}

describe('MyPay flows', () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-mypay-'));
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes `<base>.zip` with `<base>.csv` inside and, unless told otherwise, its `.md5`. */
  async function writePackage(base: string, csv: string | Buffer, md5: 'right' | 'wrong' | 'none' = 'right') {
    const bytes = await zipBytes({ [`${base}.csv`]: csv });
    const file = path.join(dir, `${base}.zip`);
    fs.writeFileSync(file, bytes);
    const sidecar = path.join(dir, `${base}.md5`);
    fs.rmSync(sidecar, { force: true });
    const digest = createHash('md5')
      .update(md5 === 'wrong' ? Buffer.from('other') : bytes)
      .digest('hex');
    if (md5 !== 'none') fs.writeFileSync(sidecar, `${digest.toUpperCase()}  ${base}.zip\n`);
    return file;
  }

  async function readRows(version: MyPayVersion, rows: string[][], options: MyPayReadOptions = {}) {
    const base = `c_l219-T${version.replace('.', '')}x${rows.length}-${version.replace('.', '_')}`;
    return readAll(readMyPayFlow(await writePackage(base, csvOf(version, rows)), options));
  }

  async function codeOf(version: MyPayVersion, changes: Record<string, string>): Promise<string | undefined> {
    const [item] = (await readRows(version, [row(version, changes)])).items;
    expect(item?.error, JSON.stringify(item)).to.not.equal(undefined);
    return item?.error?.code;
  }

  describe('the 1.4 package fixture', () => {
    it('gives the records of the equivalent ppay CSV v1 file', async () => {
      const mypay = await readAll(readMyPayFlow(FLOW, { enteIpaCode: 'c_l219' }));
      const expectedFile = path.join(FIXTURES, 'expected/c_l219-TARI2025N1-1_4.ppay.csv');
      const ppay = await readAll(readPpayCsv(fs.createReadStream(expectedFile)));
      expect(ppay.errors).to.deep.equal([]);
      expect(mypay.fileError).to.equal(null);
      expect(mypay.errors).to.deep.equal([]);
      expect(comparable(mypay.records)).to.deep.equal(comparable(ppay.records));
    });

    it('takes the IUF as flow id and the version from the name', () => {
      const file = readMyPayFlow(FLOW);
      expect(file.header).to.include({ format: 'mypay-1.4', flowId: 'TARI2025N1' });
      expect(parseMyPayFileName(FLOW)).to.deep.equal({
        ipaCode: 'c_l219',
        iuf: 'TARI2025N1',
        version: '1.4',
        base: 'c_l219-TARI2025N1-1_4',
        extension: 'zip',
      });
      expect(parseMyPayFileName('c_l219-TARI-2025-1_4.zip')).to.equal(null);
      expect(parseMyPayFileName('c_l219-TARI2025-1_5.zip')).to.equal(null);
    });

    it('unquotes fields MyPay\'s way: "…" around a field, \\" inside it', async () => {
      const [, mb] = (await readAll(readMyPayFlow(FLOW))).records as PositionRecord[];
      expect(mb?.position.description).to.equal('Servizio "associato"; quota 2025');
      expect(splitMyPayLine('a;"b;\\"c\\"";')).to.deep.equal(['a', 'b;"c"', '']);
    });

    it('adds the secondary amount to the total and makes it transfer 2', async () => {
      const [, mb] = (await readAll(readMyPayFlow(FLOW))).records as PositionRecord[];
      const option = mb?.position.options[0];
      expect(option?.amountCents).to.equal(10000);
      expect(option?.transfers.map((t) => [t.amountCents, t.enteFiscalCode ?? 'creditor'])).to.deep.equal([
        [7000, 'creditor'],
        [3000, '00514660018'],
      ]);
    });

    it('refuses a package of another ente as F_ENTE, comparing IPA codes without case', () => {
      expect(() => readMyPayFlow(FLOW, { enteIpaCode: 'c_a001' }))
        .to.throw()
        .with.property('code', 'F_ENTE');
      expect(readMyPayFlow(FLOW, { enteIpaCode: 'C_L219' }).header.flowId).to.equal('TARI2025N1');
    });
  });

  describe('the .md5 sidecar', () => {
    it('accepts a matching MD5 in any case, and a package without sidecar', async () => {
      for (const md5 of ['right', 'none'] as const) {
        const file = await writePackage('c_l219-MD5OK-1_4', csvOf('1.4', [row('1.4')]), md5);
        const result = await readAll(readMyPayFlow(file));
        expect(result.fileError).to.equal(null);
        expect(result.records).to.have.length(1);
      }
    });

    it('rejects a package whose MD5 does not match as F_CHECKSUM, before any row', async () => {
      const file = await writePackage('c_l219-MD5KO-1_4', csvOf('1.4', [row('1.4')]), 'wrong');
      const result = await readAll(readMyPayFlow(file));
      expect(result.fileError?.code).to.equal('F_CHECKSUM');
      expect(result.items).to.deep.equal([]);
      expect(myPayRejectCode({ rowNo: 0, outcome: 'KO', errorCode: 'F_CHECKSUM' })).to.equal(
        'PAA_IMPORT_NO_MATCH_MD5',
      );
    });
  });

  describe('versions', () => {
    it('knows the field count of each version', () => {
      expect((['1.0', '1.1', '1.2', '1.3', '1.4'] as const).map((v) => myPayColumns(v).length)).to.deep.equal(
        [20, 20, 21, 22, 35],
      );
      expect(myPayColumns('1.2').at(-1)).to.equal('azione');
      expect([20, 21, 22, 35, 23].map(myPayVersionOfWidth)).to.deep.equal(['1.1', '1.2', '1.3', '1.4', null]);
    });

    for (const version of ['1.0', '1.1', '1.2', '1.3', '1.4'] as const) {
      it(`reads a ${version} row into one INSERT with one transfer`, async () => {
        const result = await readRows(version, [row(version)]);
        expect(result.fileError).to.equal(null);
        expect(summary(result.items)).to.deep.equal(['R INSERT IUD-1 2']);
        const option = (result.records[0] as PositionRecord).position.options[0];
        expect(option).to.deep.include({ amountCents: 3000, dueDate: '2025-03-31' });
        expect(option?.transfers).to.have.length(1);
      });
    }

    it('takes the version from the header of a bare CSV whose name has none', async () => {
      const file = path.join(dir, 'dovuti.csv');
      fs.writeFileSync(file, csvOf('1.3', [row('1.3')]));
      const read = readMyPayFlow(file);
      const result = await readAll(read);
      expect(read.header.format).to.equal('mypay-1.3');
      expect(result.records).to.have.length(1);
    });

    it("rejects a header whose width is not the named version's as F_HEADER", async () => {
      const file = await writePackage('c_l219-WIDTH-1_2', csvOf('1.3', [row('1.3')]));
      expect((await readAll(readMyPayFlow(file))).fileError?.code).to.equal('F_HEADER');
    });

    it('lets --format override the name', async () => {
      const file = await writePackage('c_l219-OVERRIDE-1_2', csvOf('1.3', [row('1.3')]));
      const result = await readAll(readMyPayFlow(file, { version: '1.3' }));
      expect(result.fileError).to.equal(null);
      expect(result.records).to.have.length(1);
    });

    it('requires the due date in 1.0 and 1.1 only', async () => {
      expect(await codeOf('1.1', { dataScadenzaPagamento: '' })).to.equal('E_DUE_DATE');
      const result = await readRows('1.2', [row('1.2', { dataScadenzaPagamento: '' })]);
      expect((result.records[0] as PositionRecord).position.options[0]?.dueDate).to.equal(undefined);
    });

    it('allows 140 characters of causale in 1.0 and 1024 from 1.1, with W_TRUNCATED over 140', async () => {
      expect(await codeOf('1.0', { causaleVersamento: 'c'.repeat(141) })).to.equal('E_SYNTAX');
      const [record] = (await readRows('1.1', [row('1.1', { causaleVersamento: 'c'.repeat(300) })])).records;
      expect(record?.warnings.map((w) => w.code)).to.deep.equal(['W_TRUNCATED']);
      expect((record as PositionRecord).position.description).to.have.length(300);
      expect(
        (record as PositionRecord).position.options[0]?.transfers[0]?.remittanceInformation,
      ).to.have.length(140);
    });

    it('keeps a 1.2 bilancio whose amounts add up to importoDovuto as metadata', async () => {
      const bilancio =
        '<bilancio><capitolo><codCapitolo>C1</codCapitolo><accertamento><importo>20.00</importo></accertamento>' +
        '<accertamento><importo>10.00</importo></accertamento></capitolo></bilancio>';
      expect(bilancioTotal(bilancio)).to.equal(3000n);
      const [record] = (await readRows('1.2', [row('1.2', { bilancio })])).records as PositionRecord[];
      expect(record?.position.metadata).to.deep.equal([{ key: 'mypay.bilancio', value: bilancio }]);
      const wrong = bilancio.replace('20.00', '25.00');
      expect(await codeOf('1.2', { bilancio: wrong })).to.equal('E_AMOUNT');
      expect(await codeOf('1.2', { bilancio: '<!DOCTYPE x><bilancio/>' })).to.equal('E_SYNTAX');
    });

    it('reads 1.4 multi-beneficiary details into transfer 2 and sec.* metadata', async () => {
      const [record] = (
        await readRows('1.4', [row('1.4', { ...MB_CHANGES, localitaEnteSecondario: 'Asti' })])
      ).records as PositionRecord[];
      expect(record?.position.options[0]?.amountCents).to.equal(4000);
      expect(record?.position.options[0]?.transfers[1]).to.deep.include({
        amountCents: 1000,
        enteFiscalCode: '00514660018',
        iban: 'IT60X0542811101000000123456',
        category: '9/0201102IM/',
        remittanceInformation: 'Tassa rifiuti 2025',
      });
      expect(record?.position.metadata).to.deep.equal([
        { key: 'sec.name', value: 'Comune di Secondo' },
        { key: 'sec.city', value: 'Asti' },
      ]);
    });
  });

  describe('row errors, with the crosswalked code', () => {
    const cases: Array<[string, MyPayVersion, Record<string, string>, string]> = [
      ['a missing IUD', '1.4', { IUD: '' }, 'E_SYNTAX'],
      ['an IUD starting with 000', '1.4', { IUD: '000123' }, 'E_SYNTAX'],
      ['a malformed codIuv', '1.4', { codIuv: '123' }, 'E_IUV_INVALID'],
      ['an unknown tipoIdentificativoUnivoco', '1.4', { tipoIdentificativoUnivoco: 'X' }, 'E_DEBTOR_INVALID'],
      [
        'a G debtor with a personal fiscal code',
        '1.4',
        { tipoIdentificativoUnivoco: 'G' },
        'E_DEBTOR_INVALID',
      ],
      [
        'a fiscal code with a wrong check letter',
        '1.4',
        { codiceIdentificativoUnivoco: 'RSSMRA85T10A562X' },
        'E_DEBTOR_INVALID',
      ],
      ['an amount with a comma', '1.4', { importoDovuto: '30,00' }, 'E_AMOUNT'],
      ['a zero amount', '1.4', { importoDovuto: '0.00' }, 'E_AMOUNT'],
      ['an amount with three decimals', '1.4', { importoDovuto: '30.001' }, 'E_AMOUNT'],
      ['a due date that is no calendar day', '1.4', { dataScadenzaPagamento: '2025-02-30' }, 'E_DUE_DATE'],
      [
        'a malformed datiSpecificiRiscossione',
        '1.4',
        { datiSpecificiRiscossione: '0101100IM' },
        'E_TAXONOMY',
      ],
      ['a marca da bollo', '1.4', { tipoDovuto: 'MARCA_BOLLO_DIGITALE' }, 'E_SERVICE_DISABLED'],
      ['an unknown tipoVersamento', '1.4', { tipoVersamento: 'BBT|XYZ' }, 'E_SYNTAX'],
      ['an unknown azione', '1.4', { azione: 'X' }, 'E_SYNTAX'],
      ['a bad flagGeneraIuv', '1.3', { flagGeneraIuv: 'yes' }, 'E_SYNTAX'],
      ['a bad e-mail', '1.4', { emailPagatore: 'nobody' }, 'E_SYNTAX'],
      [
        'a multi-beneficiary row with a bad IBAN',
        '1.4',
        { ...MB_CHANGES, ibanAccreditoEnteSecondario: 'IT00X0542811101000000123456' },
        'E_SYNTAX',
      ],
      [
        'a multi-beneficiary row without secondary amount',
        '1.4',
        { ...MB_CHANGES, importoVersamentoEnteSecondario: '' },
        'E_SYNTAX',
      ],
      [
        'a multi-beneficiary row with a bad secondary taxonomy',
        '1.4',
        { ...MB_CHANGES, datiSpecificiRiscossioneEnteSecondario: 'x' },
        'E_TAXONOMY',
      ],
    ];
    for (const [what, version, changes, code] of cases) {
      it(`answers ${what} with ${code}`, async () => {
        expect(await codeOf(version, changes)).to.equal(code);
      });
    }

    it('checks every mandatory field of an A row too, as MyPay does', async () => {
      expect(await codeOf('1.4', { azione: 'A', causaleVersamento: '' })).to.equal('E_SYNTAX');
      const result = await readRows('1.4', [row('1.4', { azione: 'A' })]);
      expect(plain(result.records)).to.deep.equal([
        { action: 'CANCEL', positionId: 'IUD-1', lines: [2], warnings: [] },
      ]);
    });

    it('answers a repeated IUD with E_DUP_IN_FILE and a row of the wrong width with E_SYNTAX', async () => {
      const good = row('1.4');
      const result = await readRows('1.4', [good, good, [...good, 'extra'], row('1.4', { IUD: 'IUD-2' })]);
      expect(summary(result.items)).to.deep.equal([
        'R INSERT IUD-1 2',
        'E 3 E_DUP_IN_FILE IUD',
        'E 4 E_SYNTAX -',
        'R INSERT IUD-2 5',
      ]);
    });
  });

  describe('file errors', () => {
    it('rejects a flow that is not UTF-8 as F_ENCODING', async () => {
      const latin1 = Buffer.from(
        csvOf('1.4', [row('1.4', { anagraficaPagatore: 'Niccolò Rossi' })]),
        'latin1',
      );
      const result = await readAll(readMyPayFlow(await writePackage('c_l219-LATIN-1_4', latin1)));
      expect(result.fileError?.code).to.equal('F_ENCODING');
    });

    it('reads UTF-8 accented text and tolerates a BOM', async () => {
      const bom = Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(csvOf('1.4', [row('1.4', { anagraficaPagatore: 'Niccolò Rossi' })])),
      ]);
      const [record] = (await readAll(readMyPayFlow(await writePackage('c_l219-BOM-1_4', bom))))
        .records as PositionRecord[];
      expect(record?.position.debtor?.fullName).to.equal('Niccolò Rossi');
    });

    it('rejects a zip without <base>.csv and a file that is no zip as F_FORMAT', async () => {
      const wrongEntry = path.join(dir, 'c_l219-NOCSV-1_4.zip');
      fs.writeFileSync(wrongEntry, await zipBytes({ 'other.csv': csvOf('1.4', [row('1.4')]) }));
      expect((await readAll(readMyPayFlow(wrongEntry))).fileError?.code).to.equal('F_FORMAT');
      const notZip = path.join(dir, 'c_l219-NOTZIP-1_4.zip');
      fs.writeFileSync(notZip, 'not a zip');
      expect((await readAll(readMyPayFlow(notZip))).fileError?.code).to.equal('F_FORMAT');
    });

    it('rejects an empty flow and a header-only flow as F_EMPTY', async () => {
      for (const [base, csv] of [
        ['c_l219-EMPTY-1_4', ''],
        ['c_l219-HEADONLY-1_4', csvOf('1.4', [])],
      ]) {
        const result = await readAll(readMyPayFlow(await writePackage(base as string, csv as string)));
        expect(result.fileError?.code).to.equal('F_EMPTY');
      }
    });

    it('checks control totals at the end', async () => {
      const rows = [row('1.4'), row('1.4', { IUD: 'IUD-2', importoDovuto: '12.5' })];
      expect((await readRows('1.4', rows, { expectCount: 2, expectTotalCents: 4250 })).fileError).to.equal(
        null,
      );
      expect((await readRows('1.4', rows, { expectCount: 3 })).fileError?.code).to.equal('F_COUNT');
      expect((await readRows('1.4', rows, { expectTotalCents: 4251 })).fileError?.code).to.equal('F_TOTAL');
    });
  });

  describe('MyPay-style outcome (--esito mypay)', () => {
    const lines: OutcomeLine[] = [
      { rowNo: 2, positionId: 'TARI-2025-0001', outcome: 'OK', iuv: '01000000000000012' },
      {
        rowNo: 3,
        positionId: 'ASSOC-9',
        outcome: 'KO',
        errorCode: 'E_ALREADY_EXISTS',
        errorMessage: 'già presente; altro',
      },
      { rowNo: 4, positionId: 'TARI-2024-0099', outcome: 'OK' },
      {
        rowNo: 5,
        positionId: 'COSAP-2025-77',
        outcome: 'WARN',
        errorCode: 'W_TRUNCATED',
        iuv: '01000000000000013',
      },
    ];

    it('writes <base>_SCARTI.zip with the raw rejected rows and <base>_IUV.zip with the accepted ones', async () => {
      const out = fs.mkdtempSync(path.join(dir, 'out-'));
      const written = await writeMyPayOutcome(FLOW, lines, out);
      expect(written).to.deep.include({ accepted: 3, rejected: 1 });
      expect(fs.readdirSync(out).sort()).to.deep.equal([
        'c_l219-TARI2025N1-1_4_IUV.zip',
        'c_l219-TARI2025N1-1_4_SCARTI.zip',
      ]);

      const inputCsv = (await unzipText(FLOW))['c_l219-TARI2025N1-1_4.csv'] as string;
      const [header, , mbRow] = inputCsv.split('\r\n');
      const scarti = (await unzipText(written.scarti))['c_l219-TARI2025N1-1_4_SCARTI.csv']?.split('\r\n');
      expect(scarti).to.deep.equal([
        `${header};cod_rifiuto;de_rifiuto`,
        `${mbRow};PAA_IMPORT_IUD_DUPLICATO;"già presente; altro"`,
        '',
      ]);

      const iuv = (await unzipText(written.iuv))['c_l219-TARI2025N1-1_4_IUV.csv']?.split('\r\n') ?? [];
      expect(iuv[0]).to.equal(header);
      const first = splitMyPayLine(iuv[1] as string);
      expect(first).to.have.length(22);
      expect(first.slice(0, 2)).to.deep.equal(['TARI-2025-0001', '01000000000000012']);
      expect(first[13]).to.equal('30.00');
      expect(splitMyPayLine(iuv[2] as string)[13]).to.equal('12.50');
      expect(splitMyPayLine(iuv[3] as string)[1]).to.equal('01000000000000013');
      expect(iuv).to.have.length(5);
    });

    it('puts a row without outcome and a file-level line in _SCARTI, never in _IUV', async () => {
      const out = fs.mkdtempSync(path.join(dir, 'out-'));
      const fileLevel: OutcomeLine = {
        rowNo: 0,
        outcome: 'KO',
        errorCode: 'F_DUP_FLOW',
        errorMessage: 'già caricato',
      };
      const written = await writeMyPayOutcome(FLOW, [fileLevel], out);
      expect(written).to.deep.include({ accepted: 0, rejected: 5 });
      const scarti = (await unzipText(written.scarti))['c_l219-TARI2025N1-1_4_SCARTI.csv'] as string;
      expect(scarti).to.contain(';PAA_IMPORT_FLUSSO_DUPLICATO;già caricato');
      expect(scarti.match(/PAA_IMPORT_ERROR;no outcome/g)).to.have.length(4);
    });
  });
});

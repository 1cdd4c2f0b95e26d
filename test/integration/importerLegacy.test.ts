// The importer on the files legacy gestionali already exchange (issue 7, flat-file-formats.md §1–4,
// §7–8): a PiemontePay Lista di carico v2.9, then AGPD lists updating (partial `M`) and cancelling
// (`A`) its positions, and a MyPay 1.4 package with its `.md5`, dropped in a local drop folder and
// imported by Importer.runPass. Checks the positions, ppay's outcome and the gestionale's own
// outcome files (PiemontePay `_ESITO.csv`, MyPay `_SCARTI.zip` / `_IUV.zip`) with the codes
// crosswalked, the answer to a file dropped twice, and the legacy files rewritten after a crash.

import { expect } from 'chai';
import { copyFile, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { forEachDatabase, randomEnteFiscalCode, seedEnte, TEST_IBAN, type DbContext } from '../support/db.ts';
import { insertRow, ppayCsv } from '../support/batchFormats.ts';
import { PROJECT_ROOT } from '../../src/xml/paths.ts';
import type { Ente } from '../../src/db/repositories/enti.ts';
import { enteFolder } from '../../src/batch/dropFolder/forEnte.ts';
import { LocalDropFolder } from '../../src/batch/dropFolder/local.ts';
import type { DropFolderDir } from '../../src/batch/dropFolder/port.ts';
import { formatPpayFileName, outcomeFileName } from '../../src/batch/fileNames.ts';
import { splitCsvLine } from '../../src/batch/formats/csvLines.ts';
import { AGPD_V28_COLUMNS, PIEMONTEPAY_ESITO_COLUMNS } from '../../src/batch/formats/piemontepay.ts';
import { myPayColumns } from '../../src/batch/formats/mypay.ts';
import { OUTCOME_CROSSWALK } from '../../src/batch/formats/types.ts';
import { Importer, type ImporterOptions } from '../../src/batch/importer/importer.ts';

const PIEMONTEPAY = path.join(PROJECT_ROOT, 'fixtures/batch/piemontepay');
const MYPAY = path.join(PROJECT_ROOT, 'fixtures/batch/mypay');
/** The ente and flow of the fixture's LIDC_ name; its v2.9 rows get the ids `<flow>-<line>`. */
const LIDC_ENTE = '80000010001';
const LIDC_V29 = 'LIDC_80000010001_TARI_20250301-TARI-42-001.csv';
const V29_FLOW = '20250301-TARI-42-001';
const AGPD_FIXTURE = 'agpd-v2.8-tari-marzo.csv';
const MYPAY_BASE = 'c_l219-TARI2025N1-1_4';

class SimulatedCrash extends Error {}

interface Site {
  root: string;
  dataDir: string;
  ente: Ente;
}

interface EsitoLine {
  positionId: string;
  iuv: string;
  noticeNumber: string;
  code: string;
  description: string;
}

const roots: string[] = [];

async function newSite(ctx: DbContext, fiscalCode = randomEnteFiscalCode()): Promise<Site> {
  const { station } = await seedEnte(ctx.store);
  const ente = await ctx.store.enti.create({
    fiscalCode,
    name: 'Comune legacy',
    stationId: station.id,
    segregationCode: '02',
    iban: TEST_IBAN,
  });
  for (const code of ['TARI', 'COSAP']) {
    await ctx.store.services.create({
      enteId: ente.id,
      code,
      description: code,
      category: '9/0101108TS/',
      iban: TEST_IBAN,
    });
  }
  const root = await mkdtemp(path.join(os.tmpdir(), 'ppay-legacy-'));
  roots.push(root);
  const site = { root, dataDir: path.join(root, 'data'), ente };
  await new LocalDropFolder({ root: enteFolder(site.dataDir, fiscalCode) }).ensureLayout();
  return site;
}

function folder(site: Site, dir: DropFolderDir, name?: string): string {
  const base = path.join(enteFolder(site.dataDir, site.ente.fiscalCode), dir);
  return name === undefined ? base : path.join(base, name);
}

async function runOnce(ctx: DbContext, site: Site, options: Partial<ImporterOptions> = {}) {
  const importer = new Importer({
    store: ctx.store,
    dataDir: site.dataDir,
    completion: { settleMs: 0 },
    ...options,
  });
  try {
    return await importer.runPass({ enteFiscalCode: site.ente.fiscalCode });
  } finally {
    await importer.close();
  }
}

/** Puts a complete file in in/ (written aside, then renamed in). */
async function drop(site: Site, name: string, content: string | Buffer): Promise<void> {
  const aside = path.join(site.root, `${name}.aside`);
  await writeFile(aside, content);
  await rename(aside, folder(site, 'in', name));
}

async function dropFixture(site: Site, fixture: string): Promise<void> {
  await copyFile(fixture, path.join(site.root, 'copy'));
  await rename(path.join(site.root, 'copy'), folder(site, 'in', path.basename(fixture)));
}

/** `<row>:<outcome>[:<code>]` per line of ppay's outcome. */
async function ppayOutcome(site: Site, inputName: string): Promise<string[]> {
  const text = await readFile(folder(site, 'out', outcomeFileName(inputName)), 'utf8');
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((line) => {
      const f = splitCsvLine(line, ';');
      return `${f[0]}:${f[4]}${f[5] ? `:${f[5]}` : ''}`;
    });
}

/** PiemontePay's outcome: ISO-8859-1, `;`, CRLF, a header then one line per input row. */
async function esito(site: Site, name: string): Promise<{ header: string; lines: EsitoLine[] }> {
  const text = (await readFile(folder(site, 'out', name))).toString('latin1');
  expect(text.endsWith('\r\n'), 'CRLF line ends').to.equal(true);
  const [header = '', ...rows] = text.split('\r\n').filter((l) => l !== '');
  const lines = rows.map((row) => {
    const [positionId = '', iuv = '', noticeNumber = '', code = '', description = ''] = splitCsvLine(
      row,
      ';',
    );
    return { positionId, iuv, noticeNumber, code, description };
  });
  return { header, lines };
}

async function streamText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The lines of the only entry of a zip in out/, with its entry name. */
async function zippedLines(site: Site, zipName: string): Promise<{ entry: string; lines: string[] }> {
  const zip = await yauzl.openPromise(folder(site, 'out', zipName), { lazyEntries: true });
  try {
    const entries: Array<{ entry: string; text: string }> = [];
    for await (const entry of zip.eachEntry())
      entries.push({ entry: entry.fileName, text: await streamText(await zip.openReadStreamPromise(entry)) });
    expect(entries, zipName).to.have.length(1);
    const [only] = entries as [{ entry: string; text: string }];
    return { entry: only.entry, lines: only.text.split('\r\n').filter((l) => l !== '') };
  } finally {
    zip.close();
  }
}

/** A line as MyPay writes it (`\\"` inside quoted fields), split into its fields. */
function myPayFields(line: string): string[] {
  return splitCsvLine(line.replaceAll('\\"', '""'), ';');
}

/** An AGPD v2.8 list (54 cells) in ISO-8859-1 with CRLF, each row given by header name. */
function agpdList(rows: ReadonlyArray<Record<string, string>>): Buffer {
  const lines = [AGPD_V28_COLUMNS.join(';')];
  for (const row of rows) {
    for (const name of Object.keys(row)) expect(AGPD_V28_COLUMNS, 'AGPD column').to.include(name);
    lines.push(AGPD_V28_COLUMNS.map((name) => row[name] ?? '').join(';'));
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1');
}

/** The report of one file of a pass (failing with the whole report when it is not there). */
function findByReport(report: Awaited<ReturnType<typeof runOnce>>, fileName: string) {
  const file = report.files.find((f) => f.fileName === fileName);
  expect(file, `${fileName} in ${JSON.stringify(report)}`).to.not.equal(undefined);
  return file as NonNullable<typeof file>;
}

async function position(ctx: DbContext, site: Site, positionId: string) {
  return ctx.store.positions.findByPositionId(site.ente.id, positionId);
}

forEachDatabase('importer: PiemontePay and MyPay files answered in their own outcome formats', (ctx) => {
  after(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  it('imports a PiemontePay lista, applies AGPD updates and cancellations, and answers each in _ESITO.csv', async () => {
    const site = await newSite(ctx, LIDC_ENTE);
    const id = (line: number) => `${V29_FLOW}-${line}`;

    // 1. The Lista di carico v2.9, as PiemontePay exports it.
    await dropFixture(site, path.join(PIEMONTEPAY, LIDC_V29));
    const lista = findByReport(await runOnce(ctx, site), LIDC_V29);
    expect([lista.outcome, lista.format, lista.ok, lista.ko]).to.deep.equal([
      'DONE',
      'piemontepay-v2.9',
      3,
      1,
    ]);
    // Line 2 splits its amount into two components without IBAN: both credit the service's account,
    // so they become one transfer of their sum; line 5 has a secondary component and the service
    // no secondary ente (189).
    expect(await ppayOutcome(site, LIDC_V29)).to.deep.equal(['2:OK', '3:OK', '4:OK', '5:KO:E_AMOUNT']);
    const company = await position(ctx, site, id(3));
    const fine = await position(ctx, site, id(4));
    expect([company?.debtor?.fiscalCode, fine?.debtor?.fiscalCode]).to.deep.equal(['01234567897', 'ANONIMO']);
    const split = await position(ctx, site, id(2));
    expect(split?.options[0]?.transfers.map((t) => t.amountCents)).to.deep.equal([
      split?.options[0]?.amountCents,
    ]);

    const listaEsito = await esito(site, 'LIDC_80000010001_TARI_20250301-TARI-42-001_ESITO.csv');
    expect(listaEsito.header).to.equal(PIEMONTEPAY_ESITO_COLUMNS.join(';'));
    expect(listaEsito.lines.map((l) => l.positionId)).to.deep.equal([id(2), id(3), id(4), id(5)]);
    expect(listaEsito.lines[1]).to.deep.equal({
      positionId: id(3),
      iuv: company?.options[0]?.iuv,
      noticeNumber: company?.options[0]?.noticeNumber,
      code: '000',
      description: 'OK',
    });
    expect([listaEsito.lines[0]?.code, listaEsito.lines[0]?.iuv]).to.deep.equal([
      '000',
      split?.options[0]?.iuv,
    ]);
    expect([listaEsito.lines[2]?.code, listaEsito.lines[2]?.iuv]).to.deep.equal([
      '000',
      fine?.options[0]?.iuv,
    ]);
    for (const rejected of [listaEsito.lines[3]]) {
      expect(OUTCOME_CROSSWALK.E_AMOUNT.piemontepayEquivalents).to.include(rejected?.code);
      expect([rejected?.iuv, rejected?.noticeNumber]).to.deep.equal(['', '']);
    }
    expect(listaEsito.lines[3]?.description).to.contain('(189)');

    // 2. The AGPD fixture addressed to these positions: A of a position that was never inserted,
    // M of the company's amount, due date and causale, M giving the anonymous fine its debtor.
    const agpd = (await readFile(path.join(PIEMONTEPAY, AGPD_FIXTURE)))
      .toString('latin1')
      .replace('TARI-2025-0001', id(99))
      .replace('COSAP-2025-77', id(3))
      .replace('CDS-234', id(4));
    await drop(site, AGPD_FIXTURE, Buffer.from(agpd, 'latin1'));
    const updates = findByReport(await runOnce(ctx, site), AGPD_FIXTURE);
    expect([updates.outcome, updates.format]).to.deep.equal(['DONE', 'piemontepay-agpd-v2.8']);
    expect(await ppayOutcome(site, AGPD_FIXTURE)).to.deep.equal(['2:KO:E_NOT_FOUND', '3:OK', '4:OK']);

    const updated = await position(ctx, site, id(3));
    expect(updated?.description).to.equal('Canone occupazione suolo pubblico - proroga');
    expect(
      updated?.options.map((o) => [o.iuv, o.amountCents, o.dueDate, o.transfers.map((t) => t.amountCents)]),
    ).to.deep.equal([[company?.options[0]?.iuv, 16000, '2025-06-30', [16000]]]);
    // Only the given fields change: the debtor stays.
    expect(updated?.debtor).to.deep.equal(company?.debtor);
    const identified = await position(ctx, site, id(4));
    expect([
      identified?.debtor?.type,
      identified?.debtor?.fiscalCode,
      identified?.debtor?.fullName,
    ]).to.deep.equal(['F', 'BNCLCU90M41F205Q', 'Lucia Bianchi']);
    expect([
      identified?.debtor?.city,
      identified?.options[0]?.amountCents,
      identified?.description,
    ]).to.deep.equal(['Torino', 4200, fine?.description]);
    const extras = await ctx.store.positionExtras.get(identified?.id as number);
    expect(extras.metadata).to.deep.equal([
      { key: 'rif.Targa', value: 'BB111BB' },
      { key: 'rif.Verbale', value: '234' },
    ]);
    const updatesEsito = await esito(site, 'agpd-v2.8-tari-marzo_ESITO.csv');
    expect(updatesEsito.lines.map((l) => [l.positionId, l.code])).to.deep.equal([
      [id(99), '176'],
      [id(3), '000'],
      [id(4), '000'],
    ]);

    // 3. A second list: a cancellation, a debtor for a position that already has one (218), an
    // M row without Motivazione (172, found by the reader's field).
    const second = 'agpd-v2.8-tari-aprile.csv';
    await drop(
      site,
      second,
      agpdList([
        { 'Tipo aggiornamento': 'A', 'Posizione debitoria esterna': id(3), Motivazione: 'Rinuncia' },
        {
          'Tipo aggiornamento': 'M',
          'Posizione debitoria esterna': id(4),
          Motivazione: 'Cambio intestatario',
          'Tipo soggetto debitore': 'F',
          'Codice fiscale o Partita Iva del soggetto debitore': 'RSSMRA85T10A562S',
          'Cognome soggetto debitore': 'Rossi',
          'Nome soggetto debitore': 'Mario',
          'Indirizzo debitore': 'Via Po',
        },
        {
          'Tipo aggiornamento': 'M',
          'Posizione debitoria esterna': id(5),
          'Importo totale da pagare': '5000',
        },
      ]),
    );
    await runOnce(ctx, site);
    expect(await ppayOutcome(site, second)).to.deep.equal(['2:OK', '3:KO:E_DEBTOR_INVALID', '4:KO:E_SYNTAX']);
    expect((await position(ctx, site, id(3)))?.status).to.equal('CANCELLED');
    expect((await position(ctx, site, id(4)))?.debtor?.fiscalCode).to.equal('BNCLCU90M41F205Q');
    const secondEsito = await esito(site, 'agpd-v2.8-tari-aprile_ESITO.csv');
    expect(secondEsito.lines.map((l) => [l.positionId, l.code])).to.deep.equal([
      [id(3), '000'],
      [id(4), '218'],
      [id(5), '172'],
    ]);
    expect(secondEsito.lines[2]?.description).to.match(/^Motivazione: /);

    // 4. An update of the cancelled position: 179, as PiemontePay answers "already cancelled".
    const third = 'agpd-v2.8-tari-maggio.csv';
    await drop(
      site,
      third,
      agpdList([
        {
          'Tipo aggiornamento': 'M',
          'Posizione debitoria esterna': id(3),
          'Descrizione causale versamento': 'Canone 2025',
          Motivazione: 'Rettifica',
        },
      ]),
    );
    await runOnce(ctx, site);
    expect(await ppayOutcome(site, third)).to.deep.equal(['2:KO:E_CANCELLED']);
    expect((await esito(site, 'agpd-v2.8-tari-maggio_ESITO.csv')).lines.map((l) => l.code)).to.deep.equal([
      '179',
    ]);

    // 5. The lista dropped again: nothing changes, and the ESITO says 150 (IdMessaggio already processed).
    await dropFixture(site, path.join(PIEMONTEPAY, LIDC_V29));
    const again = findByReport(await runOnce(ctx, site), LIDC_V29);
    expect([again.outcome, again.errorCode]).to.deep.equal(['REJECTED', 'F_DUP_FLOW']);
    const duplicate = await esito(site, 'LIDC_80000010001_TARI_20250301-TARI-42-001_ESITO.csv');
    expect(duplicate.lines.map((l) => [l.positionId, l.code])).to.deep.equal([['', '150']]);
    expect((await position(ctx, site, id(3)))?.status).to.equal('CANCELLED');
  });

  it('imports a MyPay package with its .md5 and answers it in _IUV.zip and _SCARTI.zip', async () => {
    const site = await newSite(ctx);
    // The dovuto the flow's M row replaces.
    const seedName = formatPpayFileName({
      enteFiscalCode: site.ente.fiscalCode,
      flowId: 'SEED',
      date: '2025-01-01',
      extension: 'csv',
    });
    await drop(
      site,
      seedName,
      ppayCsv([
        insertRow('COSAP-2025-77', {
          service_code: 'COSAP',
          debtor_fiscal_code: 'BNCLCU90M41F205Q',
          debtor_name: 'Bianchi',
          debtor_first_name: 'Lucia',
          due_date: '2025-06-30',
          amount_cents: '16000',
        }),
      ]),
    );
    await runOnce(ctx, site);
    const seeded = await position(ctx, site, 'COSAP-2025-77');
    expect(seeded?.status).to.equal('VALID');

    await dropFixture(site, path.join(MYPAY, `${MYPAY_BASE}.md5`));
    await dropFixture(site, path.join(MYPAY, `${MYPAY_BASE}.zip`));
    const pass = await runOnce(ctx, site);
    // The .md5 is the zip's sidecar, never an import of its own, and it goes to done/ with the zip.
    expect(pass.files.map((f) => f.fileName)).to.deep.equal([`${MYPAY_BASE}.zip`]);
    expect(pass.waiting).to.deep.equal([]);
    expect(
      (await readdir(folder(site, 'done'))).filter((n) => n.endsWith(`${MYPAY_BASE}.md5`)),
    ).to.have.length(1);
    const flow = findByReport(pass, `${MYPAY_BASE}.zip`);
    expect([flow.outcome, flow.format, flow.ok, flow.warn, flow.ko]).to.deep.equal([
      'DONE',
      'mypay-1.4',
      1,
      1,
      2,
    ]);
    expect(await ppayOutcome(site, `${MYPAY_BASE}.zip`)).to.deep.equal([
      '2:OK',
      '3:KO:E_IUV_INVALID',
      '4:KO:E_NOT_FOUND',
      '5:WARN:W_TRUNCATED',
    ]);
    const inserted = await position(ctx, site, 'TARI-2025-0001');
    const replaced = await position(ctx, site, 'COSAP-2025-77');
    expect([inserted?.debtor?.fiscalCode, inserted?.options[0]?.amountCents]).to.deep.equal([
      'RSSMRA85T10A562S',
      3000,
    ]);
    expect([replaced?.options[0]?.iuv, replaced?.description.length]).to.deep.equal([
      seeded?.options[0]?.iuv,
      140,
    ]);

    const header = myPayColumns('1.4').join(';');
    const iuv = await zippedLines(site, `${MYPAY_BASE}_IUV.zip`);
    expect(iuv.entry).to.equal(`${MYPAY_BASE}_IUV.csv`);
    expect(iuv.lines[0]).to.equal(header);
    // Accepted rows (OK and WARN) written again with the IUV assigned, amounts as 0.00.
    expect(iuv.lines.slice(1).map((l) => l.split(';').slice(0, 2))).to.deep.equal([
      ['TARI-2025-0001', inserted?.options[0]?.iuv],
      ['COSAP-2025-77', seeded?.options[0]?.iuv],
    ]);
    expect(iuv.lines[1]?.split(';')[13]).to.equal('30.00');

    const scarti = await zippedLines(site, `${MYPAY_BASE}_SCARTI.zip`);
    expect(scarti.entry).to.equal(`${MYPAY_BASE}_SCARTI.csv`);
    expect(scarti.lines[0]).to.equal(`${header};cod_rifiuto;de_rifiuto`);
    const rejected = scarti.lines.slice(1).map((l) => {
      const fields = myPayFields(l);
      return [fields[0], fields.at(-2)];
    });
    expect(rejected).to.deep.equal([
      ['ASSOC-9', 'PAA_IMPORT_SINTASSI_CSV_IUV'],
      ['TARI-2024-0099', 'PAA_IMPORT_DOVUTO_NON_PRESENTE'],
    ]);

    // The same package again: nothing changes; the SCARTI says FLUSSO_DUPLICATO, the IUV file is empty.
    await dropFixture(site, path.join(MYPAY, `${MYPAY_BASE}.md5`));
    await dropFixture(site, path.join(MYPAY, `${MYPAY_BASE}.zip`));
    const again = findByReport(await runOnce(ctx, site), `${MYPAY_BASE}.zip`);
    expect([again.outcome, again.errorCode]).to.deep.equal(['REJECTED', 'F_DUP_FLOW']);
    const duplicate = await zippedLines(site, `${MYPAY_BASE}_SCARTI.zip`);
    expect(duplicate.lines).to.have.length(2);
    const [flowLine] = duplicate.lines.slice(1).map(myPayFields);
    expect(flowLine?.slice(0, header.split(';').length).every((f) => f === '')).to.equal(true);
    expect(flowLine?.at(-2)).to.equal('PAA_IMPORT_FLUSSO_DUPLICATO');
    expect(flowLine?.at(-1)).to.contain('already imported');
    expect((await zippedLines(site, `${MYPAY_BASE}_IUV.zip`)).lines).to.deep.equal([header]);
    expect((await position(ctx, site, 'COSAP-2025-77'))?.description).to.equal(replaced?.description);
  });

  it('rejects a MyPay package whose .md5 does not match with F_CHECKSUM, answered in _SCARTI.zip', async () => {
    const site = await newSite(ctx);
    await dropFixture(site, path.join(MYPAY, `${MYPAY_BASE}.zip`));
    await drop(site, `${MYPAY_BASE}.md5`, `${'0'.repeat(32)}\r\n`);
    const pass = await runOnce(ctx, site);
    expect(pass.files.map((f) => f.fileName)).to.deep.equal([`${MYPAY_BASE}.zip`]);
    const flow = findByReport(pass, `${MYPAY_BASE}.zip`);
    expect([flow.outcome, flow.errorCode]).to.deep.equal(['REJECTED', 'F_CHECKSUM']);
    expect(flow.errorMessage).to.contain('MD5 mismatch').and.contain('0'.repeat(32));
    expect(await position(ctx, site, 'TARI-2025-0001')).to.equal(null);
    const scarti = await zippedLines(site, `${MYPAY_BASE}_SCARTI.zip`);
    const [flowLine, ...others] = scarti.lines.slice(1).map(myPayFields);
    expect(others).to.deep.equal([]);
    expect(flowLine?.at(-2)).to.equal('PAA_IMPORT_NO_MATCH_MD5');
    expect(flowLine?.at(-1)).to.contain('MD5 mismatch');
    expect(await readFile(folder(site, 'out', outcomeFileName(`${MYPAY_BASE}.zip`)), 'utf8')).to.contain(
      'F_CHECKSUM',
    );
    const rejected = await readdir(folder(site, 'rejected'));
    expect(rejected.filter((n) => n.endsWith(`${MYPAY_BASE}.md5`))).to.have.length(1);
    expect(await readdir(folder(site, 'in'))).to.deep.equal([]);
  });

  it('writes the legacy outcome files again when the importer died after writing them', async () => {
    const site = await newSite(ctx);
    await dropFixture(site, path.join(MYPAY, `${MYPAY_BASE}.zip`));
    let crashes = 0;
    const crashed = await runOnce(ctx, site, {
      hooks: {
        afterStep: (_id, step) => {
          if (step === 'answered' && crashes++ === 0) throw new SimulatedCrash('killed after the outcome');
        },
      },
    });
    expect(crashed.failures).to.have.length(1);
    const first = {
      iuv: await zippedLines(site, `${MYPAY_BASE}_IUV.zip`),
      scarti: await zippedLines(site, `${MYPAY_BASE}_SCARTI.zip`),
    };
    // What a writer killed half-way would have left.
    await writeFile(folder(site, 'out', `${MYPAY_BASE}_SCARTI.zip.0badc0de.part`), 'half a zip');

    const finished = await runOnce(ctx, site, { leaseMs: 0 });
    const flow = findByReport(finished, `${MYPAY_BASE}.zip`);
    expect([flow.outcome, flow.resumed, flow.ok + flow.warn + flow.ko]).to.deep.equal(['DONE', true, 4]);
    expect(await zippedLines(site, `${MYPAY_BASE}_IUV.zip`)).to.deep.equal(first.iuv);
    expect(await zippedLines(site, `${MYPAY_BASE}_SCARTI.zip`)).to.deep.equal(first.scarti);
    expect((await readdir(folder(site, 'out'))).sort()).to.deep.equal([
      outcomeFileName(`${MYPAY_BASE}.zip`),
      `${MYPAY_BASE}_IUV.zip`,
      `${MYPAY_BASE}_SCARTI.zip`,
    ]);
    expect(await readdir(path.join(site.dataDir, 'import-work'))).to.deep.equal([]);
  });
});

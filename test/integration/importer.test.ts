// The drop-folder importer on a real database and real folders (issue 7, DESIGN §8): what a file
// becomes (positions, IUVs, outcome lines, the file moved), the edge-case fixtures, idempotency per
// file and per row, file-level failures found late, crash recovery at every step, two instances on
// one folder, and the notifyUploadOutcome callback.

import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { forEachDatabase, seedEnte, type DbContext, type SeededEnte } from '../support/db.ts';
import { PPAY_FIXTURES, insertRow, ppayCsv } from '../support/batchFormats.ts';
import { PROJECT_ROOT } from '../../src/xml/paths.ts';
import { enteFolder } from '../../src/batch/dropFolder/forEnte.ts';
import { LocalDropFolder } from '../../src/batch/dropFolder/local.ts';
import type { DropFolderDir } from '../../src/batch/dropFolder/port.ts';
import { formatPpayFileName, outcomeFileName, outcomeXmlFileName } from '../../src/batch/fileNames.ts';
import { parseOutcome, type OutcomeFile, type OutcomeRow } from '../support/importProcess.ts';
import { generatePpayCsv } from '../../src/batch/formats/generate.ts';
import { OUTCOME_CSV_HEADER } from '../../src/batch/formats/outcome.ts';
import { Importer, type ImporterOptions, type ImportStep } from '../../src/batch/importer/importer.ts';
import { ImportWorker } from '../../src/batch/importer/worker.ts';
import { describeImportReport, runImportCommand } from '../../src/batch/importer/command.ts';
import { loadConfig } from '../../src/config.ts';
import { isDomainError } from '../../src/domain/errors.ts';
import { callbackRequestFor } from '../../src/app/callbacks/requests.ts';
import { NOTIFY_UPLOAD_OUTCOME, type UploadOutcomeNotification } from '../../src/app/gestionale/uploads.ts';
import { schemaFor } from '../../src/xml/schema.ts';
import { FLOWS_SCHEMA } from '../../src/batch/formats/xmlFile.ts';
import { signEnveloped } from '../../src/xml/signing.ts';

interface Site {
  root: string;
  dataDir: string;
  seeded: SeededEnte;
  cf: string;
}

class SimulatedCrash extends Error {}

const sites: Site[] = [];

async function newSite(ctx: DbContext): Promise<Site> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ppay-importer-'));
  const seeded = await seedEnte(ctx.store);
  const site = { root, dataDir: path.join(root, 'data'), seeded, cf: seeded.ente.fiscalCode };
  sites.push(site);
  await new LocalDropFolder({ root: enteFolder(site.dataDir, site.cf) }).ensureLayout();
  return site;
}

function folder(site: Site, dir: DropFolderDir, name?: string): string {
  const base = path.join(enteFolder(site.dataDir, site.cf), dir);
  return name === undefined ? base : path.join(base, name);
}

function importerFor(ctx: DbContext, site: Site, options: Partial<ImporterOptions> = {}): Importer {
  return new Importer({
    store: ctx.store,
    dataDir: site.dataDir,
    completion: { settleMs: 0 },
    batchRows: 50,
    ...options,
  });
}

async function runOnce(ctx: DbContext, site: Site, options: Partial<ImporterOptions> = {}) {
  const importer = importerFor(ctx, site, options);
  try {
    return await importer.runPass({ enteFiscalCode: site.cf });
  } finally {
    await importer.close();
  }
}

function csvName(site: Site, flowId: string): string {
  return formatPpayFileName({ enteFiscalCode: site.cf, flowId, date: '2024-02-01', extension: 'csv' });
}

/** Puts a complete file in in/ (written aside, then renamed in: never seen half-written). */
async function drop(site: Site, name: string, content: string | Buffer): Promise<void> {
  const aside = folder(site, 'in', `${name}.part`);
  await writeFile(aside, content);
  await rename(aside, folder(site, 'in', name));
}

async function generated(rows: number, prefix: string, planEvery = 0): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await generatePpayCsv(out, { rows, positionIdPrefix: prefix, planEvery });
  out.end();
  return Buffer.concat(chunks).toString('utf8');
}

/** The outcome file of an input, parsed (a line of the wrong width fails the test). */
function readOutcome(site: Site, inputName: string): Promise<OutcomeFile> {
  return parseOutcome(folder(site, 'out', outcomeFileName(inputName)));
}

/** `<row>:<outcome>[:<code>]` per outcome line. */
function codes(rows: readonly OutcomeRow[]): string[] {
  return rows.map((r) => `${r.rowNo}:${r.outcome}${r.errorCode ? `:${r.errorCode}` : ''}`);
}

/** Names in a folder without the claim prefix, sidecars and reasons. */
async function originals(site: Site, dir: DropFolderDir): Promise<string[]> {
  return (await readdir(folder(site, dir)))
    .filter((n) => !n.endsWith('.sha256') && !n.endsWith('.reason.txt'))
    .map((n) => (dir === 'in' || dir === 'out' ? n : n.slice(n.indexOf('.') + 1)))
    .sort();
}

async function positionCount(ctx: DbContext, site: Site): Promise<number> {
  const row = (await ctx
    .db('positions')
    .where({ ente_id: site.seeded.ente.id })
    .count({ n: '*' })
    .first()) as {
    n: number | string;
  };
  return Number(row.n);
}

async function stateDigest(ctx: DbContext, site: Site): Promise<string> {
  const enteId = site.seeded.ente.id;
  const positions = await ctx.db('positions').where({ ente_id: enteId }).orderBy('id');
  const options = await ctx.db('payment_options').where({ ente_id: enteId }).orderBy('id');
  return JSON.stringify([positions, options]);
}

forEachDatabase('drop-folder importer', (ctx) => {
  after(async () => {
    for (const site of sites.splice(0)) await rm(site.root, { recursive: true, force: true });
  });

  describe('a valid file', () => {
    it('creates the positions with IUVs, answers every line in out/ and moves the file to done/', async () => {
      const site = await newSite(ctx);
      await ctx.store.services.create({
        enteId: site.seeded.ente.id,
        code: 'CDS',
        description: 'Sanzioni',
        category: '9/0101108TS/',
        iban: 'IT60X0542811101000000123456',
      });
      // The IUV given in advance on line 3 was obtained with requestIUV.
      await ctx.store.iuv.record([
        {
          enteId: site.seeded.ente.id,
          iuv: '01000000000012345',
          noticeNumber: '301000000000012345',
          serviceId: site.seeded.service.id,
          purpose: 'request',
        },
      ]);
      const name = csvName(site, 'VALID');
      await drop(site, name, await readFile(path.join(PPAY_FIXTURES, 'valid.csv')));
      const report = await runOnce(ctx, site);

      expect(report.files.map((f) => [f.fileName, f.outcome, f.lines, f.ok, f.warn, f.ko])).to.deep.equal([
        [name, 'DONE', 8, 5, 1, 2],
      ]);
      const { header, rows } = await readOutcome(site, name);
      expect(header).to.equal(OUTCOME_CSV_HEADER);
      expect(codes(rows)).to.deep.equal([
        '2:OK',
        '3:WARN:W_TRUNCATED',
        '4:OK',
        '5:OK',
        '6:OK',
        '7:OK',
        '8:KO:E_NOT_FOUND',
        '9:KO:E_NOT_FOUND',
      ]);
      expect(rows[1]?.iuv).to.equal('01000000000012345');
      const plan = await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'TARI-2024-0003');
      expect(plan?.options.map((o) => [o.installment, o.amountCents, o.dueDate])).to.deep.equal([
        [1, 7000, '2024-04-30'],
        [2, 7000, '2024-07-31'],
        [3, 7100, '2024-10-31'],
      ]);
      expect(rows.slice(2, 5).map((r) => [r.installmentNo, r.iuv, r.noticeNumber])).to.deep.equal(
        plan?.options.map((o) => [String(o.installment), o.iuv, o.noticeNumber]),
      );
      // Every IUV was issued by the ente's register and is linked to its option.
      const unlinked = await ctx
        .db('iuv_allocations')
        .where({ ente_id: site.seeded.ente.id })
        .whereIn('iuv', rows.map((r) => r.iuv).filter(Boolean))
        .whereNull('option_id');
      expect(unlinked).to.have.length(0);
      const cds = await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'CDS-2024-0042');
      expect(cds?.options[0]?.transfers.map((t) => [t.enteFiscalCode, t.amountCents])).to.deep.equal([
        [site.cf, 7000],
        ['98765432103', 3000],
      ]);
      const single = await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'TARI-2024-0001');
      expect(single?.options[0]?.transfers.map((t) => [t.iban, t.category])).to.deep.equal([
        [site.seeded.service.iban, site.seeded.service.category],
      ]);
      expect((await ctx.store.positionExtras.get(single?.id as number)).metadata).to.deep.equal([
        { key: 'rif.Utenza', value: 'UT-001' },
        { key: 'note', value: 'a=b|c' },
      ]);
      const truncated = await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'TARI-2024-0002');
      expect(truncated?.description).to.have.length(140);
      expect(await originals(site, 'done')).to.deep.equal([name]);
      expect(await originals(site, 'in')).to.deep.equal([]);
      expect(await originals(site, 'processing')).to.deep.equal([]);
      const events = await ctx.store.events.listFor('position', single?.id as number);
      expect(events.map((e) => [e.action, e.actor])).to.deep.equal([['created', 'ppay-importer']]);
      expect(events[0]?.cause).to.contain(name).and.contain('line 2');
    });

    it('imports an XML file and answers it with the CSV and the schema-valid XML outcome', async () => {
      const site = await newSite(ctx);
      const xml = (
        await readFile(path.join(PROJECT_ROOT, 'fixtures/flows/debtPositionsFile/valid-file.xml'), 'utf8')
      ).replaceAll('01234567897', site.cf);
      const name = `${site.cf}_NIGHT-42_20240201_ppay-1.xml`;
      await drop(site, name, xml);
      const [file] = (await runOnce(ctx, site)).files;
      expect([file?.outcome, file?.format, file?.ok, file?.ko]).to.deep.equal(['DONE', 'ppay-xml-1', 1, 2]);
      expect(file?.outcomeFiles).to.deep.equal([outcomeFileName(name), outcomeXmlFileName(name)]);
      expect(codes((await readOutcome(site, name)).rows)).to.deep.equal([
        '1:OK',
        '2:KO:E_NOT_FOUND',
        '3:KO:E_NOT_FOUND',
      ]);
      const outcomeXml = await readFile(folder(site, 'out', outcomeXmlFileName(name)), 'utf8');
      expect(schemaFor(FLOWS_SCHEMA).validateXml(outcomeXml)).to.deep.equal({ ok: true });
      const stored = await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'TARI-2024-001001');
      expect(outcomeXml).to.contain(
        `<noticeNumber>${stored?.options[0]?.noticeNumber ?? '?'}</noticeNumber>`,
      );
    });
  });

  describe('signed XML files (PPAY_IMPORT_TRUSTED_CERT)', () => {
    const keys = path.join(PROJECT_ROOT, 'fixtures/keys');
    const certFile = path.join(keys, 'export-signer.cert.pem');
    const signer = async () => ({
      privateKeyPem: await readFile(path.join(keys, 'export-signer.key.pem'), 'utf8'),
      certificatePem: await readFile(certFile, 'utf8'),
    });

    async function xmlFor(site: Site): Promise<string> {
      const xml = await readFile(
        path.join(PROJECT_ROOT, 'fixtures/flows/debtPositionsFile/valid-file.xml'),
        'utf8',
      );
      return xml.replaceAll('01234567897', site.cf);
    }

    function xmlName(site: Site, flowId: string): string {
      return `${site.cf}_${flowId}_20240201_ppay-1.xml`;
    }

    it('imports a file signed by the configured certificate (`ppay import` with the config)', async () => {
      const site = await newSite(ctx);
      const config = loadConfig({
        PPAY_DATA_DIR: site.dataDir,
        PPAY_IMPORT_SETTLE_MS: '0',
        PPAY_IMPORT_TRUSTED_CERT: certFile,
      });
      const name = xmlName(site, 'SIGNED');
      await drop(site, name, signEnveloped(await xmlFor(site), await signer()));
      const report = await runImportCommand(ctx.store, config, { ente: site.cf });
      expect(report.files.map((f) => [f.fileName, f.outcome, f.format, f.ok, f.ko])).to.deep.equal([
        [name, 'DONE', 'ppay-xml-1', 1, 2],
      ]);
      expect(
        (await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'TARI-2024-001001'))?.status,
      ).to.equal('VALID');
    });

    it('rejects with F_SIGNATURE a tampered or an unsigned file when a certificate is configured', async () => {
      const site = await newSite(ctx);
      const { certificatePem } = await signer();
      const signed = signEnveloped(await xmlFor(site), await signer());
      const tampered = signed.replace('TARI-2024-001001', 'TARI-2024-001009');
      expect(tampered).to.not.equal(signed);
      await drop(site, xmlName(site, 'TAMPERED'), tampered);
      await drop(site, xmlName(site, 'UNSIGNED'), await xmlFor(site));
      const report = await runOnce(ctx, site, { trustedCertificatePem: certificatePem });
      const byName = report.files.map((f) => [f.fileName, f.outcome, f.errorCode]).sort();
      expect(byName).to.deep.equal([
        [xmlName(site, 'TAMPERED'), 'REJECTED', 'F_SIGNATURE'],
        [xmlName(site, 'UNSIGNED'), 'REJECTED', 'F_SIGNATURE'],
      ]);
      expect(await positionCount(ctx, site)).to.equal(0);
      expect(await originals(site, 'rejected')).to.deep.equal(
        [xmlName(site, 'TAMPERED'), xmlName(site, 'UNSIGNED')].sort(),
      );
    });

    it('reads XML unsigned without a configured certificate, ignoring a signature present', async () => {
      const site = await newSite(ctx);
      const tampered = signEnveloped(await xmlFor(site), await signer()).replace(
        'TARI-2024-001001',
        'TARI-2024-001009',
      );
      await drop(site, xmlName(site, 'UNCHECKED'), tampered);
      const [file] = (await runOnce(ctx, site)).files;
      expect([file?.outcome, file?.ok, file?.ko]).to.deep.equal(['DONE', 1, 2]);
      expect(
        (await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'TARI-2024-001009'))?.status,
      ).to.equal('VALID');
    });
  });

  describe('the edge-case fixtures of fixtures/batch/ppay', () => {
    const cases: Array<{ fixture: string; expected: string[] | string; positions: number }> = [
      {
        fixture: 'bad-amount.csv',
        expected: ['2:OK', '3:KO:E_AMOUNT', '4:KO:E_AMOUNT', '5:KO:E_AMOUNT', '6:KO:E_AMOUNT', '7:OK'],
        positions: 2,
      },
      {
        fixture: 'duplicate-position-id.csv',
        expected: ['2:OK', '3:OK', '4:KO:E_DUP_IN_FILE', '5:OK'],
        positions: 3,
      },
      {
        fixture: 'ragged-row.csv',
        expected: ['2:OK', '3:KO:E_SYNTAX', '4:OK', '5:KO:E_SYNTAX'],
        positions: 2,
      },
      {
        fixture: 'non-contiguous-position.csv',
        expected: ['2:KO:E_SYNTAX', '3:OK', '4:KO:E_DUP_IN_FILE', '5:OK'],
        positions: 2,
      },
      {
        fixture: 'bad-quote.csv',
        expected: 'KO rows of the broken plan, the next position OK',
        positions: 1,
      },
      { fixture: 'bom.csv', expected: 'all OK', positions: -1 },
      { fixture: 'crlf.csv', expected: 'all OK', positions: -1 },
      { fixture: 'header-only.csv', expected: ['0:KO:F_EMPTY'], positions: 0 },
      { fixture: 'empty.csv', expected: ['0:KO:F_EMPTY'], positions: 0 },
      { fixture: 'wrong-encoding-latin1.csv', expected: ['0:KO:F_ENCODING'], positions: 0 },
      { fixture: 'unknown-column.csv', expected: ['0:KO:F_HEADER'], positions: 0 },
    ];
    for (const c of cases) {
      it(`answers ${c.fixture} line by line and leaves nothing partial`, async () => {
        const site = await newSite(ctx);
        const name = csvName(site, c.fixture.replace(/\.csv$/, '').replace(/[^A-Za-z0-9]/g, '-'));
        await drop(site, name, await readFile(path.join(PPAY_FIXTURES, c.fixture)));
        const [file] = (await runOnce(ctx, site)).files;
        const { rows } = await readOutcome(site, name);
        const rejected = Array.isArray(c.expected) && c.expected[0]?.startsWith('0:');
        if (Array.isArray(c.expected)) expect(codes(rows)).to.deep.equal(c.expected);
        else if (c.expected === 'all OK') expect(rows.every((r) => r.outcome === 'OK')).to.equal(true);
        else expect(codes(rows).slice(-1)).to.deep.equal([`${rows.at(-1)?.rowNo}:OK`]);
        expect(file?.outcome).to.equal(rejected ? 'REJECTED' : 'DONE');
        expect(await originals(site, rejected ? 'rejected' : 'done')).to.deep.equal([name]);
        const okPositions = new Set(rows.filter((r) => r.outcome !== 'KO').map((r) => r.positionId)).size;
        expect(await positionCount(ctx, site)).to.equal(c.positions === -1 ? okPositions : c.positions);
        // Every KO position is absent, every OK one has the IUV its line reports.
        for (const row of rows.filter((r) => r.positionId)) {
          const stored = await ctx.store.positions.findByPositionId(site.seeded.ente.id, row.positionId);
          const kept = rows.some((r) => r.positionId === row.positionId && r.outcome !== 'KO');
          if (!kept) expect(stored, row.positionId).to.equal(null);
          else if (row.outcome !== 'KO') expect(stored?.options.map((o) => o.iuv)).to.include(row.iuv);
        }
      });
    }
  });

  describe('idempotency', () => {
    it('changes nothing when the same file is dropped again, and says so with F_DUP_FLOW', async () => {
      const site = await newSite(ctx);
      const content = await generated(120, 'DUP-', 10);
      const first = csvName(site, 'NIGHT-1');
      await drop(site, first, content);
      const [done] = (await runOnce(ctx, site)).files;
      expect(done?.outcome).to.equal('DONE');
      const before = await stateDigest(ctx, site);
      const firstOutcome = await readFile(folder(site, 'out', outcomeFileName(first)), 'utf8');

      const again = csvName(site, 'NIGHT-1-AGAIN');
      await drop(site, again, content);
      const [second] = (await runOnce(ctx, site)).files;
      expect([second?.outcome, second?.errorCode]).to.deep.equal(['REJECTED', 'F_DUP_FLOW']);
      expect(second?.errorMessage).to.contain(first).and.contain(done?.importId);
      expect(await stateDigest(ctx, site)).to.equal(before);
      expect(codes((await readOutcome(site, again)).rows)).to.deep.equal(['0:KO:F_DUP_FLOW']);
      expect(await readFile(folder(site, 'out', outcomeFileName(first)), 'utf8')).to.equal(firstOutcome);
      expect(await originals(site, 'rejected')).to.deep.equal([again]);
      const reason = (await readdir(folder(site, 'rejected'))).find((n) => n.endsWith('.reason.txt'));
      expect(await readFile(folder(site, 'rejected', reason as string), 'utf8')).to.match(/^F_DUP_FLOW: /);
    });

    it('imports a rejected file again once it is dropped again (a rejection gives the content up)', async () => {
      const site = await newSite(ctx);
      const content = ppayCsv([insertRow('RE-1'), insertRow('RE-2')]);
      const name = csvName(site, 'RETRY');
      const importer = importerFor(ctx, site);
      const bad = await importer.importFile(site.cf, await tempFile(site, name, content), { expectCount: 5 });
      expect([bad.outcome, bad.errorCode]).to.deep.equal(['REJECTED', 'F_COUNT']);
      await drop(site, name, content);
      const [good] = (await importer.runPass({ enteFiscalCode: site.cf })).files;
      await importer.close();
      expect([good?.outcome, good?.ok]).to.deep.equal(['DONE', 2]);
      expect(await positionCount(ctx, site)).to.equal(2);
    });

    it('answers E_ALREADY_EXISTS for an INSERT of a positionId the ente has, from another file', async () => {
      const site = await newSite(ctx);
      await drop(site, csvName(site, 'A'), ppayCsv([insertRow('SAME-1'), insertRow('OTHER-1')]));
      await runOnce(ctx, site);
      const before = await stateDigest(ctx, site);
      const name = csvName(site, 'B');
      // Identical content or not, an INSERT of an existing position changes nothing.
      await drop(
        site,
        name,
        ppayCsv([insertRow('SAME-1'), insertRow('OTHER-1', { amount_cents: '999' }), insertRow('NEW-1')]),
      );
      await runOnce(ctx, site);
      expect(codes((await readOutcome(site, name)).rows)).to.deep.equal([
        '2:KO:E_ALREADY_EXISTS',
        '3:KO:E_ALREADY_EXISTS',
        '4:OK',
      ]);
      const other = await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'OTHER-1');
      expect(other?.options[0]?.amountCents).to.equal(1000);
      expect(await positionCount(ctx, site)).to.equal(3);
      expect(before).to.not.equal(await stateDigest(ctx, site));
    });

    it('updates (M) and cancels (A) stored positions, keeping their IUVs', async () => {
      const site = await newSite(ctx);
      await drop(site, csvName(site, 'INS'), ppayCsv([insertRow('UPD-1'), insertRow('CAN-1')]));
      await runOnce(ctx, site);
      const old = await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'UPD-1');
      const name = csvName(site, 'UPD');
      await drop(
        site,
        name,
        ppayCsv([
          insertRow('UPD-1', {
            action: 'M',
            amount_cents: '2500',
            due_date: '2024-06-30',
            change_reason: 'ricalcolo',
          }),
          { action: 'A', position_id: 'CAN-1', change_reason: 'cessata' },
          { action: 'A', position_id: 'NONE-1' },
        ]),
      );
      await runOnce(ctx, site);
      const { rows } = await readOutcome(site, name);
      expect(codes(rows)).to.deep.equal(['2:OK', '3:OK', '4:KO:E_NOT_FOUND']);
      const updated = await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'UPD-1');
      expect(updated?.options.map((o) => [o.iuv, o.amountCents, o.dueDate])).to.deep.equal([
        [old?.options[0]?.iuv, 2500, '2024-06-30'],
      ]);
      expect(rows[0]?.iuv).to.equal(old?.options[0]?.iuv);
      const cancelled = await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'CAN-1');
      expect(cancelled?.status).to.equal('CANCELLED');
    });
  });

  describe('file-level failures found at the end', () => {
    it('leaves no position when the control count does not match (F_COUNT, checked after every row)', async () => {
      const site = await newSite(ctx);
      const name = csvName(site, 'COUNT');
      const importer = importerFor(ctx, site, { batchRows: 10 });
      const report = await importer.importFile(
        site.cf,
        await tempFile(site, name, await generated(200, 'CNT-')),
        {
          expectCount: 199,
        },
      );
      await importer.close();
      expect([report.outcome, report.errorCode]).to.deep.equal(['REJECTED', 'F_COUNT']);
      expect(await positionCount(ctx, site)).to.equal(0);
      expect(codes((await readOutcome(site, name)).rows)).to.deep.equal(['0:KO:F_COUNT']);
      expect(await originals(site, 'rejected')).to.deep.equal([name]);
    });

    it('leaves no position when the last line is not UTF-8 (F_ENCODING late in the file)', async () => {
      const site = await newSite(ctx);
      const good = await generated(300, 'ENC-');
      const latin1 = Buffer.from(
        'I;ENC-LAST;TARI;Citt\xe0;F;RSSMRA80A01H501U;Rossi;Mario;a@b.it;0;;2024-04-30;100\n',
        'latin1',
      );
      const name = csvName(site, 'ENC');
      await drop(site, name, Buffer.concat([Buffer.from(good), latin1]));
      const [file] = (await runOnce(ctx, site, { batchRows: 20 })).files;
      expect([file?.outcome, file?.errorCode]).to.deep.equal(['REJECTED', 'F_ENCODING']);
      expect(file?.errorMessage).to.contain('line 302');
      expect(await positionCount(ctx, site)).to.equal(0);
    });
  });

  describe('crash recovery', () => {
    it('resumes after a crash between batches: exactly the rows of the file, one outcome file', async () => {
      const site = await newSite(ctx);
      const name = csvName(site, 'CRASH');
      await drop(site, name, await generated(300, 'CR-'));
      const crashed = await runOnce(ctx, site, {
        hooks: {
          afterBatch: (_id, batchNo) => {
            if (batchNo === 3) throw new SimulatedCrash('killed after 3 batches');
          },
        },
      });
      expect(crashed.failures.map((f) => f.message)).to.deep.equal(['killed after 3 batches']);
      expect(await positionCount(ctx, site)).to.equal(150);
      expect(await originals(site, 'out')).to.deep.equal([]);

      // Another instance (another owner) takes it over once the lease is over, and finishes it.
      const resumed = await runOnce(ctx, site, { leaseMs: 0 });
      expect(resumed.files.map((f) => [f.outcome, f.lines, f.resumed])).to.deep.equal([['DONE', 300, true]]);
      expect(await positionCount(ctx, site)).to.equal(300);
      const { rows } = await readOutcome(site, name);
      expect(rows.map((r) => r.rowNo)).to.deep.equal(Array.from({ length: 300 }, (_, i) => i + 2));
      expect(new Set(rows.map((r) => r.iuv)).size).to.equal(300);
      expect(await originals(site, 'out')).to.deep.equal([outcomeFileName(name)]);
      expect(await originals(site, 'done')).to.deep.equal([name]);
    });

    const steps: ImportStep[] = ['claimed', 'validated', 'decided', 'answered', 'moved'];
    for (const step of steps) {
      it(`finishes a file whose importer died right after the step "${step}"`, async () => {
        const site = await newSite(ctx);
        const name = csvName(site, `STEP-${step}`);
        await drop(site, name, await generated(60, `ST-${step}-`, 10));
        const crashed = await runOnce(ctx, site, {
          hooks: {
            afterStep: (_id, at) => {
              if (at === step) throw new SimulatedCrash(`killed after ${step}`);
            },
          },
        });
        expect(crashed.failures).to.have.length(1);
        const finished = await runOnce(ctx, site, { leaseMs: 0 });
        expect(finished.files.map((f) => [f.fileName, f.outcome, f.lines])).to.deep.equal([
          [name, 'DONE', 60],
        ]);
        expect((await readOutcome(site, name)).rows).to.have.length(60);
        expect(await originals(site, 'out')).to.deep.equal([outcomeFileName(name)]);
        expect(await originals(site, 'done')).to.deep.equal([name]);
        const [imp] = await ctx.store.imports.list(site.seeded.ente.id);
        expect([imp?.status, imp?.okCount]).to.deep.equal(['DONE', 60]);
      });
    }

    it('adopts a claim whose claimer died between the rename and recording it', async () => {
      const site = await newSite(ctx);
      const name = csvName(site, 'GAP');
      await drop(site, name, ppayCsv([insertRow('GAP-1'), insertRow('GAP-2')]));
      // The claimer renames the file into processing/ and dies before anything else.
      const dying = importerFor(ctx, site, {
        dropFolderFor: () => {
          const real = new LocalDropFolder({ root: enteFolder(site.dataDir, site.cf), settleMs: 0 });
          return Object.assign(Object.create(real) as LocalDropFolder, {
            claim: async (n: string) => {
              await real.claim(n);
              throw new SimulatedCrash('killed after the rename');
            },
          });
        },
      });
      const crashed = await dying.runPass({ enteFiscalCode: site.cf });
      await dying.close();
      expect(crashed.failures.map((f) => f.message)).to.deep.equal(['killed after the rename']);
      expect(await originals(site, 'processing')).to.deep.equal([name]);

      // While the claimer's heartbeat is fresh, nobody touches its claim.
      const early = await runOnce(ctx, site);
      expect(early.files).to.deep.equal([]);
      expect(await originals(site, 'processing')).to.deep.equal([name]);

      const late = await runOnce(ctx, site, { leaseMs: 0 });
      expect(late.files.map((f) => [f.fileName, f.outcome, f.ok])).to.deep.equal([[name, 'DONE', 2]]);
      expect(await positionCount(ctx, site)).to.equal(2);
      expect(await ctx.store.imports.list(site.seeded.ente.id)).to.have.length(1);
    });

    it('does not take an import over while its owner is alive and its heartbeat fresh', async () => {
      const site = await newSite(ctx);
      const name = csvName(site, 'LIVE');
      await drop(site, name, await generated(100, 'LV-'));
      let other: Promise<unknown> = Promise.resolve();
      let seen: string[] = [];
      await runOnce(ctx, site, {
        hooks: {
          afterBatch: async (_id, batchNo) => {
            if (batchNo !== 1) return;
            // A second instance passes while the first is between two batches.
            other = runOnce(ctx, site).then((r) => {
              seen = r.files.map((f) => `${f.fileName} ${f.outcome}`);
            });
            await other;
          },
        },
      });
      await other;
      expect(seen).to.deep.equal([`${name} IN_PROGRESS`]);
      expect(await positionCount(ctx, site)).to.equal(100);
      expect((await readOutcome(site, name)).rows).to.have.length(100);
    });
  });

  describe('several instances', () => {
    it('imports each file exactly once when two importers work on the same folder', async () => {
      const site = await newSite(ctx);
      const names: string[] = [];
      for (let i = 1; i <= 4; i++) {
        const name = csvName(site, `PAR-${i}`);
        names.push(name);
        await drop(site, name, await generated(80, `PAR${i}-`, 10));
      }
      const [a, b] = [importerFor(ctx, site), importerFor(ctx, site)];
      const reports = await Promise.all([
        a.runPass({ enteFiscalCode: site.cf }),
        b.runPass({ enteFiscalCode: site.cf }),
      ]);
      await Promise.all([a.close(), b.close()]);
      const done = reports.flatMap((r) => r.files).filter((f) => f.outcome === 'DONE');
      expect(done.map((f) => f.fileName).sort()).to.deep.equal(names.sort());
      expect(reports.flatMap((r) => r.failures)).to.deep.equal([]);
      const imports = await ctx.store.imports.list(site.seeded.ente.id);
      expect(imports.map((i) => i.status)).to.deep.equal(['DONE', 'DONE', 'DONE', 'DONE']);
      const rows = (await Promise.all(names.map((n) => readOutcome(site, n)))).flatMap((o) => o.rows);
      expect(rows.filter((r) => r.outcome === 'OK')).to.have.length(320);
      const stored = await ctx
        .db('payment_options')
        .where({ ente_id: site.seeded.ente.id })
        .count({ n: '*' })
        .first();
      expect(Number((stored as { n: number | string }).n)).to.equal(320);
      expect(await originals(site, 'done')).to.deep.equal(names.sort());
    });

    it('runs in `ppay start` as a worker that polls the drop folders', async () => {
      const site = await newSite(ctx);
      const name = csvName(site, 'WORKER');
      await drop(site, name, ppayCsv([insertRow('WK-1')]));
      const passes: number[] = [];
      const worker = new ImportWorker({
        store: ctx.store,
        dataDir: site.dataDir,
        completion: { settleMs: 0 },
        onPass: (r) => passes.push(r.files.length),
      });
      worker.start(60_000);
      await worker.idle();
      await worker.close();
      expect(passes.length).to.equal(1);
      expect(codes((await readOutcome(site, name)).rows)).to.deep.equal(['2:OK']);
    });
  });

  describe('`ppay import`', () => {
    it('imports a given file through the drop folder and prints one line per file', async () => {
      const site = await newSite(ctx);
      const config = loadConfig({ PPAY_DATA_DIR: site.dataDir, PPAY_IMPORT_SETTLE_MS: '0' });
      const name = csvName(site, 'CLI');
      const file = await tempFile(
        site,
        name,
        ppayCsv([insertRow('CLI-1'), insertRow('CLI-2', { amount_cents: 'x' })]),
      );
      const report = await runImportCommand(ctx.store, config, { ente: site.cf, file, expectCount: '2' });
      expect(report.files.map((f) => [f.fileName, f.outcome, f.ok, f.ko])).to.deep.equal([
        [name, 'DONE', 1, 1],
      ]);
      expect(describeImportReport(report)).to.match(
        new RegExp(
          `^${site.cf} ${name}: DONE \\(import imp-[0-9a-f]{24}, ppay-csv-1\\) 2 lines: 1 OK, 0 WARN, 1 KO -> out/`,
        ),
      );
      expect(await originals(site, 'done')).to.deep.equal([name]);
      // The same name again, while nothing waits in in/: F_DUP_FLOW, a rejection, not a failure.
      const again = await runImportCommand(ctx.store, config, { ente: site.cf, file });
      expect(describeImportReport(again)).to.contain(`${name}: REJECTED F_DUP_FLOW`);
      expect(describeImportReport(await runImportCommand(ctx.store, config, { ente: site.cf }))).to.equal(
        'no files to import\n',
      );
    });

    it('refuses per-file options without --file, and --file without --ente', async () => {
      const site = await newSite(ctx);
      const config = loadConfig({ PPAY_DATA_DIR: site.dataDir });
      for (const options of [
        { ente: site.cf, format: 'ppay-csv-1' },
        { file: '/tmp/x.csv' },
        { ente: site.cf, file: '/tmp/x.csv', format: 'nope' },
      ]) {
        const error = await runImportCommand(ctx.store, config, options).then(
          () => null,
          (err: unknown) => err,
        );
        expect(isDomainError(error, 'INVALID_INPUT'), JSON.stringify(options)).to.equal(true);
      }
    });
  });

  describe('notifyUploadOutcome', () => {
    it('queues one schema-valid callback per service for the bound client, with the import', async () => {
      const site = await newSite(ctx);
      const client = await ctx.store.clients.create({
        username: `gest-${site.cf}`,
        passwordHash: 'x',
        name: 'Gestionale',
        enteIds: [site.seeded.ente.id],
        serviceIds: [site.seeded.service.id],
        models: ['base'],
        callbackUrl: 'http://127.0.0.1:9/callback',
      });
      const name = csvName(site, 'NOTIFY');
      await drop(
        site,
        name,
        ppayCsv([
          insertRow('NT-1'),
          insertRow('NT-2', { amount_cents: '0' }),
          insertRow('NT-3', { service_code: 'NOPE' }),
        ]),
      );
      const [file] = (await runOnce(ctx, site)).files;
      const messages = (await ctx
        .db('outbox')
        .where({ topic: NOTIFY_UPLOAD_OUTCOME, target: String(client.id) })) as Array<{
        id: string;
      }>;
      expect(messages).to.have.length(1);
      const message = await ctx.store.outbox.get(messages[0]?.id as string);
      const payload = message?.payload as UploadOutcomeNotification;
      expect([payload.uploadId, payload.source, payload.fileName, payload.serviceCode]).to.deep.equal([
        file?.importId,
        'FILE',
        name,
        'TARI',
      ]);
      // NT-2 (a bad amount) and NT-3 (an unknown service) belong to no known service: reported too.
      expect(payload.summary).to.deep.equal({ itemCount: 3, okCount: 1, koCount: 2 });
      expect(
        payload.itemOutcome.map((i) => [i.sequence, i.positionId, i.outcome, i.error?.code]),
      ).to.deep.equal([
        [1, 'NT-1', 'OK', undefined],
        [2, 'NT-2', 'KO', 'INVALID_AMOUNT'],
        [3, 'NT-3', 'KO', 'SERVICE_UNKNOWN'],
      ]);
      expect(payload.itemOutcome[0]?.notices.map((n) => n.iuv)).to.deep.equal([
        (await ctx.store.positions.findByPositionId(site.seeded.ente.id, 'NT-1'))?.options[0]?.iuv,
      ]);
      const request = callbackRequestFor(message as NonNullable<typeof message>);
      expect(request.ok, request.ok ? '' : request.reason).to.equal(true);
    });
  });

  async function tempFile(site: Site, name: string, content: string): Promise<string> {
    const file = path.join(site.root, name);
    await writeFile(file, content);
    return file;
  }
});

// The nightly reconciliation export on every database of the matrix: receipts paid on the emulated
// PSP, flows from the emulated node, a camt.053 in the treasury folder, `reconcile`, then the export
// writes the day's XML and CSV into <dataDir>/sftp/<ente>/out/. The XML validates against
// xsd/flows/ppay-flows.xsd; a signed one verifies against the pinned test certificate and a
// tampered copy does not; a re-run replaces the files; the nightly job writes yesterday's report.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import type { XmlDocument } from 'libxml2-wasm';
import { forEachDatabase } from '../support/db.ts';
import { expectDomainError } from '../support/expectDomainError.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { addDays } from '../../src/domain/payability.ts';
import { reconcile } from '../../src/app/reconciliation/reconcile.ts';
import {
  dayBefore,
  exportReconciliationReports,
  RECONCILIATION_EXPORT_LOCK,
  type ExportResult,
} from '../../src/app/reconciliation/exportReport.ts';
import { nightlyJobs } from '../../src/app/nightly.ts';
import { DomainError, type ErrorCode } from '../../src/domain/errors.ts';
import { romeDate } from '../../src/pagopa/time.ts';
import type { Receipt } from '../../src/db/repositories/receipts.ts';
import type { FlowDocument } from '../../src/reconciliation/model.ts';
import { FLOWS_NAMESPACE, reconciliationExportNames } from '../../src/reconciliation/report.ts';
import { pagopaRemittance } from '../../src/reconciliation/statements/index.ts';
import { PROJECT_ROOT, XSD_DIR } from '../../src/xml/paths.ts';
import { parseUntrusted, schemaFor } from '../../src/xml/schema.ts';
import { verifyEnveloped, type SigningKey } from '../../src/xml/signing.ts';
import {
  camtOf,
  COMUNE,
  creditFor,
  dropStatement,
  flowDocument,
  linesOf,
  payAndGetReceipt,
  startReconciliationServer,
  statement,
  tempDataDir,
  UNIONE,
  type ReconciliationServer,
} from './reconciliationSupport.ts';

const PSP = 'BCITITMM';
const FLOWS_XSD = path.join(XSD_DIR, 'flows/ppay-flows.xsd');
const KEYS = path.join(PROJECT_ROOT, 'fixtures/keys');
const SIGNER: SigningKey = {
  privateKeyPem: fs.readFileSync(path.join(KEYS, 'export-signer.key.pem'), 'utf8'),
  certificatePem: fs.readFileSync(path.join(KEYS, 'export-signer.cert.pem'), 'utf8'),
};
const UNRELATED_CERT = fs.readFileSync(path.join(KEYS, 'unrelated.cert.pem'), 'utf8');

/** The texts an XPath selects in a report (the root carries the fl: prefix, children none). */
function texts(xml: string, xpath: string): string[] {
  const doc: XmlDocument = parseUntrusted(xml);
  try {
    return doc.find(xpath, { fl: FLOWS_NAMESPACE }).map((n) => n.content.trim());
  } finally {
    doc.dispose();
  }
}

async function expectRejected(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const outcome = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(outcome, `expected a DomainError ${code}`).to.be.instanceOf(DomainError);
  expect((outcome as DomainError).code).to.equal(code);
}

forEachDatabase('nightly reconciliation export', (ctx) => {
  const today = romeDate(new Date());
  const day = dayBefore(today);
  const oldDay = addDays(day, -5);
  const unknownFlowId = `${day}UNKNITMM-77`;
  let server: ReconciliationServer;
  let demo: DemoSummary;
  let dataDir: string;
  /** Settled on `day`: reconciled; with a wrong amount; settled five days earlier, all received today. */
  let reconciled: FlowDocument;
  let faulty: FlowDocument;
  let old: FlowDocument;
  let faultyLines: FlowDocument['payments'];

  const outDir = (ente = COMUNE) => path.join(dataDir, 'sftp', ente, 'out');
  const files = (date: string, ente = COMUNE) => {
    const names = reconciliationExportNames(ente, date);
    return { xml: path.join(outDir(ente), names.xml), csv: path.join(outDir(ente), names.csv) };
  };
  const read = (file: string) => fs.readFileSync(file, 'utf8');
  const exportDay = (date: string, extra: { signing?: SigningKey; clock?: () => Date } = {}) =>
    exportReconciliationReports({ store: ctx.store, dataDir, date, enteFiscalCode: COMUNE, ...extra });

  const pay = (positionId: string): Promise<Receipt> =>
    payAndGetReceipt(ctx.store, server, {
      ente: COMUNE,
      noticeNumber: demo.positions.find((p) => p.positionId === positionId)!.noticeNumber,
      psp: PSP,
    });

  before(async () => {
    demo = await seedDemo(ctx.store);
    server = await startReconciliationServer(ctx.db, ctx.store);
    dataDir = tempDataDir();
    const [r1, r2, r3] = [
      await pay('DEMO-TARI-0004'),
      await pay('DEMO-TARI-0005'),
      await pay('DEMO-TARI-0006'),
    ];
    reconciled = flowDocument({
      flowId: `${day}${PSP}-1`,
      settlementDate: day,
      payments: linesOf(r1, COMUNE, day),
    });
    faultyLines = linesOf(r2, COMUNE, day);
    faulty = flowDocument({
      flowId: `${day}${PSP}-2`,
      settlementDate: day,
      payments: faultyLines.map((l) => ({ ...l, amountCents: l.amountCents + 100 })),
    });
    old = flowDocument({
      flowId: `${oldDay}${PSP}-1`,
      settlementDate: oldDay,
      payments: linesOf(r3, COMUNE, oldDay),
    });
    for (const doc of [reconciled, faulty, old]) server.flows.put(doc);
    const collected = faultyLines.reduce((sum, l) => sum + l.amountCents, 0);
    const credits = [
      creditFor(reconciled),
      creditFor(faulty, { amountCents: collected }),
      creditFor(old),
      // A pagoPA credit naming a flow that never arrived, and a credit that is not pagoPA at all.
      {
        ...creditFor(reconciled),
        entryRef: 'REF-UNKNOWN',
        trn: 'TRN-UNKNOWN-FLOW',
        amountCents: 4200,
        remittanceInformation: pagopaRemittance(unknownFlowId),
      },
      {
        ...creditFor(reconciled),
        entryRef: 'REF-OTHER',
        trn: 'TRN-NOT-PAGOPA',
        amountCents: 9900,
        remittanceInformation: 'Rimborso spese notifica',
      },
    ];
    dropStatement(dataDir, COMUNE, 'camt-export.xml', camtOf(statement(credits, { statementId: 'EXP-1' })));
    await reconcile({ store: ctx.store, node: server.node, dataDir, date: today });
  });

  after(() => server?.close());

  it("writes the day's XML and CSV into the ente's out/ folder, the XML valid against ppay-flows.xsd", async () => {
    const result = await exportDay(day);
    expect(result).to.include({ status: 'done', reportDate: day });
    const { xml, csv } = files(day);
    expect(result.exports.map((e) => [e.enteFiscalCode, e.xmlPath, e.csvPath, e.signed])).to.deep.equal([
      [COMUNE, xml, csv, false],
    ]);
    expect(fs.existsSync(outDir(UNIONE)), 'only the asked ente').to.equal(false);
    const content = read(xml);
    expect(schemaFor(FLOWS_XSD).validateXml(content)).to.deep.equal({ ok: true });
    expect(texts(content, '/fl:reconciliationReport/header/reportDate')).to.deep.equal([day]);
    expect(texts(content, '/fl:reconciliationReport/flow/flowId')).to.deep.equal([
      reconciled.flowId,
      faulty.flowId,
    ]);
    expect(texts(content, '/fl:reconciliationReport/flow/status')).to.deep.equal(['RECONCILED', 'ANOMALY']);
    expect(texts(content, '/fl:reconciliationReport/flow[2]/anomaly/code')).to.deep.equal([
      'AMOUNT_MISMATCH',
      'AMOUNT_MISMATCH',
    ]);
    expect(texts(content, '/fl:reconciliationReport/unmatchedCredit/trn')).to.deep.equal([
      'TRN-UNKNOWN-FLOW',
    ]);
    expect(texts(content, '/fl:reconciliationReport/anomaly/code')).to.deep.equal(['CREDIT_WITHOUT_FLOW']);
    expect(texts(content, '/fl:reconciliationReport/anomaly/flowId')).to.deep.equal([unknownFlowId]);
    expect(result.exports[0]!.summary).to.deep.equal({
      flowCount: 2,
      reconciledFlowCount: 1,
      paymentCount: reconciled.paymentCount + faulty.paymentCount,
      totalAmountCents: reconciled.totalAmountCents + faulty.totalAmountCents,
      openAnomalyCount: 3,
    });

    const rows = parse(read(csv), { delimiter: ';', columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.record_type, r.flow_id])).to.deep.equal([
      ...reconciled.payments.map(() => ['LINE', reconciled.flowId]),
      ...faulty.payments.map(() => ['LINE', faulty.flowId]),
      ['ANOMALY', faulty.flowId],
      ['ANOMALY', faulty.flowId],
      ['UNMATCHED_CREDIT', ''],
      ['ANOMALY', unknownFlowId],
    ]);
    expect(rows.find((r) => r.record_type === 'UNMATCHED_CREDIT')).to.include({
      trn: 'TRN-UNKNOWN-FLOW',
      amount_cents: '4200',
      credit_value_date: day,
    });
  });

  it('covers flows settled, received or changed on the day, and credits of that value date or imported that day', async () => {
    await exportDay(oldDay);
    const older = read(files(oldDay).xml);
    expect(texts(older, '/fl:reconciliationReport/flow/flowId')).to.deep.equal([old.flowId]);
    expect(texts(older, '/fl:reconciliationReport/unmatchedCredit')).to.deep.equal([]);
    await exportDay(today);
    const current = read(files(today).xml);
    expect(texts(current, '/fl:reconciliationReport/flow/flowId')).to.deep.equal([
      old.flowId,
      reconciled.flowId,
      faulty.flowId,
    ]);
    expect(texts(current, '/fl:reconciliationReport/unmatchedCredit/trn')).to.deep.equal([
      'TRN-UNKNOWN-FLOW',
    ]);
    const before = addDays(oldDay, -1);
    await exportDay(before);
    const quiet = read(files(before).xml);
    expect(texts(quiet, '/fl:reconciliationReport/flow')).to.deep.equal([]);
    // Anomalies still open are listed every night until resolved, on their own when their flow is not listed.
    const standalone = texts(quiet, '/fl:reconciliationReport/anomaly/code').map((code, i) => [
      code,
      texts(quiet, '/fl:reconciliationReport/anomaly/flowId')[i],
    ]);
    expect(standalone.sort()).to.deep.equal([
      ['AMOUNT_MISMATCH', faulty.flowId],
      ['AMOUNT_MISMATCH', faulty.flowId],
      ['CREDIT_WITHOUT_FLOW', unknownFlowId],
    ]);
    expect(schemaFor(FLOWS_XSD).validateXml(quiet)).to.deep.equal({ ok: true });
  });

  it('signs the XML when a key is given: it verifies against the pinned certificate, a tampered copy does not', async () => {
    const result = await exportDay(day, { signing: SIGNER });
    expect(result.exports[0]!.signed).to.equal(true);
    const signed = read(files(day).xml);
    expect(schemaFor(FLOWS_XSD).validateXml(signed)).to.deep.equal({ ok: true });
    const content = verifyEnveloped(signed, SIGNER.certificatePem);
    expect(content).to.include(`<flowId>${reconciled.flowId}</flowId>`);
    expect(content).to.not.include('Signature');

    const amount = `<totalAmountCents>${reconciled.totalAmountCents}</totalAmountCents>`;
    expect(signed).to.include(amount);
    const tampered = signed.replace(
      amount,
      `<totalAmountCents>${reconciled.totalAmountCents + 1}</totalAmountCents>`,
    );
    expectDomainError(() => verifyEnveloped(tampered, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    expectDomainError(() => verifyEnveloped(signed, UNRELATED_CERT), 'SIGNATURE_INVALID');
  });

  it('replaces the day files on a re-run, with what changed meanwhile', async () => {
    const first = await exportDay(day, { clock: () => new Date('2030-01-01T01:00:00Z') });
    expect(texts(read(files(day).xml), '/fl:reconciliationReport/header/generatedAt')).to.deep.equal([
      '2030-01-01T01:00:00.000Z',
    ]);
    // The PSP corrects the faulty flow (same id, TRN and settlement date; later dataOraFlusso).
    server.flows.put({
      ...faulty,
      flowDateTime: `${today}T18:00:00`,
      payments: faultyLines,
      totalAmountCents: faultyLines.reduce((s, l) => s + l.amountCents, 0),
    });
    await reconcile({ store: ctx.store, node: server.node, dataDir, date: today });
    const second = await exportDay(day, { clock: () => new Date('2030-01-01T02:00:00Z') });
    expect(second.exports[0]!.xmlPath).to.equal(first.exports[0]!.xmlPath);
    const content = read(files(day).xml);
    expect(texts(content, '/fl:reconciliationReport/header/generatedAt')).to.deep.equal([
      '2030-01-01T02:00:00.000Z',
    ]);
    expect(texts(content, '/fl:reconciliationReport/flow/status')).to.deep.equal([
      'RECONCILED',
      'RECONCILED',
    ]);
    expect(texts(content, '/fl:reconciliationReport/flow[2]/anomaly/status')).to.deep.equal([
      'RESOLVED',
      'RESOLVED',
    ]);
    expect(second.exports[0]!.summary).to.include({ reconciledFlowCount: 2, openAnomalyCount: 1 });
    const csvRows = parse(read(files(day).csv), { delimiter: ';', columns: true }) as Array<
      Record<string, string>
    >;
    expect(
      csvRows
        .filter((r) => r.record_type === 'ANOMALY' && r.flow_id === faulty.flowId)
        .map((r) => r.anomaly_status),
    ).to.deep.equal(['RESOLVED', 'RESOLVED']);
    const names = reconciliationExportNames(COMUNE, day);
    const inOut = fs.readdirSync(outDir()).filter((n) => n.includes(day.replaceAll('-', '')));
    expect(inOut.sort()).to.deep.equal([names.csv, names.xml].sort());
  });

  it('writes nothing while another instance holds the export lock', async () => {
    const before = read(files(day).xml);
    expect(await ctx.store.locks.acquire(RECONCILIATION_EXPORT_LOCK, 'other-instance', 60_000)).to.equal(
      true,
    );
    try {
      const result = await exportDay(day, { clock: () => new Date('2031-01-01T00:00:00Z') });
      expect(result).to.deep.equal({ status: 'locked', reportDate: day, exports: [] } satisfies ExportResult);
    } finally {
      await ctx.store.locks.release(RECONCILIATION_EXPORT_LOCK, 'other-instance');
    }
    expect(read(files(day).xml)).to.equal(before);
  });

  it("runs as a nightly job after reconcile: yesterday's report of every active ente, signed when configured", async () => {
    const jobs = nightlyJobs({
      hour: 2,
      reservationMaxDays: 30,
      reconciliation: {
        dataDir,
        receiptFlowDays: 3,
        flowCreditDays: 2,
        node: () => null,
        exportSigning: SIGNER,
      },
    });
    expect(jobs.map((j) => j.name)).to.deep.equal([
      'notifyExpiredNotices',
      'reconcile',
      'reconciliationExport',
    ]);
    expect(nightlyJobs({ hour: 2, reservationMaxDays: 30 }).map((j) => j.name)).to.not.include(
      'reconciliationExport',
    );
    const result = (await jobs[2]!.run(ctx.store, new Date())) as ExportResult;
    expect(result).to.include({ status: 'done', reportDate: day });
    expect(result.exports.map((e) => [e.enteFiscalCode, e.signed])).to.deep.equal([
      [COMUNE, true],
      [UNIONE, true],
    ]);
    for (const ente of [COMUNE, UNIONE]) {
      const xml = read(files(day, ente).xml);
      expect(verifyEnveloped(xml, SIGNER.certificatePem)).to.include(
        `<enteFiscalCode>${ente}</enteFiscalCode>`,
      );
    }
  });

  it('refuses an unknown ente and a date that is not a day', async () => {
    await expectRejected(
      exportReconciliationReports({ store: ctx.store, dataDir, date: day, enteFiscalCode: '00000000000' }),
      'ENTE_UNKNOWN',
    );
    await expectRejected(exportDay('2026-02-30'), 'INVALID_DATE');
  });
});

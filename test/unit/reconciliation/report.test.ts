// The nightly reconciliation export: the XML against xsd/flows/ppay-flows.xsd (signed and not),
// its computed summary, the CSV rows, and the atomic replacement of a day's files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect } from 'chai';
import { parse } from 'csv-parse/sync';

import { flowElement, type ReconciliationFlow } from '../../../src/app/callbacks/notifyReconciliation.ts';
import {
  buildReconciliationReportCsv,
  buildReconciliationReportXml,
  CSV_COLUMNS,
  reconciliationExportNames,
  reconciliationReportId,
  summarizeReport,
  writeReconciliationExport,
  type ReconciliationReport,
} from '../../../src/reconciliation/report.ts';
import { serialize } from '../../../src/xml/build.ts';
import { PROJECT_ROOT, XSD_DIR } from '../../../src/xml/paths.ts';
import { schemaFor } from '../../../src/xml/schema.ts';
import { verifyEnveloped, type SigningKey } from '../../../src/xml/signing.ts';
import { expectDomainError } from '../../support/expectDomainError.ts';

const FLOWS_XSD = path.join(XSD_DIR, 'flows/ppay-flows.xsd');
const KEYS = path.join(PROJECT_ROOT, 'fixtures/keys');
const SIGNER: SigningKey = {
  privateKeyPem: fs.readFileSync(path.join(KEYS, 'export-signer.key.pem'), 'utf8'),
  certificatePem: fs.readFileSync(path.join(KEYS, 'export-signer.cert.pem'), 'utf8'),
};
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

function reconciledFlow(): ReconciliationFlow {
  return {
    flowId: '2024-03-29ABCDITMMXXX-1',
    flowDateTime: '2024-03-29T07:15:00',
    pspId: 'ABCDITMMXXX',
    pspName: 'Banca Esempio S.p.A.',
    trn: '0306912345678901234567890123IT',
    settlementDate: '2024-03-29',
    paymentCount: 2,
    totalAmountCents: 73450,
    status: 'RECONCILED',
    bankCredit: {
      valueDate: '2024-03-29',
      amountCents: 73450,
      trn: '0306912345678901234567890123IT',
      remittanceInformation: '/PUR/LGPE-RIVERSAMENTO/URI/2024-03-29ABCDITMMXXX-1',
      statementId: 'STMT-20240329',
    },
    anomalyCount: 0,
    line: [
      {
        iuv: '01000000001234721',
        iur: 'c110729d258c4ab1b765fe902aae41d6',
        transferIndex: 1,
        amountCents: 50000,
        outcomeCode: '0',
        outcomeDate: '2024-03-28',
        status: 'MATCHED',
        positionId: 'TARI-2024-000124',
        installment: 1,
        noticeNumber: '301000000001234721',
        receiptId: 'c110729d258c4ab1b765fe902aae41d6',
      },
      {
        iuv: '01000000001234519',
        iur: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
        transferIndex: 1,
        amountCents: 23450,
        outcomeCode: '0',
        outcomeDate: '2024-03-28',
        status: 'MATCHED',
        positionId: 'TARI-2024-000123',
        installment: 0,
        noticeNumber: '301000000001234519',
        receiptId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
      },
    ],
    anomaly: [],
  };
}

/** A flow still waiting for its credit, with a revoked line and one open and one resolved anomaly. */
function anomalousFlow(): ReconciliationFlow {
  return {
    flowId: '2024-03-29ZZZZITMMXXX-7',
    flowDateTime: '2024-03-29T09:00:00',
    pspId: 'ZZZZITMMXXX',
    trn: 'TRN-ZZZZ-0007',
    settlementDate: '2024-03-29',
    paymentCount: 2,
    totalAmountCents: 9000,
    status: 'ANOMALY',
    bankCredit: null,
    anomalyCount: 1,
    line: [
      {
        iuv: '01000000001234822',
        iur: 'IUR-ZZZZ-1',
        amountCents: 10000,
        outcomeCode: '0',
        outcomeDate: '2024-03-28',
        status: 'UNMATCHED',
        anomalyCode: 'LINE_WITHOUT_RECEIPT',
      },
      {
        iuv: '01000000001234620',
        iur: 'IUR-ZZZZ-2',
        transferIndex: 2,
        amountCents: -1000,
        outcomeCode: '3',
        outcomeDate: '2024-03-28',
        status: 'MATCHED',
        positionId: 'MULTA-77',
        installment: 0,
        noticeNumber: '301000000001234620',
        receiptId: 'IUR-ZZZZ-2',
        anomalyCode: 'REVOKED_PAYMENT',
      },
    ],
    anomaly: [
      {
        code: 'LINE_WITHOUT_RECEIPT',
        status: 'OPEN',
        detectedAt: '2024-03-30T02:04:00+01:00',
        description: 'flow line; no receipt\nstored for this IUV',
        flowId: '2024-03-29ZZZZITMMXXX-7',
        iuv: '01000000001234822',
        iur: 'IUR-ZZZZ-1',
        amountCents: 10000,
      },
      {
        code: 'AMOUNT_MISMATCH',
        status: 'RESOLVED',
        detectedAt: '2024-03-29T02:04:00+01:00',
        resolvedAt: '2024-03-30T02:04:00+01:00',
        flowId: '2024-03-29ZZZZITMMXXX-7',
        amountCents: 9000,
        expectedAmountCents: 10000,
      },
    ],
  };
}

function sampleReport(overrides: Partial<ReconciliationReport> = {}): ReconciliationReport {
  return {
    enteFiscalCode: '01234567897',
    reportDate: '2024-03-29',
    reportId: reconciliationReportId('01234567897', '2024-03-29'),
    generatedAt: '2024-03-30T02:05:00+01:00',
    flows: [reconciledFlow(), anomalousFlow()],
    unmatchedCredits: [
      {
        valueDate: '2024-03-29',
        amountCents: 12000,
        trn: 'EXAMPLE-TRN-0000999',
        remittanceInformation: '/PUR/LGPE-RIVERSAMENTO/URI/2024-03-28QQQQITMMXXX-3',
      },
    ],
    anomalies: [
      {
        code: 'RECEIPT_WITHOUT_FLOW',
        status: 'OPEN',
        detectedAt: '2024-03-30T02:04:59+01:00',
        iuv: '01000000001234923',
        iur: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
        positionId: 'TARI-2024-SOLL-0009',
        noticeNumber: '301000000001234923',
        amountCents: 1250,
      },
    ],
    ...overrides,
  };
}

function validate(xml: string): string {
  const verdict = schemaFor(FLOWS_XSD).validateXml(xml);
  return verdict.ok ? 'valid' : verdict.violations.map((v) => `line ${v.line}: ${v.message}`).join('\n');
}

function csvRecords(csv: string): Record<string, string>[] {
  return parse(csv, { delimiter: ';', columns: true }) as Record<string, string>[];
}

describe('nightly reconciliation report (src/reconciliation/report.ts)', () => {
  describe('XML', () => {
    it('validates against xsd/flows/ppay-flows.xsd, unsigned and signed', () => {
      const report = sampleReport();
      expect(validate(buildReconciliationReportXml(report))).to.equal('valid');
      expect(validate(buildReconciliationReportXml(report, SIGNER))).to.equal('valid');
    });

    it('validates when the day has no flows, credits or anomalies', () => {
      const empty = sampleReport({ flows: [], unmatchedCredits: [], anomalies: [] });
      const xml = buildReconciliationReportXml(empty, SIGNER);
      expect(validate(xml)).to.equal('valid');
      expect(xml).to.include(
        '<summary><flowCount>0</flowCount><reconciledFlowCount>0</reconciledFlowCount><paymentCount>0</paymentCount>' +
          '<totalAmountCents>0</totalAmountCents><openAnomalyCount>0</openAnomalyCount></summary>',
      );
    });

    it('computes the summary from the flows and the open anomalies', () => {
      expect(summarizeReport(sampleReport())).to.deep.equal({
        flowCount: 2,
        reconciledFlowCount: 1,
        paymentCount: 4,
        totalAmountCents: 73450 + 9000,
        // the flow's open LINE_WITHOUT_RECEIPT and the standalone RECEIPT_WITHOUT_FLOW; not the resolved one
        openAnomalyCount: 2,
      });
      expect(buildReconciliationReportXml(sampleReport())).to.include(
        '<summary><flowCount>2</flowCount><reconciledFlowCount>1</reconciledFlowCount><paymentCount>4</paymentCount>' +
          '<totalAmountCents>82450</totalAmountCents><openAnomalyCount>2</openAnomalyCount></summary>',
      );
    });

    it('writes header, flows (as the notifyReconciliation callback does), credits and anomalies in schema order', () => {
      const report = sampleReport();
      const xml = buildReconciliationReportXml(report);
      expect(
        xml.startsWith(
          `${DECLARATION}<fl:reconciliationReport xmlns:fl="http://ppay-connector.it/flows/v1"><header>`,
        ),
      ).to.equal(true);
      expect(xml).to.include(
        '<header><enteFiscalCode>01234567897</enteFiscalCode><reportDate>2024-03-29</reportDate>' +
          '<reportId>rec-01234567897-20240329</reportId><generatedAt>2024-03-30T02:05:00+01:00</generatedAt></header>',
      );
      const flows = report.flows.map((f) => serialize(flowElement(f))).join('');
      expect(xml).to.include(
        `</summary>${flows}<unmatchedCredit><valueDate>2024-03-29</valueDate><amountCents>12000</amountCents>`,
      );
      expect(xml).to.match(
        /<\/unmatchedCredit><anomaly><code>RECEIPT_WITHOUT_FLOW<\/code>.*<\/anomaly><\/fl:reconciliationReport>$/,
      );
    });

    it('signs the export so that it verifies against the pinned certificate and yields the unsigned report', () => {
      const report = sampleReport();
      const signed = buildReconciliationReportXml(report, SIGNER);
      expect(signed).to.match(/<ds:Signature [^>]*>.*<\/ds:Signature><\/fl:reconciliationReport>$/);
      expect(verifyEnveloped(signed, SIGNER.certificatePem)).to.equal(
        buildReconciliationReportXml(report).slice(DECLARATION.length),
      );
    });

    it('rejects a tampered signed export (SIGNATURE_INVALID)', () => {
      const signed = buildReconciliationReportXml(sampleReport(), SIGNER);
      const tampered = signed.replace('<amountCents>50000</amountCents>', '<amountCents>5000</amountCents>');
      expect(tampered).not.to.equal(signed);
      expectDomainError(() => verifyEnveloped(tampered, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    });

    it('refuses to build a report that breaks the schema (INVALID_DOCUMENT)', () => {
      expectDomainError(
        () => buildReconciliationReportXml(sampleReport({ enteFiscalCode: 'COMUNE' })),
        'INVALID_DOCUMENT',
      );
    });
  });

  describe('CSV', () => {
    const csv = buildReconciliationReportCsv(sampleReport());
    const records = csvRecords(csv);

    it('starts with the header row of the documented columns, ; separated, CRLF', () => {
      const [header] = csv.split('\r\n');
      expect(header).to.equal(CSV_COLUMNS.join(';'));
      expect(csv.endsWith('\r\n')).to.equal(true);
      expect(csv.replaceAll('\r\n', '')).not.to.include('\n');
    });

    it('has one row per flow line, then each flow anomaly, then unmatched credits and standalone anomalies', () => {
      expect(records.map((r) => [r.record_type, r.flow_id, r.iuv || r.anomaly_code || r.trn])).to.deep.equal([
        ['LINE', '2024-03-29ABCDITMMXXX-1', '01000000001234721'],
        ['LINE', '2024-03-29ABCDITMMXXX-1', '01000000001234519'],
        ['LINE', '2024-03-29ZZZZITMMXXX-7', '01000000001234822'],
        ['LINE', '2024-03-29ZZZZITMMXXX-7', '01000000001234620'],
        ['ANOMALY', '2024-03-29ZZZZITMMXXX-7', '01000000001234822'],
        ['ANOMALY', '2024-03-29ZZZZITMMXXX-7', 'AMOUNT_MISMATCH'],
        ['UNMATCHED_CREDIT', '', 'EXAMPLE-TRN-0000999'],
        ['ANOMALY', '', '01000000001234923'],
      ]);
    });

    it('writes a matched line with its flow, credit and position columns, amounts in cents', () => {
      expect(records[0]).to.deep.equal({
        record_type: 'LINE',
        flow_id: '2024-03-29ABCDITMMXXX-1',
        psp_id: 'ABCDITMMXXX',
        trn: '0306912345678901234567890123IT',
        settlement_date: '2024-03-29',
        credit_value_date: '2024-03-29',
        iuv: '01000000001234721',
        iur: 'c110729d258c4ab1b765fe902aae41d6',
        transfer_index: '1',
        amount_cents: '50000',
        outcome_code: '0',
        line_status: 'MATCHED',
        position_id: 'TARI-2024-000124',
        installment: '1',
        notice_number: '301000000001234721',
        receipt_id: 'c110729d258c4ab1b765fe902aae41d6',
        anomaly_code: '',
        anomaly_status: '',
        expected_amount_cents: '',
        remittance_information: '',
        statement_id: '',
        description: '',
      });
    });

    it('leaves the credit date empty while no credit arrived, and keeps a revoked amount negative', () => {
      const revoked = records[3]!;
      expect(revoked.credit_value_date).to.equal('');
      expect(revoked.amount_cents).to.equal('-1000');
      expect(revoked.outcome_code).to.equal('3');
      expect(revoked.anomaly_code).to.equal('REVOKED_PAYMENT');
    });

    it('writes anomalies with status and amounts, on one line, quoting a ; in the text', () => {
      expect(records[4]).to.include({
        anomaly_code: 'LINE_WITHOUT_RECEIPT',
        anomaly_status: 'OPEN',
        amount_cents: '10000',
        description: 'flow line; no receipt stored for this IUV',
      });
      expect(csv).to.include('"flow line; no receipt stored for this IUV"');
      expect(records[5]).to.include({
        anomaly_status: 'RESOLVED',
        amount_cents: '9000',
        expected_amount_cents: '10000',
      });
      expect(records[7]).to.include({
        anomaly_code: 'RECEIPT_WITHOUT_FLOW',
        position_id: 'TARI-2024-SOLL-0009',
        notice_number: '301000000001234923',
        amount_cents: '1250',
      });
    });

    it('writes an unmatched credit with its value date, amount, TRN and remittance text', () => {
      expect(records[6]).to.include({
        credit_value_date: '2024-03-29',
        amount_cents: '12000',
        trn: 'EXAMPLE-TRN-0000999',
        remittance_information: '/PUR/LGPE-RIVERSAMENTO/URI/2024-03-28QQQQITMMXXX-3',
        flow_id: '',
      });
    });

    it('is only the header for an empty day', () => {
      const empty = buildReconciliationReportCsv(
        sampleReport({ flows: [], unmatchedCredits: [], anomalies: [] }),
      );
      expect(empty).to.equal(`${CSV_COLUMNS.join(';')}\r\n`);
    });
  });

  describe('writeReconciliationExport', () => {
    let outDir: string;

    beforeEach(() => {
      outDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-report-')), 'out');
    });

    afterEach(() => {
      fs.rmSync(path.dirname(outDir), { recursive: true, force: true });
    });

    it('names the files <ente>_RENDICONTAZIONE_<YYYYMMDD>.xml and .csv', () => {
      expect(reconciliationExportNames('01234567897', '2024-03-29')).to.deep.equal({
        xml: '01234567897_RENDICONTAZIONE_20240329.xml',
        csv: '01234567897_RENDICONTAZIONE_20240329.csv',
      });
      expectDomainError(() => reconciliationExportNames('01234567897', '29/03/2024'), 'INVALID_DATE');
    });

    it('writes the XML and the CSV into the out folder, leaving no .part file', async () => {
      const report = sampleReport();
      const written = await writeReconciliationExport({ outDir, report, signing: SIGNER });
      expect(written).to.deep.equal({
        xmlPath: path.join(outDir, '01234567897_RENDICONTAZIONE_20240329.xml'),
        csvPath: path.join(outDir, '01234567897_RENDICONTAZIONE_20240329.csv'),
      });
      expect(fs.readdirSync(outDir).sort()).to.deep.equal([
        '01234567897_RENDICONTAZIONE_20240329.csv',
        '01234567897_RENDICONTAZIONE_20240329.xml',
      ]);
      const xml = fs.readFileSync(written.xmlPath, 'utf8');
      expect(validate(xml)).to.equal('valid');
      expect(verifyEnveloped(xml, SIGNER.certificatePem)).to.include(
        '<reportId>rec-01234567897-20240329</reportId>',
      );
      expect(fs.readFileSync(written.csvPath, 'utf8')).to.equal(buildReconciliationReportCsv(report));
    });

    it('replaces the previous run of the same day, even over a stale .part left by a crash', async () => {
      const first = await writeReconciliationExport({ outDir, report: sampleReport() });
      const firstXmlInode = fs.statSync(first.xmlPath).ino;
      fs.writeFileSync(`${first.xmlPath}.part`, '<half');
      const rerun = sampleReport({ generatedAt: '2024-03-30T03:00:00+01:00', unmatchedCredits: [] });
      const second = await writeReconciliationExport({ outDir, report: rerun });
      expect(second).to.deep.equal(first);
      expect(fs.readFileSync(second.xmlPath, 'utf8')).to.equal(buildReconciliationReportXml(rerun));
      expect(fs.readFileSync(second.csvPath, 'utf8')).to.equal(buildReconciliationReportCsv(rerun));
      // a new file renamed over the old one, not the old one rewritten in place
      expect(fs.statSync(second.xmlPath).ino).not.to.equal(firstXmlInode);
      expect(fs.readdirSync(outDir).filter((f) => f.endsWith('.part'))).to.deep.equal([]);
    });

    it('leaves the previous files untouched when the new report cannot be built', async () => {
      const first = await writeReconciliationExport({ outDir, report: sampleReport() });
      const before = [fs.readFileSync(first.xmlPath, 'utf8'), fs.readFileSync(first.csvPath, 'utf8')];
      const broken = sampleReport({ reportId: 'not an identifier' });
      let failure: unknown;
      await writeReconciliationExport({ outDir, report: broken }).catch((err: unknown) => (failure = err));
      expect((failure as { code?: string }).code).to.equal('INVALID_DOCUMENT');
      expect([fs.readFileSync(first.xmlPath, 'utf8'), fs.readFileSync(first.csvPath, 'utf8')]).to.deep.equal(
        before,
      );
      expect(fs.readdirSync(outDir)).to.have.length(2);
    });
  });
});

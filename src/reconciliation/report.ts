// The nightly reconciliation export for one ente and one day (issue 6 item 5, DESIGN §8): the same
// content as an XML file (fl:reconciliationReport of xsd/flows/ppay-flows.xsd, optionally signed)
// and a CSV file, written into the ente's out/ folder with the .part → rename convention.
//
// File names: <enteFiscalCode>_RENDICONTAZIONE_<YYYYMMDD>.xml and .csv (the report date, not the
// run date); a re-run for the same day replaces both files atomically.
//
// XML: header (ente, reportDate, reportId, generatedAt), summary, one pt:ctFlow per flow (as the
// notifyReconciliation callback writes it), unmatchedCredit (pt:ctBankCredit) per credit naming no
// known flow, anomaly (pt:ctAnomaly) per anomaly not tied to a listed flow, then the optional
// enveloped ds:Signature (RSA-SHA256, Reference URI=""). Summary: flowCount, reconciledFlowCount
// (status RECONCILED), paymentCount and totalAmountCents (sums of the flows' declared
// numeroTotalePagamenti / importoTotalePagamenti), openAnomalyCount (OPEN anomalies of the flows
// and standalone ones).
//
// CSV (ppay flat-file conventions, flat-file-formats.md §6): UTF-8 without BOM, `;` separator,
// RFC 4180 quoting, CRLF, a header row, amounts as integer cents (negative for a revoked line),
// dates YYYY-MM-DD, an empty value means absent. Columns, in this order:
//   record_type;flow_id;psp_id;trn;settlement_date;credit_value_date;iuv;iur;transfer_index;
//   amount_cents;outcome_code;line_status;position_id;installment;notice_number;receipt_id;
//   anomaly_code;anomaly_status;expected_amount_cents;remittance_information;statement_id;description
// record_type is LINE (one per flow line, flow columns repeated, credit_value_date empty while no
// bank credit arrived), ANOMALY (every anomaly: first those of each flow, right after its lines and
// with its flow columns, then the standalone ones) or UNMATCHED_CREDIT (trn, credit_value_date,
// amount_cents, remittance_information, statement_id). Rows follow the XML order.

import fs from 'node:fs/promises';
import path from 'node:path';

import { stringify } from 'csv-stringify/sync';

import {
  anomalyElement,
  bankCreditElement,
  flowElement,
  type ReconciliationAnomaly,
  type ReconciliationBankCredit,
  type ReconciliationFlow,
} from '../app/callbacks/notifyReconciliation.ts';
import { domainError } from '../domain/errors.ts';
import { neutraliseValue } from '../batch/formats/csvSafety.ts';
import { document, el, leaf } from '../xml/build.ts';
import { FLOWS_NS, XSD_DIR } from '../xml/paths.ts';
import { schemaFor } from '../xml/schema.ts';
import { signEnveloped, type SigningKey } from '../xml/signing.ts';

export const FLOWS_NAMESPACE = FLOWS_NS;
const FLOWS_SCHEMA = path.join(XSD_DIR, 'flows/ppay-flows.xsd');

export interface ReconciliationReport {
  enteFiscalCode: string;
  /** The day the report covers, YYYY-MM-DD. */
  reportDate: string;
  reportId: string;
  /** ISO date-time of the run. */
  generatedAt: string;
  flows: ReconciliationFlow[];
  /** pagoPA bank credits of the day that name no known flow. */
  unmatchedCredits: ReconciliationBankCredit[];
  /** Anomalies not tied to a listed flow (e.g. RECEIPT_WITHOUT_FLOW, CREDIT_WITHOUT_FLOW). */
  anomalies: ReconciliationAnomaly[];
}

export interface ReconciliationReportSummary {
  flowCount: number;
  reconciledFlowCount: number;
  paymentCount: number;
  totalAmountCents: number;
  openAnomalyCount: number;
}

/** A stable report id for an ente and day, so a re-run writes the same id: rec-<ente>-<YYYYMMDD>. */
export function reconciliationReportId(enteFiscalCode: string, reportDate: string): string {
  return `rec-${enteFiscalCode}-${compactDate(reportDate)}`;
}

/** The file names of a day's export (in the ente's out/ folder). */
export function reconciliationExportNames(
  enteFiscalCode: string,
  reportDate: string,
): { xml: string; csv: string } {
  const base = `${enteFiscalCode}_RENDICONTAZIONE_${compactDate(reportDate)}`;
  return { xml: `${base}.xml`, csv: `${base}.csv` };
}

function compactDate(date: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw domainError('INVALID_DATE', `not a YYYY-MM-DD date: ${date}`);
  return date.replaceAll('-', '');
}

function isOpen(anomaly: ReconciliationAnomaly): boolean {
  return anomaly.status === 'OPEN';
}

export function summarizeReport(report: ReconciliationReport): ReconciliationReportSummary {
  const flowAnomalies = report.flows.flatMap((f) => f.anomaly);
  return {
    flowCount: report.flows.length,
    reconciledFlowCount: report.flows.filter((f) => f.status === 'RECONCILED').length,
    paymentCount: report.flows.reduce((sum, f) => sum + f.paymentCount, 0),
    totalAmountCents: report.flows.reduce((sum, f) => sum + f.totalAmountCents, 0),
    openAnomalyCount: [...flowAnomalies, ...report.anomalies].filter(isOpen).length,
  };
}

/**
 * The report as an fl:reconciliationReport document, checked against xsd/flows/ppay-flows.xsd
 * (a report that breaks its schema is never written: INVALID_DOCUMENT with the first complaints),
 * then signed when a key is given.
 */
export function buildReconciliationReportXml(report: ReconciliationReport, signing?: SigningKey): string {
  const summary = summarizeReport(report);
  const xml = document(
    el(
      'fl:reconciliationReport',
      { 'xmlns:fl': FLOWS_NAMESPACE },
      el(
        'header',
        null,
        leaf('enteFiscalCode', report.enteFiscalCode),
        leaf('reportDate', report.reportDate),
        leaf('reportId', report.reportId),
        leaf('generatedAt', report.generatedAt),
      ),
      el(
        'summary',
        null,
        leaf('flowCount', summary.flowCount),
        leaf('reconciledFlowCount', summary.reconciledFlowCount),
        leaf('paymentCount', summary.paymentCount),
        leaf('totalAmountCents', summary.totalAmountCents),
        leaf('openAnomalyCount', summary.openAnomalyCount),
      ),
      ...report.flows.map(flowElement),
      ...report.unmatchedCredits.map((c) => bankCreditElement('unmatchedCredit', c)),
      ...report.anomalies.map(anomalyElement),
    ),
  );
  requireValid(xml);
  return signing ? signEnveloped(xml, signing) : xml;
}

function requireValid(xml: string): void {
  const verdict = schemaFor(FLOWS_SCHEMA).validateXml(xml);
  if (verdict.ok) return;
  const complaints = verdict.violations
    .slice(0, 3)
    .map((v) => v.message)
    .join(' ');
  throw domainError('INVALID_DOCUMENT', `the reconciliation report breaks ppay-flows.xsd: ${complaints}`, {
    violations: verdict.violations.slice(0, 3),
  });
}

export const CSV_COLUMNS = [
  'record_type',
  'flow_id',
  'psp_id',
  'trn',
  'settlement_date',
  'credit_value_date',
  'iuv',
  'iur',
  'transfer_index',
  'amount_cents',
  'outcome_code',
  'line_status',
  'position_id',
  'installment',
  'notice_number',
  'receipt_id',
  'anomaly_code',
  'anomaly_status',
  'expected_amount_cents',
  'remittance_information',
  'statement_id',
  'description',
] as const;

type CsvColumn = (typeof CSV_COLUMNS)[number];
type CsvRow = Partial<Record<CsvColumn, string | number | null | undefined>>;

/** The flow columns every row of a flow repeats. */
function flowColumns(flow: ReconciliationFlow): CsvRow {
  return {
    flow_id: flow.flowId,
    psp_id: flow.pspId,
    trn: flow.trn,
    settlement_date: flow.settlementDate,
    credit_value_date: flow.bankCredit?.valueDate,
  };
}

function anomalyRow(anomaly: ReconciliationAnomaly, flow: ReconciliationFlow | null): CsvRow {
  return {
    record_type: 'ANOMALY',
    ...(flow ? flowColumns(flow) : {}),
    flow_id: anomaly.flowId ?? flow?.flowId,
    iuv: anomaly.iuv,
    iur: anomaly.iur,
    amount_cents: anomaly.amountCents,
    position_id: anomaly.positionId,
    notice_number: anomaly.noticeNumber,
    anomaly_code: anomaly.code,
    anomaly_status: anomaly.status,
    expected_amount_cents: anomaly.expectedAmountCents,
    description: anomaly.description,
  };
}

function flowRows(flow: ReconciliationFlow): CsvRow[] {
  const lines = flow.line.map((line): CsvRow => ({
    record_type: 'LINE',
    ...flowColumns(flow),
    iuv: line.iuv,
    iur: line.iur,
    transfer_index: line.transferIndex,
    amount_cents: line.amountCents,
    outcome_code: line.outcomeCode,
    line_status: line.status,
    position_id: line.positionId,
    installment: line.installment,
    notice_number: line.noticeNumber,
    receipt_id: line.receiptId,
    anomaly_code: line.anomalyCode,
  }));
  return [...lines, ...flow.anomaly.map((a) => anomalyRow(a, flow))];
}

function creditRow(credit: ReconciliationBankCredit): CsvRow {
  return {
    record_type: 'UNMATCHED_CREDIT',
    trn: credit.trn,
    credit_value_date: credit.valueDate,
    amount_cents: credit.amountCents,
    remittance_information: credit.remittanceInformation,
    statement_id: credit.statementId,
  };
}

// The flat-file formats keep one record per physical line: a line break inside a text becomes a space.
// Texts (a bank's remittance information, a position id) are neutralised against formula injection.
function oneLine(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  return String(neutraliseValue(value)).replace(/\r\n|[\r\n]/g, ' ');
}

export function buildReconciliationReportCsv(report: ReconciliationReport): string {
  const rows = [
    ...report.flows.flatMap(flowRows),
    ...report.unmatchedCredits.map(creditRow),
    ...report.anomalies.map((a) => anomalyRow(a, null)),
  ];
  return stringify(
    rows.map((row) => Object.fromEntries(CSV_COLUMNS.map((column) => [column, oneLine(row[column])]))),
    { delimiter: ';', header: true, columns: [...CSV_COLUMNS], record_delimiter: 'windows' },
  );
}

/** Writes <name>.part, flushes it to disk, then renames it over <name>: readers see the old or the new file, never half. */
async function writeAtomically(file: string, content: string): Promise<void> {
  const part = `${file}.part`;
  try {
    const handle = await fs.open(part, 'w');
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(part, file);
  } catch (err) {
    await fs.rm(part, { force: true });
    throw err;
  }
}

/**
 * Writes the day's XML and CSV into outDir (created if missing), replacing an earlier run's files.
 * Both documents are built before anything is written, so a report that cannot be built leaves the
 * previous files untouched.
 */
export async function writeReconciliationExport(opts: {
  outDir: string;
  report: ReconciliationReport;
  signing?: SigningKey;
}): Promise<{ xmlPath: string; csvPath: string }> {
  const { outDir, report, signing } = opts;
  const names = reconciliationExportNames(report.enteFiscalCode, report.reportDate);
  const xml = buildReconciliationReportXml(report, signing);
  const csv = buildReconciliationReportCsv(report);
  await fs.mkdir(outDir, { recursive: true });
  const xmlPath = path.join(outDir, names.xml);
  const csvPath = path.join(outDir, names.csv);
  await writeAtomically(xmlPath, xml);
  await writeAtomically(csvPath, csv);
  return { xmlPath, csvPath };
}

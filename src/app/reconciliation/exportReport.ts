// The nightly reconciliation export (issue 6 item 5, DESIGN §8 and §10): for each ente and one day,
// the ReconciliationReport of src/reconciliation/report.ts written as XML (signed when a key is
// configured) and CSV into the ente's drop folder, <dataDir>/sftp/<ente fiscal code>/out/, or the
// out/ of its remote SFTP drop folder when it has one (`remoteOutFolderOf`, given by src/batch/jobs.ts).
//
// What "the day" covers (xsd/flows/ppay-flows.xsd, fl:ctReportHeader/reportDate), Europe/Rome days:
// - flows: the latest revision of every flow settled that day, received that day, whose status
//   changed that day, or with an anomaly detected or resolved that day; each with its lines and all
//   its anomalies, as they stand when the report is made;
// - unmatched credits: pagoPA credits (a remittance naming a flow id) that settle no stored flow,
//   with that value date or imported that day (statements of day D often arrive on D+1);
// - anomalies not tied to a listed flow: the open ones, and those detected or resolved that day.
// Every change thus reaches the gestionale in the report of the day it happened. A re-run for the
// same day replaces both files. A DB lock keeps the job on one instance at a time.

import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { domainError } from '../../domain/errors.ts';
import { formatAmount, type SignedCents } from '../../domain/money.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { StoredFlow } from '../../db/repositories/reconciliationFlows.ts';
import type { StoredAnomaly } from '../../db/repositories/anomalies.ts';
import type { StoredCredit } from '../../db/repositories/bankStatements.ts';
import type { Clock } from '../../db/rows.ts';
import { romeDate } from '../../pagopa/time.ts';
import {
  buildReconciliationReportCsv,
  buildReconciliationReportXml,
  reconciliationExportNames,
  reconciliationReportId,
  summarizeReport,
  writeReconciliationExport,
  type ReconciliationReport,
  type ReconciliationReportSummary,
} from '../../reconciliation/report.ts';
import type { SigningKey } from '../../xml/signing.ts';
import type { ReconciliationBankCredit, ReconciliationFlow } from '../callbacks/notifyReconciliation.ts';
import { anomalyDto, flowView } from './views.ts';

export const RECONCILIATION_EXPORT_LOCK = 'reconciliationExport';
const LOCK_TTL_MS = 30 * 60_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** An ente's remote out/ folder (a RemoteSftpDropFolder): written through, then closed. */
export interface RemoteOutFolder {
  readonly location: string;
  writeOut(name: string, content: string): Promise<void>;
  close(): Promise<void>;
}

/** The ente's remote drop folder, or null when it uses its local folders (src/batch/enteDropFolders.ts). */
export type RemoteOutFolderOf = (store: Store, ente: Ente) => Promise<RemoteOutFolder | null>;

export interface ExportOptions {
  store: Store;
  /** PPAY_DATA_DIR: files go to <dataDir>/sftp/<ente fiscal code>/out/. */
  dataDir: string;
  /** The day the report covers (YYYY-MM-DD); by default yesterday in Europe/Rome, the last whole day. */
  date?: string;
  /** Only this ente (fiscal code); by default every active ente. */
  enteFiscalCode?: string;
  /** Signs the XML (enveloped, RSA-SHA256) when given. */
  signing?: SigningKey | null;
  clock?: Clock;
  /** Lock owner; a random one per run by default. */
  owner?: string;
  /** Where enti with a remote drop folder get their files; without it every ente's go to its local out/. */
  remoteOutFolderOf?: RemoteOutFolderOf;
}

export interface EnteExport {
  enteFiscalCode: string;
  xmlPath: string;
  csvPath: string;
  signed: boolean;
  summary: ReconciliationReportSummary;
  unmatchedCredits: number;
  /** Anomalies listed on their own (not under a flow). */
  standaloneAnomalies: number;
}

export interface ExportResult {
  status: 'done' | 'locked';
  reportDate: string;
  exports: EnteExport[];
}

/** The day before a YYYY-MM-DD day. */
export function dayBefore(date: string): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

function requireDate(date: string): string {
  const parsed = new Date(`${date}T00:00:00Z`);
  const valid =
    DATE.test(date) && !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === date;
  if (!valid) throw domainError('INVALID_DATE', `not a YYYY-MM-DD date: ${date}`, { field: 'date' });
  return date;
}

/** Whether an ISO instant (as the repositories store them) falls on the Italian day. */
function onDay(instant: string | null, day: string): boolean {
  return instant !== null && romeDate(new Date(instant)) === day;
}

/** The folder the gestionale picks nightly files up from (DESIGN §10). */
export function enteOutFolder(dataDir: string, enteFiscalCode: string): string {
  return path.join(dataDir, 'sftp', enteFiscalCode, 'out');
}

/** Whether an anomaly belongs to a flow, as the views tie them: same flow id, its PSP or none. */
function tiedTo(anomaly: StoredAnomaly, flow: StoredFlow): boolean {
  return anomaly.flowId === flow.flowId && (anomaly.pspId === null || anomaly.pspId === flow.pspId);
}

function changedOn(anomaly: StoredAnomaly, day: string): boolean {
  return onDay(anomaly.detectedAt, day) || onDay(anomaly.resolvedAt, day);
}

function flowOfTheDay(flow: StoredFlow, anomalies: readonly StoredAnomaly[], day: string): boolean {
  return (
    flow.settlementDate === day ||
    onDay(flow.receivedAt, day) ||
    onDay(flow.updatedAt, day) ||
    anomalies.some((a) => tiedTo(a, flow) && changedOn(a, day))
  );
}

function creditOfTheDay(credit: StoredCredit, day: string): boolean {
  return (
    credit.matchedFlowRowId === null &&
    credit.flowId !== null &&
    (credit.valueDate === day || onDay(credit.importedAt, day))
  );
}

function creditDto(credit: StoredCredit): ReconciliationBankCredit {
  return {
    valueDate: credit.valueDate,
    amountCents: credit.amountCents,
    trn: credit.trn,
    remittanceInformation: credit.remittanceInformation,
    statementId: credit.statementId,
  };
}

/** One ente's report for one day, read from what reconciliation stored. */
export async function dailyReconciliationReport(
  store: Store,
  ente: Ente,
  reportDate: string,
  clock: Clock = () => new Date(),
): Promise<ReconciliationReport> {
  const day = requireDate(reportDate);
  const anomalies = await store.anomalies.list({ enteId: ente.id });
  const flows = (await store.reconciliationFlows.listLatest(ente.id)).filter((f) =>
    flowOfTheDay(f, anomalies, day),
  );
  const views: ReconciliationFlow[] = [];
  for (const flow of flows) views.push(await flowView(store, ente.id, flow.id));
  const credits = (await store.bankStatements.listCredits(ente.id)).filter((c) => creditOfTheDay(c, day));
  const standalone = anomalies.filter(
    (a) => !flows.some((f) => tiedTo(a, f)) && (a.status === 'OPEN' || changedOn(a, day)),
  );
  return {
    enteFiscalCode: ente.fiscalCode,
    reportDate: day,
    reportId: reconciliationReportId(ente.fiscalCode, day),
    generatedAt: clock().toISOString(),
    flows: views,
    unmatchedCredits: credits.map(creditDto),
    anomalies: standalone.map(anomalyDto),
  };
}

/**
 * Sends the day's XML and CSV to a remote out/ folder (each uploaded as `.part` and renamed),
 * replacing an earlier run's; both are built before either is sent. The paths are `sftp://` URLs.
 */
async function pushReconciliationExport(
  folder: RemoteOutFolder,
  report: ReconciliationReport,
  signing: SigningKey | undefined,
): Promise<{ xmlPath: string; csvPath: string }> {
  const names = reconciliationExportNames(report.enteFiscalCode, report.reportDate);
  const xml = buildReconciliationReportXml(report, signing);
  const csv = buildReconciliationReportCsv(report);
  try {
    await folder.writeOut(names.xml, xml);
    await folder.writeOut(names.csv, csv);
  } finally {
    await folder.close();
  }
  return { xmlPath: `${folder.location}/out/${names.xml}`, csvPath: `${folder.location}/out/${names.csv}` };
}

/** Builds and writes one ente's files for the day; the previous run's files are replaced. */
export async function exportEnteReport(
  store: Store,
  ente: Ente,
  options: {
    dataDir: string;
    reportDate: string;
    signing?: SigningKey | null;
    clock?: Clock;
    remoteOutFolderOf?: RemoteOutFolderOf | undefined;
  },
): Promise<EnteExport> {
  const report = await dailyReconciliationReport(store, ente, options.reportDate, options.clock);
  const signing = options.signing ?? undefined;
  const remote = (await options.remoteOutFolderOf?.(store, ente)) ?? null;
  const { xmlPath, csvPath } = remote
    ? await pushReconciliationExport(remote, report, signing)
    : await writeReconciliationExport({
        outDir: enteOutFolder(options.dataDir, ente.fiscalCode),
        report,
        signing,
      });
  return {
    enteFiscalCode: ente.fiscalCode,
    xmlPath,
    csvPath,
    signed: signing !== undefined,
    summary: summarizeReport(report),
    unmatchedCredits: report.unmatchedCredits.length,
    standaloneAnomalies: report.anomalies.length,
  };
}

async function targetEnti(store: Store, enteFiscalCode: string | undefined): Promise<Ente[]> {
  if (enteFiscalCode === undefined) return (await store.enti.list()).filter((e) => e.status === 'active');
  const ente = await store.enti.getByFiscalCode(enteFiscalCode);
  if (!ente) throw domainError('ENTE_UNKNOWN', `no ente ${enteFiscalCode}`, { enteFiscalCode });
  return [ente];
}

/**
 * Writes the day's export of every active ente (or of one, even if no longer active: an operator
 * may want its last days). Returns `locked` without writing when another run holds the lock.
 */
export async function exportReconciliationReports(options: ExportOptions): Promise<ExportResult> {
  const clock = options.clock ?? (() => new Date());
  const reportDate = requireDate(options.date ?? dayBefore(romeDate(clock())));
  const enti = await targetEnti(options.store, options.enteFiscalCode);
  const owner = options.owner ?? `${RECONCILIATION_EXPORT_LOCK}-${randomUUID()}`;
  const exports: EnteExport[] = [];
  const run = await options.store.locks.runExclusive(
    RECONCILIATION_EXPORT_LOCK,
    owner,
    LOCK_TTL_MS,
    async () => {
      for (const ente of enti) {
        exports.push(
          await exportEnteReport(options.store, ente, {
            dataDir: options.dataDir,
            reportDate,
            signing: options.signing,
            clock,
            remoteOutFolderOf: options.remoteOutFolderOf,
          }),
        );
      }
    },
  );
  return { status: run.ran ? 'done' : 'locked', reportDate, exports };
}

/** Plain-text lines for the CLI: one per ente written. */
export function describeExport(result: ExportResult): string {
  if (result.status === 'locked') {
    return `reconciliation export of ${result.reportDate}: another run holds the lock, nothing written\n`;
  }
  const lines = [`reconciliation export of ${result.reportDate}: ${result.exports.length} ente(s)`];
  for (const e of result.exports) {
    const s = e.summary;
    lines.push(
      `  ${e.enteFiscalCode}  flows ${s.flowCount} (reconciled ${s.reconciledFlowCount})  payments ${s.paymentCount}` +
        `  total ${formatAmount(s.totalAmountCents as SignedCents)}  unmatched credits ${e.unmatchedCredits}` +
        `  open anomalies ${s.openAnomalyCount}${e.signed ? '  signed' : ''}`,
    );
    lines.push(`    ${e.xmlPath}`, `    ${e.csvPath}`);
  }
  return `${lines.join('\n')}\n`;
}

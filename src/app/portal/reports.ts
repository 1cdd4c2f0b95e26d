// The portal's reports and chart data (issue 8 item 6): the period a report covers (Italian days,
// at most a year), the three reports (positions created, payments received, reconciliation flows
// and open anomalies) as column definitions over paged reads, their CSV and .xlsx writers, and the
// aggregates the charts and the dashboard show. Money stays integer cents until a file is written.
//
// File conventions (said on the report page too): CSV is UTF-8 with a BOM (so Excel reads the
// accents), `;`, CRLF, a header row; every amount has a cents column (integer) and a euro column
// (`12,30` in CSV, a number formatted `#,##0.00` in .xlsx); instants are Italian local time
// (`YYYY-MM-DD HH:MM:SS` in CSV, date cells in .xlsx), days `YYYY-MM-DD`. A text cell that a
// spreadsheet would read as a formula (it starts with = + - @, a tab or a CR) gets a leading `'`
// in CSV; in .xlsx every text is a string cell, which no spreadsheet evaluates.

import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { romeDayRange } from '../../pagopa/time.ts';
import { romeDate, romeDateTime } from '../../pagopa/time.ts';
import { receiptDetails } from '../callbacks/receiptDetails.ts';
import type {
  AnomalyReportRow,
  DashboardFigures,
  EnteScope,
  FlowReportRow,
  PaymentReportRow,
  PortalReportsRepository,
  PositionReportRow,
  ServicePayments,
} from '../../db/repositories/portalReports.ts';

export const MAX_RANGE_DAYS = 366;
export const DEFAULT_RANGE_DAYS = 30;
export const REPORT_PAGE_SIZE = 500;

// ---------------------------------------------------------------------------------------------
// The period
// ---------------------------------------------------------------------------------------------

/** Italian calendar days, both included, with the stored instants they span. */
export interface ReportRange {
  fromDate: string;
  toDate: string;
  fromIso: string;
  toIso: string;
}

export type RangeParse =
  { ok: true; range: ReportRange } | { ok: false; error: string; fromDate: string; toDate: string };

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function isCalendarDay(value: string): boolean {
  const m = ISO_DAY.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

/** The day `days` after (or before, when negative) a YYYY-MM-DD day. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T12:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function daysBetween(fromDate: string, toDate: string): number {
  return Math.round((Date.parse(`${toDate}T12:00:00Z`) - Date.parse(`${fromDate}T12:00:00Z`)) / 86_400_000);
}

export function rangeOf(fromDate: string, toDate: string): ReportRange {
  return { fromDate, toDate, fromIso: romeDayRange(fromDate).fromIso, toIso: romeDayRange(toDate).toIso };
}

/** The last DEFAULT_RANGE_DAYS Italian days up to today. */
export function defaultRange(now: Date): ReportRange {
  const today = romeDate(now);
  return rangeOf(addDays(today, -(DEFAULT_RANGE_DAYS - 1)), today);
}

/**
 * The period of `dal` and `al` (YYYY-MM-DD, as `<input type="date">` sends them): `al` defaults
 * to today, `dal` to 30 days ending on `al`. Errors are Italian, for the page.
 */
export function parseReportRange(dal: string, al: string, now: Date = new Date()): RangeParse {
  const toDate = al || romeDate(now);
  const fromDate = dal || (isCalendarDay(toDate) ? addDays(toDate, -(DEFAULT_RANGE_DAYS - 1)) : '');
  const fail = (error: string): RangeParse => ({ ok: false, error, fromDate, toDate });
  if (!isCalendarDay(fromDate)) return fail('La data iniziale non è valida (formato AAAA-MM-GG).');
  if (!isCalendarDay(toDate)) return fail('La data finale non è valida (formato AAAA-MM-GG).');
  const days = daysBetween(fromDate, toDate) + 1;
  if (days < 1) return fail('La data iniziale è successiva alla data finale.');
  if (days > MAX_RANGE_DAYS) return fail(`Il periodo non può superare ${MAX_RANGE_DAYS} giorni.`);
  return { ok: true, range: rangeOf(fromDate, toDate) };
}

/** Every Italian day of the range, in order. */
export function daysOf(range: Pick<ReportRange, 'fromDate' | 'toDate'>): string[] {
  const days: string[] = [];
  for (let d = range.fromDate; d <= range.toDate; d = addDays(d, 1)) days.push(d);
  return days;
}

// ---------------------------------------------------------------------------------------------
// Cells
// ---------------------------------------------------------------------------------------------

/**
 * text: neutralised in CSV; int: a whole number; euro: cents in, euro out; date: YYYY-MM-DD;
 * datetime: Italian local `YYYY-MM-DD HH:MM:SS`.
 */
export type ColumnType = 'text' | 'int' | 'euro' | 'date' | 'datetime';

export interface ReportColumn<R> {
  header: string;
  type: ColumnType;
  value: (row: R) => string | number | null;
  /** Width in .xlsx, in characters. */
  width?: number;
}

/** Instant (ISO UTC) → Italian local `YYYY-MM-DD HH:MM:SS`. */
export function romeLocal(iso: string): string {
  const instant = new Date(iso);
  return Number.isNaN(instant.getTime()) ? iso : romeDateTime(instant).replace('T', ' ');
}

const WITH_OFFSET = /(Z|[+-]\d{2}:\d{2})$/;

/** A receipt's paymentDateTime (Italian local time without an offset, or with one) as Italian local time. */
export function paymentLocal(value: string | null): string | null {
  if (value === null) return null;
  if (WITH_OFFSET.test(value)) return romeLocal(value);
  return value.slice(0, 19).replace('T', ' ');
}

const FORMULA_START = /^[=+\-@\t\r]/;

/** A text a spreadsheet would take for a formula, made inert with a leading apostrophe. */
export function neutralise(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** `1230` → `12,30` (no grouping, so a spreadsheet reads it back as a number). */
export function euroText(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)},${String(abs % 100).padStart(2, '0')}`;
}

function csvCell(type: ColumnType, value: string | number | null): string {
  if (value === null || value === '') return '';
  if (type === 'euro') return euroText(Number(value));
  if (type === 'int') return String(value);
  const text = String(value).replace(/\r\n|[\r\n]/g, ' ');
  return type === 'text' ? neutralise(text) : text;
}

/** A local `YYYY-MM-DD[ HH:MM:SS]` as the date cell Excel shows with the same digits. */
function excelDate(value: string): Date | string {
  const stamp = value.length === 10 ? `${value}T00:00:00Z` : `${value.replace(' ', 'T')}Z`;
  const date = new Date(stamp);
  return Number.isNaN(date.getTime()) ? value : date;
}

function xlsxCell(type: ColumnType, value: string | number | null): ExcelJS.CellValue {
  if (value === null || value === '') return null;
  if (type === 'euro') return Number(value) / 100;
  if (type === 'int') return Number(value);
  if (type === 'date' || type === 'datetime') return excelDate(String(value));
  return String(value);
}

const NUMBER_FORMAT: Partial<Record<ColumnType, string>> = {
  euro: '#,##0.00',
  int: '0',
  date: 'dd/mm/yyyy',
  datetime: 'dd/mm/yyyy hh:mm:ss',
};

// ---------------------------------------------------------------------------------------------
// The reports
// ---------------------------------------------------------------------------------------------

export const REPORT_KINDS = ['posizioni', 'pagamenti', 'riconciliazione'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export const REPORT_FORMATS = ['csv', 'xlsx'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportKind(value: string): value is ReportKind {
  return (REPORT_KINDS as readonly string[]).includes(value);
}

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

export interface ReportDefinition<R> {
  kind: ReportKind;
  /** The worksheet's name and the page's label. */
  title: string;
  columns: ReadonlyArray<ReportColumn<R>>;
  pages(repo: PortalReportsRepository, scope: EnteScope, range: ReportRange): AsyncIterable<R[]>;
}

const POSITION_STATUS_LABEL: Record<string, string> = {
  RESERVED: 'Riservata',
  VALID: 'Da pagare',
  PARTIALLY_PAID: 'Pagata in parte',
  PAID: 'Pagata',
  EXPIRED: 'Scaduta',
  CANCELLED: 'Annullata',
  RELEASED: 'Rilasciata',
  REPORTED: 'Rendicontata',
  RECONCILED: 'Riconciliata',
};

const OPTION_STATUS_LABEL: Record<string, string> = {
  UNPAID: 'Da pagare',
  PAID: 'Pagata',
  REPORTED: 'Rendicontata',
  RECONCILED: 'Riconciliata',
};

const FLOW_STATUS_LABEL: Record<string, string> = {
  PENDING: 'In attesa di accredito',
  RECONCILED: 'Riconciliato',
  ANOMALY: 'Con anomalie',
};

const label = (labels: Record<string, string>, value: string): string => labels[value] ?? value;

async function* keysetPages<R>(
  read: (afterId: number) => Promise<R[]>,
  idOf: (row: R) => number,
): AsyncGenerator<R[]> {
  let afterId = 0;
  for (;;) {
    const page = await read(afterId);
    if (page.length === 0) return;
    yield page;
    if (page.length < REPORT_PAGE_SIZE) return;
    afterId = idOf(page[page.length - 1]!);
  }
}

export const POSITIONS_REPORT: ReportDefinition<PositionReportRow> = {
  kind: 'posizioni',
  title: 'Posizioni',
  columns: [
    { header: 'Codice fiscale ente', type: 'text', value: (r) => r.enteFiscalCode, width: 14 },
    { header: 'Servizio', type: 'text', value: (r) => r.serviceCode, width: 12 },
    { header: 'Codice posizione', type: 'text', value: (r) => r.positionId, width: 24 },
    { header: 'Descrizione', type: 'text', value: (r) => r.description, width: 30 },
    { header: 'Stato posizione', type: 'text', value: (r) => label(POSITION_STATUS_LABEL, r.positionStatus) },
    { header: 'Rata (0 = unica)', type: 'int', value: (r) => r.installment },
    { header: 'IUV', type: 'text', value: (r) => r.iuv, width: 20 },
    { header: 'Codice avviso', type: 'text', value: (r) => r.noticeNumber, width: 20 },
    { header: 'Importo (centesimi)', type: 'int', value: (r) => r.amountCents },
    { header: 'Importo (euro)', type: 'euro', value: (r) => r.amountCents },
    { header: 'Scadenza', type: 'date', value: (r) => r.dueDate, width: 12 },
    { header: 'Stato rata', type: 'text', value: (r) => label(OPTION_STATUS_LABEL, r.optionStatus) },
    { header: 'Tipo debitore', type: 'text', value: (r) => r.debtorType },
    { header: 'Codice fiscale debitore', type: 'text', value: (r) => r.debtorFiscalCode, width: 18 },
    { header: 'Debitore', type: 'text', value: (r) => r.debtorFullName, width: 28 },
    { header: 'Email debitore', type: 'text', value: (r) => r.debtorEmail, width: 28 },
    { header: 'Creata il', type: 'datetime', value: (r) => romeLocal(r.createdAt), width: 20 },
  ],
  pages: (repo, scope, range) =>
    keysetPages(
      (afterId) => repo.positionsPage(scope, range, { afterId, limit: REPORT_PAGE_SIZE }),
      (r) => r.optionRowId,
    ),
};

/** A payment row with the payer and PSP read from its receipt document. */
export interface PaymentReportLine extends PaymentReportRow {
  payerFiscalCode: string | null;
  payerFullName: string | null;
  pspName: string | null;
}

function withReceiptDetails(row: PaymentReportRow): PaymentReportLine {
  const details = receiptDetails(row);
  return {
    ...row,
    payerFiscalCode: details.payer?.fiscalCode ?? null,
    payerFullName: details.payer?.fullName ?? null,
    pspName: details.pspName,
  };
}

async function* paymentLines(
  repo: PortalReportsRepository,
  scope: EnteScope,
  range: ReportRange,
): AsyncGenerator<PaymentReportLine[]> {
  const pages = keysetPages(
    (afterId) => repo.paymentsPage(scope, range, { afterId, limit: REPORT_PAGE_SIZE }),
    (r) => r.receiptRowId,
  );
  for await (const page of pages) yield page.map(withReceiptDetails);
}

export const PAYMENTS_REPORT: ReportDefinition<PaymentReportLine> = {
  kind: 'pagamenti',
  title: 'Pagamenti',
  columns: [
    { header: 'Codice fiscale ente', type: 'text', value: (r) => r.enteFiscalCode, width: 14 },
    { header: 'Servizio', type: 'text', value: (r) => r.serviceCode, width: 12 },
    { header: 'Codice posizione', type: 'text', value: (r) => r.positionId, width: 24 },
    { header: 'Rata (0 = unica)', type: 'int', value: (r) => r.installment },
    { header: 'IUV', type: 'text', value: (r) => r.iuv, width: 20 },
    { header: 'Codice avviso', type: 'text', value: (r) => r.noticeNumber, width: 20 },
    { header: 'Importo (centesimi)', type: 'int', value: (r) => r.amountCents },
    { header: 'Importo (euro)', type: 'euro', value: (r) => r.amountCents },
    { header: 'Data pagamento', type: 'datetime', value: (r) => paymentLocal(r.paymentDateTime), width: 20 },
    { header: 'Ricevuta registrata il', type: 'datetime', value: (r) => romeLocal(r.receivedAt), width: 20 },
    { header: 'Identificativo ricevuta', type: 'text', value: (r) => r.receiptId, width: 24 },
    { header: 'PSP', type: 'text', value: (r) => r.pspId, width: 14 },
    { header: 'Nome PSP', type: 'text', value: (r) => r.pspName, width: 24 },
    { header: 'Codice fiscale debitore', type: 'text', value: (r) => r.debtorFiscalCode, width: 18 },
    { header: 'Debitore', type: 'text', value: (r) => r.debtorFullName, width: 28 },
    { header: 'Codice fiscale pagatore', type: 'text', value: (r) => r.payerFiscalCode, width: 18 },
    { header: 'Pagatore', type: 'text', value: (r) => r.payerFullName, width: 28 },
    { header: 'Canale', type: 'text', value: (r) => r.source },
    { header: 'Segnalazione', type: 'text', value: (r) => r.flaggedReason, width: 20 },
  ],
  pages: paymentLines,
};

/** A line of the reconciliation report: a flow of the period, or an open anomaly. */
export type ReconciliationLine =
  { flow: FlowReportRow; anomaly?: never } | { anomaly: AnomalyReportRow; flow?: never };

async function* reconciliationLines(
  repo: PortalReportsRepository,
  scope: EnteScope,
  range: ReportRange,
): AsyncGenerator<ReconciliationLine[]> {
  const flows = keysetPages(
    (afterId) => repo.flowsPage(scope, range, { afterId, limit: REPORT_PAGE_SIZE }),
    (r) => r.flowRowId,
  );
  for await (const page of flows) yield page.map((flow) => ({ flow }));
  const anomalies = keysetPages(
    (afterId) => repo.openAnomaliesPage(scope, { afterId, limit: REPORT_PAGE_SIZE }),
    (r) => r.anomalyRowId,
  );
  for await (const page of anomalies) yield page.map((anomaly) => ({ anomaly }));
}

export const RECONCILIATION_REPORT: ReportDefinition<ReconciliationLine> = {
  kind: 'riconciliazione',
  title: 'Riconciliazione',
  columns: [
    { header: 'Tipo riga', type: 'text', value: (r) => (r.flow ? 'Flusso' : 'Anomalia aperta'), width: 16 },
    {
      header: 'Codice fiscale ente',
      type: 'text',
      value: (r) => r.flow?.enteFiscalCode ?? r.anomaly?.enteFiscalCode ?? null,
      width: 14,
    },
    {
      header: 'Identificativo flusso',
      type: 'text',
      value: (r) => r.flow?.flowId ?? r.anomaly?.flowId ?? null,
      width: 30,
    },
    { header: 'PSP', type: 'text', value: (r) => r.flow?.pspId ?? r.anomaly?.pspId ?? null, width: 14 },
    { header: 'Data regolamento', type: 'date', value: (r) => r.flow?.settlementDate ?? null, width: 12 },
    { header: 'TRN', type: 'text', value: (r) => r.flow?.trn ?? null, width: 24 },
    {
      header: 'Stato',
      type: 'text',
      value: (r) => (r.flow ? label(FLOW_STATUS_LABEL, r.flow.status) : 'Aperta'),
      width: 20,
    },
    { header: 'Pagamenti nel flusso', type: 'int', value: (r) => r.flow?.paymentCount ?? null },
    { header: 'Righe abbinate', type: 'int', value: (r) => r.flow?.matchedLines ?? null },
    { header: 'Righe non abbinate', type: 'int', value: (r) => r.flow?.unmatchedLines ?? null },
    {
      header: 'Importo (centesimi)',
      type: 'int',
      value: (r) => r.flow?.totalAmountCents ?? r.anomaly?.amountCents ?? null,
    },
    {
      header: 'Importo (euro)',
      type: 'euro',
      value: (r) => r.flow?.totalAmountCents ?? r.anomaly?.amountCents ?? null,
    },
    { header: 'Codice anomalia', type: 'text', value: (r) => r.anomaly?.code ?? null, width: 22 },
    { header: 'Descrizione anomalia', type: 'text', value: (r) => r.anomaly?.description ?? null, width: 40 },
    { header: 'IUV', type: 'text', value: (r) => r.anomaly?.iuv ?? null, width: 20 },
    { header: 'Codice avviso', type: 'text', value: (r) => r.anomaly?.noticeNumber ?? null, width: 20 },
    { header: 'Codice posizione', type: 'text', value: (r) => r.anomaly?.positionId ?? null, width: 24 },
    {
      header: 'Importo atteso (centesimi)',
      type: 'int',
      value: (r) => r.anomaly?.expectedAmountCents ?? null,
    },
    {
      header: 'Ricevuto / rilevato il',
      type: 'datetime',
      value: (r) => romeLocal(r.flow?.receivedAt ?? r.anomaly?.detectedAt ?? ''),
      width: 20,
    },
  ],
  pages: reconciliationLines,
};

// A map of the concrete definitions: each keeps its own row type.
const REPORTS = {
  posizioni: POSITIONS_REPORT,
  pagamenti: PAYMENTS_REPORT,
  riconciliazione: RECONCILIATION_REPORT,
};

export function reportDefinition(kind: ReportKind): ReportDefinition<unknown> {
  return REPORTS[kind] as unknown as ReportDefinition<unknown>;
}

/** `posizioni_01234567897_2026-11-01_2026-11-30.csv` (`tutti` for every ente). */
export function reportFileName(
  kind: ReportKind,
  format: ReportFormat,
  enteFiscalCode: string | null,
  range: ReportRange,
): string {
  return `${kind}_${enteFiscalCode ?? 'tutti'}_${range.fromDate}_${range.toDate}.${format}`;
}

// ---------------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------------

const BOM = '\uFEFF';

function csvRecords(records: string[][]): string {
  return stringify(records, { delimiter: ';', record_delimiter: 'windows' });
}

/** The CSV file as chunks (BOM and header first, then a chunk per page): stream them out. */
export async function* csvChunks<R>(
  definition: ReportDefinition<R>,
  pages: AsyncIterable<R[]>,
): AsyncGenerator<string> {
  yield BOM + csvRecords([definition.columns.map((c) => c.header)]);
  for await (const page of pages) {
    if (page.length === 0) continue;
    yield csvRecords(page.map((row) => definition.columns.map((c) => csvCell(c.type, c.value(row)))));
  }
}

/**
 * Writes the .xlsx workbook into `stream` as the pages come (exceljs's streaming writer; a row is
 * committed as soon as it is added). Resolves once the stream has finished.
 */
export async function writeXlsx<R>(
  definition: ReportDefinition<R>,
  pages: AsyncIterable<R[]>,
  stream: Writable,
): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream,
    useSharedStrings: true,
    useStyles: true,
  });
  workbook.creator = 'ppay-connector';
  const sheet = workbook.addWorksheet(definition.title, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = definition.columns.map((c, i) => {
    const numFmt = NUMBER_FORMAT[c.type];
    return {
      header: c.header,
      key: `c${i}`,
      width: c.width ?? Math.max(12, c.header.length + 2),
      ...(numFmt ? { style: { numFmt } } : {}),
    };
  });
  sheet.getRow(1).font = { bold: true };
  sheet.getRow(1).commit();
  for await (const page of pages) {
    for (const row of page) {
      sheet.addRow(definition.columns.map((c) => xlsxCell(c.type, c.value(row)))).commit();
    }
  }
  sheet.commit();
  await workbook.commit();
}

// ---------------------------------------------------------------------------------------------
// Chart data and dashboard figures
// ---------------------------------------------------------------------------------------------

export interface DayPayments {
  date: string;
  count: number;
  amountCents: number;
}

export interface PerDaySeries {
  days: DayPayments[];
  totalCount: number;
  totalCents: number;
}

/** Positive receipts per Italian day of the range (every day listed, zero ones included). */
export async function paymentsPerDay(
  repo: PortalReportsRepository,
  scope: EnteScope,
  range: ReportRange,
): Promise<PerDaySeries> {
  const byDay = new Map(daysOf(range).map((date) => [date, { date, count: 0, amountCents: 0 }]));
  for (const hour of await repo.paymentsPerHour(scope, range)) {
    const day = byDay.get(romeDate(new Date(`${hour.hour}:00:00Z`)));
    if (!day) continue;
    day.count += hour.count;
    day.amountCents += hour.amountCents;
  }
  const days = [...byDay.values()];
  return {
    days,
    totalCount: days.reduce((sum, d) => sum + d.count, 0),
    totalCents: days.reduce((sum, d) => sum + d.amountCents, 0),
  };
}

export function paymentsPerService(
  repo: PortalReportsRepository,
  scope: EnteScope,
  range: ReportRange,
): Promise<ServicePayments[]> {
  return repo.paymentsPerService(scope, range);
}

export interface Dashboard {
  figures: DashboardFigures;
  range: ReportRange;
  perDay: PerDaySeries;
  perService: ServicePayments[];
}

/** The dashboard's figures (today and this month in Italian time) and its charts (last 30 days). */
export async function dashboardOf(
  repo: PortalReportsRepository,
  scope: EnteScope,
  now: Date = new Date(),
): Promise<Dashboard> {
  const today = romeDate(now);
  const todayRange = romeDayRange(today);
  const month = { fromIso: romeDayRange(`${today.slice(0, 8)}01`).fromIso, toIso: todayRange.toIso };
  const range = defaultRange(now);
  const figures = await repo.dashboardFigures(scope, { today: todayRange, month });
  return {
    figures,
    range,
    perDay: await paymentsPerDay(repo, scope, range),
    perService: await paymentsPerService(repo, scope, range),
  };
}

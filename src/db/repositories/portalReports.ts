// Read side of the portal's reports and charts (issue 8 item 6): the options of positions created in
// a time range, the positive receipts received in one, the latest reporting flows settled in a date
// range with their matched / unmatched lines, the open anomalies, the aggregates the charts draw and
// the dashboard's figures. Lists are read in pages (keyset on the row id), never whole; every query
// is scoped to a set of enti (null = every ente, for the connector admin).

import type { Knex } from 'knex';
import type { OptionStatus, PositionStatus } from '../../domain/positionState.ts';
import type { FlowStatus } from '../../reconciliation/matching.ts';
import type { Db } from '../knex.ts';
import { toInt, toIntOrNull } from '../rows.ts';
import type { ReceiptSource } from './receipts.ts';

/** The enti a query may read: their row ids, or null for all. */
export type EnteScope = readonly number[] | null;

/** Stored instants, ISO UTC: [fromIso, toIso). */
export interface InstantRange {
  fromIso: string;
  toIso: string;
}

/** Calendar days YYYY-MM-DD, both included. */
export interface DateRange {
  fromDate: string;
  toDate: string;
}

export interface PageRequest {
  afterId: number;
  limit: number;
}

/** One payment option of a position, with its position, service and ente. */
export interface PositionReportRow {
  optionRowId: number;
  enteFiscalCode: string;
  enteName: string;
  serviceCode: string;
  positionId: string;
  description: string;
  positionStatus: PositionStatus;
  installment: number;
  iuv: string;
  noticeNumber: string | null;
  amountCents: number;
  dueDate: string;
  optionStatus: OptionStatus;
  debtorType: string | null;
  debtorFiscalCode: string | null;
  debtorFullName: string | null;
  debtorEmail: string | null;
  createdAt: string;
}

/** A positive receipt with the option, position and service it pays (null when none has its IUV). */
export interface PaymentReportRow {
  receiptRowId: number;
  enteFiscalCode: string;
  enteName: string;
  serviceCode: string | null;
  positionId: string | null;
  installment: number | null;
  iuv: string;
  noticeNumber: string | null;
  amountCents: number;
  paymentDateTime: string | null;
  pspId: string | null;
  receiptId: string;
  source: ReceiptSource;
  document: string;
  debtorFiscalCode: string | null;
  debtorFullName: string | null;
  flaggedReason: string | null;
  receivedAt: string;
}

/** The latest revision of a reporting flow with how many of its lines were matched. */
export interface FlowReportRow {
  flowRowId: number;
  enteFiscalCode: string;
  flowId: string;
  pspId: string;
  flowDateTime: string;
  settlementDate: string;
  trn: string;
  status: FlowStatus;
  paymentCount: number;
  totalAmountCents: number;
  matchedLines: number;
  unmatchedLines: number;
  receivedAt: string;
}

export interface AnomalyReportRow {
  anomalyRowId: number;
  enteFiscalCode: string;
  code: string;
  description: string | null;
  flowId: string | null;
  pspId: string | null;
  iuv: string | null;
  noticeNumber: string | null;
  positionId: string | null;
  amountCents: number | null;
  expectedAmountCents: number | null;
  detectedAt: string;
}

/** Positive receipts received in one UTC hour (`YYYY-MM-DDTHH`): Italian days are whole UTC hours. */
export interface HourlyPayments {
  hour: string;
  count: number;
  amountCents: number;
}

/** Positive receipts of one service (serviceId null: receipts of no known position). */
export interface ServicePayments {
  serviceId: number | null;
  serviceCode: string | null;
  serviceDescription: string | null;
  enteName: string | null;
  count: number;
  amountCents: number;
}

export interface DashboardFigures {
  openPositions: number;
  paymentsToday: number;
  amountTodayCents: number;
  amountThisMonthCents: number;
  openAnomalies: number;
  failingMessages: number;
}

type Num = number | string;

interface PositionReportDbRow {
  option_row_id: Num;
  ente_fiscal_code: string;
  ente_name: string;
  service_code: string;
  gestionale_position_id: string;
  position_description: string;
  position_status: PositionStatus;
  installment: Num;
  iuv: string;
  notice_number: string | null;
  amount_cents: Num;
  due_date: string;
  option_status: OptionStatus;
  debtor_type: string | null;
  debtor_fiscal_code: string | null;
  debtor_full_name: string | null;
  debtor_email: string | null;
  created_at: string;
}

interface PaymentReportDbRow {
  receipt_row_id: Num;
  ente_fiscal_code: string;
  ente_name: string;
  service_code: string | null;
  gestionale_position_id: string | null;
  installment: Num | null;
  iuv: string;
  receipt_notice_number: string | null;
  option_notice_number: string | null;
  amount_cents: Num;
  payment_date_time: string | null;
  psp_id: string | null;
  receipt_id: string;
  source: ReceiptSource;
  document: string;
  debtor_fiscal_code: string | null;
  debtor_full_name: string | null;
  flagged_reason: string | null;
  received_at: string;
}

interface FlowReportDbRow {
  flow_row_id: Num;
  ente_fiscal_code: string;
  flow_id: string;
  psp_id: string;
  flow_date_time: string;
  settlement_date: string;
  trn: string;
  status: FlowStatus;
  payment_count: Num;
  total_amount_cents: Num;
  matched_lines: Num | null;
  unmatched_lines: Num | null;
  received_at: string;
}

interface AnomalyReportDbRow {
  anomaly_row_id: Num;
  ente_fiscal_code: string;
  code: string;
  description: string | null;
  flow_id: string | null;
  psp_id: string | null;
  iuv: string | null;
  notice_number: string | null;
  position_id: string | null;
  amount_cents: Num | null;
  expected_amount_cents: Num | null;
  detected_at: string;
}

/** Positions an operator still waits to be paid. */
const OPEN_POSITION_STATUSES: readonly PositionStatus[] = ['VALID', 'PARTIALLY_PAID', 'EXPIRED'];

function scoped<T extends Knex.QueryBuilder>(query: T, column: string, scope: EnteScope): T {
  return scope === null ? query : (query.whereIn(column, [...scope]) as T);
}

function countOf(row: { n?: Num | null } | undefined): number {
  return row?.n === undefined || row.n === null ? 0 : toInt(row.n);
}

export function createPortalReportsRepository(db: Db) {
  /** Positive receipts of the scope received in the range, joined to what they pay. */
  const positiveReceipts = (scope: EnteScope, range: InstantRange) =>
    scoped(
      db('receipts as r')
        .leftJoin('payment_options as o', (on) => on.on('o.ente_id', 'r.ente_id').andOn('o.iuv', 'r.iuv'))
        .leftJoin('positions as p', 'p.id', 'o.position_id')
        .leftJoin('services as s', 's.id', 'p.service_id')
        .where('r.outcome', 'OK')
        .andWhere('r.received_at', '>=', range.fromIso)
        .andWhere('r.received_at', '<', range.toIso),
      'r.ente_id',
      scope,
    );

  /**
   * Callbacks that failed: dead letters, and pending ones whose last attempt failed (a replayed
   * dead letter starts again from 0 attempts). A message names its ente only in its JSON payload
   * (every callback carries enteFiscalCode), so an operator's are found there.
   */
  const countFailingOutbox = async (scope: EnteScope): Promise<number> => {
    const failing = db('outbox').where((w) =>
      w
        .where('status', 'DEAD')
        .orWhere((p) => p.where('status', 'PENDING').andWhere('attempts', '>', 0).whereNotNull('last_error')),
    );
    if (scope !== null) {
      const codes: Array<{ fiscal_code: string }> = await db('enti')
        .whereIn('id', [...scope])
        .select('fiscal_code');
      if (codes.length === 0) return 0;
      failing.andWhere((w) => {
        for (const { fiscal_code } of codes)
          w.orWhere('payload', 'like', `%"enteFiscalCode":"${fiscal_code}"%`);
      });
    }
    return countOf((await failing.count('* as n').first()) as { n?: Num } | undefined);
  };

  return {
    /** One page of the options of positions created in the range, by option row id. */
    async positionsPage(
      scope: EnteScope,
      range: InstantRange,
      page: PageRequest,
    ): Promise<PositionReportRow[]> {
      const rows: PositionReportDbRow[] = await scoped(
        db('payment_options as o')
          .join('positions as p', 'p.id', 'o.position_id')
          .join('services as s', 's.id', 'p.service_id')
          .join('enti as e', 'e.id', 'p.ente_id')
          .where('p.created_at', '>=', range.fromIso)
          .andWhere('p.created_at', '<', range.toIso)
          .andWhere('o.id', '>', page.afterId),
        'p.ente_id',
        scope,
      )
        .select(
          'o.id as option_row_id',
          'e.fiscal_code as ente_fiscal_code',
          'e.name as ente_name',
          's.code as service_code',
          'p.position_id as gestionale_position_id',
          'p.description as position_description',
          'p.status as position_status',
          'o.installment',
          'o.iuv',
          'o.notice_number',
          'o.amount_cents',
          'o.due_date',
          'o.status as option_status',
          'p.debtor_type',
          'p.debtor_fiscal_code',
          'p.debtor_full_name',
          'p.debtor_email',
          'p.created_at',
        )
        .orderBy('o.id')
        .limit(page.limit);
      return rows.map((row) => ({
        optionRowId: toInt(row.option_row_id),
        enteFiscalCode: row.ente_fiscal_code,
        enteName: row.ente_name,
        serviceCode: row.service_code,
        positionId: row.gestionale_position_id,
        description: row.position_description,
        positionStatus: row.position_status,
        installment: toInt(row.installment),
        iuv: row.iuv,
        noticeNumber: row.notice_number,
        amountCents: toInt(row.amount_cents),
        dueDate: row.due_date,
        optionStatus: row.option_status,
        debtorType: row.debtor_type,
        debtorFiscalCode: row.debtor_fiscal_code,
        debtorFullName: row.debtor_full_name,
        debtorEmail: row.debtor_email,
        createdAt: row.created_at,
      }));
    },

    /** One page of the positive receipts received in the range, by receipt row id. */
    async paymentsPage(
      scope: EnteScope,
      range: InstantRange,
      page: PageRequest,
    ): Promise<PaymentReportRow[]> {
      const rows: PaymentReportDbRow[] = await positiveReceipts(scope, range)
        .join('enti as e', 'e.id', 'r.ente_id')
        .andWhere('r.id', '>', page.afterId)
        .select(
          'r.id as receipt_row_id',
          'e.fiscal_code as ente_fiscal_code',
          'e.name as ente_name',
          's.code as service_code',
          'p.position_id as gestionale_position_id',
          'o.installment',
          'r.iuv',
          'r.notice_number as receipt_notice_number',
          'o.notice_number as option_notice_number',
          'r.amount_cents',
          'r.payment_date_time',
          'r.psp_id',
          'r.receipt_id',
          'r.source',
          'r.document',
          'p.debtor_fiscal_code',
          'p.debtor_full_name',
          'r.flagged_reason',
          'r.received_at',
        )
        .orderBy('r.id')
        .limit(page.limit);
      return rows.map((row) => ({
        receiptRowId: toInt(row.receipt_row_id),
        enteFiscalCode: row.ente_fiscal_code,
        enteName: row.ente_name,
        serviceCode: row.service_code,
        positionId: row.gestionale_position_id,
        installment: toIntOrNull(row.installment),
        iuv: row.iuv,
        noticeNumber: row.receipt_notice_number ?? row.option_notice_number,
        amountCents: toInt(row.amount_cents),
        paymentDateTime: row.payment_date_time,
        pspId: row.psp_id,
        receiptId: row.receipt_id,
        source: row.source,
        document: row.document,
        debtorFiscalCode: row.debtor_fiscal_code,
        debtorFullName: row.debtor_full_name,
        flaggedReason: row.flagged_reason,
        receivedAt: row.received_at,
      }));
    },

    /** One page of the latest flows settled in the date range, by flow row id. */
    async flowsPage(scope: EnteScope, range: DateRange, page: PageRequest): Promise<FlowReportRow[]> {
      const lineCount = (status: 'MATCHED' | 'UNMATCHED') =>
        db('reconciliation_flow_lines as l')
          .whereRaw('l.flow_row_id = f.id')
          .andWhere('l.status', status)
          .count('* as n');
      const rows: FlowReportDbRow[] = await scoped(
        db('reconciliation_flows as f')
          .join('enti as e', 'e.id', 'f.ente_id')
          .where('f.is_latest', true)
          .andWhere('f.settlement_date', '>=', range.fromDate)
          .andWhere('f.settlement_date', '<=', range.toDate)
          .andWhere('f.id', '>', page.afterId),
        'f.ente_id',
        scope,
      )
        .select(
          'f.id as flow_row_id',
          'e.fiscal_code as ente_fiscal_code',
          'f.flow_id',
          'f.psp_id',
          'f.flow_date_time',
          'f.settlement_date',
          'f.trn',
          'f.status',
          'f.payment_count',
          'f.total_amount_cents',
          'f.received_at',
          lineCount('MATCHED').as('matched_lines'),
          lineCount('UNMATCHED').as('unmatched_lines'),
        )
        .orderBy('f.id')
        .limit(page.limit);
      return rows.map((row) => ({
        flowRowId: toInt(row.flow_row_id),
        enteFiscalCode: row.ente_fiscal_code,
        flowId: row.flow_id,
        pspId: row.psp_id,
        flowDateTime: row.flow_date_time,
        settlementDate: row.settlement_date,
        trn: row.trn,
        status: row.status,
        paymentCount: toInt(row.payment_count),
        totalAmountCents: toInt(row.total_amount_cents),
        matchedLines: toIntOrNull(row.matched_lines) ?? 0,
        unmatchedLines: toIntOrNull(row.unmatched_lines) ?? 0,
        receivedAt: row.received_at,
      }));
    },

    /** One page of the open anomalies of the scope, by row id. */
    async openAnomaliesPage(scope: EnteScope, page: PageRequest): Promise<AnomalyReportRow[]> {
      const rows: AnomalyReportDbRow[] = await scoped(
        db('reconciliation_anomalies as a')
          .join('enti as e', 'e.id', 'a.ente_id')
          .where('a.status', 'OPEN')
          .andWhere('a.id', '>', page.afterId),
        'a.ente_id',
        scope,
      )
        .select(
          'a.id as anomaly_row_id',
          'e.fiscal_code as ente_fiscal_code',
          'a.code',
          'a.description',
          'a.flow_id',
          'a.psp_id',
          'a.iuv',
          'a.notice_number',
          'a.position_id',
          'a.amount_cents',
          'a.expected_amount_cents',
          'a.detected_at',
        )
        .orderBy('a.id')
        .limit(page.limit);
      return rows.map((row) => ({
        anomalyRowId: toInt(row.anomaly_row_id),
        enteFiscalCode: row.ente_fiscal_code,
        code: row.code,
        description: row.description,
        flowId: row.flow_id,
        pspId: row.psp_id,
        iuv: row.iuv,
        noticeNumber: row.notice_number,
        positionId: row.position_id,
        amountCents: toIntOrNull(row.amount_cents),
        expectedAmountCents: toIntOrNull(row.expected_amount_cents),
        detectedAt: row.detected_at,
      }));
    },

    /**
     * Positive receipts per UTC hour of the range (at most 24 × 366 groups): the caller folds the
     * hours into Italian days, which start on a whole UTC hour whatever the season.
     */
    async paymentsPerHour(scope: EnteScope, range: InstantRange): Promise<HourlyPayments[]> {
      const rows = (await positiveReceipts(scope, range)
        .select(db.raw('substr(r.received_at, 1, 13) as hour'))
        .count('* as n')
        .sum('r.amount_cents as cents')
        .groupByRaw('substr(r.received_at, 1, 13)')
        .orderBy('hour')) as Array<{ hour: string; n: Num; cents: Num | null }>;
      return rows.map((row) => ({
        hour: row.hour,
        count: toInt(row.n),
        amountCents: toIntOrNull(row.cents) ?? 0,
      }));
    },

    /** Positive receipts of the range per service, the largest amount first. */
    async paymentsPerService(scope: EnteScope, range: InstantRange): Promise<ServicePayments[]> {
      const rows: Array<{
        service_id: Num | null;
        service_code: string | null;
        service_description: string | null;
        ente_name: string | null;
        n: Num;
        cents: Num | null;
      }> = await positiveReceipts(scope, range)
        .leftJoin('enti as e', 'e.id', 's.ente_id')
        .select(
          's.id as service_id',
          's.code as service_code',
          's.description as service_description',
          'e.name as ente_name',
        )
        .count('* as n')
        .sum('r.amount_cents as cents')
        .groupBy('s.id', 's.code', 's.description', 'e.name');
      return rows
        .map((row) => ({
          serviceId: toIntOrNull(row.service_id),
          serviceCode: row.service_code,
          serviceDescription: row.service_description,
          enteName: row.ente_name,
          count: toInt(row.n),
          amountCents: toIntOrNull(row.cents) ?? 0,
        }))
        .sort(
          (a, b) => b.amountCents - a.amountCents || (a.serviceCode ?? '').localeCompare(b.serviceCode ?? ''),
        );
    },

    /** The dashboard's figures for the scope: today and this month are ranges of stored instants. */
    async dashboardFigures(
      scope: EnteScope,
      periods: { today: InstantRange; month: InstantRange },
    ): Promise<DashboardFigures> {
      const open = await scoped(db('positions'), 'ente_id', scope)
        .whereIn('status', [...OPEN_POSITION_STATUSES])
        .count('* as n')
        .first();
      const today = await positiveReceipts(scope, periods.today)
        .count('* as n')
        .sum('r.amount_cents as cents')
        .first();
      const month = await positiveReceipts(scope, periods.month).sum('r.amount_cents as cents').first();
      const anomalies = await scoped(db('reconciliation_anomalies'), 'ente_id', scope)
        .where('status', 'OPEN')
        .count('* as n')
        .first();
      const cents = (row: { cents?: Num | null } | undefined) =>
        row?.cents === undefined || row.cents === null ? 0 : toInt(row.cents);
      return {
        openPositions: countOf(open),
        paymentsToday: countOf(today),
        amountTodayCents: cents(today),
        amountThisMonthCents: cents(month),
        openAnomalies: countOf(anomalies),
        failingMessages: await countFailingOutbox(scope),
      };
    },
  };
}

export type PortalReportsRepository = ReturnType<typeof createPortalReportsRepository>;

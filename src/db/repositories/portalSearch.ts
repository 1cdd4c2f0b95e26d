// The portal's monitoring searches (issue 8 item 5): debt positions, collected payments (receipts)
// and outbox messages, filtered, scoped to the enti a user may see and paged newest first; plus the
// small look-ups the result pages need (a receipt's reporting flow, a line's position, PSPs seen).
// Plain SQL that reads the same on SQLite and PostgreSQL: text timestamps, lower() LIKE, no ILIKE.

import type { Knex } from 'knex';
import type { PositionStatus } from '../../domain/positionState.ts';
import type { FlowStatus } from '../../reconciliation/matching.ts';
import type { Db } from '../knex.ts';
import { chunk, toInt, toIntOrNull } from '../rows.ts';
import { toMessage, type OutboxMessage, type OutboxRow, type OutboxStatus } from './outbox.ts';
import { toReceipt, type Receipt, type ReceiptRow } from './receipts.ts';

export interface Paging {
  limit: number;
  offset: number;
}

export interface SearchPage<T> {
  rows: T[];
  /** Every row the filters match, for the pagination. */
  total: number;
}

/** The enti whose rows a search may return: null = all (an admin), [] = none. */
export type EnteScope = readonly number[] | null;

export interface PositionSearch extends Paging {
  enteIds: EnteScope;
  /** Of any of the position's options. */
  noticeNumber?: string | undefined;
  iuv?: string | undefined;
  /** A fiscal code (exact, any case) or part of the debtor's name (any case). */
  debtor?: string | undefined;
  positionId?: string | undefined;
  serviceCode?: string | undefined;
  status?: PositionStatus | undefined;
  /** Creation instants, ISO-8601 UTC: from inclusive, to exclusive. */
  createdFrom?: string | undefined;
  createdTo?: string | undefined;
}

export interface PositionSearchRow {
  /** The positions table row id (the portal's URLs use it). */
  id: number;
  enteId: number;
  enteFiscalCode: string;
  enteName: string;
  serviceCode: string;
  positionId: string;
  status: PositionStatus;
  description: string;
  debtorFiscalCode: string | null;
  debtorFullName: string | null;
  createdAt: string;
  /** The single payment's amount (installment 0), or the installments' sum when there is none. */
  amountCents: number;
  installments: number;
  /** The single payment's notice number, else the first installment's. */
  noticeNumber: string | null;
}

export type ReceiptOutcomeFilter = 'OK' | 'KO' | 'FLAGGED';
/** Where a receipt stands in reconciliation: in no flow yet, in a flow, in a reconciled flow. */
export type ReceiptReconciliation = 'NOT_REPORTED' | 'REPORTED' | 'RECONCILED';

export interface PaymentSearch extends Paging {
  enteIds: EnteScope;
  /** The receipt's or its option's notice number. */
  noticeNumber?: string | undefined;
  iuv?: string | undefined;
  /** The position's debtor (fiscal code exact or name contains) or, for a fiscal code, the receipt's payer. */
  party?: string | undefined;
  outcome?: ReceiptOutcomeFilter | undefined;
  reconciliation?: ReceiptReconciliation | undefined;
  pspId?: string | undefined;
  /** Payment days, YYYY-MM-DD (as the receipt writes its date): from inclusive, to exclusive. */
  paidFrom?: string | undefined;
  paidTo?: string | undefined;
}

export interface PaymentSearchRow {
  receipt: Receipt;
  enteFiscalCode: string;
  enteName: string;
  /** The position the receipt paid (null for a receipt of no known option). */
  positionRowId: number | null;
  positionId: string | null;
  serviceCode: string | null;
  installment: number | null;
  optionNoticeNumber: string | null;
  debtorFiscalCode: string | null;
  debtorFullName: string | null;
}

/** The latest reporting flow whose matched line names a receipt. */
export interface ReceiptFlowLink {
  flowRowId: number;
  flowId: string;
  flowStatus: FlowStatus;
}

export interface OutboxSearch extends Paging {
  /** Fiscal codes of the enti whose messages may be listed: null = all. */
  enteFiscalCodes: readonly string[] | null;
  status?: OutboxStatus | undefined;
}

/** LIKE pattern for "contains", with the user's own % and _ taken literally (escape character !). */
function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

const FISCAL_CODE_LIKE = /^[A-Za-z0-9]{11}$|^[A-Za-z0-9]{16}$/;

function scoped(query: Knex.QueryBuilder, column: string, enteIds: EnteScope): void {
  if (enteIds !== null) query.whereIn(column, [...enteIds]);
}

interface PositionListRow {
  id: number | string;
  ente_id: number | string;
  fiscal_code: string;
  ente_name: string;
  service_code: string;
  position_id: string;
  status: PositionStatus;
  description: string;
  debtor_fiscal_code: string | null;
  debtor_full_name: string | null;
  created_at: string;
}

interface OptionSummaryRow {
  position_id: number | string;
  installment: number | string;
  notice_number: string | null;
  amount_cents: number | string;
}

interface PaymentListRow extends ReceiptRow {
  fiscal_code: string;
  ente_name: string;
  position_row_id: number | string | null;
  gestionale_position_id: string | null;
  service_code: string | null;
  installment: number | string | null;
  option_notice_number: string | null;
  debtor_fiscal_code: string | null;
  debtor_full_name: string | null;
}

/** The ente fiscal code a callback payload names (every callback's header carries one). */
export function enteFiscalCodeOfPayload(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const value = (payload as Record<string, unknown>).enteFiscalCode;
  return typeof value === 'string' ? value : null;
}

export function createPortalSearch(db: Db) {
  const positionsQuery = (search: PositionSearch) => {
    const query = db('positions as p')
      .join('enti as e', 'e.id', 'p.ente_id')
      .join('services as s', 's.id', 'p.service_id');
    scoped(query, 'p.ente_id', search.enteIds);
    const optionHas = (column: string, value: string) =>
      query.whereExists(
        db('payment_options as o')
          .select(db.raw('1'))
          .whereRaw('?? = ??', ['o.position_id', 'p.id'])
          .where(column, value),
      );
    if (search.noticeNumber) optionHas('o.notice_number', search.noticeNumber);
    if (search.iuv) optionHas('o.iuv', search.iuv);
    if (search.positionId) query.where('p.position_id', search.positionId);
    if (search.serviceCode) query.where('s.code', search.serviceCode);
    if (search.status) query.where('p.status', search.status);
    if (search.createdFrom) query.where('p.created_at', '>=', search.createdFrom);
    if (search.createdTo) query.where('p.created_at', '<', search.createdTo);
    const debtor = search.debtor;
    if (debtor) {
      query.where((w) => {
        w.whereRaw("lower(p.debtor_full_name) like ? escape '!'", [containsPattern(debtor)]);
        if (FISCAL_CODE_LIKE.test(debtor)) w.orWhere('p.debtor_fiscal_code', debtor.toUpperCase());
      });
    }
    return query;
  };

  const optionSummaries = async (positionIds: readonly number[]): Promise<OptionSummaryRow[]> => {
    if (positionIds.length === 0) return [];
    return db('payment_options')
      .whereIn('position_id', [...positionIds])
      .orderBy([{ column: 'position_id' }, { column: 'installment' }])
      .select('position_id', 'installment', 'notice_number', 'amount_cents');
  };

  const paymentsQuery = (search: PaymentSearch) => {
    const day = db.raw('coalesce(r.payment_date_time, r.received_at)');
    const query = db('receipts as r')
      .join('enti as e', 'e.id', 'r.ente_id')
      .leftJoin('payment_options as o', 'o.id', 'r.option_id')
      .leftJoin('positions as p', 'p.id', 'o.position_id')
      .leftJoin('services as s', 's.id', 'p.service_id');
    scoped(query, 'r.ente_id', search.enteIds);
    const notice = search.noticeNumber;
    if (notice) query.where((w) => w.where('r.notice_number', notice).orWhere('o.notice_number', notice));
    if (search.iuv) query.where('r.iuv', search.iuv);
    if (search.pspId) query.where('r.psp_id', search.pspId);
    if (search.paidFrom) query.where(day, '>=', search.paidFrom);
    if (search.paidTo) query.where(day, '<', search.paidTo);
    if (search.outcome === 'FLAGGED') query.whereNotNull('r.flagged_reason');
    else if (search.outcome) query.where('r.outcome', search.outcome);
    const party = search.party;
    if (party) {
      query.where((w) => {
        w.whereRaw("lower(p.debtor_full_name) like ? escape '!'", [containsPattern(party)]);
        if (FISCAL_CODE_LIKE.test(party)) {
          const code = party.toUpperCase();
          // The payer is only in the stored receipt XML: a fiscal code is a whole element's text there.
          w.orWhere('p.debtor_fiscal_code', code).orWhere('r.document', 'like', `%>${code}<%`);
        }
      });
    }
    if (search.reconciliation) {
      const inFlow = (status: 'any' | 'reconciled' | 'not-reconciled') => {
        const sub = db('reconciliation_flow_lines as l')
          .join('reconciliation_flows as f', 'f.id', 'l.flow_row_id')
          .select(db.raw('1'))
          .whereRaw('?? = ??', ['l.receipt_row_id', 'r.id'])
          .where('f.is_latest', true);
        if (status === 'reconciled') sub.where('f.status', 'RECONCILED');
        if (status === 'not-reconciled') sub.whereNot('f.status', 'RECONCILED');
        return sub;
      };
      if (search.reconciliation === 'NOT_REPORTED') query.whereNotExists(inFlow('any'));
      if (search.reconciliation === 'RECONCILED') query.whereExists(inFlow('reconciled'));
      if (search.reconciliation === 'REPORTED')
        query.whereExists(inFlow('not-reconciled')).whereNotExists(inFlow('reconciled'));
    }
    return query;
  };

  const outboxQuery = (search: OutboxSearch) => {
    const query = db('outbox');
    const codes = search.enteFiscalCodes;
    if (codes !== null) {
      // A prefilter on the payload text: the page keeps only rows whose parsed header names the ente.
      if (codes.length === 0) query.whereRaw('1 = 0');
      else
        query.where((w) => {
          for (const code of codes) w.orWhere('payload', 'like', `%"enteFiscalCode":"${code}"%`);
        });
    }
    if (search.status) query.where('status', search.status);
    return query;
  };

  const countOf = async (query: Knex.QueryBuilder): Promise<number> => {
    const [row] = (await query.count({ n: '*' })) as Array<{ n: number | string }>;
    return toInt(row?.n ?? 0);
  };

  return {
    async searchPositions(search: PositionSearch): Promise<SearchPage<PositionSearchRow>> {
      if (search.enteIds?.length === 0) return { rows: [], total: 0 };
      const total = await countOf(positionsQuery(search));
      const rows: PositionListRow[] = await positionsQuery(search)
        .select(
          'p.id',
          'p.ente_id',
          'e.fiscal_code',
          'e.name as ente_name',
          's.code as service_code',
          'p.position_id',
          'p.status',
          'p.description',
          'p.debtor_fiscal_code',
          'p.debtor_full_name',
          'p.created_at',
        )
        .orderBy([
          { column: 'p.created_at', order: 'desc' },
          { column: 'p.id', order: 'desc' },
        ])
        .limit(search.limit)
        .offset(search.offset);
      const options = await optionSummaries(rows.map((r) => toInt(r.id)));
      return {
        total,
        rows: rows.map((r) => {
          const id = toInt(r.id);
          const own = options.filter((o) => toInt(o.position_id) === id);
          const single = own.find((o) => toInt(o.installment) === 0);
          const amountCents = single
            ? toInt(single.amount_cents)
            : own.reduce((sum, o) => sum + toInt(o.amount_cents), 0);
          return {
            id,
            enteId: toInt(r.ente_id),
            enteFiscalCode: r.fiscal_code,
            enteName: r.ente_name,
            serviceCode: r.service_code,
            positionId: r.position_id,
            status: r.status,
            description: r.description,
            debtorFiscalCode: r.debtor_fiscal_code,
            debtorFullName: r.debtor_full_name,
            createdAt: r.created_at,
            amountCents,
            installments: own.filter((o) => toInt(o.installment) > 0).length,
            noticeNumber: (single ?? own[0])?.notice_number ?? null,
          };
        }),
      };
    },

    async searchPayments(search: PaymentSearch): Promise<SearchPage<PaymentSearchRow>> {
      if (search.enteIds?.length === 0) return { rows: [], total: 0 };
      const total = await countOf(paymentsQuery(search));
      const rows: PaymentListRow[] = await paymentsQuery(search)
        .select(
          'r.*',
          'e.fiscal_code',
          'e.name as ente_name',
          'p.id as position_row_id',
          'p.position_id as gestionale_position_id',
          's.code as service_code',
          'o.installment',
          'o.notice_number as option_notice_number',
          'p.debtor_fiscal_code',
          'p.debtor_full_name',
        )
        .orderByRaw('coalesce(r.payment_date_time, r.received_at) desc, r.id desc')
        .limit(search.limit)
        .offset(search.offset);
      return {
        total,
        rows: rows.map((r) => ({
          receipt: toReceipt(r),
          enteFiscalCode: r.fiscal_code,
          enteName: r.ente_name,
          positionRowId: toIntOrNull(r.position_row_id),
          positionId: r.gestionale_position_id,
          serviceCode: r.service_code,
          installment: toIntOrNull(r.installment),
          optionNoticeNumber: r.option_notice_number,
          debtorFiscalCode: r.debtor_fiscal_code,
          debtorFullName: r.debtor_full_name,
        })),
      };
    },

    /** For each receipt, the latest flow that reports it on a matched line (absent: in no flow). */
    async flowsOfReceipts(receiptIds: readonly number[]): Promise<Map<number, ReceiptFlowLink>> {
      const links = new Map<number, ReceiptFlowLink>();
      for (const part of chunk(receiptIds, 500)) {
        const rows: Array<{
          receipt_row_id: number | string;
          flow_row_id: number | string;
          flow_id: string;
          status: FlowStatus;
        }> = await db('reconciliation_flow_lines as l')
          .join('reconciliation_flows as f', 'f.id', 'l.flow_row_id')
          .whereIn('l.receipt_row_id', [...part])
          .where('f.is_latest', true)
          .orderBy('f.id')
          .select('l.receipt_row_id', 'l.flow_row_id', 'f.flow_id', 'f.status');
        for (const r of rows) {
          links.set(toInt(r.receipt_row_id), {
            flowRowId: toInt(r.flow_row_id),
            flowId: r.flow_id,
            flowStatus: r.status,
          });
        }
      }
      return links;
    },

    /** `<enteId>|<iuv>` of the given IUVs that have an open reconciliation anomaly. */
    async iuvsWithOpenAnomalies(enteIds: EnteScope, iuvs: readonly string[]): Promise<Set<string>> {
      const found = new Set<string>();
      for (const part of chunk([...new Set(iuvs)], 500)) {
        const query = db('reconciliation_anomalies').where('status', 'OPEN').whereIn('iuv', part);
        scoped(query, 'ente_id', enteIds);
        const rows: Array<{ ente_id: number | string; iuv: string }> = await query.select('ente_id', 'iuv');
        for (const r of rows) found.add(`${toInt(r.ente_id)}|${r.iuv}`);
      }
      return found;
    },

    /** The position row id of each payment option given. */
    async positionsOfOptions(optionIds: readonly number[]): Promise<Map<number, number>> {
      const map = new Map<number, number>();
      for (const part of chunk([...new Set(optionIds)], 500)) {
        const rows: Array<{ id: number | string; position_id: number | string }> = await db('payment_options')
          .whereIn('id', part)
          .select('id', 'position_id');
        for (const r of rows) map.set(toInt(r.id), toInt(r.position_id));
      }
      return map;
    },

    /** The PSPs that sent receipts to the enti, for the payments filter. */
    async pspsOfReceipts(enteIds: EnteScope): Promise<string[]> {
      if (enteIds?.length === 0) return [];
      const query = db('receipts').whereNotNull('psp_id').distinct('psp_id').orderBy('psp_id');
      scoped(query, 'ente_id', enteIds);
      const rows: Array<{ psp_id: string }> = await query;
      return rows.map((r) => r.psp_id);
    },

    /** The service codes of the enti, for the positions filter. */
    async serviceCodes(enteIds: EnteScope): Promise<string[]> {
      if (enteIds?.length === 0) return [];
      const query = db('services').distinct('code').orderBy('code');
      scoped(query, 'ente_id', enteIds);
      const rows: Array<{ code: string }> = await query;
      return rows.map((r) => r.code);
    },

    /**
     * Outbox messages of the enti, newest first. A row is the ente's when its payload's header
     * names the ente's fiscal code; rows whose parsed header says otherwise are left out of the page.
     */
    async searchOutbox(search: OutboxSearch): Promise<SearchPage<OutboxMessage>> {
      const total = await countOf(outboxQuery(search));
      const rows: OutboxRow[] = await outboxQuery(search)
        .select('*')
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(search.limit)
        .offset(search.offset);
      const codes = search.enteFiscalCodes;
      const messages = rows.map(toMessage);
      return {
        total,
        rows:
          codes === null
            ? messages
            : messages.filter((m) => codes.includes(enteFiscalCodeOfPayload(m.payload) ?? '')),
      };
    },
  };
}

export type PortalSearch = ReturnType<typeof createPortalSearch>;

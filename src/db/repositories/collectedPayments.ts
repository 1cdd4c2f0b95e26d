// Read side of the outcomes operations (getReceipt, listPayments): stored receipts joined to the
// option, position and service they paid. A collected payment is a positive receipt applied to an
// option of one of the ente's positions; its day is the Italian date the receipt carries
// (paymentDateTime is local time as pagoPA writes it), or the day it was received when it has none.

import type { Db } from '../knex.ts';
import { toInt, toIntOrNull } from '../rows.ts';
import type { ReceiptOutcome, ReceiptSource } from './receipts.ts';

export interface StoredReceiptRow {
  id: number;
  enteId: number;
  iuv: string;
  receiptId: string;
  noticeNumber: string | null;
  ccp: string | null;
  source: ReceiptSource;
  outcome: ReceiptOutcome;
  amountCents: number;
  paymentDateTime: string | null;
  pspId: string | null;
  document: string;
  optionId: number | null;
  receivedAt: string;
}

/** A positive receipt with the position it paid, as listPayments answers it. */
export interface CollectedPayment {
  receipt: StoredReceiptRow;
  serviceCode: string;
  /** The gestionale's positionId. */
  positionId: string;
  installment: number;
  optionIuv: string;
  optionNoticeNumber: string | null;
}

export interface CollectedPaymentsQuery {
  enteId: number;
  serviceIds: readonly number[];
  /** Inclusive, YYYY-MM-DD. */
  fromDate: string;
  /** Exclusive, YYYY-MM-DD (the day after the last one asked for). */
  toDateExclusive: string;
  limit: number;
  offset: number;
}

interface ReceiptColumns {
  id: number | string;
  ente_id: number | string;
  iuv: string;
  receipt_id: string;
  notice_number: string | null;
  ccp: string | null;
  source: ReceiptSource;
  outcome: ReceiptOutcome;
  amount_cents: number | string;
  payment_date_time: string | null;
  psp_id: string | null;
  document: string;
  option_id: number | string | null;
  received_at: string;
}

interface CollectedRow extends ReceiptColumns {
  service_code: string;
  gestionale_position_id: string;
  installment: number | string;
  option_iuv: string;
  option_notice_number: string | null;
}

const RECEIPT_COLUMNS = [
  'r.id',
  'r.ente_id',
  'r.iuv',
  'r.receipt_id',
  'r.notice_number',
  'r.ccp',
  'r.source',
  'r.outcome',
  'r.amount_cents',
  'r.payment_date_time',
  'r.psp_id',
  'r.document',
  'r.option_id',
  'r.received_at',
];

function toReceiptRow(row: ReceiptColumns): StoredReceiptRow {
  return {
    id: toInt(row.id),
    enteId: toInt(row.ente_id),
    iuv: row.iuv,
    receiptId: row.receipt_id,
    noticeNumber: row.notice_number,
    ccp: row.ccp,
    source: row.source,
    outcome: row.outcome,
    amountCents: toInt(row.amount_cents),
    paymentDateTime: row.payment_date_time,
    pspId: row.psp_id,
    document: row.document,
    optionId: toIntOrNull(row.option_id),
    receivedAt: row.received_at,
  };
}

export function createCollectedPaymentsRepository(db: Db) {
  /** The receipts, the positions they paid and the scope, without paging or order. */
  const collected = (query: CollectedPaymentsQuery) => {
    const day = db.raw('coalesce(r.payment_date_time, r.received_at)');
    return db('receipts as r')
      .join('payment_options as o', 'o.id', 'r.option_id')
      .join('positions as p', 'p.id', 'o.position_id')
      .join('services as s', 's.id', 'p.service_id')
      .where('r.ente_id', query.enteId)
      .andWhere('r.outcome', 'OK')
      .andWhere('r.amount_cents', '>', 0)
      .whereIn('p.service_id', [...query.serviceIds])
      .andWhere(day, '>=', query.fromDate)
      .andWhere(day, '<', query.toDateExclusive);
  };

  return {
    /** How many payments the query matches, and the page asked for, by payment time then receiptId. */
    async list(query: CollectedPaymentsQuery): Promise<{ total: number; payments: CollectedPayment[] }> {
      if (query.serviceIds.length === 0) return { total: 0, payments: [] };
      const [count] = await collected(query).count<{ n: number | string }[]>({ n: '*' });
      const rows: CollectedRow[] = await collected(query)
        .select(
          ...RECEIPT_COLUMNS,
          's.code as service_code',
          'p.position_id as gestionale_position_id',
          'o.installment',
          'o.iuv as option_iuv',
          'o.notice_number as option_notice_number',
        )
        .orderByRaw('coalesce(r.payment_date_time, r.received_at), r.receipt_id, r.id')
        .limit(query.limit)
        .offset(query.offset);
      return {
        total: Number(count?.n ?? 0),
        payments: rows.map((row) => ({
          receipt: toReceiptRow(row),
          serviceCode: row.service_code,
          positionId: row.gestionale_position_id,
          installment: toInt(row.installment),
          optionIuv: row.option_iuv,
          optionNoticeNumber: row.option_notice_number,
        })),
      };
    },

    /** Every receipt of the ente with this receiptId (one per IUV at most), oldest first. */
    async findByReceiptId(enteId: number, receiptId: string): Promise<StoredReceiptRow[]> {
      const rows: ReceiptColumns[] = await db('receipts as r')
        .where({ 'r.ente_id': enteId, 'r.receipt_id': receiptId })
        .orderBy('r.id')
        .select(...RECEIPT_COLUMNS);
      return rows.map(toReceiptRow);
    },
  };
}

export type CollectedPaymentsRepository = ReturnType<typeof createCollectedPaymentsRepository>;

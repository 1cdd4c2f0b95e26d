// Read side of the outcomes operations (getReceipt, listPayments): stored receipts joined to the
// option, position and service they paid. A collected payment is a positive receipt applied to an
// option of one of the ente's positions; its day is the Italian date the receipt carries
// (paymentDateTime is local time as pagoPA writes it), or the day it was received when it has none.

import type { Db } from '../knex.ts';
import { toInt } from '../rows.ts';
import { toReceipt, type Receipt, type ReceiptRow } from './receipts.ts';

/** A stored receipt as the outcomes operations read it (the receipts repository's own shape). */
export type StoredReceiptRow = Receipt;

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

interface CollectedRow extends ReceiptRow {
  service_code: string;
  gestionale_position_id: string;
  installment: number | string;
  option_iuv: string;
  option_notice_number: string | null;
}

// Every receipt column, mapped by the receipts repository's own toReceipt.
const RECEIPT_COLUMNS = ['r.*'];

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
          receipt: toReceipt(row),
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
      const rows: ReceiptRow[] = await db('receipts as r')
        .where({ 'r.ente_id': enteId, 'r.receipt_id': receiptId })
        .orderBy('r.id')
        .select(...RECEIPT_COLUMNS);
      return rows.map(toReceipt);
    },
  };
}

export type CollectedPaymentsRepository = ReturnType<typeof createCollectedPaymentsRepository>;

// Read side of the nightly exports (src/batch/exports/): the receipts an ente received in a time
// range, joined to the option and position they are for; the unpaid options due on a day; the
// positions that became EXPIRED in a time range. Reads in pages (keyset on the row id), so an export
// of a large day never holds the whole day in memory.

import type { PositionStatus } from '../../domain/positionState.ts';
import type { Db } from '../knex.ts';
import { chunk, toInt, toIntOrNull } from '../rows.ts';
import { toReceipt, type Receipt, type ReceiptRow } from './receipts.ts';

/** A receipt with the position it is for (found by IUV, so also for a KO or flagged receipt). */
export interface ReceiptWithPosition {
  receipt: Receipt;
  /** The gestionale's positionId; null when no option of the ente has the receipt's IUV. */
  positionId: string | null;
  serviceCode: string | null;
  installment: number | null;
  /** The option's notice number (a legacy RT does not carry one). */
  noticeNumber: string | null;
  debtorFiscalCode: string | null;
}

/** An unpaid payment option with its position, as the expired-notices export lists it. */
export interface UnpaidOption {
  optionRowId: number;
  positionRowId: number;
  positionId: string;
  positionStatus: PositionStatus;
  serviceCode: string;
  installment: number;
  iuv: string;
  noticeNumber: string | null;
  amountCents: number;
  dueDate: string;
  debtorType: 'F' | 'G' | null;
  debtorFiscalCode: string | null;
  debtorFullName: string | null;
}

/** A position's change to EXPIRED, from the event log. */
export interface Expiration {
  positionRowId: number;
  fromStatus: PositionStatus | null;
  occurredAt: string;
}

interface ReceiptWithPositionRow extends ReceiptRow {
  gestionale_position_id: string | null;
  service_code: string | null;
  installment: number | string | null;
  option_notice_number: string | null;
  debtor_fiscal_code: string | null;
}

interface UnpaidOptionRow {
  option_row_id: number | string;
  position_row_id: number | string;
  gestionale_position_id: string;
  position_status: PositionStatus;
  service_code: string;
  installment: number | string;
  iuv: string;
  notice_number: string | null;
  amount_cents: number | string;
  due_date: string;
  debtor_type: 'F' | 'G' | null;
  debtor_fiscal_code: string | null;
  debtor_full_name: string | null;
}

const UNPAID_OPTION_COLUMNS = [
  'o.id as option_row_id',
  'p.id as position_row_id',
  'p.position_id as gestionale_position_id',
  'p.status as position_status',
  's.code as service_code',
  'o.installment',
  'o.iuv',
  'o.notice_number',
  'o.amount_cents',
  'o.due_date',
  'p.debtor_type',
  'p.debtor_fiscal_code',
  'p.debtor_full_name',
];

// Positions whose unpaid options may still be asked for: not cancelled, paid or given back.
const OPEN_STATUSES: readonly PositionStatus[] = ['VALID', 'PARTIALLY_PAID', 'EXPIRED'];
const IN_CHUNK = 500;

function toUnpaidOption(row: UnpaidOptionRow): UnpaidOption {
  return {
    optionRowId: toInt(row.option_row_id),
    positionRowId: toInt(row.position_row_id),
    positionId: row.gestionale_position_id,
    positionStatus: row.position_status,
    serviceCode: row.service_code,
    installment: toInt(row.installment),
    iuv: row.iuv,
    noticeNumber: row.notice_number,
    amountCents: toInt(row.amount_cents),
    dueDate: row.due_date,
    debtorType: row.debtor_type,
    debtorFiscalCode: row.debtor_fiscal_code,
    debtorFullName: row.debtor_full_name,
  };
}

export function createDailyExportsRepository(db: Db) {
  const unpaidOptions = (enteId: number) =>
    db('payment_options as o')
      .join('positions as p', 'p.id', 'o.position_id')
      .join('services as s', 's.id', 'p.service_id')
      .where('o.ente_id', enteId)
      .andWhere('o.status', 'UNPAID');

  return {
    /**
     * One page of the receipts the ente received in [fromIso, toIso), in the order they were
     * stored, after the row id `afterId` (0 for the first page).
     */
    async receiptsReceived(
      enteId: number,
      range: { fromIso: string; toIso: string },
      page: { afterId: number; limit: number },
    ): Promise<ReceiptWithPosition[]> {
      const rows: ReceiptWithPositionRow[] = await db('receipts as r')
        .leftJoin('payment_options as o', (on) => on.on('o.ente_id', 'r.ente_id').andOn('o.iuv', 'r.iuv'))
        .leftJoin('positions as p', 'p.id', 'o.position_id')
        .leftJoin('services as s', 's.id', 'p.service_id')
        .where('r.ente_id', enteId)
        .andWhere('r.received_at', '>=', range.fromIso)
        .andWhere('r.received_at', '<', range.toIso)
        .andWhere('r.id', '>', page.afterId)
        .select(
          'r.*',
          'p.position_id as gestionale_position_id',
          's.code as service_code',
          'o.installment',
          'o.notice_number as option_notice_number',
          'p.debtor_fiscal_code',
        )
        .orderBy('r.id')
        .limit(page.limit);
      return rows.map((row) => ({
        receipt: toReceipt(row),
        positionId: row.gestionale_position_id,
        serviceCode: row.service_code,
        installment: toIntOrNull(row.installment),
        noticeNumber: row.option_notice_number,
        debtorFiscalCode: row.debtor_fiscal_code,
      }));
    },

    /** One page of the ente's unpaid options due on `date` of positions still open, by row id. */
    async unpaidOptionsDueOn(
      enteId: number,
      date: string,
      page: { afterId: number; limit: number },
    ): Promise<UnpaidOption[]> {
      const rows: UnpaidOptionRow[] = await unpaidOptions(enteId)
        .andWhere('o.due_date', date)
        .whereIn('p.status', [...OPEN_STATUSES])
        .andWhere('o.id', '>', page.afterId)
        .select(UNPAID_OPTION_COLUMNS)
        .orderBy('o.id')
        .limit(page.limit);
      return rows.map(toUnpaidOption);
    },

    /** The unpaid options of these positions of the ente, by row id. */
    async unpaidOptionsOf(enteId: number, positionRowIds: readonly number[]): Promise<UnpaidOption[]> {
      const options: UnpaidOption[] = [];
      for (const ids of chunk(positionRowIds, IN_CHUNK)) {
        const rows: UnpaidOptionRow[] = await unpaidOptions(enteId)
          .whereIn('p.id', ids)
          .select(UNPAID_OPTION_COLUMNS)
          .orderBy('o.id');
        options.push(...rows.map(toUnpaidOption));
      }
      return options.sort((a, b) => a.optionRowId - b.optionRowId);
    },

    /**
     * The ente's positions that became EXPIRED in [fromIso, toIso) and still are: the candidates
     * are read through the (ente, status) index, the change itself from each one's event log.
     */
    async expiredBetween(enteId: number, range: { fromIso: string; toIso: string }): Promise<Expiration[]> {
      const candidates: Array<{ id: number | string }> = await db('positions')
        .where({ ente_id: enteId, status: 'EXPIRED' })
        .andWhere('updated_at', '>=', range.fromIso)
        .select('id');
      const expirations: Expiration[] = [];
      for (const ids of chunk(
        candidates.map((c) => String(c.id)),
        IN_CHUNK,
      )) {
        const events: Array<{ entity_id: string; from_status: PositionStatus | null; occurred_at: string }> =
          await db('events')
            .where({ entity_type: 'position', to_status: 'EXPIRED' })
            .whereIn('entity_id', ids)
            .andWhere('occurred_at', '>=', range.fromIso)
            .andWhere('occurred_at', '<', range.toIso)
            .select('entity_id', 'from_status', 'occurred_at')
            .orderBy('id');
        for (const e of events) {
          expirations.push({
            positionRowId: toInt(e.entity_id),
            fromStatus: e.from_status,
            occurredAt: e.occurred_at,
          });
        }
      }
      return expirations;
    },
  };
}

export type DailyExportsRepository = ReturnType<typeof createDailyExportsRepository>;

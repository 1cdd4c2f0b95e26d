// Receipts (legacy RT via paaInviaRT, current paSendRT / paSendRTV2), stored whole and once: a repeat
// is RECEIPT_DUPLICATE (answered PAA_RECEIPT_DUPLICATA / PAA_RT_DUPLICATA, pagopa-facts §9). A receipt
// for an unknown or cancelled position is kept with a flagged_reason, never dropped.

import { domainError } from '../../domain/errors.ts';
import type { Db } from '../knex.ts';
import { mapUniqueViolation } from '../errors.ts';
import { appendEvent, type ChangeContext } from './events.ts';
import { inTransaction, insertedId, isoNow, toInt, toIntOrNull, type Clock } from '../rows.ts';

export type ReceiptSource = 'paSendRT' | 'paSendRTV2' | 'paaInviaRT';
export type ReceiptOutcome = 'OK' | 'KO';

export interface NewReceipt {
  enteId: number;
  iuv: string;
  /** IUR (legacy) or receiptId / paymentToken (current model). */
  receiptId: string;
  noticeNumber?: string | null;
  ccp?: string | null;
  source: ReceiptSource;
  outcome: ReceiptOutcome;
  amountCents: number;
  paymentDateTime?: string | null;
  pspId?: string | null;
  /** The whole receipt XML as received. */
  document: string;
  optionId?: number | null;
  /** Why the receipt needs an operator's attention, e.g. an unknown or cancelled position. */
  flaggedReason?: string | null;
}

export interface Receipt {
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
  flaggedReason: string | null;
  receivedAt: string;
}

export interface ReceiptRow {
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
  flagged_reason: string | null;
  received_at: string;
}

export function toReceipt(row: ReceiptRow): Receipt {
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
    flaggedReason: row.flagged_reason,
    receivedAt: row.received_at,
  };
}

function receiptColumns(input: NewReceipt, now: string) {
  return {
    ente_id: input.enteId,
    iuv: input.iuv,
    receipt_id: input.receiptId,
    notice_number: input.noticeNumber ?? null,
    ccp: input.ccp ?? null,
    source: input.source,
    outcome: input.outcome,
    amount_cents: input.amountCents,
    payment_date_time: input.paymentDateTime ?? null,
    psp_id: input.pspId ?? null,
    document: input.document,
    option_id: input.optionId ?? null,
    flagged_reason: input.flaggedReason ?? null,
    received_at: now,
  };
}

export function createReceiptsRepository(db: Db, clock: Clock) {
  const getById = async (id: number): Promise<Receipt | null> => {
    const row = await db<ReceiptRow>('receipts').where({ id }).first();
    return row ? toReceipt(row) : null;
  };

  const insertWithEvent = (input: NewReceipt, ctx: ChangeContext) =>
    inTransaction(db, async (trx) => {
      const id = insertedId(
        await trx('receipts')
          .insert(receiptColumns(input, isoNow(clock)))
          .returning('id'),
      );
      await appendEvent(trx, clock, {
        entityType: 'receipt',
        entityId: id,
        action: input.flaggedReason ? 'received_flagged' : 'received',
        cause: ctx.cause,
        actor: ctx.actor,
        payload: ctx.payload ?? {
          source: input.source,
          outcome: input.outcome,
          flaggedReason: input.flaggedReason,
        },
      });
      return id;
    });

  return {
    getById,

    /** Stores a receipt once; the same (ente, IUV, receipt id) again is RECEIPT_DUPLICATE. */
    async insert(input: NewReceipt, ctx: ChangeContext): Promise<Receipt> {
      const details = { enteId: input.enteId, iuv: input.iuv, receiptId: input.receiptId };
      const id = await mapUniqueViolation('RECEIPT_DUPLICATE', details, () => insertWithEvent(input, ctx));
      return (await getById(id)) as Receipt;
    },

    async find(enteId: number, iuv: string, receiptId: string): Promise<Receipt | null> {
      const row = await db<ReceiptRow>('receipts')
        .where({ ente_id: enteId, iuv, receipt_id: receiptId })
        .first();
      return row ? toReceipt(row) : null;
    },

    /** The receipt stored for one legacy attempt: an RT is keyed (idDominio, IUV, CCP), pagopa-facts §9. */
    async findByCcp(enteId: number, iuv: string, ccp: string): Promise<Receipt | null> {
      const row = await db<ReceiptRow>('receipts').where({ ente_id: enteId, iuv, ccp }).orderBy('id').first();
      return row ? toReceipt(row) : null;
    },

    async listByIuv(enteId: number, iuv: string): Promise<Receipt[]> {
      const rows = await db<ReceiptRow>('receipts').where({ ente_id: enteId, iuv }).orderBy('id');
      return rows.map(toReceipt);
    },

    /**
     * Links a stored receipt to the option it paid, in the caller's transaction: from then on the
     * receipt counts as applied (src/domain/receipt.ts). Linking one twice is CONCURRENT_UPDATE.
     */
    async markApplied(id: number, optionId: number, ctx: ChangeContext): Promise<Receipt> {
      await inTransaction(db, async (trx) => {
        const changed = await trx('receipts')
          .where({ id })
          .whereNull('option_id')
          .update({ option_id: optionId });
        if (changed === 0) {
          throw domainError('CONCURRENT_UPDATE', 'the receipt was applied meanwhile', { receiptId: id });
        }
        await appendEvent(trx, clock, {
          entityType: 'receipt',
          entityId: id,
          action: 'applied',
          cause: ctx.cause,
          actor: ctx.actor,
          payload: ctx.payload ?? { optionId },
        });
      });
      return (await getById(id)) as Receipt;
    },

    /** Records (or replaces) why a stored receipt needs an operator's attention, with its event. */
    async setFlaggedReason(id: number, reason: string, ctx: ChangeContext): Promise<Receipt> {
      await inTransaction(db, async (trx) => {
        const changed = await trx('receipts').where({ id }).update({ flagged_reason: reason });
        if (changed === 0) throw domainError('RECEIPT_UNKNOWN', 'no such receipt', { receiptId: id });
        await appendEvent(trx, clock, {
          entityType: 'receipt',
          entityId: id,
          action: 'flagged',
          cause: ctx.cause,
          actor: ctx.actor,
          payload: ctx.payload ?? { flaggedReason: reason },
        });
      });
      return (await getById(id)) as Receipt;
    },

    /** Receipts stored with a flagged reason, for the operator's anomaly list. */
    async listFlagged(enteId?: number): Promise<Receipt[]> {
      const query = db<ReceiptRow>('receipts').whereNotNull('flagged_reason');
      if (enteId !== undefined) query.where({ ente_id: enteId });
      const rows = await query.orderBy('id');
      return rows.map(toReceipt);
    },
  };
}

export type ReceiptsRepository = ReturnType<typeof createReceiptsRepository>;

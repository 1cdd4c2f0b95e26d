// Payment attempts on an IUV: legacy RPT attempts keyed by CCP, current-model attempts keyed by the
// node's paymentToken (pagopa-facts §1, §9). Each status change is logged in the same transaction.

import { domainError } from '../../domain/errors.ts';
import { dialectOf, type Db } from '../knex.ts';
import { mapUniqueViolation } from '../errors.ts';
import { appendEvent, type ChangeContext } from './events.ts';
import { inTransaction, insertedId, isoNow, toInt, toIntOrNull, type Clock } from '../rows.ts';

const PAYMENT = 'payment';

export type PaymentKind = 'rpt' | 'current';
export type PaymentStatus = 'STARTED' | 'IN_PROGRESS' | 'PAID' | 'FAILED' | 'EXPIRED';

export interface NewPayment {
  enteId: number;
  optionId?: number | null;
  iuv: string;
  noticeNumber?: string | null;
  kind: PaymentKind;
  /** The CCP of an RPT attempt or the paymentToken of a current-model one. */
  ccpOrToken: string;
  pspId?: string | null;
  channelId?: string | null;
  status?: PaymentStatus;
  amountCents: number;
  /** The RPT (or cart) XML sent to the node, stored whole. */
  requestDocument?: string | null;
}

export interface Payment {
  id: number;
  enteId: number;
  optionId: number | null;
  iuv: string;
  noticeNumber: string | null;
  kind: PaymentKind;
  ccpOrToken: string;
  pspId: string | null;
  channelId: string | null;
  status: PaymentStatus;
  amountCents: number;
  requestDocument: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SetPaymentStatusOptions extends ChangeContext {
  /** Change only if the attempt is still in this status; otherwise CONCURRENT_UPDATE. */
  expectedStatus?: PaymentStatus;
}

interface PaymentRow {
  id: number | string;
  ente_id: number | string;
  option_id: number | string | null;
  iuv: string;
  notice_number: string | null;
  kind: PaymentKind;
  ccp_or_token: string;
  psp_id: string | null;
  channel_id: string | null;
  status: PaymentStatus;
  amount_cents: number | string;
  request_document: string | null;
  created_at: string;
  updated_at: string;
}

function toPayment(row: PaymentRow): Payment {
  return {
    id: toInt(row.id),
    enteId: toInt(row.ente_id),
    optionId: toIntOrNull(row.option_id),
    iuv: row.iuv,
    noticeNumber: row.notice_number,
    kind: row.kind,
    ccpOrToken: row.ccp_or_token,
    pspId: row.psp_id,
    channelId: row.channel_id,
    status: row.status,
    amountCents: toInt(row.amount_cents),
    requestDocument: row.request_document,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function paymentColumns(input: NewPayment, now: string) {
  return {
    ente_id: input.enteId,
    option_id: input.optionId ?? null,
    iuv: input.iuv,
    notice_number: input.noticeNumber ?? null,
    kind: input.kind,
    ccp_or_token: input.ccpOrToken,
    psp_id: input.pspId ?? null,
    channel_id: input.channelId ?? null,
    status: input.status ?? 'STARTED',
    amount_cents: input.amountCents,
    request_document: input.requestDocument ?? null,
    created_at: now,
    updated_at: now,
  };
}

export function createPaymentsRepository(db: Db, clock: Clock) {
  const getById = async (id: number): Promise<Payment | null> => {
    const row = await db<PaymentRow>('payments').where({ id }).first();
    return row ? toPayment(row) : null;
  };

  const insert = (input: NewPayment, ctx: ChangeContext) =>
    inTransaction(db, async (trx) => {
      const columns = paymentColumns(input, isoNow(clock));
      const id = insertedId(await trx('payments').insert(columns).returning('id'));
      await appendEvent(trx, clock, {
        entityType: PAYMENT,
        entityId: id,
        action: 'created',
        toStatus: columns.status,
        cause: ctx.cause,
        actor: ctx.actor,
        payload: ctx.payload,
      });
      return id;
    });

  return {
    getById,

    /** Records a new attempt; the same (ente, IUV, CCP/token) twice is DUPLICATE. */
    async create(input: NewPayment, ctx: ChangeContext): Promise<Payment> {
      const details = { enteId: input.enteId, iuv: input.iuv, ccpOrToken: input.ccpOrToken };
      const id = await mapUniqueViolation('DUPLICATE', details, () => insert(input, ctx));
      return (await getById(id)) as Payment;
    },

    async find(enteId: number, iuv: string, ccpOrToken: string): Promise<Payment | null> {
      const row = await db<PaymentRow>('payments')
        .where({ ente_id: enteId, iuv, ccp_or_token: ccpOrToken })
        .first();
      return row ? toPayment(row) : null;
    },

    /**
     * Makes attempts on one IUV wait for each other until the caller's transaction ends: locks the
     * IUV's payment option row (PostgreSQL; a SQLite transaction holds the database's write lock).
     * Without it, two activations of one notice at once both find no attempt open and both win.
     */
    async lockIuv(enteId: number, iuv: string): Promise<void> {
      if (dialectOf(db) !== 'postgres') return;
      await db('payment_options').where({ ente_id: enteId, iuv }).forUpdate().select('id');
    },

    async listByIuv(enteId: number, iuv: string): Promise<Payment[]> {
      const rows = await db<PaymentRow>('payments').where({ ente_id: enteId, iuv }).orderBy('id');
      return rows.map(toPayment);
    },

    /**
     * Legacy model 3: attempts whose RPT the node has not accepted yet (kind rpt, IN_PROGRESS, no
     * request document), oldest first. The RPT sender works through them (src/app/pagopa/rptSender.ts).
     */
    async listRptsToSend(limit = 100): Promise<Payment[]> {
      const rows = await db<PaymentRow>('payments')
        .where({ kind: 'rpt', status: 'IN_PROGRESS' })
        .whereNull('request_document')
        .orderBy('id')
        .limit(limit);
      return rows.map(toPayment);
    },

    /**
     * RPT attempts the node accepted (request document stored) that are still waiting for their RT,
     * created before `createdBefore` (ISO instant), oldest first: the receipt recovery job's work list.
     */
    async listRptsAwaitingReceipt(createdBefore: string, limit = 100): Promise<Payment[]> {
      const rows = await db<PaymentRow>('payments')
        .where({ kind: 'rpt' })
        .whereIn('status', ['STARTED', 'IN_PROGRESS'])
        .whereNotNull('request_document')
        .andWhere('created_at', '<', createdBefore)
        .orderBy('id')
        .limit(limit);
      return rows.map(toPayment);
    },

    /**
     * Stores the RPT (or cart) document sent for an attempt, with an `rpt_sent` event, once: false
     * when the attempt already has one (another sender got there first).
     */
    setRequestDocument(id: number, document: string, ctx: ChangeContext): Promise<boolean> {
      return inTransaction(db, async (trx) => {
        const changed = await trx('payments')
          .where({ id })
          .whereNull('request_document')
          .update({ request_document: document, updated_at: isoNow(clock) });
        if (changed === 0) return false;
        await appendEvent(trx, clock, {
          entityType: PAYMENT,
          entityId: id,
          action: 'rpt_sent',
          cause: ctx.cause,
          actor: ctx.actor,
          payload: ctx.payload,
        });
        return true;
      });
    },

    async setStatus(id: number, to: PaymentStatus, opts: SetPaymentStatusOptions): Promise<Payment> {
      const current = await getById(id);
      if (!current) throw domainError('PAYMENT_UNKNOWN', 'no such payment attempt', { paymentId: id });
      const from = opts.expectedStatus ?? current.status;
      await inTransaction(db, async (trx) => {
        const changed = await trx('payments')
          .where({ id, status: from })
          .update({ status: to, updated_at: isoNow(clock) });
        if (changed === 0) {
          throw domainError('CONCURRENT_UPDATE', 'the payment attempt changed meanwhile', { paymentId: id });
        }
        await appendEvent(trx, clock, {
          entityType: PAYMENT,
          entityId: id,
          action: 'status_changed',
          fromStatus: from,
          toStatus: to,
          cause: opts.cause,
          actor: opts.actor,
          payload: opts.payload,
        });
      });
      return (await getById(id)) as Payment;
    },
  };
}

export type PaymentsRepository = ReturnType<typeof createPaymentsRepository>;

// Asincrona redirect sessions (createPaymentSession and the citizen pages under /pay/). The nonce is
// consumed with one conditional UPDATE, so of two concurrent payment starts with the same token
// exactly one wins, on SQLite and PostgreSQL alike. Every status change is logged in the same
// transaction.

import type { Db } from '../knex.ts';
import { appendEvent, type ChangeContext } from './events.ts';
import { inTransaction, isoNow, toInt, toIntOrNull, type Clock } from '../rows.ts';

const PAYMENT_SESSION = 'payment_session';

export type PaymentSessionStatus = 'OPEN' | 'STARTED' | 'COMPLETED' | 'CANCELLED' | 'FAILED';

export interface NewPaymentSession {
  id: string;
  nonce: string;
  clientId: number | null;
  enteId: number;
  /** The positions row id. */
  positionId: number;
  installment: number;
  noticeNumber: string;
  returnUrl: string;
  cancelUrl: string | null;
  language: string | null;
  payerEmail: string | null;
  expiresAt: string;
}

export interface PaymentSession extends NewPaymentSession {
  status: PaymentSessionStatus;
  usedAt: string | null;
  checkoutUrl: string | null;
  /** Model 1: the node's idSession of the RPT payment (what the station's redirect URL receives). */
  nodeSessionId: string | null;
  createdAt: string;
  updatedAt: string;
}

interface SessionRow {
  id: string;
  nonce: string;
  client_id: number | string | null;
  ente_id: number | string;
  position_id: number | string;
  installment: number | string;
  notice_number: string;
  return_url: string;
  cancel_url: string | null;
  language: string | null;
  payer_email: string | null;
  status: PaymentSessionStatus;
  expires_at: string;
  used_at: string | null;
  checkout_url: string | null;
  node_session_id: string | null;
  created_at: string;
  updated_at: string;
}

function toSession(row: SessionRow): PaymentSession {
  return {
    id: row.id,
    nonce: row.nonce,
    clientId: toIntOrNull(row.client_id),
    enteId: toInt(row.ente_id),
    positionId: toInt(row.position_id),
    installment: toInt(row.installment),
    noticeNumber: row.notice_number,
    returnUrl: row.return_url,
    cancelUrl: row.cancel_url,
    language: row.language,
    payerEmail: row.payer_email,
    status: row.status,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    checkoutUrl: row.checkout_url,
    nodeSessionId: row.node_session_id ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function createPaymentSessionsRepository(db: Db, clock: Clock) {
  const get = async (id: string): Promise<PaymentSession | null> => {
    const row = await db<SessionRow>('payment_sessions').where({ id }).first();
    return row ? toSession(row) : null;
  };

  /** Changes the status only from `from`; false when the session had moved on meanwhile. */
  const move = (
    id: string,
    from: readonly PaymentSessionStatus[],
    to: PaymentSessionStatus,
    columns: Record<string, string | null>,
    ctx: ChangeContext,
  ): Promise<boolean> =>
    inTransaction(db, async (trx) => {
      const current = await trx<SessionRow>('payment_sessions').where({ id }).first();
      if (!current || !from.includes(current.status)) return false;
      const changed = await trx('payment_sessions')
        .where({ id, status: current.status })
        .update({ ...columns, status: to, updated_at: isoNow(clock) });
      if (changed === 0) return false;
      await appendEvent(trx, clock, {
        entityType: PAYMENT_SESSION,
        entityId: id,
        action: 'status_changed',
        fromStatus: current.status,
        toStatus: to,
        ...ctx,
      });
      return true;
    });

  return {
    get,

    async create(input: NewPaymentSession, ctx: ChangeContext): Promise<PaymentSession> {
      await inTransaction(db, async (trx) => {
        const now = isoNow(clock);
        await trx('payment_sessions').insert({
          id: input.id,
          nonce: input.nonce,
          client_id: input.clientId,
          ente_id: input.enteId,
          position_id: input.positionId,
          installment: input.installment,
          notice_number: input.noticeNumber,
          return_url: input.returnUrl,
          cancel_url: input.cancelUrl,
          language: input.language,
          payer_email: input.payerEmail,
          status: 'OPEN',
          expires_at: input.expiresAt,
          created_at: now,
          updated_at: now,
        });
        await appendEvent(trx, clock, {
          entityType: PAYMENT_SESSION,
          entityId: input.id,
          action: 'created',
          toStatus: 'OPEN',
          ...ctx,
        });
      });
      return (await get(input.id)) as PaymentSession;
    },

    /**
     * Consumes the nonce: OPEN → STARTED in one conditional UPDATE. False when the nonce does not
     * match or was already used (a second payment start with the same token).
     */
    async consumeNonce(id: string, nonce: string, ctx: ChangeContext): Promise<boolean> {
      return inTransaction(db, async (trx) => {
        const now = isoNow(clock);
        const changed = await trx('payment_sessions')
          .where({ id, nonce, status: 'OPEN' })
          .whereNull('used_at')
          .update({ status: 'STARTED', used_at: now, updated_at: now });
        if (changed === 0) return false;
        await appendEvent(trx, clock, {
          entityType: PAYMENT_SESSION,
          entityId: id,
          action: 'nonce_used',
          fromStatus: 'OPEN',
          toStatus: 'STARTED',
          ...ctx,
        });
        return true;
      });
    },

    /**
     * Gives the nonce back (STARTED → OPEN) when the payment could not even start (the node did not
     * answer or refused): the citizen may try again with the same link.
     */
    release(id: string, ctx: ChangeContext): Promise<boolean> {
      return move(id, ['STARTED'], 'OPEN', { used_at: null, checkout_url: null, node_session_id: null }, ctx);
    },

    /**
     * Records where the node sent the citizen (the session stays STARTED) and, for a model 1 payment,
     * the node's idSession, by which the station's redirect URL finds the session again.
     */
    async setCheckoutUrl(
      id: string,
      checkoutUrl: string,
      nodeSessionId: string | null = null,
    ): Promise<void> {
      await db('payment_sessions')
        .where({ id })
        .update({ checkout_url: checkoutUrl, node_session_id: nodeSessionId, updated_at: isoNow(clock) });
    },

    /** The session whose model 1 payment the node knows by this idSession (the latest, if several). */
    async findByNodeSession(nodeSessionId: string): Promise<PaymentSession | null> {
      const row = await db<SessionRow>('payment_sessions')
        .where({ node_session_id: nodeSessionId })
        .orderBy('created_at', 'desc')
        .first();
      return row ? toSession(row) : null;
    },

    /** The citizen came back from pagoPA: STARTED → COMPLETED / CANCELLED / FAILED. */
    finish(
      id: string,
      to: Extract<PaymentSessionStatus, 'COMPLETED' | 'CANCELLED' | 'FAILED'>,
      ctx: ChangeContext,
    ): Promise<boolean> {
      return move(id, ['STARTED'], to, {}, ctx);
    },
  };
}

export type PaymentSessionsRepository = ReturnType<typeof createPaymentSessionsRepository>;

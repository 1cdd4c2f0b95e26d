// The emulator's repositories: all of its SQL, over the emulator_* tables (migration 0008) and the
// same Knex as the connector, so a restart keeps carts, payments, RPTs and RTs in flight. Rows are
// mapped to camelCase objects here; the PSPs are seeded on first use.

import { takeSqliteWriteLock, type Db } from '../db/knex.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { isoNow, systemClock, toBool, toInt, type Clock } from '../db/rows.ts';

export type PspKind = 'psp' | 'wisp';

export interface EmulatorPsp {
  idPsp: string;
  idBrokerPsp: string;
  idChannel: string;
  companyName: string;
  pspFiscalCode: string;
  channelDescription: string;
  kind: PspKind;
}

/** The PSPs every emulator starts with (names say they are emulated; ids look like real ones). */
export const SEED_PSPS: readonly EmulatorPsp[] = [
  {
    idPsp: 'BCITITMM',
    idBrokerPsp: '00799960158',
    idChannel: '00799960158_01',
    companyName: 'Intesa Sanpaolo S.p.A. (emulated)',
    pspFiscalCode: '00799960158',
    channelDescription: 'Sportello e home banking',
    kind: 'psp',
  },
  {
    idPsp: 'UNCRITMM',
    idBrokerPsp: '00348170101',
    idChannel: '00348170101_01',
    companyName: 'UniCredit S.p.A. (emulated)',
    pspFiscalCode: '00348170101',
    channelDescription: 'Carte di pagamento',
    kind: 'psp',
  },
  {
    idPsp: 'BPPIITRRXXX',
    idBrokerPsp: '97103880585',
    idChannel: '97103880585_01',
    companyName: 'Poste Italiane S.p.A. (emulated)',
    pspFiscalCode: '97103880585',
    channelDescription: 'Uffici postali',
    kind: 'psp',
  },
  {
    // What ECs put in nodoInviaRPT when the citizen picks the PSP on the node's own pages (WISP).
    idPsp: 'AGID_01',
    idBrokerPsp: '97735020584',
    idChannel: '97735020584_02',
    companyName: 'Scelta del PSP sul nodo (WISP)',
    pspFiscalCode: '97735020584',
    channelDescription: 'WISP',
    kind: 'wisp',
  },
];

export type PrimitiveVersion = 1 | 2;

/** How the node treats one EC station: which paGetPayment / paSendRT version, where RPT flows return. */
export interface StationSettings {
  stationId: string;
  primitiveVersion: PrimitiveVersion;
  redirectUrl: string | null;
}

export type CartKind = 'checkout' | 'rpt';
export type CartStatus = 'OPEN' | 'PROCESSING' | 'PAID' | 'CANCELLED' | 'FAILED';

export interface ReturnUrls {
  returnOkUrl: string;
  returnCancelUrl: string;
  returnErrorUrl: string;
}

export interface NewCart {
  id: string;
  kind: CartKind;
  stationId?: string | null;
  brokerId?: string | null;
  multiBeneficiary?: boolean;
  pspId?: string | null;
  returnUrls?: ReturnUrls | null;
}

export interface Cart {
  id: string;
  kind: CartKind;
  status: CartStatus;
  stationId: string | null;
  brokerId: string | null;
  multiBeneficiary: boolean;
  pspId: string | null;
  returnUrls: ReturnUrls | null;
  createdAt: string;
  updatedAt: string;
}

export interface CartNotice {
  fiscalCode: string;
  noticeNumber: string;
  amountCents: number;
  companyName: string;
  description: string;
}

export type PaymentKind = 'current' | 'legacy';
export type PaymentStatus =
  | 'VERIFIED'
  | 'ACTIVATED'
  | 'AUTHORIZED' // the PSP took the money; receipts still to deliver
  | 'NOTIFIED' // every EC accepted its receipt (or RT)
  | 'FAILED'
  | 'CANCELLED';

export interface NewPayment {
  paymentToken: string;
  kind: PaymentKind;
  cartId?: string | null;
  fiscalCode: string;
  noticeNumber: string;
  iuv?: string | null;
  amountCents?: number | null;
  pspId: string;
  primitiveVersion: PrimitiveVersion;
  status: PaymentStatus;
  lastStep?: string | null;
}

export interface Payment extends Required<NewPayment> {
  id: number;
  faultCode: string | null;
  /** The receipt body (node-soap object of paSendRT / paSendRTV2), kept so it can be sent again. */
  receipt: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

export interface PaymentPatch {
  status?: PaymentStatus;
  iuv?: string | null;
  amountCents?: number | null;
  lastStep?: string | null;
  faultCode?: string | null;
  receipt?: Record<string, unknown> | null;
}

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'REJECTED';

export interface ReceiptDelivery {
  paymentToken: string;
  fiscalCode: string;
  status: DeliveryStatus;
  faultCode: string | null;
  attempts: number;
}

export interface RptKey {
  idDominio: string;
  iuv: string;
  ccp: string;
}

export interface NewRpt extends RptKey {
  cartId: string;
  position: number;
  stationId: string;
  brokerId: string;
  pspId: string;
  tipoVersamento: string;
  amountCents: number;
  rptXml: string;
}

export interface StoredRpt extends NewRpt {
  id: number;
  status: string;
  createdAt: string;
  updatedAt: string;
}

export interface RptHistoryEntry {
  occurredAt: string;
  status: string;
  description: string;
}

export type RtDeliveryStatus = 'PENDING' | 'ACCEPTED' | 'REJECTED' | 'UNKNOWN';

export interface StoredRt extends RptKey {
  outcomeCode: string;
  amountCents: number;
  rtXml: string;
  deliveryStatus: RtDeliveryStatus;
  faultCode: string | null;
  createdAt: string;
}

/** RPT states after which nothing more happens (pagopa-facts §4): never listed as pending. */
export const FINAL_RPT_STATES = ['RT_ACCETTATA_PA', 'RPT_RIFIUTATA_NODO', 'RPT_DECORSI_TERMINI'] as const;

interface PspRow {
  id_psp: string;
  id_broker_psp: string;
  id_channel: string;
  company_name: string;
  psp_fiscal_code: string;
  channel_description: string;
  kind: PspKind;
}

interface StationRow {
  station_id: string;
  primitive_version: number | string;
  redirect_url: string | null;
}

interface CartRow {
  id: string;
  kind: CartKind;
  status: CartStatus;
  station_id: string | null;
  broker_id: string | null;
  multi_beneficiary: boolean | number;
  psp_id: string | null;
  return_ok_url: string | null;
  return_cancel_url: string | null;
  return_error_url: string | null;
  created_at: string;
  updated_at: string;
}

interface CartNoticeRow {
  cart_id: string;
  position: number | string;
  fiscal_code: string;
  notice_number: string;
  amount_cents: number | string;
  company_name: string;
  description: string;
}

interface PaymentRow {
  id: number | string;
  payment_token: string;
  kind: PaymentKind;
  cart_id: string | null;
  fiscal_code: string;
  notice_number: string;
  iuv: string | null;
  amount_cents: number | string | null;
  psp_id: string;
  primitive_version: number | string;
  status: PaymentStatus;
  last_step: string | null;
  fault_code: string | null;
  receipt: string | null;
  created_at: string;
  updated_at: string;
}

interface DeliveryRow {
  payment_token: string;
  fiscal_code: string;
  status: DeliveryStatus;
  fault_code: string | null;
  attempts: number | string;
}

interface RptRow {
  id: number | string;
  id_dominio: string;
  iuv: string;
  ccp: string;
  cart_id: string;
  position: number | string;
  station_id: string;
  broker_id: string;
  psp_id: string;
  tipo_versamento: string;
  amount_cents: number | string;
  rpt_xml: string;
  status: string;
  created_at: string;
  updated_at: string;
}

interface RtRow {
  id_dominio: string;
  iuv: string;
  ccp: string;
  outcome_code: string;
  amount_cents: number | string;
  rt_xml: string;
  delivery_status: RtDeliveryStatus;
  fault_code: string | null;
  created_at: string;
}

function toPsp(row: PspRow): EmulatorPsp {
  return {
    idPsp: row.id_psp,
    idBrokerPsp: row.id_broker_psp,
    idChannel: row.id_channel,
    companyName: row.company_name,
    pspFiscalCode: row.psp_fiscal_code,
    channelDescription: row.channel_description,
    kind: row.kind,
  };
}

function toCart(row: CartRow): Cart {
  const returnUrls =
    row.return_ok_url && row.return_cancel_url && row.return_error_url
      ? {
          returnOkUrl: row.return_ok_url,
          returnCancelUrl: row.return_cancel_url,
          returnErrorUrl: row.return_error_url,
        }
      : null;
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    stationId: row.station_id,
    brokerId: row.broker_id,
    multiBeneficiary: toBool(row.multi_beneficiary),
    pspId: row.psp_id,
    returnUrls,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toPayment(row: PaymentRow): Payment {
  return {
    id: toInt(row.id),
    paymentToken: row.payment_token,
    kind: row.kind,
    cartId: row.cart_id,
    fiscalCode: row.fiscal_code,
    noticeNumber: row.notice_number,
    iuv: row.iuv,
    amountCents: row.amount_cents === null ? null : toInt(row.amount_cents),
    pspId: row.psp_id,
    primitiveVersion: toInt(row.primitive_version) === 1 ? 1 : 2,
    status: row.status,
    lastStep: row.last_step,
    faultCode: row.fault_code,
    receipt: row.receipt === null ? null : (JSON.parse(row.receipt) as Record<string, unknown>),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRpt(row: RptRow): StoredRpt {
  return {
    id: toInt(row.id),
    idDominio: row.id_dominio,
    iuv: row.iuv,
    ccp: row.ccp,
    cartId: row.cart_id,
    position: toInt(row.position),
    stationId: row.station_id,
    brokerId: row.broker_id,
    pspId: row.psp_id,
    tipoVersamento: row.tipo_versamento,
    amountCents: toInt(row.amount_cents),
    rptXml: row.rpt_xml,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRt(row: RtRow): StoredRt {
  return {
    idDominio: row.id_dominio,
    iuv: row.iuv,
    ccp: row.ccp,
    outcomeCode: row.outcome_code,
    amountCents: toInt(row.amount_cents),
    rtXml: row.rt_xml,
    deliveryStatus: row.delivery_status,
    faultCode: row.fault_code,
    createdAt: row.created_at,
  };
}

const keyOf = (key: RptKey) => ({ id_dominio: key.idDominio, iuv: key.iuv, ccp: key.ccp });

/** Thrown when a cart id or an RPT key is already taken (the node answers with its own fault). */
export class EmulatorDuplicate extends Error {
  constructor(readonly table: 'emulator_carts' | 'emulator_rpts') {
    super(`duplicate row in ${table}`);
  }
}

export function createEmulatorDb(db: Db, clock: Clock = systemClock) {
  const now = () => isoNow(clock);

  const psps = {
    /** Inserts the seed PSPs that are missing; safe to run from several processes at once. */
    async ensureSeeded(): Promise<void> {
      const rows = SEED_PSPS.map((p) => ({
        id_psp: p.idPsp,
        id_broker_psp: p.idBrokerPsp,
        id_channel: p.idChannel,
        company_name: p.companyName,
        psp_fiscal_code: p.pspFiscalCode,
        channel_description: p.channelDescription,
        kind: p.kind,
        created_at: now(),
      }));
      await db('emulator_psps').insert(rows).onConflict('id_psp').ignore();
    },

    async get(idPsp: string): Promise<EmulatorPsp | null> {
      const row = await db<PspRow>('emulator_psps').where({ id_psp: idPsp }).first();
      return row ? toPsp(row) : null;
    },

    /** The PSPs a citizen can choose (not the WISP placeholder), in a stable order. */
    async listPaying(): Promise<EmulatorPsp[]> {
      const rows = await db<PspRow>('emulator_psps')
        .where({ kind: 'psp' })
        .orderBy('created_at')
        .orderBy('id_psp');
      return rows.map(toPsp);
    },
  };

  const stations = {
    async settings(stationId: string): Promise<StationSettings> {
      const row = await db<StationRow>('emulator_stations').where({ station_id: stationId }).first();
      return {
        stationId,
        primitiveVersion: row && toInt(row.primitive_version) === 1 ? 1 : 2,
        redirectUrl: row?.redirect_url ?? null,
      };
    },

    async update(
      stationId: string,
      patch: { primitiveVersion?: PrimitiveVersion; redirectUrl?: string | null },
    ): Promise<StationSettings> {
      const current = await stations.settings(stationId);
      const next = { ...current, ...patch };
      await db('emulator_stations')
        .insert({
          station_id: stationId,
          primitive_version: next.primitiveVersion,
          redirect_url: next.redirectUrl,
          updated_at: now(),
        })
        .onConflict('station_id')
        .merge();
      return next;
    },
  };

  const carts = {
    /** Creates the cart with its notices (checkout) or RPTs (legacy) in one transaction. */
    async create(cart: NewCart, content: { notices?: CartNotice[]; rpts?: NewRpt[] } = {}): Promise<Cart> {
      const at = now();
      try {
        await db.transaction(async (trx) => {
          await trx('emulator_carts').insert({
            id: cart.id,
            kind: cart.kind,
            status: 'OPEN',
            station_id: cart.stationId ?? null,
            broker_id: cart.brokerId ?? null,
            multi_beneficiary: cart.multiBeneficiary ?? false,
            psp_id: cart.pspId ?? null,
            return_ok_url: cart.returnUrls?.returnOkUrl ?? null,
            return_cancel_url: cart.returnUrls?.returnCancelUrl ?? null,
            return_error_url: cart.returnUrls?.returnErrorUrl ?? null,
            created_at: at,
            updated_at: at,
          });
          const notices = (content.notices ?? []).map((n, i) => ({
            cart_id: cart.id,
            position: i + 1,
            fiscal_code: n.fiscalCode,
            notice_number: n.noticeNumber,
            amount_cents: n.amountCents,
            company_name: n.companyName,
            description: n.description,
          }));
          if (notices.length) await trx('emulator_cart_notices').insert(notices);
          for (const rpt of content.rpts ?? []) await insertRpt(trx, rpt, at);
        });
      } catch (err) {
        if (err instanceof EmulatorDuplicate) throw err;
        if (isUniqueViolation(err)) {
          const cartTaken = await carts.get(cart.id);
          throw new EmulatorDuplicate(cartTaken ? 'emulator_carts' : 'emulator_rpts');
        }
        throw err;
      }
      return (await carts.get(cart.id)) as Cart;
    },

    async get(id: string): Promise<Cart | null> {
      const row = await db<CartRow>('emulator_carts').where({ id }).first();
      return row ? toCart(row) : null;
    },

    async notices(id: string): Promise<CartNotice[]> {
      const rows = await db<CartNoticeRow>('emulator_cart_notices')
        .where({ cart_id: id })
        .orderBy('position');
      return rows.map((r) => ({
        fiscalCode: r.fiscal_code,
        noticeNumber: r.notice_number,
        amountCents: toInt(r.amount_cents),
        companyName: r.company_name,
        description: r.description,
      }));
    },

    /** OPEN → PROCESSING for exactly one caller: a second click on Pay finds nothing to claim. */
    async claim(id: string, pspId: string | null): Promise<boolean> {
      const changed = await db('emulator_carts')
        .where({ id, status: 'OPEN' })
        .update({ status: 'PROCESSING', psp_id: pspId, updated_at: now() });
      return changed > 0;
    },

    async setStatus(id: string, status: CartStatus): Promise<void> {
      await db('emulator_carts').where({ id }).update({ status, updated_at: now() });
    },
  };

  const payments = {
    async create(input: NewPayment): Promise<Payment> {
      const at = now();
      await db('emulator_payments').insert({
        payment_token: input.paymentToken,
        kind: input.kind,
        cart_id: input.cartId ?? null,
        fiscal_code: input.fiscalCode,
        notice_number: input.noticeNumber,
        iuv: input.iuv ?? null,
        amount_cents: input.amountCents ?? null,
        psp_id: input.pspId,
        primitive_version: input.primitiveVersion,
        status: input.status,
        last_step: input.lastStep ?? null,
        created_at: at,
        updated_at: at,
      });
      return (await payments.get(input.paymentToken)) as Payment;
    },

    async get(paymentToken: string): Promise<Payment | null> {
      const row = await db<PaymentRow>('emulator_payments').where({ payment_token: paymentToken }).first();
      return row ? toPayment(row) : null;
    },

    async update(paymentToken: string, patch: PaymentPatch): Promise<void> {
      const columns: Record<string, unknown> = { updated_at: now() };
      if (patch.status !== undefined) columns.status = patch.status;
      if (patch.iuv !== undefined) columns.iuv = patch.iuv;
      if (patch.amountCents !== undefined) columns.amount_cents = patch.amountCents;
      if (patch.lastStep !== undefined) columns.last_step = patch.lastStep;
      if (patch.faultCode !== undefined) columns.fault_code = patch.faultCode;
      if (patch.receipt !== undefined)
        columns.receipt = patch.receipt === null ? null : JSON.stringify(patch.receipt);
      await db('emulator_payments').where({ payment_token: paymentToken }).update(columns);
    },

    /** The newest payment of this notice that is still activated or waiting to deliver receipts. */
    async findOpen(fiscalCode: string, noticeNumber: string): Promise<Payment | null> {
      const row = await db<PaymentRow>('emulator_payments')
        .where({ fiscal_code: fiscalCode, notice_number: noticeNumber })
        .whereIn('status', ['ACTIVATED', 'AUTHORIZED'])
        .orderBy('id', 'desc')
        .first();
      return row ? toPayment(row) : null;
    },

    async listByNotice(fiscalCode: string, noticeNumber: string): Promise<Payment[]> {
      const rows = await db<PaymentRow>('emulator_payments')
        .where({ fiscal_code: fiscalCode, notice_number: noticeNumber })
        .orderBy('id');
      return rows.map(toPayment);
    },

    async listByCart(cartId: string): Promise<Payment[]> {
      const rows = await db<PaymentRow>('emulator_payments').where({ cart_id: cartId }).orderBy('id');
      return rows.map(toPayment);
    },
  };

  const deliveries = {
    /** One PENDING delivery per EC that must receive the receipt; existing ones are kept. */
    async plan(paymentToken: string, fiscalCodes: readonly string[]): Promise<void> {
      const rows = fiscalCodes.map((fiscalCode) => ({
        payment_token: paymentToken,
        fiscal_code: fiscalCode,
        status: 'PENDING',
        attempts: 0,
        updated_at: now(),
      }));
      if (rows.length) {
        await db('emulator_receipt_deliveries')
          .insert(rows)
          .onConflict(['payment_token', 'fiscal_code'])
          .ignore();
      }
    },

    async list(paymentToken: string): Promise<ReceiptDelivery[]> {
      const rows = await db<DeliveryRow>('emulator_receipt_deliveries')
        .where({ payment_token: paymentToken })
        .orderBy('id');
      return rows.map((r) => ({
        paymentToken: r.payment_token,
        fiscalCode: r.fiscal_code,
        status: r.status,
        faultCode: r.fault_code,
        attempts: toInt(r.attempts),
      }));
    },

    async record(paymentToken: string, fiscalCode: string, status: DeliveryStatus, faultCode: string | null) {
      await db('emulator_receipt_deliveries')
        .where({ payment_token: paymentToken, fiscal_code: fiscalCode })
        .update({ status, fault_code: faultCode, updated_at: now() })
        .increment('attempts', 1);
    },
  };

  async function insertRpt(trx: Db, rpt: NewRpt, at: string): Promise<void> {
    try {
      const [inserted] = await trx('emulator_rpts')
        .insert({
          ...keyOf(rpt),
          cart_id: rpt.cartId,
          position: rpt.position,
          station_id: rpt.stationId,
          broker_id: rpt.brokerId,
          psp_id: rpt.pspId,
          tipo_versamento: rpt.tipoVersamento,
          amount_cents: rpt.amountCents,
          rpt_xml: rpt.rptXml,
          status: 'RPT_ACCETTATA_NODO',
          created_at: at,
          updated_at: at,
        })
        .returning('id');
      const id = toInt(typeof inserted === 'object' ? (inserted as { id: number | string }).id : inserted);
      await trx('emulator_rpt_history').insert([
        { rpt_id: id, occurred_at: at, status: 'RPT_RICEVUTA_NODO', description: 'RPT ricevuta dal nodo' },
        { rpt_id: id, occurred_at: at, status: 'RPT_ACCETTATA_NODO', description: 'RPT valida, accettata' },
      ]);
    } catch (err) {
      if (isUniqueViolation(err)) throw new EmulatorDuplicate('emulator_rpts');
      throw err;
    }
  }

  const rpts = {
    async get(key: RptKey): Promise<StoredRpt | null> {
      const row = await db<RptRow>('emulator_rpts').where(keyOf(key)).first();
      return row ? toRpt(row) : null;
    },

    async listByCart(cartId: string): Promise<StoredRpt[]> {
      const rows = await db<RptRow>('emulator_rpts').where({ cart_id: cartId }).orderBy('position');
      return rows.map(toRpt);
    },

    async setStatus(key: RptKey, status: string, description: string): Promise<void> {
      const at = now();
      await db.transaction(async (trx) => {
        await takeSqliteWriteLock(trx);
        const row = await trx<RptRow>('emulator_rpts').where(keyOf(key)).first();
        if (!row) return;
        await trx('emulator_rpts').where({ id: row.id }).update({ status, updated_at: at });
        await trx('emulator_rpt_history').insert({ rpt_id: row.id, occurred_at: at, status, description });
      });
    },

    async history(key: RptKey): Promise<RptHistoryEntry[]> {
      const rows = await db('emulator_rpt_history as h')
        .join('emulator_rpts as r', 'r.id', 'h.rpt_id')
        .where({ 'r.id_dominio': key.idDominio, 'r.iuv': key.iuv, 'r.ccp': key.ccp })
        .orderBy('h.id')
        .select<Array<{ occurred_at: string; status: string; description: string }>>(
          'h.occurred_at',
          'h.status',
          'h.description',
        );
      return rows.map((r) => ({ occurredAt: r.occurred_at, status: r.status, description: r.description }));
    },

    /** RPTs of a station (optionally of one EC) not yet in a final state, oldest first. */
    async listPending(stationId: string, idDominio: string | null): Promise<StoredRpt[]> {
      const query = db<RptRow>('emulator_rpts')
        .where({ station_id: stationId })
        .whereNotIn('status', [...FINAL_RPT_STATES])
        .orderBy('id');
      if (idDominio) query.andWhere({ id_dominio: idDominio });
      return (await query).map(toRpt);
    },
  };

  const rts = {
    /** Stores the RT of an RPT; the first one wins (an RPT has exactly one RT). */
    async save(rt: Omit<StoredRt, 'createdAt' | 'deliveryStatus' | 'faultCode'>): Promise<StoredRt> {
      const at = now();
      await db('emulator_rts')
        .insert({
          ...keyOf(rt),
          outcome_code: rt.outcomeCode,
          amount_cents: rt.amountCents,
          rt_xml: rt.rtXml,
          delivery_status: 'PENDING',
          fault_code: null,
          created_at: at,
          updated_at: at,
        })
        .onConflict(['id_dominio', 'iuv', 'ccp'])
        .ignore();
      return (await rts.get(rt)) as StoredRt;
    },

    async get(key: RptKey): Promise<StoredRt | null> {
      const row = await db<RtRow>('emulator_rts').where(keyOf(key)).first();
      return row ? toRt(row) : null;
    },

    async setDelivery(key: RptKey, status: RtDeliveryStatus, faultCode: string | null): Promise<void> {
      await db('emulator_rts')
        .where(keyOf(key))
        .update({ delivery_status: status, fault_code: faultCode, updated_at: now() });
    },
  };

  return { db, psps, stations, carts, payments, deliveries, rpts, rts };
}

export type EmulatorDb = ReturnType<typeof createEmulatorDb>;

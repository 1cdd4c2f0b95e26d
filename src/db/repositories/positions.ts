// Debt positions with their payment options and transfers. Every write bumps the position's version
// (optimistic lock) and appends its event row in the same transaction; status changes go through the
// domain state machine (src/domain/positionState.ts) before anything is written.

import type { DebtPosition, PaymentOption } from '../../domain/position.ts';
import { domainError } from '../../domain/errors.ts';
import {
  assertOptionTransition,
  assertTransition,
  isEditable,
  type OptionStatus,
  type PositionStatus,
} from '../../domain/positionState.ts';
import type { Db } from '../knex.ts';
import { mapUniqueViolation } from '../errors.ts';
import { appendEvent, appendEvents, type ChangeContext } from './events.ts';
import { chunk, inTransaction, insertedId, isoNow, toBool, toInt, toIntOrNull, type Clock } from '../rows.ts';
import { INSERT_CHUNK_SIZE } from './iuv.ts';

const POSITION = 'position';
const PAYMENT_OPTION = 'payment_option';
const DUPLICATE_CODES = { positions: 'POSITION_DUPLICATE', payment_options: 'NOTICE_DUPLICATE' } as const;

/** The IUV (and notice number, when it has one) given to one payment option. */
export interface Notice {
  iuv: string;
  noticeNumber: string | null;
}

/** "Multe con preavviso" details of a traffic fine (pagopa-facts §10). */
export interface MulteDetails {
  ticketNumber: string | null;
  plate: string | null;
  reducedAmountCents: number | null;
  reducedUntil: string | null;
}

export interface InsertPositionOptions extends ChangeContext {
  /** VALID unless given (RESERVED for a multe notice not yet activated). */
  status?: PositionStatus;
  /** One per option, in the order of `position.options`. */
  notices: readonly Notice[];
  multe?: Partial<MulteDetails>;
}

export interface TransitionOptions extends ChangeContext {
  /** The version the caller read; a different current version is CONCURRENT_UPDATE. */
  expectedVersion?: number;
}

export interface UpdatePositionOptions extends TransitionOptions {
  /** Notices for installments the position did not have before, keyed by installment number. */
  newNotices?: Readonly<Record<number, Notice>>;
  multe?: Partial<MulteDetails>;
}

export interface StoredDebtor {
  type: 'F' | 'G';
  fiscalCode: string;
  fullName: string;
  email: string | null;
  streetName: string | null;
  civicNumber: string | null;
  postalCode: string | null;
  city: string | null;
  stateProvinceRegion: string | null;
  country: string | null;
}

export interface StoredTransfer {
  id: number;
  index: number;
  enteFiscalCode: string;
  amountCents: number;
  iban: string;
  postal: boolean;
  category: string;
  remittanceInformation: string;
}

export interface StoredOption {
  id: number;
  enteId: number;
  installment: number;
  iuv: string;
  noticeNumber: string | null;
  amountCents: number;
  dueDate: string;
  description: string;
  status: OptionStatus;
  transfers: StoredTransfer[];
}

export interface PositionHeader {
  id: number;
  enteId: number;
  serviceId: number;
  /** The gestionale's own id for the position, unique within the ente. */
  positionId: string;
  status: PositionStatus;
  description: string;
  debtor: StoredDebtor | null;
  validityDate: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  multe: MulteDetails | null;
}

export interface StoredPosition extends PositionHeader {
  options: StoredOption[];
}

/** A reserved multe notice still waiting for activation, with the client that reserved it. */
export interface ReservedNotice {
  id: number;
  enteId: number;
  serviceId: number;
  version: number;
  createdAt: string;
  iuv: string;
  noticeNumber: string | null;
  /** The gestionale client that reserved it (iuv_allocations.client_id); null when unknown. */
  clientId: number | null;
}

/** One option to move in a bulk status change, with the cause and payload of its own event. */
export interface OptionStatusChange {
  optionId: number;
  cause: string;
  payload?: unknown;
}

/** Ids per bulk UPDATE … WHERE id IN (…): within SQLite's bound-parameter limit. */
const STATUS_CHUNK_SIZE = 500;

export interface ListPositionsFilter {
  status?: PositionStatus;
  limit?: number;
  offset?: number;
}

interface PositionRow {
  id: number | string;
  ente_id: number | string;
  service_id: number | string;
  position_id: string;
  status: PositionStatus;
  description: string;
  debtor_type: 'F' | 'G' | null;
  debtor_fiscal_code: string | null;
  debtor_full_name: string | null;
  debtor_email: string | null;
  debtor_street_name: string | null;
  debtor_civic_number: string | null;
  debtor_postal_code: string | null;
  debtor_city: string | null;
  debtor_state_province_region: string | null;
  debtor_country: string | null;
  validity_date: string | null;
  version: number | string;
  created_at: string;
  updated_at: string;
  ticket_number: string | null;
  plate: string | null;
  reduced_amount_cents: number | string | null;
  reduced_until: string | null;
}

interface OptionRow {
  id: number | string;
  position_id: number | string;
  ente_id: number | string;
  installment: number | string;
  iuv: string;
  notice_number: string | null;
  amount_cents: number | string;
  due_date: string;
  description: string;
  status: OptionStatus;
}

interface TransferRow {
  id: number | string;
  option_id: number | string;
  idx: number | string;
  ente_fiscal_code: string;
  amount_cents: number | string;
  iban: string;
  postal: boolean | number;
  category: string;
  remittance_information: string;
}

function toDebtor(row: PositionRow): StoredDebtor | null {
  if (row.debtor_type === null || row.debtor_fiscal_code === null || row.debtor_full_name === null)
    return null;
  return {
    type: row.debtor_type,
    fiscalCode: row.debtor_fiscal_code,
    fullName: row.debtor_full_name,
    email: row.debtor_email,
    streetName: row.debtor_street_name,
    civicNumber: row.debtor_civic_number,
    postalCode: row.debtor_postal_code,
    city: row.debtor_city,
    stateProvinceRegion: row.debtor_state_province_region,
    country: row.debtor_country,
  };
}

function toMulte(row: PositionRow): MulteDetails | null {
  const multe = {
    ticketNumber: row.ticket_number,
    plate: row.plate,
    reducedAmountCents: toIntOrNull(row.reduced_amount_cents),
    reducedUntil: row.reduced_until,
  };
  return Object.values(multe).every((v) => v === null) ? null : multe;
}

function toHeader(row: PositionRow): PositionHeader {
  return {
    id: toInt(row.id),
    enteId: toInt(row.ente_id),
    serviceId: toInt(row.service_id),
    positionId: row.position_id,
    status: row.status,
    description: row.description,
    debtor: toDebtor(row),
    validityDate: row.validity_date,
    version: toInt(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    multe: toMulte(row),
  };
}

function toTransfer(row: TransferRow): StoredTransfer {
  return {
    id: toInt(row.id),
    index: toInt(row.idx),
    enteFiscalCode: row.ente_fiscal_code,
    amountCents: toInt(row.amount_cents),
    iban: row.iban,
    postal: toBool(row.postal),
    category: row.category,
    remittanceInformation: row.remittance_information,
  };
}

function toOption(row: OptionRow, transfers: StoredTransfer[]): StoredOption {
  return {
    id: toInt(row.id),
    enteId: toInt(row.ente_id),
    installment: toInt(row.installment),
    iuv: row.iuv,
    noticeNumber: row.notice_number,
    amountCents: toInt(row.amount_cents),
    dueDate: row.due_date,
    description: row.description,
    status: row.status,
    transfers,
  };
}

/** The columns a DebtPosition sets on its row (everything but keys, status and bookkeeping). */
export function positionColumns(position: DebtPosition) {
  const d = position.debtor;
  return {
    description: position.description,
    debtor_type: d?.type ?? null,
    debtor_fiscal_code: d?.fiscalCode ?? null,
    debtor_full_name: d?.fullName ?? null,
    debtor_email: d?.email ?? null,
    debtor_street_name: d?.streetName ?? null,
    debtor_civic_number: d?.civicNumber ?? null,
    debtor_postal_code: d?.postalCode ?? null,
    debtor_city: d?.city ?? null,
    debtor_state_province_region: d?.stateProvinceRegion ?? null,
    debtor_country: d?.country ?? null,
    validity_date: position.validityDate,
  };
}

/** Multe columns to write: only the fields given, so an update can leave the others alone. */
function multeColumns(multe: Partial<MulteDetails> | undefined) {
  const columns: Record<string, string | number | null> = {};
  if (multe?.ticketNumber !== undefined) columns.ticket_number = multe.ticketNumber;
  if (multe?.plate !== undefined) columns.plate = multe.plate;
  if (multe?.reducedAmountCents !== undefined) columns.reduced_amount_cents = multe.reducedAmountCents;
  if (multe?.reducedUntil !== undefined) columns.reduced_until = multe.reducedUntil;
  return columns;
}

/** The columns a PaymentOption sets on its row (everything but keys, notice and status). */
export function optionColumns(option: PaymentOption) {
  return {
    installment: option.installment,
    amount_cents: option.amountCents,
    due_date: option.dueDate,
    description: option.description,
  };
}

/** The transfers rows of a PaymentOption stored under optionId. */
export function transferRows(optionId: number | undefined, option: PaymentOption) {
  return option.transfers.map((t) => ({
    option_id: optionId,
    idx: t.index,
    ente_fiscal_code: t.enteFiscalCode,
    amount_cents: t.amountCents,
    iban: t.iban,
    postal: t.postal,
    category: t.category,
    remittance_information: t.remittanceInformation,
  }));
}

async function insertTransfers(db: Db, optionId: number, option: PaymentOption): Promise<void> {
  const rows = transferRows(optionId, option);
  for (const part of chunk(rows, INSERT_CHUNK_SIZE)) await db('transfers').insert(part);
}

async function insertOption(
  db: Db,
  ids: { positionRowId: number; enteId: number },
  option: PaymentOption,
  notice: Notice,
): Promise<void> {
  const rows = await db('payment_options')
    .insert({
      position_id: ids.positionRowId,
      ente_id: ids.enteId,
      ...optionColumns(option),
      iuv: notice.iuv,
      notice_number: notice.noticeNumber,
      status: 'UNPAID',
    })
    .returning('id');
  await insertTransfers(db, insertedId(rows), option);
}

async function deleteOption(db: Db, optionId: number): Promise<void> {
  await db('transfers').where({ option_id: optionId }).delete();
  await db('payment_options').where({ id: optionId }).delete();
}

async function loadOptions(db: Db, positionRowId: number): Promise<StoredOption[]> {
  const options = await db<OptionRow>('payment_options')
    .where({ position_id: positionRowId })
    .orderBy('installment');
  const optionIds = options.map((o) => o.id);
  const transfers = await db<TransferRow>('transfers')
    .whereIn('option_id', optionIds)
    .orderBy(['option_id', 'idx']);
  const byOption = new Map<number, StoredTransfer[]>();
  for (const row of transfers) {
    const optionId = toInt(row.option_id);
    byOption.set(optionId, [...(byOption.get(optionId) ?? []), toTransfer(row)]);
  }
  return options.map((o) => toOption(o, byOption.get(toInt(o.id)) ?? []));
}

function eventContext(opts: ChangeContext): ChangeContext {
  return { cause: opts.cause, actor: opts.actor, payload: opts.payload };
}

function concurrentUpdate(id: number, details: Record<string, unknown> = {}) {
  return domainError('CONCURRENT_UPDATE', 'the position was changed by someone else', { id, ...details });
}

function checkVersion(current: PositionHeader, expectedVersion: number | undefined): void {
  if (expectedVersion !== undefined && expectedVersion !== current.version) {
    throw concurrentUpdate(current.id, { expectedVersion, version: current.version });
  }
}

/**
 * Bumps the version only if nobody else did since `current` was read: the guard of every write.
 * It runs first in each transaction, so on SQLite the write lock is taken before anything is read.
 */
async function bumpVersion(
  db: Db,
  current: PositionHeader,
  now: string,
  columns: Record<string, unknown> = {},
): Promise<void> {
  const changed = await db('positions')
    .where({ id: current.id, version: current.version })
    .update({ ...columns, version: current.version + 1, updated_at: now });
  if (changed === 0) throw concurrentUpdate(current.id);
}

/** Ids grouped by a key (a from-status, a version increment): one UPDATE per group. */
function groupIds<K>(entries: Iterable<readonly [number, K]>): Map<K, number[]> {
  const groups = new Map<K, number[]>();
  for (const [id, key] of entries) {
    const group = groups.get(key);
    if (group) group.push(id);
    else groups.set(key, [id]);
  }
  return groups;
}

export function createPositionsRepository(db: Db, clock: Clock) {
  const getHeader = async (id: number): Promise<PositionHeader | null> => {
    const row = await db<PositionRow>('positions').where({ id }).first();
    return row ? toHeader(row) : null;
  };

  const requireHeader = async (id: number): Promise<PositionHeader> => {
    const header = await getHeader(id);
    if (!header) throw domainError('POSITION_UNKNOWN', 'no such position', { id });
    return header;
  };

  const findById = async (id: number): Promise<StoredPosition | null> => {
    const header = await getHeader(id);
    return header ? { ...header, options: await loadOptions(db, header.id) } : null;
  };

  const insertAll = (
    enteId: number,
    serviceId: number,
    position: DebtPosition,
    opts: InsertPositionOptions,
  ) =>
    inTransaction(db, async (trx) => {
      const now = isoNow(clock);
      const status = opts.status ?? 'VALID';
      const rows = await trx('positions')
        .insert({
          ente_id: enteId,
          service_id: serviceId,
          position_id: position.positionId,
          status,
          ...positionColumns(position),
          ...multeColumns(opts.multe),
          version: 1,
          created_at: now,
          updated_at: now,
        })
        .returning('id');
      const id = insertedId(rows);
      for (const [i, option] of position.options.entries()) {
        await insertOption(trx, { positionRowId: id, enteId }, option, opts.notices[i] as Notice);
      }
      await appendEvent(trx, clock, {
        entityType: POSITION,
        entityId: id,
        action: 'created',
        toStatus: status,
        ...eventContext(opts),
      });
      return id;
    });

  const transition = async (
    id: number,
    to: PositionStatus,
    opts: TransitionOptions,
  ): Promise<PositionHeader> => {
    const current = await requireHeader(id);
    assertTransition(current.status, to);
    checkVersion(current, opts.expectedVersion);
    const now = isoNow(clock);
    await inTransaction(db, async (trx) => {
      await bumpVersion(trx, current, now, { status: to });
      await appendEvent(trx, clock, {
        entityType: POSITION,
        entityId: id,
        action: 'status_changed',
        fromStatus: current.status,
        toStatus: to,
        ...eventContext(opts),
      });
    });
    return { ...current, status: to, version: current.version + 1, updatedAt: now };
  };

  /** Options matched by installment: kept ones are rewritten in place and keep their notice. */
  const replaceOptions = async (
    trx: Db,
    current: StoredPosition,
    position: DebtPosition,
    newNotices: Readonly<Record<number, Notice>>,
  ): Promise<void> => {
    const existing = new Map(current.options.map((o) => [o.installment, o]));
    const kept = new Set(position.options.map((o) => o.installment));
    for (const old of current.options.filter((o) => !kept.has(o.installment)))
      await deleteOption(trx, old.id);
    for (const option of position.options) {
      const old = existing.get(option.installment);
      if (!old) {
        const ids = { positionRowId: current.id, enteId: current.enteId };
        await insertOption(trx, ids, option, newNotices[option.installment] as Notice);
        continue;
      }
      await trx('payment_options').where({ id: old.id }).update(optionColumns(option));
      await trx('transfers').where({ option_id: old.id }).delete();
      await insertTransfers(trx, old.id, option);
    }
  };

  return {
    findById,

    /**
     * Multe con preavviso: one RESERVED position per notice, keyed by its notice number, with a
     * placeholder option (no amount, due date or transfers) that activation fills in. Bulk inserts,
     * one transaction; a notice or positionId already taken is NOTICE_DUPLICATE / POSITION_DUPLICATE.
     */
    async insertReserved(
      enteId: number,
      serviceId: number,
      notices: readonly Notice[],
      opts: ChangeContext,
    ): Promise<number[]> {
      const details = { enteId, count: notices.length };
      return mapUniqueViolation(DUPLICATE_CODES, details, () =>
        inTransaction(db, async (trx) => {
          const now = isoNow(clock);
          const ids: number[] = [];
          for (const part of chunk(notices, INSERT_CHUNK_SIZE)) {
            const keys = part.map((n) => n.noticeNumber ?? n.iuv);
            await trx('positions').insert(
              keys.map((key) => ({
                ente_id: enteId,
                service_id: serviceId,
                position_id: key,
                status: 'RESERVED',
                description: '',
                version: 1,
                created_at: now,
                updated_at: now,
              })),
            );
            // Multi-row RETURNING gives no order guarantee on SQLite: read the ids back by key.
            const rows: Array<{ id: number | string; position_id: string }> = await trx('positions')
              .where({ ente_id: enteId })
              .whereIn('position_id', keys)
              .select('id', 'position_id');
            const idOf = new Map(rows.map((r) => [r.position_id, toInt(r.id)]));
            const partIds = keys.map((key) => idOf.get(key) as number);
            await trx('payment_options').insert(
              part.map((n, i) => ({
                position_id: partIds[i],
                ente_id: enteId,
                installment: 0,
                iuv: n.iuv,
                notice_number: n.noticeNumber,
                amount_cents: 0,
                due_date: '',
                description: '',
                status: 'UNPAID',
              })),
            );
            await appendEvents(
              trx,
              clock,
              partIds.map((id) => ({
                entityType: POSITION,
                entityId: id,
                action: 'created',
                toStatus: 'RESERVED',
                ...eventContext(opts),
              })),
            );
            ids.push(...partIds);
          }
          return ids;
        }),
      );
    },

    /**
     * Gives a position another gestionale id (a multe notice activated under the fine's own id).
     * A positionId already used in the ente is POSITION_DUPLICATE and nothing changes.
     */
    async renamePositionId(id: number, positionId: string, opts: TransitionOptions): Promise<PositionHeader> {
      const current = await requireHeader(id);
      checkVersion(current, opts.expectedVersion);
      if (current.positionId === positionId) return current;
      const now = isoNow(clock);
      const details = { enteId: current.enteId, positionId };
      await mapUniqueViolation(DUPLICATE_CODES, details, () =>
        inTransaction(db, async (trx) => {
          await bumpVersion(trx, current, now, { position_id: positionId });
          await appendEvent(trx, clock, {
            entityType: POSITION,
            entityId: id,
            action: 'renamed',
            fromStatus: current.status,
            toStatus: current.status,
            cause: opts.cause,
            actor: opts.actor,
            payload: { from: current.positionId, to: positionId },
          });
        }),
      );
      return { ...current, positionId, version: current.version + 1, updatedAt: now };
    },

    /** RESERVED positions created before the given instant, oldest ente/service first. */
    async listReservedCreatedBefore(createdBefore: string, limit = 10_000): Promise<ReservedNotice[]> {
      const rows: Array<{
        id: number | string;
        ente_id: number | string;
        service_id: number | string;
        version: number | string;
        created_at: string;
        iuv: string;
        notice_number: string | null;
        client_id: number | string | null;
      }> = await db('positions as p')
        .join('payment_options as o', 'o.position_id', 'p.id')
        .leftJoin('iuv_allocations as a', function () {
          this.on('a.ente_id', '=', 'o.ente_id').andOn('a.iuv', '=', 'o.iuv');
        })
        .where('p.status', 'RESERVED')
        .andWhere('p.created_at', '<', createdBefore)
        .orderBy([{ column: 'p.ente_id' }, { column: 'p.service_id' }, { column: 'p.id' }])
        .limit(limit)
        .select(
          'p.id',
          'p.ente_id',
          'p.service_id',
          'p.version',
          'p.created_at',
          'o.iuv',
          'o.notice_number',
          'a.client_id',
        );
      return rows.map((r) => ({
        id: toInt(r.id),
        enteId: toInt(r.ente_id),
        serviceId: toInt(r.service_id),
        version: toInt(r.version),
        createdAt: r.created_at,
        iuv: r.iuv,
        noticeNumber: r.notice_number,
        clientId: toIntOrNull(r.client_id),
      }));
    },

    /** Stores a validated position with its options, transfers and "created" event, atomically. */
    async insert(
      enteId: number,
      serviceId: number,
      position: DebtPosition,
      opts: InsertPositionOptions,
    ): Promise<StoredPosition> {
      if (opts.notices.length !== position.options.length) {
        throw domainError('INVALID_POSITION', 'one notice per payment option is required', {
          field: 'options',
          options: position.options.length,
          notices: opts.notices.length,
        });
      }
      const details = { enteId, positionId: position.positionId };
      const id = await mapUniqueViolation(DUPLICATE_CODES, details, () =>
        insertAll(enteId, serviceId, position, opts),
      );
      return (await findById(id)) as StoredPosition;
    },

    async findByPositionId(enteId: number, positionId: string): Promise<StoredPosition | null> {
      const row = await db<PositionRow>('positions')
        .where({ ente_id: enteId, position_id: positionId })
        .first();
      return row ? { ...toHeader(row), options: await loadOptions(db, toInt(row.id)) } : null;
    },

    /** The position owning a notice; the ente is its row id or its fiscal code (as the node sends it). */
    async findByNoticeNumber(ente: number | string, noticeNumber: string): Promise<StoredPosition | null> {
      const query = db<OptionRow>('payment_options').where('payment_options.notice_number', noticeNumber);
      if (typeof ente === 'number') query.where('payment_options.ente_id', ente);
      else query.join('enti', 'enti.id', 'payment_options.ente_id').where('enti.fiscal_code', ente);
      const row = await query.first('payment_options.position_id');
      return row ? findById(toInt(row.position_id)) : null;
    },

    async findByIuv(enteId: number, iuv: string): Promise<StoredPosition | null> {
      const row = await db<OptionRow>('payment_options').where({ ente_id: enteId, iuv }).first('position_id');
      return row ? findById(toInt(row.position_id)) : null;
    },

    async list(enteId: number, filter: ListPositionsFilter = {}): Promise<PositionHeader[]> {
      const query = db<PositionRow>('positions').where({ ente_id: enteId });
      if (filter.status) query.where({ status: filter.status });
      const rows = await query
        .orderBy('id')
        .limit(filter.limit ?? 100)
        .offset(filter.offset ?? 0);
      return rows.map(toHeader);
    },

    /**
     * Moves a position to another status. Illegal moves are INVALID_STATE_TRANSITION and a changed
     * version is CONCURRENT_UPDATE; either way nothing is written.
     */
    transition,

    cancel(id: number, opts: TransitionOptions): Promise<PositionHeader> {
      return transition(id, 'CANCELLED', opts);
    },

    /**
     * Undoes the creation of a position nothing has used yet (startPayment when the node cannot
     * open the payment): still at the version the caller read, every option unpaid and without a
     * receipt. Its IUVs stay allocated (an IUV is never reissued) and attempts keep their rows;
     * both lose the link (ON DELETE SET NULL). A position that moved on is CONCURRENT_UPDATE.
     */
    async removeUnused(id: number, opts: TransitionOptions & { expectedVersion: number }): Promise<void> {
      const current = await findById(id);
      if (!current) return;
      checkVersion(current, opts.expectedVersion);
      const optionIds = current.options.map((o) => o.id);
      await inTransaction(db, async (trx) => {
        const [receipts] = await trx('receipts')
          .whereIn('option_id', optionIds)
          .count<{ n: number | string }[]>({ n: '*' });
        if (current.options.some((o) => o.status !== 'UNPAID') || Number(receipts?.n ?? 0) > 0) {
          throw concurrentUpdate(id, { reason: 'the position was paid meanwhile' });
        }
        await bumpVersion(trx, current, isoNow(clock));
        await trx('position_extras').where({ position_id: id }).delete();
        for (const optionId of optionIds) await deleteOption(trx, optionId);
        await trx('positions').where({ id }).delete();
        await appendEvent(trx, clock, {
          entityType: POSITION,
          entityId: id,
          action: 'removed',
          fromStatus: current.status,
          toStatus: null,
          ...eventContext(opts),
          payload: { positionId: current.positionId, iuvs: current.options.map((o) => o.iuv) },
        });
      });
    },

    /** Marks one option paid / reported / reconciled; the position's version moves too. */
    async setOptionStatus(optionId: number, to: OptionStatus, opts: ChangeContext): Promise<StoredPosition> {
      const option = await db<OptionRow>('payment_options').where({ id: optionId }).first();
      if (!option) throw domainError('POSITION_UNKNOWN', 'no such payment option', { optionId });
      assertOptionTransition(option.status, to);
      const positionRowId = toInt(option.position_id);
      await inTransaction(db, async (trx) => {
        const changed = await trx('payment_options')
          .where({ id: optionId, status: option.status })
          .update({ status: to });
        if (changed === 0) throw concurrentUpdate(positionRowId, { optionId });
        await trx('positions')
          .where({ id: positionRowId })
          .update({ version: trx.raw('?? + 1', ['version']), updated_at: isoNow(clock) });
        await appendEvent(trx, clock, {
          entityType: PAYMENT_OPTION,
          entityId: optionId,
          action: 'status_changed',
          fromStatus: option.status,
          toStatus: to,
          ...eventContext(opts),
        });
      });
      return (await findById(positionRowId)) as StoredPosition;
    },

    /**
     * setOptionStatus for many options at once (the reconciliation job): the same checks, status
     * changes, version bumps and one event per option (with its own cause and payload), written with
     * one UPDATE per from-status and chunk and multi-row event INSERTs, in one transaction. The
     * position is not re-read. Events of a chunk share one occurred_at (setOptionStatus takes the
     * clock per event). An option given twice in one call is refused (the checks read it once).
     */
    async setOptionStatuses(
      changes: readonly OptionStatusChange[],
      to: OptionStatus,
      opts: { actor: string },
    ): Promise<void> {
      if (new Set(changes.map((c) => c.optionId)).size !== changes.length) {
        throw domainError('INVALID_STATE_TRANSITION', 'an option can move only once per call', { to });
      }
      await inTransaction(db, async (trx) => {
        for (const part of chunk(changes, STATUS_CHUNK_SIZE)) {
          const rows: Array<Pick<OptionRow, 'id' | 'position_id' | 'status'>> = await trx('payment_options')
            .whereIn(
              'id',
              part.map((c) => c.optionId),
            )
            .select('id', 'position_id', 'status');
          const current = new Map(rows.map((r) => [toInt(r.id), r]));
          for (const c of part) {
            const option = current.get(c.optionId);
            if (!option)
              throw domainError('POSITION_UNKNOWN', 'no such payment option', { optionId: c.optionId });
            assertOptionTransition(option.status, to);
          }
          const now = isoNow(clock);
          for (const [from, ids] of groupIds(rows.map((r) => [toInt(r.id), r.status] as const))) {
            const changed = await trx('payment_options')
              .whereIn('id', ids)
              .andWhere({ status: from })
              .update({ status: to });
            if (changed !== ids.length)
              throw concurrentUpdate(toInt(current.get(ids[0] as number)?.position_id ?? 0), {
                optionIds: ids,
              });
          }
          // Each option moved bumps its position's version by one, as setOptionStatus does.
          const moves = new Map<number, number>();
          for (const r of rows) moves.set(toInt(r.position_id), (moves.get(toInt(r.position_id)) ?? 0) + 1);
          for (const [count, positionIds] of groupIds(moves)) {
            await trx('positions')
              .whereIn('id', positionIds)
              .update({ version: trx.raw('?? + ?', ['version', count]), updated_at: now });
          }
          await appendEvents(
            trx,
            clock,
            part.map((c) => ({
              entityType: PAYMENT_OPTION,
              entityId: c.optionId,
              action: 'status_changed',
              fromStatus: (current.get(c.optionId) as Pick<OptionRow, 'status'>).status,
              toStatus: to,
              cause: c.cause,
              actor: opts.actor,
              payload: c.payload,
            })),
          );
        }
      });
    },

    /**
     * transition for many positions at once (the reconciliation job): the same state-machine check,
     * status change, version bump and one status_changed event per position, with one UPDATE per
     * from-status and chunk and multi-row event INSERTs, in one transaction. No expected version:
     * the UPDATE only touches rows still in the status read (anything else is CONCURRENT_UPDATE).
     */
    async transitionMany(ids: readonly number[], to: PositionStatus, opts: ChangeContext): Promise<void> {
      if (new Set(ids).size !== ids.length) {
        throw domainError('INVALID_STATE_TRANSITION', 'a position can move only once per call', { to });
      }
      await inTransaction(db, async (trx) => {
        for (const part of chunk(ids, STATUS_CHUNK_SIZE)) {
          const rows: Array<Pick<PositionRow, 'id' | 'status'>> = await trx('positions')
            .whereIn('id', part)
            .select('id', 'status');
          const current = new Map(rows.map((r) => [toInt(r.id), r.status]));
          for (const id of part) {
            const from = current.get(id);
            if (from === undefined) throw domainError('POSITION_UNKNOWN', 'no such position', { id });
            assertTransition(from, to);
          }
          const now = isoNow(clock);
          for (const [from, group] of groupIds(current)) {
            const changed = await trx('positions')
              .whereIn('id', group)
              .andWhere({ status: from })
              .update({ status: to, version: trx.raw('?? + 1', ['version']), updated_at: now });
            if (changed !== group.length) throw concurrentUpdate(group[0] as number, { ids: group });
          }
          await appendEvents(
            trx,
            clock,
            part.map((id) => ({
              entityType: POSITION,
              entityId: id,
              action: 'status_changed',
              fromStatus: current.get(id) as PositionStatus,
              toStatus: to,
              ...eventContext(opts),
            })),
          );
        }
      });
    },

    /**
     * Replaces the position's data and options while it is still editable (or a reserved multe notice
     * being activated). Options keep their notice by installment number; paid options cannot change.
     */
    async update(id: number, position: DebtPosition, opts: UpdatePositionOptions): Promise<StoredPosition> {
      const current = await findById(id);
      if (!current) throw domainError('POSITION_UNKNOWN', 'no such position', { id });
      assertUpdatable(current, position, opts.newNotices ?? {});
      checkVersion(current, opts.expectedVersion);
      const details = { enteId: current.enteId, positionId: current.positionId };
      await mapUniqueViolation(DUPLICATE_CODES, details, () =>
        inTransaction(db, async (trx) => {
          const columns = { ...positionColumns(position), ...multeColumns(opts.multe) };
          await bumpVersion(trx, current, isoNow(clock), columns);
          await replaceOptions(trx, current, position, opts.newNotices ?? {});
          await appendEvent(trx, clock, {
            entityType: POSITION,
            entityId: id,
            action: 'updated',
            fromStatus: current.status,
            toStatus: current.status,
            ...eventContext(opts),
          });
        }),
      );
      return (await findById(id)) as StoredPosition;
    },
  };
}

/** The checks `update` makes before writing: editable status, unpaid options, a notice per new option. */
function assertUpdatable(
  current: StoredPosition,
  position: DebtPosition,
  newNotices: Readonly<Record<number, Notice>>,
) {
  // A reserved multe notice gets its amount and debtor when it is activated (DESIGN.md §2).
  if (!isEditable(current.status) && current.status !== 'RESERVED') {
    throw domainError('INVALID_STATE_TRANSITION', `a ${current.status} position cannot be changed`, {
      from: current.status,
    });
  }
  if (current.options.some((o) => o.status !== 'UNPAID')) {
    throw domainError('INVALID_STATE_TRANSITION', 'a position with paid options cannot be changed', {
      from: current.status,
    });
  }
  const installments = new Set(current.options.map((o) => o.installment));
  const missing = position.options.find(
    (o) => !installments.has(o.installment) && !newNotices[o.installment],
  );
  if (missing) {
    throw domainError('INVALID_POSITION', 'a new installment needs a notice', {
      field: 'options',
      installment: missing.installment,
    });
  }
}

export type PositionsRepository = ReturnType<typeof createPositionsRepository>;

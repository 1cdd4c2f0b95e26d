// IUV sequences and the register of issued IUVs / notice numbers. Sequence numbers are reserved with
// a single upsert statement, so several processes (PostgreSQL row lock, SQLite write lock) never get
// the same number; turning a number into an IUV is the domain's job (src/domain/noticeNumber.ts).

import type { Db } from '../knex.ts';
import { mapUniqueViolation } from '../errors.ts';
import { chunk, inTransaction, isoNow, toInt, toIntOrNull, type Clock } from '../rows.ts';

export const DEFAULT_IUV_SCOPE = 'default';
/** Rows per INSERT: far below SQLite's bound-parameter limit whatever the column count. */
export const INSERT_CHUNK_SIZE = 500;

export type AllocationPurpose = 'request' | 'reserve' | 'position' | 'spontaneous';

export interface NewAllocation {
  enteId: number;
  iuv: string;
  noticeNumber?: string | null;
  serviceId?: number | null;
  clientId?: number | null;
  purpose: AllocationPurpose;
  optionId?: number | null;
}

export interface Allocation {
  id: number;
  enteId: number;
  iuv: string;
  noticeNumber: string | null;
  serviceId: number | null;
  clientId: number | null;
  purpose: AllocationPurpose;
  optionId: number | null;
  createdAt: string;
}

/** Turns the n-th sequence value into the IUV and notice number to record. */
export type FormatNotice = (sequenceValue: number) => { iuv: string; noticeNumber: string | null };

export interface IssueOptions {
  scope?: string;
  format: FormatNotice;
  purpose: AllocationPurpose;
  serviceId?: number | null;
  clientId?: number | null;
}

interface AllocationRow {
  id: number | string;
  ente_id: number | string;
  iuv: string;
  notice_number: string | null;
  service_id: number | string | null;
  client_id: number | string | null;
  purpose: AllocationPurpose;
  option_id: number | string | null;
  created_at: string;
}

function toAllocation(row: AllocationRow): Allocation {
  return {
    id: toInt(row.id),
    enteId: toInt(row.ente_id),
    iuv: row.iuv,
    noticeNumber: row.notice_number,
    serviceId: toIntOrNull(row.service_id),
    clientId: toIntOrNull(row.client_id),
    purpose: row.purpose,
    optionId: toIntOrNull(row.option_id),
    createdAt: row.created_at,
  };
}

function assertCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 1)
    throw new RangeError(`allocation count must be >= 1: ${count}`);
}

export function createIuvRepository(db: Db, clock: Clock) {
  /**
   * Reserves `count` consecutive sequence values (the first ever is 1, so the all-zero probe notice is
   * never issued). One statement: insert the counter or bump it, and read the new value back.
   * Deliberately no surrounding transaction: on SQLite a transaction held across awaits would make
   * other connections busy-wait, blocking their event loop.
   */
  const allocate = async (enteId: number, count: number, scope = DEFAULT_IUV_SCOPE): Promise<number[]> => {
    assertCount(count);
    const rows: Array<{ next_value: number | string }> = await db('iuv_sequences')
      .insert({ ente_id: enteId, scope, next_value: 1 + count })
      .onConflict(['ente_id', 'scope'])
      .merge({ next_value: db.raw('?? + ?', ['iuv_sequences.next_value', count]) })
      .returning('next_value');
    const next = toInt(rows[0]?.next_value ?? Number.NaN);
    return Array.from({ length: count }, (_, k) => next - count + k);
  };

  /** Registers issued IUVs, in chunks; a taken IUV or notice number is NOTICE_DUPLICATE and nothing is kept. */
  const record = (allocations: readonly NewAllocation[]): Promise<void> => {
    const createdAt = isoNow(clock);
    const rows = allocations.map((a) => ({
      ente_id: a.enteId,
      iuv: a.iuv,
      notice_number: a.noticeNumber ?? null,
      service_id: a.serviceId ?? null,
      client_id: a.clientId ?? null,
      purpose: a.purpose,
      option_id: a.optionId ?? null,
      created_at: createdAt,
    }));
    return mapUniqueViolation('NOTICE_DUPLICATE', { count: rows.length }, () =>
      inTransaction(db, async (trx) => {
        for (const part of chunk(rows, INSERT_CHUNK_SIZE)) await trx('iuv_allocations').insert(part);
      }),
    );
  };

  return {
    allocate,
    record,

    /** allocate + format + record: the usual way to hand out new notices. */
    async issue(enteId: number, count: number, opts: IssueOptions): Promise<NewAllocation[]> {
      const values = await allocate(enteId, count, opts.scope);
      const allocations = values.map((n) => ({
        enteId,
        ...opts.format(n),
        serviceId: opts.serviceId ?? null,
        clientId: opts.clientId ?? null,
        purpose: opts.purpose,
      }));
      await record(allocations);
      return allocations;
    },

    async findByNoticeNumber(enteId: number, noticeNumber: string): Promise<Allocation | null> {
      const row = await db<AllocationRow>('iuv_allocations')
        .where({ ente_id: enteId, notice_number: noticeNumber })
        .first();
      return row ? toAllocation(row) : null;
    },

    async findByIuv(enteId: number, iuv: string): Promise<Allocation | null> {
      const row = await db<AllocationRow>('iuv_allocations').where({ ente_id: enteId, iuv }).first();
      return row ? toAllocation(row) : null;
    },

    /**
     * Links each issued IUV to the payment option of the ente that carries it, in chunked UPDATEs
     * (bulk counterpart of attach, e.g. for a block of reserved notices); returns how many changed.
     */
    async attachByIuv(enteId: number, iuvs: readonly string[]): Promise<number> {
      let changed = 0;
      for (const part of chunk(iuvs, INSERT_CHUNK_SIZE)) {
        changed += await db('iuv_allocations')
          .where({ ente_id: enteId })
          .whereIn('iuv', part)
          .update({
            option_id: db.raw(
              '(select po.id from payment_options po where po.ente_id = iuv_allocations.ente_id and po.iuv = iuv_allocations.iuv)',
            ),
          });
      }
      return changed;
    },

    /** Links an issued IUV to the payment option that now uses it; false when the IUV was never issued. */
    async attach(enteId: number, iuv: string, optionId: number): Promise<boolean> {
      const changed = await db('iuv_allocations')
        .where({ ente_id: enteId, iuv })
        .update({ option_id: optionId });
      return changed > 0;
    },
  };
}

export type IuvRepository = ReturnType<typeof createIuvRepository>;

// Reconciliation anomalies: typed records (code + stable subject key, unique per ente) that a
// reconciliation run opens, resolves automatically when later data explains them, or reopens; an
// operator may resolve one by hand (MANUAL), and then it stays resolved. Every change has its event.

import { domainError } from '../../domain/errors.ts';
import type { Db } from '../knex.ts';
import { appendEvent, type ChangeContext } from './events.ts';
import { inTransaction, insertedId, isoNow, toInt, toIntOrNull, type Clock } from '../rows.ts';

export const RECONCILIATION_ANOMALY = 'reconciliation_anomaly';

export type AnomalyStatus = 'OPEN' | 'RESOLVED';
export type AnomalyResolution = 'AUTO' | 'MANUAL';

/** What describes an anomaly besides its identity (ente, code, subject key). */
export interface AnomalyDetails {
  description: string | null;
  flowId: string | null;
  pspId: string | null;
  iuv: string | null;
  iur: string | null;
  positionId: string | null;
  noticeNumber: string | null;
  amountCents: number | null;
  expectedAmountCents: number | null;
}

export interface NewAnomaly extends AnomalyDetails {
  enteId: number;
  code: string;
  subjectKey: string;
  /** Recorded already resolved (AUTO), with this note: a fact worth keeping that needs no action. */
  resolvedNote?: string | null;
}

export interface StoredAnomaly extends AnomalyDetails {
  id: number;
  enteId: number;
  enteFiscalCode: string;
  code: string;
  subjectKey: string;
  status: AnomalyStatus;
  resolution: AnomalyResolution | null;
  note: string | null;
  detectedAt: string;
  resolvedAt: string | null;
}

export interface AnomalyFilter {
  enteId?: number;
  status?: AnomalyStatus;
  flowId?: string;
}

interface AnomalyRow {
  id: number | string;
  ente_id: number | string;
  fiscal_code: string;
  code: string;
  subject_key: string;
  status: AnomalyStatus;
  resolution: AnomalyResolution | null;
  note: string | null;
  detected_at: string;
  resolved_at: string | null;
  description: string | null;
  flow_id: string | null;
  psp_id: string | null;
  iuv: string | null;
  iur: string | null;
  position_id: string | null;
  notice_number: string | null;
  amount_cents: number | string | null;
  expected_amount_cents: number | string | null;
}

function toAnomaly(row: AnomalyRow): StoredAnomaly {
  return {
    id: toInt(row.id),
    enteId: toInt(row.ente_id),
    enteFiscalCode: row.fiscal_code,
    code: row.code,
    subjectKey: row.subject_key,
    status: row.status,
    resolution: row.resolution,
    note: row.note,
    detectedAt: row.detected_at,
    resolvedAt: row.resolved_at,
    description: row.description,
    flowId: row.flow_id,
    pspId: row.psp_id,
    iuv: row.iuv,
    iur: row.iur,
    positionId: row.position_id,
    noticeNumber: row.notice_number,
    amountCents: toIntOrNull(row.amount_cents),
    expectedAmountCents: toIntOrNull(row.expected_amount_cents),
  };
}

function detailColumns(d: AnomalyDetails) {
  return {
    description: d.description,
    flow_id: d.flowId,
    psp_id: d.pspId,
    iuv: d.iuv,
    iur: d.iur,
    position_id: d.positionId,
    notice_number: d.noticeNumber,
    amount_cents: d.amountCents,
    expected_amount_cents: d.expectedAmountCents,
  };
}

function anomalyQuery(db: Db) {
  return db<AnomalyRow>('reconciliation_anomalies as a')
    .join('enti as e', 'e.id', 'a.ente_id')
    .select('a.*', 'e.fiscal_code');
}

export function createAnomaliesRepository(db: Db, clock: Clock) {
  const getById = async (id: number): Promise<StoredAnomaly | null> => {
    const row = await anomalyQuery(db).where('a.id', id).first();
    return row ? toAnomaly(row as AnomalyRow) : null;
  };

  const find = async (enteId: number, code: string, subjectKey: string): Promise<StoredAnomaly | null> => {
    const row = await anomalyQuery(db)
      .where({ 'a.ente_id': enteId, 'a.code': code, 'a.subject_key': subjectKey })
      .first();
    return row ? toAnomaly(row as AnomalyRow) : null;
  };

  const changeStatus = (
    current: StoredAnomaly,
    columns: Record<string, unknown>,
    action: string,
    ctx: ChangeContext,
  ): Promise<boolean> =>
    inTransaction(db, async (trx) => {
      const changed = await trx('reconciliation_anomalies')
        .where({ id: current.id, status: current.status })
        .update(columns);
      if (changed === 0) return false;
      await appendEvent(trx, clock, {
        entityType: RECONCILIATION_ANOMALY,
        entityId: current.id,
        action,
        fromStatus: current.status,
        toStatus: (columns.status as string | undefined) ?? current.status,
        cause: ctx.cause,
        actor: ctx.actor,
        payload: ctx.payload ?? { code: current.code, subjectKey: current.subjectKey },
      });
      return true;
    });

  return {
    getById,
    find,

    /** Records a new anomaly (OPEN, or RESOLVED AUTO with its note), with its event. */
    async open(input: NewAnomaly, ctx: ChangeContext): Promise<StoredAnomaly> {
      const id = await inTransaction(db, async (trx) => {
        const now = isoNow(clock);
        const resolved = input.resolvedNote !== undefined && input.resolvedNote !== null;
        const rowId = insertedId(
          await trx('reconciliation_anomalies')
            .insert({
              ente_id: input.enteId,
              code: input.code,
              subject_key: input.subjectKey,
              status: resolved ? 'RESOLVED' : 'OPEN',
              resolution: resolved ? 'AUTO' : null,
              note: resolved ? input.resolvedNote : null,
              detected_at: now,
              resolved_at: resolved ? now : null,
              ...detailColumns(input),
            })
            .returning('id'),
        );
        await appendEvent(trx, clock, {
          entityType: RECONCILIATION_ANOMALY,
          entityId: rowId,
          action: 'detected',
          toStatus: resolved ? 'RESOLVED' : 'OPEN',
          cause: ctx.cause,
          actor: ctx.actor,
          payload: ctx.payload ?? {
            code: input.code,
            subjectKey: input.subjectKey,
            note: input.resolvedNote,
          },
        });
        return rowId;
      });
      return (await getById(id)) as StoredAnomaly;
    },

    /** An AUTO-resolved anomaly found again: open once more, with its current details. */
    reopen(current: StoredAnomaly, details: AnomalyDetails, ctx: ChangeContext): Promise<boolean> {
      const columns = {
        status: 'OPEN',
        resolution: null,
        note: null,
        resolved_at: null,
        ...detailColumns(details),
      };
      return changeStatus(current, columns, 'reopened', ctx);
    },

    /** Resolves an open anomaly: AUTO by a reconciliation run, MANUAL by an operator (with a note). */
    resolve(
      current: StoredAnomaly,
      resolution: AnomalyResolution,
      note: string | null,
      ctx: ChangeContext,
    ): Promise<boolean> {
      const columns = { status: 'RESOLVED', resolution, note, resolved_at: isoNow(clock) };
      return changeStatus(current, columns, resolution === 'MANUAL' ? 'resolved_manually' : 'resolved', ctx);
    },

    /** Refreshes the details (amounts, description) of an anomaly that stays open. */
    async updateDetails(id: number, details: AnomalyDetails): Promise<void> {
      await db('reconciliation_anomalies').where({ id }).update(detailColumns(details));
    },

    async list(filter: AnomalyFilter = {}): Promise<StoredAnomaly[]> {
      const query = anomalyQuery(db);
      if (filter.enteId !== undefined) query.where('a.ente_id', filter.enteId);
      if (filter.status) query.where('a.status', filter.status);
      if (filter.flowId) query.where('a.flow_id', filter.flowId);
      const rows = await query.orderBy([{ column: 'a.detected_at' }, { column: 'a.id' }]);
      return (rows as AnomalyRow[]).map(toAnomaly);
    },

    /** Throws ANOMALY_UNKNOWN when there is no such anomaly. */
    async require(id: number): Promise<StoredAnomaly> {
      const found = await getById(id);
      if (!found) throw domainError('ANOMALY_UNKNOWN', `no anomaly ${id}`, { id });
      return found;
    },
  };
}

export type AnomaliesRepository = ReturnType<typeof createAnomaliesRepository>;

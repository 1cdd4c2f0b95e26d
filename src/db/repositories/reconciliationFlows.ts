// Reporting flows received from the node (FlussoRiversamento, pagopa-facts §7), one row per revision,
// stored whole with their lines. A newer revision (same ente, PSP and flow id, later dataOraFlusso)
// becomes the latest; older ones are kept as received but no longer matched.

import { createHash } from 'node:crypto';
import type { FlowDocument, FlowOutcomeCode } from '../../reconciliation/model.ts';
import { compareFlowDateTimes, type FlowStatus, type LineStatus } from '../../reconciliation/matching.ts';
import type { OptionStatus, PositionStatus } from '../../domain/positionState.ts';
import type { Db } from '../knex.ts';
import { toReceipt, type Receipt, type ReceiptRow } from './receipts.ts';
import { mapUniqueViolation } from '../errors.ts';
import { appendEvent, type ChangeContext } from './events.ts';
import { chunk, inTransaction, insertedId, isoNow, toBool, toInt, toIntOrNull, type Clock } from '../rows.ts';

export const RECONCILIATION_FLOW = 'reconciliation_flow';

export type { FlowStatus, LineStatus };

export interface StoredFlow {
  id: number;
  enteId: number;
  pspId: string;
  flowId: string;
  flowDateTime: string;
  isLatest: boolean;
  version: string;
  trn: string;
  settlementDate: string;
  senderIdType: string;
  senderName: string | null;
  bic: string | null;
  receiverId: string;
  receiverName: string | null;
  paymentCount: number;
  totalAmountCents: number;
  sha256: string;
  status: FlowStatus;
  notifiedState: string | null;
  receivedAt: string;
  updatedAt: string;
}

export interface StoredFlowLine {
  id: number;
  flowRowId: number;
  lineNo: number;
  iuv: string;
  iur: string;
  transferIndex: number | null;
  amountCents: number;
  outcomeCode: FlowOutcomeCode;
  outcomeDate: string;
  receiptRowId: number | null;
  optionId: number | null;
  status: LineStatus;
  anomalyCode: string | null;
}

/** What matching decided for one line. */
export interface LineMatch {
  id: number;
  status: LineStatus;
  receiptRowId: number | null;
  optionId: number | null;
  anomalyCode: string | null;
}

export interface InsertedRevision {
  flow: StoredFlow;
  /** False when this very revision was stored already (nothing was written). */
  created: boolean;
  /** The revision it replaced as the latest, if any. */
  superseded: StoredFlow | null;
}

export interface FlowSummaryFilter {
  fromDate: string;
  toDate: string;
  status?: FlowStatus;
  limit: number;
  offset: number;
}

/** A matched line of a latest flow, for the position views. */
export interface OptionFlowLink {
  optionId: number;
  flowRowId: number;
  flowId: string;
  pspId: string;
  trn: string;
  settlementDate: string;
  flowStatus: FlowStatus;
}

/** A flow line with what it was matched to (receipt, option, position), for the views. */
export interface FlowLineDetails extends StoredFlowLine {
  receiptId: string | null;
  positionId: string | null;
  installment: number | null;
  noticeNumber: string | null;
}

/** An option of a position a receipt paid, with its position: what reconciliation may move. */
export interface OptionOfPosition {
  optionId: number;
  installment: number;
  iuv: string;
  noticeNumber: string | null;
  status: OptionStatus;
  positionRowId: number;
  positionId: string;
  positionStatus: PositionStatus;
}

interface FlowRow {
  id: number | string;
  ente_id: number | string;
  psp_id: string;
  flow_id: string;
  flow_date_time: string;
  is_latest: boolean | number;
  version: string;
  trn: string;
  settlement_date: string;
  sender_id_type: string;
  sender_name: string | null;
  bic: string | null;
  receiver_id: string;
  receiver_name: string | null;
  payment_count: number | string;
  total_amount_cents: number | string;
  sha256: string;
  status: FlowStatus;
  notified_state: string | null;
  received_at: string;
  updated_at: string;
}

interface LineRow {
  id: number | string;
  flow_row_id: number | string;
  line_no: number | string;
  iuv: string;
  iur: string;
  transfer_index: number | string | null;
  amount_cents: number | string;
  outcome_code: FlowOutcomeCode;
  outcome_date: string;
  receipt_row_id: number | string | null;
  option_id: number | string | null;
  status: LineStatus;
  anomaly_code: string | null;
}

/** Every column but the document, which only the views that show it read. */
const FLOW_COLUMNS = [
  'id',
  'ente_id',
  'psp_id',
  'flow_id',
  'flow_date_time',
  'is_latest',
  'version',
  'trn',
  'settlement_date',
  'sender_id_type',
  'sender_name',
  'bic',
  'receiver_id',
  'receiver_name',
  'payment_count',
  'total_amount_cents',
  'sha256',
  'status',
  'notified_state',
  'received_at',
  'updated_at',
];

function toFlow(row: FlowRow): StoredFlow {
  return {
    id: toInt(row.id),
    enteId: toInt(row.ente_id),
    pspId: row.psp_id,
    flowId: row.flow_id,
    flowDateTime: row.flow_date_time,
    isLatest: toBool(row.is_latest),
    version: row.version,
    trn: row.trn,
    settlementDate: row.settlement_date,
    senderIdType: row.sender_id_type,
    senderName: row.sender_name,
    bic: row.bic,
    receiverId: row.receiver_id,
    receiverName: row.receiver_name,
    paymentCount: toInt(row.payment_count),
    totalAmountCents: toInt(row.total_amount_cents),
    sha256: row.sha256,
    status: row.status,
    notifiedState: row.notified_state,
    receivedAt: row.received_at,
    updatedAt: row.updated_at,
  };
}

function toLine(row: LineRow): StoredFlowLine {
  return {
    id: toInt(row.id),
    flowRowId: toInt(row.flow_row_id),
    lineNo: toInt(row.line_no),
    iuv: row.iuv,
    iur: row.iur,
    transferIndex: toIntOrNull(row.transfer_index),
    amountCents: toInt(row.amount_cents),
    outcomeCode: row.outcome_code,
    outcomeDate: row.outcome_date,
    receiptRowId: toIntOrNull(row.receipt_row_id),
    optionId: toIntOrNull(row.option_id),
    status: row.status,
    anomalyCode: row.anomaly_code,
  };
}

export function sha256Hex(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

const LINE_CHUNK_SIZE = 200;
/** Lines per bulk UPDATE: five parameters each, under SQLite's historical 999-parameter limit. */
const LINE_UPDATE_CHUNK_SIZE = 190;

export function createReconciliationFlowsRepository(db: Db, clock: Clock) {
  const getById = async (id: number): Promise<StoredFlow | null> => {
    const row = await db<FlowRow>('reconciliation_flows')
      .where({ id })
      .first<FlowRow | undefined>(FLOW_COLUMNS);
    return row ? toFlow(row) : null;
  };

  const listRevisions = async (enteId: number, flowId: string, pspId?: string): Promise<StoredFlow[]> => {
    const query = db<FlowRow>('reconciliation_flows').where({ ente_id: enteId, flow_id: flowId });
    if (pspId !== undefined) query.where({ psp_id: pspId });
    const rows = await query.orderBy('id').select<FlowRow[]>(FLOW_COLUMNS);
    return rows.map(toFlow);
  };

  const insertLines = async (trx: Db, flowRowId: number, doc: FlowDocument): Promise<void> => {
    const rows = doc.payments.map((p, i) => ({
      flow_row_id: flowRowId,
      line_no: i + 1,
      iuv: p.iuv,
      iur: p.iur,
      transfer_index: p.transferIndex,
      amount_cents: p.amountCents,
      outcome_code: p.outcomeCode,
      outcome_date: p.outcomeDate,
      receipt_row_id: null,
      option_id: null,
      status: 'UNMATCHED',
      anomaly_code: null,
    }));
    for (const part of chunk(rows, LINE_CHUNK_SIZE)) await trx('reconciliation_flow_lines').insert(part);
  };

  const insertAll = (enteId: number, doc: FlowDocument, xml: string, ctx: ChangeContext) =>
    inTransaction(db, async (trx): Promise<InsertedRevision> => {
      const pspId = doc.sender.id;
      const existing = (
        await trx<FlowRow>('reconciliation_flows')
          .where({ ente_id: enteId, psp_id: pspId, flow_id: doc.flowId })
          .select<FlowRow[]>(FLOW_COLUMNS)
      ).map(toFlow);
      const same = existing.find((f) => f.flowDateTime === doc.flowDateTime);
      if (same) return { flow: same, created: false, superseded: null };
      const current = existing.find((f) => f.isLatest) ?? null;
      const latest = current === null || compareFlowDateTimes(doc.flowDateTime, current.flowDateTime) > 0;
      const now = isoNow(clock);
      if (latest && current) {
        await trx('reconciliation_flows')
          .where({ id: current.id })
          .update({ is_latest: false, updated_at: now });
      }
      const id = insertedId(
        await trx('reconciliation_flows')
          .insert({
            ente_id: enteId,
            psp_id: pspId,
            flow_id: doc.flowId,
            flow_date_time: doc.flowDateTime,
            is_latest: latest,
            version: doc.version,
            trn: doc.trn,
            settlement_date: doc.settlementDate,
            sender_id_type: doc.sender.idType,
            sender_name: doc.sender.name,
            bic: doc.bic,
            receiver_id: doc.receiver.id,
            receiver_name: doc.receiver.name,
            payment_count: doc.paymentCount,
            total_amount_cents: doc.totalAmountCents,
            document: xml,
            sha256: sha256Hex(xml),
            status: 'PENDING',
            notified_state: null,
            received_at: now,
            updated_at: now,
          })
          .returning('id'),
      );
      await insertLines(trx, id, doc);
      await appendEvent(trx, clock, {
        entityType: RECONCILIATION_FLOW,
        entityId: id,
        action: latest ? 'received' : 'received_outdated',
        toStatus: 'PENDING',
        cause: ctx.cause,
        actor: ctx.actor,
        payload: ctx.payload ?? {
          flowId: doc.flowId,
          flowDateTime: doc.flowDateTime,
          pspId,
          lines: doc.payments.length,
          replaces: latest && current ? current.id : null,
        },
      });
      if (latest && current) {
        await appendEvent(trx, clock, {
          entityType: RECONCILIATION_FLOW,
          entityId: current.id,
          action: 'superseded',
          fromStatus: current.status,
          toStatus: current.status,
          cause: `revision ${doc.flowDateTime} of flow ${doc.flowId} received`,
          actor: ctx.actor,
          payload: { by: id },
        });
      }
      const row = await trx<FlowRow>('reconciliation_flows')
        .where({ id })
        .first<FlowRow | undefined>(FLOW_COLUMNS);
      return { flow: toFlow(row as FlowRow), created: true, superseded: latest ? current : null };
    });

  return {
    getById,
    listRevisions,

    /**
     * Stores one received revision whole with its lines, in one transaction. The same revision
     * again (same ente, PSP, flow id and dataOraFlusso) writes nothing and returns created: false.
     */
    async insertRevision(
      enteId: number,
      doc: FlowDocument,
      xml: string,
      ctx: ChangeContext,
    ): Promise<InsertedRevision> {
      try {
        return await mapUniqueViolation('DUPLICATE', { flowId: doc.flowId }, () =>
          insertAll(enteId, doc, xml, ctx),
        );
      } catch (err) {
        // Another instance stored the same revision at the same moment: it is there now.
        const stored = (await listRevisions(enteId, doc.flowId, doc.sender.id)).find(
          (f) => f.flowDateTime === doc.flowDateTime,
        );
        if (stored) return { flow: stored, created: false, superseded: null };
        throw err;
      }
    },

    /** The FlussoRiversamento XML as received. */
    async getDocument(id: number): Promise<string | null> {
      const row = await db('reconciliation_flows').where({ id }).first<{ document: string }>('document');
      return row?.document ?? null;
    },

    /** The latest revision of each of the ente's flows, oldest settlement first. */
    async listLatest(enteId: number): Promise<StoredFlow[]> {
      const rows = await db<FlowRow>('reconciliation_flows')
        .where({ ente_id: enteId, is_latest: true })
        .orderBy([{ column: 'settlement_date' }, { column: 'flow_id' }, { column: 'id' }])
        .select<FlowRow[]>(FLOW_COLUMNS);
      return rows.map(toFlow);
    },

    /** The latest revision of one flow id (of one PSP when given; else the most recent one). */
    async findLatest(enteId: number, flowId: string, pspId?: string): Promise<StoredFlow | null> {
      const query = db<FlowRow>('reconciliation_flows').where({
        ente_id: enteId,
        flow_id: flowId,
        is_latest: true,
      });
      if (pspId !== undefined) query.where({ psp_id: pspId });
      const row = await query.orderBy('id', 'desc').first<FlowRow | undefined>(FLOW_COLUMNS);
      return row ? toFlow(row) : null;
    },

    /** Lines of the given flows, in flow and line order. */
    async listLines(flowRowIds: readonly number[]): Promise<StoredFlowLine[]> {
      const lines: StoredFlowLine[] = [];
      for (const part of chunk(flowRowIds, 500)) {
        const rows = await db<LineRow>('reconciliation_flow_lines')
          .whereIn('flow_row_id', part)
          .orderBy([{ column: 'flow_row_id' }, { column: 'line_no' }]);
        lines.push(...rows.map(toLine));
      }
      return lines;
    },

    /**
     * Writes what matching decided for lines whose match changed: one UPDATE … FROM (VALUES …) per
     * chunk (SQLite ≥ 3.33 and PostgreSQL both name VALUES columns column1…column5).
     */
    async updateLines(matches: readonly LineMatch[]): Promise<void> {
      await inTransaction(db, async (trx) => {
        for (const part of chunk(matches, LINE_UPDATE_CHUNK_SIZE)) {
          const values = part.map(() => '(cast(? as integer), ?, cast(? as integer), cast(? as integer), ?)');
          await trx.raw(
            `update reconciliation_flow_lines set status = v.column2, receipt_row_id = v.column3,
               option_id = v.column4, anomaly_code = v.column5
             from (values ${values.join(', ')}) as v where reconciliation_flow_lines.id = v.column1`,
            part.flatMap((m) => [m.id, m.status, m.receiptRowId, m.optionId, m.anomalyCode]),
          );
        }
      });
    },

    /** Moves a flow to another reconciliation status, with its event. */
    async setStatus(id: number, from: FlowStatus, to: FlowStatus, ctx: ChangeContext): Promise<void> {
      await inTransaction(db, async (trx) => {
        await trx('reconciliation_flows')
          .where({ id })
          .update({ status: to, updated_at: isoNow(clock) });
        await appendEvent(trx, clock, {
          entityType: RECONCILIATION_FLOW,
          entityId: id,
          action: 'status_changed',
          fromStatus: from,
          toStatus: to,
          cause: ctx.cause,
          actor: ctx.actor,
          payload: ctx.payload,
        });
      });
    },

    /** Records what the gestionale was last notified of for this flow. */
    async setNotifiedState(id: number, state: string): Promise<void> {
      await db('reconciliation_flows').where({ id }).update({ notified_state: state });
    },

    /** Latest flows settled in [fromDate, toDate], optionally in one status, paged; with the total. */
    async listSummaries(
      enteId: number,
      filter: FlowSummaryFilter,
    ): Promise<{ flows: StoredFlow[]; total: number }> {
      const base = () => {
        const query = db<FlowRow>('reconciliation_flows')
          .where({ ente_id: enteId, is_latest: true })
          .andWhere('settlement_date', '>=', filter.fromDate)
          .andWhere('settlement_date', '<=', filter.toDate);
        if (filter.status) query.where({ status: filter.status });
        return query;
      };
      const [count] = await base().count<{ n: number | string }[]>({ n: '*' });
      const rows = await base()
        .orderBy([{ column: 'settlement_date' }, { column: 'flow_id' }, { column: 'id' }])
        .limit(filter.limit)
        .offset(filter.offset)
        .select<FlowRow[]>(FLOW_COLUMNS);
      return { flows: rows.map(toFlow), total: toInt(count?.n ?? 0) };
    },

    /** The ente's positive receipts (KO receipts settle nothing), oldest first. */
    async listPositiveReceipts(enteId: number): Promise<Receipt[]> {
      const rows = await db<ReceiptRow>('receipts').where({ ente_id: enteId, outcome: 'OK' }).orderBy('id');
      return rows.map(toReceipt);
    },

    /** Every option of the positions the given options belong to, with their position. */
    async listOptionsOfPositions(optionIds: readonly number[]): Promise<OptionOfPosition[]> {
      const result: OptionOfPosition[] = [];
      for (const part of chunk(optionIds, 500)) {
        const rows: Array<{
          id: number | string;
          installment: number | string;
          iuv: string;
          notice_number: string | null;
          status: OptionStatus;
          position_row_id: number | string;
          position_id: string;
          position_status: PositionStatus;
        }> = await db('payment_options as o')
          .join('positions as p', 'p.id', 'o.position_id')
          .whereIn(
            'o.position_id',
            db('payment_options')
              .whereIn('id', [...part])
              .select('position_id'),
          )
          .orderBy([{ column: 'p.id' }, { column: 'o.installment' }])
          .select(
            'o.id',
            'o.installment',
            'o.iuv',
            'o.notice_number',
            'o.status',
            'p.id as position_row_id',
            'p.position_id',
            'p.status as position_status',
          );
        result.push(
          ...rows.map((r) => ({
            optionId: toInt(r.id),
            installment: toInt(r.installment),
            iuv: r.iuv,
            noticeNumber: r.notice_number,
            status: r.status,
            positionRowId: toInt(r.position_row_id),
            positionId: r.position_id,
            positionStatus: r.position_status,
          })),
        );
      }
      const seen = new Set<number>();
      return result.filter((o) => (seen.has(o.optionId) ? false : (seen.add(o.optionId), true)));
    },

    /** The lines of one flow with the receipt, option and position each was matched to. */
    async listLineDetails(flowRowId: number): Promise<FlowLineDetails[]> {
      const rows: Array<
        LineRow & {
          receipt_id: string | null;
          gestionale_position_id: string | null;
          installment: number | string | null;
          notice_number: string | null;
        }
      > = await db('reconciliation_flow_lines as l')
        .leftJoin('receipts as r', 'r.id', 'l.receipt_row_id')
        .leftJoin('payment_options as o', 'o.id', 'l.option_id')
        .leftJoin('positions as p', 'p.id', 'o.position_id')
        .where('l.flow_row_id', flowRowId)
        .orderBy('l.line_no')
        .select(
          'l.*',
          'r.receipt_id',
          'p.position_id as gestionale_position_id',
          'o.installment',
          'o.notice_number',
        );
      return rows.map((r) => ({
        ...toLine(r),
        receiptId: r.receipt_id,
        positionId: r.gestionale_position_id,
        installment: toIntOrNull(r.installment),
        noticeNumber: r.notice_number,
      }));
    },

    /** For each option, the latest flows whose lines were matched to it. */
    async linksOfOptions(optionIds: readonly number[]): Promise<OptionFlowLink[]> {
      if (optionIds.length === 0) return [];
      const rows: Array<{
        option_id: number | string;
        flow_row_id: number | string;
        flow_id: string;
        psp_id: string;
        trn: string;
        settlement_date: string;
        status: FlowStatus;
      }> = await db('reconciliation_flow_lines as l')
        .join('reconciliation_flows as f', 'f.id', 'l.flow_row_id')
        .whereIn('l.option_id', [...optionIds])
        .andWhere('f.is_latest', true)
        .andWhere('l.status', 'MATCHED')
        .orderBy([{ column: 'l.option_id' }, { column: 'l.flow_row_id' }])
        .distinct(
          'l.option_id',
          'l.flow_row_id',
          'f.flow_id',
          'f.psp_id',
          'f.trn',
          'f.settlement_date',
          'f.status',
        );
      return rows.map((r) => ({
        optionId: toInt(r.option_id),
        flowRowId: toInt(r.flow_row_id),
        flowId: r.flow_id,
        pspId: r.psp_id,
        trn: r.trn,
        settlementDate: r.settlement_date,
        flowStatus: r.status,
      }));
    },
  };
}

export type ReconciliationFlowsRepository = ReturnType<typeof createReconciliationFlowsRepository>;

// The emulator's repositories for what its PSPs reported and paid (migration 0014): reporting flows
// (one row per revision), the payment lines settled in each flow, and the bank credits written for
// each flow. All of the SQL of settle.ts and of the DB-backed FlowSource lives here.

import type { Db } from '../db/knex.ts';
import { chunk, isoNow, systemClock, toInt, type Clock } from '../db/rows.ts';

export type SettledLineKind = 'current' | 'legacy';

/** What makes a collected line unique: a receipt's transfer, or an RT's datiSingoloPagamento. */
export interface SettledLineKey {
  kind: SettledLineKind;
  /** The EC the line's money goes to (fiscalCodePA of the transfer; idDominio of the RT). */
  idDominio: string;
  iuv: string;
  /** paymentToken (current model) or CCP (legacy). */
  paymentToken: string;
  /** idTransfer (current model) or the 1-based position in the RT (legacy). */
  transferIndex: number;
}

export interface SettledLine extends SettledLineKey {
  /** The IUR: the receiptId (current model) or the RT's identificativoUnivocoRiscossione. */
  iur: string;
  /** What the PSP collected: the true amount. */
  amountCents: number;
  /** YYYY-MM-DD (Europe/Rome). */
  paymentDate: string;
}

export interface NewFlow {
  flowId: string;
  revision: number;
  pspId: string;
  idDominio: string;
  progressive: number;
  flowDateTime: string;
  settlementDate: string;
  operatingDate: string;
  trn: string;
  /** As reported in the XML (numeroTotalePagamenti / importoTotalePagamenti). */
  paymentCount: number;
  totalCents: number;
  xml: string;
}

export interface StoredFlow extends NewFlow {
  id: number;
  createdAt: string;
}

export interface NewCredit {
  flowId: string;
  idDominio: string;
  amountCents: number;
  trn: string;
  remittance: string;
  statementId: string;
  entryRef: string;
  valueDate: string;
}

interface FlowRow {
  id: number | string;
  flow_id: string;
  revision: number | string;
  psp_id: string;
  id_dominio: string;
  progressive: number | string;
  flow_date_time: string;
  settlement_date: string;
  operating_date: string;
  trn: string;
  payment_count: number | string;
  total_cents: number | string;
  xml: string;
  created_at: string;
}

interface LineRow {
  flow_id: string;
  kind: SettledLineKind;
  id_dominio: string;
  iuv: string;
  payment_token: string;
  transfer_index: number | string;
  iur: string;
  amount_cents: number | string;
  payment_date: string;
}

function toFlow(row: FlowRow): StoredFlow {
  return {
    id: toInt(row.id),
    flowId: row.flow_id,
    revision: toInt(row.revision),
    pspId: row.psp_id,
    idDominio: row.id_dominio,
    progressive: toInt(row.progressive),
    flowDateTime: row.flow_date_time,
    settlementDate: row.settlement_date,
    operatingDate: row.operating_date,
    trn: row.trn,
    paymentCount: toInt(row.payment_count),
    totalCents: toInt(row.total_cents),
    xml: row.xml,
    createdAt: row.created_at,
  };
}

function toLine(row: LineRow): SettledLine & { flowId: string } {
  return {
    flowId: row.flow_id,
    kind: row.kind,
    idDominio: row.id_dominio,
    iuv: row.iuv,
    paymentToken: row.payment_token,
    transferIndex: toInt(row.transfer_index),
    iur: row.iur,
    amountCents: toInt(row.amount_cents),
    paymentDate: row.payment_date,
  };
}

/** One text per line key, to compare collected lines with settled ones. */
export function lineKeyText(key: SettledLineKey): string {
  return [key.kind, key.idDominio, key.iuv, key.paymentToken, key.transferIndex].join('|');
}

/** Keeps the newest revision of each flow id. */
function latestRevisions(rows: FlowRow[]): StoredFlow[] {
  const latest = new Map<string, StoredFlow>();
  for (const flow of rows.map(toFlow)) {
    const seen = latest.get(flow.flowId);
    if (!seen || seen.revision < flow.revision) latest.set(flow.flowId, flow);
  }
  return [...latest.values()];
}

/** A current-model payment the PSP collected (its receipt as the node keeps it). */
export interface CollectedReceipt {
  paymentToken: string;
  pspId: string;
  receipt: Record<string, unknown>;
}

/** A paid RT (outcome 0) of a legacy RPT. */
export interface CollectedRt {
  idDominio: string;
  iuv: string;
  ccp: string;
  rtXml: string;
}

export interface FlowFilter {
  /** The ECs whose flows may be listed (those of the calling station). */
  idDominii: readonly string[];
  idPsp?: string | null;
}

export function createFlowStore(db: Db, clock: Clock = systemClock) {
  const now = () => isoNow(clock);

  const flows = {
    async insert(flow: NewFlow): Promise<void> {
      await db('emulator_flows').insert({
        flow_id: flow.flowId,
        revision: flow.revision,
        psp_id: flow.pspId,
        id_dominio: flow.idDominio,
        progressive: flow.progressive,
        flow_date_time: flow.flowDateTime,
        settlement_date: flow.settlementDate,
        operating_date: flow.operatingDate,
        trn: flow.trn,
        payment_count: flow.paymentCount,
        total_cents: flow.totalCents,
        xml: flow.xml,
        created_at: now(),
      });
    },

    /** The newest revision of a flow id (optionally of one PSP), or null. */
    async latest(flowId: string, pspId?: string | null): Promise<StoredFlow | null> {
      const query = db<FlowRow>('emulator_flows').where({ flow_id: flowId });
      if (pspId) query.andWhere({ psp_id: pspId });
      const row = await query.orderBy('revision', 'desc').first();
      return row ? toFlow(row) : null;
    },

    /** The next free progressive of a PSP's flow ids for one settlement date. */
    async nextProgressive(pspId: string, settlementDate: string): Promise<number> {
      const row = await db('emulator_flows')
        .where({ psp_id: pspId, settlement_date: settlementDate })
        .max<{ top: number | string | null }>({ top: 'progressive' })
        .first();
      return row?.top === null || row?.top === undefined ? 1 : toInt(row.top) + 1;
    },

    /** The newest revision of every flow reporting payments of one day, in creation order. */
    async listByOperatingDate(operatingDate: string): Promise<StoredFlow[]> {
      const rows = await db<FlowRow>('emulator_flows').where({ operating_date: operatingDate }).orderBy('id');
      return latestRevisions(rows);
    },

    /** The newest revision of every flow for these ECs (and PSP), oldest first. */
    async listLatest(filter: FlowFilter): Promise<StoredFlow[]> {
      if (filter.idDominii.length === 0) return [];
      const rows: FlowRow[] = [];
      for (const part of chunk(filter.idDominii, 500)) {
        const query = db<FlowRow>('emulator_flows').whereIn('id_dominio', part);
        if (filter.idPsp) query.andWhere({ psp_id: filter.idPsp });
        rows.push(...(await query.orderBy('id')));
      }
      return latestRevisions(rows).sort((a, b) => a.id - b.id);
    },
  };

  const lines = {
    async insert(flowId: string, settled: readonly SettledLine[]): Promise<void> {
      const at = now();
      const rows = settled.map((line) => ({
        flow_id: flowId,
        kind: line.kind,
        id_dominio: line.idDominio,
        iuv: line.iuv,
        payment_token: line.paymentToken,
        transfer_index: line.transferIndex,
        iur: line.iur,
        amount_cents: line.amountCents,
        payment_date: line.paymentDate,
        created_at: at,
      }));
      for (const part of chunk(rows, 200)) await db('emulator_flow_payments').insert(part);
    },

    /** The line keys already settled for payments of one day. */
    async settledKeys(paymentDate: string): Promise<Set<string>> {
      const rows = await db<LineRow>('emulator_flow_payments').where({ payment_date: paymentDate });
      return new Set(rows.map((row) => lineKeyText(toLine(row))));
    },

    async listByFlow(flowId: string): Promise<SettledLine[]> {
      const rows = await db<LineRow>('emulator_flow_payments').where({ flow_id: flowId }).orderBy('id');
      return rows.map(toLine);
    },

    /** What the PSP collected for each flow: the sum of its lines' true amounts. */
    async collectedByFlow(flowIds: readonly string[]): Promise<Map<string, number>> {
      return sumsByFlow(db, 'emulator_flow_payments', flowIds);
    },
  };

  const credits = {
    async insert(written: readonly NewCredit[]): Promise<void> {
      const at = now();
      const rows = written.map((c) => ({
        flow_id: c.flowId,
        id_dominio: c.idDominio,
        amount_cents: c.amountCents,
        trn: c.trn,
        remittance: c.remittance,
        statement_id: c.statementId,
        entry_ref: c.entryRef,
        value_date: c.valueDate,
        created_at: at,
      }));
      for (const part of chunk(rows, 200)) await db('emulator_flow_credits').insert(part);
    },

    /** What was credited so far for each flow. */
    async creditedByFlow(flowIds: readonly string[]): Promise<Map<string, number>> {
      return sumsByFlow(db, 'emulator_flow_credits', flowIds);
    },

    /** How many credits a flow got so far (the first is 0, integrative ones follow). */
    async countByFlow(flowId: string): Promise<number> {
      const row = await db('emulator_flow_credits')
        .where({ flow_id: flowId })
        .count<{ n: number | string }>({ n: '*' })
        .first();
      return toInt(row?.n ?? 0);
    },

    /** How many statements were written for an EC with this value date. */
    async statementCount(idDominio: string, valueDate: string): Promise<number> {
      const row = await db('emulator_flow_credits')
        .where({ id_dominio: idDominio, value_date: valueDate })
        .countDistinct<{ n: number | string }>({ n: 'statement_id' })
        .first();
      return toInt(row?.n ?? 0);
    },
  };

  const collected = {
    /**
     * Current-model payments with a receipt, authorized (delivery to the EC may be pending) or
     * notified, created between the two instants (ISO UTC): the PSP holds their money.
     */
    async receipts(fromIso: string, toIso: string): Promise<CollectedReceipt[]> {
      const rows = await db('emulator_payments')
        .where({ kind: 'current' })
        .whereIn('status', ['AUTHORIZED', 'NOTIFIED'])
        .whereNotNull('receipt')
        .andWhere('created_at', '>=', fromIso)
        .andWhere('created_at', '<', toIso)
        .orderBy('id')
        .select<Array<{ payment_token: string; psp_id: string; receipt: string }>>(
          'payment_token',
          'psp_id',
          'receipt',
        );
      return rows.map((r) => ({
        paymentToken: r.payment_token,
        pspId: r.psp_id,
        receipt: JSON.parse(r.receipt) as Record<string, unknown>,
      }));
    },

    /** Paid legacy RTs (outcome 0) created between the two instants (ISO UTC). */
    async paidRts(fromIso: string, toIso: string): Promise<CollectedRt[]> {
      const rows = await db('emulator_rts')
        .where({ outcome_code: '0' })
        .andWhere('created_at', '>=', fromIso)
        .andWhere('created_at', '<', toIso)
        .orderBy('id')
        .select<Array<{ id_dominio: string; iuv: string; ccp: string; rt_xml: string }>>(
          'id_dominio',
          'iuv',
          'ccp',
          'rt_xml',
        );
      return rows.map((r) => ({ idDominio: r.id_dominio, iuv: r.iuv, ccp: r.ccp, rtXml: r.rt_xml }));
    },
  };

  return { db, flows, lines, credits, collected };
}

async function sumsByFlow(db: Db, table: string, flowIds: readonly string[]): Promise<Map<string, number>> {
  const sums = new Map<string, number>(flowIds.map((id) => [id, 0]));
  for (const part of chunk(flowIds, 500)) {
    const rows = await db(table)
      .whereIn('flow_id', part)
      .groupBy('flow_id')
      .select<Array<{ flow_id: string; total: number | string }>>(
        'flow_id',
        db.raw('sum(amount_cents) as total'),
      );
    for (const row of rows) sums.set(row.flow_id, toInt(row.total));
  }
  return sums;
}

export type FlowStore = ReturnType<typeof createFlowStore>;

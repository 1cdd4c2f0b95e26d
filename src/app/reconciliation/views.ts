// Read views of reconciliation, in the DTOs the gestionale API, the notifyReconciliation callback and
// the nightly report share (src/app/callbacks/notifyReconciliation.ts): one flow with its lines
// matched to positions, its bank credit and its anomalies; paged flow summaries; anomalies; and the
// bank credits no flow explains.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { FlowStatus, StoredFlow } from '../../db/repositories/reconciliationFlows.ts';
import type { StoredCredit } from '../../db/repositories/bankStatements.ts';
import type { AnomalyStatus, StoredAnomaly } from '../../db/repositories/anomalies.ts';
import type {
  ReconciliationAnomaly,
  ReconciliationFlow,
  ReconciliationLine,
} from '../callbacks/notifyReconciliation.ts';

export const DEFAULT_PAGE_SIZE = 100;

export type ReconciliationFlowSummary = Omit<ReconciliationFlow, 'line' | 'anomaly'>;

export interface PageInfo {
  pageNumber: number;
  pageSize: number;
  totalItems: number;
  totalPages: number;
}

export interface FlowSummaryQuery {
  /** Settlement dates, YYYY-MM-DD, inclusive. */
  fromDate: string;
  toDate: string;
  status?: FlowStatus;
  /** 1-based; default 1. */
  page?: number;
  /** Default 100. */
  pageSize?: number;
}

export interface FlowSummaryPage {
  pageInfo: PageInfo;
  flows: ReconciliationFlowSummary[];
}

export interface LatestFlow {
  /** The row of the latest revision (flowView's flowRowId). */
  rowId: number;
  flow: ReconciliationFlow;
  /** The FlussoRiversamento XML as received. */
  document: string;
}

export function anomalyDto(a: StoredAnomaly): ReconciliationAnomaly {
  return {
    code: a.code,
    status: a.status,
    detectedAt: a.detectedAt,
    resolvedAt: a.resolvedAt,
    description: a.description,
    flowId: a.flowId,
    iuv: a.iuv,
    iur: a.iur,
    positionId: a.positionId,
    noticeNumber: a.noticeNumber,
    amountCents: a.amountCents,
    expectedAmountCents: a.expectedAmountCents,
  };
}

/** The credits of a flow as the one bankCredit of the DTO: their sum, the latest value date. */
function bankCreditOf(credits: readonly StoredCredit[]): ReconciliationFlow['bankCredit'] {
  const first = credits[0];
  if (!first) return null;
  return {
    valueDate: credits.reduce((latest, c) => (c.valueDate > latest ? c.valueDate : latest), first.valueDate),
    amountCents: credits.reduce((sum, c) => sum + c.amountCents, 0),
    trn: first.trn,
    remittanceInformation: first.remittanceInformation,
    statementId: first.statementId,
  };
}

/** Anomalies tied to a flow: its flow id, of its PSP (or of no PSP in particular). */
async function anomaliesOf(store: Store, flow: StoredFlow): Promise<StoredAnomaly[]> {
  const all = await store.anomalies.list({ enteId: flow.enteId, flowId: flow.flowId });
  return all.filter((a) => a.pspId === null || a.pspId === flow.pspId);
}

async function summaryOf(store: Store, flow: StoredFlow): Promise<ReconciliationFlowSummary> {
  const credits = await store.bankStatements.listCreditsOfFlow(flow.id);
  const anomalies = await anomaliesOf(store, flow);
  return {
    flowId: flow.flowId,
    flowDateTime: flow.flowDateTime,
    pspId: flow.pspId,
    pspName: flow.senderName,
    trn: flow.trn,
    settlementDate: flow.settlementDate,
    paymentCount: flow.paymentCount,
    totalAmountCents: flow.totalAmountCents,
    status: flow.status,
    bankCredit: bankCreditOf(credits),
    anomalyCount: anomalies.filter((a) => a.status === 'OPEN').length,
  };
}

async function requireFlow(store: Store, enteId: number, flowRowId: number): Promise<StoredFlow> {
  const flow = await store.reconciliationFlows.getById(flowRowId);
  if (!flow || flow.enteId !== enteId) {
    throw domainError('FLOW_UNKNOWN', `no reporting flow ${flowRowId} for this ente`, { flowRowId });
  }
  return flow;
}

/** One stored flow revision with its lines, bank credit and anomalies (open and resolved). */
export async function flowView(store: Store, enteId: number, flowRowId: number): Promise<ReconciliationFlow> {
  const flow = await requireFlow(store, enteId, flowRowId);
  const summary = await summaryOf(store, flow);
  const lines = await store.reconciliationFlows.listLineDetails(flow.id);
  const anomalies = await anomaliesOf(store, flow);
  return {
    ...summary,
    line: lines.map((l): ReconciliationLine => ({
      iuv: l.iuv,
      iur: l.iur,
      transferIndex: l.transferIndex,
      amountCents: l.amountCents,
      outcomeCode: l.outcomeCode,
      outcomeDate: l.outcomeDate,
      status: l.status,
      positionId: l.positionId,
      installment: l.installment,
      noticeNumber: l.noticeNumber,
      receiptId: l.receiptId,
      anomalyCode: l.anomalyCode,
    })),
    anomaly: anomalies.map(anomalyDto),
  };
}

/** The latest flows of the ente settled in [fromDate, toDate], optionally in one status, paged. */
export async function listFlowSummaries(
  store: Store,
  enteId: number,
  query: FlowSummaryQuery,
): Promise<FlowSummaryPage> {
  const pageNumber = query.page ?? 1;
  const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageNumber) || pageNumber < 1 || !Number.isInteger(pageSize) || pageSize < 1) {
    throw domainError('INVALID_INPUT', 'page and pageSize are positive integers', { field: 'page' });
  }
  if (query.toDate < query.fromDate) {
    throw domainError('INVALID_INPUT', 'toDate is before fromDate', { field: 'toDate' });
  }
  const { flows, total } = await store.reconciliationFlows.listSummaries(enteId, {
    fromDate: query.fromDate,
    toDate: query.toDate,
    status: query.status,
    limit: pageSize,
    offset: (pageNumber - 1) * pageSize,
  });
  const summaries: ReconciliationFlowSummary[] = [];
  for (const flow of flows) summaries.push(await summaryOf(store, flow));
  return {
    pageInfo: { pageNumber, pageSize, totalItems: total, totalPages: Math.ceil(total / pageSize) },
    flows: summaries,
  };
}

/** The latest revision of a flow id (of one PSP when given), or null when the ente has none. */
export async function findLatestFlow(
  store: Store,
  enteId: number,
  flowId: string,
  pspId?: string,
): Promise<LatestFlow | null> {
  const flow = await store.reconciliationFlows.findLatest(enteId, flowId, pspId);
  if (!flow) return null;
  return {
    rowId: flow.id,
    flow: await flowView(store, enteId, flow.id),
    document: (await store.reconciliationFlows.getDocument(flow.id)) ?? '',
  };
}

export async function listAnomalies(
  store: Store,
  filter: { enteId?: number; status?: AnomalyStatus } = {},
): Promise<StoredAnomaly[]> {
  return store.anomalies.list(filter);
}

/** Incoming credits with a value date in [fromDate, toDate] that settle no stored flow. */
export async function unmatchedCredits(
  store: Store,
  enteId: number,
  range: { fromDate: string; toDate: string },
): Promise<StoredCredit[]> {
  return store.bankStatements.listUnmatchedCredits(enteId, range);
}

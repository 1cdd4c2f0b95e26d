// listReconciliationFlows and getReconciliationFlow: the ente's reporting flows (latest revisions)
// as the gestionale API shows them, read through the reconciliation views. A flow is one PSP's
// settlement (SCT) for the whole ente, so the caller's binding to the ente is the scope, not its
// services: the binding has already checked it. An unknown flow id is FLOW_UNKNOWN.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { FlowStatus } from '../../db/repositories/reconciliationFlows.ts';
import type { ReconciliationFlow } from '../callbacks/notifyReconciliation.ts';
import { findLatestFlow, listFlowSummaries, type FlowSummaryPage } from '../reconciliation/views.ts';

export interface ReconciliationFlowsQuery {
  ente: Ente;
  /** Settlement dates (xs:date, a zone suffix is ignored), inclusive. */
  fromDate: string;
  toDate: string;
  status?: FlowStatus | null;
  pageNumber?: number | null;
  pageSize?: number | null;
}

export interface ReconciliationFlowQuery {
  ente: Ente;
  flowId: string;
  /** Only needed when two PSPs used the same flow id. */
  pspId?: string | null;
  includeDocument?: boolean;
}

export interface ReconciliationFlowAnswer {
  flow: ReconciliationFlow;
  /** The FlussoRiversamento XML as received, when asked for. */
  document: string | null;
}

/** The YYYY-MM-DD day of an xs:date, which may carry a zone suffix. */
function dayOf(value: string, field: string): string {
  const day = value.slice(0, 10);
  const date = new Date(`${day}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(day) ||
    Number.isNaN(date.getTime()) ||
    date.toISOString().slice(0, 10) !== day
  ) {
    throw domainError('INVALID_DATE', `${field} is not a date`, { field });
  }
  return day;
}

export async function listReconciliationFlows(
  store: Store,
  query: ReconciliationFlowsQuery,
): Promise<FlowSummaryPage> {
  const fromDate = dayOf(query.fromDate, 'fromDate');
  const toDate = dayOf(query.toDate, 'toDate');
  if (toDate < fromDate) throw domainError('INVALID_INPUT', 'toDate is before fromDate', { field: 'toDate' });
  return listFlowSummaries(store, query.ente.id, {
    fromDate,
    toDate,
    status: query.status ?? undefined,
    page: query.pageNumber ?? undefined,
    pageSize: query.pageSize ?? undefined,
  });
}

export async function getReconciliationFlow(
  store: Store,
  query: ReconciliationFlowQuery,
): Promise<ReconciliationFlowAnswer> {
  const found = await findLatestFlow(store, query.ente.id, query.flowId, query.pspId ?? undefined);
  if (!found) {
    throw domainError('FLOW_UNKNOWN', `no reporting flow ${query.flowId} for this ente`, { field: 'flowId' });
  }
  return { flow: found.flow, document: query.includeDocument ? found.document : null };
}

// listReconciliationFlows and getReconciliationFlow: the ente's reporting flows (latest revisions)
// as the gestionale API shows them, read through the reconciliation views. A flow is one PSP's
// settlement (SCT) for the whole ente, so the caller's binding to the ente is the scope, not its
// services: the binding has already checked it. An unknown flow id is FLOW_UNKNOWN.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { FlowStatus } from '../../db/repositories/reconciliationFlows.ts';
import type { ReconciliationFlow } from '../callbacks/notifyReconciliation.ts';
import { dayRangeOf } from './common.ts';
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

export async function listReconciliationFlows(
  store: Store,
  query: ReconciliationFlowsQuery,
): Promise<FlowSummaryPage> {
  return listFlowSummaries(store, query.ente.id, {
    ...dayRangeOf(query),
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

// listReconciliationFlows: maps the settlement-date range, optional status and paging to the use
// case, and the page of flow summaries to pt:ctFlowSummary objects in schema order (shared with
// getReconciliationFlow, whose pt:ctFlow extends the summary).

import type { Store } from '../../db/store.ts';
import type { FlowStatus } from '../../db/repositories/reconciliationFlows.ts';
import type { ReconciliationBankCredit } from '../../app/callbacks/notifyReconciliation.ts';
import { listReconciliationFlows as listFlows } from '../../app/gestionale/reconciliationFlows.ts';
import type { ReconciliationFlowSummary } from '../../app/reconciliation/views.ts';
import type { ListReconciliationFlowsRequest } from '../../xml/generated/gestionale/gestionale.ts';
import { pageInfoObject, pagingOf, type GestionaleHandler } from './common.ts';

/** A text for an element of bounded length (pt:stText35, stText70, ...), absent when empty. */
export function boundedText(value: string | null | undefined, max: number): string | undefined {
  return value ? value.slice(0, max) : undefined;
}

function bankCreditObject(credit: ReconciliationBankCredit): Record<string, unknown> {
  return {
    valueDate: credit.valueDate,
    amountCents: String(credit.amountCents),
    trn: boundedText(credit.trn, 35),
    remittanceInformation: boundedText(credit.remittanceInformation, 140),
    statementId: boundedText(credit.statementId, 35),
  };
}

/** The pt:ctFlowSummary elements of a flow, in schema order. */
export function flowSummaryObject(flow: ReconciliationFlowSummary): Record<string, unknown> {
  return {
    flowId: flow.flowId,
    flowDateTime: flow.flowDateTime,
    pspId: flow.pspId.slice(0, 35),
    pspName: boundedText(flow.pspName, 70),
    trn: flow.trn.slice(0, 35),
    settlementDate: flow.settlementDate,
    paymentCount: String(flow.paymentCount),
    totalAmountCents: String(flow.totalAmountCents),
    status: flow.status,
    bankCredit: flow.bankCredit ? bankCreditObject(flow.bankCredit) : undefined,
    anomalyCount: String(flow.anomalyCount),
  };
}

export function listReconciliationFlows(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as ListReconciliationFlowsRequest;
    const page = await listFlows(store, {
      ente: call.ente,
      fromDate: String(request.fromDate),
      toDate: String(request.toDate),
      status: (request.status as FlowStatus | undefined) ?? null,
      ...pagingOf(request),
    });
    return {
      outcome: 'OK',
      pageInfo: pageInfoObject(page.pageInfo),
      flow: page.flows.map(flowSummaryObject),
    };
  };
}

// getReconciliationFlow: maps the flow id (and PSP) to the use case, and the latest revision with
// its lines and anomalies to pt:ctFlow in schema order; with includeDocument the FlussoRiversamento
// XML as received, base64-encoded.

import type { Store } from '../../db/store.ts';
import type { ReconciliationAnomaly, ReconciliationLine } from '../../app/callbacks/notifyReconciliation.ts';
import { getReconciliationFlow as readFlow } from '../../app/gestionale/reconciliationFlows.ts';
import type { GetReconciliationFlowRequest } from '../../xml/generated/gestionale/gestionale.ts';
import type { GestionaleHandler } from './common.ts';
import { boundedText, flowSummaryObject } from './listReconciliationFlows.ts';

function optionalNumber(value: number | null | undefined): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

/** pt:stTransferIndex is 1..5: a legacy index outside it is left out. */
function transferIndexOf(index: number | null | undefined): string | undefined {
  return index !== null && index !== undefined && index >= 1 && index <= 5 ? String(index) : undefined;
}

function lineObject(line: ReconciliationLine): Record<string, unknown> {
  return {
    iuv: line.iuv,
    iur: line.iur.slice(0, 35),
    transferIndex: transferIndexOf(line.transferIndex),
    amountCents: String(line.amountCents),
    outcomeCode: line.outcomeCode,
    outcomeDate: line.outcomeDate,
    status: line.status,
    positionId: line.positionId ?? undefined,
    installment: optionalNumber(line.installment),
    noticeNumber: line.noticeNumber ?? undefined,
    receiptId: boundedText(line.receiptId, 35),
    anomalyCode: line.anomalyCode ?? undefined,
  };
}

function anomalyObject(anomaly: ReconciliationAnomaly): Record<string, unknown> {
  return {
    code: anomaly.code,
    status: anomaly.status,
    detectedAt: anomaly.detectedAt,
    resolvedAt: anomaly.resolvedAt ?? undefined,
    description: boundedText(anomaly.description, 1024),
    flowId: anomaly.flowId ?? undefined,
    iuv: anomaly.iuv ?? undefined,
    iur: boundedText(anomaly.iur, 35),
    positionId: anomaly.positionId ?? undefined,
    noticeNumber: anomaly.noticeNumber ?? undefined,
    amountCents: optionalNumber(anomaly.amountCents),
    expectedAmountCents: optionalNumber(anomaly.expectedAmountCents),
  };
}

/** xs:boolean: true or 1 (node-soap hands the text over as is). */
function isTrue(value: boolean | string | undefined): boolean {
  return value === true || value === 'true' || value === '1';
}

export function getReconciliationFlow(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as GetReconciliationFlowRequest;
    const { flow, document } = await readFlow(store, {
      ente: call.ente,
      flowId: request.flowId,
      pspId: request.pspId ?? null,
      includeDocument: isTrue(request.includeDocument),
    });
    return {
      outcome: 'OK',
      flow: {
        ...flowSummaryObject(flow),
        line: flow.line.map(lineObject),
        anomaly: flow.anomaly.map(anomalyObject),
      },
      document: document === null ? undefined : Buffer.from(document, 'utf8').toString('base64'),
    };
  };
}

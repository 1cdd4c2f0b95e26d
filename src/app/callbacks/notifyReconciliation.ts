// notifyReconciliation (gestionale-callback.xsd): a reporting flow was reconciled or got anomalies.
// The reconciliation use case queues the row (topic NOTIFY_RECONCILIATION) with a
// ReconciliationNotification payload: the whole flow (pt:ctFlow) with its lines and anomalies.
// flowElement / bankCreditElement / anomalyElement build the pt:ctFlow family for every writer
// (this callback and the nightly reconciliation report), so the two never drift apart.

import { el, leaf, type XmlNode } from '../../xml/build.ts';
import type { OperationDescription } from '../../soap/manifest.ts';
import { requestElement, type NotificationHead } from './callbackXml.ts';

export const NOTIFY_RECONCILIATION = 'notifyReconciliation';

export interface ReconciliationLine {
  iuv: string;
  iur: string;
  transferIndex?: number | null;
  amountCents: number;
  outcomeCode: string;
  outcomeDate: string;
  status: 'MATCHED' | 'UNMATCHED';
  positionId?: string | null;
  installment?: number | null;
  noticeNumber?: string | null;
  receiptId?: string | null;
  anomalyCode?: string | null;
}

export interface ReconciliationAnomaly {
  code: string;
  status: string;
  detectedAt: string;
  resolvedAt?: string | null;
  description?: string | null;
  flowId?: string | null;
  iuv?: string | null;
  iur?: string | null;
  positionId?: string | null;
  noticeNumber?: string | null;
  amountCents?: number | null;
  expectedAmountCents?: number | null;
}

/** A treasury credit (pt:ctBankCredit): the one that settled a flow, or one naming no known flow. */
export interface ReconciliationBankCredit {
  valueDate: string;
  amountCents: number;
  trn?: string | null;
  remittanceInformation?: string | null;
  statementId?: string | null;
}

export interface ReconciliationFlow {
  flowId: string;
  flowDateTime: string;
  pspId: string;
  pspName?: string | null;
  trn: string;
  settlementDate: string;
  paymentCount: number;
  totalAmountCents: number;
  status: 'PENDING' | 'RECONCILED' | 'ANOMALY';
  bankCredit?: ReconciliationBankCredit | null;
  anomalyCount: number;
  line: ReconciliationLine[];
  anomaly: ReconciliationAnomaly[];
}

/** The notifyReconciliation outbox payload. */
export interface ReconciliationNotification extends NotificationHead {
  flow: ReconciliationFlow;
}

function lineElement(line: ReconciliationLine): XmlNode {
  return el(
    'line',
    null,
    leaf('iuv', line.iuv),
    leaf('iur', line.iur),
    leaf('transferIndex', line.transferIndex),
    leaf('amountCents', line.amountCents),
    leaf('outcomeCode', line.outcomeCode),
    leaf('outcomeDate', line.outcomeDate),
    leaf('status', line.status),
    leaf('positionId', line.positionId),
    leaf('installment', line.installment),
    leaf('noticeNumber', line.noticeNumber),
    leaf('receiptId', line.receiptId),
    leaf('anomalyCode', line.anomalyCode),
  );
}

/** A pt:ctAnomaly element. */
export function anomalyElement(a: ReconciliationAnomaly): XmlNode {
  return el(
    'anomaly',
    null,
    leaf('code', a.code),
    leaf('status', a.status),
    leaf('detectedAt', a.detectedAt),
    leaf('resolvedAt', a.resolvedAt),
    leaf('description', a.description),
    leaf('flowId', a.flowId),
    leaf('iuv', a.iuv),
    leaf('iur', a.iur),
    leaf('positionId', a.positionId),
    leaf('noticeNumber', a.noticeNumber),
    leaf('amountCents', a.amountCents),
    leaf('expectedAmountCents', a.expectedAmountCents),
  );
}

/** A pt:ctBankCredit element under the given name (bankCredit in a flow, unmatchedCredit in a report). */
export function bankCreditElement(name: string, credit: ReconciliationBankCredit): XmlNode {
  return el(
    name,
    null,
    leaf('valueDate', credit.valueDate),
    leaf('amountCents', credit.amountCents),
    leaf('trn', credit.trn),
    leaf('remittanceInformation', credit.remittanceInformation),
    leaf('statementId', credit.statementId),
  );
}

/** The flow element (pt:ctFlow): summary, bank credit, lines, then anomalies, in schema order. */
export function flowElement(flow: ReconciliationFlow): XmlNode {
  return el(
    'flow',
    null,
    leaf('flowId', flow.flowId),
    leaf('flowDateTime', flow.flowDateTime),
    leaf('pspId', flow.pspId),
    leaf('pspName', flow.pspName),
    leaf('trn', flow.trn),
    leaf('settlementDate', flow.settlementDate),
    leaf('paymentCount', flow.paymentCount),
    leaf('totalAmountCents', flow.totalAmountCents),
    leaf('status', flow.status),
    flow.bankCredit ? bankCreditElement('bankCredit', flow.bankCredit) : null,
    leaf('anomalyCount', flow.anomalyCount),
    ...flow.line.map(lineElement),
    ...flow.anomaly.map(anomalyElement),
  );
}

export function buildNotifyReconciliation(
  operation: OperationDescription,
  notificationId: string,
  n: ReconciliationNotification,
): XmlNode {
  return requestElement(
    operation,
    { notificationId, eventDateTime: n.eventDateTime, enteFiscalCode: n.enteFiscalCode },
    flowElement(n.flow),
  );
}

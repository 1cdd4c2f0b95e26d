// From an outbox row to the SOAP request a gestionale receives: the topic names the callback
// operation, the payload is its content, and the notificationId is always the row's id (stable
// across attempts and replays, the gestionale's deduplication key). The body is checked against
// the callback schema before it may leave.

import type { OutboxMessage } from '../../db/repositories/outbox.ts';
import type { XmlNode } from '../../xml/build.ts';
import type { OperationDescription } from '../../soap/manifest.ts';
import type { UploadOutcomeNotification } from '../gestionale/uploads.ts';
import type { ExpiredNoticesNotification } from '../gestionale/expiredReservations.ts';
import { callbackEnvelope, callbackOperation } from './callbackXml.ts';
import { buildNotifyPayment, NOTIFY_PAYMENT, type PaymentNotification } from './notifyPayment.ts';
import { buildNotifyUploadOutcome, NOTIFY_UPLOAD_OUTCOME } from './notifyUploadOutcome.ts';
import { buildNotifyExpiredNotices, NOTIFY_EXPIRED_NOTICES } from './notifyExpiredNotices.ts';
import {
  buildNotifyReconciliation,
  NOTIFY_RECONCILIATION,
  type ReconciliationNotification,
} from './notifyReconciliation.ts';

type Builder = (operation: OperationDescription, notificationId: string, payload: unknown) => XmlNode;

/** Outbox topic → request builder; the topic is the callback's operation name. */
const BUILDERS: Record<string, Builder> = {
  [NOTIFY_PAYMENT]: (op, id, p) => buildNotifyPayment(op, id, p as PaymentNotification),
  [NOTIFY_UPLOAD_OUTCOME]: (op, id, p) => buildNotifyUploadOutcome(op, id, p as UploadOutcomeNotification),
  [NOTIFY_EXPIRED_NOTICES]: (op, id, p) => buildNotifyExpiredNotices(op, id, p as ExpiredNoticesNotification),
  [NOTIFY_RECONCILIATION]: (op, id, p) => buildNotifyReconciliation(op, id, p as ReconciliationNotification),
};

export interface CallbackRequest {
  operation: OperationDescription;
  /** The whole SOAP 1.1 envelope, schema-checked. */
  xml: string;
}

export type CallbackRequestResult = { ok: true; request: CallbackRequest } | { ok: false; reason: string };

export function callbackRequestFor(message: OutboxMessage): CallbackRequestResult {
  const build = BUILDERS[message.topic];
  const operation = callbackOperation(message.topic);
  if (!build || !operation) return { ok: false, reason: `no callback operation for topic ${message.topic}` };
  let body: XmlNode;
  try {
    body = build(operation, message.id, message.payload);
  } catch (err) {
    // A payload of the wrong shape (written by an older or buggy producer): retrying cannot help.
    return {
      ok: false,
      reason: `the ${operation.name} payload cannot be read: ${String(err)}`.slice(0, 300),
    };
  }
  const { xml, problem } = callbackEnvelope(body);
  if (problem) {
    return {
      ok: false,
      reason: `the ${operation.name} request breaks the callback schema: ${problem}`.slice(0, 500),
    };
  }
  return { ok: true, request: { operation, xml } };
}

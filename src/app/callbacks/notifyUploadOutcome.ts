// notifyUploadOutcome (gestionale-callback.xsd): an asynchronous upload is fully processed. The
// outbox row is queued by processUpload (src/app/gestionale/uploads.ts) with the final status;
// here its payload becomes the request, item errors mapped to PPAY_* codes as getUploadOutcome does.

import { el, leaf, type XmlNode } from '../../xml/build.ts';
import type { OperationDescription } from '../../soap/manifest.ts';
import { gestionaleFaultForCode } from '../../soap/faults/gestionale.ts';
import type { ItemResult } from '../gestionale/uploadItems.ts';
import type { UploadOutcomeNotification } from '../gestionale/uploads.ts';
import { clip, requestElement } from './callbackXml.ts';

export { NOTIFY_UPLOAD_OUTCOME } from '../gestionale/uploads.ts';

function itemOutcome(item: ItemResult): XmlNode {
  const fault = item.error
    ? gestionaleFaultForCode(item.error.code, item.error.message, item.error.field)
    : null;
  return el(
    'itemOutcome',
    null,
    leaf('sequence', item.sequence),
    leaf('positionId', item.positionId),
    leaf('action', item.action),
    leaf('outcome', item.outcome),
    ...item.notices.map((n) =>
      el(
        'notice',
        null,
        leaf('installment', n.installment),
        leaf('iuv', n.iuv),
        leaf('noticeNumber', n.noticeNumber),
        leaf('amountCents', n.amountCents),
        leaf('dueDate', n.dueDate),
      ),
    ),
    fault &&
      el(
        'fault',
        null,
        leaf('faultCode', fault.faultCode),
        leaf('faultString', fault.faultString),
        leaf('description', clip(fault.description, 1024)),
        leaf('field', clip(fault.field, 140)),
      ),
  );
}

export function buildNotifyUploadOutcome(
  operation: OperationDescription,
  notificationId: string,
  n: UploadOutcomeNotification,
): XmlNode {
  return requestElement(
    operation,
    { notificationId, eventDateTime: n.eventDateTime, enteFiscalCode: n.enteFiscalCode },
    leaf('serviceCode', n.serviceCode),
    leaf('uploadId', n.uploadId),
    leaf('messageId', n.messageId),
    leaf('source', n.source),
    leaf('fileName', n.fileName),
    el(
      'summary',
      null,
      leaf('itemCount', n.summary.itemCount),
      leaf('okCount', n.summary.okCount),
      leaf('koCount', n.summary.koCount),
    ),
    ...n.itemOutcome.map(itemOutcome),
  );
}

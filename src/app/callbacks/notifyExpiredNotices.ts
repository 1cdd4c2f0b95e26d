// notifyExpiredNotices (gestionale-callback.xsd): the nightly report of reserved multe notices never
// activated. The outbox rows are queued by reportExpiredReservations
// (src/app/gestionale/expiredReservations.ts), up to 1000 notices each; here a payload becomes the request.

import { el, leaf, type XmlNode } from '../../xml/build.ts';
import type { OperationDescription } from '../../soap/manifest.ts';
import type { ExpiredNoticesNotification } from '../gestionale/expiredReservations.ts';
import { requestElement } from './callbackXml.ts';

export { NOTIFY_EXPIRED_NOTICES } from '../gestionale/expiredReservations.ts';

/** A notice of the report; positionId and dueDate are there for PAST_DUE positions. */
type ExpiredNotice = ExpiredNoticesNotification['notice'][number] & {
  positionId?: string | null;
  dueDate?: string | null;
};

export function buildNotifyExpiredNotices(
  operation: OperationDescription,
  notificationId: string,
  n: ExpiredNoticesNotification,
): XmlNode {
  return requestElement(
    operation,
    { notificationId, eventDateTime: n.eventDateTime, enteFiscalCode: n.enteFiscalCode },
    leaf('serviceCode', n.serviceCode),
    leaf('referenceDate', n.referenceDate),
    ...n.notice.map((notice: ExpiredNotice) =>
      el(
        'notice',
        null,
        leaf('noticeNumber', notice.noticeNumber),
        leaf('iuv', notice.iuv),
        leaf('reason', notice.reason),
        leaf('positionId', notice.positionId),
        leaf('reservedAt', notice.reservedAt),
        leaf('dueDate', notice.dueDate),
      ),
    ),
  );
}

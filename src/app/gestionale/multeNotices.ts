// Finding a multe notice for activateNotice / releaseNotices: the number must have been handed out
// by reserveNotices (iuv_allocations purpose 'reserve') to this ente, for a service the caller is
// bound to. Anything else is NOTICE_UNKNOWN, whether it does not exist or is simply not the
// caller's: a credential learns nothing about other services' notices.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { StoredPosition } from '../../db/repositories/positions.ts';
import type { GestionaleCaller } from './common.ts';

export async function requireReservedNotice(
  store: Store,
  ente: Ente,
  caller: GestionaleCaller,
  noticeNumber: string,
): Promise<StoredPosition> {
  const allocation = await store.iuv.findByNoticeNumber(ente.id, noticeNumber);
  const position =
    allocation?.purpose === 'reserve'
      ? await store.positions.findByNoticeNumber(ente.id, noticeNumber)
      : null;
  if (!position || !caller.serviceIds.includes(position.serviceId)) {
    throw domainError('NOTICE_UNKNOWN', 'no notice reserved with this number', { field: 'noticeNumber' });
  }
  return position;
}

// reserveNotices (Multe con preavviso, DESIGN §2, pagopa-facts §10): a block of inactive notices
// for a service, loaded on the officers' devices before a shift. Each is a RESERVED position keyed
// by its notice number, with a placeholder option and no debtor: the node gets
// PAA_PAGAMENTO_SCONOSCIUTO for it (assertOptionPayable: POSITION_NOT_PAYABLE) until activateNotice.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import { issueNotices } from '../notices.ts';
import { oncePerRequestId, type GestionaleCaller, type IssuedNotice, type ServiceScope } from './common.ts';
import { MAX_BATCH } from './requestIuv.ts';

export interface ReserveNoticesInput extends ServiceScope {
  caller: GestionaleCaller;
  count: number;
  requestId?: string | null;
}

/**
 * Reserves `count` notices, all or none. The numbers are issued first (purpose 'reserve', with the
 * client, so the nightly report knows whom to tell); the positions and the requestId's answer are
 * written in one transaction.
 */
export function reserveNotices(store: Store, input: ReserveNoticesInput): Promise<IssuedNotice[]> {
  const { ente, service, caller, count } = input;
  if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH) {
    throw domainError('INVALID_INPUT', `count must be 1 to ${MAX_BATCH}`, { field: 'count' });
  }
  const key = {
    ente,
    requestId: input.requestId,
    operation: 'reserveNotices',
    content: { serviceCode: service.code, count },
  };
  return oncePerRequestId<IssuedNotice[]>(store, key, caller.clientId, async (remember) => {
    const issued = await issueNotices(store, ente, count, {
      purpose: 'reserve',
      serviceId: service.id,
      clientId: caller.clientId,
    });
    const answer = issued.map((n) => ({ iuv: n.iuv, noticeNumber: n.noticeNumber ?? '' }));
    await store.transaction(async (tx) => {
      await remember(tx, answer);
      const notices = answer.map((n) => ({ iuv: n.iuv, noticeNumber: n.noticeNumber }));
      await tx.positions.insertReserved(ente.id, service.id, notices, {
        cause: input.requestId ? `reserveNotices ${input.requestId}` : 'reserveNotices',
        actor: caller.actor,
      });
      await tx.iuv.attachByIuv(
        ente.id,
        answer.map((n) => n.iuv),
      );
    });
    return answer;
  });
}

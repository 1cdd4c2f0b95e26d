// requestIUV / requestIUVBatch (Base model, DESIGN §2): IUVs and notice numbers for an ente and
// service with no position yet. Each is recorded in iuv_allocations (purpose 'request', with the
// service and client) so a later upload naming the IUV uses it, and nobody else can.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import { issueNotices } from '../notices.ts';
import { oncePerRequestId, type GestionaleCaller, type IssuedNotice, type ServiceScope } from './common.ts';

/** The most numbers one call hands out (pt:stBatchSize). */
export const MAX_BATCH = 1000;

export interface RequestIuvsInput extends ServiceScope {
  caller: GestionaleCaller;
  count: number;
  /** Idempotency key: a retry with the same id and content gets the same numbers. */
  requestId?: string | null;
  /** Part of the idempotency content, so one requestId cannot serve two operations. */
  operation: 'requestIUV' | 'requestIUVBatch';
}

/** Issues `count` notices (all or none), in allocation order. */
export function requestIuvs(store: Store, input: RequestIuvsInput): Promise<IssuedNotice[]> {
  const { ente, service, caller, count } = input;
  if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH) {
    throw domainError('INVALID_INPUT', `count must be 1 to ${MAX_BATCH}`, { field: 'count' });
  }
  const key = {
    ente,
    requestId: input.requestId,
    operation: input.operation,
    content: { serviceCode: service.code, count },
  };
  return oncePerRequestId<IssuedNotice[]>(store, key, caller.clientId, async (remember) => {
    const issued = await issueNotices(store, ente, count, {
      purpose: 'request',
      serviceId: service.id,
      clientId: caller.clientId,
    });
    const answer = issued.map((n) => ({ iuv: n.iuv, noticeNumber: n.noticeNumber ?? '' }));
    await remember(store, answer);
    return answer;
  });
}

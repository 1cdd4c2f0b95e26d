// releaseNotices (Multe con preavviso): reserved notices never used are given back
// (RESERVED → RELEASED); a released notice is never payable nor reused. Each notice succeeds or
// fails alone, in request order; releasing a released notice again is OK (idempotent).

import { domainError, isDomainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { GestionaleCaller } from './common.ts';
import { requireReservedNotice } from './multeNotices.ts';
import type { ItemError } from './uploadItems.ts';

export interface ReleaseNoticesInput {
  ente: Ente;
  caller: GestionaleCaller;
  noticeNumbers: string[];
  reason?: string | null;
}

export interface ReleaseOutcome {
  noticeNumber: string;
  outcome: 'OK' | 'KO';
  error?: ItemError | undefined;
}

async function releaseOne(store: Store, input: ReleaseNoticesInput, noticeNumber: string): Promise<void> {
  const position = await requireReservedNotice(store, input.ente, input.caller, noticeNumber);
  switch (position.status) {
    case 'RELEASED':
      return;
    case 'RESERVED':
      await store.positions.transition(position.id, 'RELEASED', {
        cause: input.reason ? `releaseNotices: ${input.reason}` : 'releaseNotices',
        actor: input.caller.actor,
        expectedVersion: position.version,
      });
      return;
    case 'VALID':
    case 'PARTIALLY_PAID':
    case 'PAID':
    case 'REPORTED':
    case 'RECONCILED':
      throw domainError('NOTICE_ALREADY_ACTIVE', 'the notice was activated: cancel the fine instead', {
        field: 'noticeNumber',
      });
    default:
      throw domainError('INVALID_STATE_TRANSITION', `a ${position.status} notice cannot be released`, {
        from: position.status,
        field: 'noticeNumber',
      });
  }
}

export async function releaseNotices(store: Store, input: ReleaseNoticesInput): Promise<ReleaseOutcome[]> {
  const outcomes: ReleaseOutcome[] = [];
  for (const noticeNumber of input.noticeNumbers) {
    try {
      await releaseOne(store, input, noticeNumber);
      outcomes.push({ noticeNumber, outcome: 'OK' });
    } catch (err) {
      if (!isDomainError(err)) throw err;
      const field = typeof err.details.field === 'string' ? err.details.field : undefined;
      outcomes.push({ noticeNumber, outcome: 'KO', error: { code: err.code, message: err.message, field } });
    }
  }
  return outcomes;
}

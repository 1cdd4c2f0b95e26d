// Hands out IUVs and notice numbers for an ente: the data layer reserves sequence numbers atomically,
// the domain turns each into a notice number for the ente's aux digit and segregation/application code.

import { buildNoticeNumberFromSequence } from '../domain/noticeNumber.ts';
import type { Store } from '../db/store.ts';
import type { Ente } from '../db/repositories/enti.ts';
import type { AllocationPurpose, NewAllocation } from '../db/repositories/iuv.ts';

export interface IssueRequest {
  purpose: AllocationPurpose;
  serviceId?: number | null;
  clientId?: number | null;
}

export function issueNotices(
  store: Store,
  ente: Ente,
  count: number,
  request: IssueRequest,
): Promise<NewAllocation[]> {
  const context = {
    auxDigit: ente.auxDigit,
    segregationCode: ente.segregationCode,
    applicationCode: ente.applicationCode,
  };
  return store.iuv.issue(ente.id, count, {
    ...request,
    format: (n) => {
      const built = buildNoticeNumberFromSequence(context, n);
      return { iuv: built.iuv, noticeNumber: built.noticeNumber };
    },
  });
}

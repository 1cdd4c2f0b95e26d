// releaseNotices (Multe con preavviso): maps the notice numbers to the release use case and each
// notice's outcome, in request order, to the answer.

import type { Store } from '../../db/store.ts';
import { releaseNotices as release } from '../../app/gestionale/releaseNotices.ts';
import type { ReleaseNoticesRequest } from '../../xml/generated/gestionale/gestionale.ts';
import { asArray, faultObjectOf, type GestionaleHandler } from './common.ts';

export function releaseNotices(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as ReleaseNoticesRequest;
    const outcomes = await release(store, {
      ente: call.ente,
      caller: call.caller,
      noticeNumbers: asArray(request.noticeNumber),
      reason: request.reason ?? null,
    });
    return {
      outcome: 'OK',
      noticeOutcome: outcomes.map((o) =>
        o.error
          ? { noticeNumber: o.noticeNumber, outcome: o.outcome, fault: faultObjectOf(o.error) }
          : { noticeNumber: o.noticeNumber, outcome: o.outcome },
      ),
    };
  };
}

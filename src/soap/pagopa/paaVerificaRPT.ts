// paaVerificaRPT (SANP 2.x, model 3, pagopa-facts §4): the PSP, through the node, asks what is due
// for the notice whose IUV the intestazionePPT header names. Maps the header to verifyLegacyNotice
// and the notice to datiPagamentoPA; no state change.

import type { Store } from '../../db/store.ts';
import { verifyLegacyNotice } from '../../app/pagopa/legacyNotices.ts';
import type { PaaVerificaRPTRisposta } from '../../xml/generated/pagopa/legacy/paPerNodoPagamentoPsp.ts';
import type { OperationHandler } from '../server.ts';
import { datiPagamentoPAOf, legacyCallerOf, legacyHeaderOf } from './legacyModel.ts';

export function paaVerificaRPT(store: Store): OperationHandler {
  return async (_args, ctx) => {
    const header = legacyHeaderOf(ctx);
    const notice = await verifyLegacyNotice(store, {
      caller: legacyCallerOf(header),
      iuv: header.identificativoUnivocoVersamento,
      ccp: header.codiceContestoPagamento,
    });
    const answer: PaaVerificaRPTRisposta = {
      paaVerificaRPTRisposta: { esito: 'OK', datiPagamentoPA: datiPagamentoPAOf(notice) },
    };
    return answer;
  };
}

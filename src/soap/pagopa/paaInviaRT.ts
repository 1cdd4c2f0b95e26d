// paaInviaRT (SANP 2.x, pagopa-facts §4, §6, §9): the node delivers the RT of one RPT, base64 in the
// body, its key (idDominio, IUV, CCP) in the header. Maps the request to receiveRt; the binding turns
// its refusals into PAA_SINTASSI_XSD, PAA_SEMANTICA, PAA_RPT_SCONOSCIUTA or PAA_RT_DUPLICATA.

import type { Store } from '../../db/store.ts';
import { receiveRt } from '../../app/pagopa/rtReceipts.ts';
import type { PaaInviaRT, PaaInviaRTRisposta } from '../../xml/generated/pagopa/legacy/paPerNodo.ts';
import type { OperationHandler } from '../server.ts';
import { legacyCallerOf, legacyHeaderOf } from './legacyModel.ts';

export function paaInviaRT(store: Store): OperationHandler {
  return async (args, ctx) => {
    const request = args as unknown as PaaInviaRT;
    const header = legacyHeaderOf(ctx);
    await receiveRt(store, {
      caller: legacyCallerOf(header),
      iuv: header.identificativoUnivocoVersamento,
      ccp: header.codiceContestoPagamento,
      document: Buffer.from(String(request.rt), 'base64').toString('utf8'),
    });
    const answer: PaaInviaRTRisposta = { paaInviaRTRisposta: { esito: 'OK' } };
    return answer;
  };
}

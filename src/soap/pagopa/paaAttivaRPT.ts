// paaAttivaRPT (SANP 2.x, model 3, pagopa-facts §3, §4, §11): the PSP activates the notice with its
// CCP (header) and amount. Maps the request to activateLegacyNotice, which records the attempt and
// queues the RPT in one transaction; answers datiPagamentoPA, then wakes the RPT sender, which sends
// nodoInviaRPT (tipoVersamento PO, same PSP and CCP) once the answer is on its way.

import type { Store } from '../../db/store.ts';
import { parseDecimalAmount } from '../../domain/money.ts';
import { activateLegacyNotice } from '../../app/pagopa/legacyNotices.ts';
import type { RptWakeup } from '../../app/pagopa/rptSender.ts';
import type {
  PaaAttivaRPT,
  PaaAttivaRPTRisposta,
} from '../../xml/generated/pagopa/legacy/paPerNodoPagamentoPsp.ts';
import type { OperationHandler } from '../server.ts';
import { datiPagamentoPAOf, legacyCallerOf, legacyHeaderOf } from './legacyModel.ts';

export function paaAttivaRPT(store: Store, sender?: RptWakeup): OperationHandler {
  return async (args, ctx) => {
    const request = args as unknown as PaaAttivaRPT;
    const header = legacyHeaderOf(ctx);
    const { notice } = await activateLegacyNotice(
      store,
      {
        caller: legacyCallerOf(header),
        iuv: header.identificativoUnivocoVersamento,
        ccp: header.codiceContestoPagamento,
      },
      {
        amountCents: parseDecimalAmount(String(request.datiPagamentoPSP.importoSingoloVersamento)),
        psp: {
          idPSP: request.identificativoPSP,
          idBrokerPSP: request.identificativoIntermediarioPSP,
          idChannel: request.identificativoCanalePSP,
        },
      },
    );
    sender?.wake();
    const answer: PaaAttivaRPTRisposta = {
      paaAttivaRPTRisposta: { esito: 'OK', datiPagamentoPA: datiPagamentoPAOf(notice) },
    };
    return answer;
  };
}

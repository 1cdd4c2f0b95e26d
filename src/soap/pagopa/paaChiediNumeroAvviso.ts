// paaChiediNumeroAvviso (SANP 2.x, "model 4", pagopa-facts §3, §4): a spontaneous payment started at a
// PSP. Decodes the base64 service data and maps it to demandLegacyNotice, which creates the position;
// answers its notice number in parts and its datiPagamentoPA.

import type { Store } from '../../db/store.ts';
import { demandLegacyNotice } from '../../app/pagopa/legacyNotices.ts';
import type {
  PaaChiediNumeroAvviso,
  PaaChiediNumeroAvvisoRisposta,
} from '../../xml/generated/pagopa/legacy/paPerNodoRichiestaAvvisi.ts';
import type { OperationHandler } from '../server.ts';
import { datiPagamentoPAOf, legacyCallerOf, legacyHeaderOf, numeroAvvisoOf } from './legacyModel.ts';

export function paaChiediNumeroAvviso(store: Store): OperationHandler {
  return async (args, ctx) => {
    const request = args as unknown as PaaChiediNumeroAvviso;
    const notice = await demandLegacyNotice(store, {
      caller: legacyCallerOf(legacyHeaderOf(ctx)),
      serviceData: Buffer.from(String(request.datiSpecificiServizio), 'base64'),
    });
    const answer: PaaChiediNumeroAvvisoRisposta = {
      paaChiediNumeroAvvisoRisposta: {
        esito: 'OK',
        numeroAvviso: numeroAvvisoOf(notice),
        datiPagamentoPA: datiPagamentoPAOf(notice),
      },
    };
    return answer;
  };
}

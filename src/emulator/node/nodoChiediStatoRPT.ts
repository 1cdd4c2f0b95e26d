// nodoChiediStatoRPT (pagopa-facts §4): the state of one RPT of the calling station, with its
// history; while its cart can still be paid, the checkout URL to send the citizen back to.

import type { SoapContext } from '../../soap/guard.ts';
import { NodeFault } from '../faults.ts';
import { checkDominio, checkStation } from '../registry.ts';
import { bodyLogin, checkoutUrl, field, type NodeDeps } from './common.ts';
import { requestInfo } from './requestInfo.ts';

export async function nodoChiediStatoRPT(deps: NodeDeps, args: Record<string, unknown>, ctx: SoapContext) {
  const station = await checkStation(deps.store, bodyLogin(args));
  const key = {
    idDominio: field(args, 'identificativoDominio'),
    iuv: field(args, 'identificativoUnivocoVersamento'),
    ccp: field(args, 'codiceContestoPagamento'),
  };
  await checkDominio(deps.store, key.idDominio, station);
  const rpt = await deps.edb.rpts.get(key);
  if (!rpt || rpt.stationId !== station.stationId) throw new NodeFault('PPT_RPT_SCONOSCIUTA');
  const cart = await deps.edb.carts.get(rpt.cartId);
  const payable = cart?.status === 'OPEN' && rpt.tipoVersamento !== 'PO';
  const history = await deps.edb.rpts.history(key);
  return {
    esito: {
      stato: rpt.status,
      redirect: payable ? 1 : 0,
      ...(payable ? { url: checkoutUrl(requestInfo(ctx).origin, rpt.cartId) } : {}),
      elementoStoricoRPT: history.map((h) => ({
        data: h.occurredAt,
        stato: h.status,
        descrizione: h.description,
      })),
    },
  };
}

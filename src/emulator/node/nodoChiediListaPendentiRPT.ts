// nodoChiediListaPendentiRPT (pagopa-facts §4): the calling station's RPTs (of one EC, when named)
// still without a final state, received within rangeDa..rangeA, at most dimensioneLista of them.

import type { SoapContext } from '../../soap/guard.ts';
import { checkDominio, checkStation } from '../registry.ts';
import { bodyLogin, optionalField, type NodeDeps } from './common.ts';

/** The node never returns more than this, whatever dimensioneLista asks for. */
const MAX_LIST = 1000;

function instant(value: string | null): number | null {
  if (value === null) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

export async function nodoChiediListaPendentiRPT(
  deps: NodeDeps,
  args: Record<string, unknown>,
  _ctx: SoapContext,
) {
  const station = await checkStation(deps.store, bodyLogin(args));
  const idDominio = optionalField(args, 'identificativoDominio');
  if (idDominio) await checkDominio(deps.store, idDominio, station);
  const from = instant(optionalField(args, 'rangeDa'));
  const to = instant(optionalField(args, 'rangeA'));
  const size = Math.min(Number(optionalField(args, 'dimensioneLista') ?? MAX_LIST) || MAX_LIST, MAX_LIST);
  const pending = (await deps.edb.rpts.listPending(station.stationId, idDominio))
    .filter((rpt) => {
      const at = Date.parse(rpt.createdAt);
      return (from === null || at >= from) && (to === null || at <= to);
    })
    .slice(0, size);
  return {
    listaRPTPendenti: {
      totRestituiti: pending.length,
      rptPendente: pending.map((rpt) => ({
        identificativoDominio: rpt.idDominio,
        identificativoUnivocoVersamento: rpt.iuv,
        codiceContestoPagamento: rpt.ccp,
        stato: rpt.status,
      })),
    },
  };
}

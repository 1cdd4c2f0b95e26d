// nodoChiediElencoFlussiRendicontazione (pagopa-facts §4, §8): the reporting flows the node holds
// for the calling station, optionally narrowed to one EC and one PSP. Same answer on NodoPerPa and
// nodeForPa.

import type { SoapContext } from '../../soap/guard.ts';
import { checkDominio, checkStation } from '../registry.ts';
import { bodyLogin, optionalField, type NodeDeps } from './common.ts';

export async function nodoChiediElencoFlussiRendicontazione(
  deps: NodeDeps,
  args: Record<string, unknown>,
  _ctx: SoapContext,
) {
  const station = await checkStation(deps.store, bodyLogin(args));
  const idDominio = optionalField(args, 'identificativoDominio');
  if (idDominio) await checkDominio(deps.store, idDominio, station);
  const flows = await deps.flows.list({
    stationId: station.stationId,
    idDominio,
    idPsp: optionalField(args, 'identificativoPSP'),
  });
  return {
    elencoFlussiRendicontazione: {
      totRestituiti: flows.length,
      idRendicontazione: flows.map((f) => ({
        identificativoFlusso: f.identificativoFlusso,
        dataOraFlusso: f.dataOraFlusso,
      })),
    },
  };
}

// nodoChiediFlussoRendicontazione (pagopa-facts §4, §8): one reporting flow, the FlussoRiversamento
// XML in base64; PPT_ID_FLUSSO_SCONOSCIUTO when the node holds no such flow for the station.

import type { SoapContext } from '../../soap/guard.ts';
import { NodeFault } from '../faults.ts';
import { checkDominio, checkStation } from '../registry.ts';
import { bodyLogin, field, optionalField, type NodeDeps } from './common.ts';

export async function nodoChiediFlussoRendicontazione(
  deps: NodeDeps,
  args: Record<string, unknown>,
  _ctx: SoapContext,
) {
  const station = await checkStation(deps.store, bodyLogin(args));
  const idDominio = optionalField(args, 'identificativoDominio');
  if (idDominio) await checkDominio(deps.store, idDominio, station);
  const identificativoFlusso = field(args, 'identificativoFlusso');
  const xml = await deps.flows.get(
    { stationId: station.stationId, idDominio, idPsp: optionalField(args, 'identificativoPSP') },
    identificativoFlusso,
  );
  if (xml === null) throw new NodeFault('PPT_ID_FLUSSO_SCONOSCIUTO', `flusso ${identificativoFlusso}`);
  return { xmlRendicontazione: Buffer.from(xml, 'utf8').toString('base64') };
}

// nodoChiediCopiaRT (pagopa-facts §4): a copy of the RT of one RPT, how an EC recovers a receipt it
// never got. No such RPT: PPT_RT_SCONOSCIUTA; an RPT whose payment is not over: PPT_RT_NONDISPONIBILE.

import type { SoapContext } from '../../soap/guard.ts';
import { NodeFault } from '../faults.ts';
import { checkDominio, checkStation } from '../registry.ts';
import { bodyLogin, field, type NodeDeps } from './common.ts';

export async function nodoChiediCopiaRT(deps: NodeDeps, args: Record<string, unknown>, _ctx: SoapContext) {
  const station = await checkStation(deps.store, bodyLogin(args));
  const key = {
    idDominio: field(args, 'identificativoDominio'),
    iuv: field(args, 'identificativoUnivocoVersamento'),
    ccp: field(args, 'codiceContestoPagamento'),
  };
  await checkDominio(deps.store, key.idDominio, station);
  const rpt = await deps.edb.rpts.get(key);
  if (!rpt || rpt.stationId !== station.stationId) throw new NodeFault('PPT_RT_SCONOSCIUTA');
  const rt = await deps.edb.rts.get(key);
  if (!rt) throw new NodeFault('PPT_RT_NONDISPONIBILE');
  return { tipoFirma: '', rt: Buffer.from(rt.rtXml, 'utf8').toString('base64') };
}

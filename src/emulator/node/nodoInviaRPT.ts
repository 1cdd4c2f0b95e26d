// nodoInviaRPT (pagopa-facts §3, §4): an EC station sends one RPT. The node checks the station,
// the EC, the PSP route and the RPT itself (schema, then its key against intestazionePPT), stores it
// and answers with the checkout page for it; an RPT of a payment started at a PSP (tipoVersamento
// PO, model 3) goes straight to that PSP, so there is nothing to redirect to.

import { randomUUID } from 'node:crypto';
import type { SoapContext } from '../../soap/guard.ts';
import { EmulatorDuplicate } from '../db.ts';
import { NodeFault } from '../faults.ts';
import { checkDominio, checkPspRoute, checkStation } from '../registry.ts';
import { checkRptKey, readRpt } from '../rpt.ts';
import { checkoutUrl, field, type NodeDeps } from './common.ts';
import { requestInfo } from './requestInfo.ts';

export async function nodoInviaRPT(deps: NodeDeps, args: Record<string, unknown>, ctx: SoapContext) {
  const { header, origin } = requestInfo(ctx);
  const key = {
    idDominio: header.identificativoDominio ?? '',
    iuv: header.identificativoUnivocoVersamento ?? '',
    ccp: header.codiceContestoPagamento ?? '',
  };
  const station = await checkStation(deps.store, {
    brokerId: header.identificativoIntermediarioPA ?? '',
    stationId: header.identificativoStazioneIntermediarioPA ?? '',
    password: field(args, 'password'),
  });
  await checkDominio(deps.store, key.idDominio, station);
  const psp = await checkPspRoute(deps.edb, {
    identificativoPSP: field(args, 'identificativoPSP'),
    identificativoIntermediarioPSP: field(args, 'identificativoIntermediarioPSP'),
    identificativoCanale: field(args, 'identificativoCanale'),
  });
  const rpt = readRpt(field(args, 'rpt'));
  checkRptKey(rpt, key);
  const cartId = `rpt-${randomUUID()}`;
  try {
    await deps.edb.carts.create(
      {
        id: cartId,
        kind: 'rpt',
        stationId: station.stationId,
        brokerId: header.identificativoIntermediarioPA ?? '',
        pspId: psp.kind === 'psp' ? psp.idPsp : null,
      },
      {
        rpts: [
          {
            ...key,
            cartId,
            position: 1,
            stationId: station.stationId,
            brokerId: header.identificativoIntermediarioPA ?? '',
            pspId: psp.idPsp,
            tipoVersamento: rpt.tipoVersamento,
            amountCents: rpt.totalCents,
            rptXml: rpt.xml,
          },
        ],
      },
    );
  } catch (err) {
    if (err instanceof EmulatorDuplicate)
      throw new NodeFault('PPT_RPT_DUPLICATA', 'RPT già ricevuta con questa chiave');
    throw err;
  }
  if (rpt.tipoVersamento === 'PO') return { esito: 'OK', redirect: 0 };
  return { esito: 'OK', redirect: 1, url: checkoutUrl(origin, cartId) };
}

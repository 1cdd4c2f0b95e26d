// nodoInviaCarrelloRPT (pagopa-facts §3, §4): a cart of 1 to 5 RPTs, one checkout page for all.
// Each RPT is checked like nodoInviaRPT's; the ones that fail are listed in listaErroriRPT with their
// position as serial, and then nothing is stored. A reused identificativoCarrello is
// PPT_ID_CARRELLO_DUPLICATO. A multi-beneficiary cart (SANP 2.5) must hold exactly two RPTs of one
// debt position: same IUV and execution date, the primary EC first (served by the calling station),
// a different EC second with one versamento, at most five versamenti in all, and an
// identificativoCarrello <idDominio><numeroAvviso>-<nnnnn> that each CCP contains.

import type { SoapContext } from '../../soap/guard.ts';
import type { Station } from '../../db/repositories/stations.ts';
import { EmulatorDuplicate, type NewRpt } from '../db.ts';
import { NodeFault, nodeFaultBean, type NodeFaultBean } from '../faults.ts';
import { checkDominio, checkPspRoute, checkStation } from '../registry.ts';
import { checkRptKey, readRpt, type ParsedRpt } from '../rpt.ts';
import { checkoutUrl, field, toArray, type NodeDeps } from './common.ts';
import { requestInfo } from './requestInfo.ts';

const MULTI_BENEFICIARY_CART_ID = /^(\d{11})(\d{18})-\d{5}$/;

interface CartEntry {
  identificativoDominio?: string;
  identificativoUnivocoVersamento?: string;
  codiceContestoPagamento?: string;
  rpt?: string;
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true' || value === '1';
}

async function readEntry(
  deps: NodeDeps,
  entry: CartEntry,
  station: Station,
  primary: boolean,
  multi: boolean,
): Promise<ParsedRpt> {
  const key = {
    idDominio: entry.identificativoDominio ?? '',
    iuv: entry.identificativoUnivocoVersamento ?? '',
    ccp: entry.codiceContestoPagamento ?? '',
  };
  // A secondary EC of a multi-beneficiary cart is served by its own station: it only has to exist.
  await checkDominio(deps.store, key.idDominio, multi && !primary ? undefined : station);
  const rpt = readRpt(entry.rpt ?? '');
  checkRptKey(rpt, key);
  if (await deps.edb.rpts.get(key))
    throw new NodeFault('PPT_RPT_DUPLICATA', 'RPT già ricevuta con questa chiave');
  return rpt;
}

/** The cart-level rules of a multi-beneficiary cart, once each RPT is known to be valid. */
function checkMultiBeneficiary(cartId: string, rpts: ParsedRpt[]): void {
  const [primary, secondary] = rpts;
  if (rpts.length !== 2 || !primary || !secondary) {
    throw new NodeFault('PPT_SEMANTICA', 'un carrello multibeneficiario contiene esattamente 2 RPT');
  }
  if (primary.iuv !== secondary.iuv)
    throw new NodeFault('PPT_SEMANTICA', 'le RPT multibeneficiario hanno lo stesso IUV');
  if (primary.idDominio === secondary.idDominio) {
    throw new NodeFault('PPT_SEMANTICA', 'la seconda RPT multibeneficiario appartiene a un altro ente');
  }
  if (primary.dataEsecuzionePagamento !== secondary.dataEsecuzionePagamento) {
    throw new NodeFault('PPT_SEMANTICA', 'le RPT multibeneficiario hanno la stessa dataEsecuzionePagamento');
  }
  if (secondary.transfers.length !== 1) {
    throw new NodeFault('PPT_SEMANTICA', 'la RPT del secondo ente ha un solo datiSingoloVersamento');
  }
  if (primary.transfers.length + secondary.transfers.length > 5) {
    throw new NodeFault('PPT_SEMANTICA', 'al più 5 datiSingoloVersamento in un carrello multibeneficiario');
  }
  const match = MULTI_BENEFICIARY_CART_ID.exec(cartId);
  if (!match || match[1] !== primary.idDominio || !match[2]?.endsWith(primary.iuv)) {
    throw new NodeFault(
      'PPT_SEMANTICA',
      'identificativoCarrello multibeneficiario: <idDominio primario><numeroAvviso>-<progressivo 5 cifre>',
    );
  }
  if (rpts.some((r) => !r.ccp.includes(cartId))) {
    throw new NodeFault('PPT_SEMANTICA', 'il codiceContestoPagamento contiene identificativoCarrello');
  }
}

export async function nodoInviaCarrelloRPT(deps: NodeDeps, args: Record<string, unknown>, ctx: SoapContext) {
  const { header, origin } = requestInfo(ctx);
  const cartId = header.identificativoCarrello ?? '';
  const brokerId = header.identificativoIntermediarioPA ?? '';
  const station = await checkStation(deps.store, {
    brokerId,
    stationId: header.identificativoStazioneIntermediarioPA ?? '',
    password: field(args, 'password'),
  });
  const psp = await checkPspRoute(deps.edb, {
    identificativoPSP: field(args, 'identificativoPSP'),
    identificativoIntermediarioPSP: field(args, 'identificativoIntermediarioPSP'),
    identificativoCanale: field(args, 'identificativoCanale'),
  });
  if (await deps.edb.carts.get(cartId))
    throw new NodeFault('PPT_ID_CARRELLO_DUPLICATO', `carrello ${cartId}`);
  const multi = isTrue(args.multiBeneficiario);
  const entries = toArray(
    (args.listaRPT as { elementoListaRPT?: CartEntry | CartEntry[] } | undefined)?.elementoListaRPT,
  );

  const errors: NodeFaultBean[] = [];
  const rpts: ParsedRpt[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    try {
      const rpt = await readEntry(deps, entry, station, index === 0, multi);
      const key = `${rpt.idDominio}|${rpt.iuv}|${rpt.ccp}`;
      if (seen.has(key))
        throw new NodeFault('PPT_RPT_DUPLICATA', 'la stessa RPT compare due volte nel carrello');
      seen.add(key);
      rpts.push(rpt);
    } catch (err) {
      if (!(err instanceof NodeFault)) throw err;
      errors.push(nodeFaultBean(err.bean.faultCode, err.bean.description, index + 1));
    }
  }
  const [firstError] = errors;
  if (firstError) {
    return {
      fault: firstError,
      esitoComplessivoOperazione: 'KO',
      listaErroriRPT: { fault: errors },
    };
  }
  if (multi) checkMultiBeneficiary(cartId, rpts);

  const newRpts: NewRpt[] = rpts.map((rpt, index) => ({
    idDominio: rpt.idDominio,
    iuv: rpt.iuv,
    ccp: rpt.ccp,
    cartId,
    position: index + 1,
    stationId: station.stationId,
    brokerId,
    pspId: psp.idPsp,
    tipoVersamento: rpt.tipoVersamento,
    amountCents: rpt.totalCents,
    rptXml: rpt.xml,
  }));
  try {
    await deps.edb.carts.create(
      {
        id: cartId,
        kind: 'rpt',
        stationId: station.stationId,
        brokerId,
        multiBeneficiary: multi,
        pspId: psp.kind === 'psp' ? psp.idPsp : null,
      },
      { rpts: newRpts },
    );
  } catch (err) {
    if (!(err instanceof EmulatorDuplicate)) throw err;
    // Another request took the cart id or one of the RPTs between the checks and the insert.
    throw new NodeFault(err.table === 'emulator_carts' ? 'PPT_ID_CARRELLO_DUPLICATO' : 'PPT_RPT_DUPLICATA');
  }
  return { esitoComplessivoOperazione: 'OK', url: checkoutUrl(origin, cartId) };
}

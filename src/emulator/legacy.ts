// Legacy (SANP 2.x) payments as the node runs them against an EC station (pagopa-facts §3, §4, §6):
// the RT for each RPT of a paid or abandoned cart, pushed with paaInviaRT (header intestazionePPT),
// and model 3 at a PSP: paaVerificaRPT → paaAttivaRPT (the PSP's CCP) → the EC's own nodoInviaRPT,
// which reaches this emulator → the RT.

import { formatAmount, parseDecimalAmount, type AmountCents } from '../domain/money.ts';
import { parseNoticeNumber } from '../domain/noticeNumber.ts';
import { isDomainError } from '../domain/errors.ts';
import { randomId } from './clock.ts';
import { callEc } from './clients.ts';
import type { EmulatorPsp, RptKey, StoredRpt } from './db.ts';
import type { EcStation } from './registry.ts';
import { buildRt, parseRptXml, type RtOutcome } from './rpt.ts';
import type { EmulatorContext, StepLog } from './steps.ts';

type Obj = Record<string, unknown>;

const obj = (value: unknown): Obj => (value !== null && typeof value === 'object' ? (value as Obj) : {});

function header(brokerId: string, stationId: string, key: RptKey): Obj {
  return {
    intestazionePPT: {
      identificativoIntermediarioPA: brokerId,
      identificativoStazioneIntermediarioPA: stationId,
      identificativoDominio: key.idDominio,
      identificativoUnivocoVersamento: key.iuv,
      codiceContestoPagamento: key.ccp,
    },
  };
}

/**
 * Builds (once) and pushes the RT of an RPT to the station that sent it. PAA_RT_DUPLICATA means the
 * EC already accepted it. Returns whether the EC holds the RT now.
 */
export async function issueRt(
  ctx: EmulatorContext,
  log: StepLog,
  rpt: StoredRpt,
  psp: EmulatorPsp,
  outcome: RtOutcome,
): Promise<boolean> {
  const at = ctx.now?.() ?? new Date();
  let rt = await ctx.edb.rts.get(rpt);
  if (!rt) {
    const built = buildRt(parseRptXml(rpt.rptXml), psp, outcome, at);
    rt = await ctx.edb.rts.save({
      ...rpt,
      outcomeCode: built.outcomeCode,
      amountCents: built.amountCents,
      rtXml: built.xml,
    });
    await ctx.edb.rpts.setStatus(
      rpt,
      'RT_RICEVUTA_NODO',
      `RT ${rt.outcomeCode === '0' ? 'positiva' : 'negativa'} da ${psp.idPsp}`,
    );
  }
  const call = await callEc(
    ctx.connectorUrl,
    'PaPerNodo.wsdl',
    'paaInviaRT',
    { tipoFirma: '', rt: Buffer.from(rt.rtXml, 'utf8').toString('base64') },
    { pptHeader: header(rpt.brokerId, rpt.stationId, rpt) },
  );
  const answer = (a: Obj) => {
    const inner = obj(a.paaInviaRTRisposta);
    return { outcome: inner.esito, fault: inner.fault };
  };
  const sent = log.call('paaInviaRT', call, answer, rpt.idDominio);
  if (!call.ok) {
    await ctx.edb.rts.setDelivery(rpt, 'UNKNOWN', sent.faultCode);
    await ctx.edb.rpts.setStatus(rpt, 'RT_ESITO_SCONOSCIUTO_PA', `paaInviaRT: ${sent.faultCode ?? ''}`);
    return false;
  }
  const accepted = sent.ok || sent.faultCode === 'PAA_RT_DUPLICATA';
  await ctx.edb.rts.setDelivery(rpt, accepted ? 'ACCEPTED' : 'REJECTED', sent.faultCode);
  await ctx.edb.rpts.setStatus(
    rpt,
    accepted ? 'RT_ACCETTATA_PA' : 'RT_RIFIUTATA_PA',
    accepted ? 'RT accettata dall’ente' : `RT rifiutata dall’ente: ${sent.faultCode ?? ''}`,
  );
  return accepted;
}

export interface LegacyNotice {
  ec: EcStation;
  noticeNumber: string;
  amountCents?: AmountCents | undefined;
  /** How long the node waits for the EC's RPT after paaAttivaRPT (the EC's SLA is 2 s). */
  rptWaitMs: number;
}

async function waitForRpt(ctx: EmulatorContext, key: RptKey, waitMs: number): Promise<StoredRpt | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const rpt = await ctx.edb.rpts.get(key);
    if (rpt || Date.now() >= deadline) return rpt;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Model 3 on a legacy station, as the PSP and the node play it. Returns the CCP and whether the EC took the RT. */
export async function payLegacyNotice(
  ctx: EmulatorContext,
  log: StepLog,
  notice: LegacyNotice,
  psp: EmulatorPsp,
): Promise<{ ok: boolean; ccp: string | null }> {
  const { ec } = notice;
  let iuv: string;
  try {
    iuv = parseNoticeNumber(notice.noticeNumber).iuv;
  } catch (err) {
    if (!isDomainError(err)) throw err;
    log.add({
      step: 'nodoVerificaRPT',
      outcome: 'KO',
      faultCode: 'PPT_SINTASSI_EXTRAXSD',
      description: err.message,
    });
    return { ok: false, ccp: null };
  }
  const key = { idDominio: ec.ente.fiscalCode, iuv, ccp: randomId('', 16) };
  const pptHeader = header(ec.brokerId, ec.station.stationId, key);
  const payment = await ctx.edb.payments.create({
    paymentToken: key.ccp,
    kind: 'legacy',
    fiscalCode: key.idDominio,
    noticeNumber: notice.noticeNumber,
    iuv,
    pspId: psp.idPsp,
    primitiveVersion: 1,
    status: 'VERIFIED',
    lastStep: 'paaVerificaRPT',
  });
  const fail = async (step: string, faultCode: string | null) => {
    await ctx.edb.payments.update(payment.paymentToken, { status: 'FAILED', lastStep: step, faultCode });
    return { ok: false, ccp: key.ccp };
  };
  const inner = (name: string) => (a: Obj) => {
    const answer = obj(a[name]);
    return { outcome: answer.esito, fault: answer.fault };
  };

  const verifyCall = await callEc(
    ctx.connectorUrl,
    'PaPerNodoPagamentoPsp.wsdl',
    'paaVerificaRPT',
    { identificativoPSP: psp.idPsp },
    { pptHeader },
  );
  const verified = log.call('paaVerificaRPT', verifyCall, inner('paaVerificaRPTRisposta'));
  if (!verified.ok || !verifyCall.ok) return fail('paaVerificaRPT', verified.faultCode);
  const dati = obj(obj(verifyCall.answer.paaVerificaRPTRisposta).datiPagamentoPA);
  const amountCents = notice.amountCents ?? parseDecimalAmount(String(dati.importoSingoloVersamento));

  const activateCall = await callEc(
    ctx.connectorUrl,
    'PaPerNodoPagamentoPsp.wsdl',
    'paaAttivaRPT',
    {
      identificativoPSP: psp.idPsp,
      datiPagamentoPSP: { importoSingoloVersamento: formatAmount(amountCents) },
      identificativoIntermediarioPSP: psp.idBrokerPsp,
      identificativoCanalePSP: psp.idChannel,
    },
    { pptHeader },
  );
  const activated = log.call('paaAttivaRPT', activateCall, inner('paaAttivaRPTRisposta'));
  if (!activated.ok) return fail('paaAttivaRPT', activated.faultCode);
  await ctx.edb.payments.update(key.ccp, { status: 'ACTIVATED', amountCents, lastStep: 'paaAttivaRPT' });

  const rpt = await waitForRpt(ctx, key, notice.rptWaitMs);
  if (!rpt) {
    const description = `no nodoInviaRPT with CCP ${key.ccp} within ${notice.rptWaitMs} ms`;
    log.add({ step: 'nodoInviaRPT', outcome: 'KO', faultCode: 'PPT_STAZIONE_INT_PA_TIMEOUT', description });
    return fail('nodoInviaRPT', 'PPT_STAZIONE_INT_PA_TIMEOUT');
  }
  if (rpt.pspId !== psp.idPsp || rpt.amountCents !== amountCents) {
    const description = 'the RPT names another PSP or another amount than the activation';
    log.add({ step: 'nodoInviaRPT', outcome: 'KO', faultCode: 'PPT_SEMANTICA', description });
    return fail('nodoInviaRPT', 'PPT_SEMANTICA');
  }
  log.add({ step: 'nodoInviaRPT', outcome: 'OK' });
  log.add({ step: 'authorize', outcome: 'OK', description: `${psp.idPsp} ${formatAmount(amountCents)}` });
  await ctx.edb.payments.update(key.ccp, { status: 'AUTHORIZED', lastStep: 'authorize' });
  const accepted = await issueRt(ctx, log, rpt, psp, '0');
  await ctx.edb.carts.setStatus(rpt.cartId, 'PAID');
  await ctx.edb.payments.update(key.ccp, {
    status: accepted ? 'NOTIFIED' : 'AUTHORIZED',
    lastStep: 'paaInviaRT',
    faultCode: accepted ? null : 'RT_NOT_DELIVERED',
  });
  return { ok: accepted, ccp: key.ccp };
}

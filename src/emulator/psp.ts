// A PSP paying a printed notice (model 3, pagopa-facts §3): payNotice plays the PSP and the node
// against the connector's EC endpoints, in the dialect of the EC's station: current model
// verify → get payment → receipt (/ws/pagopa/paForNode), or legacy paaVerificaRPT → paaAttivaRPT →
// the EC's nodoInviaRPT → paaInviaRT. Each step is reported; the payment is recorded in the
// emulator's tables, and a payment whose receipt was not delivered is resumed, not paid twice.

import { isDomainError } from '../domain/errors.ts';
import { parseDecimalAmount, type AmountCents } from '../domain/money.ts';
import type { Store } from '../db/store.ts';
import { activateNotice, authorizeAndNotify, deliverReceipts } from './current.ts';
import { createEmulatorDb, type EmulatorPsp, type PrimitiveVersion } from './db.ts';
import { payLegacyNotice } from './legacy.ts';
import { stationOfEc } from './registry.ts';
import { StepLog, type EmulatorContext, type PaymentStep } from './steps.ts';

export type { PaymentStep } from './steps.ts';

export interface PayNoticeOptions {
  /** The connector's store: its registry says how to reach the EC; the emulator's tables live beside it. */
  store: Store;
  /** Base URL of the connector, e.g. http://127.0.0.1:8080. */
  connectorUrl: string;
  enteFiscalCode: string;
  noticeNumber: string;
  /** idPSP of the paying PSP; the first seeded PSP by default. */
  psp?: string | undefined;
  /** The amount paid, '12.30'; by default what the EC states. */
  amount?: string | undefined;
  /** paGetPayment / paSendRT version; by default the station's setting (2 unless set to 1). */
  version?: PrimitiveVersion | undefined;
  onStep?: (step: PaymentStep) => void;
  /** Legacy only: how long to wait for the EC's RPT after paaAttivaRPT. */
  rptWaitMs?: number;
}

export interface PayNoticeResult {
  /** True when every EC accepted its receipt (RT). */
  ok: boolean;
  dialect: 'current' | 'legacy' | null;
  /** paymentToken (current model) or CCP (legacy) of the attempt. */
  paymentToken: string | null;
  steps: PaymentStep[];
}

async function choosePsp(ctx: EmulatorContext, idPsp: string | undefined): Promise<EmulatorPsp | null> {
  if (!idPsp) return (await ctx.edb.psps.listPaying())[0] ?? null;
  const psp = await ctx.edb.psps.get(idPsp);
  return psp?.kind === 'psp' ? psp : null;
}

export async function payNotice(options: PayNoticeOptions): Promise<PayNoticeResult> {
  const log = new StepLog(options.onStep);
  const edb = createEmulatorDb(options.store.db);
  await edb.psps.ensureSeeded();
  const ctx: EmulatorContext = { store: options.store, edb, connectorUrl: options.connectorUrl };
  const result = (ok: boolean, dialect: PayNoticeResult['dialect'], paymentToken: string | null) => ({
    ok,
    dialect,
    paymentToken,
    steps: log.steps,
  });

  const psp = await choosePsp(ctx, options.psp);
  if (!psp) {
    log.add({ step: 'psp', outcome: 'KO', faultCode: 'PPT_PSP_SCONOSCIUTO', description: options.psp ?? '' });
    return result(false, null, null);
  }
  let amountCents: AmountCents | undefined;
  try {
    amountCents = options.amount === undefined ? undefined : parseDecimalAmount(options.amount);
  } catch (err) {
    if (!isDomainError(err)) throw err;
    log.add({ step: 'psp', outcome: 'KO', faultCode: 'PPT_SEMANTICA', description: err.message });
    return result(false, null, null);
  }
  const ec = await stationOfEc(options.store, options.enteFiscalCode);
  if (!ec) {
    log.add({ step: 'verifyPaymentNotice', outcome: 'KO', faultCode: 'PPT_DOMINIO_SCONOSCIUTO' });
    return result(false, null, null);
  }

  if (ec.station.dialect === 'legacy') {
    const legacy = await payLegacyNotice(
      ctx,
      log,
      { ec, noticeNumber: options.noticeNumber, amountCents, rptWaitMs: options.rptWaitMs ?? 10_000 },
      psp,
    );
    return result(legacy.ok, 'legacy', legacy.ccp);
  }

  const open = await edb.payments.findOpen(options.enteFiscalCode, options.noticeNumber);
  if (open?.status === 'AUTHORIZED') {
    // Paid already, receipt not delivered (the EC was down): deliver it instead of paying again.
    log.add({ step: 'resume', outcome: 'OK', description: `paymentToken ${open.paymentToken}` });
    return result(await deliverReceipts(ctx, log, open.paymentToken), 'current', open.paymentToken);
  }
  const activation = await activateNotice(
    ctx,
    log,
    { fiscalCode: options.enteFiscalCode, noticeNumber: options.noticeNumber, amountCents },
    psp,
    options.version,
  );
  if (!activation) return result(false, 'current', null);
  const ok = await authorizeAndNotify(ctx, log, activation, psp, 'cash');
  return result(ok, 'current', activation.payment.paymentToken);
}

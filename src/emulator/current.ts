// A current-model payment as the node runs it against an EC (pagopa-facts §3, §5): verify
// (paVerifyPaymentNotice), activation (paGetPayment or V2, per the station's primitive version, with a
// new paymentToken), authorization by the PSP, then the receipt (paSendRT or V2, receiptId = token)
// to every EC in the transfer list. A receipt the EC did not accept stays to be delivered again; a
// notice with a live activation is PPT_PAGAMENTO_IN_CORSO, as the node's token lock makes it.

import { formatAmount, parseDecimalAmount, sumCents, type AmountCents } from '../domain/money.ts';
import { randomId, romeDate, romeDateTime } from './clock.ts';
import { callEc } from './clients.ts';
import type { EmulatorPsp, Payment, PrimitiveVersion } from './db.ts';
import { stationOfEc, type EcStation } from './registry.ts';
import type { EmulatorContext, StepLog } from './steps.ts';

/** activatePaymentNotice's longest expirationTime (pagopa-facts §11): the token lock lasts this long. */
export const TOKEN_LIFETIME_MS = 30 * 60 * 1000;

type Obj = Record<string, unknown>;

export interface NoticeToPay {
  fiscalCode: string;
  noticeNumber: string;
  /** What the payer means to pay; by default the amount the EC states at verify. */
  amountCents?: AmountCents | undefined;
  cartId?: string | null;
}

/** An activated payment: the token, the EC's paGetPayment data, and who the node talks to. */
export interface Activation {
  payment: Payment;
  version: PrimitiveVersion;
  ec: EcStation;
  verify: Obj;
  data: Obj;
}

function obj(value: unknown): Obj {
  return value !== null && typeof value === 'object' ? (value as Obj) : {};
}

function list(value: unknown): Obj[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(obj);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Copies the named keys that are present, in this order: node-soap writes keys as they come. */
function pick(source: Obj, keys: readonly string[]): Obj {
  const out: Obj = {};
  for (const key of keys) if (source[key] !== undefined && source[key] !== null) out[key] = source[key];
  return out;
}

const SUBJECT_KEYS = [
  'uniqueIdentifier',
  'fullName',
  'streetName',
  'civicNumber',
  'postalCode',
  'city',
  'stateProvinceRegion',
  'country',
  'e-mail',
] as const;

function subject(value: unknown): Obj {
  const s = obj(value);
  return {
    ...pick(s, SUBJECT_KEYS),
    uniqueIdentifier: pick(obj(s.uniqueIdentifier), [
      'entityUniqueIdentifierType',
      'entityUniqueIdentifierValue',
    ]),
  };
}

function stationIdentity(ec: EcStation): Obj {
  return { idPA: ec.ente.fiscalCode, idBrokerPA: ec.brokerId, idStation: ec.station.stationId };
}

/** The digital stamp a PSP sells for a transfer that asks for one (V2 richiestaMarcaDaBollo). */
function stampAttachment(request: Obj, at: Date): string {
  const xml = `<marcaDaBollo><emessaDa>ppay emulator</emessaDa><hashDocumento>${String(
    request.hashDocumento ?? '',
  )}</hashDocumento><data>${romeDateTime(at)}</data></marcaDaBollo>`;
  return Buffer.from(xml, 'utf8').toString('base64');
}

function receiptTransfer(transfer: Obj, version: PrimitiveVersion, at: Date): Obj {
  const head = pick(transfer, ['idTransfer', 'transferAmount', 'fiscalCodePA']);
  const tail = pick(transfer, ['remittanceInformation', 'transferCategory', 'metadata']);
  if (version === 1) return { ...head, IBAN: transfer.IBAN, ...tail };
  const account =
    transfer.IBAN !== undefined
      ? { IBAN: transfer.IBAN }
      : { MBDAttachment: stampAttachment(obj(transfer.richiestaMarcaDaBollo), at) };
  return { ...head, ...pick(transfer, ['companyName']), ...account, ...tail };
}

/** The receipt of a paid activation, in the shape of ctReceipt / ctReceiptV2 (schema order). */
export function buildReceipt(activation: Activation, psp: EmulatorPsp, paymentMethod: string, at: Date): Obj {
  const { data, verify, payment, version } = activation;
  const companyName = text(data.companyName) ?? text(verify.companyName) ?? activation.ec.ente.name;
  const debtor = subject(data.debtor);
  return {
    receiptId: payment.paymentToken,
    noticeNumber: payment.noticeNumber,
    fiscalCode: payment.fiscalCode,
    outcome: 'OK',
    creditorReferenceId: data.creditorReferenceId,
    paymentAmount: data.paymentAmount,
    description: data.description,
    companyName: companyName.slice(0, 140),
    ...pick(data, ['officeName']),
    debtor,
    transferList: {
      transfer: list(obj(data.transferList).transfer).map((t) => receiptTransfer(t, version, at)),
    },
    idPSP: psp.idPsp,
    pspFiscalCode: psp.pspFiscalCode,
    PSPCompanyName: psp.companyName,
    idChannel: psp.idChannel,
    channelDescription: psp.channelDescription,
    payer: debtor,
    paymentMethod,
    ...(version === 2 && payment.cartId ? { paymentNote: payment.cartId } : {}),
    paymentDateTime: romeDateTime(at),
    applicationDate: romeDate(at),
    transferDate: romeDate(at),
  };
}

/** The ECs that get the receipt: the notice's EC first, then every other EC of the transfer list. */
export function receiptRecipients(receipt: Obj): string[] {
  const transfers = list(obj(receipt.transferList).transfer);
  const codes = [String(receipt.fiscalCode), ...transfers.map((t) => String(t.fiscalCodePA))];
  return [...new Set(codes)];
}

function isLive(payment: Payment, now: Date): boolean {
  return now.getTime() - Date.parse(payment.createdAt) < TOKEN_LIFETIME_MS;
}

/** The EC's paGetPayment data must add up, or the node rejects the EC's answer. */
function dataProblem(data: Obj): string | null {
  const transfers = list(obj(data.transferList).transfer);
  if (transfers.length === 0) return 'transferList is empty';
  const total = sumCents(transfers.map((t) => parseDecimalAmount(String(t.transferAmount))));
  if (total !== parseDecimalAmount(String(data.paymentAmount)))
    return 'the transfers do not add up to paymentAmount';
  return null;
}

/**
 * Verify then activate one notice. Null when the payment cannot go on (the steps say why); the
 * payment row records every attempt, failed ones included.
 */
export async function activateNotice(
  ctx: EmulatorContext,
  log: StepLog,
  notice: NoticeToPay,
  psp: EmulatorPsp,
  versionOverride?: PrimitiveVersion,
): Promise<Activation | null> {
  const now = ctx.now?.() ?? new Date();
  const ec = await stationOfEc(ctx.store, notice.fiscalCode);
  if (!ec) {
    log.add({ step: 'verifyPaymentNotice', outcome: 'KO', faultCode: 'PPT_DOMINIO_SCONOSCIUTO' });
    return null;
  }
  const open = await ctx.edb.payments.findOpen(notice.fiscalCode, notice.noticeNumber);
  if (open?.status === 'AUTHORIZED') {
    // Paid, receipt still on its way to the EC: the node knows better than the EC that it is paid.
    log.add({ step: 'verifyPaymentNotice', outcome: 'KO', faultCode: 'PPT_PAGAMENTO_DUPLICATO' });
    return null;
  }
  if (open?.status === 'ACTIVATED' && isLive(open, now)) {
    log.add({ step: 'activatePaymentNotice', outcome: 'KO', faultCode: 'PPT_PAGAMENTO_IN_CORSO' });
    return null;
  }
  const version = versionOverride ?? (await ctx.edb.stations.settings(ec.station.stationId)).primitiveVersion;
  const payment = await ctx.edb.payments.create({
    paymentToken: randomId('', 16),
    kind: 'current',
    cartId: notice.cartId ?? null,
    fiscalCode: notice.fiscalCode,
    noticeNumber: notice.noticeNumber,
    pspId: psp.idPsp,
    primitiveVersion: version,
    status: 'VERIFIED',
    lastStep: 'paVerifyPaymentNotice',
  });
  const fail = async (step: string, faultCode: string | null) => {
    await ctx.edb.payments.update(payment.paymentToken, { status: 'FAILED', lastStep: step, faultCode });
    return null;
  };

  const qrCode = { fiscalCode: notice.fiscalCode, noticeNumber: notice.noticeNumber };
  const verifyCall = await callEc(ctx.connectorUrl, 'paForNode.wsdl', 'paVerifyPaymentNotice', {
    ...stationIdentity(ec),
    qrCode,
  });
  const verified = log.call('paVerifyPaymentNotice', verifyCall, (a) => a);
  if (!verified.ok || !verifyCall.ok) return fail('paVerifyPaymentNotice', verified.faultCode);
  const verify = verifyCall.answer;
  const option = obj(obj(verify.paymentList).paymentOptionDescription);
  const amountCents = notice.amountCents ?? parseDecimalAmount(String(option.amount));

  const getPayment = version === 1 ? 'paGetPayment' : 'paGetPaymentV2';
  const getCall = await callEc(ctx.connectorUrl, 'paForNode.wsdl', getPayment, {
    ...stationIdentity(ec),
    qrCode,
    amount: formatAmount(amountCents),
    ...(notice.cartId ? { paymentNote: notice.cartId } : {}),
  });
  const got = log.call(getPayment, getCall, (a) => a);
  if (!got.ok || !getCall.ok) return fail(getPayment, got.faultCode);
  const data = obj(getCall.answer.data);
  const problem = dataProblem(data);
  if (problem) {
    log.add({
      step: 'activatePaymentNotice',
      outcome: 'KO',
      faultCode: 'PPT_STAZIONE_INT_PA_ERRORE_RESPONSE',
      description: problem,
    });
    return fail(getPayment, 'PPT_STAZIONE_INT_PA_ERRORE_RESPONSE');
  }
  const paymentAmount = parseDecimalAmount(String(data.paymentAmount));
  if (paymentAmount !== amountCents) {
    const description = `the EC asks ${formatAmount(paymentAmount)}, the payer pays ${formatAmount(amountCents)}`;
    log.add({ step: 'activatePaymentNotice', outcome: 'KO', faultCode: 'PPT_SEMANTICA', description });
    return fail(getPayment, 'PPT_SEMANTICA');
  }
  await ctx.edb.payments.update(payment.paymentToken, {
    status: 'ACTIVATED',
    iuv: text(data.creditorReferenceId) ?? null,
    amountCents: paymentAmount,
    lastStep: getPayment,
  });
  log.add({
    step: 'activatePaymentNotice',
    outcome: 'OK',
    description: `paymentToken ${payment.paymentToken}`,
  });
  return { payment: { ...payment, status: 'ACTIVATED' }, version, ec, verify, data };
}

/**
 * Sends the stored receipt to every EC that has not accepted it yet. PAA_RECEIPT_DUPLICATA means
 * the EC already holds it (an earlier answer was lost), so it counts as delivered.
 */
export async function deliverReceipts(ctx: EmulatorContext, log: StepLog, token: string): Promise<boolean> {
  const payment = await ctx.edb.payments.get(token);
  if (!payment?.receipt) throw new Error(`payment ${token} has no receipt to deliver`);
  const operation = payment.primitiveVersion === 1 ? 'paSendRT' : 'paSendRTV2';
  for (const delivery of await ctx.edb.deliveries.list(token)) {
    if (delivery.status === 'DELIVERED') continue;
    const ec = await stationOfEc(ctx.store, delivery.fiscalCode);
    if (!ec) {
      // An EC of the transfer list that another intermediary serves: not the connector's to receive.
      log.add({
        step: operation,
        outcome: 'SKIPPED',
        description: 'EC not served by this connector',
        fiscalCode: delivery.fiscalCode,
      });
      await ctx.edb.deliveries.record(token, delivery.fiscalCode, 'DELIVERED', null);
      continue;
    }
    const call = await callEc(ctx.connectorUrl, 'paForNode.wsdl', operation, {
      ...stationIdentity(ec),
      receipt: payment.receipt,
    });
    const sent = log.call(operation, call, (a) => a, delivery.fiscalCode);
    const delivered = sent.ok || sent.faultCode === 'PAA_RECEIPT_DUPLICATA';
    await ctx.edb.deliveries.record(
      token,
      delivery.fiscalCode,
      delivered ? 'DELIVERED' : 'PENDING',
      sent.faultCode,
    );
  }
  const done = (await ctx.edb.deliveries.list(token)).every((d) => d.status === 'DELIVERED');
  await ctx.edb.payments.update(token, {
    status: done ? 'NOTIFIED' : 'AUTHORIZED',
    lastStep: operation,
    faultCode: done ? null : 'RECEIPT_NOT_DELIVERED',
  });
  return done;
}

/** The PSP takes the money; from then on the payment is the receipt's to deliver, retried until it is. */
export async function authorizeAndNotify(
  ctx: EmulatorContext,
  log: StepLog,
  activation: Activation,
  psp: EmulatorPsp,
  paymentMethod: string,
): Promise<boolean> {
  const at = ctx.now?.() ?? new Date();
  const receipt = buildReceipt(activation, psp, paymentMethod, at);
  const token = activation.payment.paymentToken;
  await ctx.edb.deliveries.plan(token, receiptRecipients(receipt));
  await ctx.edb.payments.update(token, { status: 'AUTHORIZED', lastStep: 'authorize', receipt });
  log.add({
    step: 'authorize',
    outcome: 'OK',
    description: `${psp.idPsp} ${String(activation.data.paymentAmount)}`,
  });
  return deliverReceipts(ctx, log, token);
}

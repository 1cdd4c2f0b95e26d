// notifyPayment (gestionale-callback.xsd): a receipt closed one payment option of a gestionale's
// position. Queued by the receipt flow in the transaction that marks the option paid, one outbox row
// per active client bound to the position's ente and service that has a callback URL (a client
// without one is not notified: it reads getPaymentStatus). Rows of one position and client form an
// ordered group, so the gestionale sees the position's payments in the order they happened.

import { noticeNumberFromIuv } from '../../domain/noticeNumber.ts';
import type { PositionStatus } from '../../domain/positionState.ts';
import type { Store } from '../../db/store.ts';
import type { StoredOption, StoredPosition } from '../../db/repositories/positions.ts';
import type { Receipt } from '../../db/repositories/receipts.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import { el, leaf, type XmlNode } from '../../xml/build.ts';
import type { OperationDescription } from '../../soap/manifest.ts';
import { stableId } from '../gestionale/common.ts';
import { group, requestElement } from './callbackXml.ts';
import { receiptDetails, type PayerDetails } from './receiptDetails.ts';

export const NOTIFY_PAYMENT = 'notifyPayment';

/** One collected payment (pt:ctPayment). */
export interface PaymentNotice {
  receiptId: string;
  serviceCode: string;
  positionId: string;
  installment: number;
  iuv: string;
  noticeNumber: string;
  amountCents: number;
  feeCents: number | null;
  paymentDateTime: string;
  pspId: string;
  pspName: string;
  paymentMethod: string | null;
  payer: PayerDetails | null;
}

/** The notifyPayment outbox payload: the callback's content, in the schema's terms. */
export interface PaymentNotification {
  notificationId: string;
  eventDateTime: string;
  enteFiscalCode: string;
  serviceCode: string;
  positionId: string;
  installment: number;
  iuv: string;
  noticeNumber: string;
  positionStatus: PositionStatus;
  paymentOutcome: 'PAID' | 'NOT_PAID';
  payment: PaymentNotice | null;
}

export interface PaidOption {
  receipt: Receipt;
  /** The position as the change left it (its status after this payment). */
  position: StoredPosition;
  option: StoredOption;
}

/** The ordered group of a position's notifications (per client: the outbox orders per target too). */
export function positionGroupKey(position: { id: number }): string {
  return `position:${position.id}`;
}

function noticeNumberOf(paid: PaidOption, ente: Ente): string {
  const known = paid.option.noticeNumber ?? paid.receipt.noticeNumber;
  if (known) return known;
  try {
    return noticeNumberFromIuv(paid.option.iuv, ente);
  } catch {
    // Left empty: the worker's schema check parks the row as a dead letter that says why.
    return '';
  }
}

function notificationOf(
  paid: PaidOption,
  ente: Ente,
  serviceCode: string,
): Omit<PaymentNotification, 'notificationId'> {
  const { receipt, position, option } = paid;
  const details = receiptDetails(receipt);
  const noticeNumber = noticeNumberOf(paid, ente);
  const pspId = receipt.pspId ?? 'UNKNOWN';
  return {
    eventDateTime: position.updatedAt,
    enteFiscalCode: ente.fiscalCode,
    serviceCode,
    positionId: position.positionId,
    installment: option.installment,
    iuv: option.iuv,
    noticeNumber,
    positionStatus: position.status,
    paymentOutcome: 'PAID',
    payment: {
      receiptId: receipt.receiptId,
      serviceCode,
      positionId: position.positionId,
      installment: option.installment,
      iuv: option.iuv,
      noticeNumber,
      amountCents: receipt.amountCents,
      feeCents: details.feeCents,
      paymentDateTime: receipt.paymentDateTime ?? receipt.receivedAt,
      pspId,
      pspName: details.pspName ?? pspId,
      paymentMethod: details.paymentMethod,
      payer: details.payer,
    },
  };
}

/**
 * Queues notifyPayment for every client that should hear of this payment; call it with the
 * transaction that marks the option paid. Ids derive from (client, receipt), so the same receipt
 * never queues twice. Returns how many rows were queued.
 */
export async function enqueuePaymentNotifications(tx: Store, paid: PaidOption): Promise<number> {
  const clients = await tx.clients.listCallbackTargets(paid.position.enteId, paid.position.serviceId);
  if (clients.length === 0) return 0;
  const ente = await tx.enti.getById(paid.position.enteId);
  const service = await tx.services.getById(paid.position.serviceId);
  if (!ente || !service) return 0;
  const content = notificationOf(paid, ente, service.code);
  let queued = 0;
  for (const client of clients) {
    const notificationId = stableId(NOTIFY_PAYMENT, client.id, paid.receipt.id);
    const payload: PaymentNotification = { notificationId, ...content };
    const { created } = await tx.outbox.enqueueOnce(notificationId, {
      topic: NOTIFY_PAYMENT,
      target: client.id,
      payload,
      groupKey: positionGroupKey(paid.position),
    });
    if (created) queued += 1;
  }
  return queued;
}

function payerElement(payer: PayerDetails | null): XmlNode | null {
  return group(
    'payer',
    payer,
    leaf('type', payer?.type),
    leaf('fiscalCode', payer?.fiscalCode),
    leaf('fullName', payer?.fullName),
    leaf('streetName', payer?.streetName),
    leaf('civicNumber', payer?.civicNumber),
    leaf('postalCode', payer?.postalCode),
    leaf('city', payer?.city),
    leaf('stateProvinceRegion', payer?.stateProvinceRegion),
    leaf('country', payer?.country),
    leaf('email', payer?.email),
  );
}

function paymentElement(payment: PaymentNotice | null): XmlNode | null {
  if (!payment) return null;
  return el(
    'payment',
    null,
    leaf('receiptId', payment.receiptId),
    leaf('serviceCode', payment.serviceCode),
    leaf('positionId', payment.positionId),
    leaf('installment', payment.installment),
    leaf('iuv', payment.iuv),
    leaf('noticeNumber', payment.noticeNumber),
    leaf('amountCents', payment.amountCents),
    leaf('feeCents', payment.feeCents),
    leaf('paymentDateTime', payment.paymentDateTime),
    leaf('pspId', payment.pspId),
    leaf('pspName', payment.pspName),
    leaf('paymentMethod', payment.paymentMethod),
    payerElement(payment.payer),
  );
}

export function buildNotifyPayment(
  operation: OperationDescription,
  notificationId: string,
  n: PaymentNotification,
): XmlNode {
  return requestElement(
    operation,
    { notificationId, eventDateTime: n.eventDateTime, enteFiscalCode: n.enteFiscalCode },
    leaf('serviceCode', n.serviceCode),
    leaf('positionId', n.positionId),
    leaf('installment', n.installment),
    leaf('iuv', n.iuv),
    leaf('noticeNumber', n.noticeNumber),
    leaf('positionStatus', n.positionStatus),
    leaf('paymentOutcome', n.paymentOutcome),
    paymentElement(n.payment),
  );
}

// getReceipt, and the collected-payment view getPaymentStatus and listPayments share: a stored
// receipt (paSendRT, paSendRTV2 or legacy RT) with the position and option it paid and the fields
// read from its document. A receipt of a position the caller may not see is RECEIPT_UNKNOWN, as if
// it did not exist (the contract's scoping rule, as in getDebtPosition).

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { StoredReceiptRow } from '../../db/repositories/collectedPayments.ts';
import type { StoredOption, StoredPosition } from '../../db/repositories/positions.ts';
import {
  readStoredReceipt,
  type ReceiptDocumentDetails,
  type ReceiptParty,
  type ReceiptTransferLine,
} from '../../pagopa/storedReceipt.ts';
import type { GestionaleCaller } from './common.ts';

export type ReceiptFormat = 'paSendRT' | 'paSendRTV2' | 'RT';

/** Where a collected payment belongs, as the gestionale knows it. */
export interface PaymentPlace {
  serviceCode: string;
  positionId: string;
  installment: number;
  iuv: string;
  noticeNumber: string;
}

/** One collected payment (pt:ctPayment) in domain terms. */
export interface PaymentView extends PaymentPlace {
  receiptId: string;
  amountCents: number;
  feeCents: number | null;
  paymentDateTime: string;
  pspId: string;
  pspName: string;
  paymentMethod: string | null;
  payer: ReceiptParty | null;
}

/** A stored receipt, whole and parsed (pt:ctReceipt) in domain terms. */
export interface ReceiptView extends Omit<PaymentView, 'noticeNumber'> {
  noticeNumber: string | null;
  iur: string;
  ccp: string | null;
  outcome: 'PAID' | 'NOT_PAID';
  enteFiscalCode: string;
  description: string;
  pspFiscalCode: string | null;
  channelId: string | null;
  debtor: ReceiptParty | null;
  transfers: ReceiptTransferLine[];
  receivedAt: string;
  format: ReceiptFormat;
  /** The receipt document exactly as stored. */
  document: string;
}

export interface ReceiptQuery {
  ente: Ente;
  caller: GestionaleCaller;
  receiptId?: string | null;
  noticeNumber?: string | null;
}

export function formatOf(receipt: Pick<StoredReceiptRow, 'source'>): ReceiptFormat {
  return receipt.source === 'paaInviaRT' ? 'RT' : receipt.source;
}

function detailsOf(receipt: StoredReceiptRow): ReceiptDocumentDetails {
  return readStoredReceipt(receipt.source === 'paaInviaRT' ? 'rt' : 'current', receipt.document);
}

export function paymentViewOf(
  receipt: StoredReceiptRow,
  place: PaymentPlace,
  details: ReceiptDocumentDetails = detailsOf(receipt),
): PaymentView {
  const pspId = receipt.pspId ?? 'UNKNOWN';
  return {
    ...place,
    receiptId: receipt.receiptId,
    amountCents: receipt.amountCents,
    feeCents: details.feeCents,
    paymentDateTime: receipt.paymentDateTime ?? receipt.receivedAt,
    pspId,
    pspName: details.pspName ?? pspId,
    paymentMethod: details.paymentMethod,
    payer: details.payer,
  };
}

interface ReceiptTarget {
  receipt: StoredReceiptRow;
  position: StoredPosition;
  option: StoredOption;
  serviceCode: string;
}

async function targetOf(
  store: Store,
  caller: GestionaleCaller,
  receipt: StoredReceiptRow,
): Promise<ReceiptTarget | null> {
  const position = await store.positions.findByIuv(receipt.enteId, receipt.iuv);
  const option = position?.options.find((o) => o.iuv === receipt.iuv);
  if (!position || !option || !caller.serviceIds.includes(position.serviceId)) return null;
  const service = await store.services.getById(position.serviceId);
  return { receipt, position, option, serviceCode: service?.code ?? '' };
}

/** The positive receipt if there is one (the one applied to the option first), else the latest. */
function preferred<T extends { receipt: StoredReceiptRow; option: StoredOption }>(targets: T[]): T | null {
  const positive = targets.filter((t) => t.receipt.outcome === 'OK');
  return positive.find((t) => t.receipt.optionId === t.option.id) ?? positive[0] ?? targets.at(-1) ?? null;
}

function unknownReceipt(field: string): never {
  throw domainError('RECEIPT_UNKNOWN', 'no receipt is stored for this payment', { field });
}

async function findTarget(store: Store, query: ReceiptQuery): Promise<ReceiptTarget> {
  const { ente, caller } = query;
  if (query.receiptId) {
    const receipts = await store.collectedPayments.findByReceiptId(ente.id, query.receiptId);
    const targets: ReceiptTarget[] = [];
    for (const receipt of receipts) {
      const target = await targetOf(store, caller, receipt);
      if (target) targets.push(target);
    }
    return preferred(targets) ?? unknownReceipt('receiptId');
  }
  const noticeNumber = query.noticeNumber ?? '';
  const position = await store.positions.findByNoticeNumber(ente.id, noticeNumber);
  const option = position?.options.find((o) => o.noticeNumber === noticeNumber);
  if (!position || !option || !caller.serviceIds.includes(position.serviceId)) {
    throw domainError('NOTICE_UNKNOWN', 'no such notice for this ente', { field: 'noticeNumber' });
  }
  const service = await store.services.getById(position.serviceId);
  const receipts = await store.receipts.listByIuv(ente.id, option.iuv);
  const targets = receipts.map((receipt) => ({
    receipt,
    position,
    option,
    serviceCode: service?.code ?? '',
  }));
  return preferred(targets) ?? unknownReceipt('noticeNumber');
}

export async function getReceipt(store: Store, query: ReceiptQuery): Promise<ReceiptView> {
  const { receipt, position, option, serviceCode } = await findTarget(store, query);
  const details = detailsOf(receipt);
  const format = formatOf(receipt);
  const payment = paymentViewOf(
    receipt,
    {
      serviceCode,
      positionId: position.positionId,
      installment: option.installment,
      iuv: receipt.iuv,
      noticeNumber: receipt.noticeNumber ?? option.noticeNumber ?? '',
    },
    details,
  );
  return {
    ...payment,
    noticeNumber: receipt.noticeNumber ?? option.noticeNumber,
    iur: format === 'RT' ? (details.transfers[0]?.iur ?? receipt.receiptId) : receipt.receiptId,
    ccp: receipt.ccp,
    outcome: receipt.outcome === 'OK' ? 'PAID' : 'NOT_PAID',
    enteFiscalCode: query.ente.fiscalCode,
    description: details.description ?? (option.description || position.description || receipt.iuv),
    pspFiscalCode: details.pspFiscalCode,
    channelId: details.channelId,
    debtor: details.debtor,
    transfers: details.transfers,
    receivedAt: receipt.receivedAt,
    format,
    document: receipt.document,
  };
}

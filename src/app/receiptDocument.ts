// The data of a printable payment receipt (ricevuta di pagamento) for one paid option of a stored
// position: ente, debtor and payer, notice number, IUV, amount, date and time, PSP, receipt id and
// transfers, read from the positive receipt pagoPA sent (paSendRT / paSendRTV2 / legacy RT,
// pagopa-facts §5-§6). An option not paid, or paid with no positive receipt stored, has no receipt:
// RECEIPT_UNKNOWN (details.notPaid tells the first case apart).

import { domainError } from '../domain/errors.ts';
import type { Store } from '../db/store.ts';
import type { Ente } from '../db/repositories/enti.ts';
import type { Receipt } from '../db/repositories/receipts.ts';
import type { StoredOption, StoredPosition } from '../db/repositories/positions.ts';
import { readStoredReceipt, type ReceiptParty } from '../pagopa/storedReceipt.ts';

export interface ReceiptPartyData {
  fullName: string;
  fiscalCode: string;
}

export interface ReceiptTransferData {
  index: number;
  enteFiscalCode: string;
  amountCents: number;
  iban: string | null;
  remittanceInformation: string | null;
}

export interface ReceiptDocumentData {
  ente: { fiscalCode: string; name: string };
  serviceDescription: string;
  /** The causale paid. */
  description: string;
  positionId: string;
  /** 0 for the single payment, 1..n for an installment. */
  installment: number;
  installmentCount: number;
  noticeNumber: string | null;
  iuv: string;
  amountCents: number;
  feeCents: number | null;
  /** ISO-8601, as the receipt states it. */
  paymentDateTime: string;
  pspId: string;
  pspName: string;
  paymentMethod: string | null;
  /** receiptId (current model) or IUR (legacy RT). */
  receiptId: string;
  debtor: ReceiptPartyData | null;
  payer: ReceiptPartyData | null;
  transfers: ReceiptTransferData[];
  /** When the receipt was stored: the PDF's creation date, so equal data gives equal bytes. */
  issuedAt: Date;
}

function notPaid(): never {
  throw domainError('RECEIPT_UNKNOWN', 'the payment option is not paid', {
    notPaid: true,
    field: 'installment',
  });
}

function noReceipt(): never {
  throw domainError('RECEIPT_UNKNOWN', 'no positive receipt is stored for this payment', {
    field: 'installment',
  });
}

/** Whether the option has been paid, so a receipt may be asked for. */
export function isPaidOption(option: StoredOption): boolean {
  return option.status !== 'UNPAID';
}

/** The option a receipt is asked for: the one named, else the first paid (single payment first). */
export function paidOptionOf(position: StoredPosition, installment?: number | null): StoredOption {
  if (installment !== undefined && installment !== null) {
    const option = position.options.find((o) => o.installment === installment);
    if (!option) throw domainError('NOTICE_UNKNOWN', 'no such installment', { field: 'installment' });
    return isPaidOption(option) ? option : notPaid();
  }
  const paid = [...position.options].sort((a, b) => a.installment - b.installment).find(isPaidOption);
  return paid ?? notPaid();
}

function partyOf(party: ReceiptParty | null): ReceiptPartyData | null {
  if (!party?.fullName && !party?.fiscalCode) return null;
  return { fullName: party.fullName ?? '', fiscalCode: party.fiscalCode ?? '' };
}

/** The positive receipt that paid the option: the one applied to it, else any positive one for its IUV. */
async function positiveReceipt(store: Store, ente: Ente, option: StoredOption): Promise<Receipt> {
  const receipts = (await store.receipts.listByIuv(ente.id, option.iuv)).filter((r) => r.outcome === 'OK');
  return receipts.find((r) => r.optionId === option.id) ?? receipts[0] ?? noReceipt();
}

export async function receiptDocumentOf(
  store: Store,
  ente: Ente,
  position: StoredPosition,
  installment?: number | null,
): Promise<ReceiptDocumentData> {
  if (position.enteId !== ente.id) {
    throw domainError('POSITION_UNKNOWN', 'no such position for this ente', { field: 'positionId' });
  }
  const option = paidOptionOf(position, installment);
  const receipt = await positiveReceipt(store, ente, option);
  const details = readStoredReceipt(receipt.source === 'paaInviaRT' ? 'rt' : 'current', receipt.document);
  const service = await store.services.getById(position.serviceId);
  const transfers: ReceiptTransferData[] = details.transfers.some((t) => t.amountCents !== null)
    ? details.transfers.map((t) => ({
        index: t.index,
        enteFiscalCode: t.enteFiscalCode ?? ente.fiscalCode,
        amountCents: t.amountCents ?? 0,
        iban: t.iban,
        remittanceInformation: t.remittanceInformation,
      }))
    : option.transfers.map((t) => ({
        index: t.index,
        enteFiscalCode: t.enteFiscalCode,
        amountCents: t.amountCents,
        iban: t.iban,
        remittanceInformation: t.remittanceInformation,
      }));
  const storedDebtor = position.debtor
    ? { fullName: position.debtor.fullName, fiscalCode: position.debtor.fiscalCode }
    : null;
  const pspId = receipt.pspId ?? 'N/D';
  return {
    ente: { fiscalCode: ente.fiscalCode, name: ente.name },
    serviceDescription: service?.description ?? '',
    description: details.description ?? (option.description || position.description),
    positionId: position.positionId,
    installment: option.installment,
    installmentCount: position.options.filter((o) => o.installment > 0).length,
    noticeNumber: receipt.noticeNumber ?? option.noticeNumber,
    iuv: receipt.iuv,
    amountCents: receipt.amountCents,
    feeCents: details.feeCents,
    paymentDateTime: receipt.paymentDateTime ?? receipt.receivedAt,
    pspId,
    pspName: details.pspName ?? pspId,
    paymentMethod: details.paymentMethod,
    receiptId: receipt.receiptId,
    debtor: partyOf(details.debtor) ?? storedDebtor,
    payer: partyOf(details.payer),
    transfers,
    issuedAt: new Date(receipt.receivedAt),
  };
}

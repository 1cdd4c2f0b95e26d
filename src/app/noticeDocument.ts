// The data of a printable pagoPA notice (avviso di pagamento) for one position (pagopa-facts §2):
// found by the ente's fiscal code and any of its notice numbers (citizen pages), or from a stored
// position (portal, gestionale API). Only positions a citizen may still pay or has paid are printed;
// anything else reads as POSITION_UNKNOWN, so the answer leaks nothing.

import { domainError } from '../domain/errors.ts';
import { isPayable, type OptionStatus, type PositionStatus } from '../domain/positionState.ts';
import type { Store } from '../db/store.ts';
import type { Ente } from '../db/repositories/enti.ts';
import type { StoredDebtor, StoredOption, StoredPosition } from '../db/repositories/positions.ts';

const PAID_STATUSES: readonly PositionStatus[] = ['PAID', 'REPORTED', 'RECONCILED'];

/** The paper notice's QR payload (pagopa-facts §2); the amount is plain euro cents, no padding or separator. */
export function noticeQrPayload(noticeNumber: string, enteFiscalCode: string, amountCents: number): string {
  return `PAGOPA|002|${noticeNumber}|${enteFiscalCode}|${amountCents}`;
}

/** The Poste Italiane current account an option can also be paid to with a "bollettino postale PA". */
export interface PostalAccountData {
  /** The 12-digit account number (the account part of the postal IBAN). */
  accountNumber: string;
  /** Intestatario del conto: the creditor ente. */
  holder: string;
}

export interface NoticeOptionData {
  /** 0 for the single payment, 1..n for installments. */
  installment: number;
  noticeNumber: string;
  iuv: string;
  amountCents: number;
  dueDate: string;
  paid: boolean;
  /** Set when the option's transfers credit a postal account of the ente: the notice adds the postal slip. */
  postal?: PostalAccountData | null;
}

export interface NoticeDebtorData {
  fullName: string;
  fiscalCode: string;
  /** Street, number, postal code and city on one line, when known. */
  address?: string | null;
}

export interface NoticeDocumentData {
  ente: { fiscalCode: string; name: string };
  serviceDescription: string;
  /** The causale of the position. */
  description: string;
  debtor: NoticeDebtorData | null;
  /** The single payment (installment 0) first, then the installments in order. */
  options: NoticeOptionData[];
  /** Installments of the whole plan: "rata 2 di 3" stays right when only one installment is printed. */
  installmentCount?: number;
  /** When the position last changed: the PDF's creation date, so equal data gives equal bytes. */
  issuedAt: Date;
}

function unknown(reference: string) {
  return domainError('POSITION_UNKNOWN', `no printable notice ${reference}`, { reference });
}

function isPaidOption(status: OptionStatus): boolean {
  return status !== 'UNPAID';
}

/** Whether a position in this status has a notice to print: payable, or paid (kept as a record). */
export function isPrintable(status: PositionStatus): boolean {
  return isPayable(status) || PAID_STATUSES.includes(status);
}

/** The postal account number of an Italian postal IBAN: its last 12 characters (the BBAN account). */
export function postalAccountNumber(iban: string): string {
  return iban.slice(-12);
}

/**
 * The postal account of an option: its first transfer to a postal account of the creditor ente
 * itself (a co-beneficiary's account cannot collect the whole notice), or null.
 */
function postalAccountOf(option: StoredOption, ente: Ente): PostalAccountData | null {
  const transfer = option.transfers.find((t) => t.postal && t.enteFiscalCode === ente.fiscalCode);
  return transfer ? { accountNumber: postalAccountNumber(transfer.iban), holder: ente.name } : null;
}

function addressOf(debtor: StoredDebtor): string | null {
  const street = [debtor.streetName, debtor.civicNumber].filter(Boolean).join(' ');
  const place = [
    debtor.postalCode,
    debtor.city,
    debtor.stateProvinceRegion ? `(${debtor.stateProvinceRegion})` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const line = [street, place].filter(Boolean).join(', ');
  return line || null;
}

function optionData(option: StoredOption & { noticeNumber: string }, ente: Ente): NoticeOptionData {
  return {
    installment: option.installment,
    noticeNumber: option.noticeNumber,
    iuv: option.iuv,
    amountCents: option.amountCents,
    dueDate: option.dueDate,
    paid: isPaidOption(option.status),
    postal: postalAccountOf(option, ente),
  };
}

/** The notice of a stored position of this ente; POSITION_UNKNOWN when it has nothing printable. */
export async function noticeDocumentOf(
  store: Store,
  ente: Ente,
  position: StoredPosition,
): Promise<NoticeDocumentData> {
  if (position.enteId !== ente.id || !isPrintable(position.status)) throw unknown(position.positionId);
  const service = await store.services.getById(position.serviceId);
  const options = position.options
    .filter((o): o is typeof o & { noticeNumber: string } => o.noticeNumber !== null)
    .sort((a, b) => a.installment - b.installment)
    .map((o) => optionData(o, ente));
  if (options.length === 0) throw unknown(position.positionId);
  return {
    ente: { fiscalCode: ente.fiscalCode, name: ente.name },
    serviceDescription: service?.description ?? '',
    description: position.description,
    debtor: position.debtor
      ? {
          fullName: position.debtor.fullName,
          fiscalCode: position.debtor.fiscalCode,
          address: addressOf(position.debtor),
        }
      : null,
    options,
    installmentCount: options.filter((o) => o.installment > 0).length,
    issuedAt: new Date(position.updatedAt),
  };
}

/** The notice of the position one of whose notice numbers this is (citizen pages). */
export async function noticeDocument(
  store: Store,
  enteFiscalCode: string,
  noticeNumber: string,
): Promise<NoticeDocumentData> {
  const ente = await store.enti.getByFiscalCode(enteFiscalCode);
  if (!ente) throw unknown(noticeNumber);
  const position = await store.positions.findByNoticeNumber(ente.id, noticeNumber);
  if (!position) throw unknown(noticeNumber);
  return noticeDocumentOf(store, ente, position);
}

/**
 * Only the page of one option (`?rata=N`, or the notice number a gestionale names), keeping the
 * plan's installment count; NOTICE_UNKNOWN when the position has no such option.
 */
export function onlyInstallment(data: NoticeDocumentData, installment: number): NoticeDocumentData {
  const option = data.options.find((o) => o.installment === installment);
  if (!option) throw domainError('NOTICE_UNKNOWN', 'no such installment', { field: 'installment' });
  return { ...data, options: [option] };
}

/** What a gestionale asks a document for (getNoticeDocument), scoped to the caller's services. */
export interface DocumentQuery {
  ente: Ente;
  /** The services the credential is bound to: a position of another service does not exist. */
  serviceIds: readonly number[];
  positionId?: string | null;
  noticeNumber?: string | null;
  installment?: number | null;
}

export interface DocumentTarget {
  position: StoredPosition;
  /** The one option asked for (by notice number or installment), or undefined for the whole position. */
  installment: number | undefined;
}

/**
 * The position (and option) a gestionale names, by positionId (optionally with an installment) or
 * by the notice number of one option; POSITION_UNKNOWN when it is not the caller's to see, as in
 * getDebtPosition.
 */
export async function documentTarget(store: Store, query: DocumentQuery): Promise<DocumentTarget> {
  const { ente } = query;
  if (query.noticeNumber && query.installment !== undefined && query.installment !== null) {
    throw domainError('INVALID_INPUT', 'installment goes with positionId: a notice number names one option', {
      field: 'installment',
    });
  }
  const position = query.positionId
    ? await store.positions.findByPositionId(ente.id, query.positionId)
    : query.noticeNumber
      ? await store.positions.findByNoticeNumber(ente.id, query.noticeNumber)
      : null;
  if (!position || !query.serviceIds.includes(position.serviceId)) {
    throw domainError('POSITION_UNKNOWN', 'no such position for this ente', { field: 'positionId' });
  }
  const installment = query.noticeNumber
    ? position.options.find((o) => o.noticeNumber === query.noticeNumber)?.installment
    : (query.installment ?? undefined);
  return { position, installment };
}

// The data of a printable pagoPA notice (avviso di pagamento) for one position, found by the ente's
// fiscal code and any of its notice numbers (pagopa-facts §2). Only positions a citizen may still pay
// or has paid are printed; anything else reads as POSITION_UNKNOWN, so the answer leaks nothing.

import { domainError } from '../domain/errors.ts';
import { isPayable, type OptionStatus, type PositionStatus } from '../domain/positionState.ts';
import type { Store } from '../db/store.ts';

const PAID_STATUSES: readonly PositionStatus[] = ['PAID', 'REPORTED', 'RECONCILED'];

export interface NoticeOptionData {
  /** 0 for the single payment, 1..n for installments. */
  installment: number;
  noticeNumber: string;
  iuv: string;
  amountCents: number;
  dueDate: string;
  paid: boolean;
}

export interface NoticeDocumentData {
  ente: { fiscalCode: string; name: string };
  serviceDescription: string;
  /** The causale of the position. */
  description: string;
  debtor: { fullName: string; fiscalCode: string } | null;
  /** The single payment (installment 0) first, then the installments in order. */
  options: NoticeOptionData[];
  /** When the position last changed: the PDF's creation date, so equal data gives equal bytes. */
  issuedAt: Date;
}

function unknown(noticeNumber: string) {
  return domainError('POSITION_UNKNOWN', `no printable notice ${noticeNumber}`, { noticeNumber });
}

function isPaidOption(status: OptionStatus): boolean {
  return status !== 'UNPAID';
}

export async function noticeDocument(
  store: Store,
  enteFiscalCode: string,
  noticeNumber: string,
): Promise<NoticeDocumentData> {
  const ente = await store.enti.getByFiscalCode(enteFiscalCode);
  if (!ente) throw unknown(noticeNumber);
  const position = await store.positions.findByNoticeNumber(ente.id, noticeNumber);
  if (!position) throw unknown(noticeNumber);
  if (!isPayable(position.status) && !PAID_STATUSES.includes(position.status)) throw unknown(noticeNumber);
  const service = await store.services.getById(position.serviceId);
  const options = position.options
    .filter((o): o is typeof o & { noticeNumber: string } => o.noticeNumber !== null)
    .sort((a, b) => a.installment - b.installment)
    .map((o) => ({
      installment: o.installment,
      noticeNumber: o.noticeNumber,
      iuv: o.iuv,
      amountCents: o.amountCents,
      dueDate: o.dueDate,
      paid: isPaidOption(o.status),
    }));
  return {
    ente: { fiscalCode: ente.fiscalCode, name: ente.name },
    serviceDescription: service?.description ?? '',
    description: position.description,
    debtor: position.debtor
      ? { fullName: position.debtor.fullName, fiscalCode: position.debtor.fiscalCode }
      : null,
    options,
    issuedAt: new Date(position.updatedAt),
  };
}

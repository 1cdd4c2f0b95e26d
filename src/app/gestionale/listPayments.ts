// listPayments: the payments collected for the ente between two days inclusive (payment date as
// pagoPA writes it, Italian time), at most 31 days, in one service or every service the caller is
// bound to, ordered by payment time then receiptId, one page at a time.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import { dayRangeOf, type GestionaleCaller } from './common.ts';
import { paymentViewOf, type PaymentView } from './receipt.ts';

export const MAX_RANGE_DAYS = 31;
export const DEFAULT_PAGE_SIZE = 100;
const DAY_MS = 24 * 3600 * 1000;

export interface ListPaymentsQuery {
  ente: Ente;
  caller: GestionaleCaller;
  /** One service (already checked against the caller's bindings), or null for all of them. */
  service: Service | null;
  fromDate: string;
  toDate: string;
  pageNumber?: number | null;
  pageSize?: number | null;
}

export interface PageInfo {
  pageNumber: number;
  pageSize: number;
  totalItems: number;
  totalPages: number;
}

export interface PaymentsPage {
  pageInfo: PageInfo;
  payments: PaymentView[];
}

export async function listPayments(store: Store, query: ListPaymentsQuery): Promise<PaymentsPage> {
  const { fromDate, toDate } = dayRangeOf(query);
  const from = new Date(`${fromDate}T00:00:00Z`);
  const to = new Date(`${toDate}T00:00:00Z`);
  const days = (to.getTime() - from.getTime()) / DAY_MS + 1;
  if (days > MAX_RANGE_DAYS) {
    throw domainError(
      'INVALID_INPUT',
      `the range spans ${days} days, at most ${MAX_RANGE_DAYS} are allowed`,
      {
        field: 'toDate',
      },
    );
  }
  const pageNumber = query.pageNumber ?? 1;
  const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE;
  const serviceIds = query.service ? [query.service.id] : query.caller.serviceIds;
  const { total, payments } = await store.collectedPayments.list({
    enteId: query.ente.id,
    serviceIds,
    fromDate,
    toDateExclusive: new Date(to.getTime() + DAY_MS).toISOString().slice(0, 10),
    limit: pageSize,
    offset: (pageNumber - 1) * pageSize,
  });
  return {
    pageInfo: { pageNumber, pageSize, totalItems: total, totalPages: Math.ceil(total / pageSize) },
    payments: payments.map((p) =>
      paymentViewOf(p.receipt, {
        serviceCode: p.serviceCode,
        positionId: p.positionId,
        installment: p.installment,
        iuv: p.optionIuv,
        noticeNumber: p.receipt.noticeNumber ?? p.optionNoticeNumber ?? '',
      }),
    ),
  };
}

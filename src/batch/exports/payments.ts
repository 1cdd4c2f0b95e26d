// The nightly payments export (issue 7 item 4, "pagati"): for each ente and one Italian day, every
// receipt the connector received that day, one row each, written to out/ as
// `<ente CF>_PAGATI_<YYYYMMDD>_ppay-1.csv` (conventions in ./common.ts).
//
// "Received that day" (the receipt's received_at, Europe/Rome), not "paid that day": every receipt
// then appears in exactly one day's file, a receipt recovered days later included. KO receipts and
// receipts flagged for an operator (unknown or cancelled position, amount mismatch) are listed too,
// with their outcome and flag; the position columns are empty when no option has the receipt's IUV.
// A day without receipts gives a header-only file. Columns, in this order:
//   position_id;service_code;installment_no;iuv;notice_number;amount_cents;payment_date;
//   payment_date_time;psp_id;psp_name;receipt_id;outcome;payer_type;payer_fiscal_code;payer_name;
//   debtor_fiscal_code;payment_method;fee_cents;source;received_at;flagged_reason
// payment_date is the Italian day of payment_date_time (as the receipt carries it: local time
// without an offset); payer_* is the receipt's payer (a legacy RT's soggettoPagatore), empty when
// the receipt names none valid; received_at is the ISO UTC instant the connector stored it.

import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { ReceiptWithPosition } from '../../db/repositories/dailyExports.ts';
import { romeDate } from '../../pagopa/time.ts';
import { receiptDetails } from '../../app/callbacks/receiptDetails.ts';
import {
  forEachEnte,
  PAGE_SIZE,
  romeDayRange,
  writeCsvExport,
  type CsvValue,
  type DailyExportOptions,
  type DailyExportResult,
  type DayRange,
} from './common.ts';

export const PAYMENTS_EXPORT_COLUMNS = [
  'position_id',
  'service_code',
  'installment_no',
  'iuv',
  'notice_number',
  'amount_cents',
  'payment_date',
  'payment_date_time',
  'psp_id',
  'psp_name',
  'receipt_id',
  'outcome',
  'payer_type',
  'payer_fiscal_code',
  'payer_name',
  'debtor_fiscal_code',
  'payment_method',
  'fee_cents',
  'source',
  'received_at',
  'flagged_reason',
] as const;

type PaymentRow = Record<(typeof PAYMENTS_EXPORT_COLUMNS)[number], CsvValue>;

const WITH_OFFSET = /(Z|[+-]\d{2}:\d{2})$/;

/** The Italian day of a receipt's paymentDateTime: local time as written, or converted when it has an offset. */
function paymentDay(paymentDateTime: string | null): string | null {
  if (paymentDateTime === null) return null;
  if (!WITH_OFFSET.test(paymentDateTime)) return paymentDateTime.slice(0, 10);
  const instant = new Date(paymentDateTime);
  return Number.isNaN(instant.getTime()) ? null : romeDate(instant);
}

function paymentRow(item: ReceiptWithPosition): PaymentRow {
  const { receipt } = item;
  const details = receiptDetails(receipt);
  return {
    position_id: item.positionId,
    service_code: item.serviceCode,
    installment_no: item.installment,
    iuv: receipt.iuv,
    notice_number: receipt.noticeNumber ?? item.noticeNumber,
    amount_cents: receipt.amountCents,
    payment_date: paymentDay(receipt.paymentDateTime),
    payment_date_time: receipt.paymentDateTime,
    psp_id: receipt.pspId,
    psp_name: details.pspName,
    receipt_id: receipt.receiptId,
    outcome: receipt.outcome,
    payer_type: details.payer?.type,
    payer_fiscal_code: details.payer?.fiscalCode,
    payer_name: details.payer?.fullName,
    debtor_fiscal_code: item.debtorFiscalCode,
    payment_method: details.paymentMethod,
    fee_cents: details.feeCents,
    source: receipt.source,
    received_at: receipt.receivedAt,
    flagged_reason: receipt.flaggedReason,
  };
}

async function* paymentPages(store: Store, ente: Ente, range: DayRange): AsyncGenerator<PaymentRow[]> {
  let afterId = 0;
  for (;;) {
    const page = await store.dailyExports.receiptsReceived(ente.id, range, { afterId, limit: PAGE_SIZE });
    if (page.length === 0) return;
    yield page.map(paymentRow);
    afterId = page[page.length - 1]!.receipt.id;
  }
}

/** Writes the day's payments file of every active ente (or of one); a re-run replaces the files. */
export function exportPaymentsOfTheDay(options: DailyExportOptions): Promise<DailyExportResult> {
  return forEachEnte(options, 'PAGATI', (ente, folder, fileName) =>
    writeCsvExport(
      folder,
      fileName,
      PAYMENTS_EXPORT_COLUMNS,
      paymentPages(options.store, ente, romeDayRange(options.date)),
    ),
  );
}

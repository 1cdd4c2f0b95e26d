// The nightly expired-notices export (issue 7 item 4, "scaduti"): for each ente and one Italian day,
// the notices that stopped being due that day and are still unpaid, written to out/ as
// `<ente CF>_SCADUTI_<YYYYMMDD>_ppay-1.csv` (conventions in ./common.ts). Two reasons, named as in
// notifyExpiredNotices (gestionale-callback.xsd):
// - NOT_ACTIVATED: the position became EXPIRED that day (today only the notifyExpiredNotices job
//   does that, to reserved multe notices never activated); its unpaid options, expired_at = when;
// - PAST_DUE: an unpaid option whose due date was that day, of a position still open (VALID,
//   PARTIALLY_PAID or EXPIRED). pagoPA keeps accepting payments after the due date and no job marks
//   such positions EXPIRED, so the due date decides; the single payment of a plan with an
//   installment already paid is left out (it can no longer be paid).
// An option is listed once, NOT_ACTIVATED first. "Still unpaid" is judged when the export runs. A
// day with nothing gives a header-only file. Columns, in this order:
//   reason;position_id;service_code;installment_no;iuv;notice_number;amount_cents;due_date;
//   position_status;debtor_type;debtor_fiscal_code;debtor_name;expired_at

import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { UnpaidOption } from '../../db/repositories/dailyExports.ts';
import {
  forEachEnte,
  PAGE_SIZE,
  romeDayRange,
  writeCsvExport,
  type CsvValue,
  type DailyExportOptions,
  type DailyExportResult,
} from './common.ts';

export const EXPIRED_NOTICES_EXPORT_COLUMNS = [
  'reason',
  'position_id',
  'service_code',
  'installment_no',
  'iuv',
  'notice_number',
  'amount_cents',
  'due_date',
  'position_status',
  'debtor_type',
  'debtor_fiscal_code',
  'debtor_name',
  'expired_at',
] as const;

export type ExpiryReason = 'NOT_ACTIVATED' | 'PAST_DUE';

type ExpiredRow = Record<(typeof EXPIRED_NOTICES_EXPORT_COLUMNS)[number], CsvValue>;

function expiredRow(option: UnpaidOption, reason: ExpiryReason, expiredAt: string | null): ExpiredRow {
  return {
    reason,
    position_id: option.positionId,
    service_code: option.serviceCode,
    installment_no: option.installment,
    iuv: option.iuv,
    notice_number: option.noticeNumber,
    amount_cents: option.amountCents,
    due_date: option.dueDate,
    position_status: option.positionStatus,
    debtor_type: option.debtorType,
    debtor_fiscal_code: option.debtorFiscalCode,
    debtor_name: option.debtorFullName,
    expired_at: expiredAt,
  };
}

/** A reserved notice given up, or any other change to EXPIRED: the latter is past its due date. */
function reasonOf(fromStatus: string | null): ExpiryReason {
  return fromStatus === 'RESERVED' ? 'NOT_ACTIVATED' : 'PAST_DUE';
}

/** The single payment of a plan whose installments have started is no longer payable. */
function superseded(option: UnpaidOption): boolean {
  return option.installment === 0 && option.positionStatus === 'PARTIALLY_PAID';
}

async function* expiredPages(store: Store, ente: Ente, date: string): AsyncGenerator<ExpiredRow[]> {
  const range = romeDayRange(date);
  const expirations = await store.dailyExports.expiredBetween(ente.id, range);
  const listed = new Set<number>();
  if (expirations.length > 0) {
    const when = new Map(expirations.map((e) => [e.positionRowId, e]));
    const options = await store.dailyExports.unpaidOptionsOf(ente.id, [...when.keys()]);
    const rows: ExpiredRow[] = [];
    for (const option of options) {
      const expiration = when.get(option.positionRowId);
      if (!expiration || superseded(option)) continue;
      listed.add(option.optionRowId);
      rows.push(expiredRow(option, reasonOf(expiration.fromStatus), expiration.occurredAt));
    }
    yield rows;
  }
  let afterId = 0;
  for (;;) {
    const page = await store.dailyExports.unpaidOptionsDueOn(ente.id, date, { afterId, limit: PAGE_SIZE });
    if (page.length === 0) return;
    yield page
      .filter((o) => !listed.has(o.optionRowId) && !superseded(o))
      .map((o) => expiredRow(o, 'PAST_DUE', null));
    afterId = page[page.length - 1]!.optionRowId;
  }
}

/** Writes the day's expired-notices file of every active ente (or of one); a re-run replaces the files. */
export function exportExpiredNotices(options: DailyExportOptions): Promise<DailyExportResult> {
  return forEachEnte(options, 'SCADUTI', (ente, folder, fileName) =>
    writeCsvExport(
      folder,
      fileName,
      EXPIRED_NOTICES_EXPORT_COLUMNS,
      expiredPages(options.store, ente, options.date),
    ),
  );
}

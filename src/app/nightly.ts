// Nightly jobs (DESIGN §6: each takes a DB job lock, so several instances never do the work twice).
// When they run is src/batch/scheduler.ts's business (a cron per job from PPAY_JOB_SCHEDULE, each
// slot run once across instances); src/batch/jobs.ts adds the nightly exports to this list.

import type { Store } from '../db/store.ts';
import { romeDate } from '../pagopa/time.ts';
import { reportExpiredReservations } from './gestionale/expiredReservations.ts';
import { reconcile } from './reconciliation/reconcile.ts';
import type { FlowNodePort } from './reconciliation/fetchFlows.ts';
import {
  dayBefore,
  exportReconciliationReports,
  type RemoteOutFolderOf,
} from './reconciliation/exportReport.ts';
import type { SigningKey } from '../xml/signing.ts';

/** What the nightly reconciliation needs besides the store. */
export interface ReconciliationSettings {
  /** PPAY_DATA_DIR: the treasury folders are <dataDir>/treasury/<ente>/in/. */
  dataDir: string;
  receiptFlowDays: number;
  flowCreditDays: number;
  /** The pagoPA node, asked at run time (the client exists only once the server listens). */
  node: () => FlowNodePort | null;
  /** PPAY_EXPORT_SIGNING_KEY / _CERT: signs the nightly reconciliation exports when set. */
  exportSigning?: SigningKey | null;
  /** Enti with a remote SFTP drop folder get their reconciliation export there (src/batch/jobs.ts). */
  remoteOutFolderOf?: RemoteOutFolderOf;
}

export interface NightlySettings {
  /** Unused: kept so existing callers compile; the schedule is PPAY_JOB_SCHEDULE (src/batch/schedule.ts). */
  hour?: number;
  /** Reserved multe notices older than this many days are reported (notifyExpiredNotices). */
  reservationMaxDays: number;
  /** Without it, the reconcile job only matches what is already stored. */
  reconciliation?: ReconciliationSettings;
}

export interface NightlyJob {
  name: string;
  run(store: Store, now: Date): Promise<unknown>;
}

export function nightlyJobs(settings: NightlySettings): NightlyJob[] {
  return [
    {
      name: 'notifyExpiredNotices',
      run: (store, now) =>
        reportExpiredReservations(store, { olderThanDays: settings.reservationMaxDays, now }),
    },
    {
      name: 'reconcile',
      run: (store, now) => {
        const r = settings.reconciliation;
        return reconcile({
          store,
          node: r?.node() ?? null,
          dataDir: r?.dataDir ?? null,
          date: romeDate(now),
          thresholds: r
            ? { receiptFlowDays: r.receiptFlowDays, flowCreditDays: r.flowCreditDays }
            : undefined,
          clock: () => now,
        });
      },
    },
    ...(settings.reconciliation ? [reconciliationExportJob(settings.reconciliation)] : []),
  ];
}

/** After reconcile: each active ente's report of yesterday (the last whole day) into its out/ folder. */
function reconciliationExportJob(r: ReconciliationSettings): NightlyJob {
  return {
    name: 'reconciliationExport',
    run: (store, now) =>
      exportReconciliationReports({
        store,
        dataDir: r.dataDir,
        date: dayBefore(romeDate(now)),
        signing: r.exportSigning ?? null,
        clock: () => now,
        remoteOutFolderOf: r.remoteOutFolderOf,
      }),
  };
}

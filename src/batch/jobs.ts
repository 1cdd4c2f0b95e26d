// The catalogue of scheduled jobs (src/batch/scheduler.ts runs them, `ppay jobs` lists and runs
// them): the nightly jobs of src/app/nightly.ts followed by the nightly exports of ./exports/. Each
// export covers the Italian day before its slot (the last whole day), so a slot run late still
// writes the day it stands for.

import type { Config } from '../config.ts';
import { nightlyJobs, type NightlySettings } from '../app/nightly.ts';
import type { FlowNodePort } from '../app/reconciliation/fetchFlows.ts';
import { addDays, italianDate } from '../domain/payability.ts';
import { exportExpiredNotices } from './exports/expiredNotices.ts';
import { exportPaymentsOfTheDay } from './exports/payments.ts';
import { openRemoteDropFolder } from './enteDropFolders.ts';
import type { DropFolder } from './dropFolder/port.ts';
import type { ScheduledJob } from './scheduler.ts';
import { SCHEDULED_JOB_NAMES, type ScheduledJobName } from './schedule.ts';

export interface JobCatalogueSettings {
  nightly: NightlySettings;
  /**
   * PPAY_DATA_DIR: the exports go to <dataDir>/sftp/<ente fiscal code>/out/, or to the out/ of the
   * ente's remote SFTP drop folder when its settings name one (src/batch/enteDropFolders.ts).
   */
  dataDir: string;
  /** An ente's drop folder, instead of the one its settings give. */
  dropFolderFor?: (enteFiscalCode: string) => DropFolder | Promise<DropFolder>;
  /** The day the exports cover, instead of the day before their slot (`ppay jobs run --date`). */
  exportDate?: string;
}

/** The Italian day before an instant: what a nightly export at that instant covers. */
export function exportDayFor(scheduledAt: Date): string {
  return addDays(italianDate(scheduledAt), -1);
}

function isScheduledJobName(name: string): name is ScheduledJobName {
  return (SCHEDULED_JOB_NAMES as readonly string[]).includes(name);
}

function exportJobs(settings: JobCatalogueSettings): ScheduledJob[] {
  const options = (scheduledAt: Date) => ({
    dataDir: settings.dataDir,
    date: settings.exportDate ?? exportDayFor(scheduledAt),
    dropFolderFor: settings.dropFolderFor,
  });
  return [
    {
      name: 'paymentsExport',
      run: (store, _now, scheduledAt) => exportPaymentsOfTheDay({ store, ...options(scheduledAt) }),
    },
    {
      name: 'expiredNoticesExport',
      run: (store, _now, scheduledAt) => exportExpiredNotices({ store, ...options(scheduledAt) }),
    },
  ];
}

/** Every scheduled job, in the order of SCHEDULED_JOB_NAMES. */
export function scheduledJobs(settings: JobCatalogueSettings): ScheduledJob[] {
  const nightly = nightlyJobs(settings.nightly).map((job): ScheduledJob => {
    if (!isScheduledJobName(job.name)) {
      throw new Error(`nightly job ${job.name} is missing from SCHEDULED_JOB_NAMES (src/batch/schedule.ts)`);
    }
    return { name: job.name, run: (store, now) => job.run(store, now) };
  });
  const jobs = [...nightly, ...exportJobs(settings)];
  return SCHEDULED_JOB_NAMES.flatMap((name) => jobs.filter((j) => j.name === name));
}

/** The catalogue as the connector and `ppay jobs` build it from the configuration. */
export function jobCatalogueFor(
  config: Pick<
    Config,
    'dataDir' | 'reservationMaxDays' | 'receiptFlowDays' | 'flowCreditDays' | 'exportSigning'
  >,
  node: () => FlowNodePort | null,
  overrides: { reservationMaxDays?: number; exportDate?: string } = {},
): ScheduledJob[] {
  return scheduledJobs({
    nightly: {
      reservationMaxDays: overrides.reservationMaxDays ?? config.reservationMaxDays,
      reconciliation: {
        dataDir: config.dataDir,
        receiptFlowDays: config.receiptFlowDays,
        flowCreditDays: config.flowCreditDays,
        node,
        exportSigning: config.exportSigning ?? null,
        remoteOutFolderOf: (store, ente) => openRemoteDropFolder(store, config.dataDir, ente),
      },
    },
    dataDir: config.dataDir,
    exportDate: overrides.exportDate,
  });
}

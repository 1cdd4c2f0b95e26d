// The data-layer facade: every repository bound to one Knex (or transaction), and `transaction()`
// that rebinds them all to a new transaction so a use case can compose several writes atomically.

import { takeSqliteWriteLock, type Db } from './knex.ts';
import { systemClock, type Clock } from './rows.ts';
import { createBrokersRepository, type BrokersRepository } from './repositories/brokers.ts';
import { createClientsRepository, type ClientsRepository } from './repositories/clients.ts';
import { createEntiRepository, type EntiRepository } from './repositories/enti.ts';
import { createEventsRepository, type EventsRepository } from './repositories/events.ts';
import { createIuvRepository, type IuvRepository } from './repositories/iuv.ts';
import { createLocksRepository, type LocksRepository } from './repositories/locks.ts';
import { createOutboxRepository, type OutboxRepository } from './repositories/outbox.ts';
import { createPaymentsRepository, type PaymentsRepository } from './repositories/payments.ts';
import { createPositionsRepository, type PositionsRepository } from './repositories/positions.ts';
import { createReceiptsRepository, type ReceiptsRepository } from './repositories/receipts.ts';
import { createServicesRepository, type ServicesRepository } from './repositories/services.ts';
import { createStationsRepository, type StationsRepository } from './repositories/stations.ts';
import { createUploadsRepository, type UploadsRepository } from './repositories/uploads.ts';
import { createImportsRepository, type ImportsRepository } from './repositories/imports.ts';
import {
  createGestionaleRequestsRepository,
  type GestionaleRequestsRepository,
} from './repositories/gestionaleRequests.ts';
import {
  createPositionExtrasRepository,
  type PositionExtrasRepository,
} from './repositories/positionExtras.ts';
import {
  createPaymentSessionsRepository,
  type PaymentSessionsRepository,
} from './repositories/paymentSessions.ts';
import {
  createReconciliationFlowsRepository,
  type ReconciliationFlowsRepository,
} from './repositories/reconciliationFlows.ts';
import {
  createBankStatementsRepository,
  type BankStatementsRepository,
} from './repositories/bankStatements.ts';
import { createAnomaliesRepository, type AnomaliesRepository } from './repositories/anomalies.ts';
import { createJobRunsRepository, type JobRunsRepository } from './repositories/jobRuns.ts';
import {
  createEnteDropFoldersRepository,
  type EnteDropFoldersRepository,
} from './repositories/enteDropFolders.ts';
import { createDailyExportsRepository, type DailyExportsRepository } from './repositories/dailyExports.ts';
import { createPortalUsersRepository, type PortalUsersRepository } from './repositories/portalUsers.ts';
import {
  createSpontaneousFormsRepository,
  type SpontaneousFormsRepository,
} from './repositories/spontaneousForms.ts';
import {
  createCollectedPaymentsRepository,
  type CollectedPaymentsRepository,
} from './repositories/collectedPayments.ts';

export interface StoreOptions {
  /** Source of "now" for every timestamp the store writes; tests pass a fixed clock. */
  clock?: Clock;
}

export interface Store {
  db: Db;
  brokers: BrokersRepository;
  stations: StationsRepository;
  enti: EntiRepository;
  services: ServicesRepository;
  clients: ClientsRepository;
  positions: PositionsRepository;
  iuv: IuvRepository;
  payments: PaymentsRepository;
  receipts: ReceiptsRepository;
  events: EventsRepository;
  outbox: OutboxRepository;
  locks: LocksRepository;
  uploads: UploadsRepository;
  gestionaleRequests: GestionaleRequestsRepository;
  positionExtras: PositionExtrasRepository;
  paymentSessions: PaymentSessionsRepository;
  collectedPayments: CollectedPaymentsRepository;
  reconciliationFlows: ReconciliationFlowsRepository;
  bankStatements: BankStatementsRepository;
  anomalies: AnomaliesRepository;
  imports: ImportsRepository;
  jobRuns: JobRunsRepository;
  enteDropFolders: EnteDropFoldersRepository;
  dailyExports: DailyExportsRepository;
  portalUsers: PortalUsersRepository;
  spontaneousForms: SpontaneousFormsRepository;
  /**
   * Runs fn with a store bound to a new transaction (a savepoint when this store is already in one):
   * committed when fn resolves, rolled back when it throws.
   */
  transaction<T>(fn: (store: Store) => Promise<T>): Promise<T>;
}

export function createStore(db: Db, opts: StoreOptions = {}): Store {
  const clock = opts.clock ?? systemClock;
  return {
    db,
    brokers: createBrokersRepository(db, clock),
    stations: createStationsRepository(db, clock),
    enti: createEntiRepository(db, clock),
    services: createServicesRepository(db, clock),
    clients: createClientsRepository(db, clock),
    positions: createPositionsRepository(db, clock),
    iuv: createIuvRepository(db, clock),
    payments: createPaymentsRepository(db, clock),
    receipts: createReceiptsRepository(db, clock),
    events: createEventsRepository(db, clock),
    outbox: createOutboxRepository(db, clock),
    locks: createLocksRepository(db, clock),
    uploads: createUploadsRepository(db, clock),
    gestionaleRequests: createGestionaleRequestsRepository(db, clock),
    positionExtras: createPositionExtrasRepository(db),
    paymentSessions: createPaymentSessionsRepository(db, clock),
    collectedPayments: createCollectedPaymentsRepository(db),
    reconciliationFlows: createReconciliationFlowsRepository(db, clock),
    bankStatements: createBankStatementsRepository(db, clock),
    anomalies: createAnomaliesRepository(db, clock),
    jobRuns: createJobRunsRepository(db, clock),
    enteDropFolders: createEnteDropFoldersRepository(db, clock),
    dailyExports: createDailyExportsRepository(db),
    portalUsers: createPortalUsersRepository(db, clock),
    spontaneousForms: createSpontaneousFormsRepository(db, clock),
    imports: createImportsRepository(db, clock),
    transaction: (fn) =>
      db.transaction(async (trx) => {
        if (!db.isTransaction) await takeSqliteWriteLock(trx);
        return fn(createStore(trx, opts));
      }),
  };
}

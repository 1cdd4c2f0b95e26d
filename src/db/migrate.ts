// Runs the schema migrations, listed explicitly here (no directory scanning, so bundling or a stray
// file cannot change the schema). The same list runs on SQLite and PostgreSQL; forward-only.

import type { Knex } from 'knex';
import * as createRegistryTables from './migrations/0001_create_registry_tables.ts';
import * as createClientTables from './migrations/0002_create_client_tables.ts';
import * as createPositionTables from './migrations/0003_create_position_tables.ts';
import * as createIuvTables from './migrations/0004_create_iuv_tables.ts';
import * as createPaymentTables from './migrations/0005_create_payment_tables.ts';
import * as createOperationsTables from './migrations/0006_create_operations_tables.ts';
import * as createEmulatorTables from './migrations/0008_create_emulator_tables.ts';
import * as createGestionaleTables from './migrations/0009_create_gestionale_tables.ts';
import * as addClientEndpoints from './migrations/0010_add_client_endpoints.ts';
import * as addOutboxOrdering from './migrations/0011_add_outbox_ordering.ts';
import * as createPaymentSessions from './migrations/0012_create_payment_sessions.ts';
import * as addPaymentSessionNodeSession from './migrations/0013_add_payment_session_node_session.ts';
import * as createEmulatorFlowTables from './migrations/0014_create_emulator_flow_tables.ts';
import * as createReconciliationTables from './migrations/0015_create_reconciliation_tables.ts';
import * as createImportTables from './migrations/0016_create_import_tables.ts';
import * as createJobRuns from './migrations/0017_create_job_runs.ts';
import * as createEnteDropFolders from './migrations/0018_create_ente_drop_folders.ts';
import * as createPortalTables from './migrations/0019_create_portal_tables.ts';

/** A migration module exports only `up`: the schema moves forward, never back. */
interface NamedMigration {
  name: string;
  migration: { up(knex: Knex): Promise<void> };
}

/** Append new migrations at the end; never rename, reorder or edit one that has landed. */
export const MIGRATIONS: readonly NamedMigration[] = [
  { name: '0001_create_registry_tables', migration: createRegistryTables },
  { name: '0002_create_client_tables', migration: createClientTables },
  { name: '0003_create_position_tables', migration: createPositionTables },
  { name: '0004_create_iuv_tables', migration: createIuvTables },
  { name: '0005_create_payment_tables', migration: createPaymentTables },
  { name: '0006_create_operations_tables', migration: createOperationsTables },
  { name: '0008_create_emulator_tables', migration: createEmulatorTables },
  { name: '0009_create_gestionale_tables', migration: createGestionaleTables },
  { name: '0010_add_client_endpoints', migration: addClientEndpoints },
  { name: '0011_add_outbox_ordering', migration: addOutboxOrdering },
  { name: '0012_create_payment_sessions', migration: createPaymentSessions },
  { name: '0013_add_payment_session_node_session', migration: addPaymentSessionNodeSession },
  { name: '0014_create_emulator_flow_tables', migration: createEmulatorFlowTables },
  { name: '0015_create_reconciliation_tables', migration: createReconciliationTables },
  { name: '0016_create_import_tables', migration: createImportTables },
  { name: '0017_create_job_runs', migration: createJobRuns },
  { name: '0018_create_ente_drop_folders', migration: createEnteDropFolders },
  { name: '0019_create_portal_tables', migration: createPortalTables },
];

function refuseRollback(): Promise<void> {
  return Promise.reject(new Error('migrations are forward-only: restore a backup instead of rolling back'));
}

const migrationSource: Knex.MigrationSource<NamedMigration> = {
  getMigrations: () => Promise.resolve([...MIGRATIONS]),
  getMigrationName: (entry) => entry.name,
  // Knex insists on a down; ours refuses, so a rollback cannot silently drop data.
  getMigration: (entry) => Promise.resolve({ up: entry.migration.up, down: refuseRollback }),
};

/** Applies the pending migrations; returns the names of those it applied (empty when current). */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/** Names of the migrations already applied to this database, in order. */
export async function appliedMigrations(db: Knex): Promise<string[]> {
  const [completed] = (await db.migrate.list({ migrationSource })) as [Array<{ name: string }>, unknown];
  return completed.map((m) => m.name);
}

// Scheduled job runs (issue 7 item 5, src/batch/scheduler.ts): one row per job and slot, keyed by
// (job_name, run_key), so several instances and restarts run each scheduled slot once; manual runs
// (`ppay jobs run`) are recorded too, under a key of their own. Plus the indexes the nightly exports
// read by: receipts received in a day, options due on a day.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_runs', (t) => {
    t.increments('id');
    t.string('job_name', 64).notNullable();
    // The slot's ISO instant for a scheduled run; `manual:<ISO instant>:<random>` for a manual one.
    t.string('run_key', 96).notNullable();
    t.string('trigger', 16).notNullable();
    t.string('scheduled_at', 32).nullable();
    // running → done | failed; a failed or abandoned (still running, lock expired) slot is retried.
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable();
    t.string('owner', 128).notNullable();
    t.string('started_at', 32).notNullable();
    t.string('finished_at', 32).nullable();
    t.text('summary').nullable();
    t.text('error').nullable();
    t.unique(['job_name', 'run_key']);
    t.index(['job_name', 'scheduled_at']);
    t.index(['job_name', 'started_at']);
  });
  await knex.schema.alterTable('receipts', (t) => {
    t.index(['ente_id', 'received_at']);
  });
  await knex.schema.alterTable('payment_options', (t) => {
    t.index(['ente_id', 'due_date']);
  });
}

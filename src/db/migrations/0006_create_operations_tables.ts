// Operational tables: the event log (why every state changed), the notification outbox and the
// locks that keep nightly jobs single-instance (DESIGN.md §6).

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('events', (t) => {
    t.bigIncrements('id');
    t.string('occurred_at', 32).notNullable();
    t.string('entity_type', 32).notNullable();
    t.string('entity_id', 64).notNullable();
    t.string('action', 64).notNullable();
    t.string('from_status', 32).nullable();
    t.string('to_status', 32).nullable();
    t.text('cause').notNullable();
    t.string('actor', 128).notNullable();
    t.text('payload').nullable();
    t.index(['entity_type', 'entity_id']);
  });
  await knex.schema.createTable('outbox', (t) => {
    t.string('id', 36).primary();
    t.string('topic', 64).notNullable();
    t.string('target', 64).notNullable();
    t.text('payload').notNullable();
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('next_attempt_at', 32).notNullable();
    t.text('last_error').nullable();
    t.string('created_at', 32).notNullable();
    t.string('delivered_at', 32).nullable();
    t.index(['status', 'next_attempt_at']);
  });
  await knex.schema.createTable('job_locks', (t) => {
    t.string('name', 128).primary();
    t.string('owner', 128).notNullable();
    t.string('expires_at', 32).notNullable();
  });
}

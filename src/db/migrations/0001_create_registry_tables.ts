// The intermediary's registry: the broker (intermediario PA), its stations, the enti it serves and
// each ente's services (tipi dovuto). Forward-only: once landed, never edited; add a new migration.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('brokers', (t) => {
    t.increments('id');
    t.string('fiscal_code', 11).notNullable().unique();
    t.string('name', 255).notNullable();
    t.string('created_at', 32).notNullable();
  });
  await knex.schema.createTable('stations', (t) => {
    t.increments('id');
    t.string('station_id', 35).notNullable().unique();
    t.integer('broker_id').notNullable().references('id').inTable('brokers');
    // Sent in clear in nodo* request bodies, so it cannot be stored as a hash.
    t.string('password', 64).notNullable();
    t.string('dialect', 8).notNullable();
    t.string('status', 16).notNullable();
    t.string('created_at', 32).notNullable();
  });
  await knex.schema.createTable('enti', (t) => {
    t.increments('id');
    t.string('fiscal_code', 11).notNullable().unique();
    t.string('name', 255).notNullable();
    t.integer('station_id').notNullable().references('id').inTable('stations');
    t.integer('aux_digit').notNullable().defaultTo(3);
    t.string('segregation_code', 2).nullable();
    t.string('application_code', 2).nullable();
    t.string('iban', 34).nullable();
    t.string('status', 16).notNullable();
    t.string('created_at', 32).notNullable();
  });
  await knex.schema.createTable('services', (t) => {
    t.increments('id');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.string('code', 64).notNullable();
    t.string('description', 255).notNullable();
    t.string('category', 140).notNullable();
    t.string('iban', 34).nullable();
    t.boolean('spontaneous').notNullable().defaultTo(false);
    t.string('pagopa_service_id', 5).nullable();
    t.string('status', 16).notNullable();
    t.string('created_at', 32).notNullable();
    t.unique(['ente_id', 'code']);
  });
}

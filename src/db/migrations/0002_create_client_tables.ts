// Gestionale credentials (WS-Security UsernameToken) and what each one may touch: enti, services
// and integration models (DESIGN.md §2, §9).

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gestionale_clients', (t) => {
    t.increments('id');
    t.string('username', 64).notNullable().unique();
    t.text('password_hash').notNullable();
    t.string('name', 255).notNullable();
    t.string('status', 16).notNullable();
    t.string('created_at', 32).notNullable();
    t.string('revoked_at', 32).nullable();
  });
  await knex.schema.createTable('client_enti', (t) => {
    t.integer('client_id').notNullable().references('id').inTable('gestionale_clients');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.primary(['client_id', 'ente_id']);
  });
  await knex.schema.createTable('client_services', (t) => {
    t.integer('client_id').notNullable().references('id').inTable('gestionale_clients');
    t.integer('service_id').notNullable().references('id').inTable('services');
    t.primary(['client_id', 'service_id']);
  });
  await knex.schema.createTable('client_models', (t) => {
    t.integer('client_id').notNullable().references('id').inTable('gestionale_clients');
    t.string('model', 8).notNullable();
    t.primary(['client_id', 'model']);
  });
}

// IUV sequences (one counter per ente and scope) and the register of every IUV / notice number ever
// handed out: an IUV is unique for ever within its ente (pagopa-facts §1), so rows are never deleted.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('iuv_sequences', (t) => {
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.string('scope', 32).notNullable();
    t.bigInteger('next_value').notNullable();
    t.primary(['ente_id', 'scope']);
  });
  await knex.schema.createTable('iuv_allocations', (t) => {
    t.increments('id');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.string('iuv', 35).notNullable();
    t.string('notice_number', 18).nullable();
    t.integer('service_id').nullable().references('id').inTable('services');
    t.integer('client_id').nullable().references('id').inTable('gestionale_clients');
    t.string('purpose', 16).notNullable();
    t.integer('option_id').nullable().references('id').inTable('payment_options').onDelete('SET NULL');
    t.string('created_at', 32).notNullable();
    t.unique(['ente_id', 'iuv']);
    t.unique(['ente_id', 'notice_number']);
  });
}

// Debt positions, their payment options and the transfers of each option (src/domain/position.ts).
// ente_id sits on payment_options so (ente, IUV) and (ente, notice number) can be unique constraints.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('positions', (t) => {
    t.increments('id');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.integer('service_id').notNullable().references('id').inTable('services');
    t.string('position_id', 64).notNullable();
    t.string('status', 16).notNullable();
    t.string('description', 255).notNullable();
    t.string('debtor_type', 1).nullable();
    t.string('debtor_fiscal_code', 35).nullable();
    t.string('debtor_full_name', 255).nullable();
    t.string('debtor_email', 256).nullable();
    t.string('debtor_street_name', 255).nullable();
    t.string('debtor_civic_number', 16).nullable();
    t.string('debtor_postal_code', 16).nullable();
    t.string('debtor_city', 255).nullable();
    t.string('debtor_state_province_region', 255).nullable();
    t.string('debtor_country', 2).nullable();
    t.string('validity_date', 10).nullable();
    t.integer('version').notNullable().defaultTo(1);
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.string('ticket_number', 64).nullable();
    t.string('plate', 16).nullable();
    t.bigInteger('reduced_amount_cents').nullable();
    t.string('reduced_until', 10).nullable();
    t.unique(['ente_id', 'position_id']);
    t.index(['ente_id', 'status']);
  });
  await knex.schema.createTable('payment_options', (t) => {
    t.increments('id');
    t.integer('position_id').notNullable().references('id').inTable('positions');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.integer('installment').notNullable();
    t.string('iuv', 35).notNullable();
    t.string('notice_number', 18).nullable();
    t.bigInteger('amount_cents').notNullable();
    t.string('due_date', 10).notNullable();
    t.string('description', 255).notNullable();
    t.string('status', 16).notNullable();
    t.unique(['ente_id', 'iuv']);
    t.unique(['ente_id', 'notice_number']);
    t.unique(['position_id', 'installment']);
  });
  await knex.schema.createTable('transfers', (t) => {
    t.increments('id');
    t.integer('option_id').notNullable().references('id').inTable('payment_options');
    t.integer('idx').notNullable();
    t.string('ente_fiscal_code', 11).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.string('iban', 34).notNullable();
    t.boolean('postal').notNullable();
    t.string('category', 140).notNullable();
    t.string('remittance_information', 255).notNullable();
    t.unique(['option_id', 'idx']);
  });
}

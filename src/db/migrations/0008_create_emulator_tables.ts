// State of the pagoPA node emulator (src/emulator, DESIGN §5), kept apart from the connector's own
// tables so either can evolve alone: PSPs, per-station node settings, checkout carts, current-model
// payments (paymentToken) with their receipt deliveries, and legacy RPTs / RTs keyed by
// (idDominio, IUV, CCP) as pagopa-facts §1 says. Forward-only, like every migration.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('emulator_psps', (t) => {
    t.string('id_psp', 35).primary();
    t.string('id_broker_psp', 35).notNullable();
    t.string('id_channel', 35).notNullable();
    t.string('company_name', 70).notNullable();
    t.string('psp_fiscal_code', 16).notNullable();
    t.string('channel_description', 35).notNullable();
    // 'psp' pays; 'wisp' is the placeholder an EC names when the citizen chooses the PSP at the node.
    t.string('kind', 8).notNullable();
    t.string('created_at', 32).notNullable();
  });
  await knex.schema.createTable('emulator_stations', (t) => {
    t.string('station_id', 35).primary();
    t.integer('primitive_version').notNullable();
    t.text('redirect_url').nullable();
    t.string('updated_at', 32).notNullable();
  });
  await knex.schema.createTable('emulator_carts', (t) => {
    t.string('id', 64).primary();
    t.string('kind', 8).notNullable();
    t.string('status', 16).notNullable();
    t.string('station_id', 35).nullable();
    t.string('broker_id', 35).nullable();
    t.boolean('multi_beneficiary').notNullable().defaultTo(false);
    t.string('psp_id', 35).nullable();
    t.text('return_ok_url').nullable();
    t.text('return_cancel_url').nullable();
    t.text('return_error_url').nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
  });
  await knex.schema.createTable('emulator_cart_notices', (t) => {
    t.increments('id');
    t.string('cart_id', 64).notNullable().references('id').inTable('emulator_carts');
    t.integer('position').notNullable();
    t.string('fiscal_code', 11).notNullable();
    t.string('notice_number', 18).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.string('company_name', 140).notNullable();
    t.string('description', 140).notNullable();
    t.unique(['cart_id', 'position']);
  });
  await knex.schema.createTable('emulator_payments', (t) => {
    t.increments('id');
    // paymentToken (current model) or the PSP-chosen CCP (legacy model 3): unique either way.
    t.string('payment_token', 35).notNullable().unique();
    t.string('kind', 8).notNullable();
    t.string('cart_id', 64).nullable();
    t.string('fiscal_code', 11).notNullable();
    t.string('notice_number', 18).notNullable();
    t.string('iuv', 35).nullable();
    t.bigInteger('amount_cents').nullable();
    t.string('psp_id', 35).notNullable();
    t.integer('primitive_version').notNullable();
    t.string('status', 16).notNullable();
    t.string('last_step', 64).nullable();
    t.string('fault_code', 64).nullable();
    t.text('receipt').nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.index(['fiscal_code', 'notice_number']);
  });
  await knex.schema.createTable('emulator_receipt_deliveries', (t) => {
    t.increments('id');
    t.string('payment_token', 35).notNullable();
    t.string('fiscal_code', 11).notNullable();
    t.string('status', 16).notNullable();
    t.string('fault_code', 64).nullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.string('updated_at', 32).notNullable();
    t.unique(['payment_token', 'fiscal_code']);
  });
  await knex.schema.createTable('emulator_rpts', (t) => {
    t.increments('id');
    t.string('id_dominio', 35).notNullable();
    t.string('iuv', 35).notNullable();
    t.string('ccp', 35).notNullable();
    t.string('cart_id', 64).notNullable().references('id').inTable('emulator_carts');
    t.integer('position').notNullable();
    t.string('station_id', 35).notNullable();
    t.string('broker_id', 35).notNullable();
    t.string('psp_id', 35).notNullable();
    t.string('tipo_versamento', 4).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.text('rpt_xml').notNullable();
    t.string('status', 32).notNullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.unique(['id_dominio', 'iuv', 'ccp']);
    t.index(['station_id', 'status']);
  });
  await knex.schema.createTable('emulator_rpt_history', (t) => {
    t.increments('id');
    t.integer('rpt_id').notNullable().references('id').inTable('emulator_rpts');
    t.string('occurred_at', 32).notNullable();
    t.string('status', 32).notNullable();
    t.text('description').notNullable();
    t.index(['rpt_id']);
  });
  await knex.schema.createTable('emulator_rts', (t) => {
    t.increments('id');
    t.string('id_dominio', 35).notNullable();
    t.string('iuv', 35).notNullable();
    t.string('ccp', 35).notNullable();
    t.string('outcome_code', 1).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.text('rt_xml').notNullable();
    t.string('delivery_status', 16).notNullable();
    t.string('fault_code', 64).nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.unique(['id_dominio', 'iuv', 'ccp']);
  });
}

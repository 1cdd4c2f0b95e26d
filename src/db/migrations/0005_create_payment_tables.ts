// Payment attempts (legacy RPT keyed by CCP, current model keyed by paymentToken) and receipts
// (RT / paSendRT), stored whole. Keys follow pagopa-facts §9: (ente, IUV, CCP|token), (ente, IUV, receiptId).

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('payments', (t) => {
    t.increments('id');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.integer('option_id').nullable().references('id').inTable('payment_options').onDelete('SET NULL');
    t.string('iuv', 35).notNullable();
    t.string('notice_number', 18).nullable();
    t.string('kind', 8).notNullable();
    t.string('ccp_or_token', 35).notNullable();
    t.string('psp_id', 35).nullable();
    t.string('channel_id', 35).nullable();
    t.string('status', 16).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.text('request_document').nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.unique(['ente_id', 'iuv', 'ccp_or_token']);
  });
  await knex.schema.createTable('receipts', (t) => {
    t.increments('id');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.string('iuv', 35).notNullable();
    t.string('receipt_id', 35).notNullable();
    t.string('notice_number', 18).nullable();
    t.string('ccp', 35).nullable();
    t.string('source', 16).notNullable();
    t.string('outcome', 8).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.string('payment_date_time', 35).nullable();
    t.string('psp_id', 35).nullable();
    t.text('document').notNullable();
    t.integer('option_id').nullable().references('id').inTable('payment_options').onDelete('SET NULL');
    t.string('flagged_reason', 64).nullable();
    t.string('received_at', 32).notNullable();
    t.unique(['ente_id', 'iuv', 'receipt_id']);
    t.index(['ente_id', 'notice_number']);
  });
}

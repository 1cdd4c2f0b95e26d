// Tables of the gestionale API (DESIGN §3): uploads of debt positions with their per-item outcomes
// (idempotent by messageId, processed synchronously or by the upload worker), the answers of
// requestId-keyed number requests, and the position details the core position tables lack.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('uploads', (t) => {
    t.string('id', 40).primary();
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.integer('service_id').notNullable().references('id').inTable('services');
    t.integer('client_id').nullable().references('id').inTable('gestionale_clients');
    t.string('source', 8).notNullable();
    t.string('message_id', 64).notNullable();
    t.string('file_name', 255).nullable();
    // sha256 of the message's content: the same messageId with other content is refused.
    t.string('request_hash', 64).notNullable();
    t.string('status', 16).notNullable();
    t.integer('item_count').notNullable();
    t.integer('ok_count').notNullable().defaultTo(0);
    t.integer('ko_count').notNullable().defaultTo(0);
    t.string('actor', 128).notNullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.string('processed_at', 32).nullable();
    t.unique(['ente_id', 'message_id']);
    t.index(['status']);
  });
  await knex.schema.createTable('upload_items', (t) => {
    t.string('upload_id', 40).notNullable().references('id').inTable('uploads');
    t.integer('sequence').notNullable();
    t.string('position_id', 64).notNullable();
    t.string('action', 8).notNullable();
    t.text('payload').notNullable();
    // Null until processed; written in the transaction of the change the item makes.
    t.string('outcome', 2).nullable();
    t.text('result').nullable();
    t.string('processed_at', 32).nullable();
    t.primary(['upload_id', 'sequence']);
  });
  await knex.schema.createTable('gestionale_requests', (t) => {
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.string('request_id', 64).notNullable();
    t.string('operation', 32).notNullable();
    t.integer('client_id').nullable().references('id').inTable('gestionale_clients');
    t.string('request_hash', 64).notNullable();
    t.text('answer').notNullable();
    t.string('created_at', 32).notNullable();
    t.primary(['ente_id', 'request_id']);
  });
  await knex.schema.createTable('position_extras', (t) => {
    t.integer('position_id').primary().references('id').inTable('positions');
    t.text('metadata').nullable();
    t.string('infringement_date_time', 40).nullable();
  });
}

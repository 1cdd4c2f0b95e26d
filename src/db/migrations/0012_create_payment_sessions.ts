// Asincrona redirect sessions (DESIGN §2, §9): what createPaymentSession hands the citizen. The
// signed token in the session URL names the row (id) and carries its nonce; the nonce is consumed
// (used_at) by the first payment start, so a token pays at most once. The option is kept by its
// installment and notice number, not by row id: a later UPDATE of the position may rewrite options.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('payment_sessions', (t) => {
    t.string('id', 64).primary();
    t.string('nonce', 64).notNullable();
    t.integer('client_id').nullable().references('id').inTable('gestionale_clients');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.integer('position_id').notNullable().references('id').inTable('positions');
    t.integer('installment').notNullable();
    t.string('notice_number', 18).notNullable();
    t.text('return_url').notNullable();
    t.text('cancel_url').nullable();
    t.string('language', 2).nullable();
    t.string('payer_email', 256).nullable();
    // OPEN → STARTED (nonce used, citizen sent to pagoPA) → COMPLETED | CANCELLED | FAILED.
    t.string('status', 16).notNullable();
    t.string('expires_at', 32).notNullable();
    t.string('used_at', 32).nullable();
    t.text('checkout_url').nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.index(['ente_id', 'position_id']);
  });
}

// The operator portal (issue 8): its users (connector admins and ente operators), their sessions
// (server-side, so several connector instances share them), the failed-login counters that
// throttle guessing, and the spontaneous-payment form of each service that offers one.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('portal_users', (t) => {
    t.increments('id');
    t.string('username', 64).notNullable().unique();
    t.string('full_name', 255).notNullable();
    t.string('password_hash', 255).notNullable();
    // admin | operator; an operator acts only for ente_id.
    t.string('role', 16).notNullable();
    t.integer('ente_id').nullable().references('id').inTable('enti');
    // active | disabled
    t.string('status', 16).notNullable();
    t.string('created_at', 32).notNullable();
    t.string('last_login_at', 32).nullable();
  });
  await knex.schema.createTable('portal_sessions', (t) => {
    // SHA-256 of the cookie value: a database dump does not hand out live sessions.
    t.string('id_hash', 64).primary();
    // Null before login: the login form has its own session, so it carries a CSRF token too.
    t.integer('user_id').nullable().references('id').inTable('portal_users');
    t.string('csrf_token', 64).notNullable();
    t.string('created_at', 32).notNullable();
    t.string('expires_at', 32).notNullable();
    t.text('flash').nullable();
    t.index(['expires_at']);
  });
  await knex.schema.createTable('portal_login_failures', (t) => {
    // `user:<username>` or `ip:<address>`
    t.string('key', 160).primary();
    t.integer('failures').notNullable();
    t.string('window_started_at', 32).notNullable();
    t.string('locked_until', 32).nullable();
  });
  await knex.schema.createTable('spontaneous_forms', (t) => {
    t.integer('service_id').primary().references('id').inTable('services');
    t.string('title', 255).notNullable();
    t.text('instructions').nullable();
    // Fixed amount in cents, or null when the citizen enters it (between min and max).
    t.bigInteger('fixed_amount_cents').nullable();
    t.bigInteger('min_amount_cents').nullable();
    t.bigInteger('max_amount_cents').nullable();
    // JSON array of SpontaneousField (src/db/repositories/spontaneousForms.ts).
    t.text('fields').notNullable();
    t.boolean('enabled').notNullable();
    t.string('updated_at', 32).notNullable();
  });
}

// Model 1 (legacy stations) under the Asincrona model: the node sends the citizen back to the
// station's redirect URL with only `idDominio`, `idSession` and `esito`. node_session_id keeps the
// node's idSession for the RPT payment a session started, so GET /pay/rpt/return finds the session.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payment_sessions', (t) => {
    t.string('node_session_id', 128).nullable();
    t.index(['node_session_id'], 'payment_sessions_node_session_idx');
  });
}

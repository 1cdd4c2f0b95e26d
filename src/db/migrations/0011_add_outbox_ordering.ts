// Per-position order of callbacks (DESIGN §6, gestionale-callback.xsd "in order per position"): a
// message may belong to an ordered group (e.g. one position, for one client); group_seq numbers the
// group's messages in the order they were queued, and a worker only sends a group's earliest
// pending message. Ungrouped messages (NULL group_key) are independent.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.string('group_key', 128).nullable();
    t.integer('group_seq').nullable();
    // Two messages of one group never share a place in its order (NULLs, ungrouped rows, are distinct).
    t.unique(['target', 'group_key', 'group_seq'], { indexName: 'outbox_group_order_unique' });
  });
}

// Where a gestionale receives its callbacks (its SOAP endpoint implementing
// wsdl/gestionale-callback.wsdl) and which return URLs the redirect models may send citizens back
// to (DESIGN §9: return URLs are checked against the client's allow-list).

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('gestionale_clients', (t) => {
    t.text('callback_url').nullable();
    /** JSON array of URL prefixes (scheme + host [+ port] [+ path]) a return URL must start with. */
    t.text('return_url_prefixes').nullable();
  });
}

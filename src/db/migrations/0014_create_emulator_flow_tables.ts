// What the emulated PSPs reported and paid (src/emulator/settle.ts, pagopa-facts §7–8): the reporting
// flows they produced (one row per revision of a flow id, the XML kept whole), which collected
// payment line went into which flow (so settling is idempotent and a late receipt lands in a new
// flow), and the bank credits written to the treasury statements for each flow (so only what is
// still owed is credited later). Forward-only, like every migration.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('emulator_flows', (t) => {
    t.increments('id');
    t.string('flow_id', 35).notNullable();
    t.integer('revision').notNullable();
    t.string('psp_id', 35).notNullable();
    t.string('id_dominio', 35).notNullable();
    // The progressive of identificativoFlusso (<settlement date><idPSP>-<progressive>).
    t.integer('progressive').notNullable();
    t.string('flow_date_time', 32).notNullable();
    t.string('settlement_date', 10).notNullable();
    // The day whose payments the flow reports (Europe/Rome).
    t.string('operating_date', 10).notNullable();
    t.string('trn', 35).notNullable();
    t.integer('payment_count').notNullable();
    t.bigInteger('total_cents').notNullable();
    t.text('xml').notNullable();
    t.string('created_at', 32).notNullable();
    t.unique(['flow_id', 'revision']);
    t.unique(['psp_id', 'settlement_date', 'progressive', 'revision']);
    t.index(['id_dominio', 'psp_id']);
    t.index(['operating_date']);
  });
  await knex.schema.createTable('emulator_flow_payments', (t) => {
    t.increments('id');
    t.string('flow_id', 35).notNullable();
    // 'current': a receipt's transfer (payment_token = paymentToken, transfer_index = idTransfer);
    // 'legacy': an RT's datiSingoloPagamento (payment_token = CCP, transfer_index = its position).
    t.string('kind', 8).notNullable();
    t.string('id_dominio', 35).notNullable();
    t.string('iuv', 35).notNullable();
    t.string('payment_token', 35).notNullable();
    t.integer('transfer_index').notNullable();
    t.string('iur', 35).notNullable();
    // What the PSP collected for the line: the true amount, whatever a faulty flow reported.
    t.bigInteger('amount_cents').notNullable();
    t.string('payment_date', 10).notNullable();
    t.string('created_at', 32).notNullable();
    // A line is settled in exactly one flow.
    t.unique(['kind', 'id_dominio', 'iuv', 'payment_token', 'transfer_index']);
    t.index(['flow_id']);
  });
  await knex.schema.createTable('emulator_flow_credits', (t) => {
    t.increments('id');
    t.string('flow_id', 35).notNullable();
    t.string('id_dominio', 35).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.string('trn', 35).notNullable();
    t.string('remittance', 140).notNullable();
    t.string('statement_id', 35).notNullable();
    t.string('entry_ref', 35).notNullable();
    t.string('value_date', 10).notNullable();
    t.string('created_at', 32).notNullable();
    t.unique(['statement_id', 'entry_ref']);
    t.index(['flow_id']);
  });
}

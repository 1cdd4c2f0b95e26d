// Reconciliation (pagopa-facts §7–8): reporting flows received from the node, one row per revision
// and stored whole, with their lines; the treasury's bank statements and their entries (credits),
// deduplicated per ente across files; and the anomalies, typed records with a stable subject key.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reconciliation_flows', (t) => {
    t.increments('id');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.string('psp_id', 35).notNullable();
    t.string('flow_id', 35).notNullable();
    t.string('flow_date_time', 35).notNullable();
    // Only the latest revision of (ente, PSP, flow id) is matched; older ones are kept as received.
    t.boolean('is_latest').notNullable();
    t.string('version', 8).notNullable();
    t.string('trn', 35).notNullable();
    t.string('settlement_date', 10).notNullable();
    t.string('sender_id_type', 1).notNullable();
    t.string('sender_name', 140).nullable();
    t.string('bic', 35).nullable();
    t.string('receiver_id', 35).notNullable();
    t.string('receiver_name', 140).nullable();
    t.integer('payment_count').notNullable();
    t.bigInteger('total_amount_cents').notNullable();
    t.text('document').notNullable();
    t.string('sha256', 64).notNullable();
    t.string('status', 16).notNullable();
    // What the gestionale was last told (status + open anomalies), so a re-run never notifies twice.
    t.string('notified_state', 64).nullable();
    t.string('received_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.unique(['ente_id', 'psp_id', 'flow_id', 'flow_date_time']);
    t.index(['ente_id', 'flow_id']);
    t.index(['ente_id', 'is_latest', 'settlement_date']);
  });
  await knex.schema.createTable('reconciliation_flow_lines', (t) => {
    t.increments('id');
    t.integer('flow_row_id').notNullable().references('id').inTable('reconciliation_flows');
    t.integer('line_no').notNullable();
    t.string('iuv', 35).notNullable();
    t.string('iur', 35).notNullable();
    t.integer('transfer_index').nullable();
    t.bigInteger('amount_cents').notNullable();
    t.string('outcome_code', 2).notNullable();
    t.string('outcome_date', 10).notNullable();
    t.integer('receipt_row_id').nullable().references('id').inTable('receipts');
    t.integer('option_id').nullable().references('id').inTable('payment_options').onDelete('SET NULL');
    t.string('status', 16).notNullable();
    t.string('anomaly_code', 64).nullable();
    t.unique(['flow_row_id', 'line_no']);
    t.index(['option_id']);
    t.index(['iuv']);
  });
  await knex.schema.createTable('bank_statements', (t) => {
    t.increments('id');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.string('format', 16).notNullable();
    t.string('statement_id', 35).notNullable();
    t.string('file_name', 255).notNullable();
    t.string('sha256', 64).notNullable();
    t.string('account_iban', 34).notNullable();
    t.string('created_at', 35).notNullable();
    t.integer('entry_count').notNullable();
    t.integer('new_credit_count').notNullable();
    t.string('imported_at', 32).notNullable();
    t.unique(['ente_id', 'sha256']);
  });
  await knex.schema.createTable('bank_credits', (t) => {
    t.increments('id');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.integer('statement_row_id').notNullable().references('id').inTable('bank_statements');
    t.string('entry_ref', 64).notNullable();
    t.string('direction', 4).notNullable();
    t.bigInteger('amount_cents').notNullable();
    t.string('booking_date', 10).notNullable();
    t.string('value_date', 10).notNullable();
    t.string('trn', 35).nullable();
    t.string('end_to_end_id', 35).nullable();
    t.string('debtor_name', 140).nullable();
    t.string('remittance_information', 140).nullable();
    // The identificativoFlusso named by a pagoPA remittance (/PUR/LGPE-RIVERSAMENTO/URI/<id>).
    t.string('flow_id', 35).nullable();
    // The latest flow the credit settles, set by reconciliation; null = an unmatched credit.
    t.integer('matched_flow_row_id').nullable().references('id').inTable('reconciliation_flows');
    // The same credit in another file (camt.053 and CSV of one day) has the same key: stored once.
    t.string('dedup_key', 200).notNullable();
    t.string('imported_at', 32).notNullable();
    t.unique(['ente_id', 'dedup_key']);
    t.index(['ente_id', 'flow_id']);
    t.index(['ente_id', 'value_date']);
  });
  await knex.schema.createTable('reconciliation_anomalies', (t) => {
    t.increments('id');
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    t.string('code', 64).notNullable();
    t.string('subject_key', 255).notNullable();
    t.string('status', 16).notNullable();
    t.string('resolution', 16).nullable();
    t.text('note').nullable();
    t.string('detected_at', 32).notNullable();
    t.string('resolved_at', 32).nullable();
    t.text('description').nullable();
    t.string('flow_id', 35).nullable();
    t.string('psp_id', 35).nullable();
    t.string('iuv', 35).nullable();
    t.string('iur', 35).nullable();
    t.string('position_id', 64).nullable();
    t.string('notice_number', 18).nullable();
    t.bigInteger('amount_cents').nullable();
    t.bigInteger('expected_amount_cents').nullable();
    t.unique(['ente_id', 'code', 'subject_key']);
    t.index(['ente_id', 'status']);
    t.index(['ente_id', 'flow_id']);
  });
}

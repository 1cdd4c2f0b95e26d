// Tables of the drop-folder importer (issue 7, DESIGN §8): one row per claimed file with its state,
// owner and heartbeat (crash recovery, several instances), and one row per input line with what
// the import answered it, written in the transaction of the changes the line made.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('imports', (t) => {
    t.string('id', 40).primary();
    t.integer('ente_id').notNullable().references('id').inTable('enti');
    // The name the gestionale gave the file, and its name in processing/ once claimed.
    t.string('file_name', 255).notNullable();
    t.string('claimed_name', 300).nullable();
    t.string('sha256', 64).nullable();
    // The sha256 while the import counts (in progress or DONE), null once REJECTED: the unique
    // index makes the same content importable once per ente, a rejected file droppable again.
    t.string('content_key', 64).nullable();
    t.bigInteger('size').nullable();
    t.string('format', 32).nullable();
    t.string('flow_id', 64).nullable();
    // What the operator asked with `ppay import --file` (JSON), so a resumed import reads alike.
    t.text('options').nullable();
    t.string('status', 16).notNullable();
    // DONE or REJECTED, decided when the outcome starts being written.
    t.string('result', 16).nullable();
    t.string('owner', 128).notNullable();
    t.string('heartbeat_at', 32).notNullable();
    // Items (records and row errors, in file order) whose lines are committed.
    t.integer('next_item').notNullable().defaultTo(0);
    t.integer('item_count').nullable();
    t.integer('line_count').nullable();
    t.integer('ok_count').notNullable().defaultTo(0);
    t.integer('warn_count').notNullable().defaultTo(0);
    t.integer('ko_count').notNullable().defaultTo(0);
    t.string('error_code', 16).nullable();
    t.text('error_message').nullable();
    t.string('duplicate_of', 40).nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
    t.string('finished_at', 32).nullable();
    t.unique(['ente_id', 'claimed_name']);
    t.unique(['ente_id', 'content_key']);
    t.index(['ente_id', 'status']);
  });
  await knex.schema.createTable('import_lines', (t) => {
    t.string('import_id', 40).notNullable().references('id').inTable('imports');
    // The outcome file's row_no: CSV physical line (header = 1), XML item sequence.
    t.integer('row_no').notNullable();
    // 0-based place of the line's item in the file: the lines of one record share it.
    t.integer('item_no').notNullable();
    t.integer('service_id').nullable().references('id').inTable('services');
    t.string('position_id', 255).nullable();
    t.integer('installment_no').nullable();
    t.string('action', 8).nullable();
    t.string('outcome', 4).notNullable();
    t.string('error_code', 24).nullable();
    t.text('error_message').nullable();
    t.string('iuv', 35).nullable();
    t.string('notice_number', 18).nullable();
    t.bigInteger('amount_cents').nullable();
    t.string('due_date', 10).nullable();
    // XML inputs only: every option's numbers (JSON), for the debtPositionsOutcome document.
    t.text('notices').nullable();
    t.primary(['import_id', 'row_no']);
    t.index(['import_id', 'item_no']);
  });
}

// Where each ente's drop folder lives (issue 7 item 1, DESIGN §8): the local folders under the data
// folder (the default, also when an ente has no row) or a remote SFTP server the connector pulls
// from and pushes to. The private key stays in a file readable by the connector: only its path is
// stored. The server's host key fingerprint is required, so a connection never trusts a new key.

import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ente_drop_folders', (t) => {
    t.integer('ente_id').primary().references('id').inTable('enti');
    // local | sftp; the sftp columns are null for a local folder.
    t.string('kind', 8).notNullable();
    t.string('host', 255).nullable();
    t.integer('port').nullable();
    t.string('username', 128).nullable();
    t.string('private_key_file', 1024).nullable();
    // `SHA256:<base64>` as `ssh-keygen -l` prints it.
    t.string('host_fingerprint', 64).nullable();
    t.string('remote_root', 1024).nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
  });
}

// Each ente's drop-folder settings (table ente_drop_folders): local folders under the data folder,
// the default when an ente has no row, or a remote SFTP server. Only the private key's file path
// is stored, never the key.

import type { Db } from '../knex.ts';
import { mapForeignKeyViolation } from '../errors.ts';
import { isoNow, toInt, type Clock } from '../rows.ts';

export type DropFolderKind = 'local' | 'sftp';

export interface SftpDropFolderSettings {
  host: string;
  port: number;
  username: string;
  /** Absolute path of an unencrypted private key file, read when the connection is opened. */
  privateKeyFile: string;
  /** The server's host key fingerprint, `SHA256:<base64>`: any other key is refused. */
  hostFingerprint: string;
  /** The remote folder holding in/ processing/ done/ rejected/ out/. */
  root: string;
}

export type DropFolderSettingsInput = { kind: 'local' } | ({ kind: 'sftp' } & SftpDropFolderSettings);

export type EnteDropFolder = DropFolderSettingsInput & {
  enteId: number;
  createdAt: string;
  updatedAt: string;
};

interface EnteDropFolderRow {
  ente_id: number | string;
  kind: DropFolderKind;
  host: string | null;
  port: number | string | null;
  username: string | null;
  private_key_file: string | null;
  host_fingerprint: string | null;
  remote_root: string | null;
  created_at: string;
  updated_at: string;
}

function toEnteDropFolder(row: EnteDropFolderRow): EnteDropFolder {
  const stored = { enteId: toInt(row.ente_id), createdAt: row.created_at, updatedAt: row.updated_at };
  if (row.kind !== 'sftp') return { kind: 'local', ...stored };
  return {
    kind: 'sftp',
    host: row.host ?? '',
    port: toInt(row.port ?? 22),
    username: row.username ?? '',
    privateKeyFile: row.private_key_file ?? '',
    hostFingerprint: row.host_fingerprint ?? '',
    root: row.remote_root ?? '',
    ...stored,
  };
}

function columnsOf(settings: DropFolderSettingsInput) {
  if (settings.kind === 'local') {
    return {
      kind: 'local',
      host: null,
      port: null,
      username: null,
      private_key_file: null,
      host_fingerprint: null,
      remote_root: null,
    };
  }
  return {
    kind: 'sftp',
    host: settings.host,
    port: settings.port,
    username: settings.username,
    private_key_file: settings.privateKeyFile,
    host_fingerprint: settings.hostFingerprint,
    remote_root: settings.root,
  };
}

export function createEnteDropFoldersRepository(db: Db, clock: Clock) {
  const get = async (enteId: number): Promise<EnteDropFolder | null> => {
    const row = await db<EnteDropFolderRow>('ente_drop_folders').where({ ente_id: enteId }).first();
    return row ? toEnteDropFolder(row) : null;
  };

  return {
    /** The ente's stored settings; null when it has none (it uses its local folders). */
    get,

    /** Replaces the ente's settings (ENTE_UNKNOWN when there is no such ente). */
    async set(enteId: number, settings: DropFolderSettingsInput): Promise<EnteDropFolder> {
      const now = isoNow(clock);
      const columns = columnsOf(settings);
      await mapForeignKeyViolation('ENTE_UNKNOWN', { enteId }, () =>
        db('ente_drop_folders')
          .insert({ ente_id: enteId, ...columns, created_at: now, updated_at: now })
          .onConflict('ente_id')
          .merge({ ...columns, updated_at: now }),
      );
      const stored = await get(enteId);
      if (!stored) throw new Error(`drop-folder settings of ente ${enteId} vanished`);
      return stored;
    },
  };
}

export type EnteDropFoldersRepository = ReturnType<typeof createEnteDropFoldersRepository>;

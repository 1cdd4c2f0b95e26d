// The drop folder of an ente as its settings say (table ente_drop_folders, `ppay ente drop-folder`):
// its local folders under the data folder when it has none or `local` ones, else the remote SFTP
// server, the private key read from its file when the folder is opened. The importer, the nightly
// exports and the reconciliation export all get their folders here; a remote folder holds an SSH
// connection, so whoever opens one closes it after use.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { domainError, isDomainError } from '../domain/errors.ts';
import type { Store } from '../db/store.ts';
import type { EnteDropFolder } from '../db/repositories/enteDropFolders.ts';
import { dropFolderForEnte, type DropFolderSettings } from './dropFolder/forEnte.ts';
import type { CompletionSettings, DropFolder } from './dropFolder/port.ts';

/** The ente as the drop folder needs it (an `Ente` row fits). */
export interface EnteRef {
  id: number;
  fiscalCode: string;
}

async function enteRefOf(store: Store, ente: EnteRef | string): Promise<EnteRef> {
  if (typeof ente !== 'string') return ente;
  const found = await store.enti.getByFiscalCode(ente);
  if (!found) throw domainError('ENTE_UNKNOWN', `no ente ${ente}`, { enteFiscalCode: ente });
  return found;
}

async function privateKeyOf(ente: EnteRef, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException | null)?.code ?? String(err);
    throw domainError(
      'CONFIG_INVALID',
      `the drop folder of ente ${ente.fiscalCode} cannot be opened: its private key file ${file} is not readable (${why})`,
      { enteFiscalCode: ente.fiscalCode, privateKeyFile: file },
    );
  }
}

function settingsOf(
  stored: EnteDropFolder | null,
  privateKey: string | null,
  completion: Partial<CompletionSettings>,
): DropFolderSettings {
  if (stored?.kind !== 'sftp' || privateKey === null) return { kind: 'local', ...completion };
  return {
    kind: 'sftp',
    connection: {
      host: stored.host,
      port: stored.port,
      username: stored.username,
      privateKey,
      hostFingerprint: stored.hostFingerprint,
    },
    root: stored.root,
    ...completion,
  };
}

/** What dropFolderForEnte needs for the ente, as stored now (the private key read from its file). */
export async function dropFolderSettingsOf(
  store: Store,
  ente: EnteRef,
  completion: Partial<CompletionSettings> = {},
): Promise<DropFolderSettings> {
  const stored = await store.enteDropFolders.get(ente.id);
  const privateKey = stored?.kind === 'sftp' ? await privateKeyOf(ente, stored.privateKeyFile) : null;
  return settingsOf(stored, privateKey, completion);
}

/** The ente's drop folder (by fiscal code or row); the caller closes it after use. */
export async function openEnteDropFolder(
  store: Store,
  dataDir: string,
  ente: EnteRef | string,
  completion: Partial<CompletionSettings> = {},
): Promise<DropFolder> {
  const ref = await enteRefOf(store, ente);
  return dropFolderForEnte(dataDir, ref.fiscalCode, await dropFolderSettingsOf(store, ref, completion));
}

/** The ente's remote drop folder, or null when it uses its local folders. */
export async function openRemoteDropFolder(
  store: Store,
  dataDir: string,
  ente: EnteRef | string,
): Promise<DropFolder | null> {
  const ref = await enteRefOf(store, ente);
  const settings = await dropFolderSettingsOf(store, ref);
  return settings.kind === 'sftp' ? dropFolderForEnte(dataDir, ref.fiscalCode, settings) : null;
}

function fingerprintOf(settings: DropFolderSettings): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex');
}

/**
 * The drop folders of a long-lived importer: one per ente, kept from pass to pass (a folder
 * remembers the digests it computed), replaced once the ente's settings or key file change.
 * release() ends the SSH connections between passes; the folders reconnect when next used.
 */
export class EnteDropFolders {
  private readonly folders = new Map<number, { fingerprint: string; folder: DropFolder }>();

  constructor(
    private readonly store: Store,
    private readonly dataDir: string,
    private readonly completion: Partial<CompletionSettings> = {},
  ) {}

  async of(ente: EnteRef): Promise<DropFolder> {
    const settings = await dropFolderSettingsOf(this.store, ente, this.completion);
    const fingerprint = fingerprintOf(settings);
    const known = this.folders.get(ente.id);
    if (known?.fingerprint === fingerprint) return known.folder;
    if (known) await known.folder.close();
    const folder = dropFolderForEnte(this.dataDir, ente.fiscalCode, settings);
    this.folders.set(ente.id, { fingerprint, folder });
    return folder;
  }

  /** Ends every connection; the folders stay usable. */
  async release(): Promise<void> {
    for (const { folder } of this.folders.values()) await folder.close();
  }

  async close(): Promise<void> {
    await this.release();
    this.folders.clear();
  }
}

export interface DropFolderCheck {
  location: string;
  /** Names in in/ that the next import pass takes, rejects (bad sidecar) or leaves waiting. */
  ready: string[];
  invalid: string[];
  waiting: string[];
}

/**
 * Opens the ente's drop folder as an import pass would (`ppay ente drop-folder --check`): connects,
 * creates in/ processing/ done/ rejected/ out/ when missing and sorts what waits in in/. A folder
 * that cannot be used (no connection, a refused host key or login) is CONFIG_INVALID, with why.
 */
export async function checkEnteDropFolder(
  store: Store,
  dataDir: string,
  ente: EnteRef | string,
  completion: Partial<CompletionSettings> = {},
): Promise<DropFolderCheck> {
  const folder = await openEnteDropFolder(store, dataDir, ente, completion);
  try {
    await folder.ensureLayout();
    const incoming = await folder.listIncoming();
    return {
      location: folder.location,
      ready: incoming.ready.map((f) => f.name),
      invalid: incoming.invalid.map((f) => f.name),
      waiting: incoming.waiting.map((f) => f.name),
    };
  } catch (err) {
    if (isDomainError(err)) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw domainError('CONFIG_INVALID', `the drop folder ${folder.location} cannot be used: ${why}`, {
      location: folder.location,
    });
  } finally {
    await folder.close().catch(() => undefined);
  }
}

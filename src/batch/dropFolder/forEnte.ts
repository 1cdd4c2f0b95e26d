// Which drop folder an ente uses: by default local folders under the data folder
// (`<dataDir>/sftp/<ente fiscal code>/in|processing|done|rejected|out`, DESIGN §10), or a remote
// SFTP server, whose claimed files are copied to `<dataDir>/sftp/<ente fiscal code>/remote-work/`.

import path from 'node:path';
import { LocalDropFolder } from './local.ts';
import { assertPlainName } from './names.ts';
import type { CompletionSettings, DropFolder } from './port.ts';
import { RemoteSftpDropFolder, type SftpConnection } from './remoteSftp.ts';

export type DropFolderSettings =
  | ({ kind: 'local' } & Partial<CompletionSettings>)
  | ({ kind: 'sftp'; connection: SftpConnection; root: string } & Partial<CompletionSettings>);

export function enteFolder(dataDir: string, enteFiscalCode: string): string {
  assertPlainName(enteFiscalCode);
  return path.join(dataDir, 'sftp', enteFiscalCode);
}

export function dropFolderForEnte(
  dataDir: string,
  enteFiscalCode: string,
  settings: DropFolderSettings = { kind: 'local' },
): DropFolder {
  const folder = enteFolder(dataDir, enteFiscalCode);
  const completion = { settleMs: settings.settleMs, requireSidecar: settings.requireSidecar };
  if (settings.kind === 'local') return new LocalDropFolder({ root: folder, ...completion });
  return new RemoteSftpDropFolder({
    connection: settings.connection,
    root: settings.root,
    workDir: path.join(folder, 'remote-work'),
    ...completion,
  });
}

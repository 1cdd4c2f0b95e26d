// Operator use case behind `ppay ente drop-folder`: where an ente's drop folder lives (DESIGN §8),
// its local folders under the data folder (the default) or a remote SFTP server the connector pulls
// files from and pushes outcomes and exports to. Settings are checked before they are stored: the
// host key fingerprint is required (no trust on first use), the private key must be a readable,
// unencrypted key file, whose path only is stored.

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { domainError } from '../domain/errors.ts';
import type { Store } from '../db/store.ts';
import type {
  DropFolderKind,
  DropFolderSettingsInput,
  EnteDropFolder,
  SftpDropFolderSettings,
} from '../db/repositories/enteDropFolders.ts';
import { requireEnte } from './positions.ts';

export const DEFAULT_SFTP_PORT = 22;
/** A private key file is a few KB; anything much larger is not one. */
const MAX_KEY_FILE_BYTES = 64 * 1024;
const HOST = /^[A-Za-z0-9_.:-]{1,255}$/;
const USERNAME = /^[^\s/:@][^\s/:]{0,127}$/;
/** `SHA256:` and 43 base64 characters (32 bytes, padding dropped), as `ssh-keygen -l` prints it. */
const FINGERPRINT = /^SHA256:([A-Za-z0-9+/]{43})=?$/;

/** What the operator gives; strings as typed on the command line. */
export interface SftpDropFolderInput {
  host?: string | undefined;
  port?: string | number | undefined;
  username?: string | undefined;
  /** Path of the private key file, resolved against the current folder and stored absolute. */
  keyFile?: string | undefined;
  hostFingerprint?: string | undefined;
  root?: string | undefined;
}

export type SetDropFolderInput =
  { ente: string; kind: 'local' } | ({ ente: string; kind: 'sftp' } & SftpDropFolderInput);

export interface DropFolderView {
  enteFiscalCode: string;
  kind: DropFolderKind;
  /** The local folder, or `sftp://user@host:port/root`. */
  location: string;
  /** False when the ente has no stored settings and uses its local folders by default. */
  configured: boolean;
  sftp: SftpDropFolderSettings | null;
  updatedAt: string | null;
}

function invalid(field: string, message: string): never {
  throw domainError('INVALID_INPUT', message, { field });
}

function required(value: string | undefined, field: string, what: string): string {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') invalid(field, `an SFTP drop folder needs ${what}`);
  return trimmed;
}

export function parseSftpHost(value: string | undefined): string {
  const host = required(value, 'host', 'the server host (--host)');
  if (!HOST.test(host) || host.startsWith('-')) invalid('host', `not a host name or IP address: ${host}`);
  return host;
}

export function parseSftpPort(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_SFTP_PORT;
  const text = String(value).trim();
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535))
    invalid('port', `the port must be a number from 1 to 65535, not ${text}`);
  return port;
}

export function parseSftpUsername(value: string | undefined): string {
  const username = required(value, 'username', 'the login user name (--user)');
  if (!USERNAME.test(username)) invalid('username', `not a usable SFTP user name: ${username}`);
  return username;
}

/** The fingerprint as OpenSSH prints it; INVALID_INPUT when missing or not a SHA-256 fingerprint. */
export function parseHostFingerprint(value: string | undefined): string {
  const text = required(
    value,
    'hostFingerprint',
    "the server's host key fingerprint (--host-fingerprint SHA256:…, e.g. from `ssh-keyscan -p <port> <host> | ssh-keygen -lf -`)",
  );
  const match = FINGERPRINT.exec(text);
  if (!match) {
    invalid('hostFingerprint', `a host key fingerprint is SHA256: and 43 base64 characters, not ${text}`);
  }
  return `SHA256:${match[1]}`;
}

export function parseRemoteRoot(value: string | undefined): string {
  const root = required(value, 'root', 'the remote folder holding in/ and out/ (--root)');
  if (root.length > 1024 || /[\0\r\n]/.test(root)) invalid('root', 'not a usable remote folder');
  return root;
}

function base64Body(pem: string, label: string): Buffer {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const from = pem.indexOf(begin) + begin.length;
  const to = pem.indexOf(end, from);
  return Buffer.from(pem.slice(from, to < 0 ? undefined : to).replace(/\s+/g, ''), 'base64');
}

/** The cipher of an OpenSSH private key (`none` when unencrypted); null when the body is not one. */
function openSshCipher(body: Buffer): string | null {
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');
  if (body.length < magic.length + 4 || !body.subarray(0, magic.length).equals(magic)) return null;
  const length = body.readUInt32BE(magic.length);
  const start = magic.length + 4;
  if (length > 64 || start + length > body.length) return null;
  return body.subarray(start, start + length).toString('latin1');
}

/** Why a key file's text cannot be used by the connector; null when it is an unencrypted private key. */
export function privateKeyProblem(text: string): string | null {
  const encrypted =
    'it is protected by a passphrase: the connector needs an unencrypted key file, readable only by its user';
  if (text.includes('-----BEGIN OPENSSH PRIVATE KEY-----')) {
    const cipher = openSshCipher(base64Body(text, 'OPENSSH PRIVATE KEY'));
    if (cipher === null) return 'its OpenSSH private key block is damaged';
    return cipher === 'none' ? null : encrypted;
  }
  if (text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) return encrypted;
  if (/-----BEGIN (?:RSA |EC |DSA )?PRIVATE KEY-----/.test(text)) {
    return /Proc-Type:\s*4,ENCRYPTED/.test(text) ? encrypted : null;
  }
  if (/^(?:ssh-|ecdsa-)\S+ [A-Za-z0-9+/=]+/.test(text.trim())) {
    return 'it is a public key: give the private half (the file without .pub)';
  }
  return 'it is not a private key in OpenSSH or PEM format';
}

function readFailure(file: string, err: unknown): never {
  const why = (err as NodeJS.ErrnoException | null)?.code ?? String(err);
  return invalid('keyFile', `cannot read the private key file ${file}: ${why}`);
}

async function readKeyFile(file: string): Promise<string> {
  const info = await stat(file).catch((err: unknown) => readFailure(file, err));
  if (!info.isFile()) invalid('keyFile', `${file} is not a file`);
  if (info.size > MAX_KEY_FILE_BYTES) invalid('keyFile', `${file} is too large to be a private key`);
  return readFile(file, 'utf8').catch((err: unknown) => readFailure(file, err));
}

/** The key file's absolute path, once it is found readable and holding a usable private key. */
export async function checkPrivateKeyFile(value: string | undefined, cwd = process.cwd()): Promise<string> {
  const file = path.resolve(cwd, required(value, 'keyFile', 'the private key file (--key-file)'));
  const problem = privateKeyProblem(await readKeyFile(file));
  if (problem) invalid('keyFile', `${file} cannot be used: ${problem}`);
  return file;
}

/** Every SFTP setting checked (the key file read), in the shape the repository stores. */
export async function parseSftpSettings(
  input: SftpDropFolderInput,
  cwd = process.cwd(),
): Promise<SftpDropFolderSettings> {
  return {
    host: parseSftpHost(input.host),
    port: parseSftpPort(input.port),
    username: parseSftpUsername(input.username),
    privateKeyFile: await checkPrivateKeyFile(input.keyFile, cwd),
    hostFingerprint: parseHostFingerprint(input.hostFingerprint),
    root: parseRemoteRoot(input.root),
  };
}

/** `sftp://user@host:port/root`, as RemoteSftpDropFolder names itself. */
export function sftpLocation(settings: SftpDropFolderSettings): string {
  const root = settings.root.startsWith('/') ? settings.root : `/${settings.root}`;
  return `sftp://${settings.username}@${settings.host}:${settings.port}${root}`;
}

function sftpOf(stored: EnteDropFolder): SftpDropFolderSettings | null {
  if (stored.kind !== 'sftp') return null;
  const { host, port, username, privateKeyFile, hostFingerprint, root } = stored;
  return { host, port, username, privateKeyFile, hostFingerprint, root };
}

function viewOf(enteFiscalCode: string, dataDir: string, stored: EnteDropFolder | null): DropFolderView {
  const sftp = stored ? sftpOf(stored) : null;
  return {
    enteFiscalCode,
    kind: sftp ? 'sftp' : 'local',
    location: sftp ? sftpLocation(sftp) : path.resolve(dataDir, 'sftp', enteFiscalCode),
    configured: stored !== null,
    sftp,
    updatedAt: stored?.updatedAt ?? null,
  };
}

/** The ente's drop-folder settings (`dataDir` places the local folders). */
export async function showDropFolder(
  store: Store,
  enteFiscalCode: string,
  dataDir: string,
): Promise<DropFolderView> {
  const ente = await requireEnte(store, enteFiscalCode);
  return viewOf(ente.fiscalCode, dataDir, await store.enteDropFolders.get(ente.id));
}

/** Checks and stores where the ente's drop folder lives; the next import pass and export use it. */
export async function setDropFolder(
  store: Store,
  input: SetDropFolderInput,
  dataDir: string,
  cwd = process.cwd(),
): Promise<DropFolderView> {
  const ente = await requireEnte(store, input.ente);
  const settings: DropFolderSettingsInput =
    input.kind === 'local' ? { kind: 'local' } : { kind: 'sftp', ...(await parseSftpSettings(input, cwd)) };
  const stored = await store.enteDropFolders.set(ente.id, settings);
  return viewOf(ente.fiscalCode, dataDir, stored);
}

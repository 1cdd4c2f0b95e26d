// The checks `ppay ente drop-folder --sftp` makes before storing anything (src/app/dropFolders.ts):
// host key fingerprints as OpenSSH prints them, ports, and which key files the connector can use.

import { expect } from 'chai';
import { expectDomainError } from '../../support/expectDomainError.ts';
import {
  parseHostFingerprint,
  parseSftpHost,
  parseSftpPort,
  privateKeyProblem,
  sftpLocation,
} from '../../../src/app/dropFolders.ts';

const FINGERPRINT = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';

/** An OpenSSH private key block whose header names `cipher` (the rest of the key is not read). */
function openSshKey(cipher: string): string {
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(cipher.length);
  const body = Buffer.concat([magic, length, Buffer.from(cipher, 'latin1'), Buffer.alloc(64, 1)]);
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

describe('drop-folder settings', () => {
  it('takes a SHA-256 host key fingerprint, with or without its base64 padding', () => {
    expect(parseHostFingerprint(FINGERPRINT)).to.equal(FINGERPRINT);
    expect(parseHostFingerprint(` ${FINGERPRINT}= `)).to.equal(FINGERPRINT);
  });

  it('refuses a missing fingerprint, an MD5 one or a truncated one', () => {
    for (const value of [undefined, '', 'MD5:16:27:ac:a5:76:28:2d:36', FINGERPRINT.slice(0, -2)]) {
      expectDomainError(() => parseHostFingerprint(value), 'INVALID_INPUT', { field: 'hostFingerprint' });
    }
  });

  it('defaults the port to 22 and refuses ports outside 1-65535', () => {
    expect(parseSftpPort(undefined)).to.equal(22);
    expect(parseSftpPort('2222')).to.equal(2222);
    for (const value of ['0', '65536', '-1', '22.5', 'ssh', '']) {
      expectDomainError(() => parseSftpPort(value), 'INVALID_INPUT', { field: 'port' });
    }
  });

  it('refuses a host with spaces or starting like an option', () => {
    expect(parseSftpHost('sftp.example.org')).to.equal('sftp.example.org');
    for (const value of ['two words', '-oProxyCommand=x', '']) {
      expectDomainError(() => parseSftpHost(value), 'INVALID_INPUT', { field: 'host' });
    }
  });

  it('accepts unencrypted OpenSSH and PEM private keys only', () => {
    expect(privateKeyProblem(openSshKey('none'))).to.equal(null);
    expect(
      privateKeyProblem('-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n'),
    ).to.equal(null);
    expect(privateKeyProblem(openSshKey('aes256-ctr'))).to.match(/passphrase/);
    expect(
      privateKeyProblem(
        '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMIIE\n-----END RSA PRIVATE KEY-----\n',
      ),
    ).to.match(/passphrase/);
    expect(
      privateKeyProblem('-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n-----END ENCRYPTED PRIVATE KEY-----'),
    ).to.be.a('string');
    expect(privateKeyProblem('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI ppay')).to.match(/public key/);
    expect(
      privateKeyProblem(
        '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----',
      ),
    ).to.match(/damaged/);
    expect(privateKeyProblem('hello')).to.be.a('string');
  });

  it('names a remote folder as sftp://user@host:port/root', () => {
    const settings = { username: 'ppay', port: 2222, privateKeyFile: '/k', hostFingerprint: FINGERPRINT };
    expect(sftpLocation({ ...settings, host: 'sftp.example.org', root: '/srv/ppay' })).to.equal(
      'sftp://ppay@sftp.example.org:2222/srv/ppay',
    );
    expect(sftpLocation({ ...settings, host: '10.0.0.7', root: 'drop' })).to.equal(
      'sftp://ppay@10.0.0.7:2222/drop',
    );
  });
});

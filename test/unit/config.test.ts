import path from 'node:path';
import { expect } from 'chai';
import { loadConfig, DEVELOPMENT_SECRET } from '../../src/config.ts';
import { isDomainError } from '../../src/domain/errors.ts';

const KEYS = path.resolve('fixtures/keys');
const SIGNER_KEY = path.join(KEYS, 'export-signer.key.pem');
const SIGNER_CERT = path.join(KEYS, 'export-signer.cert.pem');
const UNRELATED_CERT = path.join(KEYS, 'unrelated.cert.pem');

function failure(env: Record<string, string>): { variables: unknown; message: string } {
  try {
    loadConfig(env);
  } catch (err) {
    if (isDomainError(err, 'CONFIG_INVALID'))
      return { variables: err.details.variables, message: err.message };
    throw err;
  }
  throw new Error('configuration was accepted');
}

describe('configuration', () => {
  it('defaults to development on SQLite under ./data with the emulator on', () => {
    const config = loadConfig({});
    expect(config).to.include({ env: 'development', port: 8080, host: '127.0.0.1', emulator: true });
    expect(config.dataDir).to.equal(path.resolve('data'));
    expect(config.databaseUrl).to.equal(`sqlite:${path.resolve('data', 'ppay.sqlite')}`);
    expect(config.secret).to.equal(DEVELOPMENT_SECRET);
    expect(Object.isFrozen(config)).to.equal(true);
  });

  it('puts the default SQLite file inside PPAY_DATA_DIR', () => {
    const config = loadConfig({ PPAY_DATA_DIR: '/tmp/ppay-x' });
    expect(config.databaseUrl).to.equal('sqlite:/tmp/ppay-x/ppay.sqlite');
  });

  it('accepts PORT=0 and a PostgreSQL URL', () => {
    const config = loadConfig({ PORT: '0', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' });
    expect(config.port).to.equal(0);
    expect(config.databaseUrl).to.equal('postgres://postgres@127.0.0.1:5432/test');
  });

  it('names DATABASE_URL when its scheme is unknown', () => {
    const f = failure({ DATABASE_URL: 'mysql://root@localhost/test' });
    expect(f.variables).to.deep.equal(['DATABASE_URL']);
    expect(f.message).to.contain('DATABASE_URL');
  });

  it('names PPAY_SECRET when production has none', () => {
    const f = failure({ PPAY_ENV: 'production' });
    expect(f.variables).to.deep.equal(['PPAY_SECRET']);
    expect(f.message).to.contain('PPAY_SECRET');
  });

  it('refuses a short secret, a bad port and the emulator in production, naming each variable', () => {
    expect(failure({ PPAY_SECRET: 'short' }).variables).to.deep.equal(['PPAY_SECRET']);
    expect(failure({ PORT: '70000' }).variables).to.deep.equal(['PORT']);
    expect(failure({ PORT: 'eighty' }).variables).to.deep.equal(['PORT']);
    const secret = 's'.repeat(40);
    const node = 'https://node.example/nodo';
    expect(
      failure({ PPAY_ENV: 'production', PPAY_SECRET: secret, PPAY_NODE_URL: node, PPAY_EMULATOR: 'true' })
        .variables,
    ).to.deep.equal(['PPAY_EMULATOR']);
    expect(failure({ PPAY_ENV: 'production', PPAY_SECRET: secret }).variables).to.deep.equal([
      'PPAY_NODE_URL',
    ]);
  });

  it('reports every bad variable at once', () => {
    const f = failure({ PPAY_ENV: 'staging', PORT: '-1', DATABASE_URL: 'oracle:x' });
    expect(f.variables).to.have.members(['PPAY_ENV', 'PORT', 'DATABASE_URL']);
  });

  it('turns the emulator off by default in production and treats empty variables as unset', () => {
    const config = loadConfig({
      PPAY_ENV: 'production',
      PPAY_SECRET: 's'.repeat(40),
      PPAY_NODE_URL: 'https://node.example/nodo/',
      PORT: '',
    });
    expect(config).to.include({
      env: 'production',
      emulator: false,
      port: 8080,
      nodeUrl: 'https://node.example/nodo',
    });
  });

  it('reads the reconciliation tolerances (3 and 2 days by default) and names a bad one', () => {
    expect(loadConfig({})).to.include({ receiptFlowDays: 3, flowCreditDays: 2 });
    expect(loadConfig({ PPAY_RECEIPT_FLOW_DAYS: '5', PPAY_FLOW_CREDIT_DAYS: '0' })).to.include({
      receiptFlowDays: 5,
      flowCreditDays: 0,
    });
    expect(failure({ PPAY_RECEIPT_FLOW_DAYS: 'x', PPAY_FLOW_CREDIT_DAYS: '-1' }).variables).to.have.members([
      'PPAY_RECEIPT_FLOW_DAYS',
      'PPAY_FLOW_CREDIT_DAYS',
    ]);
  });

  it('reads the export signing pair when both files are set, and leaves exports unsigned when neither is', () => {
    expect(loadConfig({}).exportSigning).to.equal(undefined);
    const signing = loadConfig({
      PPAY_EXPORT_SIGNING_KEY: SIGNER_KEY,
      PPAY_EXPORT_SIGNING_CERT: SIGNER_CERT,
    }).exportSigning;
    expect(signing?.privateKeyPem).to.contain('-----BEGIN PRIVATE KEY-----');
    expect(signing?.certificatePem).to.contain('-----BEGIN CERTIFICATE-----');
  });

  it('names the export signing variable that is missing, unreadable, not PEM or not matching', () => {
    expect(failure({ PPAY_EXPORT_SIGNING_KEY: SIGNER_KEY }).variables).to.deep.equal([
      'PPAY_EXPORT_SIGNING_CERT',
    ]);
    expect(failure({ PPAY_EXPORT_SIGNING_CERT: SIGNER_CERT }).variables).to.deep.equal([
      'PPAY_EXPORT_SIGNING_KEY',
    ]);
    const missing = failure({
      PPAY_EXPORT_SIGNING_KEY: path.join(KEYS, 'nope.pem'),
      PPAY_EXPORT_SIGNING_CERT: SIGNER_CERT,
    });
    expect(missing.variables).to.deep.equal(['PPAY_EXPORT_SIGNING_KEY']);
    expect(missing.message).to.contain('ENOENT');
    expect(
      failure({ PPAY_EXPORT_SIGNING_KEY: SIGNER_CERT, PPAY_EXPORT_SIGNING_CERT: SIGNER_CERT }).variables,
    ).to.deep.equal(['PPAY_EXPORT_SIGNING_KEY']);
    expect(
      failure({ PPAY_EXPORT_SIGNING_KEY: SIGNER_KEY, PPAY_EXPORT_SIGNING_CERT: SIGNER_KEY }).variables,
    ).to.deep.equal(['PPAY_EXPORT_SIGNING_CERT']);
    expect(
      failure({ PPAY_EXPORT_SIGNING_KEY: SIGNER_KEY, PPAY_EXPORT_SIGNING_CERT: UNRELATED_CERT }).variables,
    ).to.deep.equal(['PPAY_EXPORT_SIGNING_KEY', 'PPAY_EXPORT_SIGNING_CERT']);
  });

  it('reads the certificate XML inputs must be signed by, unset by default', () => {
    expect(loadConfig({}).importTrustedCertificatePem).to.equal(undefined);
    const pem = loadConfig({ PPAY_IMPORT_TRUSTED_CERT: SIGNER_CERT }).importTrustedCertificatePem;
    expect(pem).to.contain('-----BEGIN CERTIFICATE-----');
  });

  it('refuses an unreadable or non-certificate PPAY_IMPORT_TRUSTED_CERT at start-up', () => {
    const missing = failure({ PPAY_IMPORT_TRUSTED_CERT: path.join(KEYS, 'nope.pem') });
    expect(missing.variables).to.deep.equal(['PPAY_IMPORT_TRUSTED_CERT']);
    expect(missing.message).to.contain('ENOENT');
    const key = failure({ PPAY_IMPORT_TRUSTED_CERT: SIGNER_KEY });
    expect(key.variables).to.deep.equal(['PPAY_IMPORT_TRUSTED_CERT']);
    expect(key.message).to.contain('is not a PEM X.509 certificate');
  });
});

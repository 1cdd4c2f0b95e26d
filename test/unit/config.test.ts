import path from 'node:path';
import { expect } from 'chai';
import { loadConfig, DEVELOPMENT_SECRET } from '../../src/config.ts';
import { isDomainError } from '../../src/domain/errors.ts';

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
});

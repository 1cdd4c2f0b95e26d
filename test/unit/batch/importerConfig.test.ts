// The importer's settings in the configuration: their defaults, and the values start-up refuses.

import { expect } from 'chai';
import { loadConfig } from '../../../src/config.ts';
import { isDomainError } from '../../../src/domain/errors.ts';

function refusal(env: Record<string, string>): unknown {
  try {
    loadConfig(env);
    return null;
  } catch (err) {
    return err;
  }
}

describe('importer configuration', () => {
  it('polls every 30 s, takes files settled for a minute, 500 lines per transaction, a 60 s lease', () => {
    const config = loadConfig({});
    expect([
      config.importPollMs,
      config.importSettleMs,
      config.importRequireSidecar,
      config.importBatchRows,
      config.importLeaseMs,
    ]).to.deep.equal([30_000, 60_000, false, 500, 60_000]);
  });

  it('reads the PPAY_IMPORT_* variables, 0 turning the importer of `ppay start` off', () => {
    const config = loadConfig({
      PPAY_IMPORT_POLL_MS: '0',
      PPAY_IMPORT_SETTLE_MS: '5000',
      PPAY_IMPORT_REQUIRE_SIDECAR: 'true',
      PPAY_IMPORT_BATCH_ROWS: '200',
      PPAY_IMPORT_LEASE_MS: '120000',
    });
    expect([
      config.importPollMs,
      config.importSettleMs,
      config.importRequireSidecar,
      config.importBatchRows,
      config.importLeaseMs,
    ]).to.deep.equal([0, 5000, true, 200, 120_000]);
  });

  for (const [variable, value] of [
    ['PPAY_IMPORT_POLL_MS', '-1'],
    ['PPAY_IMPORT_BATCH_ROWS', '0'],
    ['PPAY_IMPORT_BATCH_ROWS', '5001'],
    ['PPAY_IMPORT_LEASE_MS', '999'],
    ['PPAY_IMPORT_REQUIRE_SIDECAR', 'maybe'],
  ] as const) {
    it(`stops start-up on ${variable}=${value}, naming the variable`, () => {
      const error = refusal({ [variable]: value });
      expect(isDomainError(error, 'CONFIG_INVALID')).to.equal(true);
      expect((error as { details: { variables: string[] } }).details.variables).to.deep.equal([variable]);
    });
  }
});

// Drop-folder file names: plain names only, which names are inputs, and claimed names that carry
// the original name and the claim time.

import { expect } from 'chai';
import {
  assertInputName,
  assertPlainName,
  claimedNameOf,
  isInputName,
  newClaimId,
  parseClaimedName,
} from '../../../../src/batch/dropFolder/names.ts';
import { expectDomainError } from '../../../support/expectDomainError.ts';

describe('drop-folder names', () => {
  it('refuses names that are not a single plain path segment', () => {
    for (const name of ['', '.', '..', '../etc/passwd', 'a/b', 'a\\b', 'a\0b', 'x'.repeat(256)]) {
      expectDomainError(() => assertPlainName(name), 'INVALID_INPUT');
    }
    expect(() => assertPlainName('01234567897_FLOW1_ppay-1.csv')).to.not.throw();
  });

  it('counts sidecars, uploads in progress and dot files out of the inputs', () => {
    expect(isInputName('a.csv')).to.equal(true);
    // MyPay's `<base>.md5` is the sidecar of `<base>.zip`: never an input of its own.
    for (const name of ['a.csv.sha256', 'C_A001-IUF1-1_3.md5', 'a.csv.part', 'a.csv.filepart', '.a.csv']) {
      expect(isInputName(name), name).to.equal(false);
      expectDomainError(() => assertInputName(name), 'INVALID_INPUT');
    }
  });

  it('builds claimed names that give back the original name and the claim time', () => {
    const at = new Date('2030-01-31T02:03:04.567Z');
    const claimId = newClaimId(at);
    expect(claimId).to.match(/^20300131T020304567Z-[0-9a-f]{8}$/);
    const claimed = claimedNameOf(claimId, 'ENTE_flow.v2.csv');
    expect(parseClaimedName(claimed)).to.deep.equal({ claimId, claimedAt: at, name: 'ENTE_flow.v2.csv' });
  });

  it('gives unique claim ids for the same instant', () => {
    const at = new Date();
    expect(newClaimId(at)).to.not.equal(newClaimId(at));
  });

  it('does not read sidecars or foreign files in processing/ as claims', () => {
    const claimId = newClaimId(new Date());
    expect(parseClaimedName(`${claimId}.a.csv.sha256`)).to.equal(null);
    expect(parseClaimedName('a.csv')).to.equal(null);
    expect(parseClaimedName('20300131T020304567Z.a.csv')).to.equal(null);
  });
});

// The `.sha256` sidecar formats a gestionale may produce (sha256sum text and binary mode, a bare
// digest, the BSD/OpenSSL tag form) and the re-check a claim makes on what it actually took.

import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { claimIntegrity, parseSidecar } from '../../../../src/batch/dropFolder/completion.ts';

const DIGEST = createHash('sha256').update('content').digest('hex');
const NAME = '01234567897_FLOW1_ppay-1.csv';

describe('parseSidecar', () => {
  it('reads a bare digest, with or without a newline', () => {
    expect(parseSidecar(DIGEST, NAME)).to.deep.equal({ sha256: DIGEST });
    expect(parseSidecar(`${DIGEST}\n`, NAME)).to.deep.equal({ sha256: DIGEST });
  });

  it('reads sha256sum text mode (two spaces) and binary mode (space, star)', () => {
    expect(parseSidecar(`${DIGEST}  ${NAME}\n`, NAME)).to.deep.equal({ sha256: DIGEST });
    expect(parseSidecar(`${DIGEST} *${NAME}\n`, NAME)).to.deep.equal({ sha256: DIGEST });
  });

  it('accepts an upper-case digest, CRLF, a BOM and a path before the name', () => {
    const text = `\uFEFF${DIGEST.toUpperCase()}  /home/gestionale/export/${NAME}\r\n`;
    expect(parseSidecar(text, NAME)).to.deep.equal({ sha256: DIGEST });
  });

  it('reads the BSD and OpenSSL tag forms', () => {
    expect(parseSidecar(`SHA256 (${NAME}) = ${DIGEST}\n`, NAME)).to.deep.equal({ sha256: DIGEST });
    expect(parseSidecar(`SHA2-256(${NAME})= ${DIGEST}\n`, NAME)).to.deep.equal({ sha256: DIGEST });
  });

  it('picks the line naming the file from a multi-file sha256sum output', () => {
    const other = createHash('sha256').update('other').digest('hex');
    const text = `${other}  other.csv\n${DIGEST}  ${NAME}\n`;
    expect(parseSidecar(text, NAME)).to.deep.equal({ sha256: DIGEST });
  });

  it('refuses a sidecar that names another file', () => {
    const reading = parseSidecar(`${DIGEST}  other.csv\n`, NAME);
    expect(reading).to.have.property('problem').that.includes('other.csv');
  });

  it('refuses an empty sidecar, a short digest and an MD5', () => {
    expect(parseSidecar('\n\n', NAME)).to.have.property('problem');
    expect(parseSidecar(DIGEST.slice(0, 63), NAME)).to.have.property('problem');
    expect(parseSidecar('9a0364b9e99bb480dd25e1f0284c8555  x.csv', NAME)).to.have.property('problem');
  });

  it('refuses two different digests for the same file', () => {
    const other = createHash('sha256').update('other').digest('hex');
    expect(parseSidecar(`${DIGEST}  ${NAME}\n${other}  ${NAME}\n`, NAME)).to.have.property('problem');
  });
});

describe('claimIntegrity', () => {
  it('has no problem without a sidecar or with a matching one', () => {
    expect(claimIntegrity(null, NAME, DIGEST)).to.deep.equal({ expectedSha256: null, sidecarProblem: null });
    expect(claimIntegrity(`${DIGEST}  ${NAME}`, NAME, DIGEST)).to.deep.equal({
      expectedSha256: DIGEST,
      sidecarProblem: null,
    });
  });

  it('reports a mismatch with both digests, and an unreadable sidecar', () => {
    const actual = createHash('sha256').update('changed').digest('hex');
    const mismatch = claimIntegrity(DIGEST, NAME, actual);
    expect(mismatch.expectedSha256).to.equal(DIGEST);
    expect(mismatch.sidecarProblem).to.include(DIGEST).and.include(actual);
    expect(claimIntegrity('not a digest', NAME, actual).sidecarProblem).to.be.a('string');
  });
});

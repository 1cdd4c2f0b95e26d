import { expect } from 'chai';
import { buildRfReference, isRfReference, parseRfReference } from '../../src/domain/rfReference.ts';
import { expectDomainError } from '../support/expectDomainError.ts';

describe('rfReference', () => {
  describe('buildRfReference', () => {
    it('builds the ISO 11649 example RF18539007547034 from 539007547034', () => {
      expect(buildRfReference('539007547034')).to.equal('RF18539007547034');
    });

    it('builds other published examples with letters in the reference', () => {
      expect(buildRfReference('2348231')).to.equal('RF712348231');
      expect(buildRfReference('G72UUR')).to.equal('RF45G72UUR');
    });

    it('accepts the printed form, grouped by four and in lower case', () => {
      expect(buildRfReference('5390 0754 7034')).to.equal('RF18539007547034');
      expect(buildRfReference('g72uur')).to.equal('RF45G72UUR');
    });

    it('pads check digits below 10 with a leading zero', () => {
      expect(buildRfReference('36')).to.equal('RF0236');
      expect(buildRfReference('000000000000000000000')).to.equal('RF04000000000000000000000');
    });

    it('accepts references of 1 and 21 characters', () => {
      expect(buildRfReference('1')).to.equal('RF741');
      expect(buildRfReference('ABCDEFGHIJKLMNOPQRSTU')).to.equal('RF95ABCDEFGHIJKLMNOPQRSTU');
    });

    it('keeps leading zeros, which are significant in a reference', () => {
      expect(buildRfReference('000000000539007547034')).to.equal('RF18000000000539007547034');
      expect(buildRfReference('01000000001234519')).to.equal('RF5001000000001234519');
    });

    it('rejects an empty reference, one over 21 characters or with symbols with INVALID_RF_REFERENCE', () => {
      for (const reference of ['', '   ', '0000000000000000000001', '5390-0754', 'ÀBC', 'ABC_1']) {
        expectDomainError(() => buildRfReference(reference), 'INVALID_RF_REFERENCE', { reason: 'format' });
      }
    });

    it('produces references that parse back for every reference length', () => {
      const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
      for (let length = 1; length <= 21; length++) {
        for (let shift = 0; shift < alphabet.length; shift++) {
          let reference = '';
          for (let i = 0; i < length; i++) reference += alphabet.charAt((shift + i * 7) % alphabet.length);
          const rf = buildRfReference(reference);
          expect(parseRfReference(rf)).to.equal(rf);
          expect(rf.slice(4)).to.equal(reference);
        }
      }
    });
  });

  describe('parseRfReference', () => {
    it('accepts the ISO example and returns it unchanged', () => {
      expect(parseRfReference('RF18539007547034')).to.equal('RF18539007547034');
    });

    it('accepts the printed form and returns the electronic one', () => {
      expect(parseRfReference('RF18 5390 0754 7034')).to.equal('RF18539007547034');
      expect(parseRfReference('rf45g72uur')).to.equal('RF45G72UUR');
    });

    it('rejects wrong check digits with INVALID_RF_REFERENCE reason check', () => {
      for (const s of ['RF19539007547034', 'RF18539007547035', 'RF81539007547034', 'RF18539007547043']) {
        expectDomainError(() => parseRfReference(s), 'INVALID_RF_REFERENCE', { reason: 'check' });
      }
    });

    it('rejects check digits 00, 01 and 99 even though they pass mod 97', () => {
      expect(parseRfReference('RF9772')).to.equal('RF9772');
      expect(parseRfReference('RF9854')).to.equal('RF9854');
      expect(parseRfReference('RF0236')).to.equal('RF0236');
      for (const s of ['RF0072', 'RF0154', 'RF9936']) {
        expectDomainError(() => parseRfReference(s), 'INVALID_RF_REFERENCE', { reason: 'check' });
      }
    });

    it('rejects more than 25 characters with INVALID_RF_REFERENCE reason length', () => {
      expectDomainError(() => parseRfReference('RF740000000000000000000001'), 'INVALID_RF_REFERENCE', {
        reason: 'length',
      });
    });

    it('rejects a missing RF prefix, letters in the check digits or an empty reference with reason format', () => {
      for (const s of [
        '',
        'RF',
        'RF18',
        '18539007547034',
        'XF18539007547034',
        'RFAB539007547034',
        'RF18-5390',
        'RF1',
      ]) {
        expectDomainError(() => parseRfReference(s), 'INVALID_RF_REFERENCE', { reason: 'format' });
      }
    });

    it('detects every single-character substitution in the reference part', () => {
      const valid = 'RF18539007547034';
      for (let position = 4; position < valid.length; position++) {
        for (const char of '0123456789ABCXYZ') {
          if (valid[position] === char) continue;
          const altered = valid.slice(0, position) + char + valid.slice(position + 1);
          expectDomainError(() => parseRfReference(altered), 'INVALID_RF_REFERENCE', { reason: 'check' });
        }
      }
    });
  });

  describe('isRfReference', () => {
    it('tells an ISO 11649 IUV from a numeric IUV without throwing', () => {
      expect(isRfReference('RF18539007547034')).to.equal(true);
      expect(isRfReference('01000000001234519')).to.equal(false);
      expect(isRfReference('RF19539007547034')).to.equal(false);
      expect(isRfReference('')).to.equal(false);
    });
  });
});

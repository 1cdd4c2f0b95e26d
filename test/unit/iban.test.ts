import { expect } from 'chai';
import {
  ibanCountry,
  isIssuableCheckDigits,
  isItalianPostalIban,
  mod97,
  normalizeIban,
  parseIban,
} from '../../src/domain/iban.ts';
import { expectDomainError } from '../support/expectDomainError.ts';

describe('iban', () => {
  describe('parseIban', () => {
    it('accepts the Italian example IT60X0542811101000000123456', () => {
      const iban = parseIban('IT60X0542811101000000123456');
      expect(iban).to.equal('IT60X0542811101000000123456');
      expect(ibanCountry(iban)).to.equal('IT');
    });

    it('removes spaces and upper-cases the printed form', () => {
      expect(parseIban('it60 x054 2811 1010 0000 0123 456')).to.equal('IT60X0542811101000000123456');
      expect(normalizeIban(' de89 3704 ')).to.equal('DE893704');
    });

    it('accepts valid IBANs of other SEPA countries at their registered lengths', () => {
      const valid = [
        'DE89370400440532013000',
        'GB82WEST12345698765432',
        'FR1420041010050500013M02606',
        'NL91ABNA0417164300',
        'BE68539007547034',
        'NO9386011117947',
        'MT84MALT011000012345MTLCAST001S',
        'CH9300762011623852957',
        'SM86U0322509800000000270100',
        'VA59001123000012345678',
      ];
      for (const s of valid) expect(parseIban(s), s).to.equal(s);
    });

    it('accepts a country outside the SEPA table within the generic 15-34 bound', () => {
      expect(parseIban('BR1800360305000010009795493C1')).to.equal('BR1800360305000010009795493C1');
      expect(parseIban('XY0512345678901')).to.equal('XY0512345678901');
      expect(parseIban('XY85' + 'A'.repeat(30))).to.have.length(34);
    });

    it('rejects a wrong check with INVALID_IBAN reason check', () => {
      for (const s of [
        'IT61X0542811101000000123456',
        'IT60X0542811101000000123457',
        'DE89370400440532013001',
      ]) {
        expectDomainError(() => parseIban(s), 'INVALID_IBAN', { reason: 'check' });
      }
    });

    it('rejects check digits 00, 01 and 99 even though they pass mod 97', () => {
      for (const s of [
        'IT97W0542811101000000000013',
        'IT98C0542811101000000000107',
        'IT02V0542811101000000000196',
      ]) {
        expect(parseIban(s)).to.equal(s);
      }
      for (const s of [
        'IT00W0542811101000000000013',
        'IT01C0542811101000000000107',
        'IT99V0542811101000000000196',
      ]) {
        expectDomainError(() => parseIban(s), 'INVALID_IBAN', { reason: 'check' });
      }
    });

    it('detects every single-character change of the account number', () => {
      const valid = 'IT60X0542811101000000123456';
      for (let position = 15; position < valid.length; position++) {
        for (const char of '0123456789AZ') {
          if (valid[position] === char) continue;
          const altered = valid.slice(0, position) + char + valid.slice(position + 1);
          expectDomainError(() => parseIban(altered), 'INVALID_IBAN', { reason: 'check' });
        }
      }
    });

    it('rejects a length that differs from the country registry with reason length', () => {
      for (const s of [
        'IT60X054281110100000012345',
        'IT60X05428111010000001234567',
        'DE543704004405320130001',
      ]) {
        expectDomainError(() => parseIban(s), 'INVALID_IBAN', { reason: 'length' });
      }
    });

    it('rejects an unknown country outside 15-34 characters with reason length', () => {
      expectDomainError(() => parseIban('XK751234567890'), 'INVALID_IBAN', { reason: 'length' });
      expectDomainError(() => parseIban('XY05' + 'A'.repeat(31)), 'INVALID_IBAN', { reason: 'length' });
    });

    it('rejects bad characters and layouts with reason format', () => {
      const cases = [
        '',
        'IT',
        'IT60',
        '1T60X0542811101000000123456',
        'ITX0X0542811101000000123456',
        'IT60X05428111010000001234_6',
        'IT60X0542811101000000123456\t',
        'IT60-X054-2811-1010-0000-0123-456',
        'IT60X0542811101000000123456€',
      ];
      for (const s of cases) expectDomainError(() => parseIban(s), 'INVALID_IBAN', { reason: 'format' });
    });

    it('rejects an Italian IBAN whose BBAN is not CIN letter + ABI + CAB + account with reason format', () => {
      // Correct mod 97 check digits, but a digit where the CIN letter belongs.
      expectDomainError(() => parseIban('IT2910542811101000000123456'), 'INVALID_IBAN', { reason: 'format' });
      expectDomainError(() => parseIban('IT60X05428A1101000000123456'), 'INVALID_IBAN', { reason: 'format' });
    });
  });

  describe('isItalianPostalIban', () => {
    it('recognises a Poste Italiane account by ABI 07601', () => {
      expect(isItalianPostalIban(parseIban('IT22L0760101600000012345678'))).to.equal(true);
    });

    it('does not take a bank account or a San Marino IBAN with the same digits for a postal one', () => {
      expect(isItalianPostalIban(parseIban('IT60X0542811101000000123456'))).to.equal(false);
      expect(isItalianPostalIban(parseIban('SM98X0760101600000012345678'))).to.equal(false);
    });
  });

  describe('mod97', () => {
    it('counts letters as A=10 … Z=35', () => {
      expect(mod97('A')).to.equal(10);
      expect(mod97('Z')).to.equal(35);
      expect(mod97('97')).to.equal(0);
      expect(mod97('X0542811101000000123456IT60')).to.equal(1);
    });

    it('agrees with BigInt arithmetic on long numeric strings', () => {
      const digits = '3214282912345698765432161182';
      expect(mod97(digits)).to.equal(Number(BigInt(digits) % 97n));
    });

    it('refuses a character that is not a letter or a digit', () => {
      expect(() => mod97('12-3')).to.throw(RangeError);
    });
  });

  it('treats only check digits 02 to 98 as issuable', () => {
    expect(['00', '01', '99'].map(isIssuableCheckDigits)).to.deep.equal([false, false, false]);
    expect(['02', '50', '98'].map(isIssuableCheckDigits)).to.deep.equal([true, true, true]);
  });
});

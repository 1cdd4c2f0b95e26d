import { expect } from 'chai';
import {
  fiscalCodeKind,
  legalCheckDigit,
  parseEnteFiscalCode,
  parseFiscalCode,
  personCheckCharacter,
  type EnteFiscalCode,
  type FiscalCode,
} from '../../src/domain/fiscalCode.ts';
import { expectDomainError } from '../support/expectDomainError.ts';

describe('fiscalCode', () => {
  describe('personal codes (16 characters)', () => {
    it('accepts RSSMRA85T10A562S, whose check letter S is what the odd/even tables give', () => {
      const code = parseFiscalCode('RSSMRA85T10A562S');
      expect(code).to.equal('RSSMRA85T10A562S');
      expect(fiscalCodeKind(code)).to.equal('person');
      expect(personCheckCharacter('RSSMRA85T10A562')).to.equal('S');
    });

    it('accepts other well-formed codes with their computed check letters', () => {
      for (const s of ['BNCGPP80A01H501E', 'VRDLGU80A01L219I', 'MRTMTT25D09F205Z']) {
        expect(parseFiscalCode(s)).to.equal(s);
      }
    });

    it('trims and upper-cases a code typed by hand', () => {
      expect(parseFiscalCode('  rssmra85t10a562s\n')).to.equal('RSSMRA85T10A562S');
    });

    it('accepts omocodia letters in the digit positions', () => {
      expect(parseFiscalCode('RSSMRA85T10A56NH')).to.equal('RSSMRA85T10A56NH');
      expect(parseFiscalCode('RSSMRAURTMLARSNL')).to.equal('RSSMRAURTMLARSNL');
      expect(parseFiscalCode('RSSMRA85T1MA562J')).to.equal('RSSMRA85T1MA562J');
    });

    it('accepts the day of birth plus 40 used for women, up to 71', () => {
      expect(parseFiscalCode('RSSMRA85T50A562W')).to.equal('RSSMRA85T50A562W');
      expect(parseFiscalCode('RSSMRA85T71A562X')).to.equal('RSSMRA85T71A562X');
    });

    it('rejects a wrong check letter with INVALID_FISCAL_CODE reason check', () => {
      for (const s of ['RSSMRA85T10A562T', 'RSSMRA85T10A562A', 'RSSMRA85T10A56NS']) {
        expectDomainError(() => parseFiscalCode(s), 'INVALID_FISCAL_CODE', { reason: 'check' });
      }
    });

    it('detects every single-character change of a valid personal code', () => {
      const valid = 'RSSMRA85T10A562S';
      for (let position = 0; position < valid.length; position++) {
        for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') {
          if (valid[position] === char) continue;
          const altered = valid.slice(0, position) + char + valid.slice(position + 1);
          expectDomainError(() => parseFiscalCode(altered), 'INVALID_FISCAL_CODE');
        }
      }
    });

    it('rejects letters and digits out of place with reason format', () => {
      const cases = [
        'RSSMR185T10A562S', // digit in the name part
        'RSSMRA8AT10A562S', // non-omocodia letter in the year
        'RSSMRA85T10A5W2S', // non-omocodia letter in the municipality
        'RSSMRA85T10A5622', // digit as check character
        'RSSMRA85T10156 2', // space inside
        'RSSMRA85T1-A562S',
      ];
      for (const s of cases)
        expectDomainError(() => parseFiscalCode(s), 'INVALID_FISCAL_CODE', { reason: 'format' });
    });

    it('rejects a month letter outside ABCDEHLMPRST with reason format', () => {
      expectDomainError(() => parseFiscalCode('RSSMRA85F10A562R'), 'INVALID_FISCAL_CODE', {
        reason: 'format',
      });
    });

    it('rejects an impossible day of birth with reason format even when the check letter matches', () => {
      for (const s of ['RSSMRA85T00A562R', 'RSSMRA85T32A562Y', 'RSSMRA85T72A562C']) {
        expectDomainError(() => parseFiscalCode(s), 'INVALID_FISCAL_CODE', { reason: 'format' });
      }
    });

    it('computes the check character only from 15 letters or digits', () => {
      expectDomainError(() => personCheckCharacter('RSSMRA85T10A56'), 'INVALID_FISCAL_CODE', {
        reason: 'format',
      });
      expectDomainError(() => personCheckCharacter('rssmra85t10a562'), 'INVALID_FISCAL_CODE', {
        reason: 'format',
      });
    });
  });

  describe('numeric codes (11 digits)', () => {
    it('accepts 80087670016 (Regione Piemonte) and 00514490010 (Comune di Torino)', () => {
      for (const s of ['80087670016', '00514490010']) {
        const code = parseFiscalCode(s);
        expect(code).to.equal(s);
        expect(fiscalCodeKind(code)).to.equal('legal');
      }
    });

    it('computes the check digit by the partita IVA rule', () => {
      expect(legalCheckDigit('8008767001')).to.equal('6');
      expect(legalCheckDigit('0051449001')).to.equal('0');
      expect(legalCheckDigit('0243875058')).to.equal('6');
      expect(legalCheckDigit('0000000000')).to.equal('0');
    });

    it('rejects a wrong check digit with reason check', () => {
      for (const s of ['80087670017', '00514490011', '77777777777']) {
        expectDomainError(() => parseFiscalCode(s), 'INVALID_FISCAL_CODE', { reason: 'check' });
      }
    });

    it('detects every single-digit change of a valid numeric code', () => {
      const valid = '80087670016';
      for (let position = 0; position < valid.length; position++) {
        for (const digit of '0123456789') {
          if (valid[position] === digit) continue;
          const altered = valid.slice(0, position) + digit + valid.slice(position + 1);
          expectDomainError(() => parseFiscalCode(altered), 'INVALID_FISCAL_CODE', { reason: 'check' });
        }
      }
    });

    it('rejects non-digits in an 11-character code with reason format', () => {
      for (const s of ['8008767001A', '800876700-6', 'ABCDEFGHIJK']) {
        expectDomainError(() => parseFiscalCode(s), 'INVALID_FISCAL_CODE', { reason: 'format' });
      }
      expectDomainError(() => legalCheckDigit('800876700'), 'INVALID_FISCAL_CODE', { reason: 'format' });
    });
  });

  it('rejects lengths other than 11 and 16 with reason length', () => {
    for (const s of ['', '   ', '8008767001', '800876700166', 'RSSMRA85T10A562', 'RSSMRA85T10A562SS']) {
      expectDomainError(() => parseFiscalCode(s), 'INVALID_FISCAL_CODE', { reason: 'length' });
    }
  });

  describe('parseEnteFiscalCode', () => {
    it('accepts an EC identificativoDominio of 11 digits', () => {
      const code: EnteFiscalCode = parseEnteFiscalCode(' 80087670016 ');
      const general: FiscalCode = code;
      expect(general).to.equal('80087670016');
    });

    it('rejects a personal code, which can never be an EC, with reason length', () => {
      expectDomainError(() => parseEnteFiscalCode('RSSMRA85T10A562S'), 'INVALID_FISCAL_CODE', {
        reason: 'length',
      });
    });

    it('rejects non-digits with reason format and a wrong check digit with reason check', () => {
      expectDomainError(() => parseEnteFiscalCode('8008767001X'), 'INVALID_FISCAL_CODE', {
        reason: 'format',
      });
      expectDomainError(() => parseEnteFiscalCode('80087670015'), 'INVALID_FISCAL_CODE', { reason: 'check' });
    });
  });
});

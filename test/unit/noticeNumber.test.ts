import { expect } from 'chai';
import {
  buildAux3FromSequence,
  buildNoticeNumber,
  buildNoticeNumberFromSequence,
  checkDigit,
  isProbeNoticeNumber,
  noticeNumberFromIuv,
  parseApplicationCode,
  parseAuxDigit,
  parseIuv,
  parseNoticeNumber,
  parseSegregationCode,
  PROBE_NOTICE_NUMBER,
  type NoticeNumberInput,
} from '../../src/domain/noticeNumber.ts';
import { DomainError } from '../../src/domain/errors.ts';
import { expectDomainError } from '../support/expectDomainError.ts';

// Seeded so that a failing property run can be replayed.
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomDigits(random: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String(Math.floor(random() * 10));
  return out;
}

function replaceAt(s: string, index: number, char: string): string {
  return s.slice(0, index) + char + s.slice(index + 1);
}

describe('noticeNumber', () => {
  describe('checkDigit', () => {
    it('computes the worked examples of pagopa-facts §2', () => {
      expect(checkDigit('3010000000012345')).to.equal('19');
      expect(checkDigit('3010000000012346')).to.equal('20');
      expect(checkDigit('0051234567890123')).to.equal('80');
      expect(checkDigit('2123456789012345')).to.equal('44');
    });

    it('pads a remainder below 10 with a leading zero', () => {
      expect(checkDigit('0000000000000000')).to.equal('00');
      expect(checkDigit('0000000000000005')).to.equal('05');
      expect(checkDigit('0000000000000093')).to.equal('00');
      expect(checkDigit('0000000000000101')).to.equal('08');
    });

    it('agrees with BigInt mod 93 on random 16-digit prefixes beyond 2^53', () => {
      const random = seededRandom(93);
      for (let i = 0; i < 500; i++) {
        const prefix = randomDigits(random, 16);
        const expected = String(BigInt(prefix) % 93n).padStart(2, '0');
        expect(checkDigit(prefix), prefix).to.equal(expected);
      }
      expect(checkDigit('9999999999999999')).to.equal(String(9999999999999999n % 93n).padStart(2, '0'));
    });

    it('rejects a prefix that is not exactly 16 digits with INVALID_NOTICE_NUMBER', () => {
      for (const prefix of [
        '',
        '301000000001234',
        '30100000000123456',
        '301000000001234a',
        '3010000000 12345',
      ]) {
        expectDomainError(() => checkDigit(prefix), 'INVALID_NOTICE_NUMBER');
      }
    });
  });

  describe('buildNoticeNumber', () => {
    it('builds the aux 3 example 301000000001234519 with IUV 01000000001234519', () => {
      const built = buildNoticeNumber({ auxDigit: 3, segregationCode: '01', base13: '0000000012345' });
      expect(built).to.deep.equal({ noticeNumber: '301000000001234519', iuv: '01000000001234519' });
    });

    it('builds the next aux 3 base 0000000012346 with check digit 20', () => {
      const built = buildNoticeNumber({ auxDigit: 3, segregationCode: '01', base13: '0000000012346' });
      expect(built.iuv).to.equal('01000000001234620');
      expect(built.noticeNumber).to.equal('301000000001234620');
    });

    it('builds the aux 0 example 005123456789012380 with the 15-digit IUV 123456789012380', () => {
      const built = buildNoticeNumber({ auxDigit: 0, applicationCode: '05', base13: '1234567890123' });
      expect(built).to.deep.equal({ noticeNumber: '005123456789012380', iuv: '123456789012380' });
    });

    it('builds the aux 2 example 212345678901234544', () => {
      const built = buildNoticeNumber({ auxDigit: 2, base15: '123456789012345' });
      expect(built).to.deep.equal({ noticeNumber: '212345678901234544', iuv: '12345678901234544' });
    });

    it('builds an aux 1 notice as the aux digit followed by the 17-digit base, with no check digit', () => {
      const built = buildNoticeNumber({ auxDigit: 1, base17: '12345678901234567' });
      expect(built).to.deep.equal({ noticeNumber: '112345678901234567', iuv: '12345678901234567' });
    });

    it('rejects a segregation code that is not 2 digits with INVALID_SEGREGATION_CODE', () => {
      for (const segregationCode of ['', '1', '123', 'A1', ' 1']) {
        expectDomainError(
          () => buildNoticeNumber({ auxDigit: 3, segregationCode, base13: '0000000012345' }),
          'INVALID_SEGREGATION_CODE',
        );
      }
    });

    it('rejects an application code that is not 2 digits with INVALID_APPLICATION_CODE', () => {
      for (const applicationCode of ['', '5', '005', 'AB']) {
        expectDomainError(
          () => buildNoticeNumber({ auxDigit: 0, applicationCode, base13: '1234567890123' }),
          'INVALID_APPLICATION_CODE',
        );
      }
    });

    it('rejects a base of the wrong length or with non-digits with INVALID_IUV', () => {
      const cases: NoticeNumberInput[] = [
        { auxDigit: 3, segregationCode: '01', base13: '000000001234' },
        { auxDigit: 3, segregationCode: '01', base13: '00000000123456' },
        { auxDigit: 3, segregationCode: '01', base13: '000000001234X' },
        { auxDigit: 0, applicationCode: '05', base13: '123456789012' },
        { auxDigit: 2, base15: '12345678901234' },
        { auxDigit: 2, base15: '1234567890123456' },
        { auxDigit: 1, base17: '1234567890123456' },
        { auxDigit: 1, base17: '1234567890123456-' },
      ];
      for (const input of cases) {
        expectDomainError(() => buildNoticeNumber(input), 'INVALID_IUV');
      }
    });

    it('rejects an aux digit outside 0-3 smuggled past the types with INVALID_AUX_DIGIT', () => {
      const input = { auxDigit: 4, base15: '123456789012345' } as unknown as NoticeNumberInput;
      expectDomainError(() => buildNoticeNumber(input), 'INVALID_AUX_DIGIT');
    });
  });

  describe('building from a sequence value', () => {
    it('zero-pads the base to 13 digits for aux 3', () => {
      expect(buildAux3FromSequence('01', 12345)).to.deep.equal({
        noticeNumber: '301000000001234519',
        iuv: '01000000001234519',
      });
      expect(buildAux3FromSequence('01', 12345n).noticeNumber).to.equal('301000000001234519');
    });

    it('accepts 0 and the largest 13-digit base 9999999999999', () => {
      expect(buildAux3FromSequence('47', 0).iuv.slice(0, 15)).to.equal('470000000000000');
      expect(buildAux3FromSequence('47', 10n ** 13n - 1n).iuv.slice(0, 15)).to.equal('479999999999999');
    });

    it('reports IUV_EXHAUSTED once the sequence passes 10^13 - 1', () => {
      expectDomainError(() => buildAux3FromSequence('01', 10n ** 13n), 'IUV_EXHAUSTED');
      expectDomainError(() => buildAux3FromSequence('01', 10 ** 13), 'IUV_EXHAUSTED');
    });

    it('rejects negative, fractional and unsafe sequence values with INVALID_IUV', () => {
      expectDomainError(() => buildAux3FromSequence('01', -1), 'INVALID_IUV');
      expectDomainError(() => buildAux3FromSequence('01', -1n), 'INVALID_IUV');
      expectDomainError(() => buildAux3FromSequence('01', 1.5), 'INVALID_IUV');
      expectDomainError(() => buildAux3FromSequence('01', Number.NaN), 'INVALID_IUV');
      expectDomainError(() => buildAux3FromSequence('01', 2 ** 53), 'INVALID_IUV');
    });

    it('rejects a bad segregation code with INVALID_SEGREGATION_CODE', () => {
      expectDomainError(() => buildAux3FromSequence('1', 1), 'INVALID_SEGREGATION_CODE');
    });

    it('pads to the base width of each aux digit', () => {
      expect(
        buildNoticeNumberFromSequence({ auxDigit: 0, applicationCode: '05' }, 1234567890123).noticeNumber,
      ).to.equal('005123456789012380');
      expect(buildNoticeNumberFromSequence({ auxDigit: 2 }, 123456789012345).noticeNumber).to.equal(
        '212345678901234544',
      );
      expect(buildNoticeNumberFromSequence({ auxDigit: 1 }, 7).noticeNumber).to.equal('100000000000000007');
      expect(buildNoticeNumberFromSequence({ auxDigit: 1 }, 10n ** 17n - 1n).iuv).to.equal(
        '99999999999999999',
      );
    });

    it('reports IUV_EXHAUSTED at the base width of each aux digit', () => {
      expectDomainError(
        () => buildNoticeNumberFromSequence({ auxDigit: 0, applicationCode: '05' }, 10n ** 13n),
        'IUV_EXHAUSTED',
      );
      expectDomainError(() => buildNoticeNumberFromSequence({ auxDigit: 2 }, 10n ** 15n), 'IUV_EXHAUSTED');
      expectDomainError(() => buildNoticeNumberFromSequence({ auxDigit: 1 }, 10n ** 17n), 'IUV_EXHAUSTED');
    });

    it('asks for the code the aux digit needs when the context lacks it', () => {
      expectDomainError(() => buildNoticeNumberFromSequence({ auxDigit: 3 }, 1), 'INVALID_SEGREGATION_CODE', {
        reason: 'missing',
      });
      expectDomainError(
        () => buildNoticeNumberFromSequence({ auxDigit: 3, segregationCode: null }, 1),
        'INVALID_SEGREGATION_CODE',
        { reason: 'missing' },
      );
      expectDomainError(() => buildNoticeNumberFromSequence({ auxDigit: 0 }, 1), 'INVALID_APPLICATION_CODE', {
        reason: 'missing',
      });
    });

    it('rejects an aux digit outside 0-3 in the context with INVALID_AUX_DIGIT', () => {
      expectDomainError(() => buildNoticeNumberFromSequence({ auxDigit: 4 }, 1), 'INVALID_AUX_DIGIT');
    });

    it('gives consecutive sequence values distinct notice numbers that parse back to the same base', () => {
      const seen = new Set<string>();
      for (let n = 0; n < 300; n++) {
        const { noticeNumber, iuv } = buildAux3FromSequence('12', n);
        expect(seen.has(noticeNumber)).to.equal(false);
        seen.add(noticeNumber);
        expect(Number(iuv.slice(2, 15))).to.equal(n);
      }
    });
  });

  describe('parseNoticeNumber', () => {
    it('parses the aux 3 example into its segregation code and IUV', () => {
      expect(parseNoticeNumber('301000000001234519')).to.deep.equal({
        noticeNumber: '301000000001234519',
        iuv: '01000000001234519',
        auxDigit: 3,
        segregationCode: '01',
      });
    });

    it('parses the aux 0 example into its application code and 15-digit IUV', () => {
      expect(parseNoticeNumber('005123456789012380')).to.deep.equal({
        noticeNumber: '005123456789012380',
        iuv: '123456789012380',
        auxDigit: 0,
        applicationCode: '05',
      });
    });

    it('parses the aux 2 example into its 17-digit IUV', () => {
      expect(parseNoticeNumber('212345678901234544')).to.deep.equal({
        noticeNumber: '212345678901234544',
        iuv: '12345678901234544',
        auxDigit: 2,
      });
    });

    it('accepts any 17 digits after aux digit 1 because it carries no check digit', () => {
      const parsed = parseNoticeNumber('199999999999999999');
      expect(parsed).to.deep.equal({
        noticeNumber: '199999999999999999',
        iuv: '99999999999999999',
        auxDigit: 1,
      });
    });

    it('rejects the official placeholder 311111111112222222 with INVALID_CHECK_DIGIT (the check gives 47)', () => {
      expectDomainError(() => parseNoticeNumber('311111111112222222'), 'INVALID_CHECK_DIGIT', {
        expected: '47',
        actual: '22',
      });
    });

    it('rejects a notice number whose check digit is wrong with INVALID_CHECK_DIGIT', () => {
      expectDomainError(() => parseNoticeNumber('301000000001234520'), 'INVALID_CHECK_DIGIT');
      expectDomainError(() => parseNoticeNumber('005123456789012381'), 'INVALID_CHECK_DIGIT');
      expectDomainError(() => parseNoticeNumber('212345678901234545'), 'INVALID_CHECK_DIGIT');
      // 93 and above can never be a remainder mod 93.
      expectDomainError(() => parseNoticeNumber('301000000001234593'), 'INVALID_CHECK_DIGIT');
    });

    it('rejects a notice number that is not 18 characters with INVALID_NOTICE_NUMBER', () => {
      for (const s of ['', '30100000000123451', '3010000000012345190', '1'.repeat(35)]) {
        expectDomainError(() => parseNoticeNumber(s), 'INVALID_NOTICE_NUMBER');
      }
    });

    it('rejects a notice number with non-digits with INVALID_NOTICE_NUMBER', () => {
      const cases = [
        '30100000000123451A',
        '3010000000012345 9',
        ' 30100000000123451',
        '30100000000-234519',
        '３01000000001234519',
        '301000000001234519\n',
      ];
      for (const s of cases) expectDomainError(() => parseNoticeNumber(s), 'INVALID_NOTICE_NUMBER');
    });

    it('rejects aux digits 4 to 9 with INVALID_AUX_DIGIT', () => {
      for (const aux of ['4', '5', '6', '7', '8', '9']) {
        expectDomainError(() => parseNoticeNumber(aux + '01000000001234519'), 'INVALID_AUX_DIGIT');
      }
    });

    it('round-trips random bases through build and parse for every aux digit', () => {
      const random = seededRandom(2024);
      for (let i = 0; i < 250; i++) {
        const segregationCode = randomDigits(random, 2);
        const applicationCode = randomDigits(random, 2);
        const base13 = randomDigits(random, 13);
        const aux3 = buildNoticeNumber({ auxDigit: 3, segregationCode, base13 });
        expect(parseNoticeNumber(aux3.noticeNumber)).to.deep.equal({ ...aux3, auxDigit: 3, segregationCode });
        const aux0 = buildNoticeNumber({ auxDigit: 0, applicationCode, base13 });
        expect(parseNoticeNumber(aux0.noticeNumber)).to.deep.equal({ ...aux0, auxDigit: 0, applicationCode });
        const aux2 = buildNoticeNumber({ auxDigit: 2, base15: randomDigits(random, 15) });
        expect(parseNoticeNumber(aux2.noticeNumber)).to.deep.equal({ ...aux2, auxDigit: 2 });
        const aux1 = buildNoticeNumber({ auxDigit: 1, base17: randomDigits(random, 17) });
        expect(parseNoticeNumber(aux1.noticeNumber)).to.deep.equal({ ...aux1, auxDigit: 1 });
      }
    });

    it('detects every single-digit change of a checked notice number, unless it turns it into aux 1', () => {
      const random = seededRandom(7);
      for (let i = 0; i < 40; i++) {
        const original = buildNoticeNumber({
          auxDigit: 3,
          segregationCode: '01',
          base13: randomDigits(random, 13),
        });
        for (let position = 0; position < 18; position++) {
          for (const digit of '0123456789') {
            if (original.noticeNumber[position] === digit) continue;
            const altered = replaceAt(original.noticeNumber, position, digit);
            if (position === 0 && digit === '1') {
              // Aux 1 has no check digit: the change is not detected but the notice now means another thing.
              expect(parseNoticeNumber(altered).auxDigit).to.equal(1);
              continue;
            }
            expect(() => parseNoticeNumber(altered), altered).to.throw(DomainError);
          }
        }
      }
    });

    it('detects a swap of two adjacent different digits in the first 16', () => {
      const random = seededRandom(11);
      for (let i = 0; i < 100; i++) {
        const { noticeNumber } = buildNoticeNumber({ auxDigit: 2, base15: randomDigits(random, 15) });
        for (let position = 1; position < 15; position++) {
          const a = noticeNumber.charAt(position);
          const b = noticeNumber.charAt(position + 1);
          if (a === b) continue;
          const swapped = noticeNumber.slice(0, position) + b + a + noticeNumber.slice(position + 2);
          expectDomainError(() => parseNoticeNumber(swapped), 'INVALID_CHECK_DIGIT');
        }
      }
    });
  });

  describe('parseIuv', () => {
    it('accepts an aux 3 IUV that starts with the EC segregation code', () => {
      expect(parseIuv('01000000001234519', { auxDigit: 3, segregationCode: '01' })).to.equal(
        '01000000001234519',
      );
    });

    it('accepts an aux 3 IUV when the context does not name a segregation code', () => {
      expect(parseIuv('01000000001234519', { auxDigit: 3 })).to.equal('01000000001234519');
    });

    it('rejects an aux 3 IUV of another segregation code with INVALID_SEGREGATION_CODE', () => {
      expectDomainError(
        () => parseIuv('01000000001234519', { auxDigit: 3, segregationCode: '02' }),
        'INVALID_SEGREGATION_CODE',
        { reason: 'mismatch', expected: '02', actual: '01' },
      );
    });

    it('rejects a malformed segregation code in the context with INVALID_SEGREGATION_CODE', () => {
      expectDomainError(
        () => parseIuv('01000000001234519', { auxDigit: 3, segregationCode: '1' }),
        'INVALID_SEGREGATION_CODE',
      );
    });

    it('rejects an aux 3 IUV with a wrong check digit with INVALID_CHECK_DIGIT', () => {
      expectDomainError(
        () => parseIuv('01000000001234518', { auxDigit: 3, segregationCode: '01' }),
        'INVALID_CHECK_DIGIT',
      );
    });

    it('checks an aux 0 IUV against the application code it does not carry', () => {
      expect(parseIuv('123456789012380', { auxDigit: 0, applicationCode: '05' })).to.equal('123456789012380');
      expectDomainError(
        () => parseIuv('123456789012380', { auxDigit: 0, applicationCode: '06' }),
        'INVALID_CHECK_DIGIT',
      );
    });

    it('rejects an aux 0 IUV without an application code with INVALID_APPLICATION_CODE', () => {
      expectDomainError(() => parseIuv('123456789012380', { auxDigit: 0 }), 'INVALID_APPLICATION_CODE', {
        reason: 'missing',
      });
      expectDomainError(
        () => parseIuv('123456789012380', { auxDigit: 0, applicationCode: '5' }),
        'INVALID_APPLICATION_CODE',
      );
    });

    it('accepts aux 1 and aux 2 IUVs and checks only the aux 2 one', () => {
      expect(parseIuv('12345678901234567', { auxDigit: 1 })).to.equal('12345678901234567');
      expect(parseIuv('12345678901234544', { auxDigit: 2 })).to.equal('12345678901234544');
      expectDomainError(() => parseIuv('12345678901234567', { auxDigit: 2 }), 'INVALID_CHECK_DIGIT');
    });

    it('rejects an IUV of the wrong length for its aux digit with INVALID_IUV', () => {
      expectDomainError(
        () => parseIuv('123456789012380', { auxDigit: 3, segregationCode: '12' }),
        'INVALID_IUV',
      );
      expectDomainError(
        () => parseIuv('01000000001234519', { auxDigit: 0, applicationCode: '05' }),
        'INVALID_IUV',
      );
      expectDomainError(() => parseIuv('1234567890123456', { auxDigit: 1 }), 'INVALID_IUV');
      expectDomainError(() => parseIuv('', { auxDigit: 2 }), 'INVALID_IUV');
    });

    it('rejects a non-numeric IUV such as an RF reference with INVALID_IUV', () => {
      expectDomainError(() => parseIuv('RF18539007547034X', { auxDigit: 3 }), 'INVALID_IUV');
      expectDomainError(() => parseIuv('0100000000123451A', { auxDigit: 1 }), 'INVALID_IUV');
    });

    it('rejects an aux digit outside 0-3 in the context with INVALID_AUX_DIGIT', () => {
      expectDomainError(() => parseIuv('01000000001234519', { auxDigit: 7 }), 'INVALID_AUX_DIGIT');
      expectDomainError(() => parseIuv('01000000001234519', { auxDigit: -1 }), 'INVALID_AUX_DIGIT');
    });
  });

  describe('noticeNumberFromIuv', () => {
    it('puts back the aux digit, and for aux 0 the application code', () => {
      expect(noticeNumberFromIuv('01000000001234519', { auxDigit: 3, segregationCode: '01' })).to.equal(
        '301000000001234519',
      );
      expect(noticeNumberFromIuv('123456789012380', { auxDigit: 0, applicationCode: '05' })).to.equal(
        '005123456789012380',
      );
      expect(noticeNumberFromIuv('12345678901234544', { auxDigit: 2 })).to.equal('212345678901234544');
      expect(noticeNumberFromIuv('12345678901234567', { auxDigit: 1 })).to.equal('112345678901234567');
    });

    it('is the inverse of parseNoticeNumber for random notices of every aux digit', () => {
      const random = seededRandom(31);
      for (let i = 0; i < 200; i++) {
        const segregationCode = randomDigits(random, 2);
        const applicationCode = randomDigits(random, 2);
        const notices = [
          {
            ctx: { auxDigit: 3, segregationCode },
            n: buildAux3FromSequence(segregationCode, Math.floor(random() * 1e13)),
          },
          {
            ctx: { auxDigit: 0, applicationCode },
            n: buildNoticeNumber({ auxDigit: 0, applicationCode, base13: randomDigits(random, 13) }),
          },
          { ctx: { auxDigit: 2 }, n: buildNoticeNumber({ auxDigit: 2, base15: randomDigits(random, 15) }) },
          { ctx: { auxDigit: 1 }, n: buildNoticeNumber({ auxDigit: 1, base17: randomDigits(random, 17) }) },
        ];
        for (const { ctx, n } of notices) {
          const { iuv } = parseNoticeNumber(n.noticeNumber);
          expect(noticeNumberFromIuv(iuv, ctx)).to.equal(n.noticeNumber);
          expect(parseIuv(iuv, ctx)).to.equal(iuv);
        }
      }
    });
  });

  describe('small parsers', () => {
    it('parses aux digits given as numbers or single-digit strings', () => {
      expect([0, 1, 2, 3].map((n) => parseAuxDigit(n))).to.deep.equal([0, 1, 2, 3]);
      expect(['0', '1', '2', '3'].map((s) => parseAuxDigit(s))).to.deep.equal([0, 1, 2, 3]);
    });

    it('rejects other aux digits with INVALID_AUX_DIGIT', () => {
      for (const value of [4, -1, 1.5, Number.NaN, '4', '', '03', ' 3', 'x']) {
        expectDomainError(() => parseAuxDigit(value), 'INVALID_AUX_DIGIT');
      }
    });

    it('accepts 2-digit segregation and application codes only', () => {
      expect(parseSegregationCode('47')).to.equal('47');
      expect(parseApplicationCode('00')).to.equal('00');
      expectDomainError(() => parseSegregationCode('4'), 'INVALID_SEGREGATION_CODE');
      expectDomainError(() => parseApplicationCode('0a'), 'INVALID_APPLICATION_CODE');
    });
  });

  describe('isProbeNoticeNumber', () => {
    it('recognises the all-zero notice number pagoPA uses as a liveness probe', () => {
      expect(isProbeNoticeNumber('000000000000000000')).to.equal(true);
      expect(isProbeNoticeNumber(PROBE_NOTICE_NUMBER)).to.equal(true);
    });

    it('does not take other notice numbers for the probe', () => {
      for (const s of [
        '000000000000000001',
        '00000000000000000',
        '0000000000000000000',
        '301000000001234519',
        '',
      ]) {
        expect(isProbeNoticeNumber(s), s).to.equal(false);
      }
    });

    it('must be asked explicitly because the probe is itself a well-formed aux 0 notice', () => {
      expect(parseNoticeNumber(PROBE_NOTICE_NUMBER)).to.include({ auxDigit: 0, applicationCode: '00' });
    });
  });
});

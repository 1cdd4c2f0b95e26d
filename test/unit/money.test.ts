import { expect } from 'chai';
import {
  formatAmount,
  parseAmountCents,
  parseDecimalAmount,
  parseSignedCents,
  parseSignedDecimalAmount,
  sumCents,
  type AmountCents,
  type SignedCents,
} from '../../src/domain/money.ts';
import { expectDomainError } from '../support/expectDomainError.ts';

const MAX = Number.MAX_SAFE_INTEGER;

describe('money', () => {
  describe('parseAmountCents', () => {
    it('accepts non-negative whole numbers of cents given as numbers or digit strings', () => {
      expect(parseAmountCents(0)).to.equal(0);
      expect(parseAmountCents(1230)).to.equal(1230);
      expect(parseAmountCents('1230')).to.equal(1230);
      expect(parseAmountCents('0001230')).to.equal(1230);
      expect(parseAmountCents(MAX)).to.equal(MAX);
      expect(parseAmountCents(String(MAX))).to.equal(MAX);
    });

    it('reads -0 as 0', () => {
      expect(Object.is(parseAmountCents(-0), 0)).to.equal(true);
    });

    it('rejects fractions, negatives, NaN and infinities with INVALID_AMOUNT', () => {
      for (const n of [
        0.5,
        12.3,
        -1,
        -0.01,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
      ]) {
        expectDomainError(() => parseAmountCents(n), 'INVALID_AMOUNT');
      }
    });

    it('rejects amounts beyond Number.MAX_SAFE_INTEGER with INVALID_AMOUNT', () => {
      expectDomainError(() => parseAmountCents(MAX + 1), 'INVALID_AMOUNT');
      expectDomainError(() => parseAmountCents('9007199254740992'), 'INVALID_AMOUNT');
      expectDomainError(() => parseAmountCents('1'.repeat(30)), 'INVALID_AMOUNT');
    });

    it('rejects strings that are not plain digits with INVALID_AMOUNT', () => {
      for (const s of ['', ' ', '12.30', '1e3', '-5', '+5', ' 5', '5 ', '0x10', '1_000', '١٢']) {
        expectDomainError(() => parseAmountCents(s), 'INVALID_AMOUNT');
      }
    });
  });

  describe('parseSignedCents', () => {
    it('accepts negative whole numbers of cents such as revoked payments', () => {
      expect(parseSignedCents(-50)).to.equal(-50);
      expect(parseSignedCents('-50')).to.equal(-50);
      expect(parseSignedCents('120')).to.equal(120);
      expect(parseSignedCents(-MAX)).to.equal(-MAX);
    });

    it('reads "-0" as 0', () => {
      expect(Object.is(parseSignedCents('-0'), 0)).to.equal(true);
      expect(Object.is(parseSignedCents(-0), 0)).to.equal(true);
    });

    it('rejects fractions, non-numbers and unsafe magnitudes with INVALID_AMOUNT', () => {
      for (const value of [1.5, Number.NaN, -MAX - 1, '--5', '-', '', '-1.0', '+1', '-9007199254740992']) {
        expectDomainError(() => parseSignedCents(value), 'INVALID_AMOUNT');
      }
    });
  });

  describe('parseDecimalAmount', () => {
    it('converts 12.30, 12.3 and 12 to 1230 and 1200 cents', () => {
      expect(parseDecimalAmount('12.30')).to.equal(1230);
      expect(parseDecimalAmount('12.3')).to.equal(1230);
      expect(parseDecimalAmount('12')).to.equal(1200);
    });

    it('converts small and zero amounts exactly', () => {
      expect(parseDecimalAmount('0.01')).to.equal(1);
      expect(parseDecimalAmount('0.10')).to.equal(10);
      expect(parseDecimalAmount('0.00')).to.equal(0);
      expect(parseDecimalAmount('0')).to.equal(0);
      expect(parseDecimalAmount('007.05')).to.equal(705);
    });

    it('converts amounts that floating point would get wrong', () => {
      // 0.29 * 100 and 1.005 * 100 are the classic float traps.
      expect(parseDecimalAmount('0.29')).to.equal(29);
      expect(parseDecimalAmount('1.15')).to.equal(115);
      expect(parseDecimalAmount('4.35')).to.equal(435);
      expect(parseDecimalAmount('90071992547409.91')).to.equal(MAX);
    });

    it('rejects amounts beyond the safe integer range of cents with INVALID_AMOUNT', () => {
      expectDomainError(() => parseDecimalAmount('90071992547409.92'), 'INVALID_AMOUNT');
    });

    it('rejects more than 2 decimals, exponents, commas, signs and empty input with INVALID_AMOUNT', () => {
      const cases = [
        '12.345',
        '12.300',
        '1e3',
        '1E3',
        ',',
        '12,30',
        '-12.30',
        '+12.30',
        '',
        '.',
        '.5',
        '12.',
        ' 12.30',
        '12.30 ',
        'NaN',
        'Infinity',
        '1 000.00',
      ];
      for (const s of cases) expectDomainError(() => parseDecimalAmount(s), 'INVALID_AMOUNT');
    });
  });

  describe('parseSignedDecimalAmount', () => {
    it('accepts the negative amounts of revoked payments in reporting flows', () => {
      expect(parseSignedDecimalAmount('-0.50')).to.equal(-50);
      expect(parseSignedDecimalAmount('-12.3')).to.equal(-1230);
      expect(parseSignedDecimalAmount('12.30')).to.equal(1230);
      expect(Object.is(parseSignedDecimalAmount('-0.00'), 0)).to.equal(true);
    });

    it('rejects the same malformed inputs as the unsigned parser', () => {
      for (const s of ['--1.00', '-', '-.50', '-1.005', '+1.00', '-1e2']) {
        expectDomainError(() => parseSignedDecimalAmount(s), 'INVALID_AMOUNT');
      }
    });
  });

  describe('formatAmount', () => {
    it('writes cents with a dot and exactly 2 decimals', () => {
      expect(formatAmount(parseAmountCents(1230))).to.equal('12.30');
      expect(formatAmount(parseAmountCents(1200))).to.equal('12.00');
      expect(formatAmount(parseAmountCents(5))).to.equal('0.05');
      expect(formatAmount(parseAmountCents(50))).to.equal('0.50');
      expect(formatAmount(parseAmountCents(0))).to.equal('0.00');
      expect(formatAmount(parseAmountCents(MAX))).to.equal('90071992547409.91');
    });

    it('writes negative amounts with a leading minus', () => {
      expect(formatAmount(parseSignedCents(-50))).to.equal('-0.50');
      expect(formatAmount(parseSignedCents(-1230))).to.equal('-12.30');
      expect(formatAmount(parseSignedCents(-1))).to.equal('-0.01');
    });

    it('rejects a value that is not a safe whole number, whatever the types say', () => {
      expectDomainError(() => formatAmount(12.5 as SignedCents), 'INVALID_AMOUNT');
      expectDomainError(() => formatAmount(Number.NaN as SignedCents), 'INVALID_AMOUNT');
    });

    it('round-trips with the decimal parsers for every cent up to 100 euro and for large values', () => {
      for (let cents = 0; cents <= 10000; cents++) {
        const amount = parseAmountCents(cents);
        expect(parseDecimalAmount(formatAmount(amount))).to.equal(cents);
        expect(parseSignedDecimalAmount(formatAmount(parseSignedCents(-cents)))).to.equal(-cents);
      }
      for (const cents of [123456789012, MAX - 1, MAX]) {
        expect(parseDecimalAmount(formatAmount(parseAmountCents(cents)))).to.equal(cents);
      }
    });
  });

  describe('sumCents', () => {
    it('adds amounts and gives 0 for an empty list', () => {
      const amounts: AmountCents[] = [1230, 70, 1].map((n) => parseAmountCents(n));
      const total: AmountCents = sumCents(amounts);
      expect(total).to.equal(1301);
      expect(sumCents([])).to.equal(0);
    });

    it('adds signed amounts, letting a revocation cancel a payment', () => {
      const total: SignedCents = sumCents([
        parseSignedCents(1000),
        parseSignedCents(-1000),
        parseSignedCents(-5),
      ]);
      expect(total).to.equal(-5);
    });

    it('rejects a total beyond the safe integer range with INVALID_AMOUNT', () => {
      expectDomainError(() => sumCents([parseAmountCents(MAX), parseAmountCents(1)]), 'INVALID_AMOUNT');
    });

    it('keeps exact totals when intermediate sums pass the safe range', () => {
      const total = sumCents([parseSignedCents(MAX), parseSignedCents(MAX), parseSignedCents(-MAX)]);
      expect(total).to.equal(MAX);
    });
  });
});

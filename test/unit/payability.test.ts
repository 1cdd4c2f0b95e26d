import { expect } from 'chai';
import {
  addDays,
  amountDueCents,
  assertOptionPayable,
  italianDate,
  taxonomyCode,
  transferAmountsFor,
} from '../../src/domain/payability.ts';
import type { ErrorCode } from '../../src/domain/errors.ts';
import type { OptionStatus, PositionStatus } from '../../src/domain/positionState.ts';
import { expectDomainError } from '../support/expectDomainError.ts';

const single = (status: OptionStatus = 'UNPAID') => ({ installment: 0, status });

function position(status: PositionStatus, options = [single()]) {
  return { status, options };
}

describe('payability of a payment option (verify / get payment)', () => {
  it('lets the node pay an unpaid option of a valid or partially paid position', () => {
    expect(() => assertOptionPayable(position('VALID'), single())).not.to.throw();
    const plan = [single(), { installment: 1, status: 'UNPAID' as const }];
    expect(() => assertOptionPayable(position('VALID'), plan[1]!)).not.to.throw();
  });

  const refusals: Array<[PositionStatus, ErrorCode]> = [
    ['RESERVED', 'POSITION_NOT_PAYABLE'],
    ['RELEASED', 'POSITION_NOT_PAYABLE'],
    ['CANCELLED', 'POSITION_CANCELLED'],
    ['EXPIRED', 'POSITION_EXPIRED'],
    ['PAID', 'POSITION_ALREADY_PAID'],
    ['REPORTED', 'POSITION_ALREADY_PAID'],
    ['RECONCILED', 'POSITION_ALREADY_PAID'],
  ];
  for (const [status, code] of refusals) {
    it(`refuses an option of a ${status} position with ${code}`, () => {
      expectDomainError(() => assertOptionPayable(position(status), single()), code);
    });
  }

  it('refuses a paid option with POSITION_ALREADY_PAID whatever the position says', () => {
    expectDomainError(
      () => assertOptionPayable(position('PARTIALLY_PAID'), single('PAID')),
      'POSITION_ALREADY_PAID',
    );
  });

  it('refuses the single payment of a plan once an installment is paid', () => {
    const options = [
      single(),
      { installment: 1, status: 'PAID' as const },
      { installment: 2, status: 'UNPAID' as const },
    ];
    expectDomainError(
      () => assertOptionPayable(position('PARTIALLY_PAID', options), options[0]!),
      'POSITION_ALREADY_PAID',
    );
    expect(() => assertOptionPayable(position('PARTIALLY_PAID', options), options[2]!)).not.to.throw();
  });
});

describe('amount due (multe reduction)', () => {
  const fine = {
    installment: 0,
    amountCents: 8750,
    transfers: [{ amountCents: 8000 }, { amountCents: 750 }],
  };

  it('is the reduced amount within the reduction window, taken off the first transfer', () => {
    const due = amountDueCents(fine, { reducedAmountCents: 6125, reducedUntil: '2026-11-10' }, '2026-11-10');
    expect(due).to.equal(6125);
    expect(transferAmountsFor(fine, due)).to.deep.equal([5375, 750]);
  });

  it('is the full amount after the window, without a reduction, or for an installment', () => {
    expect(
      amountDueCents(fine, { reducedAmountCents: 6125, reducedUntil: '2026-11-10' }, '2026-11-11'),
    ).to.equal(8750);
    expect(amountDueCents(fine, null, '2026-11-01')).to.equal(8750);
    expect(
      amountDueCents(
        { ...fine, installment: 1 },
        { reducedAmountCents: 6125, reducedUntil: '2099-01-01' },
        '2026-11-01',
      ),
    ).to.equal(8750);
    expect(transferAmountsFor(fine, 8750)).to.deep.equal([8000, 750]);
  });

  it('ignores a reduction the first transfer cannot absorb or that is not a reduction', () => {
    const until = '2099-01-01';
    expect(amountDueCents(fine, { reducedAmountCents: 500, reducedUntil: until }, '2026-11-01')).to.equal(
      8750,
    );
    expect(amountDueCents(fine, { reducedAmountCents: 9000, reducedUntil: until }, '2026-11-01')).to.equal(
      8750,
    );
  });
});

describe('pagoPA edge values', () => {
  it('turns a taxonomy category into the transferCategory code and leaves other accounting types alone', () => {
    expect(taxonomyCode('9/0101108TS/')).to.equal('0101108TS');
    expect(taxonomyCode('9/0301109AP')).to.equal('0301109AP');
    expect(taxonomyCode('2/1234567/')).to.equal('2/1234567/');
  });

  it('dates instants in Italian time and adds calendar days', () => {
    expect(italianDate(new Date('2026-12-31T23:30:00Z'))).to.equal('2027-01-01');
    expect(italianDate(new Date('2026-07-01T21:59:00Z'))).to.equal('2026-07-01');
    expect(addDays('2026-12-20', 30)).to.equal('2027-01-19');
    expect(addDays('2028-02-28', 1)).to.equal('2028-02-29');
  });
});

import { expect } from 'chai';
import { awaitsApplication, decideReceipt, type ReceiptFacts } from '../../src/domain/receipt.ts';

function facts(overrides: Partial<ReceiptFacts> = {}): ReceiptFacts {
  const option = { installment: 0, status: 'UNPAID' as const };
  return {
    outcome: 'OK',
    secondaryBeneficiary: false,
    amountCents: 1230,
    position: { status: 'VALID', options: [option] },
    option,
    amountsDueCents: [1230],
    ...overrides,
  };
}

describe('what a receipt does to its position', () => {
  it('applies a receipt for an unpaid option of a valid position, without a flag', () => {
    expect(decideReceipt(facts())).to.deep.equal({ apply: true, flag: null });
  });

  it('keeps without applying a negative, secondary, unknown, cancelled, inactive or double receipt', () => {
    const paidOption = { installment: 0, status: 'PAID' as const };
    const cases: Array<[Partial<ReceiptFacts>, string]> = [
      [{ outcome: 'KO' }, 'NEGATIVE_OUTCOME'],
      [{ secondaryBeneficiary: true }, 'SECONDARY_BENEFICIARY'],
      [{ position: null, option: null }, 'UNKNOWN_POSITION'],
      [{ position: { status: 'CANCELLED', options: [] } }, 'POSITION_CANCELLED'],
      [{ position: { status: 'RESERVED', options: [] } }, 'POSITION_NOT_PAYABLE'],
      [{ position: { status: 'PAID', options: [] } }, 'DOUBLE_PAYMENT'],
      [
        { option: paidOption, position: { status: 'PARTIALLY_PAID', options: [paidOption] } },
        'DOUBLE_PAYMENT',
      ],
    ];
    for (const [overrides, flag] of cases) {
      expect(decideReceipt(facts(overrides)), flag).to.deep.equal({ apply: false, flag });
    }
  });

  it('applies but flags a late payment, an overpayment of a plan and a different amount', () => {
    expect(decideReceipt(facts({ position: { status: 'EXPIRED', options: [] } }))).to.deep.equal({
      apply: true,
      flag: 'PAID_AFTER_EXPIRY',
    });
    const plan = [
      { installment: 0, status: 'UNPAID' as const },
      { installment: 1, status: 'PAID' as const },
    ];
    expect(decideReceipt(facts({ position: { status: 'PARTIALLY_PAID', options: plan } }))).to.deep.equal({
      apply: true,
      flag: 'OVERPAYMENT',
    });
    expect(decideReceipt(facts({ amountCents: 1000 }))).to.deep.equal({
      apply: true,
      flag: 'AMOUNT_MISMATCH',
    });
    expect(decideReceipt(facts({ amountCents: 1000, amountsDueCents: [1230, 1000] }))).to.deep.equal({
      apply: true,
      flag: null,
    });
  });

  it('says a stored receipt still awaits application until it is linked, unless its flag closes nothing', () => {
    expect(awaitsApplication({ optionId: null, flaggedReason: null })).to.equal(true);
    expect(awaitsApplication({ optionId: null, flaggedReason: 'PAID_AFTER_EXPIRY' })).to.equal(true);
    expect(awaitsApplication({ optionId: 7, flaggedReason: null })).to.equal(false);
    expect(awaitsApplication({ optionId: null, flaggedReason: 'DOUBLE_PAYMENT' })).to.equal(false);
    expect(awaitsApplication({ optionId: null, flaggedReason: 'UNKNOWN_POSITION' })).to.equal(false);
  });
});

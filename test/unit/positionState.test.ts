import { expect } from 'chai';
import {
  POSITION_STATUSES,
  assertOptionTransition,
  assertTransition,
  canTransition,
  isPayable,
  statusAfterPayment,
  type PositionStatus,
} from '../../src/domain/positionState.ts';
import { isDomainError } from '../../src/domain/errors.ts';

function transitionError(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    return isDomainError(err) ? err.code : 'not a DomainError';
  }
  return undefined;
}

describe('position state machine', () => {
  const legal: Array<[PositionStatus, PositionStatus]> = [
    ['RESERVED', 'VALID'],
    ['RESERVED', 'RELEASED'],
    ['VALID', 'PAID'],
    ['VALID', 'PARTIALLY_PAID'],
    ['VALID', 'CANCELLED'],
    ['VALID', 'EXPIRED'],
    ['PARTIALLY_PAID', 'PAID'],
    ['EXPIRED', 'PAID'],
    ['PAID', 'REPORTED'],
    ['REPORTED', 'RECONCILED'],
  ];
  for (const [from, to] of legal) {
    it(`allows ${from} → ${to}`, () => {
      expect(canTransition(from, to)).to.equal(true);
      expect(transitionError(() => assertTransition(from, to))).to.equal(undefined);
    });
  }

  const illegal: Array<[PositionStatus, PositionStatus]> = [
    ['RESERVED', 'PAID'],
    ['CANCELLED', 'PAID'],
    ['CANCELLED', 'VALID'],
    ['RELEASED', 'VALID'],
    ['PAID', 'VALID'],
    ['PAID', 'CANCELLED'],
    ['PARTIALLY_PAID', 'CANCELLED'],
    ['RECONCILED', 'PAID'],
    ['PAID', 'RECONCILED'],
    ['VALID', 'VALID'],
  ];
  for (const [from, to] of illegal) {
    it(`refuses ${from} → ${to} with INVALID_STATE_TRANSITION`, () => {
      expect(canTransition(from, to)).to.equal(false);
      expect(transitionError(() => assertTransition(from, to))).to.equal('INVALID_STATE_TRANSITION');
    });
  }

  it('has terminal states with no way out', () => {
    for (const terminal of ['CANCELLED', 'RELEASED', 'RECONCILED'] as const) {
      for (const to of POSITION_STATUSES)
        expect(canTransition(terminal, to), `${terminal}→${to}`).to.equal(false);
    }
  });

  it('offers only VALID and PARTIALLY_PAID positions to the node', () => {
    expect(POSITION_STATUSES.filter(isPayable)).to.deep.equal(['VALID', 'PARTIALLY_PAID']);
  });

  it('refuses to un-pay a payment option', () => {
    expect(transitionError(() => assertOptionTransition('PAID', 'UNPAID'))).to.equal(
      'INVALID_STATE_TRANSITION',
    );
    expect(transitionError(() => assertOptionTransition('UNPAID', 'PAID'))).to.equal(undefined);
    expect(transitionError(() => assertOptionTransition('UNPAID', 'REPORTED'))).to.equal(
      'INVALID_STATE_TRANSITION',
    );
  });

  describe('statusAfterPayment', () => {
    it('is PAID when the single option is paid, whatever the installments say', () => {
      const status = statusAfterPayment([
        { installment: 0, status: 'PAID' },
        { installment: 1, status: 'UNPAID' },
        { installment: 2, status: 'UNPAID' },
      ]);
      expect(status).to.equal('PAID');
    });
    it('is PARTIALLY_PAID while some installments are unpaid', () => {
      const status = statusAfterPayment([
        { installment: 0, status: 'UNPAID' },
        { installment: 1, status: 'PAID' },
        { installment: 2, status: 'UNPAID' },
      ]);
      expect(status).to.equal('PARTIALLY_PAID');
    });
    it('is PAID when every installment is paid', () => {
      const status = statusAfterPayment([
        { installment: 1, status: 'PAID' },
        { installment: 2, status: 'REPORTED' },
      ]);
      expect(status).to.equal('PAID');
    });
    it('refuses a position with nothing paid', () => {
      expect(transitionError(() => statusAfterPayment([{ installment: 0, status: 'UNPAID' }]))).to.equal(
        'INVALID_STATE_TRANSITION',
      );
    });
  });
});

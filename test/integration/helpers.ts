// Shared helpers for the DB specs: validated debt positions, the notices (IUV / notice number) their
// options get (built by the domain from sequence values, as the app will), and error assertions.

import { expect } from 'chai';
import { isDomainError, type DomainError, type ErrorCode } from '../../src/domain/errors.ts';
import {
  validateDebtPosition,
  type DebtPosition,
  type PaymentOptionDraft,
} from '../../src/domain/position.ts';
import { buildAux3FromSequence } from '../../src/domain/noticeNumber.ts';
import type { Notice } from '../../src/db/repositories/positions.ts';
import type { Store } from '../../src/db/store.ts';
import { TEST_IBAN, TEST_POSTAL_IBAN } from '../support/db.ts';

export const DEBTOR = { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Mario Rossi', city: 'Torino' };
export const CHANGE = { cause: 'test', actor: 'mocha' };

let positionCounter = 0;

/** A fresh positionId, unique within the run. */
export function nextPositionId(): string {
  positionCounter += 1;
  return `POS-${process.pid}-${positionCounter}`;
}

function option(installment: number, amountCents: number, enteFiscalCode: string): PaymentOptionDraft {
  return {
    installment,
    amountCents,
    dueDate: '2030-12-31',
    transfers: [
      { enteFiscalCode, amountCents: amountCents - 100, iban: TEST_IBAN, category: '9/0101108TS/' },
      { enteFiscalCode, amountCents: 100, iban: TEST_POSTAL_IBAN, category: '9/0101108TS/' },
    ],
  };
}

/** A valid position: a single payment (installment 0) and, when asked, an installment plan 1..n. */
export function samplePosition(
  enteFiscalCode: string,
  installments = 0,
  positionId = nextPositionId(),
): DebtPosition {
  const options = [option(0, 12_300, enteFiscalCode)];
  for (let i = 1; i <= installments; i++) options.push(option(i, 5_000 + i, enteFiscalCode));
  return validateDebtPosition(
    { positionId, description: 'TARI 2030', debtor: DEBTOR, options },
    { enteFiscalCode },
  );
}

/** Allocates `count` notices from the ente's sequence (aux 3, segregation code 01). */
export async function allocateNotices(store: Store, enteId: number, count: number): Promise<Notice[]> {
  const values = await store.iuv.allocate(enteId, count);
  return values.map((n) => buildAux3FromSequence('01', n));
}

/** Asserts that the promise rejects with a DomainError of this code (never its message text). */
export async function expectRejection(promise: Promise<unknown>, code: ErrorCode): Promise<DomainError> {
  const error = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(isDomainError(error, code), `expected DomainError ${code}, got ${String(error)}`).to.equal(true);
  return error as DomainError;
}

// Asserts that a call fails with a DomainError of a given code, so tests never depend on message text.

import { expect } from 'chai';
import { DomainError, type ErrorCode } from '../../src/domain/errors.ts';

export function expectDomainError(
  fn: () => unknown,
  code: ErrorCode,
  details?: Record<string, unknown>,
): DomainError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected a DomainError ${code}`).to.be.instanceOf(DomainError);
  const error = thrown as DomainError;
  expect(error.code).to.equal(code);
  if (details !== undefined) expect(error.details).to.include(details);
  return error;
}

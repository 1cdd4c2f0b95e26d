// Dates as the node writes them: local Italian time without an offset (as in pagoPA's own samples),
// and ids the node generates (paymentToken, CCP, IUR, message ids) from random bytes.

import { randomBytes } from 'node:crypto';
import { romeDate, romeDateTime } from '../pagopa/time.ts';

export { romeDate, romeDateTime };

/** A random id: prefix + hex digits, at most 35 characters as every pagoPA id field allows. */
export function randomId(prefix: string, bytes = 12): string {
  const id = `${prefix}${randomBytes(bytes).toString('hex')}`;
  if (id.length > 35) throw new RangeError(`id longer than 35 characters: ${prefix}`);
  return id;
}

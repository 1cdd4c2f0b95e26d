// Dates as the node writes them: local Italian time without an offset (as in pagoPA's own samples),
// and ids the node generates (paymentToken, CCP, IUR, message ids) from random bytes.

import { randomBytes } from 'node:crypto';

const ROME = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Rome',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** '2026-03-01T09:15:00' in Europe/Rome. */
export function romeDateTime(at: Date): string {
  return ROME.format(at).replace(' ', 'T');
}

/** '2026-03-01' in Europe/Rome. */
export function romeDate(at: Date): string {
  return romeDateTime(at).slice(0, 10);
}

/** A random id: prefix + hex digits, at most 35 characters as every pagoPA id field allows. */
export function randomId(prefix: string, bytes = 12): string {
  const id = `${prefix}${randomBytes(bytes).toString('hex')}`;
  if (id.length > 35) throw new RangeError(`id longer than 35 characters: ${prefix}`);
  return id;
}

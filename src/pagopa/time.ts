// Times as pagoPA writes them in RPTs, RTs and receipts: local Italian time without an offset
// (as in pagoPA's own samples), whatever zone the server runs in.

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

/** `2026-11-05T10:31:12` in Europe/Rome. */
export function romeDateTime(at: Date): string {
  return ROME.format(at).replace(' ', 'T');
}

/** `2026-11-05` in Europe/Rome. */
export function romeDate(at: Date): string {
  return romeDateTime(at).slice(0, 10);
}

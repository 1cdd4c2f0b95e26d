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

/** An Italian day's bounds as stored instants (ISO UTC): [from, to). */
export interface DayRange {
  fromIso: string;
  toIso: string;
}

/** The instant Italian midnight starts `date` (offset +01:00 or +02:00; midnight is never skipped). */
function romeMidnight(date: string): Date {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  for (const offsetHours of [1, 2]) {
    const candidate = new Date(utcMidnight - offsetHours * 3600_000);
    if (romeDateTime(candidate) === `${date}T00:00:00`) return candidate;
  }
  throw new RangeError(`no Italian midnight found for ${date}`);
}

/** The UTC bounds of an Italian calendar day (23, 24 or 25 hours long). */
export function romeDayRange(date: string): DayRange {
  const next = new Date(Date.parse(`${date}T12:00:00Z`) + 24 * 3600_000).toISOString().slice(0, 10);
  return { fromIso: romeMidnight(date).toISOString(), toIso: romeMidnight(next).toISOString() };
}

// The monitoring filters' day inputs: both accepted formats, calendar checks, and the UTC instant an
// Italian day starts (creation times are stored in UTC; an operator's "from 26/11" is the Italian day).

import { expect } from 'chai';
import { addDays, compactCode, parseDayInput, romeMidnightIso } from '../../../src/app/portal/monitoring.ts';
import { isDomainError } from '../../../src/domain/errors.ts';

describe('portal monitoring filters', () => {
  it('reads yyyy-mm-dd and dd/mm/yyyy days, and no day as no filter', () => {
    expect(parseDayInput('2026-11-26', 'dal')).to.equal('2026-11-26');
    expect(parseDayInput(' 26/11/2026 ', 'dal')).to.equal('2026-11-26');
    expect(parseDayInput('1/2/2026', 'dal')).to.equal('2026-02-01');
    expect(parseDayInput('', 'dal')).to.equal(null);
  });

  it('refuses what is not a calendar day, naming the field', () => {
    for (const bad of ['31/02/2026', '2026-13-01', 'ieri', '26-11-2026']) {
      let error: unknown = null;
      try {
        parseDayInput(bad, 'al');
      } catch (err) {
        error = err;
      }
      expect(isDomainError(error, 'INVALID_DATE'), bad).to.equal(true);
      expect((error as { details: { field?: string } }).details.field).to.equal('al');
    }
  });

  it('starts an Italian day at 23:00 UTC in winter and 22:00 UTC in summer, across the clock changes', () => {
    expect(romeMidnightIso('2026-01-15')).to.equal('2026-01-14T23:00:00.000Z');
    expect(romeMidnightIso('2026-07-15')).to.equal('2026-07-14T22:00:00.000Z');
    // 29 March 2026: clocks go forward at 02:00, the day still starts at +01:00.
    expect(romeMidnightIso('2026-03-29')).to.equal('2026-03-28T23:00:00.000Z');
    expect(romeMidnightIso('2026-03-30')).to.equal('2026-03-29T22:00:00.000Z');
    expect(romeMidnightIso('2026-10-26')).to.equal('2026-10-25T23:00:00.000Z');
  });

  it('adds days across months and strips the spaces of a printed notice number', () => {
    expect(addDays('2026-12-31', 1)).to.equal('2027-01-01');
    expect(addDays('2026-03-01', -1)).to.equal('2026-02-28');
    expect(compactCode(' 3010 0000 0000 0001 44 ')).to.equal('301000000000000144');
  });
});

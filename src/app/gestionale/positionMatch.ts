// Whether a validated position says exactly what a stored one says: an INSERT identical to the
// stored position is a retry (OK with its numbers), anything else is POSITION_DUPLICATE; an
// activation repeated with the same data is OK, with other data NOTICE_ALREADY_ACTIVE.

import type { DebtPosition, Debtor } from '../../domain/position.ts';
import type { StoredDebtor, StoredPosition } from '../../db/repositories/positions.ts';

const DEBTOR_FIELDS = [
  'type',
  'fiscalCode',
  'fullName',
  'email',
  'streetName',
  'civicNumber',
  'postalCode',
  'city',
  'stateProvinceRegion',
  'country',
] as const;

function sameDebtor(stored: StoredDebtor | null, wanted: Debtor | null): boolean {
  if (stored === null || wanted === null) return stored === wanted;
  return DEBTOR_FIELDS.every((f) => (stored[f] ?? null) === (wanted[f] ?? null));
}

/**
 * Same description, debtor, validity and options (amounts, dates, labels, transfers); `iuvs`
 * (per option, in the position's order) must match where given.
 */
export function samePosition(
  stored: StoredPosition,
  wanted: DebtPosition,
  iuvs: ReadonlyArray<string | null> = [],
): boolean {
  if (stored.positionId !== wanted.positionId || stored.description !== wanted.description) return false;
  if ((stored.validityDate ?? null) !== (wanted.validityDate ?? null)) return false;
  if (!sameDebtor(stored.debtor, wanted.debtor)) return false;
  if (stored.options.length !== wanted.options.length) return false;
  return wanted.options.every((option, i) => {
    const old = stored.options.find((o) => o.installment === option.installment);
    if (!old) return false;
    const iuv = iuvs[i];
    if (iuv && iuv !== old.iuv) return false;
    if (old.amountCents !== option.amountCents || old.dueDate !== option.dueDate) return false;
    if (old.description !== option.description || old.transfers.length !== option.transfers.length)
      return false;
    return option.transfers.every((t, k) => {
      const s = old.transfers[k];
      return (
        s !== undefined &&
        s.enteFiscalCode === t.enteFiscalCode &&
        s.amountCents === t.amountCents &&
        s.iban === t.iban &&
        s.category === t.category &&
        s.remittanceInformation === t.remittanceInformation
      );
    });
  });
}

/**
 * A multe notice reserved and never activated: its only option is the placeholder reserveNotices
 * wrote (no transfers, no amount). Such a position changes only through activateNotice.
 */
export function isUnactivatedReservation(position: StoredPosition): boolean {
  return position.options.length === 1 && position.options[0]?.transfers.length === 0;
}

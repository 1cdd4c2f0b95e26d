// ISO 11649 structured creditor reference ("RFkk…"), usable as the IUV of a payment started at the EC
// without a notice; the causale then uses /RFS/ instead of /RFB/. Spec: pagopa-facts §2 and §6.

import { domainError, isDomainError } from './errors.ts';
import { isIssuableCheckDigits, mod97 } from './iban.ts';

export type RfReference = string & { readonly __brand: 'RfReference' };

export const MAX_REFERENCE_LENGTH = 21;
export const MAX_RF_REFERENCE_LENGTH = 25;

const REFERENCE = /^[A-Z0-9]{1,21}$/;
const RF_REFERENCE = /^RF[0-9]{2}[A-Z0-9]{1,21}$/;

// Accepts the printed form (groups of four, any case) and yields the electronic one.
function normalize(s: string): string {
  return s.replace(/ /g, '').toUpperCase();
}

/** Prefixes a creditor reference with "RF" and its two check digits (98 - mod 97 of reference + "RF00"). */
export function buildRfReference(reference: string): RfReference {
  const normalized = normalize(reference);
  if (!REFERENCE.test(normalized)) {
    throw domainError('INVALID_RF_REFERENCE', 'creditor reference must be 1-21 letters or digits', {
      reason: 'format',
      value: reference,
    });
  }
  const checkDigits = String(98 - mod97(normalized + 'RF00')).padStart(2, '0');
  return ('RF' + checkDigits + normalized) as RfReference;
}

export function parseRfReference(s: string): RfReference {
  const normalized = normalize(s);
  if (normalized.length > MAX_RF_REFERENCE_LENGTH) {
    throw domainError('INVALID_RF_REFERENCE', 'RF reference must be at most 25 characters', {
      reason: 'length',
      value: s,
    });
  }
  if (!RF_REFERENCE.test(normalized)) {
    throw domainError(
      'INVALID_RF_REFERENCE',
      'RF reference must be RF, 2 check digits, 1-21 letters or digits',
      {
        reason: 'format',
        value: s,
      },
    );
  }
  const checkDigits = normalized.slice(2, 4);
  if (!isIssuableCheckDigits(checkDigits) || mod97(normalized.slice(4) + normalized.slice(0, 4)) !== 1) {
    throw domainError('INVALID_RF_REFERENCE', 'RF reference check digits do not match', {
      reason: 'check',
      value: s,
    });
  }
  return normalized as RfReference;
}

/** Tells an ISO 11649 IUV from a plain one without throwing, e.g. to choose between /RFS/ and /RFB/. */
export function isRfReference(s: string): boolean {
  try {
    parseRfReference(s);
    return true;
  } catch (err) {
    if (isDomainError(err, 'INVALID_RF_REFERENCE')) return false;
    throw err;
  }
}

// The PSP and payer facts notifyPayment carries beyond what the receipts table keeps, taken from the
// stored receipt document as src/pagopa/storedReceipt.ts reads it (the one parser of those documents)
// and fitted to gestionale-callback.xsd: clipped to its lengths, a payer kept only when its type,
// fiscal code and name are valid, an optional field dropped when it does not fit. Never fails (the
// notification is queued inside the transaction that closes the position, which must not fail
// because of it): an unreadable document, like a missing or odd field, is left out.

import type { Receipt } from '../../db/repositories/receipts.ts';
import { readStoredReceipt, type ReceiptParty } from '../../pagopa/storedReceipt.ts';
import { clip } from './callbackXml.ts';

/** A payer as pt:ctDebtor takes it; every value already fits the schema. */
export interface PayerDetails {
  type: 'F' | 'G';
  fiscalCode: string;
  fullName: string;
  streetName?: string;
  civicNumber?: string;
  postalCode?: string;
  city?: string;
  stateProvinceRegion?: string;
  country?: string;
  email?: string;
}

export interface ReceiptDetails {
  pspName: string | null;
  paymentMethod: string | null;
  feeCents: number | null;
  payer: PayerDetails | null;
}

// The patterns of pt:stDebtorFiscalCode, pt:stCountryCode and pt:stEmail.
const FISCAL_CODE = /^([A-Z0-9]{11,16}|ANONIMO)$/;
const COUNTRY = /^[A-Z]{2}$/;
const EMAIL = /^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/;

function optional(key: keyof PayerDetails, value: string | null, max: number, pattern?: RegExp) {
  const clipped = clip(value, max);
  if (clipped === null || (pattern && !pattern.test(clipped))) return {};
  return { [key]: clipped };
}

function payerOf(party: ReceiptParty | null): PayerDetails | null {
  if (!party) return null;
  const fiscalCode = party.fiscalCode?.toUpperCase() ?? '';
  const fullName = clip(party.fullName, 70);
  if ((party.type !== 'F' && party.type !== 'G') || !FISCAL_CODE.test(fiscalCode) || !fullName) return null;
  return {
    type: party.type,
    fiscalCode,
    fullName,
    ...optional('streetName', party.streetName, 70),
    ...optional('civicNumber', party.civicNumber, 16),
    ...optional('postalCode', party.postalCode, 16),
    ...optional('city', party.city, 35),
    ...optional('stateProvinceRegion', party.stateProvinceRegion, 35),
    ...optional('country', party.country, 2, COUNTRY),
    ...optional('email', party.email, 256, EMAIL),
  };
}

export function receiptDetails(receipt: Pick<Receipt, 'source' | 'document'>): ReceiptDetails {
  const rt = receipt.source === 'paaInviaRT';
  const details = readStoredReceipt(rt ? 'rt' : 'current', receipt.document);
  return {
    pspName: clip(details.pspName, 70),
    paymentMethod: clip(details.paymentMethod, 35),
    feeCents: details.feeCents,
    // The one who paid: the current model's <payer>; a legacy RT's soggettoPagatore, which
    // storedReceipt reads as the debtor (its soggettoVersante, the payer, is not used here).
    payer: payerOf(rt ? details.debtor : details.payer),
  };
}

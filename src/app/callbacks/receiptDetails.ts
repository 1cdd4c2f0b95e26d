// The PSP and payer facts notifyPayment carries beyond what the receipts table keeps: read from the
// stored receipt document, a current-model <receipt> (paSendRT / paSendRTV2: PSPCompanyName,
// paymentMethod, fee, payer) or a legacy RT (denominazioneAttestante, soggettoPagatore). Reading
// never fails: a missing or odd field is left out (the notification is queued inside the
// transaction that closes the position, which must not fail because of it).

import { XmlElement } from 'libxml2-wasm';
import { parseDecimalAmount } from '../../domain/money.ts';
import type { Receipt } from '../../db/repositories/receipts.ts';
import { parseUntrusted } from '../../xml/schema.ts';
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

const NONE: ReceiptDetails = { pspName: null, paymentMethod: null, feeCents: null, payer: null };

// The patterns of pt:stDebtorFiscalCode, pt:stCountryCode and pt:stEmail.
const FISCAL_CODE = /^([A-Z0-9]{11,16}|ANONIMO)$/;
const COUNTRY = /^[A-Z]{2}$/;
const EMAIL = /^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/;

function child(parent: XmlElement | null, name: string): XmlElement | null {
  for (let node = parent?.firstChild ?? null; node; node = node.next) {
    if (node instanceof XmlElement && node.name === name) return node;
  }
  return null;
}

function text(parent: XmlElement | null, ...path: string[]): string | null {
  let node = parent;
  for (const name of path) node = child(node, name);
  return node ? node.content.trim() : null;
}

function optional(key: keyof PayerDetails, value: string | null, max: number, pattern?: RegExp) {
  const clipped = clip(value, max);
  if (clipped === null || (pattern && !pattern.test(clipped))) return {};
  return { [key]: clipped };
}

function payerOf(fields: {
  type: string | null;
  fiscalCode: string | null;
  fullName: string | null;
  streetName: string | null;
  civicNumber: string | null;
  postalCode: string | null;
  city: string | null;
  stateProvinceRegion: string | null;
  country: string | null;
  email: string | null;
}): PayerDetails | null {
  const fiscalCode = fields.fiscalCode?.toUpperCase() ?? '';
  const fullName = clip(fields.fullName, 70);
  if ((fields.type !== 'F' && fields.type !== 'G') || !FISCAL_CODE.test(fiscalCode) || !fullName) return null;
  return {
    type: fields.type,
    fiscalCode,
    fullName,
    ...optional('streetName', fields.streetName, 70),
    ...optional('civicNumber', fields.civicNumber, 16),
    ...optional('postalCode', fields.postalCode, 16),
    ...optional('city', fields.city, 35),
    ...optional('stateProvinceRegion', fields.stateProvinceRegion, 35),
    ...optional('country', fields.country, 2, COUNTRY),
    ...optional('email', fields.email, 256, EMAIL),
  };
}

function feeOf(value: string | null): number | null {
  if (!value) return null;
  try {
    return parseDecimalAmount(value);
  } catch {
    return null;
  }
}

function currentReceipt(root: XmlElement): ReceiptDetails {
  const payer = child(root, 'payer');
  return {
    pspName: clip(text(root, 'PSPCompanyName'), 70),
    paymentMethod: clip(text(root, 'paymentMethod'), 35),
    feeCents: feeOf(text(root, 'fee')),
    payer: payerOf({
      type: text(payer, 'uniqueIdentifier', 'entityUniqueIdentifierType'),
      fiscalCode: text(payer, 'uniqueIdentifier', 'entityUniqueIdentifierValue'),
      fullName: text(payer, 'fullName'),
      streetName: text(payer, 'streetName'),
      civicNumber: text(payer, 'civicNumber'),
      postalCode: text(payer, 'postalCode'),
      city: text(payer, 'city'),
      stateProvinceRegion: text(payer, 'stateProvinceRegion'),
      country: text(payer, 'country'),
      email: text(payer, 'e-mail'),
    }),
  };
}

function legacyRt(root: XmlElement): ReceiptDetails {
  const payer = child(root, 'soggettoPagatore');
  return {
    pspName: clip(text(root, 'istitutoAttestante', 'denominazioneAttestante'), 70),
    paymentMethod: null,
    feeCents: null,
    payer: payerOf({
      type: text(payer, 'identificativoUnivocoPagatore', 'tipoIdentificativoUnivoco'),
      fiscalCode: text(payer, 'identificativoUnivocoPagatore', 'codiceIdentificativoUnivoco'),
      fullName: text(payer, 'anagraficaPagatore'),
      streetName: text(payer, 'indirizzoPagatore'),
      civicNumber: text(payer, 'civicoPagatore'),
      postalCode: text(payer, 'capPagatore'),
      city: text(payer, 'localitaPagatore'),
      stateProvinceRegion: text(payer, 'provinciaPagatore'),
      country: text(payer, 'nazionePagatore'),
      email: text(payer, 'e-mailPagatore'),
    }),
  };
}

export function receiptDetails(receipt: Pick<Receipt, 'source' | 'document'>): ReceiptDetails {
  let doc;
  try {
    doc = parseUntrusted(receipt.document);
  } catch {
    return NONE;
  }
  try {
    return receipt.source === 'paaInviaRT' ? legacyRt(doc.root) : currentReceipt(doc.root);
  } catch {
    return NONE;
  } finally {
    doc.dispose();
  }
}

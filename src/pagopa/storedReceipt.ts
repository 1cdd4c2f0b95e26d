// Reads a stored receipt document whole, for getReceipt and the payment views: a current-model
// <receipt> as paSendRT / paSendRTV2 carried it (pagopa-facts §5, §8) or a legacy RT (PagInf_RPT_RT
// 6.2.0, §6). Documents were validated when they arrived, so this only reads: by local name, never
// failing on an odd or missing field (it is left null). Amounts become integer cents.

import { XmlElement } from 'libxml2-wasm';
import { parseDecimalAmount } from '../domain/money.ts';
import { parseUntrusted } from '../xml/schema.ts';

export type StoredReceiptFormat = 'current' | 'rt';

/** A subject (debtor, payer) as the document states it; values are not checked against our schema. */
export interface ReceiptParty {
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
}

export interface ReceiptTransferLine {
  index: number;
  enteFiscalCode: string | null;
  amountCents: number | null;
  iban: string | null;
  /** As written: a taxonomy code (current model) or `9/<code>/` (RT datiSpecificiRiscossione). */
  category: string | null;
  remittanceInformation: string | null;
  /** RT only: each payment line has its own IUR. */
  iur: string | null;
}

export interface ReceiptDocumentDetails {
  description: string | null;
  pspName: string | null;
  pspFiscalCode: string | null;
  channelId: string | null;
  paymentMethod: string | null;
  feeCents: number | null;
  debtor: ReceiptParty | null;
  payer: ReceiptParty | null;
  transfers: ReceiptTransferLine[];
}

const EMPTY: ReceiptDocumentDetails = {
  description: null,
  pspName: null,
  pspFiscalCode: null,
  channelId: null,
  paymentMethod: null,
  feeCents: null,
  debtor: null,
  payer: null,
  transfers: [],
};

// Each element's children are walked once and indexed by name: a receipt is read field by field, and
// walking libxml2-wasm siblings allocates a wrapper per node (reconciliation reads every receipt).
const childIndex = new WeakMap<XmlElement, Map<string, XmlElement[]>>();

function children(parent: XmlElement | null, name: string): XmlElement[] {
  if (!parent) return [];
  let index = childIndex.get(parent);
  if (!index) {
    index = new Map();
    for (let node = parent.firstChild; node; node = node.next) {
      if (!(node instanceof XmlElement)) continue;
      const named = index.get(node.name);
      if (named) named.push(node);
      else index.set(node.name, [node]);
    }
    childIndex.set(parent, index);
  }
  return index.get(name) ?? [];
}

function child(parent: XmlElement | null, name: string): XmlElement | null {
  return children(parent, name)[0] ?? null;
}

function text(parent: XmlElement | null, ...path: string[]): string | null {
  let node = parent;
  for (const name of path) node = child(node, name);
  const value = node?.content.trim();
  return value ? value : null;
}

function cents(value: string | null): number | null {
  if (!value) return null;
  try {
    return parseDecimalAmount(value);
  } catch {
    return null;
  }
}

function currentParty(node: XmlElement | null): ReceiptParty | null {
  if (!node) return null;
  return {
    type: text(node, 'uniqueIdentifier', 'entityUniqueIdentifierType'),
    fiscalCode: text(node, 'uniqueIdentifier', 'entityUniqueIdentifierValue'),
    fullName: text(node, 'fullName'),
    streetName: text(node, 'streetName'),
    civicNumber: text(node, 'civicNumber'),
    postalCode: text(node, 'postalCode'),
    city: text(node, 'city'),
    stateProvinceRegion: text(node, 'stateProvinceRegion'),
    country: text(node, 'country'),
    email: text(node, 'e-mail'),
  };
}

function currentReceipt(root: XmlElement): ReceiptDocumentDetails {
  return {
    description: text(root, 'description'),
    pspName: text(root, 'PSPCompanyName'),
    pspFiscalCode: text(root, 'pspFiscalCode'),
    channelId: text(root, 'idChannel'),
    paymentMethod: text(root, 'paymentMethod'),
    feeCents: cents(text(root, 'fee')),
    debtor: currentParty(child(root, 'debtor')),
    payer: currentParty(child(root, 'payer')),
    transfers: children(child(root, 'transferList'), 'transfer').map((t, i) => ({
      index: Number(text(t, 'idTransfer') ?? i + 1),
      enteFiscalCode: text(t, 'fiscalCodePA'),
      amountCents: cents(text(t, 'transferAmount')),
      iban: text(t, 'IBAN'),
      category: text(t, 'transferCategory'),
      remittanceInformation: text(t, 'remittanceInformation'),
      iur: null,
    })),
  };
}

/** soggettoPagatore / soggettoVersante: the same fields, suffixed with the role. */
function rtParty(node: XmlElement | null, role: 'Pagatore' | 'Versante'): ReceiptParty | null {
  if (!node) return null;
  return {
    type: text(node, `identificativoUnivoco${role}`, 'tipoIdentificativoUnivoco'),
    fiscalCode: text(node, `identificativoUnivoco${role}`, 'codiceIdentificativoUnivoco'),
    fullName: text(node, `anagrafica${role}`),
    streetName: text(node, `indirizzo${role}`),
    civicNumber: text(node, `civico${role}`),
    postalCode: text(node, `cap${role}`),
    city: text(node, `localita${role}`),
    stateProvinceRegion: text(node, `provincia${role}`),
    country: text(node, `nazione${role}`),
    email: text(node, `e-mail${role}`),
  };
}

function legacyRt(root: XmlElement): ReceiptDocumentDetails {
  const lines = children(child(root, 'datiPagamento'), 'datiSingoloPagamento');
  const ente = text(root, 'dominio', 'identificativoDominio');
  return {
    description: text(lines[0] ?? null, 'causaleVersamento'),
    pspName: text(root, 'istitutoAttestante', 'denominazioneAttestante'),
    pspFiscalCode: null,
    channelId: null,
    paymentMethod: null,
    feeCents: null,
    debtor: rtParty(child(root, 'soggettoPagatore'), 'Pagatore'),
    payer: rtParty(child(root, 'soggettoVersante'), 'Versante'),
    transfers: lines.map((line, i) => ({
      index: i + 1,
      enteFiscalCode: ente,
      amountCents: cents(text(line, 'singoloImportoPagato')),
      iban: null,
      category: text(line, 'datiSpecificiRiscossione'),
      remittanceInformation: text(line, 'causaleVersamento'),
      iur: text(line, 'identificativoUnivocoRiscossione'),
    })),
  };
}

/** The document's details; an unreadable document gives empty details rather than an error. */
export function readStoredReceipt(format: StoredReceiptFormat, document: string): ReceiptDocumentDetails {
  let doc;
  try {
    doc = parseUntrusted(document);
  } catch {
    return EMPTY;
  }
  try {
    return format === 'rt' ? legacyRt(doc.root) : currentReceipt(doc.root);
  } catch {
    return EMPTY;
  } finally {
    doc.dispose();
  }
}

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

// ---------------------------------------------------------------------------------------------
// The transfers alone, for reconciliation, which reads every paid receipt of an ente on each run:
// a libxml2-wasm parse and walk of the whole document cost ≈ 0.13 ms per receipt, 60% of the
// matching. A current-model receipt is our own copy, serialised by libxml2 when it arrived after
// XSD validation (src/soap/pagopa/currentModel.ts receiptDocument), so a scan of its tags gives the
// same transferList. The scan handles what that serialisation can hold (prefixes, attributes,
// comments, CDATA, predefined and numeric character references) and checks that end tags match;
// on anything else — a DOCTYPE or any other `<!`, a processing instruction, another entity
// reference, unbalanced tags — it gives up and the document is read by libxml2 as before, so an
// odd document still gives what readStoredReceipt gives. What it does not do is check the rest of
// XML well-formedness (e.g. unquoted attribute values, text after the root element): a damaged
// stored copy that libxml2 would reject (empty details) could still give its transfers here.

const TRANSFER_FIELDS = new Set([
  'idTransfer',
  'fiscalCodePA',
  'transferAmount',
  'IBAN',
  'transferCategory',
  'remittanceInformation',
]);
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const REFERENCE = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([a-z]+));/g;

/** Character data as the parser would give it, or null for a reference the scan does not know. */
function decodeText(raw: string): string | null {
  let value = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
  if (!value.includes('&')) return value;
  let unknown = false;
  value = value.replace(
    REFERENCE,
    (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
      if (name !== undefined) {
        const char = PREDEFINED[name];
        if (char === undefined) unknown = true;
        return char ?? whole;
      }
      const code = hex !== undefined ? parseInt(hex, 16) : Number(dec);
      if (code > 0x10ffff) {
        unknown = true;
        return whole;
      }
      return String.fromCodePoint(code);
    },
  );
  // A bare `&` left over is not well-formed: let libxml2 decide.
  return unknown || /&(?!(?:#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);)/.test(raw) ? null : value;
}

/** The transfers of a current-model receipt by a scan of its tags; null when the scan gives up. */
function scanCurrentTransfers(document: string): Array<Map<string, string>> | null {
  const open: string[] = [];
  const transfers: Array<Map<string, string>> = [];
  let rootSeen = false;
  let listSeen = false;
  let inList = false;
  let transfer: Map<string, string> | null = null;
  let field: string | null = null;
  let value = '';
  let at = 0;
  const length = document.length;
  while (at < length) {
    const lt = document.indexOf('<', at);
    const end = lt < 0 ? length : lt;
    if (end > at && field !== null) {
      const decoded = decodeText(document.slice(at, end));
      if (decoded === null) return null;
      value += decoded;
    }
    if (lt < 0) break;
    const next = document.charCodeAt(lt + 1);
    if (next === 0x21 /* ! */) {
      if (document.startsWith('<!--', lt)) {
        const close = document.indexOf('-->', lt + 4);
        if (close < 0) return null;
        at = close + 3;
        continue;
      }
      if (document.startsWith('<![CDATA[', lt)) {
        const close = document.indexOf(']]>', lt + 9);
        if (close < 0) return null;
        if (field !== null) value += document.slice(lt + 9, close);
        at = close + 3;
        continue;
      }
      // A DOCTYPE (never in a stored copy: parseUntrusted refuses it) or any other declaration.
      return null;
    }
    // A processing instruction: never in a stored copy, and libxml2-wasm's walk of the siblings
    // stops at one (readStoredReceipt then misses the fields after it): let libxml2 decide.
    if (next === 0x3f /* ? */) return null;
    if (next === 0x2f /* / */) {
      const close = document.indexOf('>', lt + 2);
      if (close < 0) return null;
      if (document.slice(lt + 2, close).trimEnd() !== open.pop()) return null;
      at = close + 1;
    } else {
      // A start tag: the name, then attributes whose quoted values may hold `>` or `/`.
      let i = lt + 1;
      for (; i < length; i += 1) {
        const c = document.charCodeAt(i);
        // space, tab, CR, LF, `/`, `>`
        if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a || c === 0x2f || c === 0x3e) break;
      }
      const name = document.slice(lt + 1, i);
      if (!name) return null;
      let quote = 0;
      for (; i < length; i += 1) {
        const c = document.charCodeAt(i);
        if (quote) {
          if (c === quote) quote = 0;
        } else if (c === 0x22 || c === 0x27) quote = c;
        else if (c === 0x3e) break;
      }
      if (i >= length) return null;
      const empty = document.charCodeAt(i - 1) === 0x2f;
      at = i + 1;
      if (open.length === 0) {
        if (rootSeen) return null;
        rootSeen = true;
      }
      const local = name.slice(name.indexOf(':') + 1);
      const depth = open.length;
      if (depth === 1 && !listSeen && local === 'transferList') {
        listSeen = true;
        inList = true;
      } else if (depth === 2 && inList && local === 'transfer') {
        transfer = new Map();
        transfers.push(transfer);
      } else if (depth === 3 && transfer && TRANSFER_FIELDS.has(local) && !transfer.has(local)) {
        // The first element of that name is the one read, as in readStoredReceipt.
        transfer.set(local, '');
        field = local;
        value = '';
      }
      open.push(name);
      if (!empty) continue;
      open.pop();
    }
    // An element closed (an end tag or an empty-element tag).
    const depth = open.length;
    if (depth === 3 && field !== null) {
      transfer!.set(field, value);
      field = null;
    } else if (depth === 2) transfer = null;
    else if (depth === 1) inList = false;
  }
  if (!rootSeen || open.length > 0 || field !== null) return null;
  return transfers;
}

function scannedText(fields: Map<string, string>, name: string): string | null {
  const value = fields.get(name)?.trim();
  return value ? value : null;
}

/**
 * The transfer lines of a stored receipt, the same as `readStoredReceipt(format, document).transfers`
 * but without parsing the whole document when it is a current-model receipt (see above).
 */
export function readStoredTransfers(format: StoredReceiptFormat, document: string): ReceiptTransferLine[] {
  const scanned = format === 'current' ? scanCurrentTransfers(document) : null;
  if (!scanned) return readStoredReceipt(format, document).transfers;
  return scanned.map((t, i) => ({
    index: Number(scannedText(t, 'idTransfer') ?? i + 1),
    enteFiscalCode: scannedText(t, 'fiscalCodePA'),
    amountCents: cents(scannedText(t, 'transferAmount')),
    iban: scannedText(t, 'IBAN'),
    category: scannedText(t, 'transferCategory'),
    remittanceInformation: scannedText(t, 'remittanceInformation'),
    iur: null,
  }));
}

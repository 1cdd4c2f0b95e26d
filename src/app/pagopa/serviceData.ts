// The service data a PSP sends for a spontaneous payment (paDemandPaymentNotice
// datiSpecificiServizioRequest, legacy paaChiediNumeroAvviso datiSpecificiServizio): an XML document,
// base64 on the wire. pagoPA's service catalogue defines one schema per service; the connector reads
// one simple shape for every spontaneous service (pagopa-facts §3 "model 4"):
//
//   <service xmlns="http://PuntoAccessoPSP.spcoop.gov.it/Servizio_generico">   (or <datiSpecifici>,
//     <codiceServizio>MENSA</codiceServizio>        optional; when present, the ente's service code
//     <codiceFiscale>RSSMRA85T10A562S</codiceFiscale>   optional debtor: a person (F) or, with 11
//     <partitaIva>00514490010</partitaIva>              digits or as partitaIva, a company (G)
//     <anagrafica>Mario Rossi</anagrafica>          optional debtor name (default: the code itself)
//     <importo>12.30</importo>                       required: euro, dot, at most 2 decimals
//     <causale>Mensa dicembre</causale>             optional description (default: the service's)
//   </service>
//
// Only direct children are read, by local name, in any namespace. The document is untrusted: a
// DOCTYPE is refused before parsing, and any problem is INVALID_INPUT (PAA_SEMANTICA).

import type { XmlElement } from 'libxml2-wasm';
import { XmlElement as XmlElementClass } from 'libxml2-wasm';
import { domainError } from '../../domain/errors.ts';
import { parseDecimalAmount, type AmountCents } from '../../domain/money.ts';
import { parseUntrusted, XmlRejected } from '../../xml/schema.ts';

export interface ServiceData {
  serviceCode: string | null;
  amountCents: AmountCents;
  debtor: { type: 'F' | 'G'; fiscalCode: string; fullName: string } | null;
  description: string | null;
}

const ROOTS = new Set(['service', 'datiSpecifici']);
/** Service data is a handful of fields: anything bigger is not what we expect. */
export const MAX_SERVICE_DATA_BYTES = 16 * 1024;

function invalid(message: string): never {
  throw domainError('INVALID_INPUT', message, { field: 'datiSpecificiServizio' });
}

function childTexts(root: XmlElement): Map<string, string> {
  const texts = new Map<string, string>();
  for (let child = root.firstChild; child; child = child.next) {
    if (child instanceof XmlElementClass && !texts.has(child.name))
      texts.set(child.name, child.content.trim());
  }
  return texts;
}

function debtorOf(fields: Map<string, string>): ServiceData['debtor'] {
  const person = fields.get('codiceFiscale');
  const company = fields.get('partitaIva');
  const code = (person || company || '').toUpperCase();
  if (!code) return null;
  const type = company && !person ? 'G' : code.length === 11 ? 'G' : 'F';
  return { type, fiscalCode: code, fullName: fields.get('anagrafica') || code };
}

function readFields(bytes: Uint8Array): Map<string, string> {
  let doc;
  try {
    doc = parseUntrusted(bytes);
  } catch (err) {
    if (err instanceof XmlRejected) invalid('the service data is not well-formed XML without a DOCTYPE');
    throw err;
  }
  try {
    if (!ROOTS.has(doc.root.name)) invalid('the service data root must be <service> or <datiSpecifici>');
    return childTexts(doc.root);
  } finally {
    doc.dispose();
  }
}

/** Reads the decoded service data (the bytes inside the base64). */
export function parseServiceData(bytes: Uint8Array): ServiceData {
  if (bytes.length === 0) invalid('the service data is empty');
  if (bytes.length > MAX_SERVICE_DATA_BYTES) invalid('the service data is too large');
  const fields = readFields(bytes);
  const amount = fields.get('importo');
  if (!amount) invalid('the service data has no importo');
  return {
    serviceCode: fields.get('codiceServizio') || null,
    amountCents: parseDecimalAmount(amount),
    debtor: debtorOf(fields),
    description: fields.get('causale') || null,
  };
}

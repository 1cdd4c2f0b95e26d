// Reading an RT (Ricevuta Telematica, PagInf_RPT_RT 6.2.0, pagopa-facts §6) that reaches the
// connector base64-encoded in paaInviaRT or nodoChiediCopiaRT: it is validated against our RT
// schema first, then its fields are read; amounts become integer cents without floating point.

import path from 'node:path';
import type { XmlElement } from 'libxml2-wasm';
import { domainError } from '../domain/errors.ts';
import { parseDecimalAmount } from '../domain/money.ts';
import { parseUntrusted, schemaFor, XmlRejected } from '../xml/schema.ts';
import { XSD_DIR } from '../xml/paths.ts';
import { PAGAMENTI_NS } from './rpt.ts';

const RT_SCHEMA = path.join(XSD_DIR, 'pagopa/documents/rpt-rt.xsd');
const NS = { p: PAGAMENTI_NS };

/** codiceEsitoPagamento: 0 paid, 1 not paid, 2 partially paid, 3 time limit expired, 4 expired, partial. */
export type RtOutcomeCode = '0' | '1' | '2' | '3' | '4';

export interface RtPayment {
  amountCents: number;
  outcome: string | null;
  date: string;
  iur: string;
  remittance: string;
  category: string;
}

export interface RtData {
  enteFiscalCode: string;
  receiptMessageId: string;
  receiptDateTime: string;
  requestMessageId: string;
  pspId: string;
  pspName: string | null;
  outcomeCode: RtOutcomeCode;
  totalPaidCents: number;
  iuv: string;
  ccp: string;
  payerFiscalCode: string;
  payments: RtPayment[];
}

function text(node: XmlElement, xpath: string): string | null {
  const found = node.get(xpath, NS) as XmlElement | null;
  return found ? found.content.trim() : null;
}

function required(node: XmlElement, xpath: string): string {
  const value = text(node, xpath);
  if (value === null) throw domainError('INVALID_DOCUMENT', `the RT has no ${xpath}`, { field: xpath });
  return value;
}

/** Decodes, validates and reads an RT; a bad document is INVALID_DOCUMENT with the schema's first complaints. */
export function readRt(xml: string | Uint8Array): RtData {
  let doc;
  try {
    doc = parseUntrusted(xml);
  } catch (err) {
    if (err instanceof XmlRejected)
      throw domainError('INVALID_DOCUMENT', `the RT is rejected: ${err.message}`, {});
    throw err;
  }
  try {
    const verdict = schemaFor(RT_SCHEMA).validateNode(doc);
    if (!verdict.ok) {
      const detail = verdict.violations
        .slice(0, 3)
        .map((v) => v.message)
        .join(' ');
      throw domainError('INVALID_DOCUMENT', `the RT does not match its schema: ${detail}`, {});
    }
    const rt = doc.root;
    if (rt.name !== 'RT') throw domainError('INVALID_DOCUMENT', 'the document is not an RT', {});
    const payments = (rt.find('p:datiPagamento/p:datiSingoloPagamento', NS) as XmlElement[]).map((node) => ({
      amountCents: parseDecimalAmount(required(node, 'p:singoloImportoPagato')),
      outcome: text(node, 'p:esitoSingoloPagamento'),
      date: required(node, 'p:dataEsitoSingoloPagamento'),
      iur: required(node, 'p:identificativoUnivocoRiscossione'),
      remittance: required(node, 'p:causaleVersamento'),
      category: required(node, 'p:datiSpecificiRiscossione'),
    }));
    return {
      enteFiscalCode: required(rt, 'p:dominio/p:identificativoDominio'),
      receiptMessageId: required(rt, 'p:identificativoMessaggioRicevuta'),
      receiptDateTime: required(rt, 'p:dataOraMessaggioRicevuta'),
      requestMessageId: required(rt, 'p:riferimentoMessaggioRichiesta'),
      pspId: required(
        rt,
        'p:istitutoAttestante/p:identificativoUnivocoAttestante/p:codiceIdentificativoUnivoco',
      ),
      pspName: text(rt, 'p:istitutoAttestante/p:denominazioneAttestante'),
      outcomeCode: required(rt, 'p:datiPagamento/p:codiceEsitoPagamento') as RtOutcomeCode,
      totalPaidCents: parseDecimalAmount(required(rt, 'p:datiPagamento/p:importoTotalePagato')),
      iuv: required(rt, 'p:datiPagamento/p:identificativoUnivocoVersamento'),
      ccp: required(rt, 'p:datiPagamento/p:CodiceContestoPagamento'),
      payerFiscalCode: required(
        rt,
        'p:soggettoPagatore/p:identificativoUnivocoPagatore/p:codiceIdentificativoUnivoco',
      ),
      payments,
    };
  } finally {
    doc.dispose();
  }
}

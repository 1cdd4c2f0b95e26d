// RPT and RT documents for the legacy flows (pagopa-facts §6): reads a base64 RPT after validating it
// against xsd/pagopa/documents/rpt-rt.xsd, and builds the RT a PSP issues for it (paid: outcome 0,
// one datiSingoloPagamento with its IUR per datiSingoloVersamento; not paid: outcome 1, 0.00).

import path from 'node:path';
import type { XmlDocument, XmlElement } from 'libxml2-wasm';
import { XmlElement as XmlElementClass } from 'libxml2-wasm';
import { formatAmount, parseDecimalAmount, sumCents, type AmountCents } from '../domain/money.ts';
import { XSD_DIR } from '../soap/manifest.ts';
import { el, leaf, document, type XmlNode } from '../xml/build.ts';
import { parseUntrusted, schemaFor, XmlRejected } from '../xml/schema.ts';
import { randomId, romeDate, romeDateTime } from './clock.ts';
import type { EmulatorPsp } from './db.ts';
import { NodeFault } from './faults.ts';

export const PAGAMENTI_NS = 'http://www.digitpa.gov.it/schemas/2011/Pagamenti/';
export const RPT_RT_XSD = path.join(XSD_DIR, 'pagopa/documents/rpt-rt.xsd');
const PREFIX = 'pay_i';

export interface RptTransfer {
  amountCents: AmountCents;
  causale: string;
  datiSpecificiRiscossione: string;
}

export interface ParsedRpt {
  xml: string;
  idDominio: string;
  messageId: string;
  /** dataOraMessaggioRichiesta, as written. */
  messageDateTime: string;
  dataEsecuzionePagamento: string;
  totalCents: AmountCents;
  tipoVersamento: string;
  iuv: string;
  ccp: string;
  beneficiaryName: string;
  payerName: string;
  transfers: RptTransfer[];
  /** The parts an RT repeats, ready to be written again. */
  copy: {
    dominio: XmlNode;
    enteBeneficiario: XmlNode;
    soggettoVersante: XmlNode | null;
    soggettoPagatore: XmlNode;
  };
}

function elementChildren(node: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (let child = node.firstChild; child; child = child.next) {
    if (child instanceof XmlElementClass) out.push(child);
  }
  return out;
}

function child(node: XmlElement, name: string): XmlElement | null {
  return elementChildren(node).find((c) => c.name === name && c.namespaceUri === PAGAMENTI_NS) ?? null;
}

function text(node: XmlElement, ...names: string[]): string {
  let current: XmlElement | null = node;
  for (const name of names) current = current ? child(current, name) : null;
  if (!current) throw new Error(`RPT without ${names.join('/')}`);
  return current.content.trim();
}

/** A copy of a (validated) element as a node the XML writer can emit again, under our prefix. */
function copyOf(node: XmlElement): XmlNode {
  const children = elementChildren(node);
  const name = `${PREFIX}:${node.name}`;
  if (children.length === 0) return el(name, null, node.content);
  return el(name, null, ...children.map(copyOf));
}

function readRoot(root: XmlElement, xml: string): ParsedRpt {
  const dati = child(root, 'datiVersamento') as XmlElement;
  const transfers = elementChildren(dati)
    .filter((c) => c.name === 'datiSingoloVersamento')
    .map((t) => ({
      amountCents: parseDecimalAmount(text(t, 'importoSingoloVersamento')),
      causale: text(t, 'causaleVersamento'),
      datiSpecificiRiscossione: text(t, 'datiSpecificiRiscossione'),
    }));
  const versante = child(root, 'soggettoVersante');
  return {
    xml,
    idDominio: text(root, 'dominio', 'identificativoDominio'),
    messageId: text(root, 'identificativoMessaggioRichiesta'),
    messageDateTime: text(root, 'dataOraMessaggioRichiesta'),
    dataEsecuzionePagamento: text(dati, 'dataEsecuzionePagamento'),
    totalCents: parseDecimalAmount(text(dati, 'importoTotaleDaVersare')),
    tipoVersamento: text(dati, 'tipoVersamento'),
    iuv: text(dati, 'identificativoUnivocoVersamento'),
    ccp: text(dati, 'codiceContestoPagamento'),
    beneficiaryName: text(root, 'enteBeneficiario', 'denominazioneBeneficiario'),
    payerName: text(root, 'soggettoPagatore', 'anagraficaPagatore'),
    transfers,
    copy: {
      dominio: copyOf(child(root, 'dominio') as XmlElement),
      enteBeneficiario: copyOf(child(root, 'enteBeneficiario') as XmlElement),
      soggettoVersante: versante ? copyOf(versante) : null,
      soggettoPagatore: copyOf(child(root, 'soggettoPagatore') as XmlElement),
    },
  };
}

/** Parses an RPT from its XML text; PPT_SINTASSI_XSD when it is not a schema-valid RPT. */
export function parseRptXml(xml: string): ParsedRpt {
  let doc: XmlDocument;
  try {
    doc = parseUntrusted(xml);
  } catch (err) {
    if (err instanceof XmlRejected) throw new NodeFault('PPT_SINTASSI_XSD', `RPT: ${err.message}`);
    throw err;
  }
  try {
    const root = doc.root;
    if (root.name !== 'RPT' || root.namespaceUri !== PAGAMENTI_NS) {
      throw new NodeFault('PPT_SINTASSI_XSD', 'RPT: the root element is not pay_i:RPT');
    }
    const result = schemaFor(RPT_RT_XSD).validateNode(doc);
    if (!result.ok) {
      const detail = result.violations
        .slice(0, 3)
        .map((v) => v.message)
        .join(' ');
      throw new NodeFault('PPT_SINTASSI_XSD', `RPT: ${detail}`);
    }
    return readRoot(root, xml);
  } finally {
    doc.dispose();
  }
}

/** Decodes the base64 `rpt` field of nodoInviaRPT / elementoListaRPT and parses it. */
export function readRpt(base64: string): ParsedRpt {
  return parseRptXml(Buffer.from(base64, 'base64').toString('utf8'));
}

/** Semantic checks of an RPT against the key its envelope states (PPT_SEMANTICA). */
export function checkRptKey(rpt: ParsedRpt, key: { idDominio: string; iuv: string; ccp: string }): void {
  if (rpt.idDominio !== key.idDominio) {
    throw new NodeFault('PPT_SEMANTICA', 'identificativoDominio della RPT diverso da quello della richiesta');
  }
  if (rpt.iuv !== key.iuv) {
    throw new NodeFault('PPT_SEMANTICA', 'IUV della RPT diverso da quello della richiesta');
  }
  if (rpt.ccp !== key.ccp) {
    throw new NodeFault(
      'PPT_SEMANTICA',
      'codiceContestoPagamento della RPT diverso da quello della richiesta',
    );
  }
  if (sumCents(rpt.transfers.map((t) => t.amountCents)) !== rpt.totalCents) {
    throw new NodeFault(
      'PPT_SEMANTICA',
      'la somma di importoSingoloVersamento differisce da importoTotaleDaVersare',
    );
  }
}

export type RtOutcome = '0' | '1';

export interface BuiltRt {
  xml: string;
  outcomeCode: RtOutcome;
  amountCents: number;
}

/**
 * The RT the PSP issues for an RPT. Outcome 0: the full amount, one datiSingoloPagamento per
 * datiSingoloVersamento, each with a fresh IUR. Outcome 1 (the citizen gave up): 0.00, no detail.
 */
export function buildRt(rpt: ParsedRpt, psp: EmulatorPsp, outcome: RtOutcome, at: Date): BuiltRt {
  const paid = outcome === '0';
  const n = (name: string, ...children: Array<XmlNode | string | null>) =>
    el(`${PREFIX}:${name}`, null, ...children);
  const v = (name: string, value: string) => leaf(`${PREFIX}:${name}`, value);
  const singoli = paid
    ? rpt.transfers.map((t) =>
        n(
          'datiSingoloPagamento',
          v('singoloImportoPagato', formatAmount(t.amountCents)),
          v('esitoSingoloPagamento', 'ESEGUITO'),
          v('dataEsitoSingoloPagamento', romeDate(at)),
          v('identificativoUnivocoRiscossione', randomId('IUR', 8).toUpperCase()),
          v('causaleVersamento', t.causale),
          v('datiSpecificiRiscossione', t.datiSpecificiRiscossione),
        ),
      )
    : [];
  const amountCents = paid ? rpt.totalCents : 0;
  const root = el(
    `${PREFIX}:RT`,
    { [`xmlns:${PREFIX}`]: PAGAMENTI_NS },
    v('versioneOggetto', '6.2.0'),
    rpt.copy.dominio,
    v('identificativoMessaggioRicevuta', randomId('RT', 12)),
    v('dataOraMessaggioRicevuta', romeDateTime(at)),
    v('riferimentoMessaggioRichiesta', rpt.messageId),
    v('riferimentoDataRichiesta', rpt.messageDateTime.slice(0, 10)),
    n(
      'istitutoAttestante',
      n(
        'identificativoUnivocoAttestante',
        v('tipoIdentificativoUnivoco', 'B'),
        v('codiceIdentificativoUnivoco', psp.idPsp),
      ),
      v('denominazioneAttestante', psp.companyName),
    ),
    rpt.copy.enteBeneficiario,
    rpt.copy.soggettoVersante,
    rpt.copy.soggettoPagatore,
    n(
      'datiPagamento',
      v('codiceEsitoPagamento', outcome),
      v('importoTotalePagato', formatAmount(amountCents as AmountCents)),
      v('identificativoUnivocoVersamento', rpt.iuv),
      v('CodiceContestoPagamento', rpt.ccp),
      ...singoli,
    ),
  );
  const xml = document(root);
  // A bug here must never reach an EC: the RT is checked against our schema before it leaves.
  const result = schemaFor(RPT_RT_XSD).validateXml(xml);
  if (!result.ok)
    throw new Error(`built an invalid RT: ${result.violations.map((x) => x.message).join(' ')}`);
  return { xml, outcomeCode: outcome, amountCents };
}

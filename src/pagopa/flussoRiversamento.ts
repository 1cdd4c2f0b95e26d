// The reporting flow (flusso di rendicontazione, root FlussoRiversamento, pagopa-facts §7): built by
// the emulator for a PSP's settlement and read by the connector after nodoChiediFlussoRendicontazione.
// Built flows are checked against the strict schema of their version (1.0.4 or 1.0.5); received
// flows against the tolerant schema that accepts either. Amounts are integer cents, never floats.

import path from 'node:path';
import type { XmlElement } from 'libxml2-wasm';
import { domainError } from '../domain/errors.ts';
import { formatAmount, parseDecimalAmount, type SignedCents } from '../domain/money.ts';
import type { FlowDocument, FlowOutcomeCode, FlowPayment } from '../reconciliation/model.ts';
import { document, el, leaf, type XmlChild, type XmlNode } from '../xml/build.ts';
import { XSD_DIR } from '../xml/paths.ts';
import { parseUntrusted, schemaFor, XmlRejected, type SchemaViolation } from '../xml/schema.ts';
import { PAGAMENTI_NS } from './rpt.ts';

export type FlowSchemaVersion = '1.0.4' | '1.0.5';

const SCHEMAS: Record<FlowSchemaVersion | 'tolerant', string> = {
  '1.0.4': path.join(XSD_DIR, 'pagopa/documents/flusso-riversamento-1.0.4.xsd'),
  '1.0.5': path.join(XSD_DIR, 'pagopa/documents/flusso-riversamento-1.0.5.xsd'),
  tolerant: path.join(XSD_DIR, 'pagopa/documents/flusso-riversamento.xsd'),
};

/** Outcome codes each official schema version accepts (1.0.5 drops 3 and adds the stand-in codes). */
const CODES_OF: Record<FlowSchemaVersion, readonly FlowOutcomeCode[]> = {
  '1.0.4': ['0', '3', '9'],
  '1.0.5': ['0', '4', '8', '9'],
};

const P = 'pay_i';
const NS = { p: PAGAMENTI_NS };
const REVOKED: FlowOutcomeCode = '3';

function p(name: string, ...children: XmlChild[]): XmlNode {
  return el(`${P}:${name}`, null, ...children);
}

function pleaf(name: string, value: string | number | null | undefined): XmlNode | null {
  return value === null || value === undefined || value === '' ? null : leaf(`${P}:${name}`, value);
}

function firstComplaints(violations: readonly SchemaViolation[]): string {
  return violations
    .slice(0, 3)
    .map((v) => `line ${v.line}: ${v.message}`)
    .join(' ');
}

/** The oldest official version that accepts every outcome code of the flow. */
export function flowSchemaVersionFor(doc: FlowDocument): FlowSchemaVersion {
  return doc.payments.every((line) => CODES_OF['1.0.4'].includes(line.outcomeCode)) ? '1.0.4' : '1.0.5';
}

/**
 * singoloImportoPagato is positive in both official schemas; a revoked payment (code 3) is carried
 * in the model as a negative amount, so its sign is dropped on writing and restored on reading.
 */
function writtenLineAmount(line: FlowPayment, index: number): string {
  const revoked = line.outcomeCode === REVOKED;
  if (line.amountCents === 0 || revoked !== line.amountCents < 0) {
    throw domainError(
      'INVALID_DOCUMENT',
      `flow line ${index + 1}: the amount must be ${revoked ? 'negative for a revoked payment (code 3)' : 'positive'}`,
      { field: 'singoloImportoPagato', line: index + 1 },
    );
  }
  return formatAmount(Math.abs(line.amountCents) as SignedCents);
}

function flowLine(line: FlowPayment, index: number): XmlNode {
  return p(
    'datiSingoliPagamenti',
    pleaf('identificativoUnivocoVersamento', line.iuv),
    pleaf('identificativoUnivocoRiscossione', line.iur),
    pleaf('indiceDatiSingoloPagamento', line.transferIndex),
    pleaf('singoloImportoPagato', writtenLineAmount(line, index)),
    pleaf('codiceEsitoSingoloPagamento', line.outcomeCode),
    pleaf('dataEsitoSingoloPagamento', line.outcomeDate),
  );
}

function institution(kind: 'Mittente' | 'Ricevente', party: FlowDocument['sender']): XmlNode {
  return p(
    `istituto${kind}`,
    p(
      `identificativoUnivoco${kind}`,
      pleaf('tipoIdentificativoUnivoco', party.idType),
      pleaf('codiceIdentificativoUnivoco', party.id),
    ),
    pleaf(`denominazione${kind}`, party.name),
  );
}

/**
 * The flow as a complete XML document. The version only picks the schema the result must satisfy
 * (the document itself is the same): by default 1.0.4 when every code is 0, 3 or 9, else 1.0.5.
 * Totals are written as given, not recomputed, so a test can produce an inconsistent flow.
 */
export function buildFlussoRiversamento(
  doc: FlowDocument,
  opts: { version?: FlowSchemaVersion } = {},
): string {
  const version = opts.version ?? flowSchemaVersionFor(doc);
  const xml = document(
    el(
      `${P}:FlussoRiversamento`,
      { [`xmlns:${P}`]: PAGAMENTI_NS },
      pleaf('versioneOggetto', doc.version),
      pleaf('identificativoFlusso', doc.flowId),
      pleaf('dataOraFlusso', doc.flowDateTime),
      pleaf('identificativoUnivocoRegolamento', doc.trn),
      pleaf('dataRegolamento', doc.settlementDate),
      institution('Mittente', doc.sender),
      pleaf('codiceBicBancaDiRiversamento', doc.bic),
      institution('Ricevente', doc.receiver),
      pleaf('numeroTotalePagamenti', doc.paymentCount),
      pleaf('importoTotalePagamenti', formatAmount(doc.totalAmountCents as SignedCents)),
      ...doc.payments.map(flowLine),
    ),
  );
  const verdict = schemaFor(SCHEMAS[version]).validateXml(xml);
  if (!verdict.ok) {
    throw domainError(
      'INVALID_DOCUMENT',
      `the flow ${doc.flowId} breaks the FlussoRiversamento ${version} schema: ${firstComplaints(verdict.violations)}`,
      { flowId: doc.flowId, version },
    );
  }
  return xml;
}

function text(node: XmlElement, xpath: string): string | null {
  const found = node.get(xpath, NS) as XmlElement | null;
  return found ? found.content.trim() : null;
}

// The schema has made every required element present; this only narrows the type.
function required(node: XmlElement, xpath: string): string {
  const value = text(node, xpath);
  if (value === null) throw domainError('INVALID_DOCUMENT', `the flow has no ${xpath}`, { field: xpath });
  return value;
}

function readLine(node: XmlElement): FlowPayment {
  const outcomeCode = required(node, 'p:codiceEsitoSingoloPagamento') as FlowOutcomeCode;
  const written = parseDecimalAmount(required(node, 'p:singoloImportoPagato'));
  const index = text(node, 'p:indiceDatiSingoloPagamento');
  return {
    iuv: required(node, 'p:identificativoUnivocoVersamento'),
    iur: required(node, 'p:identificativoUnivocoRiscossione'),
    transferIndex: index === null ? null : Number(index),
    amountCents: outcomeCode === REVOKED ? -written : written,
    outcomeCode,
    outcomeDate: required(node, 'p:dataEsitoSingoloPagamento'),
  };
}

function readParty(node: XmlElement, kind: 'Mittente' | 'Ricevente'): FlowDocument['sender'] {
  const base = `p:istituto${kind}`;
  return {
    idType: required(node, `${base}/p:identificativoUnivoco${kind}/p:tipoIdentificativoUnivoco`) as
      'G' | 'A' | 'B',
    id: required(node, `${base}/p:identificativoUnivoco${kind}/p:codiceIdentificativoUnivoco`),
    name: text(node, `${base}/p:denominazione${kind}`),
  };
}

/**
 * Parses (refusing any DOCTYPE), validates against the tolerant schema and reads a flow; a bad
 * document is INVALID_DOCUMENT with the schema's first complaints. Totals are not checked against
 * the lines here: reconciliation reports that as an anomaly (see flowTotalsConsistent).
 */
export function readFlussoRiversamento(xml: string | Uint8Array): FlowDocument {
  let doc;
  try {
    doc = parseUntrusted(xml);
  } catch (err) {
    if (err instanceof XmlRejected) {
      throw domainError('INVALID_DOCUMENT', `the flow is rejected: ${err.message}`, { reason: err.reason });
    }
    throw err;
  }
  try {
    const verdict = schemaFor(SCHEMAS.tolerant).validateNode(doc);
    if (!verdict.ok) {
      throw domainError(
        'INVALID_DOCUMENT',
        `the flow does not match the FlussoRiversamento schema: ${firstComplaints(verdict.violations)}`,
        { violations: verdict.violations.slice(0, 3) },
      );
    }
    const root = doc.root;
    return {
      version: required(root, 'p:versioneOggetto') as FlowDocument['version'],
      flowId: required(root, 'p:identificativoFlusso'),
      flowDateTime: required(root, 'p:dataOraFlusso'),
      trn: required(root, 'p:identificativoUnivocoRegolamento'),
      settlementDate: required(root, 'p:dataRegolamento'),
      sender: readParty(root, 'Mittente'),
      bic: text(root, 'p:codiceBicBancaDiRiversamento'),
      receiver: readParty(root, 'Ricevente'),
      paymentCount: Number(required(root, 'p:numeroTotalePagamenti')),
      totalAmountCents: parseDecimalAmount(required(root, 'p:importoTotalePagamenti')),
      payments: (root.find('p:datiSingoliPagamenti', NS) as XmlElement[]).map(readLine),
    };
  } finally {
    doc.dispose();
  }
}

/**
 * True when numeroTotalePagamenti is the number of lines and importoTotalePagamenti the signed sum
 * of their amounts (a revoked line, code 3, is withheld from the settlement, so it counts negative).
 */
export function flowTotalsConsistent(doc: FlowDocument): boolean {
  let sum = 0n;
  for (const line of doc.payments) sum += BigInt(line.amountCents);
  return doc.paymentCount === doc.payments.length && sum === BigInt(doc.totalAmountCents);
}

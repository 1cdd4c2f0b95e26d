// Reader of the XML drop-folder file debtPositionsFile (xsd/flows/ppay-flows.xsd): the file twin of
// uploadDebtPositions, read into the same ImportRecords as ppay CSV. XML is not streamed: the file
// is parsed whole (libxml2-wasm, DOCTYPE refused) and validated against the schema, so it is capped
// at MAX_XML_FILE_BYTES; larger batches belong in CSV. Every file-level check (size, schema,
// signature, ente, control totals) is made before the first item is yielded.

import path from 'node:path';
import { XmlElement, type XmlDocument } from 'libxml2-wasm';
import { isDomainError } from '../../domain/errors.ts';
import { FLOWS_NS, XSD_DIR } from '../../xml/paths.ts';
import { parseUntrusted, schemaFor, XmlRejected } from '../../xml/schema.ts';
import { verifyEnveloped } from '../../xml/signing.ts';
import {
  FileFormatError,
  type ImportAction,
  type ImportDebtor,
  type ImportFile,
  type ImportFileHeader,
  type ImportItem,
  type ImportOption,
  type ImportPosition,
  type ImportRecord,
  type ImportTransfer,
} from './types.ts';
import { detachedCopy } from './cells.ts';

export const PPAY_XML_FORMAT = 'ppay-xml-1';
export { FLOWS_NS };
export const FLOWS_SCHEMA = path.join(XSD_DIR, 'flows/ppay-flows.xsd');
/**
 * Largest XML file read: 8 MiB, about 15,000 single-option items. The file is parsed, validated and
 * copied whole; measured at that size: about 3 s and 170 MB more resident memory (the wasm heap
 * of libxml2 does not shrink afterwards). Larger batches belong in ppay CSV, which streams.
 */
export const MAX_XML_FILE_BYTES = 8 * 1024 * 1024;

export interface XmlFileOptions {
  maxBytes?: number;
  /** When given, the ente the file must be for (the drop folder's): another one is F_ENTE. */
  enteFiscalCode?: string | undefined;
  /**
   * When given, the file must carry an enveloped signature that verifies against this pinned
   * certificate (F_SIGNATURE otherwise), and only the signed content is read.
   */
  trustedCertificatePem?: string | undefined;
}

/** Reads the whole input, refusing it (F_TOO_LARGE) as soon as it passes the cap. */
async function bytesOf(
  input: AsyncIterable<Uint8Array | string> | Uint8Array | string,
  maxBytes: number,
): Promise<Buffer> {
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const bytes = Buffer.from(input);
    if (bytes.length > maxBytes) throw tooLarge(maxBytes);
    return bytes;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = Buffer.from(chunk);
    size += bytes.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

function tooLarge(maxBytes: number): FileFormatError {
  return new FileFormatError(
    'F_TOO_LARGE',
    `an XML file is read whole and may be at most ${maxBytes} bytes: send larger batches as ppay CSV`,
  );
}

function signedContent(bytes: Buffer, pem: string): string {
  try {
    return verifyEnveloped(bytes.toString('utf8'), pem);
  } catch (err) {
    if (isDomainError(err, 'SIGNATURE_INVALID')) throw new FileFormatError('F_SIGNATURE', err.message);
    if (isDomainError(err)) throw new FileFormatError('F_FORMAT', err.message);
    throw err;
  }
}

function parsed(xml: Buffer | string): XmlDocument {
  try {
    return parseUntrusted(xml);
  } catch (err) {
    if (err instanceof XmlRejected)
      throw new FileFormatError('F_FORMAT', `the file is rejected: ${err.message}`);
    throw err;
  }
}

function validated(doc: XmlDocument): void {
  const root = doc.root;
  if (root.name !== 'debtPositionsFile' || root.namespaceUri !== FLOWS_NS) {
    throw new FileFormatError('F_SCHEMA', `the root element must be {${FLOWS_NS}}debtPositionsFile`);
  }
  const verdict = schemaFor(FLOWS_SCHEMA).validateNode(doc);
  if (!verdict.ok) {
    const first = verdict.violations.slice(0, 3).map((v) => `line ${v.line}: ${v.message}`);
    throw new FileFormatError(
      'F_SCHEMA',
      `the file does not match xsd/flows/ppay-flows.xsd: ${first.join(' ')}`.slice(0, 1024),
      verdict.violations[0]?.line,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Element reading. The document is valid, so required elements are there. The DOM is copied into
// plain nodes in one walk: looking fields up by XPath in the wasm DOM costs far more per field.
// ---------------------------------------------------------------------------------------------

interface PlainNode {
  name: string;
  text: string;
  children: PlainNode[];
}

function plain(element: XmlElement): PlainNode {
  const nodes: PlainNode[] = [];
  for (let node = element.firstChild; node !== null; node = node.next) {
    if (node instanceof XmlElement) nodes.push(plain(node));
  }
  return { name: element.name, text: nodes.length === 0 ? element.content.trim() : '', children: nodes };
}

function child(node: PlainNode, name: string): PlainNode | null {
  return node.children.find((c) => c.name === name) ?? null;
}

function children(node: PlainNode, name: string): PlainNode[] {
  return node.children.filter((c) => c.name === name);
}

function optionalText(node: PlainNode, name: string): string | undefined {
  return child(node, name)?.text;
}

function requiredText(node: PlainNode, name: string): string {
  return optionalText(node, name) ?? '';
}

function optionalNumber(node: PlainNode, name: string): number | undefined {
  const value = optionalText(node, name);
  return value === undefined ? undefined : Number(value);
}

function headerOf(root: PlainNode): ImportFileHeader {
  const header = child(root, 'header') as PlainNode;
  return {
    format: PPAY_XML_FORMAT,
    enteFiscalCode: requiredText(header, 'enteFiscalCode'),
    serviceCode: requiredText(header, 'serviceCode'),
    flowId: requiredText(header, 'flowId'),
    creationDateTime: requiredText(header, 'creationDateTime'),
    expectCount: optionalNumber(header, 'itemCount'),
    expectTotalCents: optionalNumber(header, 'totalAmountCents'),
  };
}

function debtorOf(node: PlainNode): ImportDebtor {
  return {
    type: requiredText(node, 'type') as ImportDebtor['type'],
    fiscalCode: requiredText(node, 'fiscalCode'),
    fullName: requiredText(node, 'fullName'),
    streetName: optionalText(node, 'streetName'),
    civicNumber: optionalText(node, 'civicNumber'),
    postalCode: optionalText(node, 'postalCode'),
    city: optionalText(node, 'city'),
    stateProvinceRegion: optionalText(node, 'stateProvinceRegion'),
    country: optionalText(node, 'country'),
    email: optionalText(node, 'email'),
  };
}

function transferOf(node: PlainNode): ImportTransfer {
  return {
    amountCents: Number(requiredText(node, 'amountCents')),
    enteFiscalCode: optionalText(node, 'enteFiscalCode'),
    iban: requiredText(node, 'iban'),
    category: requiredText(node, 'category'),
    remittanceInformation: optionalText(node, 'remittanceInformation'),
  };
}

function optionOf(node: PlainNode, sequence: number): ImportOption {
  return {
    installment: Number(requiredText(node, 'installment')),
    line: sequence,
    label: optionalText(node, 'description'),
    iuv: optionalText(node, 'iuv'),
    dueDate: requiredText(node, 'dueDate'),
    amountCents: Number(requiredText(node, 'amountCents')),
    transfers: children(node, 'transfer').map(transferOf),
  };
}

function positionOf(node: PlainNode, sequence: number): ImportPosition {
  const debtor = child(node, 'debtor');
  return {
    description: requiredText(node, 'description'),
    debtor: debtor ? debtorOf(debtor) : undefined,
    validityFrom: optionalText(node, 'validityDate'),
    metadata: children(child(node, 'metadata') ?? node, 'entry').map((e) => ({
      key: requiredText(e, 'key'),
      value: requiredText(e, 'value'),
    })),
    options: children(node, 'option').map((o) => optionOf(o, sequence)),
  };
}

/** One item → one record, or a row error (an action that does not match its content, a repeat). */
function itemOf(
  node: PlainNode,
  sequence: number,
  serviceCode: string,
  seen: Map<string, number>,
): ImportItem {
  const action = requiredText(node, 'action') as ImportAction;
  const position = child(node, 'position');
  const cancellation = child(node, 'cancellation');
  const positionId = requiredText((position ?? cancellation) as PlainNode, 'positionId');
  const error = (code: 'E_SYNTAX' | 'E_DUP_IN_FILE', field: string, message: string): ImportItem => ({
    error: { line: sequence, positionId, action, code, field, message },
  });
  if ((action === 'CANCEL') !== (cancellation !== null)) {
    return error(
      'E_SYNTAX',
      'action',
      action === 'CANCEL'
        ? 'CANCEL carries a cancellation, not a position'
        : `${action} carries a position, not a cancellation`,
    );
  }
  const earlier = seen.get(positionId);
  if (earlier !== undefined) {
    return error(
      'E_DUP_IN_FILE',
      'positionId',
      `position ${positionId} is also in item ${earlier} of this file`,
    );
  }
  seen.set(detachedCopy(positionId), sequence);
  const base = { positionId, lines: [sequence], serviceCode, warnings: [] };
  const record: ImportRecord =
    action === 'CANCEL'
      ? { ...base, action, reason: optionalText(cancellation as PlainNode, 'reason') }
      : { ...base, action, position: positionOf(position as PlainNode, sequence) };
  return { record };
}

function checkHeader(header: ImportFileHeader, items: readonly PlainNode[], options: XmlFileOptions): void {
  if (options.enteFiscalCode !== undefined && header.enteFiscalCode !== options.enteFiscalCode) {
    throw new FileFormatError(
      'F_ENTE',
      `the file is for ente ${header.enteFiscalCode}, this drop folder for ${options.enteFiscalCode}`,
    );
  }
  if (header.expectCount !== undefined && header.expectCount !== items.length) {
    throw new FileFormatError(
      'F_COUNT',
      `the file holds ${items.length} items, its header says ${header.expectCount}`,
    );
  }
  if (header.expectTotalCents === undefined) return;
  let total = 0n;
  for (const item of items) {
    for (const option of children(child(item, 'position') ?? item, 'option')) {
      total += BigInt(requiredText(option, 'amountCents'));
    }
  }
  if (total !== BigInt(header.expectTotalCents)) {
    throw new FileFormatError(
      'F_TOTAL',
      `the options of INSERT and UPDATE items add up to ${total} cents, the header says ${header.expectTotalCents}`,
    );
  }
}

/**
 * Reads a debtPositionsFile. Throws FileFormatError (F_TOO_LARGE, F_FORMAT, F_SIGNATURE,
 * F_SCHEMA, F_ENTE, F_COUNT, F_TOTAL) before returning; the items then never throw. Items carry
 * the item's 1-based sequence as their line; transfers are complete (the schema requires IBAN and
 * category), and the header's serviceCode is on every record.
 */
export async function readXmlFile(
  input: AsyncIterable<Uint8Array | string> | Uint8Array | string,
  options: XmlFileOptions = {},
): Promise<ImportFile> {
  const bytes = await bytesOf(input, options.maxBytes ?? MAX_XML_FILE_BYTES);
  const content = options.trustedCertificatePem ? signedContent(bytes, options.trustedCertificatePem) : bytes;
  const doc = parsed(content);
  let root: PlainNode;
  try {
    validated(doc);
    root = plain(doc.root);
  } finally {
    doc.dispose();
  }
  const header = headerOf(root);
  const nodes = children(root, 'item');
  checkHeader(header, nodes, options);
  const seen = new Map<string, number>();
  const items = nodes.map((node, i) => itemOf(node, i + 1, header.serviceCode ?? '', seen));
  return { header, items: fromArray(items) };
}

async function* fromArray(items: readonly ImportItem[]): AsyncGenerator<ImportItem> {
  yield* items;
}

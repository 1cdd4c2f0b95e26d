// The official pagoPA definitions in ../shared/pagopa-spec as validators, for tests that must prove
// a message is wire-compatible. Legacy WSDLs embed their schemas: those are extracted to a temporary
// folder (imports pointed at the shared files) and compiled from there; nothing is copied into the project.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { schemaFor, schemaSetFor, type CompiledSchema } from '../../src/xml/schema.ts';

export const SPEC_DIR = path.resolve(
  process.env.PAGOPA_SPEC_DIR ?? path.join(import.meta.dirname, '../../../shared/pagopa-spec'),
);

export function specAvailable(): boolean {
  return fs.existsSync(SPEC_DIR);
}

/**
 * Writes each inline xsd:schema of a WSDL to its own file: the namespace declarations of
 * wsdl:definitions are copied onto the schema element, and relative schemaLocations become
 * absolute paths into the shared spec folder. Returns the files by target namespace.
 */
export function extractInlineSchemas(wsdlFile: string, outDir: string): Map<string, string> {
  const text = fs.readFileSync(wsdlFile, 'utf8');
  const definitions = /<wsdl:definitions\b[^>]*>/.exec(text);
  if (!definitions) throw new Error(`${wsdlFile}: no wsdl:definitions`);
  const declarations = [...definitions[0].matchAll(/\sxmlns:([\w.-]+)="([^"]*)"/g)];
  const files = new Map<string, string>();
  let index = 0;
  for (const match of text.matchAll(/<xsd:schema\b([^>]*)>([\s\S]*?)<\/xsd:schema>/g)) {
    let attributes = match[1] ?? '';
    for (const [, prefix, uri] of declarations) {
      if (!attributes.includes(`xmlns:${prefix}=`)) attributes += ` xmlns:${prefix}="${uri}"`;
    }
    const targetNamespace = /targetNamespace="([^"]*)"/.exec(attributes)?.[1];
    if (targetNamespace === undefined) throw new Error(`${wsdlFile}: inline schema without targetNamespace`);
    const content = (match[2] ?? '').replace(
      /schemaLocation="([^"]+)"/g,
      (_all, location: string) => `schemaLocation="${path.resolve(path.dirname(wsdlFile), location)}"`,
    );
    const file = path.join(outDir, `${path.basename(wsdlFile, '.wsdl')}.${index++}.xsd`);
    fs.writeFileSync(
      file,
      `<?xml version="1.0" encoding="UTF-8"?>\n<xsd:schema${attributes}>${content}</xsd:schema>\n`,
    );
    files.set(targetNamespace, file);
  }
  return files;
}

/** Official WSDL file (relative to the spec folder) of each service the connector or emulator serves. */
const OFFICIAL_WSDL: Record<string, string> = {
  'paForNode.wsdl': 'current/paForNode.wsdl',
  'nodeForPa.wsdl': 'current/nodeForPa.wsdl',
  'PaPerNodo.wsdl': 'legacy/wsdl/PaPerNodo.wsdl',
  'PaPerNodoPagamentoPsp.wsdl': 'legacy/wsdl/PaPerNodoPagamentoPsp.wsdl',
  'PaPerNodoRichiestaAvvisi.wsdl': 'legacy/wsdl/PaPerNodoRichiestaAvvisi.wsdl',
  'NodoPerPa.wsdl': 'legacy/wsdl/NodoPerPa.wsdl',
};

const CURRENT_XSD: Record<string, { namespace: string; file: string }> = {
  'paForNode.wsdl': {
    namespace: 'http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd',
    file: 'current/xsd/paForNode.xsd',
  },
  'nodeForPa.wsdl': { namespace: 'http://ws.pagamenti.telematici.gov/', file: 'current/xsd/nodeForPa.xsd' },
};

let tmpDir: string | undefined;
const validators = new Map<string, CompiledSchema>();

/** A validator for the messages (body and header elements) of one pagoPA service, per the official files. */
export function officialValidator(wsdl: string): CompiledSchema {
  const cached = validators.get(wsdl);
  if (cached) return cached;
  const current = CURRENT_XSD[wsdl];
  let validator: CompiledSchema;
  if (current) {
    validator = schemaFor(path.join(SPEC_DIR, current.file));
  } else {
    const official = OFFICIAL_WSDL[wsdl];
    if (!official) throw new Error(`no official definition known for ${wsdl}`);
    tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-official-'));
    const dir = fs.mkdtempSync(path.join(tmpDir, `${path.basename(wsdl, '.wsdl')}-`));
    const extracted = extractInlineSchemas(path.join(SPEC_DIR, official), dir);
    validator = schemaSetFor([...extracted].map(([namespace, file]) => ({ namespace, file })));
  }
  validators.set(wsdl, validator);
  return validator;
}

/** The official RPT/RT schema and the FlussoRiversamento schemas (1.0.4 and 1.0.5). */
export const OFFICIAL_DOCUMENTS = {
  rptRt: () => path.join(SPEC_DIR, 'legacy/xsd/PagInf_RPT_RT_6_2_0.xsd'),
  flusso104: () => path.join(SPEC_DIR, 'xsd-common/FlussoRiversamento_1_0_4.xsd'),
  flusso105: () => path.join(SPEC_DIR, 'xsd-common/FlussoRiversamento_1_0_5.xsd'),
};

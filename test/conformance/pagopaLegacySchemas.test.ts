// Wire compatibility of our legacy pagoPA schemas (xsd/pagopa/legacy, xsd/pagopa/documents) with the
// official definitions kept as reference data in ../shared/pagopa-spec (override: PAGOPA_SPEC_DIR).
//
// The official legacy WSDLs declare their message schemas inline, so the inline xsd:schema elements
// are extracted into a temporary folder (imports pointed at the shared files) and compiled from there.
// Nothing official is ever copied into the project.
//
// What is checked:
//   1. every schema of ours compiles (and so do the official ones);
//   2. every official sample for the covered operations/documents is valid for ours iff it is valid
//      for the official schema (header blocks, body root, and the base64 documents inside);
//   3. the same for our fixtures (fixtures/pagopa/{legacy,documents}), whose file name also states
//      the expected verdict (valid-* / invalid-*);
//   4. structure: same global elements per service/document, and for each of them the same
//      normalised content model (names, order, cardinalities, nillable/default, value spaces).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { xmlFiles } from '../support/xmlFiles.ts';
import { extractInlineSchemas } from '../support/officialSchemas.ts';
import { XmlDocument, XmlElement } from 'libxml2-wasm';
import {
  parseUntrusted,
  schemaFor,
  type CompiledSchema,
  type ValidationResult,
} from '../../src/xml/schema.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SPEC = path.resolve(process.env.PAGOPA_SPEC_DIR ?? path.join(ROOT, '../shared/pagopa-spec'));
const OURS_LEGACY = path.join(ROOT, 'xsd/pagopa/legacy');
const OURS_DOCS = path.join(ROOT, 'xsd/pagopa/documents');
const FIXTURES_LEGACY = path.join(ROOT, 'fixtures/pagopa/legacy');
const FIXTURES_DOCS = path.join(ROOT, 'fixtures/pagopa/documents');

const NS = {
  xs: 'http://www.w3.org/2001/XMLSchema',
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  ppt: 'http://ws.pagamenti.telematici.gov/',
  head: 'http://ws.pagamenti.telematici.gov/ppthead',
  pag: 'http://www.digitpa.gov.it/schemas/2011/Pagamenti/',
} as const;

// ---------------------------------------------------------------------------------------------
// what we cover

type ServiceName = 'PaPerNodo' | 'PaPerNodoPagamentoPsp' | 'PaPerNodoRichiestaAvvisi' | 'NodoPerPa';

const SERVICES: Record<ServiceName, { ours: string; operations: string[] }> = {
  PaPerNodo: {
    ours: 'paPerNodo.xsd',
    operations: ['paaInviaRT', 'paaInviaEsitoStorno', 'paaInviaRichiestaRevoca'],
  },
  PaPerNodoPagamentoPsp: {
    ours: 'paPerNodoPagamentoPsp.xsd',
    operations: ['paaVerificaRPT', 'paaAttivaRPT'],
  },
  PaPerNodoRichiestaAvvisi: { ours: 'paPerNodoRichiestaAvvisi.xsd', operations: ['paaChiediNumeroAvviso'] },
  NodoPerPa: {
    ours: 'nodoPerPa.xsd',
    operations: [
      'nodoInviaRPT',
      'nodoInviaCarrelloRPT',
      'nodoChiediStatoRPT',
      'nodoChiediCopiaRT',
      'nodoChiediListaPendentiRPT',
      'nodoChiediElencoFlussiRendicontazione',
      'nodoChiediFlussoRendicontazione',
      'nodoChiediInformativaPSP',
      'nodoPAChiediInformativaPA',
      'nodoChiediElencoQuadraturePA',
      'nodoChiediQuadraturaPA',
      'nodoInviaRichiestaStorno',
      'nodoInviaRispostaRevoca',
      'nodoChiediSceltaWISP',
    ],
  },
};
const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

const SERVICE_OF = new Map<string, ServiceName>();
for (const name of SERVICE_NAMES) for (const op of SERVICES[name].operations) SERVICE_OF.set(op, name);

/** The covered operation a body root belongs to (request `op` or answer `opRisposta`). */
function operationOf(bodyRootName: string): string | undefined {
  if (SERVICE_OF.has(bodyRootName)) return bodyRootName;
  const op = bodyRootName.replace(/Risposta$/, '');
  return op !== bodyRootName && SERVICE_OF.has(op) ? op : undefined;
}

const OUR_FILES = [
  'legacy/ppt-types.xsd',
  'legacy/ppthead-types.xsd',
  'legacy/ppthead-pa.xsd',
  'legacy/ppthead-pa-avvisi.xsd',
  'legacy/ppthead-nodo.xsd',
  'legacy/soap11-header-attributes.xsd',
  'legacy/paPerNodo.xsd',
  'legacy/paPerNodoPagamentoPsp.xsd',
  'legacy/paPerNodoRichiestaAvvisi.xsd',
  'legacy/nodoPerPa.xsd',
  'documents/common-types.xsd',
  'documents/rpt-rt.xsd',
  'documents/flusso-riversamento.xsd',
  'documents/flusso-riversamento-1.0.4.xsd',
  'documents/flusso-riversamento-1.0.5.xsd',
];

/** Official samples that these tests must find and check (the other samples are new-model ones). */
const EXPECTED_SAMPLES = [
  'RPT_example.xml',
  'RT_example.xml',
  'FlussoRiversamento_example.xml',
  'paaInviaRT_request.xml',
  'paaInviaRT_KO_response.xml',
  'paaVerificaRPT_request.xml',
  'paaVerificaRPT_response.xml',
  'nodoChiediElencoFlussiRendicontazione_response.xml',
  'nodoChiediFlussoRendicontazione_response.xml',
];

/** Samples that the official schemas themselves reject (none known at the reference snapshot). */
const OFFICIALLY_INVALID_SAMPLES: string[] = [];

type DocKind = 'rpt' | 'rt' | 'flusso';
const DOC_KINDS: DocKind[] = ['rpt', 'rt', 'flusso'];
const PAYLOAD_FIELDS = ['rpt', 'rt', 'xmlRendicontazione'];

// ---------------------------------------------------------------------------------------------
// official definitions: inline WSDL schemas extracted to a temporary folder

interface OfficialService {
  body: string; // extracted schema of the ppt namespace
  header: string; // extracted schema of the ppthead namespace
}

const official = {
  services: new Map<ServiceName, OfficialService>(),
  rptRt: '',
  flusso104: '',
  flusso105: '',
};

const ours = {
  service: (name: ServiceName) => path.join(OURS_LEGACY, SERVICES[name].ours),
  rptRt: path.join(OURS_DOCS, 'rpt-rt.xsd'),
  flusso: path.join(OURS_DOCS, 'flusso-riversamento.xsd'),
  flusso104: path.join(OURS_DOCS, 'flusso-riversamento-1.0.4.xsd'),
  flusso105: path.join(OURS_DOCS, 'flusso-riversamento-1.0.5.xsd'),
};

// ---------------------------------------------------------------------------------------------
// validation helpers

function describeResult(result: ValidationResult): string {
  if (result.ok) return 'valid';
  return `invalid (${result.violations.map((v) => `line ${v.line}: ${v.message}`).join('; ')})`;
}

/** Validates with both schemas, asserts the same verdict and returns it. */
function sameVerdict(
  label: string,
  oursSchema: CompiledSchema,
  officialSchema: CompiledSchema,
  node: XmlDocument | XmlElement,
): boolean {
  const a = oursSchema.validateNode(node);
  const b = officialSchema.validateNode(node);
  expect(a.ok, `${label}: ours is ${describeResult(a)}, official is ${describeResult(b)}`).to.equal(b.ok);
  return a.ok;
}

/** Verdict of a whole RPT / RT / FlussoRiversamento document, asserted equal to the official one. */
function checkDocument(label: string, kind: DocKind, doc: XmlDocument): boolean {
  if (kind !== 'flusso') return sameVerdict(label, schemaFor(ours.rptRt), schemaFor(official.rptRt), doc);
  // strict variants against their official version; the tolerant one against "1.0.4 or 1.0.5"
  const v104 = sameVerdict(`${label} [1.0.4]`, schemaFor(ours.flusso104), schemaFor(official.flusso104), doc);
  const v105 = sameVerdict(`${label} [1.0.5]`, schemaFor(ours.flusso105), schemaFor(official.flusso105), doc);
  const tolerant = schemaFor(ours.flusso).validateNode(doc);
  expect(tolerant.ok, `${label}: tolerant schema is ${describeResult(tolerant)}`).to.equal(v104 || v105);
  return tolerant.ok;
}

function docKindOf(root: XmlElement): DocKind {
  if (root.name === 'RPT') return 'rpt';
  if (root.name === 'RT') return 'rt';
  if (root.name === 'FlussoRiversamento') return 'flusso';
  throw new Error(`unexpected document root ${root.name}`);
}

function elementChildren(node: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (let child = node.firstChild; child; child = child.next)
    if (child instanceof XmlElement) out.push(child);
  return out;
}

interface SoapMessage {
  headers: XmlElement[];
  body: XmlElement;
}

function soapParts(doc: XmlDocument): SoapMessage {
  const envelope = doc.root;
  expect(`{${envelope.namespaceUri}}${envelope.name}`).to.equal(`{${NS.soap}}Envelope`);
  const parts = elementChildren(envelope);
  const header = parts.find((p) => p.name === 'Header' && p.namespaceUri === NS.soap);
  const bodyElement = parts.find((p) => p.name === 'Body' && p.namespaceUri === NS.soap);
  const body = bodyElement ? elementChildren(bodyElement)[0] : undefined;
  if (!body) throw new Error('the SOAP Body has no child element');
  return { headers: header ? elementChildren(header) : [], body };
}

/**
 * Checks header blocks, the body root and any base64 document inside (rpt, rt, xmlRendicontazione)
 * against ours and the official service; returns true when everything is valid.
 */
function checkSoapMessage(label: string, service: ServiceName, doc: XmlDocument): boolean {
  const { headers, body } = soapParts(doc);
  const oursSchema = schemaFor(ours.service(service));
  const off = official.services.get(service);
  if (!off) throw new Error(`no official schema for ${service}`);
  let ok = true;
  for (const header of headers) {
    ok = sameVerdict(`${label} header ${header.name}`, oursSchema, schemaFor(off.header), header) && ok;
  }
  ok = sameVerdict(`${label} body ${body.name}`, oursSchema, schemaFor(off.body), body) && ok;
  for (const field of body.find(PAYLOAD_FIELDS.map((f) => `.//${f}`).join(' | '))) {
    if (!(field instanceof XmlElement)) continue;
    const text = field.content.trim();
    if (!/^[A-Za-z0-9+/=\s]+$/.test(text)) continue; // not base64: the body verdict already says so
    const payload = parseUntrusted(Buffer.from(text, 'base64'));
    try {
      ok = checkDocument(`${label} ${field.name} payload`, docKindOf(payload.root), payload) && ok;
    } finally {
      payload.dispose();
    }
  }
  return ok;
}

type SampleKind = { service: ServiceName; doc?: undefined } | { service?: undefined; doc: DocKind };

/** What a sample is, if it belongs to the legacy operations and documents we cover. */
function legacySampleKind(source: string | XmlDocument): SampleKind | undefined {
  if (typeof source === 'string') return withDocument(source, (doc) => legacySampleKind(doc));
  const root = source.root;
  if (root.namespaceUri === NS.pag) return { doc: docKindOf(root) };
  if (root.namespaceUri !== NS.soap) return undefined;
  const operation = operationOf(soapParts(source).body.name);
  const service = operation ? SERVICE_OF.get(operation) : undefined;
  return service ? { service } : undefined;
}

function withDocument<T>(file: string, use: (doc: XmlDocument) => T): T {
  const doc = parseUntrusted(fs.readFileSync(file));
  try {
    return use(doc);
  } finally {
    doc.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// structural model: a normalised description of what each global element accepts on the wire

type Sig = string | number | boolean | Sig[] | { [key: string]: Sig };

class SchemaModel {
  readonly elements = new Map<string, XmlElement>();
  readonly types = new Map<string, XmlElement>();
  readonly attributes = new Map<string, XmlElement>();
  readonly groups = new Map<string, XmlElement>();
  readonly attributeGroups = new Map<string, XmlElement>();
  /** for a component declared inside xs:redefine: the original it redefines */
  private readonly redefined = new Map<XmlElement, XmlElement>();
  private readonly docs: XmlDocument[] = [];
  private readonly loaded = new Set<string>();

  constructor(file: string) {
    this.load(path.resolve(file));
  }

  dispose(): void {
    for (const doc of this.docs) doc.dispose();
  }

  private load(file: string): void {
    if (this.loaded.has(file)) return;
    this.loaded.add(file);
    const doc = XmlDocument.fromBuffer(fs.readFileSync(file), { url: file });
    this.docs.push(doc);
    for (const child of xsChildren(doc.root)) {
      const location = child.attr('schemaLocation')?.value;
      switch (child.name) {
        case 'include':
        case 'import':
          if (location) this.load(path.resolve(path.dirname(file), location));
          break;
        case 'redefine':
          if (!location) throw new Error('xs:redefine without schemaLocation');
          this.load(path.resolve(path.dirname(file), location));
          for (const component of xsChildren(child)) {
            if (component.name === 'annotation') continue;
            const map = this.mapFor(component.name);
            const key = componentKey(component);
            const original = map.get(key);
            if (!original) throw new Error(`redefine of unknown ${key}`);
            this.redefined.set(component, original);
            map.set(key, component);
          }
          break;
        case 'annotation':
          break;
        default:
          this.mapFor(child.name).set(componentKey(child), child);
      }
    }
  }

  private mapFor(kind: string): Map<string, XmlElement> {
    switch (kind) {
      case 'element':
        return this.elements;
      case 'simpleType':
      case 'complexType':
        return this.types;
      case 'attribute':
        return this.attributes;
      case 'group':
        return this.groups;
      case 'attributeGroup':
        return this.attributeGroups;
      default:
        throw new Error(`unsupported top-level xs:${kind}`);
    }
  }

  private lookup(map: Map<string, XmlElement>, from: XmlElement, attribute: string): XmlElement {
    const key = qname(from, attribute);
    const found = map.get(key);
    if (!found) throw new Error(`unresolved ${key}`);
    return found;
  }

  /** Global element names, as {namespace}local. */
  globalElements(namespaces: string[]): string[] {
    return [...this.elements.keys()]
      .filter((key) => namespaces.some((ns) => key.startsWith(`{${ns}}`)))
      .sort();
  }

  elementSig(decl: XmlElement, depth = 0): Sig {
    if (depth > 40) throw new Error('content model too deep (recursive type?)');
    const occurs = occursOf(decl);
    const ref = decl.attr('ref')?.value;
    const target = ref ? this.lookup(this.elements, decl, 'ref') : decl;
    if (target.attr('substitutionGroup') || target.attr('abstract'))
      throw new Error('substitution groups are not modelled');
    const sig: { [key: string]: Sig } = { element: elementName(target), occurs };
    for (const flag of ['nillable', 'default', 'fixed']) {
      const value = target.attr(flag)?.value;
      if (value !== undefined) sig[flag] = value;
    }
    const typeName = target.attr('type')?.value;
    if (typeName !== undefined) sig.type = this.typeSig(target, 'type', depth);
    else {
      const inline = xsChildren(target).find((c) => c.name === 'complexType' || c.name === 'simpleType');
      sig.type = inline ? this.typeNodeSig(inline, depth) : 'xs:anyType';
    }
    return sig;
  }

  private typeSig(from: XmlElement, attribute: string, depth: number): Sig {
    const key = qname(from, attribute);
    if (key.startsWith(`{${NS.xs}}`)) return `xs:${key.slice(NS.xs.length + 2)}`;
    return this.typeNodeSig(this.lookup(this.types, from, attribute), depth);
  }

  private typeNodeSig(node: XmlElement, depth: number): Sig {
    return node.name === 'simpleType' ? this.simpleSig(node) : this.complexSig(node, depth);
  }

  private complexSig(node: XmlElement, depth: number): Sig {
    if (node.attr('mixed')?.value === 'true') throw new Error('mixed content is not modelled');
    const { particles, attributes } = this.complexContent(node, depth);
    return {
      content: normaliseParticle({ seq: particles, occurs: '1..1' }) ?? 'empty',
      attributes: attributes.sort(),
    };
  }

  private complexContent(node: XmlElement, depth: number): { particles: Sig[]; attributes: string[] } {
    const particles: Sig[] = [];
    const attributes: string[] = [];
    for (const child of xsChildren(node)) {
      switch (child.name) {
        case 'annotation':
          break;
        case 'sequence':
        case 'choice':
        case 'all':
        case 'group':
          particles.push(this.particleSig(child, depth));
          break;
        case 'complexContent': {
          const derivation = xsChildren(child).find((c) => c.name !== 'annotation');
          if (!derivation || derivation.name !== 'extension')
            throw new Error('only complexContent/extension is modelled');
          const base = this.lookup(this.types, derivation, 'base');
          const inherited = this.complexContent(base, depth + 1);
          const own = this.complexContent(derivation, depth + 1);
          particles.push(...inherited.particles, ...own.particles);
          attributes.push(...inherited.attributes, ...own.attributes);
          break;
        }
        case 'attribute':
        case 'attributeGroup':
        case 'anyAttribute':
          attributes.push(...this.attributeSigs(child));
          break;
        default:
          throw new Error(`unsupported xs:${child.name} in a complex type`);
      }
    }
    return { particles, attributes };
  }

  private particleSig(node: XmlElement, depth: number): Sig {
    switch (node.name) {
      case 'element':
        return this.elementSig(node, depth + 1);
      case 'any':
        return {
          any: node.attr('namespace')?.value ?? '##any',
          process: node.attr('processContents')?.value ?? 'strict',
          occurs: occursOf(node),
        };
      case 'group': {
        const group = this.lookup(this.groups, node, 'ref');
        const model = xsChildren(group).find((c) => c.name !== 'annotation');
        if (!model) throw new Error('empty model group');
        return { seq: [this.particleSig(model, depth)], occurs: occursOf(node) };
      }
      case 'sequence':
      case 'choice':
      case 'all': {
        const kind = node.name === 'sequence' ? 'seq' : node.name;
        const children = xsChildren(node)
          .filter((c) => c.name !== 'annotation')
          .map((c) => this.particleSig(c, depth));
        return { [kind]: children, occurs: occursOf(node) };
      }
      default:
        throw new Error(`unsupported particle xs:${node.name}`);
    }
  }

  private attributeSigs(node: XmlElement): string[] {
    if (node.name === 'anyAttribute') {
      return [
        `@any ${node.attr('namespace')?.value ?? '##any'} ${node.attr('processContents')?.value ?? 'strict'}`,
      ];
    }
    if (node.name === 'attributeGroup') {
      const group = this.lookup(this.attributeGroups, node, 'ref');
      return xsChildren(group)
        .filter((c) => c.name !== 'annotation')
        .flatMap((c) => this.attributeSigs(c));
    }
    const ref = node.attr('ref')?.value;
    const decl = ref ? this.lookup(this.attributes, node, 'ref') : node;
    const qualified = ref !== undefined || node.attr('form')?.value === 'qualified';
    const name = qualified ? componentKey(decl) : (decl.attr('name')?.value ?? '?');
    const use = node.attr('use')?.value ?? 'optional';
    const inline = xsChildren(decl).find((c) => c.name === 'simpleType');
    const type = decl.attr('type')
      ? this.typeSig(decl, 'type', 0)
      : inline
        ? this.simpleSig(inline)
        : 'xs:anySimpleType';
    return [`@${name} ${use} ${JSON.stringify(type)}`];
  }

  /** A simple type as its built-in base plus the effective facets of the whole derivation chain. */
  simpleSig(node: XmlElement): Sig {
    const levels: XmlElement[][] = [];
    let current: XmlElement = node;
    for (;;) {
      const derivation = xsChildren(current).find((c) => c.name !== 'annotation');
      if (!derivation || derivation.name !== 'restriction')
        throw new Error('only simpleType/restriction is modelled');
      levels.push(xsChildren(derivation).filter((c) => c.name !== 'annotation' && c.name !== 'simpleType'));
      const inlineBase = xsChildren(derivation).find((c) => c.name === 'simpleType');
      if (inlineBase) {
        current = inlineBase;
        continue;
      }
      const baseKey = qname(derivation, 'base');
      if (baseKey.startsWith(`{${NS.xs}}`)) {
        const base = `xs:${baseKey.slice(NS.xs.length + 2)}`;
        const facets = mergeFacets(levels);
        // a restriction without facets accepts exactly what its built-in base accepts
        return Object.keys(facets).length ? { base, facets } : base;
      }
      const original = this.redefined.get(current);
      const next =
        original && baseKey === componentKey(current)
          ? original
          : this.lookup(this.types, derivation, 'base');
      current = next;
    }
  }
}

function xsChildren(node: XmlElement): XmlElement[] {
  return elementChildren(node).filter((c) => c.namespaceUri === NS.xs);
}

function targetNamespaceOf(node: XmlElement): string {
  return node.doc.root.attr('targetNamespace')?.value ?? '';
}

function componentKey(node: XmlElement): string {
  return `{${targetNamespaceOf(node)}}${node.attr('name')?.value ?? '?'}`;
}

function qname(from: XmlElement, attribute: string): string {
  const value = from.attr(attribute)?.value;
  if (value === undefined) throw new Error(`missing @${attribute}`);
  const colon = value.indexOf(':');
  const prefix = colon < 0 ? '' : value.slice(0, colon);
  const namespace = from.namespaceForPrefix(prefix);
  if (namespace === null && prefix) throw new Error(`undeclared prefix in ${value}`);
  return `{${namespace ?? ''}}${value.slice(colon + 1)}`;
}

/** Global elements are always qualified; local ones follow form / elementFormDefault. */
function elementName(decl: XmlElement): string {
  const global = decl.parent?.name === 'schema' && decl.parent.namespaceUri === NS.xs;
  const form = decl.attr('form')?.value ?? decl.doc.root.attr('elementFormDefault')?.value ?? 'unqualified';
  const local = decl.attr('name')?.value ?? '?';
  return global || form === 'qualified' ? `{${targetNamespaceOf(decl)}}${local}` : local;
}

function occursOf(node: XmlElement): string {
  return `${node.attr('minOccurs')?.value ?? '1'}..${node.attr('maxOccurs')?.value ?? '1'}`;
}

/** Flattens nested sequences/choices that do not change the language (occurs 1..1 on one side). */
function normaliseParticle(particle: Sig): Sig | null {
  if (typeof particle !== 'object' || Array.isArray(particle)) return particle;
  const kind =
    'seq' in particle ? 'seq' : 'choice' in particle ? 'choice' : 'all' in particle ? 'all' : undefined;
  if (!kind) return particle;
  const occurs = particle.occurs as string;
  const children: Sig[] = [];
  for (const raw of particle[kind] as Sig[]) {
    const child = normaliseParticle(raw);
    if (child === null) continue;
    const nested = typeof child === 'object' && !Array.isArray(child) ? child : undefined;
    if (nested && kind !== 'all' && kind in nested && nested.occurs === '1..1')
      children.push(...(nested[kind] as Sig[]));
    else children.push(child);
  }
  if (children.length === 0) return null;
  const only = children.length === 1 ? children[0] : undefined;
  if (only !== undefined && kind !== 'all' && typeof only === 'object' && !Array.isArray(only)) {
    if (occurs === '1..1') return only;
    if (only.occurs === '1..1') return { ...only, occurs };
  }
  return { [kind]: children, occurs };
}

function mergeFacets(levels: XmlElement[][]): { [key: string]: Sig } {
  const facets: { [key: string]: Sig } = {};
  const patterns: string[][] = [];
  let enumeration: string[] | undefined;
  const tightest = (name: string, value: string, pick: (a: number, b: number) => boolean) => {
    const previous = facets[name];
    if (previous === undefined || pick(Number(value), Number(previous))) facets[name] = value;
  };
  // levels[0] is the most derived step; whiteSpace of the most derived step wins
  for (const level of [...levels].reverse()) {
    const levelPatterns: string[] = [];
    const levelEnumeration: string[] = [];
    for (const facet of level) {
      const value = facet.attr('value')?.value ?? '';
      switch (facet.name) {
        case 'pattern':
          levelPatterns.push(value);
          break;
        case 'enumeration':
          levelEnumeration.push(value);
          break;
        case 'minLength':
        case 'minInclusive':
        case 'minExclusive':
          tightest(facet.name, value, (a, b) => a > b);
          break;
        case 'maxLength':
        case 'maxInclusive':
        case 'maxExclusive':
        case 'totalDigits':
        case 'fractionDigits':
          tightest(facet.name, value, (a, b) => a < b);
          break;
        case 'length':
        case 'whiteSpace':
          facets[facet.name] = value;
          break;
        default:
          throw new Error(`unsupported facet ${facet.name}`);
      }
    }
    if (levelPatterns.length) patterns.push(levelPatterns.sort());
    if (levelEnumeration.length) {
      enumeration = enumeration ? enumeration.filter((v) => levelEnumeration.includes(v)) : levelEnumeration;
    }
  }
  if (patterns.length) facets.patterns = patterns.map((p) => p.join(' | ')).sort();
  if (enumeration) facets.enumeration = [...enumeration].sort();
  return Object.fromEntries(Object.entries(facets).sort(([a], [b]) => a.localeCompare(b)));
}

// ---------------------------------------------------------------------------------------------

describe('pagoPA legacy schemas (SANP 2.x) are wire-compatible with the official ones', function () {
  const specAvailable = fs.existsSync(path.join(SPEC, 'legacy/wsdl/PaPerNodo.wsdl'));
  let tmp = '';

  before(function () {
    if (!specAvailable) this.skip();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-pagopa-legacy-'));
    for (const name of SERVICE_NAMES) {
      const extracted = extractInlineSchemas(path.join(SPEC, 'legacy/wsdl', `${name}.wsdl`), tmp);
      const body = extracted.get(NS.ppt);
      const header = extracted.get(NS.head);
      if (!body || !header) throw new Error(`${name}.wsdl: expected inline schemas for ppt and ppthead`);
      official.services.set(name, { body, header });
    }
    official.rptRt = path.join(SPEC, 'legacy/xsd/PagInf_RPT_RT_6_2_0.xsd');
    official.flusso104 = path.join(SPEC, 'xsd-common/FlussoRiversamento_1_0_4.xsd');
    official.flusso105 = path.join(SPEC, 'xsd-common/FlussoRiversamento_1_0_5.xsd');
  });

  after(function () {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('1. compilation', function () {
    for (const file of OUR_FILES) {
      it(`ours: ${file} compiles`, function () {
        expect(schemaFor(path.join(ROOT, 'xsd/pagopa', file))).to.be.an('object');
      });
    }

    it('official: the inline schemas of the four WSDLs and the document schemas compile', function () {
      for (const { body, header } of official.services.values()) {
        schemaFor(body);
        schemaFor(header);
      }
      for (const file of [official.rptRt, official.flusso104, official.flusso105]) schemaFor(file);
    });
  });

  describe('2. official samples: valid for ours iff valid for the official schema', function () {
    const sampleDir = path.join(SPEC, 'samples');
    // the other samples belong to the new model (paForNode / nodeForPa) and are not ours to check
    const samples = xmlFiles(sampleDir).filter(
      (sample) => legacySampleKind(path.join(sampleDir, sample)) !== undefined,
    );

    it('covers every legacy sample', function () {
      expect(samples).to.include.members(EXPECTED_SAMPLES);
    });

    for (const sample of samples) {
      it(sample, function () {
        const valid = withDocument(path.join(sampleDir, sample), (doc) => {
          const kind = legacySampleKind(doc);
          if (kind === undefined) throw new Error(`${sample} is no longer a legacy sample`);
          return kind.service
            ? checkSoapMessage(sample, kind.service, doc)
            : checkDocument(sample, kind.doc, doc);
        });
        expect(valid, `${sample} validity`).to.equal(!OFFICIALLY_INVALID_SAMPLES.includes(sample));
      });
    }
  });

  describe('3. fixtures: same verdict as the official schema, and the one in the file name', function () {
    const operations = SERVICE_NAMES.flatMap((name) => SERVICES[name].operations);

    it('every covered operation and document has at least 2 valid and 3 invalid fixtures', function () {
      const folders = [
        ...operations.map((op) => path.join(FIXTURES_LEGACY, op)),
        ...DOC_KINDS.map((kind) => path.join(FIXTURES_DOCS, kind)),
      ];
      for (const folder of folders) {
        const files = xmlFiles(folder);
        const label = path.relative(ROOT, folder);
        expect(
          files.filter((f) => f.startsWith('valid-')),
          label,
        ).to.have.length.of.at.least(2);
        expect(
          files.filter((f) => f.startsWith('invalid-')),
          label,
        ).to.have.length.of.at.least(3);
        expect(
          files.filter((f) => !/^(valid|invalid)-/.test(f)),
          `${label}: misnamed`,
        ).to.deep.equal([]);
      }
      const unknown = fs.readdirSync(FIXTURES_LEGACY).filter((d) => !d.includes('.') && !SERVICE_OF.has(d));
      expect(unknown, 'fixture folders for operations we do not cover').to.deep.equal([]);
    });

    for (const operation of operations) {
      const service = SERVICE_OF.get(operation) as ServiceName;
      for (const file of xmlFiles(path.join(FIXTURES_LEGACY, operation))) {
        it(`legacy/${operation}/${file}`, function () {
          const valid = withDocument(path.join(FIXTURES_LEGACY, operation, file), (doc) => {
            expect(operationOf(soapParts(doc).body.name), 'body root of this operation').to.equal(operation);
            return checkSoapMessage(file, service, doc);
          });
          expect(valid, `${operation}/${file} validity`).to.equal(file.startsWith('valid-'));
        });
      }
    }

    for (const kind of DOC_KINDS) {
      for (const file of xmlFiles(path.join(FIXTURES_DOCS, kind))) {
        it(`documents/${kind}/${file}`, function () {
          const valid = withDocument(path.join(FIXTURES_DOCS, kind, file), (doc) =>
            checkDocument(file, kind, doc),
          );
          expect(valid, `${kind}/${file} validity`).to.equal(file.startsWith('valid-'));
        });
      }
    }
  });

  describe('4. structure: same global elements with the same content models', function () {
    function compareModels(
      oursModel: SchemaModel,
      officialModels: SchemaModel[],
      namespaces: string[],
    ): void {
      const officialElements = new Map<string, { model: SchemaModel; decl: XmlElement }>();
      for (const model of officialModels) {
        for (const key of model.globalElements(namespaces)) {
          officialElements.set(key, { model, decl: model.elements.get(key) as XmlElement });
        }
      }
      expect(oursModel.globalElements(namespaces), 'global elements').to.deep.equal(
        [...officialElements.keys()].sort(),
      );
      for (const [key, { model, decl }] of officialElements) {
        const oursSig = oursModel.elementSig(oursModel.elements.get(key) as XmlElement);
        expect(oursSig, key).to.deep.equal(model.elementSig(decl));
      }
    }

    for (const name of SERVICE_NAMES) {
      it(`${name}: ppt bodies and ppthead headers`, function () {
        const off = official.services.get(name) as OfficialService;
        const models = [
          new SchemaModel(ours.service(name)),
          new SchemaModel(off.body),
          new SchemaModel(off.header),
        ];
        try {
          const [oursModel, ...officialModels] = models as [SchemaModel, ...SchemaModel[]];
          compareModels(oursModel, officialModels, [NS.ppt, NS.head]);
          const expected = SERVICES[name].operations.flatMap((op) => [
            `{${NS.ppt}}${op}`,
            `{${NS.ppt}}${op}Risposta`,
          ]);
          expect(
            oursModel.globalElements([NS.ppt]),
            'request and answer of each covered operation',
          ).to.deep.equal(expected.sort());
        } finally {
          for (const model of models) model.dispose();
        }
      });
    }

    it('NodoPerPa: the reporting-flow operations also match the new-model nodeForPa.xsd', function () {
      // the same four elements are redefined, in the same namespace, by the SANP 3 nodeForPa service
      const models = [
        new SchemaModel(ours.service('NodoPerPa')),
        new SchemaModel(path.join(SPEC, 'current/xsd/nodeForPa.xsd')),
      ];
      try {
        const [oursModel, current] = models as [SchemaModel, SchemaModel];
        const keys = current.globalElements([NS.ppt]);
        expect(keys).to.have.length(4);
        for (const key of keys) {
          const oursSig = oursModel.elementSig(oursModel.elements.get(key) as XmlElement);
          expect(oursSig, key).to.deep.equal(current.elementSig(current.elements.get(key) as XmlElement));
        }
      } finally {
        for (const model of models) model.dispose();
      }
    });

    const documents: Array<[string, string, string]> = [
      ['RPT and RT', ours.rptRt, 'rptRt'],
      ['FlussoRiversamento 1.0.4', ours.flusso104, 'flusso104'],
      ['FlussoRiversamento 1.0.5', ours.flusso105, 'flusso105'],
    ];
    for (const [label, oursFile, key] of documents) {
      it(`${label}: documents`, function () {
        const officialFile = official[key as 'rptRt' | 'flusso104' | 'flusso105'];
        const models = [new SchemaModel(oursFile), new SchemaModel(officialFile)];
        try {
          compareModels(models[0] as SchemaModel, [models[1] as SchemaModel], [NS.pag]);
        } finally {
          for (const model of models) model.dispose();
        }
      });
    }
  });
});

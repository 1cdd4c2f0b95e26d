// Wire-compatibility proof for our pagoPA current-model (SANP 3.x) schemas in xsd/pagopa/current/:
// every message the official schemas (../shared/pagopa-spec, reference data, never copied) accept
// or reject must get the same verdict from ours. Four checks: our schemas compile; the official
// samples/examples get the same verdicts; our fixtures get the same verdicts (and the expected one);
// the global elements and their flattened content models are the same.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { xmlFiles, messages } from '../support/xmlFiles.ts';
import { XmlElement, type XmlDocument } from 'libxml2-wasm';
import { parseUntrusted, schemaFor, type ValidationResult } from '../../src/xml/schema.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SPEC = process.env.PAGOPA_SPEC_DIR ?? path.resolve(ROOT, '../shared/pagopa-spec');
const FIXTURES = path.join(ROOT, 'fixtures/pagopa/current');
const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const XS = 'http://www.w3.org/2001/XMLSchema';

type Family = 'paForNode' | 'nodeForPa';

const SCHEMAS: Record<Family, { ours: string; official: string; namespace: string }> = {
  paForNode: {
    ours: path.join(ROOT, 'xsd/pagopa/current/paForNode.xsd'),
    official: path.join(SPEC, 'current/xsd/paForNode.xsd'),
    namespace: 'http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd',
  },
  nodeForPa: {
    ours: path.join(ROOT, 'xsd/pagopa/current/nodeForPa.xsd'),
    official: path.join(SPEC, 'current/xsd/nodeForPa.xsd'),
    namespace: 'http://ws.pagamenti.telematici.gov/',
  },
};
const FAMILIES = Object.keys(SCHEMAS) as Family[];

/** The operations we exchange, with their body root elements (request, response). */
const OPERATIONS: Record<string, { family: Family; elements: [string, string] }> = {
  paVerifyPaymentNotice: {
    family: 'paForNode',
    elements: ['paVerifyPaymentNoticeReq', 'paVerifyPaymentNoticeRes'],
  },
  paGetPayment: { family: 'paForNode', elements: ['paGetPaymentReq', 'paGetPaymentRes'] },
  paGetPaymentV2: { family: 'paForNode', elements: ['paGetPaymentV2Request', 'paGetPaymentV2Response'] },
  paSendRT: { family: 'paForNode', elements: ['paSendRTReq', 'paSendRTRes'] },
  paSendRTV2: { family: 'paForNode', elements: ['paSendRTV2Request', 'paSendRTV2Response'] },
  paDemandPaymentNotice: {
    family: 'paForNode',
    elements: ['paDemandPaymentNoticeRequest', 'paDemandPaymentNoticeResponse'],
  },
  nodoChiediElencoFlussiRendicontazione: {
    family: 'nodeForPa',
    elements: ['nodoChiediElencoFlussiRendicontazione', 'nodoChiediElencoFlussiRendicontazioneRisposta'],
  },
  nodoChiediFlussoRendicontazione: {
    family: 'nodeForPa',
    elements: ['nodoChiediFlussoRendicontazione', 'nodoChiediFlussoRendicontazioneRisposta'],
  },
};

/**
 * Official samples/examples for our operations that the OFFICIAL schema itself rejects; ours must
 * reject them too. Paths are relative to the spec folder.
 */
const OFFICIAL_INVALID: Record<string, string> = {
  // stale upstream example (2021): transfers lack transferCategory, mandatory since then
  'current/examples/200PaGetPayment.xml': 'transfer without transferCategory',
  // stale upstream example (2021): same as above, in the receipt's transferList
  'current/examples/ReqPaSendRT.xml': 'transfer without transferCategory',
  // body root paVerifyPaymentNoticeReq put in the nodeForPsp namespace: belongs to no paForNode message
  'current/examples/ReqPaVerifyPayment.xml': 'paVerifyPaymentNoticeReq in the nodeForPsp namespace',
};

/** Body root local name -> family, for every element of the operations above. */
const FAMILY_OF_ELEMENT = new Map<string, Family>(
  Object.values(OPERATIONS).flatMap((op) => op.elements.map((name) => [name, op.family] as const)),
);

const specAvailable = fs.existsSync(path.join(SPEC, 'current/xsd/paForNode.xsd'));

function withDocument<T>(xml: string | Uint8Array, use: (doc: XmlDocument) => T): T {
  const doc = parseUntrusted(xml);
  try {
    return use(doc);
  } finally {
    doc.dispose();
  }
}

/** The first element child of soap:Body, or null when the document is not a SOAP 1.1 envelope. */
function bodyRoot(doc: XmlDocument): XmlElement | null {
  const node = doc.get('/soap:Envelope/soap:Body/*[1]', { soap: SOAP_ENV });
  return node instanceof XmlElement ? node : null;
}

interface Verdicts {
  root: string;
  ours: ValidationResult;
  official: ValidationResult;
}

function verdicts(file: string, family: Family): Verdicts {
  return withDocument(fs.readFileSync(file), (doc) => {
    const root = bodyRoot(doc);
    if (!root) throw new Error(`${file}: not a SOAP 1.1 envelope with a body element`);
    return {
      root: `{${root.namespaceUri}}${root.name}`,
      ours: schemaFor(SCHEMAS[family].ours).validateNode(root),
      official: schemaFor(SCHEMAS[family].official).validateNode(root),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Structural view of a schema set: global elements, and each one's content model flattened into
// text (element names, order, cardinalities, nillable, compositors, simple types reduced to their
// built-in base and facets). Type and group names, annotations and file layout are left out, since
// they never reach the wire. Unsupported constructs throw, so nothing is compared silently.
// ---------------------------------------------------------------------------------------------

interface SchemaSet {
  elements: Map<string, XmlElement>;
  complexTypes: Map<string, XmlElement>;
  simpleTypes: Map<string, XmlElement>;
  groups: Map<string, XmlElement>;
  qualifiedLocals: Map<XmlElement, boolean>;
}

const XS_NS = { xs: XS };
const openDocuments: XmlDocument[] = [];

function children(el: XmlElement): XmlElement[] {
  return el
    .find('./xs:*', XS_NS)
    .filter((n): n is XmlElement => n instanceof XmlElement && n.name !== 'annotation');
}

function attr(el: XmlElement, name: string): string | undefined {
  return el.attr(name)?.value;
}

function loadSchemaSet(file: string, set?: SchemaSet, seen = new Set<string>()): SchemaSet {
  const result: SchemaSet = set ?? {
    elements: new Map(),
    complexTypes: new Map(),
    simpleTypes: new Map(),
    groups: new Map(),
    qualifiedLocals: new Map(),
  };
  const absolute = path.resolve(file);
  if (seen.has(absolute)) return result;
  seen.add(absolute);
  const doc = parseUntrusted(fs.readFileSync(absolute));
  openDocuments.push(doc);
  const schema = doc.root;
  const tns = attr(schema, 'targetNamespace') ?? '';
  const qualified = attr(schema, 'elementFormDefault') === 'qualified';
  for (const child of children(schema)) {
    const name = attr(child, 'name');
    const key = `{${tns}}${name}`;
    switch (child.name) {
      case 'import':
      case 'include': {
        const location = attr(child, 'schemaLocation');
        if (location) loadSchemaSet(path.resolve(path.dirname(absolute), location), result, seen);
        break;
      }
      case 'element':
        result.elements.set(key, child);
        break;
      case 'complexType':
        result.complexTypes.set(key, child);
        break;
      case 'simpleType':
        result.simpleTypes.set(key, child);
        break;
      case 'group':
        result.groups.set(key, child);
        break;
      default:
        throw new Error(`${file}: unsupported top-level xs:${child.name}`);
    }
  }
  for (const local of schema.find('.//xs:element[not(parent::xs:schema)]', XS_NS)) {
    if (local instanceof XmlElement) result.qualifiedLocals.set(local, qualified);
  }
  return result;
}

function resolveQName(context: XmlElement, qname: string): string {
  const colon = qname.indexOf(':');
  const prefix = colon >= 0 ? qname.slice(0, colon) : '';
  const local = colon >= 0 ? qname.slice(colon + 1) : qname;
  const ns = context.namespaceForPrefix(prefix);
  if (ns === null && prefix !== '') throw new Error(`unbound prefix in ${qname}`);
  return `{${ns ?? ''}}${local}`;
}

type Particle =
  | { kind: 'element'; min: string; max: string; line: string; content: Particle[] }
  | { kind: 'sequence' | 'choice'; min: string; max: string; children: Particle[] };

function occurs(el: XmlElement): { min: string; max: string } {
  return { min: attr(el, 'minOccurs') ?? '1', max: attr(el, 'maxOccurs') ?? '1' };
}

const normalisePattern = (p: string) => p.replace(/\{(\d+),\1\}/g, '{$1}');

function simpleSignature(
  set: SchemaSet,
  typeName: string | undefined,
  inline: XmlElement | undefined,
): string {
  const facets: string[] = [];
  let current = inline;
  let base = typeName;
  for (let depth = 0; depth < 10; depth += 1) {
    if (!current) {
      if (!base) throw new Error('simple type without base');
      if (base.startsWith(`{${XS}}`)) {
        return `xs:${base.slice(XS.length + 2)}${facets.length ? `{${facets.sort().join('; ')}}` : ''}`;
      }
      current = set.simpleTypes.get(base);
      if (!current) throw new Error(`unknown simple type ${base}`);
    }
    const [restriction, ...rest] = children(current);
    if (!restriction || restriction.name !== 'restriction' || rest.length > 0) {
      throw new Error(`only xs:restriction simple types are supported (${attr(current, 'name')})`);
    }
    const enums: string[] = [];
    const patterns: string[] = [];
    for (const facet of children(restriction)) {
      const value = attr(facet, 'value') ?? '';
      if (facet.name === 'enumeration') enums.push(value);
      else if (facet.name === 'pattern') patterns.push(normalisePattern(value));
      else facets.push(`${facet.name}=${value}`);
    }
    if (enums.length) facets.push(`enumeration=${enums.sort().join('|')}`);
    if (patterns.length) facets.push(`pattern=${patterns.sort().join('|')}`);
    base = resolveQName(restriction, attr(restriction, 'base') ?? '');
    current = undefined;
  }
  throw new Error('simple type chain too deep');
}

function complexParticles(set: SchemaSet, type: XmlElement): Particle[] {
  const out: Particle[] = [];
  for (const child of children(type)) {
    if (child.name === 'complexContent') {
      const [derivation, ...rest] = children(child);
      if (!derivation || derivation.name !== 'extension' || rest.length > 0) {
        throw new Error('only complexContent/extension is supported');
      }
      const baseName = resolveQName(derivation, attr(derivation, 'base') ?? '');
      const baseType = set.complexTypes.get(baseName);
      if (!baseType) throw new Error(`unknown base type ${baseName}`);
      out.push(...complexParticles(set, baseType));
      for (const part of children(derivation)) out.push(modelParticle(set, part));
    } else {
      out.push(modelParticle(set, child));
    }
  }
  return out;
}

function modelParticle(set: SchemaSet, el: XmlElement): Particle {
  const { min, max } = occurs(el);
  switch (el.name) {
    case 'sequence':
    case 'choice':
      return { kind: el.name, min, max, children: children(el).map((c) => modelParticle(set, c)) };
    case 'group': {
      const ref = resolveQName(el, attr(el, 'ref') ?? '');
      const group = set.groups.get(ref);
      const [inner, ...rest] = group ? children(group) : [];
      if (!inner || rest.length > 0) throw new Error(`bad group ${ref}`);
      const particle = modelParticle(set, inner);
      if (particle.kind === 'element') throw new Error('group content must be a compositor');
      return { ...particle, min, max };
    }
    case 'element':
      return elementParticle(set, el, false);
    default:
      throw new Error(`unsupported particle xs:${el.name}`);
  }
}

function elementParticle(set: SchemaSet, el: XmlElement, global: boolean, tns = ''): Particle {
  if (attr(el, 'ref')) throw new Error('element references are not supported');
  for (const a of ['default', 'fixed', 'form', 'abstract', 'substitutionGroup']) {
    if (attr(el, a) !== undefined) throw new Error(`element attribute ${a} is not supported`);
  }
  const { min, max } = global ? { min: '1', max: '1' } : occurs(el);
  const name = global ? `{${tns}}${attr(el, 'name')}` : attr(el, 'name');
  const flags = [
    set.qualifiedLocals.get(el) ? 'qualified' : '',
    attr(el, 'nillable') === 'true' ? 'nillable' : '',
  ].filter(Boolean);
  const typeAttr = attr(el, 'type');
  const typeName = typeAttr ? resolveQName(el, typeAttr) : undefined;
  const inline = children(el).find((c) => c.name === 'simpleType' || c.name === 'complexType');
  const complex =
    inline?.name === 'complexType' ? inline : typeName ? set.complexTypes.get(typeName) : undefined;
  if (complex) {
    for (const a of complex.find('.//xs:attribute | .//xs:anyAttribute | .//xs:any', XS_NS)) {
      throw new Error(`unsupported ${(a as XmlElement).name} in ${typeName}`);
    }
    if (attr(complex, 'mixed') === 'true') throw new Error('mixed content is not supported');
    const content = complexParticles(set, complex);
    return { kind: 'element', min, max, line: `${name} ${flags.join(' ')}`.trim(), content };
  }
  const simple = simpleSignature(set, typeName, inline);
  return { kind: 'element', min, max, line: `${name} : ${simple} ${flags.join(' ')}`.trim(), content: [] };
}

/** Flattens nested 1..1 sequences into their parent sequence (so model groups vanish). */
function flatten(particles: Particle[]): Particle[] {
  const out: Particle[] = [];
  for (const p of particles) {
    if (p.kind === 'element') {
      out.push({ ...p, content: flatten(p.content) });
    } else {
      const kids = flatten(p.children);
      if (p.kind === 'sequence' && p.min === '1' && p.max === '1') out.push(...kids);
      else out.push({ ...p, children: kids });
    }
  }
  return out;
}

function render(particles: Particle[], depth: number, lines: string[]): string[] {
  const pad = '  '.repeat(depth);
  for (const p of particles) {
    const card = `[${p.min}..${p.max}]`;
    if (p.kind === 'element') {
      lines.push(`${pad}${p.line} ${card}`);
      render(p.content, depth + 1, lines);
    } else {
      lines.push(`${pad}(${p.kind} ${card})`);
      render(p.children, depth + 1, lines);
    }
  }
  return lines;
}

function describeGlobalElement(set: SchemaSet, key: string): string {
  const el = set.elements.get(key);
  if (!el) throw new Error(`no global element ${key}`);
  const tns = key.slice(1, key.indexOf('}'));
  return render(flatten([elementParticle(set, el, true, tns)]), 0, []).join('\n');
}

function globalElementNames(file: string): string[] {
  return withDocument(fs.readFileSync(file), (doc) =>
    doc
      .find('/xs:schema/xs:element/@name', XS_NS)
      .map((n) => n.content)
      .sort(),
  );
}

// ---------------------------------------------------------------------------------------------

describe('pagoPA current-model schemas (xsd/pagopa/current) are wire-compatible with the official ones', () => {
  before(function () {
    if (!specAvailable) {
      console.warn(`pagoPA spec not found at ${SPEC} (set PAGOPA_SPEC_DIR): comparisons skipped`);
    }
  });

  after(() => {
    for (const doc of openDocuments.splice(0)) doc.dispose();
  });

  describe('1. our schemas compile in libxml2', () => {
    for (const file of ['common-types.xsd', 'paForNode.xsd', 'nodeForPa.xsd']) {
      it(file, () => {
        expect(() => schemaFor(path.join(ROOT, 'xsd/pagopa/current', file))).not.to.throw();
      });
    }
  });

  describe('2. official samples and examples get the same verdict from both schemas', function () {
    const candidates = ['samples', 'current/examples'].flatMap((dir) =>
      xmlFiles(path.join(SPEC, dir)).map((f) => `${dir}/${f}`),
    );
    // Only the SOAP messages whose body root is one of our operations' elements are in scope; the
    // documents (RPT, RT, FlussoRiversamento), the legacy paa* messages and the PSP-side nodeForPsp
    // messages (activatePaymentNotice, sendPaymentOutcome, verifyPaymentNotice, ...) are not.
    const inScope = candidates.flatMap((rel) =>
      withDocument(fs.readFileSync(path.join(SPEC, rel)), (doc) => {
        const root = bodyRoot(doc);
        const family = root ? FAMILY_OF_ELEMENT.get(root.name) : undefined;
        return family ? [{ rel, family }] : [];
      }),
    );

    beforeEach(function () {
      if (!specAvailable) this.skip();
    });

    it('finds the official messages for our operations', () => {
      expect(inScope.map((s) => s.rel)).to.include.members([
        'current/examples/200PaGetPayment.xml',
        'current/examples/200PaSendRT.xml',
        'current/examples/200PaVerifyPaymentNotice.xml',
        'current/examples/ReqPaGetPayment.xml',
        'current/examples/ReqPaSendRT.xml',
        'current/examples/ReqPaVerifyPayment.xml',
        'samples/nodoChiediElencoFlussiRendicontazione_response.xml',
        'samples/nodoChiediFlussoRendicontazione_response.xml',
        'samples/paGetPayment_response.xml',
        'samples/paSendRT_request.xml',
        'samples/paVerifyPaymentNotice_KO_response.xml',
      ]);
    });

    for (const { rel, family } of inScope) {
      it(`${rel} (${family})`, () => {
        const v = verdicts(path.join(SPEC, rel), family);
        expect(v.ours.ok, `ours:\n${messages(v.ours)}\nofficial:\n${messages(v.official)}`).to.equal(
          v.official.ok,
        );
        expect(v.official.ok, `official verdict on ${rel}`).to.equal(!(rel in OFFICIAL_INVALID));
      });
    }

    it('the official schema rejects exactly the known-stale examples, and so does ours', () => {
      const rejected = inScope.filter(
        ({ rel, family }) => !verdicts(path.join(SPEC, rel), family).official.ok,
      );
      expect(rejected.map((r) => r.rel).sort()).to.deep.equal(Object.keys(OFFICIAL_INVALID).sort());
      for (const { rel, family } of rejected) {
        expect(verdicts(path.join(SPEC, rel), family).ours.ok, rel).to.equal(false);
      }
    });
  });

  describe('3. our fixtures: expected verdict, and the same verdict from the official schema', () => {
    it('has a folder with at least 2 valid and 3 invalid fixtures for every operation, and nothing else', () => {
      const folders = fs
        .readdirSync(FIXTURES, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
      expect(folders).to.deep.equal(Object.keys(OPERATIONS).sort());
      for (const op of folders) {
        const files = fs.readdirSync(path.join(FIXTURES, op));
        const misnamed = files.filter((f) => !/^(valid|invalid)-[a-zA-Z0-9-]+\.xml$/.test(f));
        expect(misnamed, `${op}: fixtures must be named valid-*.xml or invalid-*.xml`).to.deep.equal([]);
        expect(files.filter((f) => f.startsWith('valid-')).length, op).to.be.at.least(2);
        expect(files.filter((f) => f.startsWith('invalid-')).length, op).to.be.at.least(3);
      }
    });

    for (const [op, { family, elements }] of Object.entries(OPERATIONS)) {
      describe(op, () => {
        for (const file of xmlFiles(path.join(FIXTURES, op))) {
          const expectedValid = file.startsWith('valid-');
          it(file, function () {
            const full = path.join(FIXTURES, op, file);
            const text = fs.readFileSync(full, 'utf8');
            const v = verdicts(full, family);
            if (expectedValid) {
              // a valid fixture exercises one of this operation's own messages
              expect(elements.map((e) => `{${SCHEMAS[family].namespace}}${e}`)).to.include(v.root);
            }
            expect(v.ours.ok, `ours:\n${messages(v.ours)}`).to.equal(expectedValid);
            const reason = /expect-violation: (.*?) -->/.exec(text)?.[1];
            if (!expectedValid) {
              expect(reason, 'an invalid fixture names the violation it expects').to.be.a('string');
              expect(messages(v.ours)).to.include(reason);
            }
            if (!specAvailable) this.skip();
            expect(v.official.ok, `official:\n${messages(v.official)}`).to.equal(expectedValid);
            if (reason) expect(messages(v.official)).to.include(reason);
          });
        }
      });
    }
  });

  describe('4. structure: same global elements with the same content models', () => {
    beforeEach(function () {
      if (!specAvailable) this.skip();
    });

    for (const family of FAMILIES) {
      it(`${family}: global element names`, () => {
        const ours = globalElementNames(SCHEMAS[family].ours);
        const official = globalElementNames(SCHEMAS[family].official);
        const ourOperations = Object.values(OPERATIONS)
          .filter((op) => op.family === family)
          .flatMap((op) => op.elements)
          .sort();
        expect(ours).to.deep.equal(official);
        expect(official).to.include.members(ourOperations);
      });

      it(`${family}: flattened content model of every global element`, () => {
        const ours = loadSchemaSet(SCHEMAS[family].ours);
        const official = loadSchemaSet(SCHEMAS[family].official);
        expect([...ours.elements.keys()].sort()).to.deep.equal([...official.elements.keys()].sort());
        for (const key of official.elements.keys()) {
          expect(describeGlobalElement(ours, key), key).to.equal(describeGlobalElement(official, key));
        }
      });
    }

    it('the flattened view sees nillable, choices and facets (self-check of the comparator)', () => {
      const set = loadSchemaSet(SCHEMAS.nodeForPa.ours);
      const list = describeGlobalElement(
        set,
        `{${SCHEMAS.nodeForPa.namespace}}nodoChiediElencoFlussiRendicontazioneRisposta`,
      );
      expect(list).to.include('idRendicontazione nillable [0..unbounded]');
      const pa = loadSchemaSet(SCHEMAS.paForNode.ours);
      const rt2 = describeGlobalElement(pa, `{${SCHEMAS.paForNode.namespace}}paSendRTV2Request`);
      expect(rt2).to.match(
        /\(choice \[1\.\.1\]\)\n\s+IBAN : xs:string\{maxLength=35; minLength=1\} \[1\.\.1\]\n\s+MBDAttachment/,
      );
      expect(rt2).to.include('noticeNumber : xs:string{pattern=[0-9]{18}} [1..1]');
    });
  });
});

// fast-check arbitraries for the SOAP fuzzing suite (test/conformance/fuzzSoap.test.ts): hostile leaf
// texts (unicode, control characters, huge, XML specials, hostile numbers, dates and identifiers),
// structural mutations of a valid request (drop, duplicate, reorder, unknown children, namespace
// changes, renames, deep nesting), byte-level damage (truncation, invalid UTF-8, gzip) and random bodies.

import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';

// ---------------------------------------------------------------------------------------------
// A minimal XML tree: parsed once from a fixture, mutated, and written back by us, so a mutation
// can put any text in a leaf (escaped properly) and any element anywhere.

export type XNode =
  | XElement
  | { kind: 'text'; text: string }
  /** `depth` nested <n> elements around `inner`, written without recursion. */
  | { kind: 'nest'; depth: number; inner: XNode[] };

export interface XElement {
  kind: 'el';
  qname: string;
  attrs: [string, string][];
  children: XNode[];
}

interface DomNode {
  nodeType: number;
  nodeName: string;
  nodeValue: string | null;
  childNodes: { length: number; [index: number]: DomNode };
  attributes?: { length: number; [index: number]: { name: string; value: string } };
}

const { DOMParser } = createRequire(import.meta.url)('@xmldom/xmldom') as {
  DOMParser: new () => { parseFromString(xml: string, mimeType: string): { documentElement: DomNode } };
};

function fromDom(node: DomNode): XElement {
  const attrs: [string, string][] = [];
  for (let i = 0; i < (node.attributes?.length ?? 0); i++) {
    const a = node.attributes![i]!;
    attrs.push([a.name, a.value]);
  }
  const children: XNode[] = [];
  for (let i = 0; i < node.childNodes.length; i++) {
    const child = node.childNodes[i]!;
    if (child.nodeType === 1) children.push(fromDom(child));
    else if (child.nodeType === 3 || child.nodeType === 4) {
      const text = child.nodeValue ?? '';
      // Indentation between elements carries nothing; keep only text that is a value.
      if (text.trim() !== '' || !children.some((c) => c.kind === 'el')) children.push({ kind: 'text', text });
    }
  }
  const hasElements = children.some((c) => c.kind === 'el');
  return {
    kind: 'el',
    qname: node.nodeName,
    attrs,
    children: hasElements ? children.filter((c) => c.kind === 'el') : children,
  };
}

export function parseTree(xml: string): XElement {
  return fromDom(new DOMParser().parseFromString(xml, 'text/xml').documentElement);
}

export function cloneTree<T extends XNode>(node: T): T {
  return structuredClone(node);
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttr(text: string): string {
  return escapeText(text).replace(/"/g, '&quot;');
}

export function serialize(node: XNode): string {
  if (node.kind === 'text') return escapeText(node.text);
  if (node.kind === 'nest')
    return `${'<n>'.repeat(node.depth)}${node.inner.map(serialize).join('')}${'</n>'.repeat(node.depth)}`;
  const attrs = node.attrs.map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('');
  if (node.children.length === 0) return `<${node.qname}${attrs}/>`;
  return `<${node.qname}${attrs}>${node.children.map(serialize).join('')}</${node.qname}>`;
}

export function document(root: XElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serialize(root)}`;
}

/** Every element in document order, with its parent (null for the root). */
export function elementsOf(root: XElement): { el: XElement; parent: XElement | null }[] {
  const out: { el: XElement; parent: XElement | null }[] = [];
  const walk = (el: XElement, parent: XElement | null) => {
    out.push({ el, parent });
    for (const c of el.children) if (c.kind === 'el') walk(c, el);
  };
  walk(root, null);
  return out;
}

function isLeaf(el: XElement): boolean {
  return el.children.every((c) => c.kind === 'text');
}

// ---------------------------------------------------------------------------------------------
// Leaf texts.

const CONTROL_CHARS = fc.string({
  unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 8,
});

const XML_SPECIALS = fc.constantFrom(
  '<',
  '>',
  '&',
  ']]>',
  '"\'',
  '<![CDATA[x]]>',
  '&amp;',
  '&#0;',
  '<script>alert(1)</script>',
  '<?xml version="1.0"?>',
  '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
  '&e;',
);

export const HOSTILE_NUMBERS = fc.constantFrom(
  '-1',
  '0',
  '-0',
  '0.00',
  '0.001',
  '1.005',
  '12.345',
  '-0.01',
  '-120.30',
  '1e3',
  '1E-7',
  '9999999999999.99',
  '99999999999999999999999999999',
  '9007199254740993',
  '2147483648',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x1F',
  ' 12 ',
  '12,30',
  '+5',
  '١٢٣',
  '00000000000',
  '.5',
  '5.',
);

const NUMBERS = fc.oneof(
  HOSTILE_NUMBERS,
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.double().map(String),
  fc.tuple(fc.double({ noNaN: true, min: -1e6, max: 1e9 }), fc.nat(4)).map(([d, n]) => d.toFixed(n)),
);

const DATES = fc.constantFrom(
  '2026-02-30',
  '2026-13-01',
  '0000-00-00',
  '0001-01-01',
  '9999-12-31',
  '1970-01-01T00:00:00Z',
  '2026-01-01T25:61:61',
  '2026-01-01T00:00:00+99:00',
  '2026-11-20T12:40:05.123456789',
  '2026-11-20',
  '20261120',
  '-2026-01-01',
);

/** Identifiers of the right shape but wrong content: check digits, aux digits, unknown codes. */
const IDENTIFIERS = fc.oneof(
  fc.stringMatching(/^[0-9]{18}$/),
  fc.stringMatching(/^[0-9]{17}$/),
  fc.stringMatching(/^[0-9]{11}$/),
  fc.stringMatching(/^[0-9]{11}_[0-9]{2}$/),
  fc.stringMatching(/^[A-Z]{6}[0-9]{2}[A-Z][0-9]{2}[A-Z][0-9]{3}[A-Z]$/),
  fc.stringMatching(/^IT[0-9]{2}[A-Z][0-9]{22}$/),
  fc.stringMatching(/^RF[0-9]{2}[A-Z0-9]{1,21}$/),
  fc.uuid(),
);

const INJECTIONS = fc.constantFrom(
  "' OR 1=1 --",
  "'; drop table positions; --",
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '${7*7}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  '%s%s%s%n',
  "=cmd|' /C calc'!A0",
  'http://169.254.169.254/latest/meta-data/',
  'javascript:alert(1)',
  '\u202Eevil',
  '\uFEFF',
  '\uFFFE',
);

const HUGE = fc
  .tuple(fc.integer({ min: 1_000, max: 200_000 }), fc.constantFrom('A', '9', 'à', '€', '😀', ' ', '&'))
  .map(([n, c]) => c.repeat(n));

export const LEAF_TEXT: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: CONTROL_CHARS },
  { weight: 2, arbitrary: XML_SPECIALS },
  { weight: 4, arbitrary: NUMBERS },
  { weight: 2, arbitrary: DATES },
  { weight: 4, arbitrary: IDENTIFIERS },
  { weight: 2, arbitrary: INJECTIONS },
  { weight: 1, arbitrary: HUGE },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'true', 'false', 'TRUE', '1', 'null', 'undefined') },
);

// ---------------------------------------------------------------------------------------------
// Structural mutations. Targets are natural numbers taken modulo the element count when applied,
// so the same arbitrary serves every fixture.

const ELEMENT_NAMES = fc.oneof(
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_.-]{0,20}$/),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'Fault', 'Body'),
);

const NAMESPACES = fc.constantFrom(
  'http://example.org/evil',
  '',
  'http://schemas.xmlsoap.org/soap/envelope/',
  'http://www.w3.org/2003/05/soap-envelope',
  'http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd',
  'http://ws.pagamenti.telematici.gov/',
  'http://ppay-connector.it/gestionale/v1',
  'http://ppay-connector.it/types/v1',
  'urn:x',
);

/**
 * Where a mutation lands: `payload` is the operation element and the service headers (not the
 * WS-Security one), so most cases get past the envelope and the credentials; `anywhere` is any element.
 */
export type Scope = 'payload' | 'anywhere';

export type Mutation = { scope: Scope } & (
  | { kind: 'text'; target: number; text: string }
  | { kind: 'reshape'; target: number; seed: number }
  | { kind: 'drop'; target: number }
  | { kind: 'duplicate'; target: number }
  | { kind: 'swap'; target: number }
  | { kind: 'unknownChild'; target: number; name: string; namespace: string | null; text: string }
  | { kind: 'namespace'; target: number; namespace: string }
  | { kind: 'rename'; target: number; name: string }
  | { kind: 'attribute'; target: number; name: string; value: string }
  | { kind: 'nest'; target: number; depth: number }
);

const target = fc.nat();

const SCOPE: fc.Arbitrary<Scope> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('payload' as const) },
  { weight: 1, arbitrary: fc.constant('anywhere' as const) },
);

const MUTATION_KIND = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('text' as const), target, text: LEAF_TEXT }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('reshape' as const), target, seed: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), target }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), target }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('swap' as const), target }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('unknownChild' as const),
      target,
      name: ELEMENT_NAMES,
      namespace: fc.option(NAMESPACES),
      text: LEAF_TEXT,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('namespace' as const), target, namespace: NAMESPACES }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rename' as const), target, name: ELEMENT_NAMES }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('attribute' as const),
      target,
      name: fc.constantFrom('xsi:type', 'xsi:nil', 'id', 'xml:lang', 'wsu:Id', 'href'),
      value: fc.oneof(fc.constantFrom('true', 'xs:string', '#body', 'it'), LEAF_TEXT),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('nest' as const),
      target,
      depth: fc.integer({ min: 2, max: 5000 }),
    }),
  },
);

export const MUTATION: fc.Arbitrary<Mutation> = fc
  .tuple(SCOPE, MUTATION_KIND)
  .map(([scope, m]) => ({ ...m, scope }) as Mutation);

/** A deterministic character-class-preserving rewrite: digits stay digits, letters letters. */
function reshape(text: string, seed: number): string {
  let state = seed >>> 0 || 1;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  return text.replace(/[0-9]|[A-Z]|[a-z]/g, (c) => {
    if (/[0-9]/.test(c)) return String(next(10));
    const base = /[A-Z]/.test(c) ? 65 : 97;
    return String.fromCharCode(base + next(26));
  });
}

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';

/** The elements a payload-scoped mutation may touch: inside the Body, or in a non-security header. */
function payloadElements(root: XElement): { el: XElement; parent: XElement | null }[] {
  const out: { el: XElement; parent: XElement | null }[] = [];
  for (const part of root.children) {
    if (part.kind !== 'el' || !/(^|:)(Body|Header)$/.test(part.qname)) continue;
    for (const child of part.children) {
      if (child.kind !== 'el' || child.attrs.some(([, v]) => v === WSSE)) continue;
      out.push(...elementsOf(child).map((e) => ({ el: e.el, parent: e.parent ?? part })));
    }
  }
  return out;
}

export function applyMutation(root: XElement, m: Mutation): void {
  const scoped = m.scope === 'payload' ? payloadElements(root) : [];
  const all = scoped.length > 0 ? scoped : elementsOf(root);
  if (m.kind === 'text' || m.kind === 'reshape') {
    const leaves = all.filter((e) => isLeaf(e.el));
    if (leaves.length === 0) return;
    const leaf = leaves[m.target % leaves.length]!.el;
    const current = leaf.children.map((c) => (c.kind === 'text' ? c.text : '')).join('');
    const text = m.kind === 'text' ? m.text : reshape(current, m.seed);
    leaf.children = text === '' ? [] : [{ kind: 'text', text }];
    return;
  }
  const { el, parent } = all[m.target % all.length]!;
  switch (m.kind) {
    case 'drop':
      if (parent) parent.children = parent.children.filter((c) => c !== el);
      return;
    case 'duplicate':
      if (parent) parent.children.splice(parent.children.indexOf(el), 0, cloneTree(el));
      return;
    case 'swap': {
      if (!parent) return;
      const i = parent.children.indexOf(el);
      const j = i + 1 < parent.children.length ? i + 1 : i - 1;
      if (j < 0) return;
      [parent.children[i], parent.children[j]] = [parent.children[j]!, parent.children[i]!];
      return;
    }
    case 'unknownChild': {
      const attrs: [string, string][] = m.namespace === null ? [] : [['xmlns', m.namespace]];
      const child: XElement = {
        kind: 'el',
        qname: m.name,
        attrs,
        children: m.text ? [{ kind: 'text', text: m.text }] : [],
      };
      if (isLeaf(el) && el.children.length > 0 && parent) {
        parent.children.splice(parent.children.indexOf(el) + 1, 0, child);
      } else {
        el.children.push(child);
      }
      return;
    }
    case 'namespace': {
      const local = el.qname.includes(':') ? el.qname.slice(el.qname.indexOf(':') + 1) : el.qname;
      el.qname = `fz:${local}`;
      el.attrs.push(['xmlns:fz', m.namespace || 'urn:empty']);
      return;
    }
    case 'rename': {
      // A password under another name is no longer recognisable as one: the log could not mask it.
      if (/password/i.test(el.qname)) return;
      const prefix = el.qname.includes(':') ? el.qname.slice(0, el.qname.indexOf(':') + 1) : '';
      el.qname = prefix + m.name;
      return;
    }
    case 'attribute':
      if (m.name.startsWith('xsi:'))
        el.attrs.push(['xmlns:xsi', 'http://www.w3.org/2001/XMLSchema-instance']);
      if (m.name.startsWith('wsu:'))
        el.attrs.push([
          'xmlns:wsu',
          'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
        ]);
      if (!el.attrs.some(([k]) => k === m.name)) el.attrs.push([m.name, m.value]);
      return;
    case 'nest': {
      // Wraps the element's content in `depth` nested elements: deep trees must not exhaust the stack.
      el.children = [{ kind: 'nest', depth: m.depth, inner: el.children }];
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Byte-level damage applied to the serialized request.

export type Damage =
  | { kind: 'truncate'; at: number }
  | { kind: 'invalidUtf8'; at: number; bytes: readonly number[] }
  | { kind: 'encodingDeclaration'; encoding: string }
  | { kind: 'bom' }
  | { kind: 'gzip' };

const fraction = fc.double({ min: 0, max: 1, noNaN: true });

export const DAMAGE: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fraction }),
  fc.record({
    kind: fc.constant('invalidUtf8' as const),
    at: fraction,
    bytes: fc.constantFrom(
      [0xff],
      [0xc3, 0x28],
      [0xed, 0xa0, 0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xc0, 0xaf],
    ),
  }),
  fc.record({
    kind: fc.constant('encodingDeclaration' as const),
    encoding: fc.constantFrom('UTF-16', 'ISO-8859-1', 'EBCDIC', 'x-unknown', 'UTF-7'),
  }),
  fc.record({ kind: fc.constant('bom' as const) }),
  fc.record({ kind: fc.constant('gzip' as const) }),
);

export interface Wire {
  body: Buffer;
  headers: Record<string, string>;
}

export function applyDamage(xml: string, damage: Damage | null): Wire {
  let body = Buffer.from(xml, 'utf8');
  const headers: Record<string, string> = {};
  if (!damage) return { body, headers };
  const at = (f: number) => Math.min(body.length, Math.floor(f * body.length));
  switch (damage.kind) {
    case 'truncate':
      body = body.subarray(0, at(damage.at));
      break;
    case 'invalidUtf8': {
      const i = at(damage.at);
      body = Buffer.concat([body.subarray(0, i), Buffer.from(damage.bytes), body.subarray(i)]);
      break;
    }
    case 'encodingDeclaration':
      body = Buffer.from(xml.replace('encoding="UTF-8"', `encoding="${damage.encoding}"`), 'utf8');
      break;
    case 'bom':
      body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
      break;
    case 'gzip':
      body = gzipSync(body);
      headers['Content-Encoding'] = 'gzip';
      break;
  }
  return { body, headers };
}

// ---------------------------------------------------------------------------------------------
// Fully random bodies.

const RANDOM_TREE: fc.Arbitrary<XElement> = fc.letrec<{ tree: XElement; node: XNode }>((tie) => ({
  tree: fc.record({
    kind: fc.constant('el' as const),
    qname: ELEMENT_NAMES,
    attrs: fc.constant([] as [string, string][]),
    children: fc.array(tie('node'), { maxLength: 4 }),
  }),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('text' as const), text: LEAF_TEXT }),
    tie('tree'),
  ),
})).tree;

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';

/** A random body: raw text, random XML, or an envelope around a random payload (maybe in the service namespace). */
export function randomBody(serviceNamespaces: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constantFrom('', ' ', '<', '<?xml version="1.0"?>', '{"json":true}', 'null', '<a/>'),
    RANDOM_TREE.map((t) => document(t)),
    fc.tuple(RANDOM_TREE, fc.constantFrom(...serviceNamespaces, 'urn:other')).map(([payload, ns]) =>
      document({
        kind: 'el',
        qname: 'soapenv:Envelope',
        attrs: [['xmlns:soapenv', SOAP_ENV]],
        children: [
          {
            kind: 'el',
            qname: 'soapenv:Body',
            attrs: [],
            children: [{ ...payload, qname: `p:${payload.qname}`, attrs: [['xmlns:p', ns]] }],
          },
        ],
      }),
    ),
  );
}

/** What a case does with the SOAPAction header: mostly the right one, sometimes not. */
export type ActionChoice = 'right' | 'missing' | 'empty' | 'other' | 'garbage';

export const ACTION_CHOICE: fc.Arbitrary<ActionChoice> = fc.oneof(
  { weight: 16, arbitrary: fc.constant('right' as const) },
  { weight: 1, arbitrary: fc.constantFrom('missing' as const, 'empty' as const, 'other' as const) },
  { weight: 1, arbitrary: fc.constant('garbage' as const) },
);

export type FuzzCase =
  | { kind: 'mutated'; base: number; mutations: Mutation[]; damage: Damage | null; action: ActionChoice }
  | { kind: 'random'; body: string; action: ActionChoice };

export function fuzzCase(serviceNamespaces: string[]): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    {
      weight: 9,
      arbitrary: fc.record({
        kind: fc.constant('mutated' as const),
        base: fc.nat(),
        mutations: fc.oneof(
          { weight: 4, arbitrary: fc.array(MUTATION, { minLength: 1, maxLength: 1 }) },
          { weight: 2, arbitrary: fc.array(MUTATION, { minLength: 2, maxLength: 4 }) },
        ),
        damage: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: DAMAGE }),
        action: ACTION_CHOICE,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('random' as const),
        body: randomBody(serviceNamespaces),
        action: ACTION_CHOICE,
      }),
    },
  );
}

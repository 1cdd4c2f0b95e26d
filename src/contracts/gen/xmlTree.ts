// Reads a trusted XML file of the project (an XSD or a WSDL) into a plain, immutable tree, so the
// generator never holds libxml2 handles: each document is parsed, copied and disposed at once.
import fs from 'node:fs';
import { XmlDocument, XmlElement } from 'libxml2-wasm';

export interface XmlNode {
  /** Local name. */
  readonly name: string;
  /** Namespace URI ('' when none). */
  readonly ns: string;
  /** Attributes without a namespace, by local name (XSD and WSDL attributes are unqualified). */
  readonly attrs: ReadonlyMap<string, string>;
  readonly children: readonly XmlNode[];
  /** Namespace prefixes in scope here ('' = default namespace): needed to resolve QName values. */
  readonly scope: Readonly<Record<string, string>>;
  /** Text content of the whole subtree (used for xs:documentation). */
  readonly text: string;
  readonly line: number;
}

function copyElement(el: XmlElement): XmlNode {
  const attrs = new Map<string, string>();
  for (const attr of el.attrs) {
    if (attr.namespaceUri === '') attrs.set(attr.name, attr.value);
  }
  const children: XmlNode[] = [];
  for (let child = el.firstChild; child; child = child.next) {
    if (child instanceof XmlElement) children.push(copyElement(child));
  }
  return {
    name: el.name,
    ns: el.namespaceUri,
    attrs,
    children,
    scope: { ...el.namespaces },
    text: el.content,
    line: el.line,
  };
}

/** Parses a file of the repository (never untrusted input) and returns its root element. */
export function readXmlFile(file: string): XmlNode {
  const doc = XmlDocument.fromBuffer(fs.readFileSync(file), { url: file });
  try {
    return copyElement(doc.root);
  } finally {
    doc.dispose();
  }
}

/** Child elements with the given namespace and local name, in document order. */
export function childrenNamed(node: XmlNode, ns: string, name: string): XmlNode[] {
  return node.children.filter((c) => c.ns === ns && c.name === name);
}

/** Resolves a QName attribute value ("prefix:local") against the prefixes in scope of its element. */
export function resolveQName(node: XmlNode, value: string): { ns: string; local: string } {
  const colon = value.indexOf(':');
  const prefix = colon < 0 ? '' : value.slice(0, colon);
  const local = colon < 0 ? value : value.slice(colon + 1);
  const ns = node.scope[prefix];
  if (ns === undefined && prefix !== '') {
    throw new Error(`line ${node.line}: prefix "${prefix}" of "${value}" is not declared`);
  }
  return { ns: ns ?? '', local };
}

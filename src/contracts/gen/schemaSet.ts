// The project's XSD files as one set: each file's top-level components, its include / import /
// redefine links, and QName lookup scoped to what a file can see (the same element or type name
// may be declared by several files, e.g. the three legacy intestazionePPT headers).
import fs from 'node:fs';
import path from 'node:path';
import { childrenNamed, readXmlFile, resolveQName, type XmlNode } from './xmlTree.ts';

export const XS = 'http://www.w3.org/2001/XMLSchema';

export type ComponentKind =
  'element' | 'complexType' | 'simpleType' | 'group' | 'attributeGroup' | 'attribute';

const COMPONENT_KINDS: readonly ComponentKind[] = [
  'element',
  'complexType',
  'simpleType',
  'group',
  'attributeGroup',
  'attribute',
];

export interface Component {
  readonly kind: ComponentKind;
  readonly name: string;
  readonly ns: string;
  readonly node: XmlNode;
  /** The file whose generated module declares it (for a redefined file's components: the redefining file). */
  readonly home: SchemaFile;
  /** For an xs:redefine override: the component it replaces. */
  readonly replaces?: Component;
}

export interface SchemaLink {
  readonly kind: 'include' | 'import' | 'redefine';
  /** Path relative to xsd/, with forward slashes. */
  readonly file: string;
}

export interface SchemaFile {
  /** Path relative to xsd/, with forward slashes (e.g. "pagopa/current/paForNode.xsd"). */
  readonly file: string;
  readonly targetNamespace: string;
  readonly root: XmlNode;
  readonly links: readonly SchemaLink[];
  /** Components of this file's module, in document order (own, overrides, then what redefine pulls in). */
  readonly components: Component[];
}

export interface QName {
  readonly ns: string;
  readonly local: string;
}

export function qnameKey(q: QName): string {
  return `{${q.ns}}${q.local}`;
}

function isComponentKind(name: string): name is ComponentKind {
  return (COMPONENT_KINDS as readonly string[]).includes(name);
}

function listXsdFiles(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = base ? `${base}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listXsdFiles(path.join(dir, entry.name), rel));
    else if (entry.name.endsWith('.xsd')) out.push(rel);
  }
  return out.sort();
}

function linksOf(file: string, root: XmlNode, xsdDir: string): SchemaLink[] {
  const links: SchemaLink[] = [];
  for (const child of root.children) {
    if (child.ns !== XS) continue;
    if (child.name !== 'include' && child.name !== 'import' && child.name !== 'redefine') continue;
    const location = child.attrs.get('schemaLocation');
    if (!location) continue; // an import without location brings nothing we could read
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), location));
    if (!fs.existsSync(path.join(xsdDir, target))) {
      throw new Error(`xsd/${file}:${child.line}: ${child.name} of "${location}" names a missing file`);
    }
    links.push({ kind: child.name, file: target });
  }
  return links;
}

function ownComponents(schema: SchemaFile): Component[] {
  const out: Component[] = [];
  for (const child of schema.root.children) {
    if (child.ns !== XS || !isComponentKind(child.name)) continue;
    const name = child.attrs.get('name');
    if (!name) continue;
    out.push({ kind: child.name, name, ns: schema.targetNamespace, node: child, home: schema });
  }
  return out;
}

/** All schemas under xsd/, read once. Throws with the file and line of the first broken link. */
export class SchemaSet {
  readonly files: ReadonlyMap<string, SchemaFile>;

  private constructor(files: Map<string, SchemaFile>) {
    this.files = files;
  }

  static load(xsdDir: string): SchemaSet {
    const files = new Map<string, SchemaFile>();
    for (const file of listXsdFiles(xsdDir)) {
      const root = readXmlFile(path.join(xsdDir, file));
      if (root.ns !== XS || root.name !== 'schema') throw new Error(`xsd/${file}: the root is not xs:schema`);
      files.set(file, {
        file,
        targetNamespace: root.attrs.get('targetNamespace') ?? '',
        root,
        links: linksOf(file, root, xsdDir),
        components: [],
      });
    }
    const set = new SchemaSet(files);
    for (const schema of files.values()) schema.components.push(...ownComponents(schema));
    for (const schema of files.values()) set.applyRedefines(schema);
    return set;
  }

  get(file: string): SchemaFile {
    const schema = this.files.get(file);
    if (!schema) throw new Error(`no schema xsd/${file}`);
    return schema;
  }

  /**
   * xs:redefine: the redefining file's module declares the overrides and re-declares every other
   * component of the redefined file, so references inside them see the overrides.
   */
  private applyRedefines(schema: SchemaFile): void {
    for (const redefine of childrenNamed(schema.root, XS, 'redefine')) {
      const location = redefine.attrs.get('schemaLocation') ?? '';
      const target = this.get(
        path.posix.normalize(path.posix.join(path.posix.dirname(schema.file), location)),
      );
      const originals = ownComponents(target);
      const overridden = new Set<string>();
      for (const child of redefine.children) {
        if (child.ns !== XS || !isComponentKind(child.name)) continue;
        const name = child.attrs.get('name') ?? '';
        const replaces = originals.find((c) => c.kind === child.name && c.name === name);
        overridden.add(`${child.name}|${name}`);
        schema.components.push({
          kind: child.name,
          name,
          ns: target.targetNamespace,
          node: child,
          home: schema,
          replaces,
        });
      }
      for (const original of originals) {
        if (!overridden.has(`${original.kind}|${original.name}`))
          schema.components.push({ ...original, home: schema });
      }
    }
  }

  /** Files visible from a file (itself first, then what it includes, imports or redefines, breadth-first). */
  visibleFrom(file: string): SchemaFile[] {
    const seen = new Set<string>([file]);
    const order: SchemaFile[] = [this.get(file)];
    for (let i = 0; i < order.length; i++) {
      const current = order[i];
      if (!current) break;
      for (const link of current.links) {
        if (seen.has(link.file)) continue;
        seen.add(link.file);
        order.push(this.get(link.file));
      }
    }
    return order;
  }

  /** The component a QName names, as seen from a file; undefined when none is visible. */
  lookup(fromFile: string, kind: ComponentKind, qname: QName): Component | undefined {
    for (const schema of this.visibleFrom(fromFile)) {
      const found = schema.components.find(
        (c) => c.kind === kind && c.name === qname.local && c.ns === qname.ns,
      );
      if (found) return found;
    }
    return undefined;
  }

  /** Like lookup, but a missing component is an error naming where it was referenced. */
  require(fromFile: string, kind: ComponentKind, node: XmlNode, value: string): Component {
    const qname = resolveQName(node, value);
    const found = this.lookup(fromFile, kind, qname);
    if (!found)
      throw new Error(`xsd/${fromFile}:${node.line}: no ${kind} ${value} (${qnameKey(qname)}) is visible`);
    return found;
  }
}

// TypeScript shapes of the XSD components, one module per schema file, as node-soap reads and
// writes them. The types document the messages; constraints are enforced by validating the XML
// itself (STYLE §4), so facets become comments, never types.
//
// Mapping (also in xsd/manifest/README.md):
//   sequence / all      → properties in schema order; minOccurs=0 → `?`; maxOccurs>1 → array
//   choice              → every alternative optional, with a "choice" comment
//   group / attributeGroup refs → inlined where referenced; element refs → property typed by the element
//   complexContent extension → `interface X extends Base`; restriction → its own content
//   simpleContent       → `$value` (node-soap's valueKey) plus attributes
//   attributes          → `attributes` object (node-soap's attributesKey), always text
//   named / anonymous simple types → string, or a union of string literals for enumerations
//   element typed directly by a built-in: xs:boolean → boolean | string, numeric → number | string,
//     xs:date / xs:dateTime → Date | string (node-soap converts exactly these on read; either is
//     accepted on write); every other built-in → string
//   nillable → `| null`; xs:any → index signature of unknown; no type / xs:anyType → unknown
import { resolveQName, type XmlNode } from './xmlTree.ts';
import { XS, qnameKey, type Component, type SchemaFile, type SchemaSet } from './schemaSet.ts';
import {
  byText,
  importAliases,
  importSpecifier,
  jsdoc,
  pascal,
  propertyKey,
  type ModuleNames,
} from './tsNaming.ts';

const NUMERIC = new Set(['int', 'integer', 'short', 'long', 'decimal', 'double', 'float']);

function elementBuiltin(local: string): string {
  if (local === 'boolean') return 'boolean | string';
  if (NUMERIC.has(local)) return 'number | string';
  if (local === 'date' || local === 'dateTime') return 'Date | string';
  if (local === 'anyType') return 'unknown';
  return 'string';
}

interface Prop {
  name: string;
  type: string;
  optional: boolean;
  array: boolean;
  nullable: boolean;
  docs: string[];
}

interface Members {
  props: Prop[];
  /** One note per xs:any wildcard (its namespace constraint). */
  anyElements: string[];
}

interface Occurs {
  optional: boolean;
  array: boolean;
}

interface ComplexShape {
  extendsType?: string;
  members: Members;
  attributes: Prop[];
  anyAttribute: boolean;
  value?: string;
}

const PARTICLES = new Set(['element', 'group', 'sequence', 'choice', 'all', 'any']);

function xsChildren(node: XmlNode, ...names: string[]): XmlNode[] {
  return node.children.filter((c) => c.ns === XS && names.includes(c.name));
}

function documentation(node: XmlNode): string[] {
  return xsChildren(node, 'annotation').flatMap((a) => xsChildren(a, 'documentation').map((d) => d.text));
}

function occursOf(node: XmlNode, outer: Occurs): Occurs {
  const min = node.attrs.get('minOccurs') ?? '1';
  const max = node.attrs.get('maxOccurs') ?? '1';
  return {
    optional: outer.optional || min === '0',
    array: outer.array || max === 'unbounded' || Number(max) > 1,
  };
}

function withParens(type: string): string {
  return type.includes('|') ? `(${type})` : type;
}

function renderProp(p: Prop): string {
  let type = p.nullable ? `${p.type} | null` : p.type;
  if (p.array) type = `${withParens(type)}[]`;
  return `${jsdoc(p.docs)}${propertyKey(p.name)}${p.optional ? '?' : ''}: ${type};`;
}

function addProp(members: Members, prop: Prop): void {
  const existing = members.props.find((p) => p.name === prop.name);
  if (!existing) {
    members.props.push(prop);
    return;
  }
  // The same name twice in one content model: node-soap collects the occurrences into one array.
  existing.array = true;
  if (existing.type !== prop.type) existing.type = `${existing.type} | ${prop.type}`;
}

/** Emits one generated module; references to other modules go through placeholder aliases. */
export class ModuleEmitter {
  private readonly blocks: string[] = [];
  /** Blocks of anonymous types hoisted while emitting the current component. */
  private pending: string[] = [];
  private readonly referenced = new Set<string>();

  constructor(
    private readonly set: SchemaSet,
    private readonly names: ModuleNames,
    private readonly allNames: ReadonlyMap<SchemaFile, ModuleNames>,
  ) {}

  private get schema(): SchemaFile {
    return this.names.schema;
  }

  private fail(node: XmlNode, message: string): never {
    throw new Error(`xsd/${this.schema.file}:${node.line}: ${message}`);
  }

  /** The TS name of a component from this module (bare) or another one (via an import alias). */
  private nameOf(component: Component): string {
    const module = this.allNames.get(component.home);
    const name = module?.names.get(component);
    if (!module || !name) throw new Error(`no generated name for ${component.kind} ${component.name}`);
    if (component.home === this.schema) return name;
    this.referenced.add(module.module);
    return `\uE000${module.module}\uE000.${name}`;
  }

  private typeComponent(node: XmlNode, value: string): Component {
    const qname = resolveQName(node, value);
    const found =
      this.set.lookup(this.schema.file, 'complexType', qname) ??
      this.set.lookup(this.schema.file, 'simpleType', qname);
    if (!found) this.fail(node, `no type ${value} (${qnameKey(qname)}) is visible`);
    return found;
  }

  /** The TS type of an element's or attribute's `type="..."`. */
  private typeRef(node: XmlNode, value: string, forAttribute: boolean): string {
    const qname = resolveQName(node, value);
    if (qname.ns === XS) return forAttribute ? 'string' : elementBuiltin(qname.local);
    return this.nameOf(this.typeComponent(node, value));
  }

  // ---------------------------------------------------------------- simple types

  private facets(restriction: XmlNode): string {
    const facets = restriction.children
      .filter(
        (f) => f.ns === XS && f.name !== 'annotation' && f.name !== 'enumeration' && f.name !== 'simpleType',
      )
      .map((f) => `${f.name} ${f.attrs.get('value') ?? ''}`.trim());
    const base = restriction.attrs.get('base') ?? 'an anonymous simple type';
    return facets.length > 0 ? `Restricts ${base}: ${facets.join(', ')}.` : `Restricts ${base}.`;
  }

  /** TS expression of a simpleType node, with the XSD facts worth a comment. */
  private simpleType(node: XmlNode, self?: Component): { type: string; note: string } {
    const [restriction] = xsChildren(node, 'restriction');
    if (!restriction) {
      const kind = xsChildren(node, 'list', 'union')[0]?.name ?? 'simple type';
      return { type: 'string', note: `An xs:${kind}.` };
    }
    const values = xsChildren(restriction, 'enumeration').map((e) =>
      JSON.stringify(e.attrs.get('value') ?? ''),
    );
    const note = this.facets(restriction);
    if (values.length > 0) return { type: values.join(' | '), note };
    const base = restriction.attrs.get('base');
    if (!base) {
      const [inner] = xsChildren(restriction, 'simpleType');
      return inner ? { type: this.simpleType(inner).type, note } : { type: 'string', note };
    }
    const qname = resolveQName(restriction, base);
    if (qname.ns === XS) return { type: 'string', note };
    // xs:redefine: a type restricting its own name restricts the original definition.
    const isSelf = self?.replaces && qname.local === self.name && qname.ns === self.ns;
    const baseComponent = isSelf && self.replaces ? self.replaces : this.typeComponent(restriction, base);
    if (baseComponent.kind === 'complexType')
      this.fail(restriction, `simple type restricts complex type ${base}`);
    return { type: this.nameOf(baseComponent), note };
  }

  // ---------------------------------------------------------------- particles

  private elementType(node: XmlNode, hoistParent: string, propName: string): string {
    const type = node.attrs.get('type');
    if (type) return this.typeRef(node, type, false);
    const [complex] = xsChildren(node, 'complexType');
    if (complex) return this.hoist(complex, `${hoistParent}${pascal(propName)}`, documentation(node));
    const [simple] = xsChildren(node, 'simpleType');
    if (simple) return this.simpleType(simple).type;
    return 'unknown';
  }

  private elementProp(node: XmlNode, occurs: Occurs, docs: string[], hoistParent: string): Prop {
    const ref = node.attrs.get('ref');
    const global = ref ? this.set.require(this.schema.file, 'element', node, ref) : undefined;
    const target = global?.node ?? node;
    const name = target.attrs.get('name') ?? this.fail(node, 'element without name');
    const type = global ? this.nameOf(global) : this.elementType(node, hoistParent, name);
    const notes = [...documentation(node), ...(global ? documentation(global.node) : [])];
    const fixed = target.attrs.get('fixed');
    const dflt = target.attrs.get('default');
    if (fixed !== undefined) notes.push(`Fixed value: "${fixed}".`);
    if (dflt !== undefined) notes.push(`Default: "${dflt}".`);
    const nullable = target.attrs.get('nillable') === 'true';
    return { name, type, ...occurs, nullable, docs: [...notes, ...docs] };
  }

  private describeAlternative(node: XmlNode): string {
    if (node.name === 'element') {
      const ref = node.attrs.get('ref');
      return ref ? resolveQName(node, ref).local : (node.attrs.get('name') ?? '?');
    }
    if (node.name === 'group') return `group ${node.attrs.get('ref') ?? '?'}`;
    if (node.name === 'any') return 'any element';
    const inner = node.children.filter((c) => c.ns === XS && PARTICLES.has(c.name));
    return `(${inner.map((c) => this.describeAlternative(c)).join(node.name === 'choice' ? ' | ' : ', ')})`;
  }

  private walk(node: XmlNode, outer: Occurs, out: Members, docs: string[], hoistParent: string): void {
    const occurs = occursOf(node, outer);
    switch (node.name) {
      case 'element':
        addProp(out, this.elementProp(node, occurs, docs, hoistParent));
        return;
      case 'any':
        out.anyElements.push(
          `xs:any (namespace ${node.attrs.get('namespace') ?? '##any'}): elements of any name.`,
        );
        return;
      case 'group': {
        const group = this.set.require(this.schema.file, 'group', node, node.attrs.get('ref') ?? '');
        for (const model of xsChildren(group.node, 'sequence', 'choice', 'all')) {
          this.walk(model, occurs, out, docs, hoistParent);
        }
        return;
      }
      case 'choice': {
        const alternatives = node.children.filter((c) => c.ns === XS && PARTICLES.has(c.name));
        const many = alternatives.length > 1;
        const note = `Choice: exactly one of ${alternatives.map((a) => this.describeAlternative(a)).join(' | ')}.`;
        const inner = { optional: occurs.optional || many, array: occurs.array };
        for (const alt of alternatives)
          this.walk(alt, inner, out, many ? [...docs, note] : docs, hoistParent);
        return;
      }
      default: // sequence, all
        for (const child of node.children.filter((c) => c.ns === XS && PARTICLES.has(c.name))) {
          this.walk(child, occurs, out, docs, hoistParent);
        }
    }
  }

  private particlesOf(node: XmlNode, hoistParent: string): Members {
    const members: Members = { props: [], anyElements: [] };
    for (const model of xsChildren(node, 'sequence', 'choice', 'all', 'group')) {
      this.walk(model, { optional: false, array: false }, members, [], hoistParent);
    }
    return members;
  }

  // ---------------------------------------------------------------- attributes

  private attributeProp(node: XmlNode): Prop {
    const ref = node.attrs.get('ref');
    const decl = ref ? this.set.require(this.schema.file, 'attribute', node, ref).node : node;
    const name = ref
      ? resolveQName(node, ref).local
      : (node.attrs.get('name') ?? this.fail(node, 'attribute without name'));
    const type = decl.attrs.get('type');
    const [simple] = xsChildren(decl, 'simpleType');
    const ts = type ? this.typeRef(decl, type, true) : simple ? this.simpleType(simple).type : 'string';
    const docs = [
      ...documentation(node),
      ...(ref ? [`Attribute ${ref} (namespace-qualified on the wire).`] : []),
    ];
    const dflt = node.attrs.get('default') ?? decl.attrs.get('default');
    if (dflt !== undefined) docs.push(`Default: "${dflt}".`);
    return {
      name,
      type: ts,
      optional: node.attrs.get('use') !== 'required',
      array: false,
      nullable: false,
      docs,
    };
  }

  private attributesOf(node: XmlNode, out: Prop[]): boolean {
    let anyAttribute = false;
    for (const child of xsChildren(node, 'attribute', 'attributeGroup', 'anyAttribute')) {
      if (child.name === 'anyAttribute') anyAttribute = true;
      else if (child.name === 'attribute') out.push(this.attributeProp(child));
      else {
        const group = this.set.require(
          this.schema.file,
          'attributeGroup',
          child,
          child.attrs.get('ref') ?? '',
        );
        anyAttribute = this.attributesOf(group.node, out) || anyAttribute;
      }
    }
    return anyAttribute;
  }

  /** Attributes a complex type has, inherited ones included (a derived `attributes` must extend the base's). */
  private inheritedAttributes(typeNode: XmlNode, out: Prop[]): void {
    for (const content of xsChildren(typeNode, 'complexContent', 'simpleContent')) {
      for (const derivation of xsChildren(content, 'extension')) {
        const base = derivation.attrs.get('base');
        if (!base || resolveQName(derivation, base).ns === XS) continue;
        const baseType = this.typeComponent(derivation, base);
        if (baseType.kind === 'complexType') this.inheritedAttributes(baseType.node, out);
        this.attributesOf(derivation, out);
      }
    }
    this.attributesOf(typeNode, out);
  }

  // ---------------------------------------------------------------- complex types

  private derivedShape(content: XmlNode, hoistParent: string): ComplexShape {
    const [derivation] = xsChildren(content, 'extension', 'restriction');
    if (!derivation) this.fail(content, `${content.name} without extension or restriction`);
    const shape: ComplexShape = {
      members: this.particlesOf(derivation, hoistParent),
      attributes: [],
      anyAttribute: false,
    };
    shape.anyAttribute = this.attributesOf(derivation, shape.attributes);
    const base = derivation.attrs.get('base') ?? '';
    const baseQName = resolveQName(derivation, base);
    const baseType = baseQName.ns === XS ? undefined : this.typeComponent(derivation, base);
    if (content.name === 'simpleContent') {
      if (baseType?.kind === 'complexType') shape.extendsType = this.nameOf(baseType);
      else shape.value = baseType ? this.nameOf(baseType) : 'string';
    } else if (derivation.name === 'extension' && baseType) {
      shape.extendsType = this.nameOf(baseType);
      // A derived `attributes` replaces the inherited one, so it must list the base's too.
      if (shape.attributes.length > 0) this.inheritedAttributes(baseType.node, shape.attributes);
    }
    return shape;
  }

  private complexShape(node: XmlNode, hoistParent: string): ComplexShape {
    const [content] = xsChildren(node, 'complexContent', 'simpleContent');
    const shape: ComplexShape = content
      ? this.derivedShape(content, hoistParent)
      : { members: this.particlesOf(node, hoistParent), attributes: [], anyAttribute: false };
    if (!content) shape.anyAttribute = this.attributesOf(node, shape.attributes);
    const mixed = node.attrs.get('mixed') === 'true' || content?.attrs.get('mixed') === 'true';
    if (mixed && shape.value === undefined) shape.value = 'string';
    return shape;
  }

  private renderAttributes(shape: ComplexShape): string {
    if (shape.attributes.length === 0 && !shape.anyAttribute) return '';
    const lines = shape.attributes.map(renderProp);
    if (shape.anyAttribute) lines.push('/** xs:anyAttribute */\n[attribute: string]: string | undefined;');
    const required = shape.attributes.some((a) => !a.optional);
    return `/** XML attributes (node-soap's attributesKey). */\nattributes${required ? '' : '?'}: {\n${lines.join('\n')}\n};`;
  }

  private renderComplex(name: string, docs: string[], shape: ComplexShape): string {
    const lines = shape.members.props.map(renderProp);
    const attributes = this.renderAttributes(shape);
    if (attributes) lines.push(attributes);
    if (shape.value !== undefined)
      lines.push(`/** Text content (node-soap's valueKey). */\n$value?: ${shape.value};`);
    if (shape.members.anyElements.length > 0) {
      lines.push(`${jsdoc(shape.members.anyElements)}[element: string]: unknown;`);
    }
    const head = jsdoc(docs);
    if (lines.length === 0) {
      return `${head}export type ${name} = ${shape.extendsType ?? 'Record<string, never>'};`;
    }
    const extendsClause = shape.extendsType ? ` extends ${shape.extendsType}` : '';
    return `${head}export interface ${name}${extendsClause} {\n${lines.join('\n')}\n}`;
  }

  /** An anonymous complex type becomes a named interface emitted after the current block. */
  private hoist(node: XmlNode, wanted: string, docs: string[]): string {
    let name = wanted;
    for (let n = 2; this.names.used.has(name); n++) name = `${wanted}${n}`;
    this.names.used.add(name);
    const block = this.renderComplex(name, docs, this.complexShape(node, name));
    this.pending.push(block);
    return name;
  }

  // ---------------------------------------------------------------- components

  private emitComponent(c: Component, name: string): string | undefined {
    const docs = documentation(c.node);
    if (c.kind === 'complexType') return this.renderComplex(name, docs, this.complexShape(c.node, name));
    if (c.kind === 'simpleType') {
      const { type, note } = this.simpleType(c.node, c);
      return `${jsdoc([...docs, note])}export type ${name} = ${type};`;
    }
    if (c.kind !== 'element') return undefined;
    const head = [...docs, `Global element ${c.name} of ${c.ns || 'no namespace'}.`];
    const type = c.node.attrs.get('type');
    if (type) {
      const ts = this.typeRef(c.node, type, false);
      return ts === name ? undefined : `${jsdoc(head)}export type ${name} = ${ts};`;
    }
    const [complex] = xsChildren(c.node, 'complexType');
    if (complex) return this.renderComplex(name, head, this.complexShape(complex, name));
    const [simple] = xsChildren(c.node, 'simpleType');
    const ts = simple ? this.simpleType(simple).type : 'unknown';
    return `${jsdoc(head)}export type ${name} = ${ts};`;
  }

  private header(): string {
    const ns = this.schema.targetNamespace || '(no namespace)';
    return [
      `// Generated by npm run gen from xsd/${this.schema.file} — do not edit.`,
      `// Shapes of its global elements and named types as node-soap reads and writes them (namespace`,
      `// ${ns}); mapping rules in src/contracts/gen/tsTypes.ts.`,
    ].join('\n');
  }

  /** The module's source text (not yet formatted). */
  emit(): string {
    for (const c of this.schema.components) {
      const name = this.names.names.get(c);
      if (name === undefined) continue;
      const block = this.emitComponent(c, name);
      if (block) this.blocks.push(block);
      this.blocks.push(...this.pending);
      this.pending = [];
    }
    const modules = [...this.referenced].sort(byText);
    const aliases = importAliases(modules, this.names.used);
    const imports = modules.map(
      (m) => `import type * as ${aliases.get(m)} from '${importSpecifier(this.names.module, m)}';`,
    );
    const body = this.blocks.length > 0 ? this.blocks.join('\n\n') : 'export {};';
    const text = [this.header(), imports.join('\n'), body].filter(Boolean).join('\n\n');
    return `${text.replace(/\uE000([^\uE000]+)\uE000/g, (_, m: string) => aliases.get(m) ?? m)}\n`;
  }
}

/** The schema's own named type an element is declared with, when it lives in the same module. */
export function ownTypeOf(set: SchemaSet, element: Component): Component | undefined {
  const type = element.node.attrs.get('type');
  if (!type) return undefined;
  const qname = resolveQName(element.node, type);
  if (qname.ns === XS) return undefined;
  const found =
    set.lookup(element.home.file, 'complexType', qname) ?? set.lookup(element.home.file, 'simpleType', qname);
  return found?.home === element.home ? found : undefined;
}

// Naming for the generated TypeScript: safe identifiers, module paths and import aliases, the
// exported name of every schema component (unique within its module), and JSDoc text.
import path from 'node:path';
import type { Component, SchemaFile } from './schemaSet.ts';

/** Words a type or alias may not be named (keywords, built-in types, and Date which we emit). */
const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'as implements interface let package private protected public static yield any boolean constructor declare ' +
    'get module require number set string symbol type from of unknown never object bigint undefined Date Record Array'
  ).split(' '),
);

/** Byte-wise comparison: stable on every machine, unlike localeCompare. */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An XML name as a TypeScript identifier: separators dropped with camel case ("e-mail" → "eMail"). */
export function identifier(name: string): string {
  const parts = name.split(/[^A-Za-z0-9_$]+/).filter(Boolean);
  let id = parts.map((p, i) => (i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1))).join('') || '_';
  if (/^[0-9]/.test(id)) id = `_${id}`;
  return RESERVED.has(id) ? `${id}_` : id;
}

export function pascal(name: string): string {
  const id = identifier(name);
  const upper = id.charAt(0).toUpperCase() + id.slice(1);
  return RESERVED.has(upper) ? `${upper}_` : upper;
}

/** A property key: bare when it is an identifier, quoted otherwise ("e-mail"). */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}

/** src/xml/generated/<path under xsd/ without .xsd>.ts, relative to src/xml/generated. */
export function modulePath(schemaFile: string): string {
  return schemaFile.replace(/\.xsd$/, '.ts');
}

/** Import specifier from one generated module to another (".ts" kept: allowImportingTsExtensions). */
export function importSpecifier(fromModule: string, toModule: string): string {
  const rel = path.posix.relative(path.posix.dirname(fromModule), toModule);
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** The index's namespace name of a module: its path in camel case ("pagopa/current/paForNode" → pagopaCurrentPaForNode). */
export function namespaceName(schemaFile: string): string {
  return identifier(schemaFile.replace(/\.xsd$/, '').replace(/\//g, '-'));
}

/**
 * Import aliases for the modules one module references: the file stem in camel case, or the whole
 * path when two stems (or a local name) would clash, e.g. current/ and documents/ common-types.
 */
export function importAliases(
  modules: readonly string[],
  localNames: ReadonlySet<string>,
): Map<string, string> {
  const stems = modules.map((m) => identifier(path.posix.basename(m, '.ts')));
  const aliases = new Map<string, string>();
  const used = new Set(localNames);
  modules.forEach((module, i) => {
    const stem = stems[i] ?? '';
    const clash = stems.filter((s) => s === stem).length > 1 || used.has(stem);
    let alias = clash ? namespaceName(module.replace(/\.ts$/, '.xsd')) : stem;
    while (used.has(alias)) alias = `${alias}Module`;
    used.add(alias);
    aliases.set(module, alias);
  });
  return aliases;
}

function uniqueName(wanted: string, used: Set<string>): string {
  let name = wanted;
  for (let n = 2; used.has(name); n++) name = `${wanted}${n}`;
  used.add(name);
  return name;
}

export interface ModuleNames {
  readonly schema: SchemaFile;
  readonly module: string;
  /** Exported name of each emitted component (named types, then global elements). */
  readonly names: Map<Component, string>;
  /** Every identifier declared at the module's top level (grows as anonymous types are hoisted). */
  readonly used: Set<string>;
}

/**
 * Named types keep their XSD name; a global element gets its name in PascalCase, or "<Name>Element"
 * when a type already has that name (unless that type is the element's own type: then they share it).
 */
export function planModuleNames(
  schema: SchemaFile,
  ownTypeOf: (element: Component) => Component | undefined,
) {
  const names = new Map<Component, string>();
  const used = new Set<string>();
  for (const c of schema.components) {
    if (c.kind === 'complexType' || c.kind === 'simpleType')
      names.set(c, uniqueName(identifier(c.name), used));
  }
  for (const c of schema.components) {
    if (c.kind !== 'element') continue;
    const wanted = pascal(c.name);
    const ownType = ownTypeOf(c);
    if (ownType && names.get(ownType) === wanted) names.set(c, wanted);
    else names.set(c, uniqueName(used.has(wanted) ? `${wanted}Element` : wanted, used));
  }
  return { schema, module: modulePath(schema.file), names, used } satisfies ModuleNames;
}

/** A JSDoc block from loose lines (whitespace collapsed, "*\/" defused); '' when there is nothing to say. */
export function jsdoc(lines: readonly string[]): string {
  const clean = lines.map((l) => l.replace(/\s+/g, ' ').replace(/\*\//g, '*\\/').trim()).filter(Boolean);
  if (clean.length === 0) return '';
  if (clean.length === 1) return `/** ${clean[0]} */\n`;
  return `/**\n${clean.map((l) => ` * ${l}`).join('\n')}\n */\n`;
}

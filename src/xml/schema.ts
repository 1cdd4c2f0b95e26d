// XSD validation with libxml2-wasm: each schema set is compiled once and reused; every parsed
// document is disposed. Documents with a DOCTYPE are refused before parsing, so no entity is ever
// declared or expanded (XXE and entity-expansion bombs stop here).

import fs from 'node:fs';
import path from 'node:path';

import { XmlDocument, XsdValidator, XmlValidateError, type XmlElement } from 'libxml2-wasm';
import { xmlRegisterFsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';

// xs:include / xs:import resolve relative paths through libxml2's I/O; register the fs provider once.
xmlRegisterFsInputProviders();

export interface SchemaViolation {
  line: number;
  message: string;
}

export type ValidationResult = { ok: true } | { ok: false; violations: SchemaViolation[] };

export class XmlRejected extends Error {
  constructor(
    readonly reason: 'doctype' | 'malformed',
    message: string,
  ) {
    super(message);
  }
}

const DOCTYPE = /<!DOCTYPE/i;

/** Parses XML that came from outside: refuses any DOCTYPE, never substitutes entities. */
export function parseUntrusted(xml: string | Uint8Array): XmlDocument {
  const text = typeof xml === 'string' ? xml : Buffer.from(xml).toString('utf8');
  if (DOCTYPE.test(text)) throw new XmlRejected('doctype', 'DOCTYPE is not allowed');
  try {
    return typeof xml === 'string' ? XmlDocument.fromString(xml) : XmlDocument.fromBuffer(xml);
  } catch {
    throw new XmlRejected('malformed', 'the document is not well-formed XML');
  }
}

function violationsOf(err: unknown): SchemaViolation[] {
  if (err instanceof XmlValidateError) {
    return err.details.map((d) => ({ line: d.line, message: d.message.trim() }));
  }
  throw err;
}

export class CompiledSchema {
  private constructor(
    readonly file: string,
    private readonly schemaDoc: XmlDocument,
    private readonly validator: XsdValidator,
  ) {}

  static load(file: string): CompiledSchema {
    const absolute = path.resolve(file);
    return CompiledSchema.fromBuffer(fs.readFileSync(absolute), absolute);
  }

  /** Compiles schema text whose relative imports resolve against `url` (a file path). */
  static fromBuffer(source: Uint8Array, url: string): CompiledSchema {
    const doc = XmlDocument.fromBuffer(source, { url });
    const absolute = url;
    try {
      return new CompiledSchema(absolute, doc, XsdValidator.fromDoc(doc));
    } catch (err) {
      doc.dispose();
      throw err;
    }
  }

  /** Validates a whole document or one element of it (e.g. the child of a SOAP Body). */
  validateNode(node: XmlDocument | XmlElement): ValidationResult {
    try {
      if (node instanceof XmlDocument) this.validator.validate(node);
      else this.validator.validate(node);
      return { ok: true };
    } catch (err) {
      return { ok: false, violations: violationsOf(err) };
    }
  }

  /** Parses (untrusted), validates and disposes: for documents that need no further reading. */
  validateXml(xml: string | Uint8Array): ValidationResult {
    const doc = parseUntrusted(xml);
    try {
      return this.validateNode(doc);
    } finally {
      doc.dispose();
    }
  }

  dispose(): void {
    this.validator.dispose();
    this.schemaDoc.dispose();
  }
}

const cache = new Map<string, CompiledSchema>();

/** The compiled schema for a file, compiled on first use and kept for the life of the process. */
export function schemaFor(file: string): CompiledSchema {
  const key = path.resolve(file);
  let schema = cache.get(key);
  if (!schema) {
    schema = CompiledSchema.load(key);
    cache.set(key, schema);
  }
  return schema;
}

const sets = new Map<string, CompiledSchema>();

/**
 * One validator for several namespaces (e.g. a legacy body and its intestazionePPT header, or a
 * service and the common types it imports): a driver schema that only imports each of them.
 */
export function schemaSetFor(schemas: ReadonlyArray<{ namespace: string; file: string }>): CompiledSchema {
  const key = schemas
    .map((s) => `${s.namespace}=${path.resolve(s.file)}`)
    .sort()
    .join('|');
  let set = sets.get(key);
  if (!set) {
    const imports = schemas
      .map((s) => `<xs:import namespace="${s.namespace}" schemaLocation="${path.resolve(s.file)}"/>`)
      .join('');
    const driver = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">${imports}</xs:schema>`;
    // The driver needs a URL of its own: libxml2 refuses a schema that imports its own location.
    const base = path.join(path.dirname(path.resolve(schemas[0]?.file ?? '.')), '__schema-set__.xsd');
    set = CompiledSchema.fromBuffer(Buffer.from(driver), base);
    sets.set(key, set);
  }
  return set;
}

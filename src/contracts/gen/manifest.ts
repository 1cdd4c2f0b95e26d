// The operations manifests (xsd/manifest/*.json, format in xsd/manifest/README.md), read strictly
// for the generator: a typo in a key, a prefix or an element name stops `npm run gen` with the
// manifest file, service and operation in the message, before any file is written.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { qnameKey, type QName, type SchemaSet } from './schemaSet.ts';

export const INTERFACES = ['pagopa', 'gestionale', 'callback', 'emulator'] as const;

const NCNAME = /^[A-Za-z_][\w.-]*$/;
const qnameText = z.string().regex(/^[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*$/, 'must be prefix:localName');
const ncname = z.string().regex(NCNAME, 'must be an XML name (NCName)');

const operationSchema = z.strictObject({
  name: ncname,
  soapAction: z.string(),
  input: qnameText,
  output: qnameText,
  inputHeaders: z.array(qnameText).default([]),
});

const serviceSchema = z.strictObject({
  wsdl: z.string().regex(/^[\w.-]+\.wsdl$/, 'must be a file name ending in .wsdl'),
  interface: z.enum(INTERFACES),
  path: z.string().startsWith('/').nullable(),
  definitionsName: ncname,
  targetNamespace: z.string().min(1),
  namespaces: z.record(z.string().regex(NCNAME), z.string().min(1)),
  schemas: z.array(z.strictObject({ namespace: z.string().min(1), file: z.string().regex(/\.xsd$/) })).min(1),
  portType: ncname,
  binding: ncname,
  service: ncname,
  port: ncname,
  operations: z.array(operationSchema).min(1),
});

const manifestSchema = z.strictObject({
  $comment: z.string().optional(),
  services: z.array(serviceSchema),
});

export type RawService = z.infer<typeof serviceSchema>;

export interface ManifestOperation {
  readonly name: string;
  readonly soapAction: string;
  readonly input: QName;
  readonly output: QName;
  readonly inputHeaders: readonly QName[];
}

export interface ManifestService extends Omit<RawService, 'operations'> {
  /** The manifest file it comes from, relative to the project root. */
  readonly manifestFile: string;
  readonly operations: readonly ManifestOperation[];
}

/** A manifest that cannot produce a correct WSDL; names where, so the author can fix it fast. */
export class ManifestError extends Error {
  constructor(
    readonly manifestFile: string,
    readonly service: string | undefined,
    readonly operation: string | undefined,
    detail: string,
  ) {
    const where = [manifestFile, service, operation && `operation ${operation}`].filter(Boolean).join(' › ');
    super(`${where}: ${detail}`);
  }
}

/** Prefixes the generated WSDL declares itself; a manifest may not rebind them. */
const RESERVED_PREFIXES = new Set(['wsdl', 'soap', 'xsd', 'tns', 'xml', 'xmlns']);

function parseRaw(manifestFile: string, json: unknown): RawService[] {
  const parsed = manifestSchema.safeParse(json);
  if (parsed.success) return parsed.data.services;
  const details = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new ManifestError(manifestFile, undefined, undefined, details);
}

class ServiceChecker {
  constructor(
    private readonly schemas: SchemaSet,
    private readonly manifestFile: string,
    private readonly raw: RawService,
  ) {}

  private fail(operation: string | undefined, detail: string): never {
    throw new ManifestError(this.manifestFile, this.raw.wsdl, operation, detail);
  }

  checkSchemas(): void {
    for (const prefix of Object.keys(this.raw.namespaces)) {
      if (RESERVED_PREFIXES.has(prefix)) this.fail(undefined, `namespace prefix "${prefix}" is reserved`);
    }
    for (const ref of this.raw.schemas) {
      const schema = this.schemas.files.get(ref.file);
      if (!schema) this.fail(undefined, `schema file xsd/${ref.file} does not exist`);
      if (schema.targetNamespace !== ref.namespace) {
        this.fail(
          undefined,
          `xsd/${ref.file} has targetNamespace "${schema.targetNamespace}", not "${ref.namespace}"`,
        );
      }
    }
  }

  /** Resolves "prefix:local" and checks it is a global element of a schema the service imports. */
  element(operation: string, role: string, text: string): QName {
    const [prefix = '', local = ''] = text.split(':');
    const ns = this.raw.namespaces[prefix];
    if (ns === undefined) this.fail(operation, `${role} ${text}: prefix "${prefix}" is not in "namespaces"`);
    const refs = this.raw.schemas.filter((s) => s.namespace === ns);
    if (refs.length === 0) this.fail(operation, `${role} ${text}: no entry of "schemas" has namespace ${ns}`);
    const qname = { ns, local };
    const found = refs.some((ref) => this.schemas.lookup(ref.file, 'element', qname));
    if (!found) {
      const files = refs.map((r) => `xsd/${r.file}`).join(', ');
      this.fail(
        operation,
        `${role} ${text}: unknown element ${qnameKey(qname)}, not a global element of ${files}`,
      );
    }
    return qname;
  }

  operations(): ManifestOperation[] {
    const seen = new Set<string>();
    return this.raw.operations.map((op) => {
      if (seen.has(op.name)) this.fail(op.name, 'operation declared twice');
      seen.add(op.name);
      const headers = op.inputHeaders.map((h) => this.element(op.name, 'input header', h));
      const headerNames = new Set(headers.map((h) => h.local));
      if (headerNames.size !== headers.length) this.fail(op.name, 'two input headers share a local name');
      return {
        name: op.name,
        soapAction: op.soapAction,
        input: this.element(op.name, 'input', op.input),
        output: this.element(op.name, 'output', op.output),
        inputHeaders: headers,
      };
    });
  }
}

/**
 * node-soap indexes messages by their body element's local name too, so a message named like
 * another operation's body element would be shadowed: refuse it here.
 */
function checkMessageNames(service: ManifestService): void {
  const messageOf = new Map<string, string>();
  for (const op of service.operations) {
    messageOf.set(op.name, op.name);
    messageOf.set(`${op.name}Response`, op.name);
  }
  for (const op of service.operations) {
    for (const element of [op.input.local, op.output.local]) {
      const owner = messageOf.get(element);
      if (owner !== undefined && owner !== op.name) {
        throw new ManifestError(
          service.manifestFile,
          service.wsdl,
          op.name,
          `body element ${element} has the name of a message of operation ${owner}`,
        );
      }
    }
  }
}

function checkService(schemas: SchemaSet, manifestFile: string, raw: RawService): ManifestService {
  const checker = new ServiceChecker(schemas, manifestFile, raw);
  checker.checkSchemas();
  const service: ManifestService = { ...raw, manifestFile, operations: checker.operations() };
  checkMessageNames(service);
  return service;
}

/** Checks one manifest's JSON; `owners` maps WSDL file names already declared to their manifest. */
export function parseManifest(
  schemas: SchemaSet,
  manifestFile: string,
  json: unknown,
  owners = new Map<string, string>(),
): ManifestService[] {
  return parseRaw(manifestFile, json).map((raw) => {
    const owner = owners.get(raw.wsdl);
    if (owner)
      throw new ManifestError(manifestFile, raw.wsdl, undefined, `wsdl file already declared in ${owner}`);
    owners.set(raw.wsdl, manifestFile);
    return checkService(schemas, manifestFile, raw);
  });
}

/** Reads and checks every manifest (sorted by file name); WSDL file names must be unique across them. */
export function loadManifests(root: string, schemas: SchemaSet): ManifestService[] {
  const dir = path.join(root, 'xsd/manifest');
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const owners = new Map<string, string>();
  return files.flatMap((name) => {
    const manifestFile = `xsd/manifest/${name}`;
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    } catch (err) {
      throw new ManifestError(
        manifestFile,
        undefined,
        undefined,
        `not valid JSON (${(err as Error).message})`,
      );
    }
    return parseManifest(schemas, manifestFile, json, owners);
  });
}

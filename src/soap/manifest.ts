// The operations manifest (xsd/manifest/*.json, format in xsd/manifest/README.md): which elements
// form each operation of each service, its SOAPAction and headers. The WSDL generator and the SOAP
// server read the same description, so what is served is what the WSDL says.

import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT, WSDL_DIR, XSD_DIR } from '../xml/paths.ts';

export { PROJECT_ROOT, XSD_DIR, WSDL_DIR };
export const MANIFEST_DIR = path.join(XSD_DIR, 'manifest');

const qname = z.string().regex(/^[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*$/, 'must be prefix:localName');

const operationSchema = z.object({
  name: z.string().min(1),
  soapAction: z.string(),
  input: qname,
  output: qname,
  inputHeaders: z.array(qname).default([]),
});

const serviceSchema = z.object({
  wsdl: z.string().regex(/^[\w.-]+\.wsdl$/),
  interface: z.enum(['pagopa', 'gestionale', 'callback', 'emulator']),
  path: z.string().startsWith('/').nullable(),
  definitionsName: z.string().min(1),
  targetNamespace: z.string().min(1),
  namespaces: z.record(z.string(), z.string()),
  schemas: z.array(z.object({ namespace: z.string(), file: z.string() })).min(1),
  portType: z.string().min(1),
  binding: z.string().min(1),
  service: z.string().min(1),
  port: z.string().min(1),
  operations: z.array(operationSchema).min(1),
});

const manifestSchema = z.object({ services: z.array(serviceSchema) });

export type ServiceInterface = z.infer<typeof serviceSchema>['interface'];

export interface QName {
  namespace: string;
  localName: string;
}

export interface SchemaRef {
  namespace: string;
  file: string;
}

export interface OperationDescription {
  name: string;
  soapAction: string;
  input: QName;
  output: QName;
  inputHeaders: QName[];
}

export interface ServiceDescription {
  wsdl: string;
  wsdlPath: string;
  interface: ServiceInterface;
  path: string | null;
  service: string;
  port: string;
  targetNamespace: string;
  /** The schemas (absolute paths) the service's messages are validated against. */
  schemas: SchemaRef[];
  operations: OperationDescription[];
}

function resolveQName(value: string, namespaces: Record<string, string>, where: string): QName {
  const [prefix, localName] = value.split(':') as [string, string];
  const namespace = namespaces[prefix];
  if (!namespace) throw new Error(`${where}: unknown namespace prefix "${prefix}"`);
  return { namespace, localName };
}

export function loadManifest(dir = MANIFEST_DIR): ServiceDescription[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.flatMap((file) => {
    const parsed = manifestSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    if (!parsed.success)
      throw new Error(
        `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    return parsed.data.services.map((s) => ({
      wsdl: s.wsdl,
      wsdlPath: path.join(WSDL_DIR, s.wsdl),
      interface: s.interface,
      path: s.path,
      service: s.service,
      port: s.port,
      targetNamespace: s.targetNamespace,
      schemas: s.schemas.map((schema) => ({
        namespace: schema.namespace,
        file: path.join(XSD_DIR, schema.file),
      })),
      operations: s.operations.map((o) => {
        const where = `${file} ${s.wsdl} ${o.name}`;
        return {
          name: o.name,
          soapAction: o.soapAction,
          input: resolveQName(o.input, s.namespaces, where),
          output: resolveQName(o.output, s.namespaces, where),
          inputHeaders: o.inputHeaders.map((h) => resolveQName(h, s.namespaces, where)),
        };
      }),
    }));
  });
}

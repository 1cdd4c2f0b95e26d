// Mounts each SOAP service on the express app: our guard first (size, DOCTYPE, envelope,
// SOAPAction, credentials, XSD), then node-soap with the generated WSDL and a services object whose
// operations must match the WSDL's one to one (start-up fails otherwise). Handler errors never
// reach node-soap as messages: business errors become KO answers, the rest a fixed soap:Server Fault.

import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type Request, type Response } from 'express';
import * as soap from 'soap';
import { XmlDocument, type XmlElement } from 'libxml2-wasm';
import type { Store } from '../db/store.ts';
import { isDomainError, type DomainError } from '../domain/errors.ts';
import { soapErrorHandler, soapGuard, type SchemaRejection, type SoapContext } from './guard.ts';
import { loadManifest, XSD_DIR, type ServiceDescription } from './manifest.ts';
import type { Authenticator } from './wsSecurity.ts';
import { TEXT_DESERIALIZERS } from './textDeserializers.ts';

/** Handlers receive node-soap's parsed request and answer a plain object node-soap serialises. */
export type OperationHandler = (args: Record<string, unknown>, ctx: SoapContext) => Promise<object>;

export interface SoapServiceBinding {
  /** The generated WSDL file name, as in the manifest (e.g. `paForNode.wsdl`). */
  wsdl: string;
  /** One handler per WSDL operation, keyed by the operation's literal name. */
  handlers: Readonly<Record<string, OperationHandler>>;
  /** How a DomainError becomes this interface's KO answer object. */
  businessError: (err: DomainError, ctx: SoapContext) => object;
  rejectSchema: SchemaRejection;
  authenticator?: Authenticator;
}

export interface SoapMountOptions {
  store: Store;
  maxBodyBytes: number;
  bindings: SoapServiceBinding[];
  /** Where unexpected errors are reported (with the correlation id); defaults to stderr. */
  onUnexpected?: (err: unknown, correlationId: string) => void;
}

type SoapMethod = (
  args: Record<string, unknown>,
  cb: unknown,
  headers: unknown,
  req: Request,
) => Promise<object>;

function internalFault(correlationId: string) {
  return {
    Fault: {
      faultcode: 'soap:Server',
      faultstring: 'Internal error',
      detail: { correlationId },
      statusCode: 500,
    },
  };
}

function wrap(
  binding: SoapServiceBinding,
  handler: OperationHandler,
  onUnexpected: SoapMountOptions['onUnexpected'],
): SoapMethod {
  return async (args, _cb, _headers, req) => {
    const ctx = req.soap;
    if (!ctx) throw internalFault('none');
    try {
      return await handler(args ?? {}, ctx);
    } catch (err) {
      if (isDomainError(err)) return binding.businessError(err, ctx);
      onUnexpected?.(err, ctx.correlationId);
      throw internalFault(ctx.correlationId);
    }
  };
}

/** The WSDL as served: schemaLocations point at this server's /xsd/ copy of our schemas, the address at itself. */
function servedWsdl(service: ServiceDescription, baseUrl: string): string {
  const doc = XmlDocument.fromBuffer(fs.readFileSync(service.wsdlPath), { url: service.wsdlPath });
  try {
    const imports = doc.find('//xsd:import[@schemaLocation]', { xsd: 'http://www.w3.org/2001/XMLSchema' });
    for (const node of imports as XmlElement[]) {
      const location = node.attr('schemaLocation')?.value ?? '';
      const file = path.resolve(path.dirname(service.wsdlPath), location);
      const relative = path.relative(XSD_DIR, file).split(path.sep).join('/');
      node.setAttr('schemaLocation', `${baseUrl}/xsd/${relative}`);
    }
    // The generated WSDL names localhost:8080; the served one names the address it was fetched from.
    const addresses = doc.find('//soap:address[@location]', {
      soap: 'http://schemas.xmlsoap.org/wsdl/soap/',
    });
    for (const node of addresses as XmlElement[]) node.setAttr('location', `${baseUrl}${service.path ?? ''}`);
    return doc.toString();
  } finally {
    doc.dispose();
  }
}

function listen(app: Express, service: ServiceDescription, services: soap.IServices): Promise<soap.Server> {
  return new Promise((resolve, reject) => {
    const xml = fs.readFileSync(service.wsdlPath, 'utf8');
    const server = soap.listen(app, {
      path: service.path as string,
      services,
      xml,
      uri: service.wsdlPath,
      suppressStack: true,
      ...({ customDeserializer: TEXT_DESERIALIZERS } as object),
      callback: (err: unknown) => (err ? reject(err) : resolve(server)),
    });
  });
}

/** Operation names the WSDL's binding for this service's port declares. */
function wsdlOperations(service: ServiceDescription): string[] {
  const doc = XmlDocument.fromBuffer(fs.readFileSync(service.wsdlPath));
  try {
    const ns = { wsdl: 'http://schemas.xmlsoap.org/wsdl/' };
    const [port] = doc.find(
      `//wsdl:service[@name='${service.service}']/wsdl:port[@name='${service.port}']`,
      ns,
    ) as XmlElement[];
    const bindingName = (port?.attr('binding')?.value ?? '').replace(/^.*:/, '');
    const ops = doc.find(`//wsdl:binding[@name='${bindingName}']/wsdl:operation`, ns) as XmlElement[];
    return ops.map((op) => op.attr('name')?.value ?? '').sort();
  } finally {
    doc.dispose();
  }
}

/** Every WSDL operation has a handler and every handler a WSDL operation, or start-up stops. */
export function checkOneToOne(service: ServiceDescription, handlers: Record<string, unknown>): void {
  const inWsdl = wsdlOperations(service);
  if (inWsdl.length === 0)
    throw new Error(`${service.wsdl}: no operations for service ${service.service} / port ${service.port}`);
  const handled = Object.keys(handlers).sort();
  const missing = inWsdl.filter((op) => !handled.includes(op));
  const extra = handled.filter((op) => !inWsdl.includes(op));
  if (missing.length || extra.length) {
    throw new Error(
      `${service.wsdl}: operations and handlers differ (no handler: ${missing.join(', ') || '-'}; not in WSDL: ${extra.join(', ') || '-'})`,
    );
  }
}

export async function mountSoapServices(app: Express, options: SoapMountOptions): Promise<void> {
  const manifest = loadManifest();
  const onUnexpected =
    options.onUnexpected ??
    ((err, id) => process.stderr.write(`[${id}] unexpected SOAP handler error: ${String(err)}\n`));
  app.use('/xsd', express.static(XSD_DIR, { index: false, dotfiles: 'deny' }));
  for (const binding of options.bindings) {
    const service = manifest.find((s) => s.wsdl === binding.wsdl);
    if (!service?.path) throw new Error(`${binding.wsdl}: not a served service in xsd/manifest`);
    const methods = Object.fromEntries(
      Object.entries(binding.handlers).map(([name, handler]) => [name, wrap(binding, handler, onUnexpected)]),
    );
    app.get(service.path, (req: Request, res: Response, next) => {
      if (!('wsdl' in req.query)) return next();
      res.type('text/xml; charset=utf-8').send(servedWsdl(service, `${req.protocol}://${req.get('host')}`));
    });
    app.post(
      service.path,
      ...soapGuard({
        service,
        store: options.store,
        maxBodyBytes: options.maxBodyBytes,
        authenticator: binding.authenticator,
        rejectSchema: binding.rejectSchema,
      }),
    );
    checkOneToOne(service, binding.handlers);
    const server = await listen(app, service, { [service.service]: { [service.port]: methods } });
    server.log = (type: string, data: unknown, incoming) => {
      const req = incoming as Request;
      if (type !== 'replied' || !req.soap) return;
      // With the request the guard held back: one write per exchange (guard.ts, `check`).
      req.soap.logExchange(String(data)).catch(() => undefined);
    };
    app.use(service.path, soapErrorHandler(service, options.store));
  }
}

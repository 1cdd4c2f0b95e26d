// Builds one WSDL 1.1 (document/literal, SOAP 1.1 over HTTP) per manifest service with the
// libxml2 DOM, so every name and URI is escaped by the serializer. Output is deterministic: the
// manifest's order, fixed prefixes, no timestamps.
import path from 'node:path';
import { XmlDocument, type XmlElement } from 'libxml2-wasm';
import type { ManifestOperation, ManifestService } from './manifest.ts';
import type { QName } from './schemaSet.ts';
import { byText } from './tsNaming.ts';

const WSDL = 'http://schemas.xmlsoap.org/wsdl/';
const SOAP = 'http://schemas.xmlsoap.org/wsdl/soap/';
const XSD = 'http://www.w3.org/2001/XMLSchema';
const HTTP_TRANSPORT = 'http://schemas.xmlsoap.org/soap/http';

/** Where the connector listens by default (DESIGN §10); deployments rewrite soap:address when serving. */
const LOCAL_BASE = 'http://localhost:8080';

/** Part name of the body in every message; header parts are named after their element. */
const BODY_PART = 'body';

export function soapAddress(service: ManifestService): string {
  // Callbacks are served by each gestionale at its own URL: the WSDL can only hold a placeholder.
  if (service.path === null) return `http://localhost/${path.basename(service.wsdl, '.wsdl')}`;
  return `${LOCAL_BASE}${service.path}`;
}

export function inputMessageName(op: ManifestOperation): string {
  return op.name;
}

export function outputMessageName(op: ManifestOperation): string {
  return `${op.name}Response`;
}

function prefixOf(service: ManifestService, q: QName): string {
  const entry = Object.entries(service.namespaces).find(([, ns]) => ns === q.ns);
  if (!entry) throw new Error(`${service.wsdl}: no prefix for namespace ${q.ns}`);
  return entry[0];
}

function qname(service: ManifestService, q: QName): string {
  return `${prefixOf(service, q)}:${q.local}`;
}

function add(
  parent: XmlElement,
  prefix: 'wsdl' | 'soap' | 'xsd',
  name: string,
  attrs: [string, string][] = [],
) {
  const el = parent.addElement(name, prefix);
  for (const [key, value] of attrs) el.setAttr(key, value);
  return el;
}

function addTypes(root: XmlElement, service: ManifestService): void {
  const schema = add(add(root, 'wsdl', 'types'), 'xsd', 'schema');
  for (const ref of service.schemas) {
    // Relative to wsdl/, so the files load from a checkout and from the served folder alike.
    add(schema, 'xsd', 'import', [
      ['namespace', ref.namespace],
      ['schemaLocation', `../xsd/${ref.file}`],
    ]);
  }
}

function addMessages(root: XmlElement, service: ManifestService): void {
  for (const op of service.operations) {
    // node-soap takes the first part as the body: it must come before the header parts.
    const input = add(root, 'wsdl', 'message', [['name', inputMessageName(op)]]);
    add(input, 'wsdl', 'part', [
      ['name', BODY_PART],
      ['element', qname(service, op.input)],
    ]);
    for (const header of op.inputHeaders) {
      add(input, 'wsdl', 'part', [
        ['name', header.local],
        ['element', qname(service, header)],
      ]);
    }
    const output = add(root, 'wsdl', 'message', [['name', outputMessageName(op)]]);
    add(output, 'wsdl', 'part', [
      ['name', BODY_PART],
      ['element', qname(service, op.output)],
    ]);
  }
}

function addPortType(root: XmlElement, service: ManifestService): void {
  const portType = add(root, 'wsdl', 'portType', [['name', service.portType]]);
  for (const op of service.operations) {
    const operation = add(portType, 'wsdl', 'operation', [['name', op.name]]);
    add(operation, 'wsdl', 'input', [['message', `tns:${inputMessageName(op)}`]]);
    add(operation, 'wsdl', 'output', [['message', `tns:${outputMessageName(op)}`]]);
  }
}

function addBinding(root: XmlElement, service: ManifestService): void {
  const binding = add(root, 'wsdl', 'binding', [
    ['name', service.binding],
    ['type', `tns:${service.portType}`],
  ]);
  add(binding, 'soap', 'binding', [
    ['style', 'document'],
    ['transport', HTTP_TRANSPORT],
  ]);
  for (const op of service.operations) {
    const operation = add(binding, 'wsdl', 'operation', [['name', op.name]]);
    add(operation, 'soap', 'operation', [
      ['soapAction', op.soapAction],
      ['style', 'document'],
    ]);
    const input = add(operation, 'wsdl', 'input');
    // parts="body" keeps the header parts out of the body (WSDL 1.1 §3.5).
    add(input, 'soap', 'body', [
      ['parts', BODY_PART],
      ['use', 'literal'],
    ]);
    for (const header of op.inputHeaders) {
      add(input, 'soap', 'header', [
        ['message', `tns:${inputMessageName(op)}`],
        ['part', header.local],
        ['use', 'literal'],
      ]);
    }
    add(add(operation, 'wsdl', 'output'), 'soap', 'body', [
      ['parts', BODY_PART],
      ['use', 'literal'],
    ]);
  }
}

function addService(root: XmlElement, service: ManifestService): void {
  const svc = add(root, 'wsdl', 'service', [['name', service.service]]);
  const port = add(svc, 'wsdl', 'port', [
    ['name', service.port],
    ['binding', `tns:${service.binding}`],
  ]);
  add(port, 'soap', 'address', [['location', soapAddress(service)]]);
}

/** The WSDL text of one service. */
export function buildWsdl(service: ManifestService): string {
  const doc = XmlDocument.create();
  try {
    const root = doc.createRoot('definitions', WSDL, 'wsdl');
    root.addNsDeclaration(SOAP, 'soap');
    root.addNsDeclaration(XSD, 'xsd');
    root.addNsDeclaration(service.targetNamespace, 'tns');
    for (const [prefix, ns] of Object.entries(service.namespaces).sort(([a], [b]) => byText(a, b))) {
      root.addNsDeclaration(ns, prefix);
    }
    root.setAttr('name', service.definitionsName);
    root.setAttr('targetNamespace', service.targetNamespace);
    // "--" may not appear inside an XML comment.
    const source = service.manifestFile.replace(/--/g, '-\u2010');
    root.prependComment(` generated by npm run gen from xsd/ (${source}) — do not edit `);
    addTypes(root, service);
    addMessages(root, service);
    addPortType(root, service);
    addBinding(root, service);
    addService(root, service);
    return doc.toString({ format: true });
  } finally {
    doc.dispose();
  }
}

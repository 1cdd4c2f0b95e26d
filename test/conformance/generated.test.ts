// The generated contracts (wsdl/, src/xml/generated/) against their sources and their readers:
// no drift from xsd/ + xsd/manifest/, every WSDL loads in node-soap and in zeep (Python) with the
// manifest's operations, the pagoPA twins keep the official names, SOAPActions and body/header
// elements, and the manifest checker names the file and operation of a mistake.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { XmlDocument, type XmlElement } from 'libxml2-wasm';
import soap from 'soap';
import { generate, listGenerated, writeGenerated } from '../../src/contracts/gen/generate.ts';
import {
  loadManifests,
  ManifestError,
  parseManifest,
  type ManifestService,
} from '../../src/contracts/gen/manifest.ts';
import { SchemaSet } from '../../src/contracts/gen/schemaSet.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SPEC = process.env.PAGOPA_SPEC_DIR ?? path.resolve(ROOT, '../shared/pagopa-spec');
const PYTHON = '/usr/bin/python3';
const XS = 'http://www.w3.org/2001/XMLSchema';

/** The official WSDL each pagoPA-facing service is the wire twin of (paths under the spec folder). */
const OFFICIAL: Record<string, string> = {
  'paForNode.wsdl': 'current/paForNode.wsdl',
  'nodeForPa.wsdl': 'current/nodeForPa.wsdl',
  'PaPerNodo.wsdl': 'legacy/wsdl/PaPerNodo.wsdl',
  'PaPerNodoPagamentoPsp.wsdl': 'legacy/wsdl/PaPerNodoPagamentoPsp.wsdl',
  'PaPerNodoRichiestaAvvisi.wsdl': 'legacy/wsdl/PaPerNodoRichiestaAvvisi.wsdl',
  'NodoPerPa.wsdl': 'legacy/wsdl/NodoPerPa.wsdl',
};

const schemas = SchemaSet.load(path.join(ROOT, 'xsd'));
const services = loadManifests(ROOT, schemas);
const wsdlPath = (s: ManifestService) => path.join(ROOT, 'wsdl', s.wsdl);

// ---------------------------------------------------------------- WSDL facts, read with XPath

const NS = { wsdl: 'http://schemas.xmlsoap.org/wsdl/', soap: 'http://schemas.xmlsoap.org/wsdl/soap/' };

interface OperationFacts {
  soapAction: string | undefined;
  input: string;
  output: string;
  headers: string[];
}

interface WsdlFacts {
  name: string | undefined;
  targetNamespace: string | undefined;
  portTypes: string[];
  bindings: string[];
  services: string[];
  ports: string[];
  operations: Map<string, OperationFacts>;
}

function elements(node: XmlDocument | XmlElement, xpath: string): XmlElement[] {
  return node.find(xpath, NS) as XmlElement[];
}

function attr(el: XmlElement | undefined, name: string): string | undefined {
  return el?.attr(name)?.value;
}

/** "{namespace}local" of a QName attribute value, resolved where it is written. */
function expanded(el: XmlElement, value: string): string {
  const [prefix, local] = value.includes(':') ? value.split(':') : ['', value];
  return `{${el.namespaceForPrefix(prefix ?? '') ?? ''}}${local}`;
}

/** The element of a message part: the named one, or the first (document/literal with one part). */
function partElement(doc: XmlDocument, messageQName: string, part: string | undefined): string {
  const message = messageQName.split(':').pop();
  const parts = elements(doc, `/wsdl:definitions/wsdl:message[@name='${message}']/wsdl:part`);
  const chosen = part ? parts.find((p) => attr(p, 'name') === part) : parts[0];
  if (!chosen) throw new Error(`message ${messageQName} has no part ${part ?? ''}`);
  return expanded(chosen, attr(chosen, 'element') ?? '');
}

function operationFacts(doc: XmlDocument, op: XmlElement, portType: string): OperationFacts {
  const name = attr(op, 'name');
  const abstract = elements(
    doc,
    `/wsdl:definitions/wsdl:portType[@name='${portType}']/wsdl:operation[@name='${name}']`,
  )[0];
  const inputMessage = attr(elements(abstract ?? op, 'wsdl:input')[0], 'message') ?? '';
  const outputMessage = attr(elements(abstract ?? op, 'wsdl:output')[0], 'message') ?? '';
  const bodyPart = (which: string) => attr(elements(op, `wsdl:${which}/soap:body`)[0], 'parts');
  const headers = elements(op, 'wsdl:input/soap:header').map((h) =>
    partElement(doc, attr(h, 'message') ?? '', attr(h, 'part')),
  );
  return {
    soapAction: attr(elements(op, 'soap:operation')[0], 'soapAction'),
    input: partElement(doc, inputMessage, bodyPart('input')),
    output: partElement(doc, outputMessage, bodyPart('output')),
    headers: headers.sort(),
  };
}

function readWsdl(file: string): WsdlFacts {
  const doc = XmlDocument.fromBuffer(fs.readFileSync(file));
  try {
    const names = (xpath: string) => elements(doc, xpath).map((e) => attr(e, 'name') ?? '');
    const binding = elements(doc, '/wsdl:definitions/wsdl:binding')[0];
    const portType = (attr(binding, 'type') ?? '').split(':').pop() ?? '';
    const operations = new Map<string, OperationFacts>();
    for (const op of binding ? elements(binding, 'wsdl:operation') : []) {
      operations.set(attr(op, 'name') ?? '', operationFacts(doc, op, portType));
    }
    return {
      name: attr(doc.root, 'name'),
      targetNamespace: attr(doc.root, 'targetNamespace'),
      portTypes: names('/wsdl:definitions/wsdl:portType'),
      bindings: names('/wsdl:definitions/wsdl:binding'),
      services: names('/wsdl:definitions/wsdl:service'),
      ports: names('/wsdl:definitions/wsdl:service/wsdl:port'),
      operations,
    };
  } finally {
    doc.dispose();
  }
}

// ---------------------------------------------------------------- helpers

function hasZeep(): boolean {
  return spawnSync(PYTHON, ['-c', 'import zeep'], { encoding: 'utf8' }).status === 0;
}

type Described = Record<string, Record<string, Record<string, unknown>>>;

async function describeWithNodeSoap(file: string): Promise<Described> {
  const client = await soap.createClientAsync(file);
  return client.describe() as Described;
}

function validManifest(): { services: Record<string, unknown>[] } {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'xsd/manifest/pagopa.json'), 'utf8')) as {
    services: Record<string, unknown>[];
  };
}

function manifestError(json: unknown): ManifestError {
  try {
    parseManifest(schemas, 'xsd/manifest/broken.json', json);
  } catch (err) {
    if (err instanceof ManifestError) return err;
    throw err;
  }
  throw new Error('the manifest was accepted');
}

/** A small schema pair using every construct the type generator maps (our schemas use most, not all). */
const CONSTRUCTS: Record<string, string> = {
  'a/base.xsd': `<xs:schema xmlns:xs="${XS}" targetNamespace="urn:base">
    <xs:simpleType name="Code"><xs:restriction base="xs:string"><xs:maxLength value="5"/></xs:restriction></xs:simpleType>
    <xs:complexType name="Tagged">
      <xs:sequence><xs:element name="id" type="xs:int"/></xs:sequence>
      <xs:attribute name="lang" type="xs:language"/>
    </xs:complexType>
    <xs:element name="note" type="xs:string"/>
  </xs:schema>`,
  'a/main.xsd': `<xs:schema xmlns:xs="${XS}" xmlns:b="urn:base" xmlns:m="urn:main" targetNamespace="urn:main">
    <xs:import namespace="urn:base" schemaLocation="base.xsd"/>
    <xs:simpleType name="Code"><xs:restriction base="xs:string">
      <xs:enumeration value="A"/><xs:enumeration value="B"/></xs:restriction></xs:simpleType>
    <xs:group name="pair"><xs:sequence>
      <xs:element name="left" type="m:Code"/><xs:element name="right" type="b:Code"/></xs:sequence></xs:group>
    <xs:attributeGroup name="audit"><xs:attribute name="by" type="xs:string" use="required"/></xs:attributeGroup>
    <xs:complexType name="Money"><xs:simpleContent><xs:extension base="xs:decimal">
      <xs:attribute name="currency" type="m:Code"/></xs:extension></xs:simpleContent></xs:complexType>
    <xs:complexType name="Derived"><xs:complexContent><xs:extension base="b:Tagged">
      <xs:sequence>
        <xs:group ref="m:pair" minOccurs="0"/>
        <xs:element ref="b:note" maxOccurs="unbounded"/>
        <xs:sequence maxOccurs="3"><xs:choice>
          <xs:element name="x" type="xs:boolean"/><xs:element name="y" type="xs:date" nillable="true"/></xs:choice></xs:sequence>
        <xs:element name="e-mail" type="xs:string" minOccurs="0"/>
        <xs:element name="inner"><xs:complexType mixed="true"><xs:sequence>
          <xs:any namespace="##other" minOccurs="0"/></xs:sequence></xs:complexType></xs:element>
        <xs:element name="amount" type="m:Money"/>
      </xs:sequence>
      <xs:attributeGroup ref="m:audit"/>
    </xs:extension></xs:complexContent></xs:complexType>
    <xs:complexType name="Narrow"><xs:complexContent><xs:restriction base="m:Derived"><xs:sequence>
      <xs:element ref="b:note"/><xs:element name="inner" type="xs:anyType"/><xs:element name="amount" type="m:Money"/>
    </xs:sequence></xs:restriction></xs:complexContent></xs:complexType>
    <xs:complexType name="Empty"/>
    <xs:complexType name="AlsoEmpty"><xs:complexContent><xs:extension base="m:Empty"/></xs:complexContent></xs:complexType>
    <xs:element name="Derived" type="m:Narrow"/>
    <xs:element name="empty" type="m:Empty"/>
    <xs:element name="string" type="xs:string"/>
  </xs:schema>`,
  'a/strict.xsd': `<xs:schema xmlns:xs="${XS}" xmlns:m="urn:main" targetNamespace="urn:main">
    <xs:redefine schemaLocation="main.xsd"><xs:simpleType name="Code">
      <xs:restriction base="m:Code"><xs:enumeration value="A"/></xs:restriction></xs:simpleType></xs:redefine>
  </xs:schema>`,
};

/** Generates the types of a set of schemas in a scratch project (with our Prettier config). */
async function generateScratch(xsds: Record<string, string>): Promise<Map<string, string>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-gen-xsd-'));
  try {
    fs.mkdirSync(path.join(tmp, 'xsd/manifest'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, '.prettierrc.json'), path.join(tmp, '.prettierrc.json'));
    for (const [file, text] of Object.entries(xsds)) {
      fs.mkdirSync(path.dirname(path.join(tmp, 'xsd', file)), { recursive: true });
      fs.writeFileSync(path.join(tmp, 'xsd', file), text);
    }
    const files = await generate(tmp);
    return new Map(files.map((f) => [f.path.replace('src/xml/generated/', ''), f.content]));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- specs

describe('generated contracts (npm run gen)', () => {
  it('wsdl/ and src/xml/generated/ are byte for byte what the generator writes from xsd/', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-gen-'));
    try {
      writeGenerated(await generate(ROOT), tmp);
      const expected = listGenerated(tmp);
      expect(listGenerated(ROOT), 'generated file set (run npm run gen)').to.deep.equal(expected);
      const drifted = expected.filter(
        (f) => !fs.readFileSync(path.join(ROOT, f)).equals(fs.readFileSync(path.join(tmp, f))),
      );
      expect(drifted, 'files that differ from xsd/ (run npm run gen)').to.deep.equal([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('generates a type module for every schema under xsd/', () => {
    const modules = listGenerated(ROOT).filter((f) => f.endsWith('.ts') && !f.endsWith('/index.ts'));
    const expected = [...schemas.files.keys()].map((f) => `src/xml/generated/${f.replace(/\.xsd$/, '.ts')}`);
    expect(modules).to.have.members(expected);
  });

  it('the manifests declare the pagoPA services the connector and its emulator serve', () => {
    const byInterface = (i: string) => services.filter((s) => s.interface === i).map((s) => s.wsdl);
    expect(byInterface('pagopa')).to.have.members([
      'paForNode.wsdl',
      'PaPerNodo.wsdl',
      'PaPerNodoPagamentoPsp.wsdl',
      'PaPerNodoRichiestaAvvisi.wsdl',
    ]);
    expect(byInterface('emulator')).to.have.members(['nodeForPa.wsdl', 'NodoPerPa.wsdl']);
  });

  describe('node-soap reads every generated WSDL', () => {
    for (const service of services) {
      it(`${service.wsdl}: ${service.service}/${service.port} with the manifest's operations`, async () => {
        const described = await describeWithNodeSoap(wsdlPath(service));
        expect(Object.keys(described)).to.deep.equal([service.service]);
        expect(Object.keys(described[service.service] ?? {})).to.deep.equal([service.port]);
        const operations = Object.keys(described[service.service]?.[service.port] ?? {});
        expect(operations).to.have.members(service.operations.map((o) => o.name));
      });
    }
  });

  describe('zeep (Python) reads every generated WSDL', function () {
    this.timeout(60_000);
    before(function () {
      if (hasZeep()) return;
      const reason = `${PYTHON} cannot import zeep (Debian package python3-zeep)`;
      if (process.env.CI === 'true') throw new Error(`CI: ${reason}`);
      console.warn(`  skipped: ${reason}`);
      this.skip();
    });
    for (const service of services) {
      it(`${service.wsdl}: exits 0 and lists every operation`, () => {
        const run = spawnSync(PYTHON, ['-m', 'zeep', wsdlPath(service)], {
          encoding: 'utf8',
          timeout: 55_000,
        });
        expect(run.status, run.stderr).to.equal(0);
        expect(run.stdout).to.include(`Service: ${service.service}`);
        expect(run.stdout).to.include(`Port: ${service.port} `);
        for (const op of service.operations)
          expect(run.stdout).to.match(new RegExp(`^\\s+${op.name}\\(`, 'm'));
      });
    }
  });

  describe('pagoPA twins keep the official WSDL names, SOAPActions and elements', () => {
    const twins = services.filter((s) => s.interface === 'pagopa' || s.interface === 'emulator');

    it('every pagoPA and emulator service has an official counterpart', () => {
      expect(twins.map((s) => s.wsdl)).to.have.members(Object.keys(OFFICIAL));
    });

    for (const service of twins) {
      const official = OFFICIAL[service.wsdl] ?? '';
      it(`${service.wsdl} matches ${official}`, () => {
        const ours = readWsdl(wsdlPath(service));
        const theirs = readWsdl(path.join(SPEC, official));
        if (theirs.name !== undefined) expect(ours.name, 'definitions name').to.equal(theirs.name);
        expect(ours.targetNamespace, 'targetNamespace').to.equal(theirs.targetNamespace);
        expect(ours.portTypes, 'portType').to.deep.equal(theirs.portTypes);
        expect(ours.bindings, 'binding').to.deep.equal(theirs.bindings);
        expect(ours.services, 'service').to.deep.equal(theirs.services);
        expect(ours.ports, 'port').to.deep.equal(theirs.ports);
        for (const [name, facts] of ours.operations) {
          expect(theirs.operations.get(name), `operation ${name}`).to.deep.equal(facts);
        }
      });
    }
  });

  describe('the official WSDLs load in node-soap (reference clients for interop tests)', () => {
    const cases: [string, string, string[]][] = [
      ['current/paForNode.wsdl', 'paForNodeService', ['paVerifyPaymentNotice', 'paGetPayment', 'paSendRT']],
      ['legacy/wsdl/PaPerNodo.wsdl', 'PagamentiTelematiciRTservice', ['paaInviaRT']],
    ];
    for (const [file, serviceName, operations] of cases) {
      it(file, async () => {
        const described = await describeWithNodeSoap(path.join(SPEC, file));
        const ports = Object.values(described[serviceName] ?? {});
        expect(ports).to.have.length(1);
        expect(Object.keys(ports[0] ?? {})).to.include.members(operations);
      });
    }
  });

  describe('the type generator', () => {
    it('maps every supported XSD construct to TypeScript', async () => {
      const out = await generateScratch(CONSTRUCTS);
      const main = out.get('a/main.ts') ?? '';
      const expected = [
        "import type * as base from './base.ts';",
        "export type Code = 'A' | 'B';",
        'export interface Money {',
        'currency?: Code;',
        '$value?: string;',
        'export interface Derived extends base.Tagged {',
        'left?: Code;',
        'right?: base.Code;',
        'note: base.Note[];',
        'x?: (boolean | string)[];',
        'y?: (Date | string | null)[];',
        "'e-mail'?: string;",
        'inner: DerivedInner;',
        'by: string;',
        'lang?: string;',
        'export interface DerivedInner {',
        '[element: string]: unknown;',
        'export interface Narrow {',
        'inner: unknown;',
        'export type Empty = Record<string, never>;',
        'export type AlsoEmpty = Empty;',
        'export type DerivedElement = Narrow;',
        'export type String_ = string;',
      ];
      for (const line of expected) expect(main, line).to.include(line);
      expect(main, 'an element named like its own type shares it').not.to.include('export type Empty_');
      expect(out.get('a/base.ts')).to.include('id: number | string;');
      expect(out.get('a/strict.ts'), 'xs:redefine narrows the type').to.include("export type Code = 'A';");
      expect(out.get('index.ts')).to.include("export type * as aStrict from './a/strict.ts';");
    });

    it('names the schema file and line of a reference to an unknown type', async () => {
      const broken = {
        'a/broken.xsd': `<xs:schema xmlns:xs="${XS}" xmlns:m="urn:m" targetNamespace="urn:m">
    <xs:element name="x" type="m:Missing"/>
  </xs:schema>`,
      };
      const error = await generateScratch(broken).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(error?.message).to.match(/^xsd\/a\/broken\.xsd:2: .*m:Missing/);
    });
  });

  describe('the manifest checker', () => {
    it('names the manifest, the service and the operation of an unknown element', () => {
      const json = validManifest();
      const paForNode = json.services[0] as { operations: { input: string }[] };
      (paForNode.operations[1] as { input: string }).input = 'pafn:paGetPaymentRequest';
      const err = manifestError(json);
      expect([err.manifestFile, err.service, err.operation]).to.deep.equal([
        'xsd/manifest/broken.json',
        'paForNode.wsdl',
        'paGetPayment',
      ]);
      expect(err.message).to.include('paGetPaymentRequest');
    });

    it('refuses a header from a namespace the service does not import', () => {
      const json = validManifest();
      const paForNode = json.services[0] as { operations: { inputHeaders: string[] }[] };
      (paForNode.operations[0] as { inputHeaders: string[] }).inputHeaders = ['ppthead:intestazionePPT'];
      const err = manifestError(json);
      expect([err.service, err.operation]).to.deep.equal(['paForNode.wsdl', 'paVerifyPaymentNotice']);
    });

    it('refuses an unknown key, so a typo cannot be silently ignored', () => {
      const json = validManifest();
      (json.services[0] as Record<string, unknown>).soapActon = 'x';
      expect(manifestError(json).manifestFile).to.equal('xsd/manifest/broken.json');
    });

    it('refuses a schema entry whose namespace is not the file’s targetNamespace', () => {
      const json = validManifest();
      const paForNode = json.services[0] as { schemas: { namespace: string }[] };
      (paForNode.schemas[0] as { namespace: string }).namespace = 'urn:wrong';
      expect(manifestError(json).service).to.equal('paForNode.wsdl');
    });
  });
});

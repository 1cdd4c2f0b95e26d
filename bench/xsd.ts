// Benchmark 4, XSD validation: messages per second through the project's validator (src/xml/schema.ts:
// parseUntrusted, the compiled schema set the SOAP guard uses, dispose) for a typical paGetPaymentV2
// response (two transfers, one a marca da bollo) and a paid RT, against bare libxml2-wasm on the same
// document (XmlDocument.fromString, an XsdValidator compiled once from the same XSD, validate, dispose).

import fs from 'node:fs';
import path from 'node:path';
import { XmlDocument, XmlElement, XsdValidator } from 'libxml2-wasm';
import { loadManifest, XSD_DIR } from '../src/soap/manifest.ts';
import { readEnvelope } from '../src/soap/envelope.ts';
import { parseUntrusted, schemaFor, schemaSetFor } from '../src/xml/schema.ts';
import { ROOT } from './lib/proc.ts';
import { fmtInt, ratioOf, type BenchRow } from './lib/table.ts';

const RESPONSE = path.join(ROOT, 'fixtures/pagopa/current/paGetPaymentV2/valid-response-marca-da-bollo.xml');
const RT = path.join(ROOT, 'fixtures/pagopa/documents/rt/valid-paid.xml');
const RT_SCHEMA = path.join(XSD_DIR, 'pagopa/documents/rpt-rt.xsd');
const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';

/** Runs fn as often as it can for `ms` milliseconds; returns calls per second. */
function rate(fn: () => void, ms: number): number {
  for (let i = 0; i < 200; i++) fn(); // warm-up
  let n = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    elapsed = performance.now() - started;
  }
  return (n / elapsed) * 1000;
}

function bareValidator(file: string): XsdValidator {
  const doc = XmlDocument.fromBuffer(fs.readFileSync(file), { url: file });
  return XsdValidator.fromDoc(doc);
}

/** The first element child of the envelope's Body, walked by hand as the guard does. */
function bodyChild(doc: XmlDocument): XmlElement {
  const elements = (parent: XmlElement) => {
    const found: XmlElement[] = [];
    for (let node = parent.firstChild; node; node = node.next)
      if (node instanceof XmlElement) found.push(node);
    return found;
  };
  const body = elements(doc.root).find((e) => e.name === 'Body' && e.namespaceUri === SOAP_NS);
  const payload = body ? elements(body)[0] : undefined;
  if (!payload) throw new Error('no body element');
  return payload;
}

function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`${what} did not validate`);
}

export function benchXsd(ms: number, log: (line: string) => void): BenchRow[] {
  const rows: BenchRow[] = [];
  const service = loadManifest().find((s) => s.wsdl === 'paForNode.wsdl');
  if (!service) throw new Error('paForNode.wsdl is not in the manifest');
  const response = fs.readFileSync(RESPONSE, 'utf8');
  const rt = fs.readFileSync(RT, 'utf8');
  const projectSet = schemaSetFor(service.schemas);
  const pafn = service.schemas.find((s) => s.namespace.includes('paForNode')) ?? service.schemas[0];
  if (!pafn) throw new Error('no paForNode schema');
  const bareResponse = bareValidator(pafn.file);
  const bareRt = bareValidator(RT_SCHEMA);

  const cases = [
    {
      name: 'paGetPaymentV2 response (2 transfers)',
      project: () => {
        const doc = parseUntrusted(response);
        try {
          must(projectSet.validateNode(readEnvelope(doc).payload).ok, 'the response');
        } finally {
          doc.dispose();
        }
      },
      bare: () => {
        const doc = XmlDocument.fromString(response);
        try {
          bareResponse.validate(bodyChild(doc));
        } finally {
          doc.dispose();
        }
      },
    },
    {
      name: 'RT (paid, 1 payment)',
      project: () => must(schemaFor(RT_SCHEMA).validateXml(rt).ok, 'the RT'),
      bare: () => {
        const doc = XmlDocument.fromString(rt);
        try {
          bareRt.validate(doc);
        } finally {
          doc.dispose();
        }
      },
    },
  ];
  for (const c of cases) {
    log(`xsd: ${c.name}`);
    // Interleaved, best of two each: the first run of either would otherwise carry the warm-up.
    let base = rate(c.bare, ms / 2);
    let measured = rate(c.project, ms / 2);
    base = Math.max(base, rate(c.bare, ms / 2));
    measured = Math.max(measured, rate(c.project, ms / 2));
    rows.push({
      benchmark: 'XSD',
      case: c.name,
      measured: `${fmtInt(measured)} msg/s (src/xml/schema.ts)`,
      baseline: `${fmtInt(base)} msg/s bare libxml2-wasm`,
      ratio: ratioOf(measured, base),
      target: '—',
      met: null,
    });
  }
  return rows;
}

// Developer tool: validate XML files against an XSD (with its includes/imports read from disk).
// Usage: npx tsx scripts/xsd-validate.ts <schema.xsd> <file.xml>... [--element <localName>]
// With --element, validates the first descendant element with that local name (e.g. the SOAP Body child).
import fs from 'node:fs';
import path from 'node:path';
import { XmlDocument, XsdValidator, type XmlElement } from 'libxml2-wasm';
import { xmlRegisterFsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs';

xmlRegisterFsInputProviders();
const args = process.argv.slice(2);
const elementFlag = args.indexOf('--element');
const element = elementFlag >= 0 ? args.splice(elementFlag, 2)[1] : undefined;
const [xsdPath, ...files] = args;
if (!xsdPath || files.length === 0) {
  console.error('usage: tsx scripts/xsd-validate.ts <schema.xsd> <file.xml>... [--element <localName>]');
  process.exit(2);
}
const schemaDoc = XmlDocument.fromBuffer(fs.readFileSync(xsdPath), { url: path.resolve(xsdPath) });
const validator = XsdValidator.fromDoc(schemaDoc);
let failed = 0;
for (const file of files) {
  const doc = XmlDocument.fromBuffer(fs.readFileSync(file));
  try {
    if (element) {
      const target = doc.get(`//*[local-name()='${element}']`) as XmlElement | null;
      if (!target) throw new Error(`no element ${element}`);
      validator.validate(target);
    } else {
      validator.validate(doc);
    }
    console.log(`ok   ${file}`);
  } catch (err) {
    failed += 1;
    const details = (err as { details?: Array<{ message: string; line: number }> }).details;
    console.log(
      `FAIL ${file}: ${details ? details.map((d) => `line ${d.line}: ${d.message.trim()}`).join('; ') : String(err)}`,
    );
  } finally {
    doc.dispose();
  }
}
validator.dispose();
schemaDoc.dispose();
process.exit(failed ? 1 : 0);

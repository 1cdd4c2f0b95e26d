// readStoredTransfers (the reconciliation's fast reader of a stored receipt's transfer list) must
// give exactly what the full libxml2 reader gives: on every stored paSendRT/paSendRTV2 fixture and on
// variants with comments, CDATA, character references, prefixes, attributes, processing
// instructions, DOCTYPE, mismatched or truncated markup (where it hands the document to libxml2).

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { readStoredReceipt, readStoredTransfers } from '../../../src/pagopa/storedReceipt.ts';
import { receiptDocument } from '../../../src/soap/pagopa/currentModel.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function storedFixtures(): Array<{ name: string; doc: string }> {
  const docs: Array<{ name: string; doc: string }> = [];
  for (const dir of ['paSendRT', 'paSendRTV2']) {
    const folder = path.join(ROOT, 'fixtures/pagopa/current', dir);
    for (const file of readdirSync(folder)) {
      if (!file.endsWith('.xml') || !file.includes('request')) continue;
      try {
        docs.push({
          name: `${dir}/${file}`,
          doc: receiptDocument(readFileSync(path.join(folder, file), 'utf8')),
        });
      } catch {
        // an invalid-* request has no stored receipt
      }
    }
  }
  return docs;
}

const VARIANTS: Array<[string, (s: string) => string]> = [
  ['as stored', (s) => s],
  ['comments', (s) => s.replace(/<(\w+:)?fiscalCodePA>/g, '<!-- c <x> -->$&')],
  ['comment inside a value', (s) => s.replace(/(<(?:\w+:)?transferAmount>)(\d)/g, '$1<!--x-->$2')],
  ['CDATA', (s) => s.replace(/(<(?:\w+:)?IBAN>)([^<]*)/g, '$1<![CDATA[$2]]>')],
  ['character references', (s) => s.replace(/(<(?:\w+:)?remittanceInformation>)/g, '$1&amp;&#65;&#x42;&lt;')],
  ['unknown entity', (s) => s.replace(/(<(?:\w+:)?remittanceInformation>)/g, '$1&foo;')],
  ['DOCTYPE', (s) => '<!DOCTYPE r []>' + s],
  ['processing instruction', (s) => s.replace(/<(\w+:)?IBAN>/g, '<?pi x?>$&')],
  ['attributes with > and quotes', (s) => s.replace(/<((?:\w+:)?transfer)>/g, `<$1 a="x>/y" b='q"'>`)],
  ['duplicate field', (s) => s.replace(/<((?:\w+:)?transfer)>/g, '<$1><fiscalCodePA>ZZZ</fiscalCodePA>')],
  ['whitespace and CR', (s) => s.replace(/(<(?:\w+:)?transferAmount>)([^<]*)/g, '$1\r\n  $2 \t')],
  ['mismatched end tag', (s) => s.replace(/<\/((?:\w+:)?IBAN)>/, '</$1x>')],
  ['truncated', (s) => s.slice(0, Math.floor(s.length * 0.7))],
  ['space before >', (s) => s.replace(/<\/((?:\w+:)?transfer)>/g, '</$1 >')],
  ['unicode', (s) => s.replace(/(<(?:\w+:)?remittanceInformation>)/g, '$1àè€😀&#x1F600;')],
];

describe('readStoredTransfers: the same transfers as the full reader', () => {
  const fixtures = storedFixtures();

  it('has stored receipts to compare', () => {
    expect(fixtures.length).to.be.at.least(4);
  });

  for (const [variant, mutate] of VARIANTS) {
    it(`${variant}`, () => {
      let withTransfers = 0;
      for (const { name, doc } of fixtures) {
        const text = mutate(doc);
        const expected = readStoredReceipt('current', text).transfers;
        expect(readStoredTransfers('current', text), name).to.deep.equal(expected);
        if (expected.length) withTransfers += 1;
      }
      if (variant === 'as stored') expect(withTransfers).to.equal(fixtures.length);
    });
  }
});

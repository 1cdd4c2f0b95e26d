// RPTs the connector builds validate against our schema and the official PagInf_RPT_RT 6.2.0; RTs
// are read field by field and refused when they break the schema.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { buildRpt, causaleVersamento, type RptInput } from '../../src/pagopa/rpt.ts';
import { readRt } from '../../src/pagopa/rt.ts';
import { schemaFor } from '../../src/xml/schema.ts';
import { isDomainError } from '../../src/domain/errors.ts';
import { OFFICIAL_DOCUMENTS, specAvailable } from '../support/officialSchemas.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/pagopa/documents');

const input: RptInput = {
  enteFiscalCode: '01234567897',
  enteName: 'Comune di Esempio & Uniti <test>',
  stationId: '12345678903_01',
  messageId: 'RPT-0001',
  dateTime: '2026-11-26T10:15:00',
  paymentDate: '2026-11-26',
  iuv: '01000000001234519',
  ccp: 'CCP-0001',
  tipoVersamento: 'PO',
  payer: {
    type: 'F',
    fiscalCode: 'RSSMRA85T10A562S',
    name: 'Mario Rossi',
    email: 'mario@example.org',
    city: 'Torino',
  },
  transfers: [
    {
      amountCents: 7000,
      iban: 'IT92F0306901000100000046001',
      remittance: 'TARI 2026',
      category: '9/0101101IM/',
    },
    {
      amountCents: 3030,
      iban: 'IT48F0760101000000012345678',
      remittance: 'TEFA 2026',
      category: '9/0101112IM/',
    },
  ],
};

function verdicts(xml: string): { ours: boolean; official: boolean | null } {
  return {
    ours: schemaFor('xsd/pagopa/documents/rpt-rt.xsd').validateXml(xml).ok,
    official: specAvailable() ? schemaFor(OFFICIAL_DOCUMENTS.rptRt()).validateXml(xml).ok : null,
  };
}

describe('RPT builder and RT reader', () => {
  it('builds an RPT valid against our schema and the official one, with amounts from cents', () => {
    const xml = buildRpt(input);
    expect(verdicts(xml)).to.deep.equal({ ours: true, official: specAvailable() ? true : null });
    expect(xml).to.contain('<pay_i:importoTotaleDaVersare>100.30</pay_i:importoTotaleDaVersare>');
    expect(xml).to.contain('Comune di Esempio &amp; Uniti &lt;test&gt;');
    expect(xml).to.contain('/RFB/01000000001234519/30.30/TXT/TEFA 2026');
  });

  it('keeps the causale within 140 characters and uses /RFS/ for an RF creditor reference', () => {
    expect(causaleVersamento('01000000001234519', 1230, 'x'.repeat(200))).to.have.length(140);
    expect(causaleVersamento('RF18539007547034', 1230, 'Multa')).to.equal(
      '/RFS/RF18539007547034/12.30/TXT/Multa',
    );
  });

  it('reads every field of a valid RT, amounts in cents', () => {
    const rt = readRt(fs.readFileSync(path.join(FIXTURES, 'rt/valid-five-payments.xml')));
    expect(rt.outcomeCode).to.equal('0');
    expect(rt.payments).to.have.length(5);
    expect(rt.totalPaidCents).to.equal(rt.payments.reduce((s, p) => s + p.amountCents, 0));
    expect(rt.iuv).to.match(/^\d+$/);
    expect(rt.ccp).to.be.a('string').and.not.equal('');
    for (const p of rt.payments) expect(p.iur).to.be.a('string').and.not.equal('');
  });

  it('reads a negative RT (not paid)', () => {
    const rt = readRt(fs.readFileSync(path.join(FIXTURES, 'rt/valid-not-paid.xml')));
    expect(rt.outcomeCode).to.equal('1');
    expect(rt.totalPaidCents).to.equal(0);
  });

  it('refuses an RT that breaks the schema, a DOCTYPE and a non-RT document with INVALID_DOCUMENT', () => {
    const bad = [
      fs.readFileSync(path.join(FIXTURES, 'rt/invalid-missing-iur.xml')),
      '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
      buildRpt(input),
      'not xml',
    ];
    for (const doc of bad) {
      try {
        readRt(doc);
        expect.fail('accepted');
      } catch (err) {
        expect(isDomainError(err, 'INVALID_DOCUMENT'), String(err)).to.equal(true);
      }
    }
  });
});

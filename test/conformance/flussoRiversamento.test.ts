// Flows built by buildFlussoRiversamento are accepted by the OFFICIAL pagoPA schemas
// (FlussoRiversamento_1_0_4.xsd, and _1_0_5.xsd for the stand-in codes 4 and 8), and the sample flow
// shipped with the spec is read field by field, also from its base64 SOAP envelope.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import {
  buildFlussoRiversamento,
  flowTotalsConsistent,
  readFlussoRiversamento,
} from '../../src/pagopa/flussoRiversamento.ts';
import { readStatement } from '../../src/reconciliation/statements/index.ts';
import { flowIdFromRemittance } from '../../src/reconciliation/statements/remittance.ts';
import type { FlowDocument, FlowPayment } from '../../src/reconciliation/model.ts';
import { parseUntrusted, schemaFor } from '../../src/xml/schema.ts';
import { expectDomainError } from '../support/expectDomainError.ts';
import { OFFICIAL_DOCUMENTS, SPEC_DIR, specAvailable } from '../support/officialSchemas.ts';

const PROJECT_FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/pagopa/documents/flusso');
const RECONCILIATION = path.resolve(import.meta.dirname, '../../fixtures/reconciliation');

function line(n: number, overrides: Partial<FlowPayment> = {}): FlowPayment {
  return {
    iuv: `0100000000${String(1234500 + n).padStart(7, '0')}`,
    iur: `IUR-20261125-${String(n).padStart(4, '0')}`,
    transferIndex: 1,
    amountCents: 1000 * n + 1,
    outcomeCode: '0',
    outcomeDate: '2026-11-25',
    ...overrides,
  };
}

function flow(payments: FlowPayment[]): FlowDocument {
  return {
    version: '1.0',
    flowId: '2026-11-26BCITITMM-1',
    flowDateTime: '2026-11-26T18:00:00.123',
    trn: 'BCIT261126TRN000001',
    settlementDate: '2026-11-26',
    sender: { idType: 'B', id: 'BCITITMM', name: 'Banca Esempio <S.p.A.>' },
    bic: 'BCITITMM',
    receiver: { idType: 'G', id: '01234567897', name: 'Comune di Esempio' },
    paymentCount: payments.length,
    totalAmountCents: payments.reduce((sum, p) => sum + p.amountCents, 0),
    payments,
  };
}

function official(file: string, xml: string): { ok: boolean; complaints: string } {
  const verdict = schemaFor(file).validateXml(xml);
  return { ok: verdict.ok, complaints: verdict.ok ? '' : JSON.stringify(verdict.violations) };
}

describe('FlussoRiversamento against the official pagoPA schemas', function () {
  before(function () {
    if (!specAvailable()) this.skip();
  });

  it('a flow of paid lines (codes 0 and 9) validates against FlussoRiversamento_1_0_4.xsd and _1_0_5.xsd', function () {
    const xml = buildFlussoRiversamento(
      flow([line(1), line(2, { outcomeCode: '9', transferIndex: null }), line(3, { transferIndex: 5 })]),
    );
    expect(official(OFFICIAL_DOCUMENTS.flusso104(), xml)).to.deep.equal({ ok: true, complaints: '' });
    expect(official(OFFICIAL_DOCUMENTS.flusso105(), xml)).to.deep.equal({ ok: true, complaints: '' });
  });

  it('a flow with a revoked line (code 3) validates against 1.0.4 only', function () {
    const xml = buildFlussoRiversamento(flow([line(7), line(2, { amountCents: -2001, outcomeCode: '3' })]));
    expect(official(OFFICIAL_DOCUMENTS.flusso104(), xml)).to.deep.equal({ ok: true, complaints: '' });
    expect(official(OFFICIAL_DOCUMENTS.flusso105(), xml).ok).to.equal(false);
  });

  it('a flow with the stand-in codes 4 and 8 is built for 1.0.5 and validates against it', function () {
    const xml = buildFlussoRiversamento(
      flow([line(1, { outcomeCode: '4' }), line(2, { outcomeCode: '8' }), line(3)]),
    );
    expect(official(OFFICIAL_DOCUMENTS.flusso105(), xml)).to.deep.equal({ ok: true, complaints: '' });
    expect(official(OFFICIAL_DOCUMENTS.flusso104(), xml).ok).to.equal(false);
  });

  it('a flow of many lines, optional elements absent, validates against 1.0.4', function () {
    const payments = Array.from({ length: 50 }, (_, i) => line(i + 1, { transferIndex: null }));
    const bare = { ...flow(payments), bic: null, sender: { idType: 'A' as const, id: '03069', name: null } };
    const xml = buildFlussoRiversamento({ ...bare, receiver: { ...bare.receiver, name: null } });
    expect(official(OFFICIAL_DOCUMENTS.flusso104(), xml)).to.deep.equal({ ok: true, complaints: '' });
    expect(xml).not.to.contain('codiceBicBancaDiRiversamento');
    expect(xml).not.to.contain('denominazioneMittente');
  });

  describe('the sample flow of the spec (samples/FlussoRiversamento_example.xml)', function () {
    const expected: FlowDocument = {
      version: '1.0',
      flowId: '2024-01-16ABCDITMMXXX-0000000001',
      flowDateTime: '2024-01-16T18:00:00',
      trn: 'TRN0000000000000000000000000001',
      settlementDate: '2024-01-16',
      sender: { idType: 'B', id: 'ABCDITMMXXX', name: 'Banca Esempio S.p.A.' },
      bic: null,
      receiver: { idType: 'G', id: '12345678901', name: 'Comune di Esempio' },
      paymentCount: 2,
      totalAmountCents: 13750,
      payments: [
        {
          iuv: '01000000001234519',
          iur: 'IUR20240115ABC0001',
          transferIndex: 1,
          amountCents: 8750,
          outcomeCode: '0',
          outcomeDate: '2024-01-15',
        },
        {
          iuv: '01000000001234620',
          iur: 'IUR20240115ABC0002',
          transferIndex: 1,
          amountCents: 5000,
          outcomeCode: '9',
          outcomeDate: '2024-01-15',
        },
      ],
    };

    it('is read field by field, amounts in cents', function () {
      const xml = fs.readFileSync(path.join(SPEC_DIR, 'samples/FlussoRiversamento_example.xml'));
      expect(readFlussoRiversamento(xml)).to.deep.equal(expected);
    });

    it('is read the same from the base64 xmlRendicontazione of the nodoChiediFlussoRendicontazione sample', function () {
      const envelope = parseUntrusted(
        fs.readFileSync(path.join(SPEC_DIR, 'samples/nodoChiediFlussoRendicontazione_response.xml')),
      );
      let base64: string;
      try {
        base64 = envelope.get('//xmlRendicontazione')?.content.trim() ?? '';
      } finally {
        envelope.dispose();
      }
      expect(readFlussoRiversamento(Buffer.from(base64, 'base64'))).to.deep.equal(expected);
    });

    it('rebuilds into a document the official 1.0.4 schema accepts', function () {
      const xml = buildFlussoRiversamento(expected);
      expect(official(OFFICIAL_DOCUMENTS.flusso104(), xml)).to.deep.equal({ ok: true, complaints: '' });
    });
  });

  it('the reconciliation sample flow is official 1.0.4 and is settled by the pagoPA credit of both sample statements', function () {
    const xml = fs.readFileSync(path.join(RECONCILIATION, 'flows/valid-flow.xml'), 'utf8');
    expect(official(OFFICIAL_DOCUMENTS.flusso104(), xml)).to.deep.equal({ ok: true, complaints: '' });
    const flow = readFlussoRiversamento(xml);
    expect(flowTotalsConsistent(flow)).to.equal(true);
    for (const file of ['camt053/valid-statement.xml', 'cashJournal/valid-statement.csv']) {
      const statement = readStatement(fs.readFileSync(path.join(RECONCILIATION, file)), file);
      const credits = statement.entries.filter(
        (e) => e.direction === 'CRDT' && flowIdFromRemittance(e.remittanceInformation) === flow.flowId,
      );
      expect(
        credits.map((c) => [c.trn, c.amountCents, c.valueDate]),
        file,
      ).to.deep.equal([[flow.trn, flow.totalAmountCents, flow.settlementDate]]);
      expect(statement.ownerFiscalCode).to.equal(flow.receiver.id);
    }
  });

  it('the reader accepts exactly the project fixtures the official schemas accept', function () {
    const files = fs.readdirSync(PROJECT_FIXTURES).filter((f) => f.endsWith('.xml'));
    expect(files.length).to.be.greaterThan(5);
    for (const file of files) {
      const xml = fs.readFileSync(path.join(PROJECT_FIXTURES, file), 'utf8');
      const officialOk =
        schemaFor(OFFICIAL_DOCUMENTS.flusso104()).validateXml(xml).ok ||
        schemaFor(OFFICIAL_DOCUMENTS.flusso105()).validateXml(xml).ok;
      if (officialOk) expect(readFlussoRiversamento(xml).payments.length, file).to.be.greaterThan(0);
      else expectDomainError(() => readFlussoRiversamento(xml), 'INVALID_DOCUMENT');
    }
  });
});

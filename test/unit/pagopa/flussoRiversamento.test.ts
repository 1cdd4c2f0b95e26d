// The FlussoRiversamento builder and reader: round trip through XML, the strict schema of each
// version on building, the tolerant schema and the DOCTYPE refusal on reading.
import { expect } from 'chai';
import {
  buildFlussoRiversamento,
  flowSchemaVersionFor,
  flowTotalsConsistent,
  readFlussoRiversamento,
} from '../../../src/pagopa/flussoRiversamento.ts';
import type { FlowDocument } from '../../../src/reconciliation/model.ts';
import { expectDomainError } from '../../support/expectDomainError.ts';

function sampleFlow(overrides: Partial<FlowDocument> = {}): FlowDocument {
  return {
    version: '1.0',
    flowId: '2026-11-26BCITITMM-1',
    flowDateTime: '2026-11-26T18:00:00',
    trn: 'BCIT261126TRN000001',
    settlementDate: '2026-11-26',
    sender: { idType: 'B', id: 'BCITITMM', name: 'Banca Esempio & Figli S.p.A.' },
    bic: 'BCITITMM',
    receiver: { idType: 'G', id: '01234567897', name: 'Comune di Esempio' },
    paymentCount: 2,
    totalAmountCents: 13750,
    payments: [
      {
        iuv: '01000000001234519',
        iur: 'IUR-20261125-0001',
        transferIndex: 1,
        amountCents: 8750,
        outcomeCode: '0',
        outcomeDate: '2026-11-25',
      },
      {
        iuv: '01000000001234620',
        iur: 'IUR-20261125-0002',
        transferIndex: null,
        amountCents: 5000,
        outcomeCode: '9',
        outcomeDate: '2026-11-25',
      },
    ],
    ...overrides,
  };
}

describe('FlussoRiversamento', () => {
  describe('buildFlussoRiversamento', () => {
    it('writes amounts with two decimals from cents and escapes names', () => {
      const xml = buildFlussoRiversamento(sampleFlow());
      expect(xml).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?><pay_i:FlussoRiversamento /);
      expect(xml).to.contain('<pay_i:importoTotalePagamenti>137.50</pay_i:importoTotalePagamenti>');
      expect(xml).to.contain('<pay_i:singoloImportoPagato>87.50</pay_i:singoloImportoPagato>');
      expect(xml).to.contain('<pay_i:singoloImportoPagato>50.00</pay_i:singoloImportoPagato>');
      expect(xml).to.contain('Banca Esempio &amp; Figli S.p.A.');
      expect(xml).not.to.contain('indiceDatiSingoloPagamento>null');
    });

    it('round-trips through readFlussoRiversamento', () => {
      const flow = sampleFlow();
      expect(readFlussoRiversamento(buildFlussoRiversamento(flow))).to.deep.equal(flow);
    });

    it('round-trips a revoked line (code 3) as a negative amount, written without sign', () => {
      const flow = sampleFlow({
        totalAmountCents: 3750,
        payments: [
          sampleFlow().payments[0]!,
          { ...sampleFlow().payments[1]!, amountCents: -5000, outcomeCode: '3' },
        ],
      });
      const xml = buildFlussoRiversamento(flow);
      expect(xml).to.contain('<pay_i:singoloImportoPagato>50.00</pay_i:singoloImportoPagato>');
      expect(readFlussoRiversamento(xml)).to.deep.equal(flow);
      expect(flowTotalsConsistent(flow)).to.equal(true);
    });

    it('round-trips the stand-in codes 4 and 8 under 1.0.5 by default', () => {
      const base = sampleFlow().payments[0]!;
      const flow = sampleFlow({
        payments: [
          { ...base, outcomeCode: '4' },
          { ...base, iur: 'IUR-20261125-0003', amountCents: 5000, outcomeCode: '8' },
        ],
      });
      expect(flowSchemaVersionFor(flow)).to.equal('1.0.5');
      expect(readFlussoRiversamento(buildFlussoRiversamento(flow))).to.deep.equal(flow);
    });

    it('refuses a flow that breaks the schema of the requested version', () => {
      const base = sampleFlow().payments[0]!;
      const standIn = sampleFlow({ payments: [{ ...base, outcomeCode: '4' }, sampleFlow().payments[1]!] });
      expectDomainError(() => buildFlussoRiversamento(standIn, { version: '1.0.4' }), 'INVALID_DOCUMENT', {
        version: '1.0.4',
      });
      const revoked = sampleFlow({ payments: [{ ...base, amountCents: -8750, outcomeCode: '3' }] });
      expectDomainError(() => buildFlussoRiversamento(revoked, { version: '1.0.5' }), 'INVALID_DOCUMENT');
      expectDomainError(
        () => buildFlussoRiversamento(sampleFlow({ flowId: 'not a flow id!' })),
        'INVALID_DOCUMENT',
      );
      expectDomainError(() => buildFlussoRiversamento(sampleFlow({ paymentCount: 0 })), 'INVALID_DOCUMENT');
    });

    it('refuses an amount whose sign contradicts the outcome code', () => {
      const base = sampleFlow().payments[0]!;
      expectDomainError(
        () => buildFlussoRiversamento(sampleFlow({ payments: [{ ...base, outcomeCode: '3' }] })),
        'INVALID_DOCUMENT',
        { field: 'singoloImportoPagato', line: 1 },
      );
      expectDomainError(
        () => buildFlussoRiversamento(sampleFlow({ payments: [{ ...base, amountCents: -1 }] })),
        'INVALID_DOCUMENT',
      );
    });

    it('writes totals as given, so an inconsistent flow can be produced and detected', () => {
      const flow = sampleFlow({ totalAmountCents: 99999, paymentCount: 3 });
      const read = readFlussoRiversamento(buildFlussoRiversamento(flow));
      expect(read.totalAmountCents).to.equal(99999);
      expect(flowTotalsConsistent(read)).to.equal(false);
      expect(flowTotalsConsistent(sampleFlow())).to.equal(true);
      expect(flowTotalsConsistent(sampleFlow({ paymentCount: 3 }))).to.equal(false);
    });
  });

  describe('readFlussoRiversamento', () => {
    it('reads bytes as well as text', () => {
      const xml = buildFlussoRiversamento(sampleFlow());
      expect(readFlussoRiversamento(Buffer.from(xml, 'utf8')).flowId).to.equal('2026-11-26BCITITMM-1');
    });

    it('rejects a document that breaks the schema with its first complaints', () => {
      const xml = buildFlussoRiversamento(sampleFlow()).replace(
        '<pay_i:importoTotalePagamenti>137.50<',
        '<pay_i:importoTotalePagamenti>137,50<',
      );
      const error = expectDomainError(() => readFlussoRiversamento(xml), 'INVALID_DOCUMENT');
      expect(error.message).to.contain('importoTotalePagamenti');
    });

    it('rejects a document that is not a flow or not XML', () => {
      expectDomainError(
        () => readFlussoRiversamento('<RT xmlns="http://www.digitpa.gov.it/schemas/2011/Pagamenti/"/>'),
        'INVALID_DOCUMENT',
      );
      expectDomainError(() => readFlussoRiversamento('<pay_i:FlussoRiversamento'), 'INVALID_DOCUMENT', {
        reason: 'malformed',
      });
    });

    it('rejects a DOCTYPE before parsing', () => {
      const xml = buildFlussoRiversamento(sampleFlow()).replace(
        '?>',
        '?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
      );
      expectDomainError(() => readFlussoRiversamento(xml), 'INVALID_DOCUMENT', { reason: 'doctype' });
    });
  });
});

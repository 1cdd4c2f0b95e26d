import { expect } from 'chai';
import {
  compareFlowDateTimes,
  daysBetween,
  invalidFlowSubject,
  planAnomalies,
  reconcileEnteData,
  type AnomalyFinding,
  type CreditToMatch,
  type FlowToMatch,
  type KnownAnomaly,
  type LineToMatch,
  type MatchingInput,
  type PositionToMatch,
  type ReceiptToMatch,
} from '../../../src/reconciliation/matching.ts';
import type { FlowOutcomeCode } from '../../../src/reconciliation/model.ts';

const AS_OF = '2026-11-27';

let nextId = 0;
const id = () => (nextId += 1);

/** A paid receipt of one transfer (current model: IUR = receiptId, index = idTransfer 1). */
function receipt(
  iuv: string,
  amountCents: number,
  opts: Partial<ReceiptToMatch> & { optionId?: number | null; positionRowId?: number } = {},
): ReceiptToMatch {
  const receiptId = opts.receiptId ?? `R-${iuv}`;
  const optionId = opts.optionId === undefined ? id() : opts.optionId;
  return {
    rowId: opts.rowId ?? id(),
    iuv,
    receiptId,
    paidOn: opts.paidOn ?? '2026-11-25',
    lines: opts.lines ?? [{ iur: receiptId, index: 1, amountCents }],
    option:
      optionId === null
        ? null
        : {
            id: optionId,
            positionRowId: opts.positionRowId ?? id(),
            positionId: `POS-${iuv}`,
            installment: 0,
            noticeNumber: `3${iuv.slice(0, 17)}`,
            status: 'PAID',
            ...(opts.option ?? {}),
          },
  };
}

/** The flow line that reports a receipt's (first) transfer. */
function lineFor(
  r: ReceiptToMatch,
  overrides: Partial<LineToMatch> & { outcomeCode?: FlowOutcomeCode } = {},
): LineToMatch {
  const t = r.lines[0]!;
  return {
    id: id(),
    lineNo: 0,
    iuv: r.iuv,
    iur: t.iur,
    transferIndex: t.index,
    amountCents: t.amountCents ?? 0,
    outcomeCode: '0',
    ...overrides,
  };
}

function flow(flowId: string, lines: LineToMatch[], overrides: Partial<FlowToMatch> = {}): FlowToMatch {
  const numbered = lines.map((l, i) => ({ ...l, lineNo: i + 1 }));
  return {
    rowId: id(),
    flowId,
    flowDateTime: '2026-11-26T14:00:00',
    pspId: 'BCITITMM',
    trn: `TRN-${flowId}`,
    settlementDate: '2026-11-26',
    paymentCount: numbered.length,
    totalAmountCents: numbered.reduce((s, l) => s + l.amountCents, 0),
    lines: numbered,
    ...overrides,
  };
}

function credit(f: FlowToMatch, overrides: Partial<CreditToMatch> = {}): CreditToMatch {
  return {
    id: id(),
    amountCents: f.totalAmountCents,
    valueDate: f.settlementDate,
    trn: f.trn,
    flowId: f.flowId,
    ...overrides,
  };
}

function positionsOf(receipts: readonly ReceiptToMatch[]): PositionToMatch[] {
  return receipts.flatMap((r) =>
    r.option
      ? [
          {
            id: r.option.positionRowId,
            status: 'PAID' as const,
            options: [{ id: r.option.id, status: r.option.status }],
          },
        ]
      : [],
  );
}

function input(parts: Partial<MatchingInput>): MatchingInput {
  const receipts = parts.receipts ?? [];
  return {
    asOf: AS_OF,
    thresholds: { receiptFlowDays: 3, flowCreditDays: 2 },
    flows: [],
    receipts,
    positions: parts.positions ?? positionsOf(receipts),
    credits: [],
    anomalies: [],
    ...parts,
  };
}

const codes = (findings: readonly AnomalyFinding[]) => findings.map((f) => f.code).sort();

function known(
  f: AnomalyFinding,
  status: 'OPEN' | 'RESOLVED',
  resolution: 'AUTO' | 'MANUAL' | null = null,
): KnownAnomaly {
  return {
    id: id(),
    code: f.code,
    subjectKey: f.subjectKey,
    status,
    resolution,
    flowId: f.flowId,
    pspId: f.pspId,
  };
}

describe('reconciliation matching', () => {
  describe('line ↔ receipt', () => {
    it('matches a line by (IUV, IUR = receiptId, index = idTransfer) and links its receipt and option', () => {
      const r = receipt('01000000000000101', 12030);
      const f = flow('F1', [lineFor(r)]);
      const result = reconcileEnteData(input({ flows: [f], receipts: [r], credits: [credit(f)] }));
      expect(result.lines).to.deep.equal([
        {
          lineId: f.lines[0]!.id,
          flowRowId: f.rowId,
          status: 'MATCHED',
          receiptRowId: r.rowId,
          optionId: r.option!.id,
          anomalyCode: null,
        },
      ]);
      expect(result.findings).to.deep.equal([]);
    });

    it('matches each legacy RT payment by its own IUR and its 1-based position', () => {
      const r = receipt('RF000000000000201', 0, {
        receiptId: 'IUR-A',
        lines: [
          { iur: 'IUR-A', index: 1, amountCents: 1000 },
          { iur: 'IUR-B', index: 2, amountCents: 500 },
        ],
      });
      const lines = r.lines.map((t) => lineFor({ ...r, lines: [t] }));
      const f = flow('F-RT', lines);
      const result = reconcileEnteData(input({ flows: [f], receipts: [r], credits: [credit(f)] }));
      expect(result.lines.map((l) => l.status)).to.deep.equal(['MATCHED', 'MATCHED']);
      expect(result.options.map((o) => o.steps)).to.deep.equal([['REPORTED', 'RECONCILED']]);
    });

    it('matches a line written without index by IUV and IUR', () => {
      const r = receipt('01000000000000301', 5000);
      const f = flow('F1', [lineFor(r, { transferIndex: null })]);
      expect(reconcileEnteData(input({ flows: [f], receipts: [r] })).lines[0]!.status).to.equal('MATCHED');
    });

    it('raises DUPLICATE_LINE for a payment reported once with its index and once without', () => {
      const r = receipt('01000000000000311', 5000);
      const f = flow('F1', [lineFor(r), lineFor(r, { transferIndex: null })]);
      const result = reconcileEnteData(input({ flows: [f], receipts: [r] }));
      expect(result.lines.map((l) => [l.status, l.anomalyCode])).to.deep.equal([
        ['MATCHED', null],
        ['UNMATCHED', 'DUPLICATE_LINE'],
      ]);
    });

    it('raises LINE_WITHOUT_RECEIPT for a paid line nobody has a receipt for', () => {
      const f = flow('F1', [
        {
          id: id(),
          lineNo: 1,
          iuv: '01000000000000401',
          iur: 'X',
          transferIndex: 1,
          amountCents: 100,
          outcomeCode: '0',
        },
      ]);
      const result = reconcileEnteData(input({ flows: [f] }));
      expect(codes(result.findings)).to.deep.equal(['LINE_WITHOUT_RECEIPT']);
      expect(result.lines[0]).to.include({ status: 'UNMATCHED', anomalyCode: 'LINE_WITHOUT_RECEIPT' });
      expect(result.flows[0]!.status).to.equal('ANOMALY');
    });

    it('raises AMOUNT_MISMATCH when the line and the receipt transfer disagree, and does not report the option', () => {
      const r = receipt('01000000000000501', 12030);
      const f = flow('F1', [lineFor(r, { amountCents: 12130 })]);
      const result = reconcileEnteData(input({ flows: [f], receipts: [r], credits: [credit(f)] }));
      const mismatch = result.findings.find((x) => x.code === 'AMOUNT_MISMATCH')!;
      expect(mismatch).to.include({
        amountCents: 12130,
        expectedAmountCents: 12030,
        iuv: r.iuv,
        flowId: 'F1',
      });
      expect(result.lines[0]).to.include({ status: 'MATCHED', anomalyCode: 'AMOUNT_MISMATCH' });
      expect(result.options).to.deep.equal([]);
    });

    it('raises DUPLICATE_LINE for the second line of the same payment, within a flow or across flows', () => {
      const r = receipt('01000000000000601', 700);
      const inOne = flow('F1', [lineFor(r), lineFor(r)]);
      expect(codes(reconcileEnteData(input({ flows: [inOne], receipts: [r] })).findings)).to.deep.equal([
        'DUPLICATE_LINE',
      ]);
      const first = flow('F1', [lineFor(r)], { settlementDate: '2026-11-25' });
      const second = flow('F2', [lineFor(r)]);
      const result = reconcileEnteData(input({ flows: [second, first], receipts: [r] }));
      const dup = result.findings.find((x) => x.code === 'DUPLICATE_LINE')!;
      expect(dup.flowId).to.equal('F2');
      expect(result.lines.find((l) => l.flowRowId === first.rowId)!.status).to.equal('MATCHED');
    });

    it('reports an option only once every transfer of this ente is in a flow (one flow per IBAN)', () => {
      const r = receipt('01000000000000701', 0, {
        lines: [
          { iur: 'R-01000000000000701', index: 1, amountCents: 7000 },
          { iur: 'R-01000000000000701', index: 2, amountCents: 100 },
        ],
      });
      const bank = flow('F1', [lineFor(r)]);
      expect(
        reconcileEnteData(input({ flows: [bank], receipts: [r], credits: [credit(bank)] })).options,
      ).to.deep.equal([]);
      const postal = flow('F2', [lineFor({ ...r, lines: [r.lines[1]!] })]);
      const both = reconcileEnteData(
        input({ flows: [bank, postal], receipts: [r], credits: [credit(bank), credit(postal)] }),
      );
      expect(both.options.map((o) => [o.steps, o.flowRowIds])).to.deep.equal([
        [
          ['REPORTED', 'RECONCILED'],
          [bank.rowId, postal.rowId],
        ],
      ]);
    });
  });

  describe('outcome codes', () => {
    it('raises REVOKED_PAYMENT for a code 3 line and keeps it open until someone resolves it', () => {
      const r = receipt('01000000000000801', 900);
      const paid = flow('F1', [lineFor(r)], { settlementDate: '2026-11-20' });
      const revoked = flow('F2', [lineFor(r, { outcomeCode: '3', amountCents: -900 })]);
      const result = reconcileEnteData(input({ flows: [paid, revoked], receipts: [r] }));
      expect(codes(result.findings)).to.include('REVOKED_PAYMENT');
      expect(result.findings.some((x) => x.code === 'DUPLICATE_LINE')).to.equal(false);
      expect(result.lines.find((l) => l.flowRowId === revoked.rowId)).to.include({
        status: 'MATCHED',
        anomalyCode: 'REVOKED_PAYMENT',
      });
    });

    it('raises PAYMENT_WITHOUT_RPT for code 9 until a receipt for that IUV exists', () => {
      const line: LineToMatch = {
        id: id(),
        lineNo: 1,
        iuv: '01000000000000901',
        iur: 'PSP-IUR',
        transferIndex: null,
        amountCents: 400,
        outcomeCode: '9',
      };
      const f = flow('F1', [line]);
      expect(codes(reconcileEnteData(input({ flows: [f] })).findings)).to.deep.equal(['PAYMENT_WITHOUT_RPT']);
      const later = receipt(line.iuv, 400, { receiptId: 'OTHER-TOKEN' });
      const result = reconcileEnteData(input({ flows: [f], receipts: [later] }));
      expect(result.findings).to.deep.equal([]);
      expect(result.lines[0]!.status).to.equal('MATCHED');
    });

    it('keeps STAND_IN_PAYMENT open for code 8 without receipt', () => {
      const f = flow('F1', [
        {
          id: id(),
          lineNo: 1,
          iuv: '01000000000001001',
          iur: 'I',
          transferIndex: 1,
          amountCents: 300,
          outcomeCode: '8',
        },
      ]);
      const result = reconcileEnteData(input({ flows: [f] }));
      expect(result.findings.map((x) => [x.code, x.explained])).to.deep.equal([['STAND_IN_PAYMENT', null]]);
    });

    it('records STAND_IN_PAYMENT for code 4 with its receipt as already explained, and still reconciles', () => {
      const r = receipt('01000000000001101', 300);
      const f = flow('F1', [lineFor(r, { outcomeCode: '4' })]);
      const result = reconcileEnteData(input({ flows: [f], receipts: [r], credits: [credit(f)] }));
      expect(result.findings.map((x) => x.code)).to.deep.equal(['STAND_IN_PAYMENT']);
      expect(result.findings[0]!.explained).to.be.a('string');
      expect(result.plan.create).to.have.length(1);
      expect(result.flows[0]!.status).to.equal('RECONCILED');
    });
  });

  describe('flow ↔ bank credit', () => {
    it('links a credit by the flow id of its remittance and reconciles when the amount equals the total', () => {
      const r = receipt('01000000000001201', 2500);
      const f = flow('F1', [lineFor(r)]);
      const c = credit(f);
      const result = reconcileEnteData(input({ flows: [f], receipts: [r], credits: [c] }));
      expect(result.credits).to.deep.equal([{ creditId: c.id, flowRowId: f.rowId }]);
      expect(result.flows[0]).to.include({ status: 'RECONCILED', creditedCents: 2500, creditedInFull: true });
    });

    it('links a credit without pagoPA remittance by the flow TRN', () => {
      const r = receipt('01000000000001301', 2500);
      const f = flow('F1', [lineFor(r)]);
      const c = credit(f, { flowId: null });
      expect(
        reconcileEnteData(input({ flows: [f], receipts: [r], credits: [c] })).credits[0]!.flowRowId,
      ).to.equal(f.rowId);
    });

    it('adds up several credits of one flow (an integrative SCT)', () => {
      const r = receipt('01000000000001401', 2500);
      const f = flow('F1', [lineFor(r)]);
      const result = reconcileEnteData(
        input({
          flows: [f],
          receipts: [r],
          credits: [credit(f, { amountCents: 2000 }), credit(f, { amountCents: 500 })],
        }),
      );
      expect(result.flows[0]).to.include({ creditedCents: 2500, status: 'RECONCILED' });
    });

    it('raises AMOUNT_MISMATCH when the bank credited another amount than the flow total', () => {
      const r = receipt('01000000000001501', 2500);
      const f = flow('F1', [lineFor(r)]);
      const result = reconcileEnteData(
        input({ flows: [f], receipts: [r], credits: [credit(f, { amountCents: 2400 })] }),
      );
      expect(result.findings.map((x) => [x.code, x.amountCents, x.expectedAmountCents])).to.deep.equal([
        ['AMOUNT_MISMATCH', 2400, 2500],
      ]);
      expect(result.flows[0]!.status).to.equal('ANOMALY');
      expect(result.options.map((o) => o.steps)).to.deep.equal([['REPORTED']]);
    });

    it('raises TRN_MISMATCH when the credit names the flow but carries another TRN', () => {
      const r = receipt('01000000000001601', 2500);
      const f = flow('F1', [lineFor(r)]);
      const result = reconcileEnteData(
        input({ flows: [f], receipts: [r], credits: [credit(f, { trn: 'OTHER' })] }),
      );
      expect(codes(result.findings)).to.deep.equal(['TRN_MISMATCH']);
      expect(result.flows[0]!.creditedInFull).to.equal(false);
    });

    it('waits PPAY_FLOW_CREDIT_DAYS after the settlement date before raising FLOW_WITHOUT_CREDIT', () => {
      const r = receipt('01000000000001701', 2500);
      const f = flow('F1', [lineFor(r)], { settlementDate: '2026-11-26' });
      expect(
        reconcileEnteData(input({ flows: [f], receipts: [r], asOf: '2026-11-27' })).findings,
      ).to.deep.equal([]);
      const late = reconcileEnteData(input({ flows: [f], receipts: [r], asOf: '2026-11-28' }));
      expect(codes(late.findings)).to.deep.equal(['FLOW_WITHOUT_CREDIT']);
      expect(late.flows[0]!.status).to.equal('ANOMALY');
    });

    it('keeps a flow PENDING while its credit may still come', () => {
      const r = receipt('01000000000001801', 2500);
      const f = flow('F1', [lineFor(r)]);
      expect(
        reconcileEnteData(input({ flows: [f], receipts: [r], asOf: '2026-11-26' })).flows[0]!.status,
      ).to.equal('PENDING');
    });

    it('raises CREDIT_WITHOUT_FLOW for a pagoPA credit naming a flow that was not received; other credits are left alone', () => {
      const orphan: CreditToMatch = {
        id: id(),
        amountCents: 100,
        valueDate: '2026-11-26',
        trn: 'T',
        flowId: 'F-UNKNOWN',
      };
      const other: CreditToMatch = {
        id: id(),
        amountCents: 100,
        valueDate: '2026-11-26',
        trn: null,
        flowId: null,
      };
      const result = reconcileEnteData(input({ credits: [orphan, other] }));
      expect(result.findings.map((x) => [x.code, x.flowId])).to.deep.equal([
        ['CREDIT_WITHOUT_FLOW', 'F-UNKNOWN'],
      ]);
      expect(result.credits.map((c) => c.flowRowId)).to.deep.equal([null, null]);
    });

    it('raises AMOUNT_MISMATCH when the flow total is not the sum of its lines', () => {
      const r = receipt('01000000000001901', 2500);
      const f = flow('F1', [lineFor(r)], { totalAmountCents: 2600 });
      const result = reconcileEnteData(input({ flows: [f], receipts: [r], credits: [credit(f)] }));
      expect(result.findings.map((x) => x.subjectKey)).to.deep.equal(['total|BCITITMM|F1']);
    });
  });

  describe('receipts without flow', () => {
    it('waits PPAY_RECEIPT_FLOW_DAYS after the payment date before raising RECEIPT_WITHOUT_FLOW', () => {
      const r = receipt('01000000000002001', 2500, { paidOn: '2026-11-24' });
      expect(reconcileEnteData(input({ receipts: [r], asOf: '2026-11-26' })).findings).to.deep.equal([]);
      const late = reconcileEnteData(input({ receipts: [r], asOf: '2026-11-27' }));
      expect(late.findings.map((x) => [x.code, x.subjectKey, x.positionId])).to.deep.equal([
        ['RECEIPT_WITHOUT_FLOW', `${r.iuv}|${r.receiptId}`, r.option!.positionId],
      ]);
    });

    it('does not raise it once every transfer of the receipt is in a flow', () => {
      const r = receipt('01000000000002101', 2500, { paidOn: '2026-11-01' });
      const f = flow('F1', [lineFor(r)]);
      expect(
        reconcileEnteData(input({ flows: [f], receipts: [r], credits: [credit(f)] })).findings,
      ).to.deep.equal([]);
    });
  });

  describe('options and positions', () => {
    it('moves an option PAID → REPORTED when its lines are in a flow, and → RECONCILED once the flow is credited', () => {
      const r = receipt('01000000000002201', 2500);
      const f = flow('F1', [lineFor(r)]);
      const reported = reconcileEnteData(input({ flows: [f], receipts: [r] }));
      expect(reported.options).to.deep.equal([
        {
          optionId: r.option!.id,
          positionRowId: r.option!.positionRowId,
          from: 'PAID',
          steps: ['REPORTED'],
          flowRowIds: [f.rowId],
        },
      ]);
      expect(reported.positions.map((p) => p.steps)).to.deep.equal([['REPORTED']]);
      const credited = reconcileEnteData(
        input({
          flows: [f],
          receipts: [{ ...r, option: { ...r.option!, status: 'REPORTED' } }],
          credits: [credit(f)],
          positions: [
            {
              id: r.option!.positionRowId,
              status: 'REPORTED',
              options: [{ id: r.option!.id, status: 'REPORTED' }],
            },
          ],
        }),
      );
      expect(credited.options.map((o) => [o.from, o.steps])).to.deep.equal([['REPORTED', ['RECONCILED']]]);
      expect(credited.positions.map((p) => [p.from, p.steps])).to.deep.equal([['REPORTED', ['RECONCILED']]]);
    });

    it('never moves an option backwards and leaves a reconciled one alone', () => {
      const r = receipt('01000000000002301', 2500, { option: { status: 'RECONCILED' } as never });
      const result = reconcileEnteData(input({ receipts: [r], positions: [] }));
      expect(result.options).to.deep.equal([]);
    });

    it('moves installments one by one; the position follows only when all its paid options have', () => {
      const positionRowId = id();
      const first = receipt('01000000000002401', 1000, { positionRowId });
      const second = receipt('01000000000002402', 1000, { positionRowId });
      const position: PositionToMatch = {
        id: positionRowId,
        status: 'PAID',
        options: [
          { id: id(), status: 'UNPAID' }, // the single payment alternative, not used
          { id: first.option!.id, status: 'PAID' },
          { id: second.option!.id, status: 'PAID' },
        ],
      };
      const f1 = flow('F1', [lineFor(first)]);
      const one = reconcileEnteData(
        input({ flows: [f1], receipts: [first, second], positions: [position], credits: [credit(f1)] }),
      );
      expect(one.options.map((o) => o.optionId)).to.deep.equal([first.option!.id]);
      expect(one.positions).to.deep.equal([]);
      const f2 = flow('F2', [lineFor(second)]);
      const both = reconcileEnteData(
        input({
          flows: [f1, f2],
          receipts: [first, second],
          positions: [position],
          credits: [credit(f1), credit(f2)],
        }),
      );
      expect(both.positions.map((p) => p.steps)).to.deep.equal([['REPORTED', 'RECONCILED']]);
    });

    it('does not move a partially paid installment plan', () => {
      const positionRowId = id();
      const r = receipt('01000000000002501', 1000, { positionRowId });
      const f = flow('F1', [lineFor(r)]);
      const position: PositionToMatch = {
        id: positionRowId,
        status: 'PARTIALLY_PAID',
        options: [
          { id: r.option!.id, status: 'PAID' },
          { id: id(), status: 'UNPAID' },
        ],
      };
      const result = reconcileEnteData(
        input({ flows: [f], receipts: [r], positions: [position], credits: [credit(f)] }),
      );
      expect(result.options).to.have.length(1);
      expect(result.positions).to.deep.equal([]);
    });
  });

  describe('anomaly life cycle', () => {
    const r = receipt('01000000000002601', 2500);
    const f = flow('F1', [lineFor(r, { amountCents: 2400 })]);
    const found = reconcileEnteData(input({ flows: [f], receipts: [r], credits: [credit(f)] })).findings;

    it('keeps an open anomaly that is found again, with the same subject key', () => {
      const existing = found.map((x) => known(x, 'OPEN'));
      const again = reconcileEnteData(
        input({ flows: [f], receipts: [r], credits: [credit(f)], anomalies: existing }),
      );
      expect(again.plan.create).to.deep.equal([]);
      expect(again.plan.keep.map((k) => k.anomaly.id)).to.deep.equal(existing.map((e) => e.id));
    });

    it('resolves AUTO an open anomaly later data explains, and reopens it when it comes back', () => {
      const existing = found.map((x) => known(x, 'OPEN'));
      const fixed = flow('F1', [lineFor(r)], { rowId: f.rowId });
      const resolved = reconcileEnteData(
        input({ flows: [fixed], receipts: [r], credits: [credit(fixed)], anomalies: existing }),
      );
      expect(resolved.plan.resolve.map((a) => a.id)).to.deep.equal(existing.map((e) => e.id));
      expect(resolved.flows[0]!.status).to.equal('RECONCILED');
      const back = planAnomalies(
        found,
        found.map((x) => known(x, 'RESOLVED', 'AUTO')),
      );
      expect(back.reopen).to.have.length(found.length);
    });

    it('leaves a MANUALly resolved anomaly resolved, and the flow may reconcile', () => {
      const manual = found.map((x) => known(x, 'RESOLVED', 'MANUAL'));
      const result = reconcileEnteData(
        input({ flows: [f], receipts: [r], credits: [credit(f, { amountCents: 2400 })], anomalies: manual }),
      );
      expect(result.plan.create).to.deep.equal([]);
      expect(result.plan.reopen).to.deep.equal([]);
      expect(result.flows[0]!.status).to.equal('RECONCILED');
    });

    it('resolves an open stand-in anomaly once its receipt explains it', () => {
      const line: LineToMatch = {
        id: id(),
        lineNo: 1,
        iuv: '01000000000002701',
        iur: 'R-01000000000002701',
        transferIndex: 1,
        amountCents: 300,
        outcomeCode: '4',
      };
      const g = flow('F9', [line]);
      const open = reconcileEnteData(input({ flows: [g] })).findings.map((x) => known(x, 'OPEN'));
      expect(open.map((a) => a.code)).to.deep.equal(['STAND_IN_PAYMENT']);
      const withReceipt = reconcileEnteData(
        input({ flows: [g], receipts: [receipt(line.iuv, 300)], anomalies: open }),
      );
      expect(withReceipt.plan.resolve.map((a) => a.code)).to.deep.equal(['STAND_IN_PAYMENT']);
    });

    it('keeps INVALID_FLOW open until a valid revision of that flow id, as recent or newer, is stored', () => {
      const invalid: KnownAnomaly = {
        id: id(),
        code: 'INVALID_FLOW',
        subjectKey: invalidFlowSubject('F7', '2026-11-26T10:00:00'),
        status: 'OPEN',
        resolution: null,
        flowId: 'F7',
        pspId: null,
      };
      expect(reconcileEnteData(input({ anomalies: [invalid] })).plan.keep).to.have.length(1);
      const older = flow('F7', [], { flowDateTime: '2026-11-25T10:00:00' });
      expect(reconcileEnteData(input({ flows: [older], anomalies: [invalid] })).plan.keep).to.have.length(1);
      const newer = flow('F7', [], { flowDateTime: '2026-11-26T11:00:00' });
      expect(
        reconcileEnteData(input({ flows: [newer], anomalies: [invalid] })).plan.resolve.map((a) => a.id),
      ).to.deep.equal([invalid.id]);
    });
  });

  describe('helpers', () => {
    it('counts days between dates across month ends', () => {
      expect(daysBetween('2026-11-29', '2026-12-02')).to.equal(3);
      expect(daysBetween('2026-12-02', '2026-11-29')).to.equal(-3);
    });

    it('orders revisions by instant, whatever their fractional seconds', () => {
      expect(compareFlowDateTimes('2026-11-26T10:00:00.500', '2026-11-26T10:00:00')).to.be.greaterThan(0);
      expect(compareFlowDateTimes('2026-11-26T10:00:00.000', '2026-11-26T10:00:00')).to.equal(0);
    });
  });
});

// Reconciliation rules (pagopa-facts §8.5), pure: given an ente's latest reporting flows with their
// lines, its receipts (per transfer of this ente), its bank credits and the anomalies already
// recorded, decide which line matches which receipt, which credits settle which flow, which options
// and positions move to REPORTED / RECONCILED, and which anomalies should be open now (each with a
// stable subject key, so a re-run finds the same ones). No I/O: the reconcile job feeds and applies it.

import type { OptionStatus, PositionStatus } from '../domain/positionState.ts';
import type { FlowOutcomeCode } from './model.ts';

export const ANOMALY_CODES = [
  'RECEIPT_WITHOUT_FLOW',
  'LINE_WITHOUT_RECEIPT',
  'FLOW_WITHOUT_CREDIT',
  'CREDIT_WITHOUT_FLOW',
  'AMOUNT_MISMATCH',
  'TRN_MISMATCH',
  'DUPLICATE_LINE',
  'REVOKED_PAYMENT',
  'PAYMENT_WITHOUT_RPT',
  'STAND_IN_PAYMENT',
  'INVALID_FLOW',
] as const;
export type AnomalyCode = (typeof ANOMALY_CODES)[number];

export type FlowStatus = 'PENDING' | 'RECONCILED' | 'ANOMALY';
export type LineStatus = 'MATCHED' | 'UNMATCHED';

export interface MatchingThresholds {
  /** A paid receipt not in any flow this many days after its payment date is RECEIPT_WITHOUT_FLOW. */
  receiptFlowDays: number;
  /** A flow without its bank credit this many days after its settlement date is FLOW_WITHOUT_CREDIT. */
  flowCreditDays: number;
}

export const DEFAULT_THRESHOLDS: MatchingThresholds = { receiptFlowDays: 3, flowCreditDays: 2 };

export interface LineToMatch {
  id: number;
  lineNo: number;
  iuv: string;
  iur: string;
  transferIndex: number | null;
  amountCents: number;
  outcomeCode: FlowOutcomeCode;
}

/** The latest revision of one flow of the ente. */
export interface FlowToMatch {
  rowId: number;
  flowId: string;
  flowDateTime: string;
  pspId: string;
  trn: string;
  settlementDate: string;
  paymentCount: number;
  totalAmountCents: number;
  lines: LineToMatch[];
}

/** One transfer of a receipt that credits this ente: what a flow line reports. */
export interface ReceiptLine {
  /** receiptId (current model) or the datiSingoloPagamento's own IUR (legacy RT). */
  iur: string;
  /** idTransfer (current model) or the 1-based position of the datiSingoloPagamento (legacy RT). */
  index: number;
  amountCents: number | null;
}

export interface ReceiptOption {
  id: number;
  positionRowId: number;
  positionId: string;
  installment: number;
  noticeNumber: string | null;
  status: OptionStatus;
}

/** A positive receipt stored for the ente (KO receipts are not given). */
export interface ReceiptToMatch {
  rowId: number;
  iuv: string;
  receiptId: string;
  /** Payment date, YYYY-MM-DD. */
  paidOn: string;
  /** Only the transfers of this ente. */
  lines: ReceiptLine[];
  /** The option the receipt paid; null for a flagged receipt or a co-beneficiary's copy. */
  option: ReceiptOption | null;
}

export interface PositionToMatch {
  id: number;
  status: PositionStatus;
  options: ReadonlyArray<{ id: number; status: OptionStatus }>;
}

/** An incoming credit (CRDT) of the ente's treasury account. */
export interface CreditToMatch {
  id: number;
  amountCents: number;
  valueDate: string;
  trn: string | null;
  /** The flow id named by its pagoPA remittance; null for other credits. */
  flowId: string | null;
}

export interface KnownAnomaly {
  id: number;
  code: string;
  subjectKey: string;
  status: 'OPEN' | 'RESOLVED';
  resolution: 'AUTO' | 'MANUAL' | null;
  flowId: string | null;
  pspId: string | null;
}

export interface MatchingInput {
  /** The day the run judges by, YYYY-MM-DD. */
  asOf: string;
  thresholds: MatchingThresholds;
  flows: readonly FlowToMatch[];
  receipts: readonly ReceiptToMatch[];
  /** Positions of the receipts' options, with all their options. */
  positions: readonly PositionToMatch[];
  credits: readonly CreditToMatch[];
  anomalies: readonly KnownAnomaly[];
}

export interface AnomalyFinding {
  code: AnomalyCode;
  subjectKey: string;
  description: string;
  flowId: string | null;
  pspId: string | null;
  iuv: string | null;
  iur: string | null;
  positionId: string | null;
  noticeNumber: string | null;
  amountCents: number | null;
  expectedAmountCents: number | null;
  /** Set when the fact needs no action: recorded already resolved (AUTO) with this note. */
  explained: string | null;
}

export interface LineOutcome {
  lineId: number;
  flowRowId: number;
  status: LineStatus;
  receiptRowId: number | null;
  optionId: number | null;
  anomalyCode: AnomalyCode | null;
}

export interface FlowOutcome {
  rowId: number;
  status: FlowStatus;
  creditIds: number[];
  creditedCents: number;
  creditedInFull: boolean;
}

export interface CreditLink {
  creditId: number;
  flowRowId: number | null;
}

export interface OptionMove {
  optionId: number;
  positionRowId: number;
  from: OptionStatus;
  /** The statuses it goes through, in order (PAID → REPORTED → RECONCILED takes two steps). */
  steps: Array<'REPORTED' | 'RECONCILED'>;
  /** The latest flows that report it. */
  flowRowIds: number[];
}

export interface PositionMove {
  positionRowId: number;
  from: PositionStatus;
  steps: Array<'REPORTED' | 'RECONCILED'>;
}

export interface AnomalyPlan {
  /** Not recorded yet: to record (OPEN, or RESOLVED AUTO when explained). */
  create: AnomalyFinding[];
  /** Recorded and resolved AUTO, found again: to reopen. */
  reopen: Array<{ anomaly: KnownAnomaly; finding: AnomalyFinding }>;
  /** Recorded and open, found again: stays open. */
  keep: Array<{ anomaly: KnownAnomaly; finding: AnomalyFinding }>;
  /** Open but no longer found: later data explains it, to resolve AUTO. */
  resolve: KnownAnomaly[];
}

export interface MatchingResult {
  lines: LineOutcome[];
  flows: FlowOutcome[];
  credits: CreditLink[];
  findings: AnomalyFinding[];
  plan: AnomalyPlan;
  options: OptionMove[];
  positions: PositionMove[];
}

/**
 * Orders two dataOraFlusso values: as instants when both parse (a revision may be written with or
 * without fractional seconds), else as text.
 */
export function compareFlowDateTimes(a: string, b: string): number {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (!Number.isNaN(ta) && !Number.isNaN(tb)) return ta - tb;
  return a.localeCompare(b);
}

/** Whole days from `from` to `to` (YYYY-MM-DD), negative when `to` is earlier. */
export function daysBetween(from: string, to: string): number {
  const day = (d: string) =>
    Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10)));
  return Math.round((day(to) - day(from)) / 86_400_000);
}

/** The subject key of an INVALID_FLOW anomaly: the listed flow id and revision date-time. */
export function invalidFlowSubject(flowId: string, flowDateTime: string): string {
  return `${flowId}|${flowDateTime}`;
}

const money = (cents: number | null) => (cents === null ? '?' : (cents / 100).toFixed(2));

const lineKey = (iuv: string, iur: string, index: number | null) => `${iuv}|${iur}|${index ?? ''}`;

interface IndexedReceiptLine {
  receipt: ReceiptToMatch;
  line: ReceiptLine;
  key: string;
}

/** Finds the receipt transfer a flow line reports, by (IUV, IUR, index); by IUV alone when allowed. */
class ReceiptIndex {
  private readonly byKey = new Map<string, IndexedReceiptLine>();
  private readonly byIuvIur = new Map<string, IndexedReceiptLine[]>();
  private readonly byIuv = new Map<string, IndexedReceiptLine[]>();
  readonly used = new Set<string>();

  constructor(receipts: readonly ReceiptToMatch[]) {
    for (const receipt of receipts) {
      for (const line of receipt.lines) {
        const entry = { receipt, line, key: `${receipt.rowId}|${line.iur}|${line.index}` };
        this.byKey.set(lineKey(receipt.iuv, line.iur, line.index), entry);
        push(this.byIuvIur, `${receipt.iuv}|${line.iur}`, entry);
        push(this.byIuv, receipt.iuv, entry);
      }
    }
  }

  find(line: LineToMatch, byIuvAlone: boolean): IndexedReceiptLine | null {
    if (line.transferIndex !== null) {
      const exact = this.byKey.get(lineKey(line.iuv, line.iur, line.transferIndex));
      if (exact) return exact;
    } else {
      const found = pick(this.byIuvIur.get(`${line.iuv}|${line.iur}`) ?? [], line, this.used);
      if (found) return found;
    }
    return byIuvAlone ? pick(this.byIuv.get(line.iuv) ?? [], line, this.used) : null;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * An unused candidate, one with the line's amount first; when every candidate was already reported,
 * the first of them (the caller then reports the line as a duplicate).
 */
function pick(
  candidates: readonly IndexedReceiptLine[],
  line: LineToMatch,
  used: ReadonlySet<string>,
): IndexedReceiptLine | null {
  const free = candidates.filter((c) => !used.has(c.key));
  return free.find((c) => c.line.amountCents === line.amountCents) ?? free[0] ?? candidates[0] ?? null;
}

interface Ctx {
  input: MatchingInput;
  findings: AnomalyFinding[];
  lines: LineOutcome[];
  /** receipt line key → the flows whose line reports it with the right amount. */
  reported: Map<string, number[]>;
  /** receipt line key → reported by some flow line (whatever the amount). */
  inFlow: Set<string>;
}

function finding(
  code: AnomalyCode,
  subjectKey: string,
  description: string,
  about: Partial<Omit<AnomalyFinding, 'code' | 'subjectKey' | 'description'>> = {},
): AnomalyFinding {
  return {
    code,
    subjectKey,
    description,
    flowId: about.flowId ?? null,
    pspId: about.pspId ?? null,
    iuv: about.iuv ?? null,
    iur: about.iur ?? null,
    positionId: about.positionId ?? null,
    noticeNumber: about.noticeNumber ?? null,
    amountCents: about.amountCents ?? null,
    expectedAmountCents: about.expectedAmountCents ?? null,
    explained: about.explained ?? null,
  };
}

function aboutLine(flow: FlowToMatch, line: LineToMatch, receipt: ReceiptToMatch | null = null) {
  return {
    flowId: flow.flowId,
    pspId: flow.pspId,
    iuv: line.iuv,
    iur: line.iur,
    positionId: receipt?.option?.positionId ?? null,
    noticeNumber: receipt?.option?.noticeNumber ?? null,
    amountCents: line.amountCents,
  };
}

function lineSubject(flow: FlowToMatch, line: LineToMatch): string {
  return `${flow.pspId}|${flow.flowId}|${lineKey(line.iuv, line.iur, line.transferIndex)}`;
}

/** Matches one line of a flow; returns the anomaly it raises, if any. */
function matchLine(
  ctx: Ctx,
  index: ReceiptIndex,
  seen: Set<string>,
  flow: FlowToMatch,
  line: LineToMatch,
): void {
  const outcome: LineOutcome = {
    lineId: line.id,
    flowRowId: flow.rowId,
    status: 'UNMATCHED',
    receiptRowId: null,
    optionId: null,
    anomalyCode: null,
  };
  ctx.lines.push(outcome);
  const raise = (f: AnomalyFinding) => {
    ctx.findings.push(f);
    outcome.anomalyCode = f.code;
  };
  const subject = lineSubject(flow, line);

  if (line.outcomeCode === '3') {
    const found = index.find(line, true);
    if (found) Object.assign(outcome, matchedTo(found));
    raise(
      finding(
        'REVOKED_PAYMENT',
        subject,
        `payment ${line.iuv} revoked (outcome 3) for ${money(-line.amountCents)}`,
        {
          ...aboutLine(flow, line, found?.receipt),
        },
      ),
    );
    return;
  }

  const dupKey = lineKey(line.iuv, line.iur, line.transferIndex);
  if (seen.has(dupKey)) {
    raise(
      finding('DUPLICATE_LINE', subject, `payment ${line.iuv}/${line.iur} reported more than once`, {
        ...aboutLine(flow, line),
      }),
    );
    return;
  }
  seen.add(dupKey);

  const withoutReceipt = line.outcomeCode === '8' || line.outcomeCode === '9';
  const found = index.find(line, withoutReceipt);
  if (found && index.used.has(found.key)) {
    // The receipt's transfer was already reported by another line (written with or without index).
    raise(
      finding('DUPLICATE_LINE', subject, `payment ${line.iuv}/${line.iur} reported more than once`, {
        ...aboutLine(flow, line, found.receipt),
      }),
    );
    return;
  }
  if (!found) {
    raise(missingReceipt(flow, line, subject));
    return;
  }
  index.used.add(found.key);
  Object.assign(outcome, matchedTo(found));
  ctx.inFlow.add(found.key);
  if (found.line.amountCents !== line.amountCents) {
    raise(
      finding(
        'AMOUNT_MISMATCH',
        `line|${subject}`,
        `payment ${line.iuv} reported for ${money(line.amountCents)}, receipt says ${money(found.line.amountCents)}`,
        { ...aboutLine(flow, line, found.receipt), expectedAmountCents: found.line.amountCents },
      ),
    );
    return;
  }
  push(ctx.reported, found.key, flow.rowId);
  if (line.outcomeCode === '4') {
    raise(
      finding('STAND_IN_PAYMENT', subject, `payment ${line.iuv} collected in stand-in (outcome 4)`, {
        ...aboutLine(flow, line, found.receipt),
        explained: 'paid in stand-in; its receipt is stored and matches the line',
      }),
    );
  }
}

function matchedTo(found: IndexedReceiptLine): Partial<LineOutcome> {
  return { status: 'MATCHED', receiptRowId: found.receipt.rowId, optionId: found.receipt.option?.id ?? null };
}

/** The anomaly of a paid line with no receipt: depends on what the PSP said about it. */
function missingReceipt(flow: FlowToMatch, line: LineToMatch, subject: string): AnomalyFinding {
  const about = aboutLine(flow, line);
  switch (line.outcomeCode) {
    case '9':
      return finding(
        'PAYMENT_WITHOUT_RPT',
        subject,
        `payment ${line.iuv} collected without RPT/receipt (outcome 9)`,
        about,
      );
    case '8':
    case '4':
      return finding(
        'STAND_IN_PAYMENT',
        subject,
        `payment ${line.iuv} collected in stand-in (outcome ${line.outcomeCode}) and no receipt is stored`,
        about,
      );
    default:
      return finding(
        'LINE_WITHOUT_RECEIPT',
        subject,
        `no receipt stored for payment ${line.iuv}/${line.iur}`,
        about,
      );
  }
}

/** Flows in a fixed order, so "the first" of two duplicate lines is always the same one. */
function orderedFlows(flows: readonly FlowToMatch[]): FlowToMatch[] {
  return [...flows].sort(
    (a, b) =>
      a.settlementDate.localeCompare(b.settlementDate) ||
      a.flowId.localeCompare(b.flowId) ||
      a.rowId - b.rowId,
  );
}

function checkTotals(ctx: Ctx, flow: FlowToMatch): void {
  const sum = flow.lines.reduce((total, l) => total + l.amountCents, 0);
  if (sum === flow.totalAmountCents && flow.lines.length === flow.paymentCount) return;
  ctx.findings.push(
    finding(
      'AMOUNT_MISMATCH',
      `total|${flow.pspId}|${flow.flowId}`,
      `flow total ${money(flow.totalAmountCents)} for ${flow.paymentCount} payments, lines add up to ${money(sum)} for ${flow.lines.length}`,
      {
        flowId: flow.flowId,
        pspId: flow.pspId,
        amountCents: sum,
        expectedAmountCents: flow.totalAmountCents,
      },
    ),
  );
}

/** Which flow each credit settles: by the flow id of its remittance, else by TRN. */
function linkCredits(ctx: Ctx, flows: readonly FlowToMatch[]): CreditLink[] {
  const byFlowId = new Map<string, FlowToMatch[]>();
  const byTrn = new Map<string, FlowToMatch[]>();
  for (const flow of flows) {
    push(byFlowId, flow.flowId, flow);
    push(byTrn, flow.trn, flow);
  }
  return ctx.input.credits.map((credit) => {
    if (credit.flowId !== null) {
      const named = byFlowId.get(credit.flowId) ?? [];
      const flow = named.find((f) => f.trn === credit.trn) ?? named[0];
      if (flow) return { creditId: credit.id, flowRowId: flow.rowId };
      ctx.findings.push(
        finding(
          'CREDIT_WITHOUT_FLOW',
          `credit|${credit.id}`,
          `bank credit of ${money(credit.amountCents)} on ${credit.valueDate} names flow ${credit.flowId}, which was not received`,
          { flowId: credit.flowId, amountCents: credit.amountCents },
        ),
      );
      return { creditId: credit.id, flowRowId: null };
    }
    const byReference = credit.trn === null ? [] : (byTrn.get(credit.trn) ?? []);
    return {
      creditId: credit.id,
      flowRowId: byReference.length === 1 ? (byReference[0] as FlowToMatch).rowId : null,
    };
  });
}

function checkCredits(ctx: Ctx, flow: FlowToMatch, credits: readonly CreditToMatch[]): FlowOutcome {
  const creditedCents = credits.reduce((total, c) => total + c.amountCents, 0);
  const about = { flowId: flow.flowId, pspId: flow.pspId };
  const wrongTrn = credits.filter((c) => c.trn !== null && c.trn !== flow.trn);
  const outcome = {
    rowId: flow.rowId,
    status: 'PENDING' as FlowStatus,
    creditIds: credits.map((c) => c.id),
    creditedCents,
    creditedInFull: credits.length > 0 && creditedCents === flow.totalAmountCents && wrongTrn.length === 0,
  };
  if (credits.length === 0) {
    if (daysBetween(flow.settlementDate, ctx.input.asOf) >= ctx.input.thresholds.flowCreditDays) {
      ctx.findings.push(
        finding(
          'FLOW_WITHOUT_CREDIT',
          `${flow.pspId}|${flow.flowId}`,
          `no bank credit for flow ${flow.flowId} (TRN ${flow.trn}, settled ${flow.settlementDate}) of ${money(flow.totalAmountCents)}`,
          { ...about, expectedAmountCents: flow.totalAmountCents },
        ),
      );
    }
    return outcome;
  }
  if (creditedCents !== flow.totalAmountCents) {
    ctx.findings.push(
      finding(
        'AMOUNT_MISMATCH',
        `credit|${flow.pspId}|${flow.flowId}`,
        `flow ${flow.flowId} totals ${money(flow.totalAmountCents)}, the bank credited ${money(creditedCents)}`,
        { ...about, amountCents: creditedCents, expectedAmountCents: flow.totalAmountCents },
      ),
    );
  }
  if (wrongTrn.length > 0) {
    ctx.findings.push(
      finding(
        'TRN_MISMATCH',
        `trn|${flow.pspId}|${flow.flowId}`,
        `flow ${flow.flowId} states TRN ${flow.trn}, its bank credit carries ${wrongTrn.map((c) => c.trn).join(', ')}`,
        about,
      ),
    );
  }
  return outcome;
}

/** Paid receipts whose transfers for this ente are still missing from every flow after the threshold. */
function checkReceipts(ctx: Ctx): void {
  const { asOf, thresholds } = ctx.input;
  for (const receipt of ctx.input.receipts) {
    if (receipt.lines.length === 0) continue;
    const missing = receipt.lines.filter((l) => !ctx.inFlow.has(`${receipt.rowId}|${l.iur}|${l.index}`));
    if (missing.length === 0) continue;
    if (daysBetween(receipt.paidOn, asOf) < thresholds.receiptFlowDays) continue;
    ctx.findings.push(
      finding(
        'RECEIPT_WITHOUT_FLOW',
        `${receipt.iuv}|${receipt.receiptId}`,
        `payment ${receipt.iuv} of ${receipt.paidOn} (receipt ${receipt.receiptId}) is in no reporting flow`,
        {
          iuv: receipt.iuv,
          iur: missing[0]?.iur ?? receipt.receiptId,
          positionId: receipt.option?.positionId ?? null,
          noticeNumber: receipt.option?.noticeNumber ?? null,
          amountCents: missing.reduce((total, l) => total + (l.amountCents ?? 0), 0),
        },
      ),
    );
  }
}

/** INVALID_FLOW stays open until a valid revision of that flow id, as recent or newer, is stored. */
function checkInvalidFlows(ctx: Ctx): void {
  for (const anomaly of ctx.input.anomalies) {
    if (anomaly.code !== 'INVALID_FLOW' || anomaly.status !== 'OPEN') continue;
    const cut = anomaly.subjectKey.lastIndexOf('|');
    const flowId = cut < 0 ? anomaly.subjectKey : anomaly.subjectKey.slice(0, cut);
    const dateTime = cut < 0 ? '' : anomaly.subjectKey.slice(cut + 1);
    const replaced = ctx.input.flows.some(
      (f) => f.flowId === flowId && compareFlowDateTimes(f.flowDateTime, dateTime) >= 0,
    );
    if (replaced) continue;
    ctx.findings.push(
      finding('INVALID_FLOW', anomaly.subjectKey, `flow ${flowId} (${dateTime}) could not be read`, {
        flowId,
        pspId: anomaly.pspId,
      }),
    );
  }
}

/** Compares what should be open now with what is recorded. */
export function planAnomalies(
  findings: readonly AnomalyFinding[],
  known: readonly KnownAnomaly[],
): AnomalyPlan {
  const recorded = new Map(known.map((a) => [`${a.code}|${a.subjectKey}`, a]));
  const plan: AnomalyPlan = { create: [], reopen: [], keep: [], resolve: [] };
  const found = new Set<string>();
  // Found again but explained now (a stand-in payment whose receipt arrived): resolved if still open.
  const explained = new Set<string>();
  for (const f of findings) {
    const key = `${f.code}|${f.subjectKey}`;
    if (found.has(key)) continue;
    found.add(key);
    const anomaly = recorded.get(key);
    if (!anomaly) plan.create.push(f);
    else if (f.explained !== null) explained.add(key);
    else if (anomaly.status === 'OPEN') plan.keep.push({ anomaly, finding: f });
    else if (anomaly.resolution === 'AUTO') plan.reopen.push({ anomaly, finding: f });
  }
  for (const anomaly of known) {
    const key = `${anomaly.code}|${anomaly.subjectKey}`;
    if (anomaly.status === 'OPEN' && (!found.has(key) || explained.has(key))) plan.resolve.push(anomaly);
  }
  return plan;
}

/** The findings that are open once the plan is applied. */
function openAfter(plan: AnomalyPlan): AnomalyFinding[] {
  return [
    ...plan.create.filter((f) => f.explained === null),
    ...plan.reopen.map((r) => r.finding),
    ...plan.keep.map((k) => k.finding),
  ];
}

function flowStatus(
  flow: FlowToMatch,
  outcome: FlowOutcome,
  lines: readonly LineOutcome[],
  open: readonly AnomalyFinding[],
): FlowStatus {
  const tied = open.some((f) => f.flowId === flow.flowId && (f.pspId === null || f.pspId === flow.pspId));
  if (tied) return 'ANOMALY';
  const settled = lines.every((l) => l.status === 'MATCHED' || l.anomalyCode !== null);
  return outcome.creditedInFull && settled ? 'RECONCILED' : 'PENDING';
}

const STEPS_TO: Record<'REPORTED' | 'RECONCILED', Array<'REPORTED' | 'RECONCILED'>> = {
  REPORTED: ['REPORTED'],
  RECONCILED: ['REPORTED', 'RECONCILED'],
};

/** From `from`, the steps forward to `target` (never backwards: a paid euro stays accounted). */
function stepsForward<S extends string>(
  from: S,
  target: 'REPORTED' | 'RECONCILED' | null,
): Array<'REPORTED' | 'RECONCILED'> {
  if (target === null) return [];
  if (from === 'PAID') return STEPS_TO[target];
  if (from === 'REPORTED' && target === 'RECONCILED') return ['RECONCILED'];
  return [];
}

function moveOptions(ctx: Ctx, flows: ReadonlyMap<number, FlowOutcome>): OptionMove[] {
  const moves: OptionMove[] = [];
  for (const receipt of ctx.input.receipts) {
    const option = receipt.option;
    if (!option || receipt.lines.length === 0) continue;
    if (option.status !== 'PAID' && option.status !== 'REPORTED') continue;
    const reportedBy = receipt.lines.map(
      (l) => ctx.reported.get(`${receipt.rowId}|${l.iur}|${l.index}`) ?? [],
    );
    if (reportedBy.some((rows) => rows.length === 0)) continue;
    const flowRowIds = [...new Set(reportedBy.flat())];
    const credited = flowRowIds.every((id) => flows.get(id)?.creditedInFull === true);
    const steps = stepsForward(option.status, credited ? 'RECONCILED' : 'REPORTED');
    if (steps.length > 0)
      moves.push({
        optionId: option.id,
        positionRowId: option.positionRowId,
        from: option.status,
        steps,
        flowRowIds,
      });
  }
  return moves;
}

/** A position follows once every one of its paid options has: REPORTED, then RECONCILED. */
function movePositions(ctx: Ctx, optionMoves: readonly OptionMove[]): PositionMove[] {
  const after = new Map(optionMoves.map((m) => [m.optionId, m.steps.at(-1) as OptionStatus]));
  const moves: PositionMove[] = [];
  for (const position of ctx.input.positions) {
    if (position.status !== 'PAID' && position.status !== 'REPORTED') continue;
    const paid = position.options.map((o) => after.get(o.id) ?? o.status).filter((s) => s !== 'UNPAID');
    if (paid.length === 0) continue;
    const target = paid.every((s) => s === 'RECONCILED')
      ? 'RECONCILED'
      : paid.every((s) => s === 'REPORTED' || s === 'RECONCILED')
        ? 'REPORTED'
        : null;
    const steps = stepsForward(position.status, target);
    if (steps.length > 0) moves.push({ positionRowId: position.id, from: position.status, steps });
  }
  return moves;
}

export function reconcileEnteData(input: MatchingInput): MatchingResult {
  const ctx: Ctx = { input, findings: [], lines: [], reported: new Map(), inFlow: new Set() };
  const flows = orderedFlows(input.flows);
  const index = new ReceiptIndex(input.receipts);
  const seen = new Set<string>();
  for (const flow of flows) {
    for (const line of [...flow.lines].sort((a, b) => a.lineNo - b.lineNo))
      matchLine(ctx, index, seen, flow, line);
    checkTotals(ctx, flow);
  }
  const credits = linkCredits(ctx, flows);
  const creditsOf = new Map<number, CreditToMatch[]>();
  const creditById = new Map(input.credits.map((c) => [c.id, c]));
  for (const link of credits) {
    if (link.flowRowId !== null)
      push(creditsOf, link.flowRowId, creditById.get(link.creditId) as CreditToMatch);
  }
  const flowOutcomes = flows.map((flow) => checkCredits(ctx, flow, creditsOf.get(flow.rowId) ?? []));
  checkReceipts(ctx);
  checkInvalidFlows(ctx);

  const plan = planAnomalies(ctx.findings, input.anomalies);
  const open = openAfter(plan);
  for (const [i, flow] of flows.entries()) {
    const outcome = flowOutcomes[i] as FlowOutcome;
    outcome.status = flowStatus(
      flow,
      outcome,
      ctx.lines.filter((l) => l.flowRowId === flow.rowId),
      open,
    );
  }
  const byRow = new Map(flowOutcomes.map((f) => [f.rowId, f]));
  const options = moveOptions(ctx, byRow);
  return {
    lines: ctx.lines,
    flows: flowOutcomes,
    credits,
    findings: ctx.findings,
    plan,
    options,
    positions: movePositions(ctx, options),
  };
}

// What `ppay emulator settle` and `ppay emulator revise-flow` print: the flows, credits and files of
// a settlement run, and a revised flow, as plain lines an operator can read.

import { formatAmount, type SignedCents } from '../domain/money.ts';
import type { FlowSummary, RevisedFlow, SettleDayResult } from './settle.ts';

const euro = (cents: number) => formatAmount(cents as SignedCents);

function flowLine(flow: FlowSummary): string {
  const collected =
    flow.collectedCents === flow.totalAmountCents ? '' : ` (collected ${euro(flow.collectedCents)})`;
  return (
    `  ${flow.flowId.padEnd(34)} ${flow.pspId.padEnd(11)} → ${flow.enteFiscalCode}  ` +
    `${String(flow.paymentCount).padStart(3)} payments  ${euro(flow.totalAmountCents).padStart(10)}${collected}  TRN ${flow.trn}`
  );
}

export function describeSettlement(result: SettleDayResult): string {
  const lines = [`operating day ${result.date}, settlement date ${result.settlementDate}`];
  if (result.status === 'locked') return [...lines, 'another settlement is running: nothing done'].join('\n');
  if (result.status === 'unchanged' && result.alreadySettledLines === 0) {
    lines.push('no payment completed that day: no flow, no credit');
  } else if (result.status === 'unchanged') {
    lines.push(
      `already settled: no new flow, no credit owed (${result.alreadySettledLines} payment lines in earlier flows)`,
    );
  }
  if (result.flows.length) lines.push(`new flows: ${result.flows.length}`, ...result.flows.map(flowLine));
  if (result.credits.length) {
    lines.push(`credits: ${result.credits.length}`);
    for (const c of result.credits) {
      lines.push(`  ${c.enteFiscalCode}  ${euro(c.amountCents).padStart(10)}  TRN ${c.trn}  ${c.remittance}`);
    }
  }
  for (const w of result.withheldCredits) {
    lines.push(`credit withheld (fault): ${w.flowId} ${w.enteFiscalCode} ${euro(w.amountCents)}`);
  }
  if (result.files.length) lines.push('files:', ...result.files.map((f) => `  ${f}`));
  return lines.join('\n');
}

export function describeRevision(flow: RevisedFlow): string {
  return [
    `flow ${flow.flowId}: revision ${flow.revision} (was ${flow.previousRevision}), dataOraFlusso ${flow.flowDateTime}`,
    flowLine(flow),
  ].join('\n');
}

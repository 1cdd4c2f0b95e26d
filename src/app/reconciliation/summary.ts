// Plain-text lines for the operator's CLI (`ppay reconcile`, `ppay anomalies`): what a run did and
// what is open, one line per ente or anomaly, so a terminal or a cron mail reads it at a glance.

import type { StoredAnomaly } from '../../db/repositories/anomalies.ts';
import type { ReconcileResult } from './reconcile.ts';

const euro = (cents: number | null) => (cents === null ? '' : (cents / 100).toFixed(2));

export function describeReconciliation(result: ReconcileResult): string {
  if (result.status === 'locked')
    return `reconciliation as of ${result.asOf}: another run holds the lock, nothing done\n`;
  const lines = [`reconciliation as of ${result.asOf}: done`];
  if (result.fetch) {
    const f = result.fetch;
    lines.push(
      `  flows      listed ${f.listed}, fetched ${f.fetched}, stored ${f.stored} (${f.revisions} revisions), invalid ${f.invalid}, node failures ${f.failures.length}`,
    );
    for (const failure of f.failures) {
      lines.push(
        `    failed   ${failure.enteFiscalCode} ${failure.flowId ?? ''} ${failure.reason}`.trimEnd(),
      );
    }
  } else {
    lines.push('  flows      not fetched (no node)');
  }
  if (result.treasury) {
    const t = result.treasury;
    lines.push(
      `  statements imported ${t.imported}, already imported ${t.alreadyImported}, rejected ${t.rejected}`,
    );
    for (const file of t.files.filter((x) => x.status === 'rejected')) {
      lines.push(`    rejected ${file.enteFiscalCode}/${file.fileName}: ${file.error ?? ''}`);
    }
  }
  for (const e of result.enti) {
    lines.push(
      `  ${e.enteFiscalCode}  flows ${e.flows} (reconciled ${e.reconciledFlows}, anomaly ${e.anomalyFlows}, pending ${e.pendingFlows})` +
        `  lines ${e.linesMatched}/${e.linesMatched + e.linesUnmatched} matched` +
        `  options +${e.optionsReported} reported +${e.optionsReconciled} reconciled` +
        `  positions +${e.positionsReported} reported +${e.positionsReconciled} reconciled` +
        `  anomalies +${e.anomaliesOpened} opened, ${e.anomaliesReopened} reopened, ${e.anomaliesResolved} resolved, ${e.openAnomalies} open` +
        `  notifications ${e.notificationsQueued}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function describeAnomaly(a: StoredAnomaly): string {
  const about = [
    a.flowId && `flow ${a.flowId}`,
    a.iuv && `IUV ${a.iuv}`,
    a.positionId && `position ${a.positionId}`,
  ]
    .filter(Boolean)
    .join(', ');
  const amounts =
    a.amountCents !== null || a.expectedAmountCents !== null
      ? ` [${euro(a.amountCents)}${a.expectedAmountCents !== null ? ` expected ${euro(a.expectedAmountCents)}` : ''}]`
      : '';
  const status = a.status === 'OPEN' ? 'OPEN' : `RESOLVED ${a.resolution ?? ''}`.trim();
  return `#${a.id} ${a.enteFiscalCode} ${a.code} ${status} ${a.detectedAt.slice(0, 10)} ${about}${amounts} ${a.description ?? ''}${a.note ? ` (note: ${a.note})` : ''}`;
}

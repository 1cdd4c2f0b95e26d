// The benchmark table: one row per measured case, each with the baseline measured in the same run,
// their ratio (what stays comparable on a shared machine), the target and whether it was met.

export interface BenchRow {
  benchmark: string;
  case: string;
  measured: string;
  baseline: string;
  /** measured / baseline, higher is better (throughputs); null when there is no baseline. */
  ratio: number | null;
  target: string;
  /** null when the row has no target. */
  met: boolean | null;
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtMs(n: number): string {
  return n >= 100 ? `${Math.round(n)} ms` : `${n.toFixed(1)} ms`;
}

export function fmtMb(bytes: number | null): string {
  return bytes === null ? 'n/a' : `${(bytes / (1024 * 1024)).toFixed(0)} MB`;
}

export function fmtS(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function ratioOf(measured: number, baseline: number): number | null {
  return baseline > 0 && Number.isFinite(measured) ? measured / baseline : null;
}

const HEADER = ['benchmark', 'case', 'measured', 'baseline (same run)', 'ratio', 'target', 'met?'];

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

export function renderTable(rows: readonly BenchRow[]): string {
  const lines = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`];
  for (const r of rows) {
    // Two decimals, or two significant digits below 0.01 so a tiny ratio does not read as zero.
    const ratio = r.ratio === null ? '—' : r.ratio >= 0.01 ? r.ratio.toFixed(2) : r.ratio.toPrecision(2);
    const met = r.met === null ? '—' : r.met ? 'yes' : '**no**';
    lines.push(
      `| ${[r.benchmark, r.case, r.measured, r.baseline, ratio, r.target, met].map(cell).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** A row for a benchmark that could not run (e.g. PostgreSQL unreachable): the reason, no figures. */
export function failedRow(benchmark: string, name: string, reason: string, target = '—'): BenchRow {
  return {
    benchmark,
    case: name,
    measured: `not run: ${reason.split('\n')[0]?.slice(0, 2000)}`,
    baseline: '—',
    ratio: null,
    target,
    met: target === '—' ? null : false,
  };
}

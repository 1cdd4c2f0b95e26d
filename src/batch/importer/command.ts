// `ppay import [--ente <CF>] [--file <path>] [--format <name>] [--json]` (DESIGN §10): one pass
// over the drop folders (of one ente, or of every active one) that first finishes imports a killed
// or vanished instance left, then imports every complete file once; or, with --file, that one file
// copied through the ente's drop folder. A rejected file is an answer, not a failure: the command
// fails (exit 1) only when an ente's pass could not run to its end.

import type { Config } from '../../config.ts';
import type { Store } from '../../db/store.ts';
import { domainError } from '../../domain/errors.ts';
import { Importer, type FileOptions, type FileReport, type PassReport } from './importer.ts';
import { parseFormatName } from './readers.ts';

export interface ImportCommandOptions {
  ente?: string | undefined;
  file?: string | undefined;
  format?: string | undefined;
  service?: string | undefined;
  expectCount?: string | undefined;
  expectTotalCents?: string | undefined;
}

function count(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) {
    throw domainError('INVALID_INPUT', `${flag} must be a whole number`, { field: flag });
  }
  return Number(value);
}

/** What --format, --service and the control totals ask (only with --file). */
export async function fileOptionsOf(options: ImportCommandOptions): Promise<FileOptions> {
  return {
    format: options.format === undefined ? undefined : await parseFormatName(options.format),
    serviceCode: options.service,
    expectCount: count(options.expectCount, '--expect-count'),
    expectTotalCents: count(options.expectTotalCents, '--expect-total-cents'),
  };
}

export async function runImportCommand(
  store: Store,
  config: Config,
  options: ImportCommandOptions,
): Promise<PassReport> {
  const perFile = options.format ?? options.service ?? options.expectCount ?? options.expectTotalCents;
  if (options.file === undefined && perFile !== undefined) {
    throw domainError('INVALID_INPUT', '--format, --service and --expect-* apply to --file only', {
      field: 'file',
    });
  }
  if (options.file !== undefined && options.ente === undefined) {
    throw domainError('INVALID_INPUT', '--file needs --ente: the ente whose drop folder takes it', {
      field: 'ente',
    });
  }
  const importer = new Importer({
    store,
    dataDir: config.dataDir,
    completion: { settleMs: config.importSettleMs, requireSidecar: config.importRequireSidecar },
    batchRows: config.importBatchRows,
    leaseMs: config.importLeaseMs,
    trustedCertificatePem: config.importTrustedCertificatePem,
    actor: 'ppay-cli',
  });
  try {
    if (options.file !== undefined) {
      const fileOptions = await fileOptionsOf(options);
      const file = await importer.importFile(options.ente as string, options.file, fileOptions);
      return { files: [file], waiting: [], failures: [] };
    }
    return await importer.runPass({ enteFiscalCode: options.ente });
  } finally {
    await importer.close();
  }
}

function describeFile(file: FileReport): string {
  const head = `${file.enteFiscalCode} ${file.fileName}: ${file.outcome}`;
  if (file.outcome === 'IN_PROGRESS') return `${head} (import ${file.importId}, held by another instance)`;
  const counts = `${file.lines} lines: ${file.ok} OK, ${file.warn} WARN, ${file.ko} KO`;
  const error = file.errorCode ? ` ${file.errorCode} ${file.errorMessage ?? ''}` : '';
  const resumed = file.resumed ? ', resumed' : '';
  const outcome = file.outcomeFiles.length ? ` -> out/${file.outcomeFiles.join(', out/')}` : '';
  return `${head}${error} (import ${file.importId}, ${file.format ?? 'format unknown'}${resumed}) ${counts}${outcome}`;
}

/** The text `ppay import` prints: one line per file, then what waits and what failed. */
export function describeImportReport(report: PassReport): string {
  const lines = report.files.map(describeFile);
  for (const w of report.waiting) lines.push(`${w.enteFiscalCode} ${w.name}: waiting (${w.reason})`);
  for (const f of report.failures) lines.push(`${f.enteFiscalCode}: FAILED ${f.message}`);
  if (lines.length === 0) lines.push('no files to import');
  return `${lines.join('\n')}\n`;
}

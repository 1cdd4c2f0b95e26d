// `npm run bench [-- --quick | --tiny] [--only soap,import,reconcile,xsd,scale]`: runs the benchmarks
// (bench/README.md), prints one markdown table and writes it to bench/results/latest.md. Every figure
// comes with a baseline measured in the same run and their ratio, because absolute numbers on a
// shared machine drift. --quick stays under two minutes; --tiny is the smoke test's size.

import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { benchImport } from './import.ts';
import { benchReconcile } from './reconcile.ts';
import { benchScale } from './scale.ts';
import { benchSoap } from './soap.ts';
import { benchXsd } from './xsd.ts';
import { ROOT } from './lib/proc.ts';
import { generateCsv, importFile, openSite, type Site } from './lib/site.ts';
import { failedRow, renderTable, type BenchRow } from './lib/table.ts';

type Mode = 'full' | 'quick' | 'tiny';

interface Sizes {
  importRows: number;
  soapSeconds: number;
  soapConnections: number[];
  reconcileReceipts: number;
  xsdMs: number;
  scalePositions: number;
  scaleSeconds: number;
  scaleProcesses: number[];
  /** Seconds of load before each measured server, 0 for none. */
  warmupSeconds: number;
}

const SIZES: Record<Mode, Sizes> = {
  full: {
    importRows: 1_000_000,
    soapSeconds: 10,
    soapConnections: [10, 50],
    reconcileReceipts: 100_000,
    xsdMs: 3000,
    scalePositions: 20_000,
    scaleSeconds: 10,
    scaleProcesses: [1, 2, 4],
    warmupSeconds: 2,
  },
  quick: {
    importRows: 20_000,
    soapSeconds: 2,
    soapConnections: [10, 50],
    reconcileReceipts: 5_000,
    xsdMs: 1000,
    scalePositions: 5_000,
    scaleSeconds: 2,
    scaleProcesses: [1, 2, 4],
    warmupSeconds: 1,
  },
  tiny: {
    importRows: 500,
    soapSeconds: 1,
    soapConnections: [10, 50],
    reconcileReceipts: 200,
    xsdMs: 200,
    scalePositions: 300,
    scaleSeconds: 1,
    scaleProcesses: [1, 2],
    // One warm-up second: on a loaded machine a cold process may answer nothing within the first
    // second, which leaves a scale row without a ratio.
    warmupSeconds: 1,
  },
};

const BENCHMARKS = ['xsd', 'import', 'soap', 'reconcile', 'scale'] as const;
type Benchmark = (typeof BENCHMARKS)[number];

function parseArgs(argv: string[]): { mode: Mode; only: Set<Benchmark> } {
  const mode: Mode = argv.includes('--tiny') ? 'tiny' : argv.includes('--quick') ? 'quick' : 'full';
  const at = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  const list = at < 0 ? null : argv[at]?.includes('=') ? argv[at]?.split('=')[1] : argv[at + 1];
  const only = new Set<Benchmark>(
    list
      ? (list.split(',').filter((b) => (BENCHMARKS as readonly string[]).includes(b)) as Benchmark[])
      : BENCHMARKS,
  );
  return { mode, only };
}

const log = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** A site holding `rows` imported positions for the SOAP benchmark when the import benchmark gave none. */
async function soapSite(rows: number): Promise<Site> {
  const site = await openSite('sqlite');
  const csv = await generateCsv(site, rows, 0);
  await importFile(site, csv.file);
  return site;
}

async function main(): Promise<void> {
  const { mode, only } = parseArgs(process.argv.slice(2));
  const sizes = SIZES[mode];
  const started = Date.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const rows: BenchRow[] = [];
  log(`mode ${mode}: ${[...only].join(', ')}`);

  if (only.has('xsd')) rows.push(...benchXsd(sizes.xsdMs, log));

  let imported: Site | null = null;
  if (only.has('import'))
    rows.push(...(await benchImport(sizes.importRows, log, only.has('soap') ? (s) => (imported = s) : null)));
  if (only.has('soap')) {
    let site: Site | null = imported;
    try {
      site ??= await soapSite(sizes.importRows);
      const positions = Number(
        (
          (await site.db('positions').where({ ente_id: site.enteId }).count({ n: '*' }).first()) as {
            n: number;
          }
        ).n,
      );
      rows.push(
        ...(await benchSoap(
          site,
          positions,
          {
            seconds: sizes.soapSeconds,
            connections: sizes.soapConnections,
            warmupSeconds: sizes.warmupSeconds,
          },
          log,
        )),
      );
    } catch (err) {
      rows.push(
        failedRow(
          'SOAP',
          'paVerifyPaymentNotice / requestIUV',
          String(err instanceof Error ? err.message : err),
          'ratio ≥ 0.5, p99 ≤ 20 ms',
        ),
      );
    } finally {
      await site?.close();
    }
  }
  if (only.has('reconcile')) rows.push(...(await benchReconcile(sizes.reconcileReceipts, log)));
  if (only.has('scale'))
    rows.push(
      ...(await benchScale(
        sizes.scalePositions,
        sizes.scaleSeconds,
        sizes.scaleProcesses,
        sizes.warmupSeconds,
        log,
      )),
    );

  const seconds = Math.round((Date.now() - started) / 1000);
  const table = renderTable(rows);
  const report = [
    `# Benchmark results (${mode})`,
    '',
    `${new Date().toISOString()} · ${os.cpus().length} CPU (${os.cpus()[0]?.model.trim() ?? 'unknown'}) · Node ${process.version} · ` +
      `load average at start ${loadAtStart.toFixed(1)} · ${seconds} s · \`npm run bench${mode === 'full' ? '' : ` -- --${mode}`}\``,
    '',
    table,
    '',
  ].join('\n');
  // PPAY_BENCH_OUT: another file for the report (the smoke test leaves latest.md alone).
  const out = process.env.PPAY_BENCH_OUT ?? path.join(ROOT, 'bench/results/latest.md');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, report);
  process.stdout.write(`${table}\n`);
  log(`done in ${seconds} s; written to ${path.relative(ROOT, out)}`);
}

await main();

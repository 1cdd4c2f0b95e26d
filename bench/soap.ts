// Benchmark 1, SOAP throughput: paVerifyPaymentNotice and requestIUV under autocannon at 10 and 50
// connections against `ppay start` (its own process) on the site's SQLite database, which holds the
// imported positions; baseline: a bare node-soap server on the same WSDLs answering a fixed response
// (bench/lib/bareSoapServer.ts, also its own process). The load generator is this process.

import path from 'node:path';
import {
  load,
  requestIuvCall,
  sampleNotices,
  verifyCall,
  type LoadResult,
  type SoapCall,
} from './lib/load.ts';
import { ROOT, spawnTs } from './lib/proc.ts';
import { startConnector, type Site } from './lib/site.ts';
import { fmtInt, fmtMs, ratioOf, type BenchRow } from './lib/table.ts';

const MIN_VERIFY_RATIO = 0.5;
const MAX_P99_MS = 20;

function describe(r: LoadResult): string {
  const failed = r.failed > 0 ? `, **${fmtInt(r.failed)} failed**` : '';
  const cpu = r.cpuPerRequest === null ? '' : `, ${r.cpuPerRequest.toFixed(2)} ms CPU/req`;
  return `${fmtInt(r.rps)} req/s, p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}${cpu}${failed}`;
}

export interface SoapSizes {
  seconds: number;
  connections: readonly number[];
  warmupSeconds: number;
}

export async function benchSoap(
  site: Site,
  positions: number,
  sizes: SoapSizes,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const notices = await sampleNotices(site, 5000);
  const bare = spawnTs(path.join(ROOT, 'bench/lib/bareSoapServer.ts'), [], {});
  const connector = await startConnector(site);
  const rows: BenchRow[] = [];
  try {
    const [, bareUrl] = await bare.waitFor(/listening on (http:\/\/\S+)/);
    const calls: Array<{ name: string; call: SoapCall }> = [
      { name: 'paVerifyPaymentNotice', call: verifyCall(site, notices) },
      { name: 'requestIUV', call: requestIuvCall(site) },
    ];
    // Warm-up: JIT, the connection pool, the credential check cached after its first scrypt.
    for (const { call } of sizes.warmupSeconds > 0 ? calls : []) {
      await load(bareUrl as string, call, 10, sizes.warmupSeconds);
      await load(connector.url, call, 10, sizes.warmupSeconds);
    }
    for (const { name, call } of calls) {
      for (const connections of sizes.connections) {
        log(`soap: ${name} at ${connections} connections`);
        const base = await load(bareUrl as string, call, connections, sizes.seconds, [
          bare.child.pid as number,
        ]);
        const measured = await load(connector.url, call, connections, sizes.seconds, [connector.pid]);
        const ratio = ratioOf(measured.rps, base.rps);
        const checks: string[] = [];
        let met: boolean | null = measured.failed === 0 ? null : false;
        if (name === 'paVerifyPaymentNotice') {
          checks.push(`ratio ≥ ${MIN_VERIFY_RATIO}`);
          met = (met ?? true) && ratio !== null && ratio >= MIN_VERIFY_RATIO;
        }
        if (connections === 10) {
          checks.push(`p99 ≤ ${MAX_P99_MS} ms`);
          met = (met ?? true) && measured.p99 <= MAX_P99_MS;
        }
        rows.push({
          benchmark: 'SOAP',
          case: `${name}, ${connections} conn, SQLite, ${fmtInt(positions)} positions`,
          measured: describe(measured),
          baseline: `${describe(base)} (bare node-soap)`,
          ratio,
          target: checks.length ? checks.join(', ') : '—',
          met,
        });
      }
    }
  } finally {
    await connector.stop();
    await bare.stop();
  }
  return rows;
}

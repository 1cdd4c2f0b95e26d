// Benchmark 5, scale on PostgreSQL: 1, 2 and 4 `ppay start` processes on one database behind a
// round-robin proxy (bench/lib/roundRobin.ts), under requestIUV and paVerifyPaymentNotice load; total
// throughput (ratio: against one process, same run) and every IUV issued checked unique, both in the
// answers and in iuv_allocations. On a 2-core machine more processes cannot mean more throughput:
// what this shows is that several instances stay correct and what they cost.

import path from 'node:path';
import { load, requestIuvCall, sampleNotices, verifyCall, type LoadResult } from './lib/load.ts';
import { ROOT, spawnTs } from './lib/proc.ts';
import { generateCsv, importFile, openSite, startConnector, type Site } from './lib/site.ts';
import { failedRow, fmtInt, fmtMs, ratioOf, type BenchRow } from './lib/table.ts';

const CONNECTIONS = 20;

async function duplicatesInDb(site: Site): Promise<number> {
  const rows: unknown[] = await site
    .db('iuv_allocations')
    .where({ ente_id: site.enteId })
    .groupBy('iuv')
    .havingRaw('count(*) > 1')
    .select('iuv');
  return rows.length;
}

interface Round {
  processes: number;
  iuv: LoadResult;
  verify: LoadResult;
  issued: number;
  duplicates: number;
}

async function round(
  site: Site,
  processes: number,
  notices: string[],
  seconds: number,
  warmupSeconds: number,
): Promise<Round> {
  const connectors = await Promise.all(Array.from({ length: processes }, () => startConnector(site)));
  const proxy = spawnTs(
    path.join(ROOT, 'bench/lib/roundRobin.ts'),
    connectors.map((c) => c.url),
    {},
  );
  try {
    const [, url] = await proxy.waitFor(/listening on (http:\/\/\S+)/);
    const pids = connectors.map((c) => c.pid);
    const seen = new Set<string>();
    let answered = 0;
    const iuvCall = requestIuvCall(site, (body) => {
      const iuv = /<iuv>(\d+)<\/iuv>/.exec(body)?.[1];
      if (iuv) {
        seen.add(iuv);
        answered += 1;
      }
    });
    if (warmupSeconds > 0) {
      await load(url as string, iuvCall, CONNECTIONS, warmupSeconds, pids);
      await load(url as string, verifyCall(site, notices), CONNECTIONS, warmupSeconds, pids);
    }
    seen.clear();
    answered = 0;
    const iuv = await load(url as string, iuvCall, CONNECTIONS, seconds, pids);
    const verify = await load(url as string, verifyCall(site, notices), CONNECTIONS, seconds, pids);
    return {
      processes,
      iuv,
      verify,
      issued: answered,
      duplicates: answered - seen.size + (await duplicatesInDb(site)),
    };
  } finally {
    await proxy.stop();
    await Promise.all(connectors.map((c) => c.stop()));
  }
}

export async function benchScale(
  positions: number,
  seconds: number,
  counts: readonly number[],
  warmupSeconds: number,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  let site: Site | null = null;
  try {
    site = await openSite('postgres');
    log(`scale: importing ${positions} positions on PostgreSQL`);
    const csv = await generateCsv(site, positions, 0);
    await importFile(site, csv.file);
    const notices = await sampleNotices(site, 5000);
    const rounds: Round[] = [];
    for (const n of counts) {
      log(`scale: ${n} connector process(es)`);
      rounds.push(await round(site, n, notices, seconds, warmupSeconds));
    }
    const [one] = rounds as [Round];
    return rounds.flatMap((r) => [
      {
        benchmark: 'Scale',
        case: `requestIUV, ${r.processes} process${r.processes > 1 ? 'es' : ''}, PostgreSQL, ${CONNECTIONS} conn`,
        measured: `${fmtInt(r.iuv.rps)} req/s total, p99 ${fmtMs(r.iuv.p99)}, ${fmtInt(r.issued)} IUVs, ${r.duplicates} duplicate${r.iuv.failed ? `, **${r.iuv.failed} failed**` : ''}`,
        baseline: `${fmtInt(one.iuv.rps)} req/s with 1 process`,
        ratio: ratioOf(r.iuv.rps, one.iuv.rps),
        target: '0 duplicate IUVs, 0 failed',
        met: r.duplicates === 0 && r.iuv.failed === 0 && r.issued > 0,
      },
      {
        benchmark: 'Scale',
        case: `paVerifyPaymentNotice, ${r.processes} process${r.processes > 1 ? 'es' : ''}, PostgreSQL, ${CONNECTIONS} conn`,
        measured: `${fmtInt(r.verify.rps)} req/s total, p99 ${fmtMs(r.verify.p99)}${r.verify.failed ? `, **${r.verify.failed} failed**` : ''}`,
        baseline: `${fmtInt(one.verify.rps)} req/s with 1 process`,
        ratio: ratioOf(r.verify.rps, one.verify.rps),
        target: '0 failed',
        met: r.verify.failed === 0 && r.verify.ok > 0,
      },
    ]);
  } catch (err) {
    const reason = String(err instanceof Error ? err.message : err);
    return counts.map((n) =>
      failedRow(
        'Scale',
        `requestIUV + paVerifyPaymentNotice, ${n} process(es), PostgreSQL`,
        reason,
        '0 duplicate IUVs',
      ),
    );
  } finally {
    await site?.close();
  }
}

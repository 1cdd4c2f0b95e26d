import { mkdtemp, mkdir, writeFile, rename, readdir } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb } from './src/db/knex.ts';
import { migrateLatest } from './src/db/migrate.ts';
import { createStore } from './src/db/store.ts';
import { seedEnte } from './test/support/db.ts';
import { generatePpayCsv } from './src/batch/formats/generate.ts';
import { formatPpayFileName } from './src/batch/fileNames.ts';
import { sha256OfFile } from './src/batch/dropFolder/localFiles.ts';
import { Importer } from './src/batch/importer/importer.ts';

const rows = Number(process.argv[2] ?? 5000);
const url = process.argv[3] ?? '';
const root = await mkdtemp(path.join(os.tmpdir(), 'ppay-bench-'));
const db = createDb(url || `sqlite:${path.join(root, 'ppay.sqlite')}`);
await migrateLatest(db);
const store = createStore(db);
const seeded = await seedEnte(store);
const dataDir = path.join(root, 'data');
const inDir = path.join(dataDir, 'sftp', seeded.ente.fiscalCode, 'in');
await mkdir(inDir, { recursive: true });
const name = formatPpayFileName({ enteFiscalCode: seeded.ente.fiscalCode, flowId: 'BENCH', date: '2024-02-01', extension: 'csv' });
const part = path.join(inDir, name + '.part');
const out = createWriteStream(part);
const summary = await generatePpayCsv(out, { rows });
out.end(); await finished(out);
const sha = await sha256OfFile(part);
await writeFile(path.join(inDir, name + '.sha256'), `${sha}  ${name}\n`);
await rename(part, path.join(inDir, name));
let queries = 0; const byKind = new Map<string, number>();

let tb = Date.now();
const importer = new Importer({ store, dataDir, hooks: { afterBatch: (_id, n) => { console.log('batch', n, Date.now() - tb, 'ms'); tb = Date.now(); } } });
const timers = new Map<string, number>();
const origST = globalThis.setTimeout;
(globalThis as any).setTimeout = (fn: any, ms?: number, ...a: any[]) => { const k = String(new Error().stack?.split('\n')[2]).trim() + ' ' + ms; timers.set(k, (timers.get(k) ?? 0) + 1); return origST(fn, ms, ...a); };
const origSI = globalThis.setImmediate;
(globalThis as any).setImmediate = (fn: any, ...a: any[]) => { const k = 'imm ' + String(new Error().stack?.split('\n')[2]).trim(); timers.set(k, (timers.get(k) ?? 0) + 1); return origSI(fn, ...a); };
import Database from 'better-sqlite3';
const stat = { n: 0, ms: 0, slow: new Map<string, number>() };
for (const m of ['run', 'all', 'get'] as const) {
  const proto = (Database as any).prototype ? null : null;
}
const conn: any = await (db.client as any).acquireConnection(); await (db.client as any).releaseConnection(conn);
const StmtProto = Object.getPrototypeOf(conn.prepare('select 1'));
for (const m of ['run', 'all', 'get']) { const orig = StmtProto[m]; StmtProto[m] = function (...a: any[]) { const t = performance.now(); try { return orig.apply(this, a); } finally { const d = performance.now() - t; stat.n++; stat.ms += d; if (d > 5) { const k = String(this.source).slice(0, 50); stat.slow.set(k, (stat.slow.get(k) ?? 0) + d); } } }; }
const origExec = Object.getPrototypeOf(conn).exec; Object.getPrototypeOf(conn).exec = function (sql: string) { const t = performance.now(); try { return origExec.call(this, sql); } finally { const d = performance.now() - t; stat.ms += d; if (d > 5) stat.slow.set('exec ' + sql.slice(0, 40), (stat.slow.get('exec ' + sql.slice(0, 40)) ?? 0) + d); } };
const t0 = Date.now(); const c0 = process.cpuUsage();
const report = await importer.runPass();
const ms = Date.now() - t0; const cpu = process.cpuUsage(c0); console.log('cpu ms', Math.round((cpu.user + cpu.system) / 1000), 'user', Math.round(cpu.user/1000), 'sys', Math.round(cpu.system/1000));
console.log([...timers.entries()].sort((a,b)=>b[1]-a[1]).slice(0,10)); console.log('sqlite stmts', stat.n, 'ms', Math.round(stat.ms), [...stat.slow.entries()].sort((a,b)=>b[1]-a[1]).slice(0,10)); console.log('queries', queries, [...byKind.entries()].sort((a,b)=>b[1]-a[1]).slice(0,25));
console.log(JSON.stringify(report.files.map(f => ({...f})), null, 1));
console.log(`rows ${summary.rows} positions ${summary.positions} in ${ms} ms = ${Math.round(summary.rows / (ms / 1000))} rows/s; rss ${Math.round(process.resourceUsage().maxRSS/1024)} MB`);
console.log(await readdir(path.join(dataDir, 'sftp', seeded.ente.fiscalCode, 'out')), await readdir(path.join(dataDir, 'sftp', seeded.ente.fiscalCode, 'done')));
await importer.close();
await db.destroy();

// Child processes for the benchmarks: TypeScript entry points run by node with tsx's loader (so the
// pid we hold is the process doing the work, not a wrapper), a wait for the line that says a server
// is ready, and the kernel's peak resident set of a child read when it exits.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'src/cli.ts');

export interface Child {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far (for error messages). */
  output(): string;
  /** Resolves with the first stdout line matching `pattern` (its match), rejects if the child exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  stop(): Promise<void>;
}

/**
 * Starts `node [nodeArgs] --import tsx <script> <args>` in the project root with a clean environment
 * plus `env`. PPAY_BENCH_CPU_PROF=<dir> adds --cpu-prof to every child (profiles land in <dir>).
 */
export function spawnTs(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
): Child {
  const started = Date.now();
  const profile = process.env.PPAY_BENCH_CPU_PROF;
  const child = spawn(
    process.execPath,
    [
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profile)}`] : []),
      ...nodeArgs,
      '--import',
      'tsx',
      script,
      ...args,
    ],
    { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } },
  );
  let out = '';
  let err = '';
  const watchers: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...watchers]) {
      const m = out.match(w.pattern);
      if (m) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, ms: Date.now() - started })),
  );
  const output = () => `--- stdout\n${out}\n--- stderr\n${err}`;
  return {
    child,
    output,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      const now = out.match(pattern);
      if (now) return Promise.resolve(now);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern}\n${output()}`)),
          timeoutMs,
        );
        watchers.push({
          pattern,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(
            new Error(`${path.basename(script)} exited (${code ?? signal}) before ${pattern}\n${output()}`),
          );
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// Peak memory: a module preloaded into the child writes process.resourceUsage().maxRSS (ru_maxrss,
// the kernel's high-water mark of the resident set over the whole life of the process, native
// memory such as SQLite's page cache included) to a file when the process exits.
const RUSAGE_PRELOAD = `import { writeFileSync } from 'node:fs';
const target = process.env.PPAY_BENCH_RUSAGE_FILE;
if (target) process.on('exit', () => writeFileSync(target, String(process.resourceUsage().maxRSS)));
`;

export interface MeasuredRun {
  code: number | null;
  ms: number;
  maxRssBytes: number | null;
  stdout: string;
}

/** Runs `ppay <args>` to its end and reads its peak resident set. */
export async function runPpayMeasured(
  args: string[],
  env: NodeJS.ProcessEnv,
  workDir: string,
): Promise<MeasuredRun> {
  const preload = path.join(workDir, 'rusage-preload.mjs');
  const rusage = path.join(workDir, `rusage-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  await writeFile(preload, RUSAGE_PRELOAD);
  const run = spawnTs(CLI, args, { ...env, PPAY_BENCH_RUSAGE_FILE: rusage }, [
    '--import',
    pathToFileURL(preload).href,
  ]);
  const { code, ms } = await run.exited;
  const maxRssBytes = await readFile(rusage, 'utf8').then(
    (kib) => Number(kib) * 1024,
    () => null,
  );
  if (code !== 0) throw new Error(`ppay ${args.join(' ')} failed (exit ${code})\n${run.output()}`);
  return { code, ms, maxRssBytes, stdout: run.output() };
}

/** CPU time (user + system) a live process has used so far, in ms, from /proc/<pid>/stat; null elsewhere. */
export function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux the benchmarks run on. */
const CLOCK_TICKS = 100;

// The `ppay` CLI as operators run it, for end-to-end tests: one-shot commands and `ppay start`
// (which resolves once it prints the URL it listens on), as real child processes.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'src/cli.ts');
// node itself with tsx's loader, not the tsx launcher: the launcher runs the program in a child
// process, so a SIGKILL would kill the launcher and leave the server running.
const NODE_ARGS = ['--import', 'tsx', CLI];

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The minimal environment of a fresh shell plus a data folder; PORT=0 picks a free port. */
export function ppayEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, PPAY_DATA_DIR: dataDir, PORT: '0', ...extra };
}

export function ppay(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Started {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
}

/** Starts `ppay start` and resolves with the URL it prints once it listens. */
export function startPpay(env: NodeJS.ProcessEnv, timeoutMs = 20000): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, 'start'], { cwd: ROOT, env });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output: () => out });
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${out}`));
    });
  });
}

/** Sends a signal and resolves with the exit code once the process has exited. */
export function stopPpay(
  child: ChildProcessWithoutNullStreams,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('close');
    child.once('close', (code) => resolve(code));
    child.kill(signal);
  });
}

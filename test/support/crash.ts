// Crash-safety harness (issue 10 item 3): a connector (`ppay start`) as a real child process that a
// test kills with SIGKILL and a supervisor restarts on the same data folder and database, behind a
// stable HTTP front (the node's view of the EC station) that can kill it at a chosen request: before
// it reaches the connector, a few ms into its processing, or after the connector answered with the
// answer lost. The node's retries come from payUntilAccepted (the emulator's PSP, run in the test
// process, paying again or resuming its undelivered receipt until the connector accepts it).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Knex } from 'knex';
import { createDb } from '../../src/db/knex.ts';
import { migrateLatest } from '../../src/db/migrate.ts';
import { createStore, type Store } from '../../src/db/store.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { createPosition } from '../../src/app/positions.ts';
import { payNotice, type PayNoticeResult } from '../../src/emulator/index.ts';
import type { PrimitiveVersion } from '../../src/emulator/db.ts';
import { ppayEnv, startPpay, stopPpay } from './ppayProcess.ts';
import { DEFAULT_TEST_POSTGRES_URL } from './db.ts';

export { seededRandom } from './importProcess.ts';

/** Kills per scenario: 3 by default, 20 with PPAY_STRESS=1. */
export const KILLS = process.env.PPAY_STRESS === '1' ? 20 : 3;

/** The seed of a scenario's kill schedule: PPAY_CRASH_SEED replays one, else a fresh one per run. */
export function crashSeed(): number {
  const fixed = process.env.PPAY_CRASH_SEED;
  return fixed === undefined ? randomInt(2 ** 31) : Number(fixed);
}

export function log(text: string): void {
  process.stdout.write(`      · ${text}\n`);
}

/** Polls `check` every `everyMs` until it returns a value other than undefined / false. */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

// ---------------------------------------------------------------------------------------------
// The site: a data folder and a database (a SQLite file in it, or a fresh PostgreSQL schema)
// ---------------------------------------------------------------------------------------------

export interface CrashSite {
  readonly dialect: 'sqlite' | 'postgres';
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly db: Knex;
  readonly store: Store;
  readonly demo: DemoSummary;
  close(): Promise<void>;
}

/**
 * A migrated database with the demo data (seeded here, so the test knows its notices; `ppay start`
 * sees a non-empty database and seeds nothing). PostgreSQL when DATABASE_URL names one.
 */
export async function openCrashSite(): Promise<CrashSite> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ppay-crash-'));
  const envUrl = process.env.DATABASE_URL;
  const postgres = envUrl !== undefined && /^postgres(ql)?:\/\//.test(envUrl);
  let db: Knex;
  let databaseUrl: string;
  let schema: string | null = null;
  if (postgres) {
    const serverUrl = envUrl ?? DEFAULT_TEST_POSTGRES_URL;
    schema = `ppay_t_${randomBytes(6).toString('hex')}`;
    const admin = createDb(serverUrl);
    try {
      await admin.raw('create schema ??', [schema]);
    } finally {
      await admin.destroy();
    }
    db = createDb(serverUrl, { searchPath: schema });
    databaseUrl = `${serverUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  } else {
    databaseUrl = `sqlite:${path.join(dataDir, 'ppay.sqlite')}`;
    db = createDb(databaseUrl);
  }
  await migrateLatest(db);
  const store = createStore(db);
  const demo = await seedDemo(store);
  return {
    dialect: postgres ? 'postgres' : 'sqlite',
    dataDir,
    databaseUrl,
    db,
    store,
    demo,
    async close() {
      if (schema) await db.raw('drop schema if exists ?? cascade', [schema]);
      await db.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface NoticeToPay {
  enteFiscalCode: string;
  noticeNumber: string;
  amountCents: number;
}

/** `count` more one-payment TARI positions of the demo Comune (ids `<prefix>-001`...): their notices. */
export async function addSinglePositions(
  site: CrashSite,
  prefix: string,
  count: number,
): Promise<NoticeToPay[]> {
  const ente = site.demo.enti[0];
  if (!ente) throw new Error('no demo ente');
  const notices: NoticeToPay[] = [];
  for (let i = 1; i <= count; i++) {
    const amountCents = 1000 + i * 137;
    const stored = await createPosition(site.store, {
      enteFiscalCode: ente.fiscalCode,
      serviceCode: 'TARI',
      actor: 'crash-test',
      cause: 'crash test data',
      draft: {
        positionId: `${prefix}-${String(i).padStart(3, '0')}`,
        description: `TARI 2026 ${prefix} ${i}`,
        debtor: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Mario Rossi' },
        options: [
          {
            installment: 0,
            amountCents,
            dueDate: '2027-01-31',
            transfers: [{ amountCents, iban: ente.iban ?? '', category: '9/0101101IM/' }],
          },
        ],
      },
    });
    const option = stored.options[0];
    if (!option?.noticeNumber) throw new Error('a created position without a notice number');
    notices.push({ enteFiscalCode: ente.fiscalCode, noticeNumber: option.noticeNumber, amountCents });
  }
  return notices;
}

// ---------------------------------------------------------------------------------------------
// The connector under test, its supervisor and the node's stable front
// ---------------------------------------------------------------------------------------------

/** What the front does with one request to the connector. */
export type FrontAction =
  | { kind: 'forward' }
  /** Kill the connector before the request reaches it. */
  | { kind: 'killBefore' }
  /** Forward it, and kill the connector `delayMs` later (during its processing, or just after). */
  | { kind: 'killDuring'; delayMs: number }
  /** Forward it, wait for the whole answer, then kill the connector and drop the answer. */
  | { kind: 'loseAnswer' };

export interface FrontRequest {
  /** 1-based count of the requests the front received. */
  n: number;
  /** SOAPAction without quotes (the operation), or the path for a non-SOAP request. */
  operation: string;
}

export class SupervisedConnector {
  /** How many times it was killed (SIGKILL), and started. */
  kills = 0;
  starts = 0;
  /** Decides what the front does with each request; forwards everything unless told otherwise. */
  plan: (request: FrontRequest) => FrontAction = () => ({ kind: 'forward' });
  private child: ChildProcessWithoutNullStreams | null = null;
  private target: string | null = null;
  private front: http.Server | null = null;
  private frontPort = 0;
  private requests = 0;
  private crashing: Promise<void> | null = null;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly site: CrashSite,
    extraEnv: Record<string, string> = {},
  ) {
    this.env = ppayEnv(site.dataDir, { DATABASE_URL: site.databaseUrl, ...extraEnv });
  }

  /** The node's stable URL of the EC station (the front), valid across restarts. */
  get url(): string {
    return `http://127.0.0.1:${this.frontPort}`;
  }

  get running(): boolean {
    return this.target !== null;
  }

  async start(): Promise<void> {
    if (!this.front) await this.listen();
    const started = await startPpay(this.env, 60_000);
    this.child = started.child;
    this.starts += 1;
    this.target = started.url;
  }

  /**
   * SIGKILL now, then a restart on the same data (the supervisor), unless one is under way. The
   * signal is sent synchronously: the connector runs no more code once this returns.
   */
  crash(): Promise<void> {
    if (this.crashing) return this.crashing;
    const child = this.child;
    if (!child) return Promise.resolve();
    this.target = null;
    this.child = null;
    this.kills += 1;
    const exited = stopPpay(child, 'SIGKILL');
    this.crashing = exited
      .then(() => this.start())
      .finally(() => {
        this.crashing = null;
      });
    return this.crashing;
  }

  /** Resolves once the connector answers (after a crash, once restarted). */
  async up(): Promise<void> {
    while (this.crashing) await this.crashing;
    if (!this.target) throw new Error('the connector is not started');
  }

  /** A graceful stop (SIGTERM) and the front closed. */
  async stop(): Promise<void> {
    while (this.crashing) await this.crashing.catch(() => undefined);
    const child = this.child;
    this.child = null;
    this.target = null;
    if (child && child.exitCode === null) await stopPpay(child, 'SIGTERM');
    const front = this.front;
    this.front = null;
    if (front) {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    }
  }

  private async listen(): Promise<void> {
    const server = http.createServer((req, res) => void this.relay(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.front = server;
    this.frontPort = (server.address() as AddressInfo).port;
  }

  /** Relays one request; while the connector is down, the connection is dropped (as a refused one). */
  private async relay(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const soapAction = req.headers.soapaction;
    const operation =
      typeof soapAction === 'string'
        ? (soapAction.replace(/^"|"$/g, '').split('/').pop() ?? '')
        : (req.url ?? '');
    const action = this.plan({ n: ++this.requests, operation });
    const target = this.target;
    if (!target || action.kind === 'killBefore') {
      if (target) void this.crash();
      res.socket?.destroy();
      return;
    }
    const upstream = new URL(req.url ?? '/', target);
    const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
    const forwarded = http.request(upstream, { method: req.method, headers });
    if (action.kind === 'killDuring') setTimeout(() => void this.crash(), action.delayMs);
    forwarded.once('error', () => res.socket?.destroy());
    forwarded.once('response', async (answer) => {
      const parts: Buffer[] = [];
      try {
        for await (const part of answer) parts.push(part as Buffer);
      } catch {
        res.socket?.destroy();
        return;
      }
      if (action.kind === 'loseAnswer') {
        void this.crash();
        res.socket?.destroy();
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      res.end(Buffer.concat(parts));
    });
    forwarded.end(body);
  }
}

// ---------------------------------------------------------------------------------------------
// The node's retries
// ---------------------------------------------------------------------------------------------

/** The node's faults that mean "the EC did not answer properly": the PSP/node tries again. */
const RETRIED = new Set([
  'PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE',
  'PPT_STAZIONE_INT_PA_TIMEOUT',
  'PPT_STAZIONE_INT_PA_ERRORE_RESPONSE',
]);

export interface PaidNotice extends NoticeToPay {
  /** paGetPayment / paSendRT version used. */
  version: PrimitiveVersion;
  /** The payNotice runs it took (1 = no retry). */
  runs: number;
  paymentToken: string;
}

/**
 * A PSP pays the notice through the emulator against the connector's front, and the node retries
 * after each failure the connector caused (unreachable, no answer, broken answer) until the
 * receipt is accepted; an undelivered receipt is resumed, never paid again (psp.ts). Any other KO
 * fails the test with the steps.
 */
export async function payUntilAccepted(
  connector: SupervisedConnector,
  notice: NoticeToPay,
  version: PrimitiveVersion,
  maxRuns = 40,
): Promise<PaidNotice> {
  let last: PayNoticeResult | null = null;
  for (let runs = 1; runs <= maxRuns; runs++) {
    await connector.up();
    last = await payNotice({
      store: connector.site.store,
      connectorUrl: connector.url,
      enteFiscalCode: notice.enteFiscalCode,
      noticeNumber: notice.noticeNumber,
      version,
    });
    if (last.ok && last.paymentToken) return { ...notice, version, runs, paymentToken: last.paymentToken };
    const fault = last.steps.filter((s) => s.outcome === 'KO').at(-1)?.faultCode ?? '';
    if (!RETRIED.has(fault)) {
      throw new Error(
        `${notice.noticeNumber}: the payment failed with ${fault}: ${JSON.stringify(last.steps)}`,
      );
    }
  }
  throw new Error(`${notice.noticeNumber}: not paid after ${maxRuns} runs: ${JSON.stringify(last?.steps)}`);
}

/** Runs `task` over `items` with at most `width` at a time; rejects with the first failure. */
export async function inParallel<T, R>(
  items: readonly T[],
  width: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

// Composition root: opens the database, migrates it, seeds the demo data in development when the
// database is empty, and starts the HTTP server. startConnector resolves only once the server is
// listening, with its real URL (PORT=0 picks a free port) and a close() that releases everything.
// Once the address is known it connects the pagoPA node client (the embedded emulator unless
// PPAY_NODE_URL says otherwise) to the model 3 RPT sender and the receipt recovery job. The
// callback worker delivers the outbox to gestionali while the connector runs, and the job scheduler
// runs the nightly jobs and exports on their PPAY_JOB_SCHEDULE slots (src/batch/scheduler.ts).

import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Express } from 'express';
import type { Knex } from 'knex';
import type { Config } from './config.ts';
import { createDb, dialectOf } from './db/knex.ts';
import { migrateLatest } from './db/migrate.ts';
import { createStore, type Store } from './db/store.ts';
import { isDatabaseEmpty, seedDemo } from './app/seedDemo.ts';
import { mountSoapServices, type SoapServiceBinding } from './soap/server.ts';
import { pagopaBindings, type PagopaBindingOptions } from './soap/pagopa/bindings.ts';
import { gestionaleBinding } from './soap/gestionale/bindings.ts';
import { purgeMessageLog } from './soap/messageLog.ts';
import { mountEmulator } from './emulator/index.ts';
import { NodeClient } from './pagopa/nodeClient.ts';
import { RptDispatcher } from './app/pagopa/rptSender.ts';
import { runReceiptRecovery } from './app/pagopa/receiptRecovery.ts';
import { CallbackWorker } from './app/callbacks/worker.ts';
import { JobScheduler } from './batch/scheduler.ts';
import { jobCatalogueFor } from './batch/jobs.ts';
import { redirectSettingsFor, type RedirectSettings } from './app/gestionale/paymentSession.ts';
import { citizenRouter } from './portal/citizen/router.ts';
import { portalRouter } from './portal/server.ts';
import { ImportWorker } from './batch/importer/worker.ts';

/** The SOAP message log is trimmed to PPAY_MESSAGE_LOG_DAYS at start and then every six hours. */
const PURGE_INTERVAL_MS = 6 * 3600 * 1000;
/** Sweep for queued model 3 RPTs left by a crash or another instance (each paaAttivaRPT wakes the sender at once). */
const RPT_SWEEP_INTERVAL_MS = 30 * 1000;
/** Receipt recovery (nodoChiediCopiaRT) runs every five minutes; its own backoff decides who is asked. */
const RECEIPT_RECOVERY_INTERVAL_MS = 5 * 60 * 1000;

export interface Connector {
  readonly url: string;
  readonly config: Config;
  readonly db: Knex;
  readonly store: Store;
  /** True when this start loaded the demo data into an empty database. */
  readonly seeded: boolean;
  close(): Promise<void>;
}

/** The SOAP services the connector serves, with their handlers. */
export function defaultSoapBindings(
  store: Store,
  pagopa: PagopaBindingOptions = {},
  redirect?: RedirectSettings,
): SoapServiceBinding[] {
  return [...pagopaBindings(store, pagopa), gestionaleBinding(store, { redirect })];
}

export async function buildApp(
  db: Knex,
  store: Store,
  config: Pick<Config, 'maxBodyBytes'> &
    Partial<Pick<Config, 'emulator' | 'publicUrl' | 'secret' | 'sessionTtlMinutes' | 'dataDir'>>,
  soapBindings?: SoapServiceBinding[],
  /** Shared by the gestionale redirect operations and the citizen pages; pass the bindings' own. */
  redirect: RedirectSettings = redirectSettingsFor(config),
): Promise<Express> {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.get('/health', async (_req, res) => {
    try {
      await db.raw('select 1');
      res.json({ status: 'ok', db: { status: 'up', dialect: dialectOf(db) } });
    } catch {
      // The driver's message may name hosts or files: report only that the database is down.
      res.status(503).json({ status: 'error', db: { status: 'down', dialect: dialectOf(db) } });
    }
  });
  const bindings = soapBindings ?? defaultSoapBindings(store, {}, redirect);
  await mountSoapServices(app, { store, maxBodyBytes: config.maxBodyBytes, bindings });
  app.use('/pay', citizenRouter(store, redirect));
  app.use('/portal', (req, res, next) =>
    req.originalUrl === '/portal' ? res.redirect(301, '/portal/') : next(),
  );
  app.use(
    '/portal',
    portalRouter({
      store,
      redirect,
      dataDir: config.dataDir ?? path.resolve('data'),
      secureCookies: config.publicUrl?.startsWith('https:') ?? false,
    }),
  );
  if (config.emulator) {
    await mountEmulator(app, { store, maxBodyBytes: config.maxBodyBytes, publicUrl: config.publicUrl });
  }
  return app;
}

function listen(app: Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

function localUrlOf(server: Server, config: Config): string {
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function urlOf(server: Server, config: Config): string {
  return config.publicUrl ?? localUrlOf(server, config);
}

/**
 * The pagoPA node: PPAY_NODE_URL, else the emulator mounted on this very server, reached at the
 * address it listens on (known only now); none when neither is configured.
 */
function nodeClientFor(server: Server, config: Config, store: Store): NodeClient | null {
  const baseUrl = config.nodeUrl ?? (config.emulator ? `${localUrlOf(server, config)}/emulator` : null);
  return baseUrl ? new NodeClient({ baseUrl, timeoutMs: config.nodeTimeoutMs, store }) : null;
}

function reportJobError(job: string) {
  return (err: unknown) => void process.stderr.write(`${job}: ${String(err)}\n`);
}

export async function startConnector(config: Config): Promise<Connector> {
  const db = createDb(config.databaseUrl);
  try {
    await migrateLatest(db);
    const store = createStore(db);
    const seeded = config.env === 'development' && (await isDatabaseEmpty(store));
    if (seeded) await seedDemo(store);
    const rptSender = new RptDispatcher(store, reportJobError('RPT sender'));
    const redirect = redirectSettingsFor(config);
    const app = await buildApp(
      db,
      store,
      config,
      defaultSoapBindings(store, { rptSender }, redirect),
      redirect,
    );
    const server = await listen(app, config.host, config.port);
    const purge = () => void purgeMessageLog(store, config.messageLogDays).catch(() => undefined);
    purge();
    const timers = [setInterval(purge, PURGE_INTERVAL_MS).unref()];
    const callbacks = new CallbackWorker(store, {
      maxAttempts: config.outboxMaxAttempts,
      baseDelayMs: config.outboxBaseDelayMs,
      timeoutMs: config.callbackTimeoutMs,
      onError: reportJobError('callback worker'),
    });
    callbacks.start(config.outboxPollMs);
    const node = nodeClientFor(server, config, store);
    const nightly = new JobScheduler({
      store,
      jobs: jobCatalogueFor(config, () => node),
      schedule: config.jobSchedule,
      onError: (job, err) => reportJobError(`scheduled job ${job}`)(err),
    });
    nightly.start();
    // The drop-folder importer: a pass every PPAY_IMPORT_POLL_MS (0 leaves it to `ppay import`).
    const importer = new ImportWorker({
      store,
      dataDir: config.dataDir,
      completion: { settleMs: config.importSettleMs, requireSidecar: config.importRequireSidecar },
      batchRows: config.importBatchRows,
      leaseMs: config.importLeaseMs,
      trustedCertificatePem: config.importTrustedCertificatePem,
      onError: (message) => reportJobError('importer')(message),
    });
    if (config.importPollMs > 0) importer.start(config.importPollMs);
    redirect.access.attach(node, localUrlOf(server, config));
    if (node) {
      rptSender.attach(node);
      const recover = () => void runReceiptRecovery(store, node).catch(reportJobError('receipt recovery'));
      timers.push(
        setInterval(() => rptSender.wake(), RPT_SWEEP_INTERVAL_MS).unref(),
        setInterval(recover, RECEIPT_RECOVERY_INTERVAL_MS).unref(),
      );
    }
    const close = async () => {
      for (const timer of timers) clearInterval(timer);
      await rptSender.close();
      await nightly.stop();
      await importer.close();
      await callbacks.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.destroy();
    };
    return { url: urlOf(server, config), config, db, store, seeded, close };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

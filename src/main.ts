// Composition root: opens the database, migrates it, seeds the demo data in development when the
// database is empty, and starts the HTTP server. startConnector resolves only once the server is
// listening, with its real URL (PORT=0 picks a free port) and a close() that releases everything.

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
import { pagopaBindings } from './soap/pagopa/bindings.ts';
import { gestionaleBinding } from './soap/gestionale/bindings.ts';
import { purgeMessageLog } from './soap/messageLog.ts';
import { mountEmulator } from './emulator/index.ts';

/** The SOAP message log is trimmed to PPAY_MESSAGE_LOG_DAYS at start and then every six hours. */
const PURGE_INTERVAL_MS = 6 * 3600 * 1000;

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
export function defaultSoapBindings(store: Store): SoapServiceBinding[] {
  return [...pagopaBindings(store), gestionaleBinding(store)];
}

export async function buildApp(
  db: Knex,
  store: Store,
  config: Pick<Config, 'maxBodyBytes'> & Partial<Pick<Config, 'emulator' | 'publicUrl'>>,
  soapBindings: SoapServiceBinding[] = defaultSoapBindings(store),
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
  await mountSoapServices(app, { store, maxBodyBytes: config.maxBodyBytes, bindings: soapBindings });
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

function urlOf(server: Server, config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startConnector(config: Config): Promise<Connector> {
  const db = createDb(config.databaseUrl);
  try {
    await migrateLatest(db);
    const store = createStore(db);
    const seeded = config.env === 'development' && (await isDatabaseEmpty(store));
    if (seeded) await seedDemo(store);
    const server = await listen(await buildApp(db, store, config), config.host, config.port);
    const purge = () => void purgeMessageLog(store, config.messageLogDays).catch(() => undefined);
    purge();
    const purgeTimer = setInterval(purge, PURGE_INTERVAL_MS).unref();
    const close = async () => {
      clearInterval(purgeTimer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.destroy();
    };
    return { url: urlOf(server, config), config, db, store, seeded, close };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

// A real connector HTTP server on port 0 over a test database, for conformance tests: the same
// express app `npm start` serves, with optional replacement SOAP bindings.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Knex } from 'knex';
import { buildApp } from '../../src/main.ts';
import type { Store } from '../../src/db/store.ts';
import type { SoapServiceBinding } from '../../src/soap/server.ts';

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

export const TEST_MAX_BODY_BYTES = 5 * 1024 * 1024;

export async function startTestServer(
  db: Knex,
  store: Store,
  bindings?: SoapServiceBinding[],
): Promise<TestServer> {
  const app = await buildApp(db, store, { maxBodyBytes: TEST_MAX_BODY_BYTES }, bindings);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1');
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Row counts of every business table: a rejected request must leave them all unchanged. */
export async function businessSnapshot(db: Knex): Promise<Record<string, number>> {
  const tables = [
    'brokers',
    'stations',
    'enti',
    'services',
    'gestionale_clients',
    'positions',
    'payment_options',
    'transfers',
    'iuv_sequences',
    'iuv_allocations',
    'payments',
    'receipts',
    'outbox',
  ];
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [row] = await db(table).count<{ n: number | string }[]>({ n: '*' });
    counts[table] = Number(row?.n ?? 0);
  }
  const [events] = await db('events')
    .whereNot('entity_type', 'soap_message')
    .count<{ n: number | string }[]>({ n: '*' });
  counts.events = Number(events?.n ?? 0);
  return counts;
}

export async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; correlationId: string | null }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', ...headers },
    body,
  });
  return { status: res.status, text: await res.text(), correlationId: res.headers.get('x-correlation-id') };
}

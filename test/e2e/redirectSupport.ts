// Test support for the redirect models (Asincrona, Sincrona) and the outcome operations: the
// connector with the emulator mounted, on port 0, its gestionale binding and citizen pages sharing
// one RedirectSettings whose NodeAccess is filled after listen (as startConnector does); a browser
// stand-in that follows the emulator's checkout page like a form post; and a tiny "gestionale" web
// server that records the citizen's return.

import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { DbContext } from '../support/db.ts';
import { TEST_MAX_BODY_BYTES, type TestServer } from '../support/soapServer.ts';
import { buildApp } from '../../src/main.ts';
import { pagopaBindings } from '../../src/soap/pagopa/bindings.ts';
import { gestionaleBinding } from '../../src/soap/gestionale/bindings.ts';
import { NodeClient } from '../../src/pagopa/nodeClient.ts';
import { createEmulatorDb, type EmulatorDb } from '../../src/emulator/db.ts';
import { redirectSettingsFor, type RedirectSettings } from '../../src/app/gestionale/paymentSession.ts';

export const TEST_SECRET = 'redirect-test-secret-0123456789abcdef';

export interface RedirectServer extends TestServer {
  redirect: RedirectSettings;
  node: NodeClient;
  edb: EmulatorDb;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
    server.once('error', reject);
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startRedirectServer(ctx: DbContext): Promise<RedirectServer> {
  const redirect = redirectSettingsFor({ secret: TEST_SECRET, sessionTtlMinutes: 30 });
  const bindings = [...pagopaBindings(ctx.store), gestionaleBinding(ctx.store, { redirect })];
  const app = await buildApp(
    ctx.db,
    ctx.store,
    { maxBodyBytes: TEST_MAX_BODY_BYTES, emulator: true },
    bindings,
    redirect,
  );
  const server = http.createServer(app);
  const url = await listen(server);
  const node = new NodeClient({ baseUrl: `${url}/emulator`, timeoutMs: 10_000, store: ctx.store });
  redirect.access.attach(node, url);
  return { url, redirect, node, edb: createEmulatorDb(ctx.store.db), close: () => closeServer(server) };
}

/** The gestionale's own web server: answers 200 to anything and remembers every URL it was sent to. */
export interface ReturnServer {
  url: string;
  hits: URL[];
  close(): Promise<void>;
}

export async function startReturnServer(): Promise<ReturnServer> {
  const hits: URL[] = [];
  const server = http.createServer((req, res) => {
    hits.push(new URL(req.url ?? '/', 'http://gestionale.invalid'));
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
  });
  const url = await listen(server);
  return { url, hits, close: () => closeServer(server) };
}

export interface Hop {
  status: number;
  location: string | null;
  text: string;
}

/** One request without following redirects; the location made absolute. */
export async function hop(url: string, init: RequestInit = {}): Promise<Hop> {
  const res = await fetch(url, { ...init, redirect: 'manual' });
  const location = res.headers.get('location');
  return {
    status: res.status,
    location: location ? new URL(location, url).href : null,
    text: await res.text(),
  };
}

/** A form post as a browser sends it. */
export function postForm(url: string, fields: Record<string, string> = {}): Promise<Hop> {
  return hop(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

function decodeEntities(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The citizen on the emulator's checkout page: reads the Pay form and its PSP choice, submits it. */
export async function payOnCheckout(checkoutUrl: string): Promise<Hop> {
  const page = await hop(checkoutUrl);
  expect(page.status, page.text).to.equal(200);
  const form = /<form method="post" action="([^"]+)" id="pay">([\s\S]*?)<\/form>/.exec(page.text);
  expect(form, page.text).to.not.equal(null);
  const psp =
    /name="psp" value="([^"]+)"[^>]*checked/.exec(form![2]!) ?? /name="psp" value="([^"]+)"/.exec(form![2]!);
  expect(psp, form![2]).to.not.equal(null);
  const action = new URL(decodeEntities(form![1]!), checkoutUrl).href;
  return postForm(action, { psp: decodeEntities(psp![1]!) });
}

/** Today's date in Italy (payment dates are Italian local dates). */
export function italianToday(now = new Date()): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Rome' }).format(now);
}

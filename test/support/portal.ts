// Test support for the operator portal: the whole connector app (SOAP, citizen pages, portal,
// emulator with its node access attached, as startConnector does) on port 0 over the suite's
// database, two enti with an operator each plus an admin, and PortalClient: a cookie-keeping HTTP
// client that fills in the CSRF token of the last page it read, as a browser posting a form would.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DbContext } from './db.ts';
import { seedEnte, type SeededEnte } from './db.ts';
import { TEST_MAX_BODY_BYTES } from './soapServer.ts';
import { buildApp } from '../../src/main.ts';
import { pagopaBindings } from '../../src/soap/pagopa/bindings.ts';
import { gestionaleBinding } from '../../src/soap/gestionale/bindings.ts';
import { NodeClient } from '../../src/pagopa/nodeClient.ts';
import { redirectSettingsFor, type RedirectSettings } from '../../src/app/gestionale/paymentSession.ts';
import { createPortalUser } from '../../src/app/portal/auth.ts';
import type { PortalUser } from '../../src/db/repositories/portalUsers.ts';

export const PORTAL_TEST_SECRET = 'portal-test-secret-0123456789abcdef';
export const PORTAL_PASSWORD = 'portal-test-password';

export interface PortalServer {
  url: string;
  redirect: RedirectSettings;
  node: NodeClient;
  dataDir: string;
  close(): Promise<void>;
}

export async function startPortalServer(ctx: DbContext): Promise<PortalServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ppay-portal-'));
  const redirect = redirectSettingsFor({ secret: PORTAL_TEST_SECRET, sessionTtlMinutes: 30 });
  const bindings = [...pagopaBindings(ctx.store), gestionaleBinding(ctx.store, { redirect })];
  const app = await buildApp(
    ctx.db,
    ctx.store,
    { maxBodyBytes: TEST_MAX_BODY_BYTES, emulator: true, dataDir, secret: PORTAL_TEST_SECRET },
    bindings,
    redirect,
  );
  const server = http.createServer(app);
  const url = await new Promise<string>((resolve, reject) => {
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
    server.once('error', reject);
  });
  const node = new NodeClient({ baseUrl: `${url}/emulator`, timeoutMs: 10_000, store: ctx.store });
  redirect.access.attach(node, url);
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, redirect, node, dataDir, close };
}

export interface PortalWorld {
  a: SeededEnte;
  b: SeededEnte;
  admin: PortalUser;
  operatorA: PortalUser;
  operatorB: PortalUser;
}

let userCounter = 0;

/** Two fresh enti, an operator of each and an admin; usernames unique within the run. */
export async function seedPortalWorld(ctx: DbContext): Promise<PortalWorld> {
  const a = await seedEnte(ctx.store);
  const b = await seedEnte(ctx.store);
  const n = ++userCounter;
  const make = (username: string, role: 'admin' | 'operator', ente?: SeededEnte) =>
    createPortalUser(
      ctx.store,
      {
        username,
        fullName: username,
        password: PORTAL_PASSWORD,
        role,
        enteFiscalCode: ente?.ente.fiscalCode,
      },
      'mocha',
    );
  return {
    a,
    b,
    admin: await make(`admin${n}-${process.pid}`, 'admin'),
    operatorA: await make(`opa${n}-${process.pid}`, 'operator', a),
    operatorB: await make(`opb${n}-${process.pid}`, 'operator', b),
  };
}

export interface PortalResponse {
  status: number;
  location: string | null;
  headers: Headers;
  text: string;
  body: Buffer;
}

type FormValue = string | number | readonly string[];

/** A browser stand-in for the portal: keeps the session cookie and the last page's CSRF token. */
export class PortalClient {
  private readonly cookies = new Map<string, string>();
  /** The `_csrf` of the last HTML page read. */
  csrf = '';

  constructor(readonly baseUrl: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(pathname: string, init: RequestInit = {}): Promise<PortalResponse> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', this.cookieHeader());
    const res = await fetch(new URL(pathname, this.baseUrl), { ...init, headers, redirect: 'manual' });
    this.remember(res);
    const body = Buffer.from(await res.arrayBuffer());
    const text = (res.headers.get('content-type') ?? '').includes('text/') ? body.toString('utf8') : '';
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (token) this.csrf = token;
    const location = res.headers.get('location');
    return {
      status: res.status,
      location: location
        ? new URL(location, this.baseUrl).pathname + new URL(location, this.baseUrl).search
        : null,
      headers: res.headers,
      text,
      body,
    };
  }

  get(pathname: string): Promise<PortalResponse> {
    return this.request(pathname);
  }

  /** GET, following redirects within the portal (at most 5). */
  async follow(pathname: string): Promise<PortalResponse> {
    let res = await this.get(pathname);
    for (let i = 0; i < 5 && res.status >= 300 && res.status < 400 && res.location; i++) {
      res = await this.get(res.location);
    }
    return res;
  }

  /**
   * POSTs a urlencoded form; `_csrf` is the last page's token unless fields give one (pass
   * `{ _csrf: '' }`... or csrf: false to send none).
   */
  post(pathname: string, fields: Record<string, FormValue> = {}, options: { csrf?: boolean } = {}) {
    const form = new URLSearchParams();
    if (options.csrf !== false && !('_csrf' in fields)) form.append('_csrf', this.csrf);
    for (const [key, value] of Object.entries(fields)) {
      if (Array.isArray(value)) for (const v of value as string[]) form.append(key, v);
      else form.append(key, String(value));
    }
    return this.request(pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  }

  /** POSTs a multipart form with one file; the CSRF token goes in the query string. */
  postFile(
    pathname: string,
    file: { field: string; name: string; content: Buffer; type?: string },
    fields: Record<string, string> = {},
    options: { csrf?: boolean } = {},
  ) {
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    form.append(
      file.field,
      new Blob([file.content], { type: file.type ?? 'application/octet-stream' }),
      file.name,
    );
    const sep = pathname.includes('?') ? '&' : '?';
    const target =
      options.csrf === false ? pathname : `${pathname}${sep}_csrf=${encodeURIComponent(this.csrf)}`;
    return this.request(target, { method: 'POST', body: form });
  }

  /** Logs in through the form; throws unless the portal answers with the redirect of a success. */
  async login(username: string, password = PORTAL_PASSWORD): Promise<void> {
    await this.get('/portal/login');
    const res = await this.post('/portal/login', { username, password });
    if (res.status !== 303)
      throw new Error(`login of ${username} failed: ${res.status} ${res.text.slice(0, 300)}`);
    await this.get(res.location ?? '/portal/');
  }
}

export async function loggedIn(url: string, user: PortalUser): Promise<PortalClient> {
  const client = new PortalClient(url);
  await client.login(user.username);
  return client;
}

// The pagoPA node emulator (DESIGN §5), mounted beside the connector when config.emulator is true:
// the node's SOAP endpoints under /emulator/ws/ (NodoPerPa, nodeForPa), the checkout under
// /emulator/checkout/, and an index page at /emulator/. PSPs paying printed notices are in psp.ts.

import type { Express } from 'express';
import type { Store } from '../db/store.ts';
import { mountSoapServices } from '../soap/server.ts';
import { checkoutRouter } from './checkout.ts';
import { createEmulatorDb } from './db.ts';
import { storedFlows, type FlowSource } from './flows.ts';
import { nodeBindings } from './node/bindings.ts';
import { originOf, rememberRequestInfo } from './node/requestInfo.ts';
import { indexPage } from './pages.ts';

export { payNotice, type PayNoticeOptions, type PayNoticeResult, type PaymentStep } from './psp.ts';
export {
  reviseFlow,
  settleDay,
  type FlowFaults,
  type FlowSummary,
  type RevisedFlow,
  type SettleDayResult,
} from './settle.ts';

export interface EmulatorOptions {
  store: Store;
  maxBodyBytes: number;
  /** The URL the server is published at (PPAY_PUBLIC_URL); else each request's own origin. */
  publicUrl?: string | undefined;
  /** Base URL of the connector's EC endpoints; else the local address of the server itself. */
  connectorUrl?: string | undefined;
  /** Where the node's reporting flows come from; by default those settle.ts produced. */
  flows?: FlowSource;
}

export interface EmulatorEndpoint {
  name: string;
  url: string;
}

export function emulatorEndpoints(baseUrl: string): EmulatorEndpoint[] {
  const base = baseUrl.replace(/\/+$/, '');
  return [
    { name: 'checkout carts (POST JSON)', url: `${base}/emulator/checkout/carts` },
    { name: 'checkout page', url: `${base}/emulator/checkout/<cartId>` },
    { name: 'node NodoPerPa (legacy)', url: `${base}/emulator/ws/NodoPerPa` },
    { name: 'node nodeForPa (flows)', url: `${base}/emulator/ws/nodeForPa` },
  ];
}

export async function mountEmulator(app: Express, options: EmulatorOptions): Promise<void> {
  const edb = createEmulatorDb(options.store.db);
  await edb.psps.ensureSeeded();
  app.use('/emulator/ws', rememberRequestInfo(options.publicUrl));
  await mountSoapServices(app, {
    store: options.store,
    maxBodyBytes: options.maxBodyBytes,
    bindings: nodeBindings({ store: options.store, edb, flows: options.flows ?? storedFlows(options.store) }),
  });
  app.use(
    '/emulator',
    checkoutRouter({
      store: options.store,
      edb,
      publicUrl: options.publicUrl,
      connectorUrl: options.connectorUrl,
    }),
  );
  app.get('/emulator', async (req, res) => {
    const html = indexPage(emulatorEndpoints(originOf(req, options.publicUrl)), await edb.psps.listPaying());
    res.type('text/html; charset=utf-8').send(html);
  });
}

// Test support for reconciliation end to end (issue 6 acceptance): a real `ppay start` process on the
// suite's database and a temporary data folder (gestionale and pagoPA endpoints, the emulated node
// and checkout, the callback worker), a gestionale that talks to it by SOAP and receives callbacks
// on a node-soap endpoint built from our callback WSDL, the citizen paying online on the emulator's
// checkout with the PSP of the test's choice, PSPs paying printed notices, and `ppay` commands run
// as operators run them, against the same database and data folder.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { DbContext } from '../support/db.ts';
import { TestGestionale, type ReceivedCallback } from '../support/callbackGestionale.ts';
import { ppay, startPpay, stopPpay, type Run, type Started } from '../support/ppayProcess.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { addClient } from '../../src/app/admin.ts';
import { payNotice } from '../../src/emulator/index.ts';
import { createFlowStore } from '../../src/emulator/flowStore.ts';
import { readFlussoRiversamento } from '../../src/pagopa/flussoRiversamento.ts';
import type { FlowDocument } from '../../src/reconciliation/model.ts';
import { NodeClient } from '../../src/pagopa/nodeClient.ts';
import {
  expectOk,
  gestionaleClient,
  insertItem,
  list,
  positionArgs,
  uid,
  type GestionaleClient,
} from './gestionaleClient.ts';
import {
  hop,
  italianToday,
  postForm,
  startReturnServer,
  type Hop,
  type ReturnServer,
} from './redirectSupport.ts';

export const COMUNE = '01234567897';
export const UNIONE = '98765432103';
/** Service and account of each demo ente used here (seedDemo). */
export const SERVICE = { [COMUNE]: 'TARI', [UNIONE]: 'TRASPORTO' } as const;
const IBAN = { [COMUNE]: 'IT92F0306901000100000046001', [UNIONE]: 'IT40M0200801000000100200300' } as const;
export type DemoEnte = keyof typeof SERVICE;

export const BANCA = 'BCITITMM';
export const CREDITO = 'UNCRITMM';

/** Set explicitly, so the dates the tests judge by follow from them. */
export const RECEIPT_FLOW_DAYS = 3;
export const FLOW_CREDIT_DAYS = 2;

const CLIENT = { username: 'reconciliation-gestionale', password: 'reconciliation-gestionale-password' };
/** How long a test waits for something the connector does in the background. */
const WAIT_MS = 30_000;

/** How a notice was paid: at a PSP's counter (model 3) or online through the checkout (model 1). */
export type PaidBy = 'psp-counter' | 'payment-session' | 'start-payment';

export interface PaidNotice {
  ente: DemoEnte;
  positionId: string;
  noticeNumber: string;
  iuv: string;
  amountCents: number;
  psp: string;
  paidBy: PaidBy;
}

export interface UploadedNotice {
  ente: DemoEnte;
  positionId: string;
  noticeNumber: string;
  iuv: string;
  amountCents: number;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The suite's database as DATABASE_URL for another process (PostgreSQL: its schema as search_path). */
function databaseUrlOf(ctx: DbContext): string {
  const { url, searchPath } = ctx.connection;
  return searchPath ? `${url}?options=${encodeURIComponent(`-c search_path=${searchPath}`)}` : url;
}

export class ReconciliationWorld {
  /** The operating day of every payment: today in Italy. */
  readonly today = italianToday();
  readonly paid: PaidNotice[] = [];
  gestionale!: GestionaleClient;
  callbacks!: TestGestionale;
  private web!: ReturnServer;
  private connector: Started | null = null;
  private env: NodeJS.ProcessEnv = {};

  private constructor(
    readonly ctx: DbContext,
    readonly dataDir: string,
  ) {}

  /** Demo data and a gestionale client with a callback endpoint, then `ppay start` on that database. */
  static async start(ctx: DbContext): Promise<ReconciliationWorld> {
    const world = new ReconciliationWorld(ctx, mkdtempSync(path.join(tmpdir(), 'ppay-reconciliation-')));
    await seedDemo(ctx.store);
    world.callbacks = await TestGestionale.start();
    world.web = await startReturnServer();
    await addClient(ctx.store, {
      ...CLIENT,
      name: 'gestionale of the reconciliation scenarios',
      enti: [COMUNE, UNIONE],
      services: [],
      models: ['base', 'async', 'sync'],
      callbackUrl: world.callbacks.url,
      returnUrlPrefixes: [`${world.web.url}/pratiche`],
    });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrlOf(ctx),
      PPAY_DATA_DIR: world.dataDir,
      PORT: '0',
      PPAY_OUTBOX_POLL_MS: '200',
      PPAY_OUTBOX_BASE_DELAY_MS: '200',
      PPAY_RECEIPT_FLOW_DAYS: String(RECEIPT_FLOW_DAYS),
      PPAY_FLOW_CREDIT_DAYS: String(FLOW_CREDIT_DAYS),
    };
    world.connector = await startPpay(env, 60_000);
    // The CLI reaches the running connector's emulated node, as an operator's PPAY_NODE_URL would.
    world.env = { ...env, PPAY_NODE_URL: `${world.url}/emulator` };
    world.gestionale = await gestionaleClient({ url: world.url, close: () => Promise.resolve() }, CLIENT);
    return world;
  }

  get url(): string {
    if (!this.connector) throw new Error('the connector is not running');
    return this.connector.url;
  }

  /** A NodeClient on the running connector's emulated node, for in-process reconcile() runs. */
  node(): NodeClient {
    return new NodeClient({ baseUrl: `${this.url}/emulator`, timeoutMs: 20_000, store: this.ctx.store });
  }

  async close(): Promise<void> {
    if (this.connector) {
      const code = await stopPpay(this.connector.child);
      expect(code, this.connector.output()).to.equal(0);
      this.connector = null;
    }
    await this.web?.close();
    await this.callbacks?.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** `ppay <args>` as a real process on the connector's database and data folder; must succeed. */
  async cli(args: string[]): Promise<Run> {
    const run = await ppay(args, this.env);
    expect(run.code, `ppay ${args.join(' ')}\n${run.stderr}\n${run.stdout}`).to.equal(0);
    return run;
  }

  async cliJson<T>(args: string[]): Promise<T> {
    return JSON.parse((await this.cli(args)).stdout) as T;
  }

  /** `ppay anomalies --json`: one JSON object per line. */
  async cliAnomalies(args: string[] = []): Promise<Array<Record<string, unknown>>> {
    const { stdout } = await this.cli(['anomalies', '--json', ...args]);
    return stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  // ------------------------------------------------------------ positions and payments

  /** Uploads positions of one installment each by SOAP (one synchronous call), their notices in order. */
  async upload(ente: DemoEnte, amounts: readonly number[]): Promise<UploadedNotice[]> {
    const ids = amounts.map(() => uid('RCN'));
    const answer = await this.gestionale.call('uploadDebtPositions', {
      enteFiscalCode: ente,
      serviceCode: SERVICE[ente],
      messageId: uid('msg'),
      item: amounts.map((amountCents, i) => insertItem(this.position(ente, ids[i]!, amountCents))),
    });
    expectOk(answer);
    const items = list(answer.itemOutcome as Array<{ outcome: string; positionId: string; notice: unknown }>);
    expect(items, JSON.stringify(answer)).to.have.length(amounts.length);
    return items.map((item, i) => {
      expect(item.outcome, JSON.stringify(item)).to.equal('OK');
      const [notice] = list(item.notice as { noticeNumber: string; iuv: string } | undefined);
      expect(notice, JSON.stringify(item)).to.not.equal(undefined);
      return {
        ente,
        positionId: ids[i]!,
        noticeNumber: notice!.noticeNumber,
        iuv: notice!.iuv,
        amountCents: amounts[i]!,
      };
    });
  }

  private position(ente: DemoEnte, positionId: string, amountCents: number): Record<string, unknown> {
    return positionArgs(positionId, [
      { installment: 0, amountCents, transfers: [{ amountCents, iban: IBAN[ente] }] },
    ]);
  }

  private record(notice: UploadedNotice, psp: string, paidBy: PaidBy): PaidNotice {
    const paid = { ...notice, psp, paidBy };
    this.paid.push(paid);
    return paid;
  }

  /** Model 3: the debtor pays the printed notice at a PSP (verify, activate, receipt). */
  async payAtPsp(notice: UploadedNotice, psp: string): Promise<PaidNotice> {
    const result = await payNotice({
      store: this.ctx.store,
      connectorUrl: this.url,
      enteFiscalCode: notice.ente,
      noticeNumber: notice.noticeNumber,
      psp,
    });
    expect(result.ok, JSON.stringify(result.steps)).to.equal(true);
    return this.record(notice, psp, 'psp-counter');
  }

  /** Model 1, Asincrona: createPaymentSession → the connector's page → "Paga online" → checkout. */
  async payThroughSession(notice: UploadedNotice, psp: string): Promise<PaidNotice> {
    const session = await this.gestionale.call('createPaymentSession', {
      enteFiscalCode: notice.ente,
      positionId: notice.positionId,
      returnUrl: `${this.web.url}/pratiche/esito?pratica=${notice.positionId}`,
      cancelUrl: `${this.web.url}/pratiche/annullata`,
    });
    expectOk(session);
    const sessionUrl = session.sessionUrl as string;
    const landing = await hop(sessionUrl);
    expect(landing.status, landing.text).to.equal(200);
    const form = /<form method="post" action="([^"]+)"[^>]*>\s*<button[^>]*>Paga online<\/button>/.exec(
      landing.text,
    );
    expect(form, 'the "Paga online" form').to.not.equal(null);
    const pay = await postForm(new URL(form![1]!.replace(/&amp;/g, '&'), sessionUrl).href);
    expect(pay.status, pay.text).to.equal(303);
    const paid = await payOnCheckoutWith(pay.location!, psp);
    expect(paid.status, paid.text).to.equal(303);
    expect(paid.location).to.equal(`${sessionUrl}/done?outcome=OK`);
    return this.record(notice, psp, 'payment-session');
  }

  /** Model 1, Sincrona: startPayment with a cart of new positions → checkout; one PSP pays them all. */
  async payCart(ente: DemoEnte, amounts: readonly number[], psp: string): Promise<PaidNotice[]> {
    const ids = amounts.map(() => uid('RCS'));
    const started = await this.gestionale.call('startPayment', {
      enteFiscalCode: ente,
      serviceCode: SERVICE[ente],
      cartItem: amounts.map((amountCents, i) => ({ position: this.position(ente, ids[i]!, amountCents) })),
      returnUrl: `${this.web.url}/pratiche/carrello/esito`,
      cancelUrl: `${this.web.url}/pratiche/carrello/annullato`,
    });
    expectOk(started);
    const cartNotices = list(started.cartNotice as Array<{ positionId: string; noticeNumber: string }>);
    expect(cartNotices.map((n) => n.positionId)).to.deep.equal(ids);
    const paid = await payOnCheckoutWith(started.checkoutUrl as string, psp);
    expect(paid.status, paid.text).to.equal(303);
    expect(new URL(paid.location!).searchParams.get('outcome')).to.equal('OK');
    const enteRow = (await this.ctx.store.enti.getByFiscalCode(ente))!;
    const notices: PaidNotice[] = [];
    for (const [i, cartNotice] of cartNotices.entries()) {
      const stored = await this.ctx.store.positions.findByPositionId(enteRow.id, cartNotice.positionId);
      const option = stored!.options[0]!;
      notices.push(
        this.record(
          {
            ente,
            positionId: cartNotice.positionId,
            noticeNumber: cartNotice.noticeNumber,
            iuv: option.iuv,
            amountCents: amounts[i]!,
          },
          psp,
          'start-payment',
        ),
      );
    }
    return notices;
  }

  // ------------------------------------------------------------ what the emulator and the gestionale saw

  /** The newest revision of every flow the emulated PSPs produced for the day, read back from its XML. */
  async emulatorFlows(date = this.today): Promise<Map<string, { doc: FlowDocument; xml: string }>> {
    const flowStore = createFlowStore(this.ctx.db);
    const flows = new Map<string, { doc: FlowDocument; xml: string }>();
    for (const stored of await flowStore.flows.listByOperatingDate(date)) {
      const latest = (await flowStore.flows.latest(stored.flowId, stored.pspId))!;
      flows.set(latest.flowId, { doc: readFlussoRiversamento(latest.xml), xml: latest.xml });
    }
    return flows;
  }

  /** The notifyReconciliation requests received so far for a flow, in arrival order. */
  reconciliationCallbacks(flowId: string): ReceivedCallback[] {
    return this.callbacks.received.filter(
      (r) =>
        r.operation === 'notifyReconciliation' &&
        (r.args.flow as { flowId?: string } | undefined)?.flowId === flowId,
    );
  }

  /**
   * Waits until the connector has delivered every callback queued so far: the callbacks a step
   * caused are all in before the next step, and the connector process is quiet while the test's
   * own SQLite transactions run (settle.ts reads before it writes in plain Knex transactions, which
   * on SQLite fail with "database is locked" when another process commits in between).
   */
  async callbacksDelivered(): Promise<void> {
    await waitFor('delivery of every callback', async () => {
      const rows = await this.ctx.store.outbox.list();
      for (const row of rows)
        expect(row.status, `${row.topic} ${row.id}: ${row.lastError ?? ''}`).to.not.equal('DEAD');
      return rows.every((r) => r.status === 'DELIVERED') ? rows : null;
    });
  }
}

/** The citizen on the emulator's checkout page: picks the PSP offered there and pays. */
export async function payOnCheckoutWith(checkoutUrl: string, psp: string): Promise<Hop> {
  const page = await hop(checkoutUrl);
  expect(page.status, page.text).to.equal(200);
  const form = /<form method="post" action="([^"]+)" id="pay">([\s\S]*?)<\/form>/.exec(page.text);
  expect(form, page.text).to.not.equal(null);
  const offered = [...form![2]!.matchAll(/name="psp" value="([^"]+)"/g)].map((m) => m[1]);
  expect(offered, 'the PSPs the checkout offers').to.include(psp);
  const action = new URL(form![1]!.replace(/&amp;/g, '&'), checkoutUrl).href;
  return postForm(action, { psp });
}

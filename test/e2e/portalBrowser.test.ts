// The operator portal in a real browser (issue 8 item 8): `ppay start` as a child process, exactly
// what `npm start` runs (fresh data folder, so the demo data and demo users are seeded), driven by
// headless Chromium through playwright-core. Each step keeps a screenshot under
// artifacts/screenshots/.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchOrSkip, screenshot } from '../support/browser.ts';
import { ppayEnv, startPpay, stopPpay, type Started } from '../support/ppayProcess.ts';

const ENTE_A = '01234567897';
const ENTE_B = '98765432103';
const OPERATOR_A = { username: 'operatore.comune', password: 'operatore-demo-password' };
const OPERATOR_B = { username: 'operatore.unione', password: 'operatore-demo-password' };
const ADMIN = { username: 'admin', password: 'admin-demo-password' };

describe('portal in the browser (ppay start + Chromium)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let ppay: Started;
  let browser: Browser;

  before(async function () {
    browser = await launchOrSkip(this);
    dataDir = mkdtempSync(path.join(tmpdir(), 'ppay-browser-'));
    ppay = await startPpay(ppayEnv(dataDir), 60_000);
  });

  after(async () => {
    await browser?.close();
    if (ppay) await stopPpay(ppay.child);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function session(user: {
    username: string;
    password: string;
  }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({
      baseURL: ppay.url,
      locale: 'it-IT',
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    await page.goto('/portal/');
    await page.getByLabel('Nome utente').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Accedi' }).click();
    await page.waitForURL('**/portal/');
    return { context, page };
  }

  it('refuses a wrong password and logs in with the right one', async () => {
    const context = await browser.newContext({ baseURL: ppay.url });
    const page = await context.newPage();
    await page.goto('/portal/');
    expect(page.url()).to.include('/portal/login');
    await screenshot(page, '01-login');
    await page.getByLabel('Nome utente').fill(OPERATOR_A.username);
    await page.getByLabel('Password').fill('wrong-password-here');
    await page.getByRole('button', { name: 'Accedi' }).click();
    await expect(await page.getByRole('alert').textContent()).to.include('Nome utente o password errati');
    await page.getByLabel('Password').fill(OPERATOR_A.password);
    await page.getByRole('button', { name: 'Accedi' }).click();
    await page.waitForURL('**/portal/');
    expect(await page.getByTestId('current-user').textContent()).to.include(OPERATOR_A.username);
    await screenshot(page, '02-dashboard');
    await context.close();
  });

  it('shows an operator only its own ente', async () => {
    const { context, page } = await session(OPERATOR_A);
    const enti = await page.getByTestId('enti').textContent();
    expect(enti).to.include(ENTE_A).and.not.include(ENTE_B);
    await context.close();
  });

  it('keeps the administration from operators and opens it to the admin', async () => {
    const operator = await session(OPERATOR_B);
    const refused = await operator.page.goto('/portal/admin');
    expect(refused?.status()).to.equal(403);
    await operator.context.close();
    const admin = await session(ADMIN);
    const res = await admin.page.goto('/portal/admin');
    expect(res?.status()).to.equal(200);
    await screenshot(admin.page, '10-admin');
    await admin.context.close();
  });
});

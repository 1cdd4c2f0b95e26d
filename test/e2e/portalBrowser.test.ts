// The operator portal in a real browser (issue 8 item 8): `ppay start` as a child process, exactly
// what `npm start` runs (fresh data folder, so the demo data and demo users are seeded), driven by
// headless Chromium through playwright-core. The scenarios follow an operator's day: log in, enter
// a position by form, upload the Excel template with good and bad rows, publish a spontaneous
// payment that a citizen pays through the emulator's checkout, find that payment, download a
// report and a notice PDF whose QR code is decoded. Each step keeps a screenshot under
// artifacts/screenshots/ (the README's pictures come from there).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import ExcelJS from 'exceljs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchOrSkip, screenshot } from '../support/browser.ts';
import { decodePdfQr } from '../support/pdfQr.ts';
import { ppayEnv, startPpay, stopPpay, type Started } from '../support/ppayProcess.ts';
import { PPAY_CSV_COLUMNS } from '../../src/batch/formats/ppayCsv.ts';
import { XLSX_DATA_SHEET } from '../../src/batch/formats/xlsx.ts';

const ENTE_A = '01234567897';
const ENTE_B = '98765432103';
const OPERATOR_A = { username: 'operatore.comune', password: 'operatore-demo-password' };
const OPERATOR_B = { username: 'operatore.unione', password: 'operatore-demo-password' };
const ADMIN = { username: 'admin', password: 'admin-demo-password' };
const DEBTOR = 'RSSMRA80A01H501U';
const XSS = '<script>window.__xss = 1</script>';

interface Session {
  context: BrowserContext;
  page: Page;
}

describe('portal in the browser (ppay start + Chromium)', function () {
  this.timeout(90_000);
  let dataDir: string;
  let ppay: Started;
  let browser: Browser;
  /** Filled by the form scenario, used by the later ones. */
  let created: { detailPath: string; noticeNumber: string } | null = null;
  let paidNotice: string | null = null;

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

  async function newSession(): Promise<Session> {
    const context = await browser.newContext({
      baseURL: ppay.url,
      locale: 'it-IT',
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    const page = await context.newPage();
    // Destructive actions ask for confirmation (PORTAL_JS): say yes.
    page.on('dialog', (dialog) => void dialog.accept());
    return { context, page };
  }

  async function login(user: { username: string; password: string }): Promise<Session> {
    const session = await newSession();
    const { page } = session;
    await page.goto('/portal/');
    await page.getByLabel('Nome utente').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Accedi' }).click();
    await page.waitForURL('**/portal/');
    return session;
  }

  it('refuses a wrong password and logs in with the right one', async () => {
    const { context, page } = await newSession();
    await page.goto('/portal/');
    expect(page.url()).to.include('/portal/login');
    await screenshot(page, '01-login');
    await page.getByLabel('Nome utente').fill(OPERATOR_A.username);
    await page.getByLabel('Password').fill('wrong-password-here');
    await page.getByRole('button', { name: 'Accedi' }).click();
    expect(await page.getByRole('alert').textContent()).to.include('Nome utente o password errati');
    await page.getByLabel('Password').fill(OPERATOR_A.password);
    await page.getByRole('button', { name: 'Accedi' }).click();
    await page.waitForURL('**/portal/');
    expect(await page.getByTestId('current-user').textContent()).to.include(OPERATOR_A.username);
    expect(await page.getByTestId('enti').textContent())
      .to.include(ENTE_A)
      .and.not.include(ENTE_B);
    await screenshot(page, '02-dashboard');
    await context.close();
  });

  it('creates a position by form; HTML typed in a field is shown as text', async () => {
    const { context, page } = await login(OPERATOR_A);
    await page.goto('/portal/posizioni/nuova');
    await page.locator('#service').selectOption('TARI');
    await page.locator('#description').fill(`Tassa rifiuti 2027 ${XSS}`);
    await page.locator('#debtorFiscalCode').fill(DEBTOR);
    await page.locator('#debtorFullName').fill('Mario Rossi');
    await page.locator('#debtorEmail').fill('mario.rossi@example.org');
    await page.locator('#opt0_amount').fill('123,45');
    await page.locator('#opt0_dueDate').fill('2027-03-31');
    await screenshot(page, '03-position-form');
    await page.getByTestId('position-submit').click();
    await page.waitForURL(/\/portal\/posizioni\/\d+$/);
    const notice = (await page.getByTestId('notice-number').first().textContent())?.trim() ?? '';
    expect(notice).to.match(/^3\d{17}$/);
    expect(await page.getByTestId('position-status').getAttribute('data-status')).to.equal('VALID');
    expect(await page.getByTestId('position-description').textContent()).to.include(XSS);
    expect(await page.evaluate('typeof window.__xss')).to.equal('undefined');
    expect(await page.getByTestId('timeline-entry').count()).to.be.at.least(1);
    created = { detailPath: new URL(page.url()).pathname, noticeNumber: notice };
    await screenshot(page, '04-position-detail');
    await context.close();
  });

  it('refuses a form whose CSRF token was removed', async () => {
    const { context, page } = await login(OPERATOR_A);
    await page.goto('/portal/posizioni/nuova');
    await page.locator('#description').fill('senza token');
    await page.evaluate('document.querySelectorAll(\'input[name="_csrf"]\').forEach((e) => e.remove())');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByTestId('position-submit').click(),
    ]);
    expect(response.status()).to.equal(403);
    expect(await page.locator('main').textContent()).to.include('token di sicurezza');
    await context.close();
  });

  it("keeps ente A's position from ente B's operator, in the list and by direct URL", async () => {
    expect(created, 'the form scenario ran first').to.not.equal(null);
    const { context, page } = await login(OPERATOR_B);
    const res = await page.goto(created!.detailPath);
    expect(res?.status()).to.equal(404);
    for (const target of [`${created!.detailPath}/avviso.pdf`, `${created!.detailPath}/modifica`]) {
      expect((await context.request.get(target)).status(), target).to.equal(404);
    }
    await page.goto(`/portal/posizioni?avviso=${created!.noticeNumber}&ente=${ENTE_A}`);
    expect(await page.locator('main').textContent()).not.to.include(created!.noticeNumber);
    expect(await page.getByTestId('position-row').count()).to.equal(0);
    await context.close();
  });

  it('downloads the notice PDF of the position, whose QR code decodes to the pagoPA string', async () => {
    expect(created).to.not.equal(null);
    const { context, page } = await login(OPERATOR_A);
    await page.goto(created!.detailPath);
    const href = await page.getByTestId('notice-pdf-link').first().getAttribute('href');
    expect(href).to.be.a('string');
    const res = await context.request.get(href as string);
    expect(res.status()).to.equal(200);
    expect(res.headers()['content-type']).to.include('application/pdf');
    const qr = await decodePdfQr(Buffer.from(await res.body()));
    expect(qr).to.equal(`PAGOPA|002|${created!.noticeNumber}|${ENTE_A}|12345`);
    await context.close();
  });

  it('uploads the Excel template with good and bad rows and reads the outcome', async () => {
    const { context, page } = await login(OPERATOR_A);
    await page.goto('/portal/caricamenti');
    await screenshot(page, '05-upload');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('template-link').click(),
    ]);
    const template = readFileSync((await download.path()) as string);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.read(Readable.from([template]));
    const sheet = workbook.getWorksheet(XLSX_DATA_SHEET) as ExcelJS.Worksheet;
    const row = (positionId: string, changes: Record<string, string | number> = {}) => {
      const cells: Record<string, string | number> = {
        action: 'I',
        position_id: positionId,
        service_code: 'TARI',
        description: `TARI ${positionId}`,
        debtor_type: 'F',
        debtor_fiscal_code: DEBTOR,
        debtor_name: 'Rossi',
        debtor_first_name: 'Mario',
        installment_no: 0,
        due_date: '2031-04-30',
        amount_cents: 2500,
        ...changes,
      };
      sheet.addRow(PPAY_CSV_COLUMNS.map((c) => cells[c] ?? null));
    };
    const stamp = Date.now().toString(36).toUpperCase();
    row(`XL-${stamp}-1`);
    row(`XL-${stamp}-2`, { debtor_fiscal_code: 'NOTAFISCALCODE00' });
    row(`XL-${stamp}-3`, { amount_cents: 0 });
    row(`XL-${stamp}-4`, { amount_cents: 990 });
    const file = path.join(dataDir, `posizioni-${stamp}.xlsx`);
    await workbook.xlsx.writeFile(file);
    await page.locator('input[type=file]').setInputFiles(file);
    await page.getByTestId('upload-form').locator('button[type=submit]').click();
    await page.waitForURL(/\/portal\/caricamenti\/[^/]+$/);
    const rows = page.getByTestId('upload-row');
    expect(await rows.count()).to.equal(4);
    const outcomes = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-outcome')));
    expect(outcomes).to.deep.equal(['OK', 'KO', 'KO', 'OK']);
    const messages = await page.getByTestId('upload-row-message').allTextContents();
    expect(messages.join('\n')).to.match(/codice fiscale/i);
    expect(await page.getByTestId('upload-count-ok').textContent()).to.include('2');
    await screenshot(page, '06-upload-outcome');
    const [outcome] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('outcome-link').first().click(),
    ]);
    const book = new ExcelJS.Workbook();
    await book.xlsx.read(Readable.from([readFileSync((await outcome.path()) as string)]));
    const values = JSON.stringify(book.worksheets.map((ws) => ws.getSheetValues()));
    expect(values).to.include(`XL-${stamp}-2`).and.include('KO');
    await context.close();
  });

  it('publishes a spontaneous payment that a citizen pays through the emulator checkout', async () => {
    const operator = await login(OPERATOR_A);
    await operator.page.goto('/portal/spontanei');
    await screenshot(operator.page, '07-spontaneous-services');
    const row = operator.page.getByTestId('spontaneous-service-MULTE');
    await row.getByRole('link').first().click();
    const form = operator.page.getByTestId('spontaneous-config-form');
    // Bootstrap Italia draws checkboxes and radios on their labels.
    if (!(await form.locator('#enabled').isChecked())) await form.locator('label[for=enabled]').click();
    expect(await form.locator('#enabled').isChecked()).to.equal(true);
    await form.locator('#title').fill('Pagamento sanzione');
    await form.locator('label[for=amountMode-fixed]').click();
    await form.locator('#fixedAmount').fill('42,00');
    await operator.page.getByTestId('spontaneous-save').click();
    await operator.page.waitForLoadState();
    expect(await operator.page.locator('main').textContent()).to.not.include('non validi');
    await operator.context.close();

    const citizen = await newSession();
    const { page } = citizen;
    // The demo's own form (school canteen) and the one just published are both listed.
    await page.goto('/pay/spontaneo');
    expect(await page.getByTestId('spontaneous-list').textContent())
      .to.include('Ricarica mensa scolastica')
      .and.include('Pagamento sanzione');
    await page.goto(`/pay/spontaneo/${ENTE_A}/MULTE`);
    await page.locator('#fiscalCode').fill(DEBTOR);
    await page.locator('#fullName').fill('Mario Rossi');
    await screenshot(page, '08-spontaneous-form');
    await page.getByTestId('pay-online').click();
    await page.waitForURL('**/emulator/**');
    await screenshot(page, '09-emulator-checkout');
    await page.locator('#pay button[type=submit]').click();
    await page.waitForURL('**/pay/spontaneo/esito/**');
    const outcome = page.getByTestId('spontaneous-outcome');
    expect(await outcome.getAttribute('data-outcome')).to.equal('paid');
    paidNotice = /\b(3\d{17})\b/.exec((await outcome.textContent()) ?? '')?.[1] ?? null;
    expect(paidNotice).to.match(/^3\d{17}$/);
    await screenshot(page, '10-spontaneous-paid');
    await citizen.context.close();
  });

  it('finds the payment in monitoring and downloads a report that lists it', async () => {
    expect(paidNotice, 'the spontaneous scenario ran first').to.not.equal(null);
    const { context, page } = await login(OPERATOR_A);
    await page.goto('/portal/pagamenti');
    await page.getByTestId('search-form').locator('[name=avviso]').fill(paidNotice!);
    await page.getByTestId('search-form').locator('button[type=submit]').click();
    await page.waitForLoadState();
    expect(await page.getByTestId('payment-row').count()).to.equal(1);
    expect(await page.getByTestId('payments-table').textContent()).to.include('42,00');
    await screenshot(page, '11-payments');
    await page.goto('/portal/report');
    expect(Number(await page.getByTestId('chart-per-day').getAttribute('data-total-cents'))).to.be.at.least(
      4200,
    );
    await screenshot(page, '12-report');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('[data-report="pagamenti-csv"]').click(),
    ]);
    const csv = readFileSync((await download.path()) as string, 'utf8');
    expect(csv).to.include(paidNotice!);
    expect(csv.split('\n')[0]).to.include(';');
    await page.goto('/portal/');
    await screenshot(page, '13-dashboard-after');
    await context.close();
  });

  it('keeps the administration from operators and opens it to the admin', async () => {
    const operator = await login(OPERATOR_B);
    const refused = await operator.page.goto('/portal/admin');
    expect(refused?.status()).to.equal(403);
    await operator.context.close();
    const admin = await login(ADMIN);
    const res = await admin.page.goto('/portal/admin/enti');
    expect(res?.status()).to.equal(200);
    expect(await admin.page.getByTestId('enti-table').textContent())
      .to.include(ENTE_A)
      .and.include(ENTE_B);
    await screenshot(admin.page, '14-admin-enti');
    await admin.context.close();
  });
});

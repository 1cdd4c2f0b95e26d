// Real headless Chromium for the portal's browser tests: Debian's /usr/bin/chromium driven by
// playwright-core (no downloaded browser), started with the flags this closed network needs.
// Screenshots of the main pages go to artifacts/screenshots/ (kept by CI as test artifacts; the
// README's pictures are copied from there). Where Chromium is missing the suite is skipped with a
// loud banner, never passed: `.ci/run` installs it.

import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './ppayProcess.ts';

export const CHROMIUM = process.env.PPAY_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'artifacts', 'screenshots');

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Launches Chromium, or skips the calling suite (with a banner) when it is not installed. */
export async function launchOrSkip(context: Mocha.Context): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    console.warn(
      `\n  !!! SKIPPED "${context.test?.parent?.fullTitle() ?? 'suite'}": Chromium is needed at ${CHROMIUM} ` +
        `(apt-get install chromium; .ci/run does it).\n`,
    );
    context.skip();
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** A full-page PNG of the current page under artifacts/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

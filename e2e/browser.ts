import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); never a browser downloaded by a tool. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new Error('Chromium not found: run e2e/setup-app.sh (apt-get install chromium) or set CHROMIUM_PATH');
  return found;
}

/** Headless Chromium with the flags of DESIGN.md; playwright gives each launch a fresh temporary profile. */
export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const SCREENSHOTS = path.resolve(__dirname, 'screenshots');

let counter = 0;
/** Saves e2e/screenshots/NN-name.png (numbered in the order the steps ran). */
export async function shot(page: Page, name: string, target?: { screenshot: Page['screenshot'] }): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  counter += 1;
  const file = path.join(SCREENSHOTS, `${String(counter).padStart(2, '0')}-${name}.png`);
  await (target ?? page).screenshot({ path: file, animations: 'disabled' });
  return file;
}

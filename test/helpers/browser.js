// Headless Chromium (Debian's `chromium`, or CHROMIUM_PATH) driven by playwright-core with a fresh
// profile and no network. Without it, browser tests are skipped with the reason printed; REQUIRE_BROWSER=1
// turns that skip into a failure.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const browserReason = existsSync(chromiumPath) ? null : `no Chromium at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
const required = process.env.REQUIRE_BROWSER === '1';

export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Registers `fn(context)` on the uvu suite/test `t` as a browser test with a fresh profile per test. */
export function browserTest(t, name, fn) {
  if (browserReason) {
    if (required) return t(name, () => { throw new Error(`REQUIRE_BROWSER=1 but ${browserReason}`); });
    console.log(`skipping browser test "${name}": ${browserReason}`);
    return t.skip(name, fn);
  }
  return t(name, async () => {
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'fml-chromium-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true, args: FLAGS, offline: true });
    try {
      await fn(context);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
}

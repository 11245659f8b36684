#!/usr/bin/env node
// Screenshot of a report.html in headless Chromium (the browser test's set-up: playwright-core, Debian's
// chromium, a fresh profile, no network), for the README:
//   node scripts/screenshot-report.mjs [models/demo/report.html] [docs/report.png]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumPath, FLAGS } from '../test/helpers/browser.js';

const [input = 'models/demo/report.html', output = 'docs/report.png'] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'fml-chromium-'));
const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, headless: true, args: FLAGS, offline: true, viewport: { width: 1100, height: 1250 }, deviceScaleFactor: 1 });
try {
  const page = await context.newPage();
  await page.goto(pathToFileURL(resolve(input)).href);
  await page.screenshot({ path: output, clip: { x: 0, y: 0, width: 1100, height: 1250 } });
  console.log(`wrote ${output}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

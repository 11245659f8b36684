// report.html in a real browser (headless Chromium): it loads with no console error and no request
// beyond the file itself, every figure has its marks, hostile labels and texts stay inert text, dark mode
// and print styles apply. A screenshot is written to tmp/test-output/report.png.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderReportHtml, reportDataFrom } from '../../dist/index.js';
import { reportInputs, CHART_IDS, HOSTILE_LABEL, HOSTILE_TEXT } from '../helpers/report_data.js';
import { browserTest } from '../helpers/browser.js';

const root = new URL('../..', import.meta.url).pathname;
const outDir = process.env.TEST_OUTPUT_DIR || join(root, 'tmp', 'test-output');
const { training, evaluation } = reportInputs();
const file = join(mkdtempSync(join(tmpdir(), 'fml-report-')), 'report.html');
writeFileSync(file, await renderReportHtml(reportDataFrom(training, evaluation)));
const url = pathToFileURL(file).href;

async function open(context, colorScheme = 'light') {
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r.url()));
  await page.emulateMedia({ colorScheme });
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors, requests };
}

browserTest(test, 'loads with no console error and no request but the page; every chart has marks; screenshot', async (context) => {
  const { page, errors, requests } = await open(context);
  assert.equal(errors, []);
  assert.equal(requests, [url]);
  const marks = await page.evaluate(() =>
    Object.fromEntries([...document.querySelectorAll('figure.chart')].map((f) => [f.id, f.querySelectorAll('svg g.role-mark > *').length])),
  );
  assert.equal(Object.keys(marks), CHART_IDS);
  for (const id of CHART_IDS) assert.ok(marks[id] > 0, `${id} has marks (${marks[id]})`);
  // the bars of the label distribution: one per label
  assert.is(await page.locator('#distribution g.mark-rect.role-mark path').count(), 5);
  mkdirSync(outDir, { recursive: true });
  const shot = join(outDir, 'report.png');
  await page.setViewportSize({ width: 1200, height: 900 });
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
});

browserTest(test, 'hostile labels and texts stay inert text', async (context) => {
  const { page } = await open(context);
  const r = await page.evaluate(() => ({
    pwned: window.__pwned,
    elements: document.querySelectorAll('script, img, iframe, object, embed, link, foreignObject').length,
    text: document.body.innerText,
    svgs: document.querySelectorAll('svg').length,
  }));
  assert.is(r.pwned, undefined);
  assert.is(r.elements, 0);
  assert.is(r.svgs, CHART_IDS.length);
  assert.ok(r.text.includes(HOSTILE_LABEL), 'the label is shown as text');
  assert.ok(r.text.includes(HOSTILE_TEXT.slice(0, 60)), 'the text is shown as text');
});

browserTest(test, 'dark mode and print styles', async (context) => {
  const { page } = await open(context, 'dark');
  const dark = await page.evaluate(() => ({
    bg: getComputedStyle(document.body).backgroundColor,
    axis: getComputedStyle(document.querySelector('#loss svg text')).fill,
  }));
  assert.is(dark.bg, 'rgb(22, 24, 28)');
  assert.is(dark.axis, 'rgb(230, 230, 230)');
  await page.emulateMedia({ media: 'print', colorScheme: 'dark' });
  const print = await page.evaluate(() => ({ bg: getComputedStyle(document.body).backgroundColor, grid: getComputedStyle(document.querySelector('.grid')).display }));
  assert.equal(print, { bg: 'rgb(255, 255, 255)', grid: 'block' });
  const pdf = await page.pdf();
  assert.ok(pdf.length > 10000, `a printable PDF (${pdf.length} bytes)`);
});

test.run();

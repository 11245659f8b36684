// report.html from plain data: every figure rendered to inline SVG by Vega in Node, nothing executable or
// remote in the page, hostile labels and texts escaped; the sweep and the misclassified sample.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderReportHtml, reportDataFrom, escapeHtml, thresholdSweep, misclassifiedSample, evaluate } from '../../dist/index.js';
import { reportInputs, CHART_IDS, HOSTILE_LABEL, HOSTILE_TEXT } from '../helpers/report_data.js';

const { training, evaluation } = reportInputs();
const html = await renderReportHtml(reportDataFrom(training, evaluation));

test('one self-contained page: every figure as inline SVG, no script, no remote reference', () => {
  for (const id of CHART_IDS) assert.match(html, new RegExp(`<figure id="${id}" class="chart"><h3>[^<]*</h3><svg `), `figure ${id}`);
  assert.is((html.match(/<svg /g) ?? []).length, CHART_IDS.length);
  assert.not.match(html, /<script/i);
  assert.not.match(html, /<[^>]*\s(?:src|href|xlink:href)\s*=/i);
  assert.not.match(html, /https?:\/\/(?!www\.w3\.org\/)/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.match(html, /prefers-color-scheme: dark/);
  assert.match(html, /@media print/);
});

test('hostile labels and texts are escaped as text', () => {
  assert.ok(html.includes(escapeHtml(HOSTILE_LABEL)), 'the label appears escaped');
  assert.ok(html.includes('I paid &lt;script&gt;window.__pwned=2&lt;/script&gt; twice &lt;/svg&gt;&lt;img src=x onerror=&quot;window.__pwned=3&quot;&gt;'));
  assert.not.ok(html.includes(HOSTILE_TEXT));
  assert.ok(html.includes('\\u0007'), 'a control character is shown, not passed through');
  assert.is((html.match(/<\/svg>/g) ?? []).length, CHART_IDS.length, 'no extra </svg> from a label');
});

test('the facts: data file, recipe, device, package version, commit', () => {
  for (const s of ['data file', 'model tiny, loss db', '>cpu<', '>0.1.0<', '>abc123<', 'train 600, validation 200, test 100']) assert.ok(html.includes(s), s);
});

test('a report.json without sweep or misclassified rows (older models) still renders', async () => {
  const { sweep, misclassified, ...old } = evaluation;
  const page = await renderReportHtml(reportDataFrom(null, old));
  assert.not.match(page, /id="sweep"/);
  assert.match(page, /No misclassified rows recorded/);
  assert.not.match(page, /id="loss"/);
});

test('escapeHtml', () => {
  assert.is(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.is(escapeHtml('a\u0000b\u001bc\td'), 'a\\u0000b\\u001bc\td');
});

test('thresholdSweep equals evaluate() at each grid threshold (unknown targets left out)', () => {
  const n = 60;
  const k = 4;
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const targets = Int8Array.from({ length: n * k }, () => (rnd() < 0.1 ? -1 : rnd() < 0.3 ? 1 : 0));
  const probs = Float32Array.from({ length: n * k }, (_, e) => Math.min(1, Math.max(0, (targets[e] > 0 ? 0.3 : 0) + rnd() * 0.7)));
  const sweep = thresholdSweep(targets, probs, k);
  assert.is(sweep.length, 39);
  for (const p of sweep) {
    const ref = evaluate(targets, probs, { shape: [n, k], threshold: p.threshold });
    for (const avg of ['micro', 'macro']) for (const m of ['precision', 'recall', 'f1']) assert.ok(Math.abs(p[avg][m] - ref[avg][m]) < 1e-12, `${avg} ${m} at ${p.threshold}`);
  }
});

test('misclassifiedSample: false positives and negatives with scores, most confident first', () => {
  const labels = ['a', 'b'];
  const targets = Int8Array.from([1, 0, 0, 1, 1, -1, 0, 0]);
  const probs = Float32Array.from([0.9, 0.2, 0.95, 0.6, 0.1, 0.99, 0.55, 0.1]);
  const thr = Float32Array.from([0.5, 0.5]);
  const m = misclassifiedSample(['ok', 'fp', 'fn', 'weak'], targets, probs, labels, thr);
  assert.equal(m.map((r) => r.text), ['fp', 'fn', 'weak']);
  assert.equal(m[0].falsePositives.map((x) => x.label), ['a']);
  assert.equal(m[1].falseNegatives.map((x) => [x.label, Math.round(x.score * 100)]), [['a', 10]]);
  assert.equal(m[1].falsePositives, [], 'the unknown target (-1) is not a mistake');
  assert.is(misclassifiedSample(['ok', 'fp', 'fn', 'weak'], targets, probs, labels, thr, 1).length, 1);
});

test.run();

/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no network: its
 * Content-Security-Policy forbids both), readable in light and dark mode and printable. Every text that
 * comes from data (labels, texts, file names) goes through escapeHtml; the SVGs come from Vega, which
 * escapes what it writes.
 */
import { reportCharts, renderSvg } from './charts.js';
import { groupOf, GROUPS, type ReportData } from './data.js';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : c === "'" ? '&#39;' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const f3 = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : 'n/a');

const CSS = `
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #ffffff; --muted: #5f6368; --rule: #d0d7de; --card: #f6f8fa; --fp: #b3261e; --fn: #7a4f01; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e6e6; --bg: #16181c; --muted: #a0a6ad; --rule: #3a3f46; --card: #1f2329; --fp: #ff8a80; --fn: #ffd180; }
  svg text { fill: var(--fg); }
  svg .role-axis-grid line { stroke: #33383f; }
  svg .role-axis-domain line, svg .role-axis-tick line { stroke: #8a9099; }
}
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.2em; margin: 32px 0 8px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
.muted, figcaption { color: var(--muted); font-size: 0.9em; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
figure { margin: 0; padding: 12px; background: var(--card); border: 1px solid var(--rule); border-radius: 6px; break-inside: avoid; overflow-x: auto; }
figure h3 { margin: 0 0 6px; font-size: 1em; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; break-inside: auto; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.text { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 520px; }
.fp { color: var(--fp); } .fn { color: var(--fn); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; } dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
@media print {
  :root { --fg: #000; --bg: #fff; --muted: #444; --card: #fff; }
  svg text { fill: #000; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  .grid { display: block; } figure { margin-bottom: 12px; border: none; } h2 { break-after: avoid; }
}`;

/** A table of already-escaped cells; `classes[i]` is column i's class ('n': numeric, 'text': long text). */
function table(head: string[], rows: string[][], classes: string[]): string {
  const cell = (tag: string, s: string, i: number) => `<${tag}${classes[i] ? ` class="${classes[i]}"` : ''}>${s}</${tag}>`;
  return `<table><thead><tr>${head.map((h, i) => cell('th', h, i)).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function summary(d: ReportData): string {
  const e = d.evaluation;
  const head = ['', 'micro P', 'micro R', 'micro F1', 'macro P', 'macro R', 'macro F1', 'labels with F1 > 0'];
  const row = (name: string, m: typeof e.at05) => [name, f3(m.micro.precision), f3(m.micro.recall), f3(m.micro.f1), f3(m.macro.precision), f3(m.macro.recall), f3(m.macro.f1), `${m.labelsWithPositiveF1} / ${e.metrics.perLabel.length}`];
  const tuned = e.thresholds.tuned ? `tuned (${escapeHtml(e.thresholds.objective ?? 'objective')}, global ${f3(e.thresholds.global)})` : 'not tuned';
  return table(head, [row('threshold 0.5', e.at05), row(`thresholds ${tuned}`, e.metrics)], head.map((_, i) => (i > 0 ? 'n' : '')));
}

function groupsTable(d: ReportData): string {
  const g = d.evaluation.metrics.groups;
  if (!g) return '<p class="muted">No training counts: label groups not available.</p>';
  const rows = GROUPS.map((k) => {
    const x = g[k.toLowerCase() as 'head'];
    const has = x.labels.length > 0;
    return [k, String(x.labels.length), x.meanTrainCount.toFixed(1), x.meanSupport.toFixed(1), has ? f3(x.micro.f1) : '-', has ? f3(x.macro.f1) : '-'];
  });
  return table(['group', 'labels', 'training rows / label', 'support / label', 'micro F1', 'macro F1'], rows, ['', 'n', 'n', 'n', 'n', 'n']);
}

function worstLabels(d: ReportData, n = 10): string {
  const e = d.evaluation;
  const groups = groupOf(e);
  const worst = [...e.metrics.perLabel].sort((a, b) => a.f1 - b.f1 || b.support - a.support).slice(0, n);
  const rows = worst.map((l) => [
    escapeHtml(l.label),
    groups.get(l.label) ?? '-',
    f3(l.f1),
    f3(l.precision),
    f3(l.recall),
    String(l.support),
    String(d.labelCounts[l.label] ?? l.trainCount ?? '-'),
    f3(e.thresholds.perClass?.[l.label] ?? e.thresholds.global),
  ]);
  return table(['label', 'group', 'F1', 'precision', 'recall', 'support', 'training rows', 'threshold'], rows, ['', '', 'n', 'n', 'n', 'n', 'n', 'n']);
}

function misclassified(d: ReportData): string {
  const m = d.evaluation.misclassified;
  if (!m?.length) return '<p class="muted">No misclassified rows recorded.</p>';
  const scored = (cls: string, xs: { label: string; score: number; threshold: number }[]) =>
    xs.map((x) => `<span class="${cls}">${escapeHtml(x.label)} ${x.score.toFixed(3)}</span> <span class="muted">(${x.threshold.toFixed(3)})</span>`).join('<br>') || '<span class="muted">none</span>';
  const rows = m.map((r) => [escapeHtml(r.text), scored('fp', r.falsePositives), scored('fn', r.falseNegatives)]);
  return table(['text', 'false positives (score ≥ threshold)', 'false negatives (score < threshold)'], rows, ['text', '', '']);
}

/** The whole page as a string. */
export async function renderReportHtml(d: ReportData): Promise<string> {
  const figures: string[] = [];
  for (const c of reportCharts(d)) {
    const svg = await renderSvg(c.spec);
    figures.push(`<figure id="${c.id}" class="chart"><h3>${escapeHtml(c.title)}</h3>${svg}<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`);
  }
  const e = d.evaluation;
  const facts = d.facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(d.title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(d.title)}</h1>
<p class="muted">Written by fused-multilabel. Metrics on the ${escapeHtml(e.split)} split (${e.rows} rows) unless a figure says otherwise.</p>
<h2>Summary</h2>
${summary(d)}
<h2>Figures</h2>
<div class="grid">
${figures.join('\n')}
</div>
<h2>Label groups by training frequency</h2>
${groupsTable(d)}
<h2>Worst labels</h2>
${worstLabels(d)}
<h2>Misclassified ${escapeHtml(e.split)} texts</h2>
<p class="muted">The most confident mistakes at the tuned thresholds: false positives (predicted, not a label of the text) and false negatives (a label the model missed).</p>
${misclassified(d)}
<h2>The run</h2>
<dl>${facts}</dl>
</body>
</html>
`;
}

/**
 * The report's figures as Vega-Lite specifications, rendered to SVG strings in Node by Vega's headless
 * renderer (`view.toSVG()`, no canvas, no browser). Vega escapes every text and attribute it writes;
 * labels are data here, never markup. Colours are set for a light page; report.css restyles text and
 * rules for dark mode.
 */
import type { TopLevelSpec } from 'vega-lite';
import { GROUPS, groupOf, type EpochPoint, type ReportData } from './data.js';

export interface Chart {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const GROUP_COLORS = ['#1f77b4', '#2ca02c', '#ff7f0e', '#d62728'];
const groupColor = { field: 'group', type: 'nominal', title: 'group', scale: { domain: [...GROUPS], range: GROUP_COLORS } } as const;
/** 1, 3, 10, 30, ... up to max: readable ticks for the symlog (log with a zero) count axes. */
function logTicks(max: number): number[] {
  const out = [0];
  for (let p = 1; p <= Math.max(1, max) * 3; p *= 10) out.push(...[p, 3 * p].filter((v) => v <= Math.max(1, max) * 1.5));
  return out;
}

const CONFIG = { background: null, font: 'system-ui, sans-serif', view: { stroke: null }, axis: { labelLimit: 160 } } as const;

function spec(s: Record<string, unknown>): TopLevelSpec {
  return { config: CONFIG, width: 520, height: 240, ...s } as unknown as TopLevelSpec;
}

function historyCharts(d: ReportData): Chart[] {
  const h = d.history;
  if (!h) return [];
  // an ensemble's epochs carry their member's name: one line per member and series, no single kept epoch
  const name = (e: EpochPoint, series: string) => (e.member ? `${e.member}: ${series}` : series);
  const ensemble = h.epochs.some((e) => e.member);
  const loss = h.epochs.flatMap((e) => [
    { epoch: e.epoch, series: name(e, 'training loss'), value: e.trainLoss },
    ...(e.valLoss === null ? [] : [{ epoch: e.epoch, series: name(e, 'validation loss'), value: e.valLoss }]),
  ]);
  const f1 = h.epochs.flatMap((e) => [
    ...(e.valMicroF1 === null ? [] : [{ epoch: e.epoch, series: name(e, 'validation micro-F1'), value: e.valMicroF1 }]),
    ...(e.valMacroF1 === null ? [] : [{ epoch: e.epoch, series: name(e, 'validation macro-F1'), value: e.valMacroF1 }]),
  ]);
  const best = { data: { values: [{ epoch: h.bestEpoch, label: `best epoch ${h.bestEpoch}` }] } };
  const bestLayers = ensemble
    ? []
    : [
        { ...best, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { x: { field: 'epoch', type: 'quantitative' } } },
        { ...best, mark: { type: 'text', align: 'left', dx: 4, dy: -4, baseline: 'top', y: 0 }, encoding: { x: { field: 'epoch', type: 'quantitative' }, text: { field: 'label' } } },
      ];
  const line = (values: unknown[], title: string) =>
    spec({
      layer: [
        {
          data: { values },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
            y: { field: 'value', type: 'quantitative', title, scale: { zero: false } },
            color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'top' } },
          },
        },
        ...bestLayers,
      ],
    });
  const charts: Chart[] = [
    {
      id: 'loss',
      title: 'Loss per epoch',
      caption: ensemble
        ? "Training and validation loss of each ensemble member (training.json's history.members says which epoch of each was kept)."
        : 'Training and validation loss; the dashed line marks the epoch whose parameters were kept.',
      spec: line(loss, 'loss'),
    },
  ];
  if (f1.length)
    charts.push({ id: 'f1-epochs', title: 'Validation F1 per epoch', caption: 'Micro- and macro-F1 on the validation split at threshold 0.5.', spec: line(f1, 'F1') });
  return charts;
}

function distributionChart(d: ReportData): Chart {
  const groups = groupOf(d.evaluation);
  const values = Object.entries(d.labelCounts)
    .map(([label, count]) => ({ label, count, group: groups.get(label) ?? 'HEAD' }))
    .sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1));
  return {
    id: 'distribution',
    title: 'Label distribution',
    caption: 'Training rows per label, most frequent first (log scale), coloured by frequency group.',
    spec: spec({
      data: { values },
      mark: 'bar',
      encoding: {
        x: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelAngle: -60 } },
        y: { field: 'count', type: 'quantitative', title: 'training rows', scale: { type: 'symlog' }, axis: { values: logTicks(values[0]?.count ?? 1) } },
        color: groupColor,
      },
    }),
  };
}

function f1VsFrequencyChart(d: ReportData): Chart {
  const groups = groupOf(d.evaluation);
  const points = d.evaluation.metrics.perLabel.map((l) => ({ label: l.label, f1: l.f1, count: d.labelCounts[l.label] ?? l.trainCount ?? 0, group: groups.get(l.label) ?? 'HEAD' }));
  const g = d.evaluation.metrics.groups;
  const rules = g
    ? GROUPS.filter((k) => g[k.toLowerCase() as 'head'].labels.length).map((k) => ({ group: k, f1: g[k.toLowerCase() as 'head'].macro.f1, text: `${k} macro-F1 ${g[k.toLowerCase() as 'head'].macro.f1.toFixed(3)}` }))
    : [];
  return {
    id: 'f1-frequency',
    title: `Per-label ${d.evaluation.split} F1 against training frequency`,
    caption: 'One point per label (training rows on a log scale); the lines are each group’s macro-F1.',
    spec: spec({
      layer: [
        { data: { values: rules }, mark: { type: 'rule', strokeDash: [6, 3] }, encoding: { y: { field: 'f1', type: 'quantitative' }, color: groupColor } },
        // the groups' labels alternate between the right and the left edge, so close values stay readable
        ...(['right', 'left'] as const).map((side, k) => ({
          data: { values: rules.filter((_, i) => i % 2 === k) },
          mark: { type: 'text', align: side, dy: -5, x: side === 'right' ? 'width' : 0, dx: side === 'right' ? 0 : 4 },
          encoding: { y: { field: 'f1', type: 'quantitative' }, text: { field: 'text' }, color: groupColor },
        })),
        {
          data: { values: points },
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            x: { field: 'count', type: 'quantitative', title: 'training rows', scale: { type: 'symlog' }, axis: { values: logTicks(Math.max(0, ...points.map((p) => p.count))) } },
            y: { field: 'f1', type: 'quantitative', title: 'F1', scale: { domain: [0, 1] } },
            color: groupColor,
          },
        },
      ],
    }),
  };
}

function sweepCharts(d: ReportData): Chart[] {
  const e = d.evaluation;
  const charts: Chart[] = [];
  if (e.sweep?.length) {
    const values = e.sweep.flatMap((p) =>
      (['micro', 'macro'] as const).flatMap((avg) =>
        (['precision', 'recall', 'f1'] as const).map((m) => ({ threshold: p.threshold, average: avg, metric: m === 'f1' ? 'F1' : m, value: p[avg][m] })),
      ),
    );
    const tuned = { data: { values: [{ threshold: e.thresholds.global, label: `tuned ${e.thresholds.global.toFixed(3)}` }] } };
    charts.push({
      id: 'sweep',
      title: `Precision, recall and F1 against one global threshold (${e.split})`,
      caption: 'Solid: micro average, dashed: macro average. The grey line marks the tuned global threshold.',
      spec: spec({
        layer: [
          {
            data: { values },
            mark: 'line',
            encoding: {
              x: { field: 'threshold', type: 'quantitative', scale: { domain: [0, 1] } },
              y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
              color: { field: 'metric', type: 'nominal', title: null, legend: { orient: 'top' } },
              strokeDash: { field: 'average', type: 'nominal', title: null, scale: { domain: ['micro', 'macro'], range: [[1, 0], [5, 3]] }, legend: { orient: 'top' } },
            },
          },
          { ...tuned, mark: { type: 'rule', color: '#888', strokeWidth: 2 }, encoding: { x: { field: 'threshold', type: 'quantitative' } } },
          { ...tuned, mark: { type: 'text', align: 'left', dx: 4, y: 0, baseline: 'top' }, encoding: { x: { field: 'threshold', type: 'quantitative' }, text: { field: 'label' } } },
        ],
      }),
    });
  }
  const per = e.metrics.perLabel.map((l) => ({ label: l.label, threshold: e.thresholds.perClass?.[l.label] ?? e.thresholds.global, own: e.thresholds.perClass?.[l.label] !== undefined ? 'tuned for the label' : 'global' }));
  charts.push({
    id: 'thresholds',
    title: 'Per-label thresholds',
    caption: 'The threshold each label is predicted at (labels with too few validation positives keep the global one); the line marks 0.5.',
    spec: spec({
      layer: [
        {
          data: { values: per },
          mark: 'bar',
          encoding: {
            x: { field: 'label', type: 'nominal', sort: '-y', title: null, axis: { labelAngle: -60 } },
            y: { field: 'threshold', type: 'quantitative', title: 'threshold', scale: { domain: [0, 1] } },
            color: { field: 'own', type: 'nominal', title: null, scale: { domain: ['tuned for the label', 'global'], range: ['#4c78a8', '#9ecae9'] }, legend: { orient: 'top' } },
          },
        },
        { data: { values: [{ y: 0.5 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { field: 'y', type: 'quantitative', title: 'threshold' } } },
      ],
    }),
  });
  return charts;
}

function comparisonChart(d: ReportData): Chart {
  const e = d.evaluation;
  const values = (['micro', 'macro'] as const).flatMap((avg) =>
    (['f1', 'precision', 'recall'] as const).flatMap((m) => [
      { figure: `${avg} ${m === 'f1' ? 'F1' : m}`, setting: 'threshold 0.5', value: e.at05[avg][m] },
      { figure: `${avg} ${m === 'f1' ? 'F1' : m}`, setting: 'tuned thresholds', value: e.metrics[avg][m] },
    ]),
  );
  const order = values.filter((_, i) => i % 2 === 0).map((v) => v.figure);
  return {
    id: 'comparison',
    title: `Threshold 0.5 against the tuned thresholds (${e.split})`,
    caption: `Labels with F1 > 0: ${e.at05.labelsWithPositiveF1} of ${e.metrics.perLabel.length} at 0.5, ${e.metrics.labelsWithPositiveF1} tuned.`,
    spec: spec({
      data: { values },
      mark: 'bar',
      encoding: {
        x: { field: 'figure', type: 'nominal', sort: order, title: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'setting', type: 'nominal' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
        color: { field: 'setting', type: 'nominal', title: null, scale: { range: ['#9ecae9', '#4c78a8'] }, legend: { orient: 'top' } },
      },
    }),
  };
}

/** Every figure of the report, in page order. */
export function reportCharts(d: ReportData): Chart[] {
  return [...historyCharts(d), distributionChart(d), f1VsFrequencyChart(d), ...sweepCharts(d), comparisonChart(d)];
}

/** A Vega-Lite specification as an SVG string (vega and vega-lite are loaded on first use). */
export async function renderSvg(s: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile(s).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// A synthetic training report's inputs (training.json-like and report.json-like objects) with hostile
// label names and texts: markup, a closing </svg>, quotes, an event handler, control characters.
export const HOSTILE_LABEL = '<script>window.__pwned=1</script>';
export const SVG_LABEL = `</svg>"'&amp;x`;
export const HOSTILE_TEXT = `I paid <script>window.__pwned=2</script> twice </svg><img src=x onerror="window.__pwned=3"> "quoted" 'single'\u0007`;

const prf = (p, r) => ({ precision: p, recall: r, f1: p + r ? (2 * p * r) / (p + r) : 0 });

export function reportInputs() {
  const labels = ['billing', HOSTILE_LABEL, SVG_LABEL, 'tail-a', 'zero-b'];
  const counts = { billing: 300, [HOSTILE_LABEL]: 90, [SVG_LABEL]: 40, 'tail-a': 12, 'zero-b': 2 };
  const perLabel = labels.map((l, i) => ({ label: l, index: i, support: 10 + i, rocAuc: 0.9, trainCount: counts[l], ...prf(Math.max(0, 0.9 - i * 0.2), Math.max(0, 0.8 - i * 0.15)) }));
  const grp = (ls, f) => ({ labels: ls, meanSupport: 10, meanTrainCount: 10, micro: prf(f, f), macro: prf(f, f) });
  const evaluation = {
    split: 'test',
    rows: 100,
    metrics: {
      micro: prf(0.8, 0.7),
      macro: prf(0.6, 0.5),
      labelsWithPositiveF1: 4,
      perLabel,
      groups: { head: grp(['billing'], 0.9), medium: grp([HOSTILE_LABEL], 0.7), tail: grp([SVG_LABEL, 'tail-a'], 0.4), zero: grp(['zero-b'], 0), boundaries: { zeroBelow: 5, tailBelow: 49, mediumBelow: 146 } },
    },
    at05: { micro: prf(0.85, 0.6), macro: prf(0.5, 0.4), labelsWithPositiveF1: 3 },
    thresholds: { global: 0.4, perClass: { billing: 0.55, [HOSTILE_LABEL]: 0.3 }, tuned: true, objective: 'macro-f1' },
    sweep: Array.from({ length: 39 }, (_, i) => {
      const t = (i + 1) / 40;
      return { threshold: t, micro: prf(t, 1 - t), macro: prf(t * 0.8, 1 - t) };
    }),
    misclassified: [
      { text: HOSTILE_TEXT, falsePositives: [{ label: SVG_LABEL, score: 0.9, threshold: 0.4 }], falseNegatives: [{ label: HOSTILE_LABEL, score: 0.1, threshold: 0.3 }] },
    ],
  };
  const training = {
    fused_multilabel: '0.1.0',
    options: { model: 'tiny', loss: 'db', epochs: 3, thresholds: { objective: 'macro-f1', perClass: true } },
    run: { dataFiles: { data: `data/${HOSTILE_LABEL}.csv` }, device: 'cpu', commit: 'abc123', finishedAt: '2026-01-01T00:00:00Z' },
    history: {
      epochs: [1, 2, 3].map((e) => ({ epoch: e, trainLoss: 1 / e, valLoss: 1.2 / e + (e === 3 ? 0.5 : 0), valMicroF1: 0.5 + e / 10, valMacroF1: 0.3 + e / 10 })),
      bestEpoch: 2,
      stoppedEarly: false,
      seconds: 3,
      data: { trainRows: 600, valRows: 200, trainCounts: counts },
    },
  };
  return { training, evaluation, labels };
}

/** The figure ids every full report has. */
export const CHART_IDS = ['loss', 'f1-epochs', 'distribution', 'f1-frequency', 'sweep', 'thresholds', 'comparison'];

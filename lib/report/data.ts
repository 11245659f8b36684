/**
 * The plain data a training report is drawn from, and how it is gathered from a model directory's
 * training.json (history, training counts, options, run facts) and an evaluation (report.json, or a fresh
 * Classifier.evaluate). Any model type works: the report needs scores' summaries, labels and the history.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../binding.js';
import type { PRF, LabelReport, GroupReport } from '../metrics.js';
import type { Misclassified, SweepPoint } from './analysis.js';

export interface EpochPoint {
  /** the ensemble member the epoch trained (an ensemble's history holds each member's epochs in turn) */
  member?: string;
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
  valMicroF1: number | null;
  valMacroF1: number | null;
}

export type Group = 'HEAD' | 'MEDIUM' | 'TAIL' | 'ZERO';
export const GROUPS: readonly Group[] = ['HEAD', 'MEDIUM', 'TAIL', 'ZERO'];

/** The evaluation the report shows (EvaluationReport's fields that matter here). */
export interface ReportEvaluation {
  split: string;
  rows: number;
  metrics: {
    micro: PRF;
    macro: PRF;
    labelsWithPositiveF1: number;
    perLabel: LabelReport[];
    groups?: Record<'head' | 'medium' | 'tail' | 'zero', GroupReport> & { boundaries?: Record<string, number> };
  };
  at05: { micro: PRF; macro: PRF; labelsWithPositiveF1: number };
  thresholds: { global: number; perClass?: Record<string, number>; tuned: boolean; objective?: string };
  sweep?: SweepPoint[];
  misclassified?: Misclassified[];
}

export interface ReportData {
  title: string;
  history: { epochs: EpochPoint[]; bestEpoch: number; stoppedEarly: boolean } | null;
  /** training rows per label */
  labelCounts: Record<string, number>;
  evaluation: ReportEvaluation;
  /** the run's facts, in display order */
  facts: [string, string][];
}

let commitCache: string | null | undefined;

/** The package's git commit when it runs from a checkout (null for an installed package). */
export function packageCommit(): string | null {
  if (commitCache !== undefined) return commitCache;
  commitCache = null;
  if (existsSync(join(packageRoot, '.git'))) {
    const r = spawnSync('git', ['-C', packageRoot, 'rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0) commitCache = r.stdout.trim() + (dirty() ? ' (with uncommitted changes)' : '');
  }
  return commitCache;
}

function dirty(): boolean {
  const r = spawnSync('git', ['-C', packageRoot, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 && r.stdout.trim().length > 0;
}

/** The group of each label (from the evaluation's groups; ungrouped labels are HEAD-less "all"). */
export function groupOf(evaluation: ReportEvaluation): Map<string, Group> {
  const m = new Map<string, Group>();
  const g = evaluation.metrics.groups;
  if (g) for (const k of ['head', 'medium', 'tail', 'zero'] as const) for (const l of g[k].labels) m.set(l, k.toUpperCase() as Group);
  return m;
}

type Json = Record<string, unknown>;
const obj = (x: unknown): Json => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Json) : {});

function recipe(options: Json): string {
  const model = typeof options.model === 'string' ? options.model : obj(options.model).pretrained ? `pretrained ${String(obj(options.model).pretrained)}` : 'custom';
  const loss = typeof options.loss === 'string' ? options.loss : 'custom loss';
  const parts = [`model ${model}`, `loss ${loss}`];
  for (const [k, label] of [['epochs', 'epochs'], ['batchSize', 'batch size'], ['lr', 'lr'], ['maxLength', 'max length'], ['posWeight', 'pos weight'], ['seed', 'seed']] as const)
    if (options[k] !== undefined && (typeof options[k] !== 'object' || options[k] === null)) parts.push(`${label} ${String(options[k])}`);
  const thr = obj(options.thresholds);
  if (thr.objective) parts.push(`thresholds ${String(thr.objective)}${thr.perClass === false ? '' : ' per label'}`);
  return parts.join(', ');
}

/**
 * ReportData from a model directory's training.json and an evaluation (its report.json, or a new one).
 * `extraFacts` come first (e.g. the file a report was re-evaluated on).
 */
export function reportDataFrom(training: Json | null, evaluation: ReportEvaluation, extraFacts: [string, string][] = []): ReportData {
  const t = obj(training);
  const history = obj(t.history);
  const data = obj(history.data);
  const run = obj(t.run);
  const epochs = Array.isArray(history.epochs) ? (history.epochs as EpochPoint[]) : [];
  const counts = obj(data.trainCounts) as Record<string, number>;
  const files = obj(run.dataFiles);
  const facts: [string, string][] = [...extraFacts];
  for (const [k, v] of Object.entries(files)) facts.push([`${k} file`, String(v)]);
  facts.push(['rows', `train ${String(data.trainRows ?? '?')}, validation ${String(data.valRows ?? '?')}, ${evaluation.split} ${evaluation.rows}`]);
  facts.push(['labels', String(evaluation.metrics.perLabel.length)]);
  if (t.options) facts.push(['recipe', recipe(obj(t.options))]);
  if (run.device) facts.push(['device', String(run.device)]);
  if (typeof history.seconds === 'number') facts.push(['training time', `${history.seconds.toFixed(1)} s, ${epochs.length} epochs`]);
  if (run.finishedAt) facts.push(['trained at', String(run.finishedAt)]);
  facts.push(['package version', String(t.fused_multilabel ?? 'unknown')]);
  facts.push(['commit', String(run.commit ?? 'unknown (not a git checkout)')]);
  return {
    title: `Training report: ${evaluation.metrics.perLabel.length} labels, ${evaluation.split} split`,
    history: epochs.length ? { epochs, bestEpoch: Number(history.bestEpoch), stoppedEarly: history.stoppedEarly === true } : null,
    labelCounts: counts,
    evaluation,
    facts,
  };
}

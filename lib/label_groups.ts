/**
 * The HEAD / MEDIUM / TAIL / ZERO label groups of seed article 002: labels grouped by their training
 * count, with micro and macro P/R/F1 per group.
 */
import { rangeErrorMessage } from './errors.js';
import type { EvaluateResult, GroupBoundaries, GroupReport, LabelReport } from './metrics.js';
import { div, prf } from './prf.js';

/** Value at quantile q of sorted values (lower interpolation, deterministic). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Infinity;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function labelGroups(
  trainCounts: Float64Array,
  tp: Float64Array,
  fp: Float64Array,
  fn: Float64Array,
  perLabel: LabelReport[],
  g: GroupBoundaries,
): NonNullable<EvaluateResult['groups']> {
  const k = trainCounts.length;
  const zeroBelow = g.zeroBelow ?? 5;
  const rest = Array.from(trainCounts)
    .filter((c) => c >= zeroBelow)
    .sort((a, b) => a - b);
  const tailBelow = g.tailBelow ?? Math.max(zeroBelow, quantile(rest, 1 / 3));
  const mediumBelow = g.mediumBelow ?? Math.max(tailBelow, quantile(rest, 2 / 3));
  if (!(zeroBelow <= tailBelow && tailBelow <= mediumBelow))
    throw rangeErrorMessage(
      `Expected options.groups boundaries zeroBelow <= tailBelow <= mediumBelow but received ${zeroBelow}, ${tailBelow}, ${mediumBelow}`,
    );
  const members: number[][] = [[], [], [], []]; // head, medium, tail, zero
  for (let j = 0; j < k; j++) {
    const c = trainCounts[j];
    members[c < zeroBelow ? 3 : c < tailBelow ? 2 : c < mediumBelow ? 1 : 0].push(j);
  }
  const report = (idx: number[]): GroupReport => {
    let T = 0;
    let F = 0;
    let N = 0;
    let p = 0;
    let r = 0;
    let f = 0;
    let sup = 0;
    let tc = 0;
    for (const j of idx) {
      T += tp[j];
      F += fp[j];
      N += fn[j];
      p += perLabel[j].precision;
      r += perLabel[j].recall;
      f += perLabel[j].f1;
      sup += perLabel[j].support;
      tc += trainCounts[j];
    }
    const m = idx.length;
    return {
      labels: idx.map((j) => perLabel[j].label),
      meanSupport: div(sup, m),
      meanTrainCount: div(tc, m),
      micro: prf(T, F, N),
      macro: { precision: div(p, m), recall: div(r, m), f1: div(f, m) },
    };
  };
  return {
    head: report(members[0]),
    medium: report(members[1]),
    tail: report(members[2]),
    zero: report(members[3]),
    boundaries: { zeroBelow, tailBelow, mediumBelow },
  };
}

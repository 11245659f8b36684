/** What the CLI prints: the evaluation report (text and JSON), training progress, prediction scores. */
import cliProgress from 'cli-progress';
import type { EvaluationReport } from '../classifier.js';
import type { EvaluateResult } from '../metrics.js';
import type { ProgressEvent } from '../trainer_options.js';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function formatReport(r: EvaluationReport): string {
  const m = r.metrics;
  const lines: string[] = [];
  const t = r.thresholds;
  const bagged = t.baggedLabels ? `, ${t.baggedLabels} of them averaged over ${t.bags} resamples` : '';
  const thr = t.tuned ? `tuned thresholds${t.perClass ? ` per label${t.minSupport !== undefined ? ` with ${t.minSupport}+ validation positives${bagged}` : ''}` : ''} (global ${t.global.toFixed(3)})` : 'threshold 0.5';
  lines.push(`Evaluation on ${r.split}: ${r.rows} rows, ${m.perLabel.length} labels, ${thr}`);
  if (r.unknownTargets > 0) lines.push(`  ${r.unknownTargets} targets unknown (partial annotation), left out of every metric`);
  lines.push('');
  lines.push(`  ${pad('', 20)}${pad('precision', 10, true)}${pad('recall', 10, true)}${pad('F1', 10, true)}`);
  for (const k of ['micro', 'macro', 'weighted', 'samples'] as const)
    lines.push(`  ${pad(k, 20)}${pad(f3(m[k].precision), 10, true)}${pad(f3(m[k].recall), 10, true)}${pad(f3(m[k].f1), 10, true)}`);
  lines.push('');
  lines.push(`  ${pad('Hamming loss', 28)}${m.hammingLoss.toFixed(4)}`);
  lines.push(`  ${pad('subset accuracy', 28)}${f3(m.subsetAccuracy)}`);
  lines.push(`  ${pad('ROC-AUC micro / macro', 28)}${f3(m.rocAuc.micro)} / ${f3(m.rocAuc.macro)}${m.rocAuc.skippedLabels ? ` (${m.rocAuc.skippedLabels} label${m.rocAuc.skippedLabels === 1 ? "" : "s"} with one class skipped)` : ''}`);
  lines.push(`  ${pad('labels with F1 > 0', 28)}${m.labelsWithPositiveF1} / ${m.perLabel.length}`);
  lines.push(`  ${pad('at threshold 0.5', 28)}micro F1 ${f3(r.at05.micro.f1)}, macro F1 ${f3(r.at05.macro.f1)}, labels with F1 > 0: ${r.at05.labelsWithPositiveF1}`);
  if (m.groups) {
    const g = m.groups;
    lines.push('');
    lines.push(`  Label groups by training frequency (ZERO < ${g.boundaries.zeroBelow} <= TAIL < ${f1s(g.boundaries.tailBelow)} <= MEDIUM < ${f1s(g.boundaries.mediumBelow)} <= HEAD training rows)`);
    lines.push(`  ${pad('group', 8)}${pad('labels', 8, true)}${pad('train/label', 13, true)}${pad('support', 9, true)}${pad('micro F1', 10, true)}${pad('macro P', 9, true)}${pad('macro R', 9, true)}${pad('macro F1', 10, true)}`);
    for (const k of ['head', 'medium', 'tail', 'zero'] as const) {
      const x = g[k];
      lines.push(
        `  ${pad(k.toUpperCase(), 8)}${pad(String(x.labels.length), 8, true)}${pad(x.meanTrainCount.toFixed(1), 13, true)}${pad(x.meanSupport.toFixed(1), 9, true)}` +
          `${pad(x.labels.length ? f3(x.micro.f1) : '-', 10, true)}${pad(x.labels.length ? f3(x.macro.precision) : '-', 9, true)}${pad(x.labels.length ? f3(x.macro.recall) : '-', 9, true)}${pad(x.labels.length ? f3(x.macro.f1) : '-', 10, true)}`,
      );
    }
  }
  return lines.join('\n');
}

function f1s(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

export function compactReport(r: EvaluationReport): Record<string, unknown> {
  const m: EvaluateResult = r.metrics;
  return {
    split: r.split,
    rows: r.rows,
    unknownTargets: r.unknownTargets,
    micro: m.micro,
    macro: m.macro,
    weighted: m.weighted,
    samples: m.samples,
    hammingLoss: m.hammingLoss,
    subsetAccuracy: m.subsetAccuracy,
    rocAuc: m.rocAuc,
    labelsWithPositiveF1: m.labelsWithPositiveF1,
    at05: r.at05,
    groups: m.groups,
    perLabel: m.perLabel,
  };
}

export function fmtSec(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/** Pre-training progress (Trainer pretrainEpochs) as lines, four per epoch; true when `p` was one. */
function pretrainLine(p: ProgressEvent, log: (s: string) => void): boolean {
  if (p.phase === 'pretrain-epoch') log(`pretrain epoch ${p.epoch}/${p.epochs}: masked-LM loss ${p.loss.toFixed(4)}`);
  else if (p.phase === 'pretrain') {
    if (p.step % Math.max(1, Math.round(p.totalSteps / p.epochs / 4)) === 0) log(`pretrain epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.totalSteps}: masked-LM loss ${p.loss.toFixed(4)}, ETA ${fmtSec(p.etaSec)}`);
  } else return false;
  return true;
}

export function progressReporter(json: boolean): { onProgress: (p: ProgressEvent) => void; stop: () => void } {
  const tty = !json && process.stdout.isTTY === true;
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'epoch {epoch}/{epochs} [{bar}] {percentage}% | loss {loss} | {speed} ex/s | ETA {etaText}',
        stream: process.stdout,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let member: string | undefined;
    return {
      onProgress: (p) => {
        if (pretrainLine(p, log)) return;
        if (p.member !== member) {
          // the next ensemble member: a bar of its own
          if (started) bar.stop();
          started = false;
          member = p.member;
          log(`training ensemble member ${member}`);
        }
        if (!started) {
          bar.start(p.totalSteps, 0, { epoch: 1, epochs: p.epochs, loss: '-', speed: '-', etaText: '?' });
          started = true;
        }
        if (p.phase === 'validate') {
          bar.stop();
          log(`epoch ${p.epoch}/${p.epochs}: train loss ${p.loss.toFixed(4)}, val loss ${p.valLoss?.toFixed(4)}, val micro F1 ${f3(p.valMicroF1 ?? NaN)}, macro F1 ${f3(p.valMacroF1 ?? NaN)} (at 0.5)`);
          if (p.epoch < p.epochs) bar.start(p.totalSteps, p.step, { epoch: p.epoch + 1, epochs: p.epochs, loss: '-', speed: p.examplesPerSec.toFixed(0), etaText: '?' });
          return;
        }
        bar.update(p.step, { epoch: p.epoch, epochs: p.epochs, loss: p.loss.toFixed(4), speed: p.examplesPerSec.toFixed(0), etaText: fmtSec(p.etaSec) });
      },
      stop: () => bar.stop(),
    };
  }
  let every = 0;
  let member: string | undefined;
  return {
    onProgress: (p) => {
      if (pretrainLine(p, log)) return;
      if (p.member !== member) {
        member = p.member;
        every = 0;
        log(`training ensemble member ${member}`);
      }
      if (p.phase === 'validate') {
        log(`epoch ${p.epoch}/${p.epochs}: train loss ${p.loss.toFixed(4)}, val loss ${p.valLoss?.toFixed(4)}, val micro F1 ${f3(p.valMicroF1 ?? NaN)}, macro F1 ${f3(p.valMacroF1 ?? NaN)} (at 0.5)`);
        return;
      }
      every ||= Math.max(1, Math.round(p.totalSteps / p.epochs / 4));
      if (p.step % every === 0 || p.step === p.totalSteps)
        log(`epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.totalSteps}: loss ${p.loss.toFixed(4)}, ${p.examplesPerSec.toFixed(0)} ex/s, ETA ${fmtSec(p.etaSec)}`);
    },
    stop: () => undefined,
  };
}

export function roundScores(s: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(s)) out[k] = Math.round(x * 1e6) / 1e6;
  return out;
}

#!/usr/bin/env node
/**
 * The `fused-multilabel` command: train, pretrain (lib/cli/pretrain.ts), evaluate, predict, report, export, info, bench.
 *
 * Every failure ends as one line on stderr (`fused-multilabel: <problem>`) and a non-zero exit code:
 * 2 for a usage error (unknown option, missing or malformed argument), 1 for anything else (a bad file,
 * a missing column, labels the model never saw, a model directory from another version).
 */
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { packageRoot } from './binding.js';
import { LOSS_PRESETS } from './loss_contract.js';
import { deviceInfo, version } from './device.js';
import { parseHubId } from './hub.js';
import { MAX_OPSET, MIN_OPSET } from './onnx/graph.js';
// the heavy modules (the encoder's binding, the trainer) load only for the commands that need them,
// so `info`, `--help` and usage errors answer at once
import type { TrainerOptions } from './trainer_options.js';
import { HELP } from './cli/help.js';
import { compactReport, fmtSec, formatReport, progressReporter, roundScores } from './cli/output.js';
import { DATA_OPTIONS, loadData, readTexts, type Dataset, type Values } from './cli/input.js';

import { checkInputFile, checkOutputDir, checkOutputFile, UsageError } from './cli/paths.js';
import { int, modelFlag, need, num, oneOf, parse } from './cli/flags.js';
import { printable } from './errors.js';

// the Trainer's option paths that a train flag sets (an invalid value names the flag, not the option)
const FLAG_OF: Record<string, string> = { 'thresholds.objective': 'threshold-objective', 'earlyStopping.metric': 'early-stopping', 'earlyStopping.patience': 'patience', 'thresholds.minSupport': 'min-support', 'thresholds.bags': 'threshold-bags' };

/** A Trainer option error (ERR_INVALID_ARG naming options.x) as a usage error naming the flag. */
function asUsageError(e: unknown): unknown {
  if ((e as { code?: string }).code !== 'ERR_INVALID_ARG') return e;
  const flag = (path: string) => FLAG_OF[path] ?? path.split('.')[0].replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  return new UsageError(`train: ${(e as Error).message.replace(/options\.([A-Za-z]+(?:\.[A-Za-z]+)*)/g, (_m, path: string) => `--${flag(path)}`)}`);
}

// --------------------------------------------------------------------------------------- commands

/** --min-support: an integer >= 0 or auto (undefined: the Trainer's default, auto). */
function minSupportFlag(command: string, x: unknown): number | 'auto' | undefined {
  if (x === undefined || x === 'auto') return x;
  const n = Number(x);
  if (String(x).trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`${command}: --min-support must be an integer >= 0 or auto, got "${String(x)}"`);
  return n;
}

async function train(args: string[]): Promise<void> {
  const { values: v } = parse('train', args, {
    data: { type: 'string' },
    val: { type: 'string' },
    test: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    loss: { type: 'string' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    'max-length': { type: 'string' },
    lr: { type: 'string' },
    'warmup-ratio': { type: 'string' },
    'weight-decay': { type: 'string' },
    'pos-weight': { type: 'string' },
    'pos-weight-clamp': { type: 'string' },
    'early-stopping': { type: 'string' },
    patience: { type: 'string' },
    'threshold-objective': { type: 'string' },
    'min-support': { type: 'string' },
    'threshold-bags': { type: 'string' },
    'vocab-size': { type: 'string' },
    'pretrain-epochs': { type: 'string' },
    device: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    ...DATA_OPTIONS,
  });
  if (v.help) return void console.log(HELP.train);
  const c = 'train';
  const dataPath = need(c, v, 'data');
  const out = need(c, v, 'out');
  if ((v.val === undefined) !== (v.test === undefined)) throw new UsageError('train: give both --val and --test, or neither (then --data is split 60/20/20)');
  const modelArg = (v.model as string | undefined) ?? 'auto';
  const model = modelFlag(c, modelArg, ['auto', 'ngram', 'tiny', 'small', 'base', 'ensemble']) as TrainerOptions['model'];
  let clamp: [number, number] | undefined;
  if (v['pos-weight-clamp'] !== undefined) {
    const parts = String(v['pos-weight-clamp']).split(',').map(Number);
    if (parts.length !== 2 || !parts.every((x) => Number.isFinite(x) && x > 0) || parts[0] > parts[1])
      throw new UsageError(`train: --pos-weight-clamp must be MIN,MAX with 0 < MIN <= MAX, got "${String(v['pos-weight-clamp'])}"`);
    clamp = [parts[0], parts[1]];
  }
  const esMetric = oneOf(c, v, 'early-stopping', ['val-loss', 'micro-f1', 'macro-f1', 'off'] as const);
  const patience = int(c, v, 'patience', 1);
  const json = v.json === true;
  const opts: TrainerOptions = {
    model,
    loss: oneOf(c, v, 'loss', LOSS_PRESETS),
    posWeight: oneOf(c, v, 'pos-weight', ['none', 'neg-pos', 'sqrt-neg-pos'] as const),
    posWeightClamp: clamp,
    epochs: int(c, v, 'epochs', 1),
    batchSize: int(c, v, 'batch-size', 1),
    maxLength: int(c, v, 'max-length', 3),
    lr: num(c, v, 'lr', 0, 10),
    warmupRatio: num(c, v, 'warmup-ratio', 0, 1),
    weightDecay: num(c, v, 'weight-decay', 0, 10),
    earlyStopping: esMetric === 'off' ? false : esMetric || patience ? { metric: esMetric, patience } : undefined,
    thresholds: { objective: oneOf(c, v, 'threshold-objective', ['micro-f1', 'macro-f1'] as const), minSupport: minSupportFlag(c, v['min-support']), bags: int(c, v, 'threshold-bags', 0) },
    vocabSize: int(c, v, 'vocab-size', 16),
    pretrainEpochs: int(c, v, 'pretrain-epochs', 0),
    device: oneOf(c, v, 'device', ['auto', 'cpu', 'cuda'] as const),
    seed: int(c, v, 'seed', 0),
  };
  // drop undefined options so the Trainer's defaults apply
  for (const k of Object.keys(opts) as (keyof TrainerOptions)[]) if (opts[k] === undefined) delete opts[k];
  if (opts.earlyStopping && typeof opts.earlyStopping === 'object') {
    if (opts.earlyStopping.patience === undefined) delete opts.earlyStopping.patience;
    if (opts.earlyStopping.metric === undefined) delete opts.earlyStopping.metric; // the model's own default
  }
  for (const k of ['objective', 'minSupport', 'bags'] as const) if (opts.thresholds?.[k] === undefined) delete opts.thresholds?.[k];

  // everything the user gave is checked before the data is read and long before training ends
  const outDir = checkOutputDir('out', out);
  const { assertReplaceable } = await import('./model_dir.js');
  assertReplaceable(outDir);
  checkInputFile('data', dataPath);
  if (v.val !== undefined) checkInputFile('val', v.val as string), checkInputFile('test', v.test as string);
  const progress = progressReporter(json);
  const { Trainer } = await import('./trainer.js');
  let trainer: InstanceType<typeof Trainer>;
  try {
    trainer = new Trainer({ ...opts, onProgress: progress.onProgress });
  } catch (e) {
    throw asUsageError(e);
  }
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');
  try {
    const data = await loadData(dataPath, v, 'data', log);
    let train: Dataset;
    let val: Dataset;
    let test: Dataset;
    let coverage: unknown;
    let extraLabels: string[] = [];
    if (v.val !== undefined) {
      train = data;
      val = await loadData(v.val as string, v, 'val', log);
      test = await loadData(v.test as string, v, 'test', log);
      // labels the training file lacks are kept (count 0, ZERO group, out of threshold tuning; fit warns)
      const zero = [...new Set([...val.labelSet, ...test.labelSet])].filter((l) => !train.labelSet.includes(l)).sort();
      if (zero.length > 0) log(`warning: ${zero.length} label${zero.length === 1 ? '' : 's'} of --val/--test never occur${zero.length === 1 ? 's' : ''} in --data: ${zero.join(', ')} (kept with training count 0)`);
      extraLabels = zero;
    } else {
      const { splitDataset } = await import('./split.js');
      ({ train, val, test, coverage } = splitDataset(data, { seed: opts.seed ?? 42 }));
    }
    const partialRows = train.rows.filter((r) => Array.isArray(r.negatives)).length;
    const n = train.rows.length + val.rows.length + test.rows.length;
    const pct = (x: Dataset) => Math.round((100 * x.rows.length) / n);
    log(
      `data: ${data.rows.length} rows, ${data.labelSet.length} labels; train ${train.rows.length}, val ${val.rows.length}, test ${test.rows.length}` +
        (v.val === undefined ? ` (iterative stratified split aiming at 60/20/20; got ${pct(train)}/${pct(val)}/${pct(test)})` : '') +
        (partialRows ? `; ${partialRows} partially annotated training rows` : ''),
    );
    if (trainer.options.modelAuto) {
      const { autoModelFor } = await import('./trainer_options.js');
      log(`model: ${autoModelFor(train.rows.length, new Set([...train.labelSet, ...val.labelSet, ...extraLabels]).size).reason}`);
    }
    const dataFiles: Record<string, string> = v.val === undefined ? { data: resolve(dataPath) } : { train: resolve(dataPath), validation: resolve(v.val as string), test: resolve(v.test as string) };
    const history = await trainer.fit(train, val, { splitCoverage: coverage, dataFiles, labels: extraLabels });
    progress.stop();
    const report = await trainer.evaluate(test, 'test');
    await trainer.save(outDir);
    if (json) {
      process.stdout.write(
        JSON.stringify({ out: outDir, bestEpoch: history.bestEpoch, stoppedEarly: history.stoppedEarly, history: history.epochs, ...(history.members ? { members: history.members } : {}), data: history.data, thresholds: history.thresholds, report: compactReport(report) }) + '\n',
      );
    } else {
      const e = history.epochs;
      const kept = history.members
        ? history.members.map((m) => `${m.name}: best epoch ${m.bestEpoch} of ${m.epochs.length}${m.validation ? `, alone val micro/macro F1 ${m.validation.microF1.toFixed(3)}/${m.validation.macroF1.toFixed(3)}` : ''}`).join('; ')
        : `best epoch ${history.bestEpoch}${history.stoppedEarly ? ', stopped early' : ''}`;
      console.log(
        `trained ${e.length} epoch${e.length === 1 ? '' : 's'} in ${fmtSec(history.seconds)} (${kept}); ` +
          `${history.data.unknownTargets.train} unknown training targets${history.data.unknownTargets.train ? ' masked out of the loss' : ''}`,
      );
      console.log('');
      console.log(formatReport(report));
      console.log('');
      console.log(`model saved to ${outDir} (open report.html there for the figures)`);
    }
  } finally {
    progress.stop();
    trainer.dispose();
  }
}

async function evaluateCmd(args: string[]): Promise<void> {
  const { values: v } = parse('evaluate', args, { model: { type: 'string' }, data: { type: 'string' }, device: { type: 'string' }, json: { type: 'boolean' }, ...DATA_OPTIONS });
  if (v.help) return void console.log(HELP.evaluate);
  const modelDir = need('evaluate', v, 'model');
  const dataPath = need('evaluate', v, 'data');
  const device = oneOf('evaluate', v, 'device', ['auto', 'cpu', 'cuda'] as const) ?? 'auto';
  const { Classifier } = await import('./classifier.js');
  const clf = await Classifier.load(modelDir, { device });
  try {
    const data = await loadData(dataPath, v, 'data', (s) => process.stderr.write(s + '\n'));
    const report = await clf.evaluate(data, dataPath);
    if (v.json) process.stdout.write(JSON.stringify(compactReport(report)) + '\n');
    else console.log(formatReport(report));
  } finally {
    clf.dispose();
  }
}

async function reportCmd(args: string[]): Promise<void> {
  const { values: v } = parse('report', args, { model: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, device: { type: 'string' }, ...DATA_OPTIONS });
  if (v.help) return void console.log(HELP.report);
  const modelDir = need('report', v, 'model');
  const device = oneOf('report', v, 'device', ['auto', 'cpu', 'cuda'] as const) ?? 'auto';
  const out = v.out === undefined ? undefined : checkOutputFile('out', v.out as string);
  if (v.data !== undefined) checkInputFile('data', v.data as string);
  const { Classifier } = await import('./classifier.js');
  const clf = await Classifier.load(modelDir, { device });
  try {
    const data = v.data === undefined ? undefined : await loadData(v.data as string, v, 'data', (s) => process.stderr.write(s + '\n'));
    const r = await clf.report({ data, split: v.data === undefined ? undefined : resolve(v.data as string), out: out ?? join(clf.dir!, 'report.html') });
    console.log(`report written to ${printable(r.path!)}`);
  } finally {
    clf.dispose();
  }
}

async function predict(args: string[]): Promise<void> {
  const { values: v } = parse('predict', args, {
    model: { type: 'string' },
    text: { type: 'string', multiple: true },
    data: { type: 'string' },
    'text-column': { type: 'string' },
    threshold: { type: 'string' },
    'top-k': { type: 'string' },
    device: { type: 'string' },
  });
  if (v.help) return void console.log(HELP.predict);
  const modelDir = need('predict', v, 'model');
  const texts = (v.text as string[] | undefined) ?? [];
  if (texts.length === 0 && v.data === undefined) throw new UsageError("predict: give --text \"...\" or --data FILE (see 'fused-multilabel predict --help')");
  if (texts.length > 0 && v.data !== undefined) throw new UsageError('predict: give --text or --data, not both');
  let threshold: 'tuned' | number = 'tuned';
  if (v.threshold !== undefined && v.threshold !== 'tuned') threshold = num('predict', v, 'threshold', 0, 1)!;
  const topK = int('predict', v, 'top-k', 1);
  const device = oneOf('predict', v, 'device', ['auto', 'cpu', 'cuda'] as const) ?? 'auto';
  const { Classifier } = await import('./classifier.js');
  const clf = await Classifier.load(modelDir, { device });
  try {
    const all = v.data !== undefined ? await readTexts(v.data as string, (v['text-column'] as string) ?? 'text') : texts;
    for (let i = 0; i < all.length; i += 256) {
      const chunk = all.slice(i, i + 256);
      const preds = await clf.predict(chunk, { threshold, topK: topK === undefined ? undefined : Math.min(topK, clf.labels.length) });
      process.stdout.write(preds.map((p, j) => JSON.stringify({ text: chunk[j], labels: p.labels, scores: roundScores(p.scores) })).join('\n') + '\n');
    }
  } finally {
    clf.dispose();
  }
}


async function exportCmd(args: string[]): Promise<void> {
  const { values: v } = parse('export', args, { model: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, opset: { type: 'string' } });
  if (v.help) return void console.log(HELP.export);
  const modelDir = need('export', v, 'model');
  need('export', v, 'format');
  oneOf('export', v, 'format', ['onnx'] as const);
  const opset = int('export', v, 'opset', MIN_OPSET);
  if (opset !== undefined && opset > MAX_OPSET) throw new UsageError(`export: --opset must be an integer in [${MIN_OPSET}, ${MAX_OPSET}], got "${String(v.opset)}"`);
  const out = typeof v.out === 'string' && v.out.length > 0 ? v.out : `${resolve(parseHubId(modelDir, '--model')?.repo.split('/').pop() ?? modelDir)}-onnx`;
  const { Classifier } = await import('./classifier.js');
  const clf = await Classifier.load(modelDir, { device: 'cpu' });
  let info;
  try {
    info = await clf.exportOnnx(out, { opset });
  } finally {
    clf.dispose();
  }
  const model = join(out, 'onnx', 'model.onnx');
  if (info.members) {
    const { NGRAM_EXPORT_NOTE } = await import('./onnx/export.js');
    console.log(`wrote the ensemble's members to ${out}, each a folder with onnx/model.onnx; logits = ${info.members.map((m) => `${m.weight} × ${m.name}`).join(' + ')} (config.json says so):`);
    for (const m of info.members) console.log(`  ${join(out, m.dir)}: inputs ${m.inputs.join(', ')}${m.transformersJs ? ' (transformers.js runs it alone)' : ''}`);
    if (info.members.some((m) => !m.transformersJs)) console.log(`note: ${NGRAM_EXPORT_NOTE}`);
  } else if (info.transformersJs) console.log(`wrote ${model} (opset ${info.opset}) and its config and tokenizer files to ${out}`);
  else {
    const { NGRAM_EXPORT_NOTE } = await import('./onnx/export.js');
    console.log(`wrote ${model} (opset ${info.opset}; inputs ${info.inputs.join(', ')}) and config.json with the featurizer specification to ${out}`);
    console.log(`note: ${NGRAM_EXPORT_NOTE}`);
  }
}

function info(args: string[]): void {
  const { values: v } = parse('info', args, { json: { type: 'boolean' } });
  if (v.help) return void console.log(HELP.info);
  const d = deviceInfo();
  if (v.json) return void console.log(JSON.stringify(d, null, 2));
  console.log(`fused-multilabel ${d.version}`);
  if (d.loadError) console.log(`native addon: NOT LOADED (${d.loadError})`);
  console.log(`compiled with CUDA: ${d.compiledWithCuda ? `yes (${d.cudaArchitectures.join(', ')}${d.cudaPtx ? ' + PTX' : ''})` : 'no'}`);
  console.log(`CUDA available: ${d.cuda.available ? `yes, ${d.cuda.deviceCount} device(s)` : `no (${d.cuda.error})`}`);
  for (const g of d.cuda.devices) console.log(`  [${g.index}] ${g.name}, compute ${g.computeCapability}, ${(g.totalMemory / 2 ** 30).toFixed(1)} GiB`);
  console.log(`SGEMM: ${d.sgemm}${d.blas === 'OpenBLAS' ? ' (OpenBLAS also linked, for benchmarks)' : ''}`);
  console.log(`attention kernel (inference, head sizes 16/32/64): ${d.attention}`);
  console.log(`CPU threads: ${d.threads.count} (${d.threads.backend})`);
}

function bench(args: string[]): void {
  if (args.includes('--help') || args.includes('-h')) return void console.log(HELP.bench);
  const runner = join(packageRoot, 'bench', 'run.mjs');
  if (!existsSync(runner)) throw new Error(`benchmarks are not part of this installation (${runner} is missing); run them from a git checkout`);
  const r = spawnSync(process.execPath, [runner, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(HELP.main);
      return;
    case '--version':
    case '-v':
      console.log(version);
      return;
    case 'train':
      return train(rest);
    case 'evaluate':
      return evaluateCmd(rest);
    case 'pretrain':
      return (await import('./cli/pretrain.js')).pretrainCmd(rest);
    case 'predict':
      return predict(rest);
    case 'report':
      return reportCmd(rest);
    case 'export':
      return exportCmd(rest);
    case 'info':
      return info(rest);
    case 'bench':
      return bench(rest);
    default:
      throw new UsageError(`unknown command "${command}"; commands: train, pretrain, evaluate, predict, report, export, info, bench (see 'fused-multilabel --help')`);
  }
}

function isMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const e = err as Error & { code?: string };
    // one line, and nothing a terminal would interpret (a binary file's bytes, escape sequences)
    const msg = printable(String(e?.message ?? err).split('\n')[0]);
    process.stderr.write(`fused-multilabel: ${msg}\n`);
    if (process.env.FUSED_MULTILABEL_DEBUG) process.stderr.write(`${e?.stack}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  });
}

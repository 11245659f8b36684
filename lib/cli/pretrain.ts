/** `fused-multilabel pretrain`: masked-LM pre-training of an encoder on a file of texts (lib/mlm.ts). */
import { extname, resolve } from 'node:path';
import { HELP } from './help.js';
import { readTexts } from './input.js';
import { fmtSec } from './output.js';
import { int, modelFlag, need, num, oneOf, parse } from './flags.js';
import { checkInputFile, checkOutputDir, UsageError } from './paths.js';
import { printable } from '../errors.js';
import type { PretrainOptions, PretrainProgress } from '../mlm.js';

const TEXT_FILES = ['.txt', '.csv', '.jsonl', '.ndjson'];

export async function pretrainCmd(args: string[]): Promise<void> {
  const c = 'pretrain';
  const { values: v } = parse(c, args, {
    data: { type: 'string' },
    out: { type: 'string' },
    model: { type: 'string' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    'max-length': { type: 'string' },
    lr: { type: 'string' },
    'mask-probability': { type: 'string' },
    'vocab-size': { type: 'string' },
    'text-column': { type: 'string' },
    device: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (v.help) return void console.log(HELP.pretrain);
  const dataPath = need(c, v, 'data');
  const out = need(c, v, 'out');
  const ext = extname(dataPath).toLowerCase();
  if (!TEXT_FILES.includes(ext)) throw new UsageError(`${c}: --data must be a .txt (one text per line), .csv or .jsonl file, got "${printable(dataPath)}"`);
  const opts: Omit<PretrainOptions, 'texts'> = {
    model: modelFlag(c, (v.model as string | undefined) ?? 'tiny', ['tiny', 'small', 'base']) as PretrainOptions['model'],
    epochs: int(c, v, 'epochs', 1),
    batchSize: int(c, v, 'batch-size', 1),
    maxLength: int(c, v, 'max-length', 3),
    lr: num(c, v, 'lr', 0, 10),
    maskProbability: num(c, v, 'mask-probability', 1e-6, 1),
    vocabSize: int(c, v, 'vocab-size', 16),
    device: oneOf(c, v, 'device', ['auto', 'cpu', 'cuda'] as const),
    seed: int(c, v, 'seed', 0),
  };
  for (const k of Object.keys(opts) as (keyof typeof opts)[]) if (opts[k] === undefined) delete opts[k];
  // the paths before the data is read and long before pre-training ends
  const outDir = checkOutputDir('out', out);
  const { assertReplaceable } = await import('../model_dir.js');
  assertReplaceable(outDir);
  checkInputFile('data', dataPath);
  const json = v.json === true;
  const log = (s: string) => (json ? process.stderr : process.stdout).write(s + '\n');
  const texts = (await readTexts(dataPath, (v['text-column'] as string) ?? 'text')).filter((t) => t.trim().length > 0);
  if (texts.length === 0) throw new Error(`${printable(dataPath)}: no texts`);
  log(`pretrain: ${texts.length} texts from ${printable(resolve(dataPath))}`);
  let every = 0;
  const onProgress = (p: PretrainProgress) => {
    if (p.phase === 'epoch') return log(`epoch ${p.epoch}/${p.epochs}: masked-LM loss ${p.loss.toFixed(4)}, ${p.examplesPerSec.toFixed(0)} texts/s`);
    every ||= Math.max(1, Math.round(p.totalSteps / p.epochs / 4));
    if (p.step % every === 0) log(`epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.totalSteps}: masked-LM loss ${p.loss.toFixed(4)}, ETA ${fmtSec(p.etaSec)}`);
  };
  const { pretrain } = await import('../mlm.js');
  let r;
  try {
    r = await pretrain(outDir, { ...opts, texts, onProgress });
  } catch (e) {
    // an option the library rejects names its flag
    if ((e as { code?: string }).code !== 'ERR_INVALID_ARG') throw e;
    throw new UsageError(`${c}: ${(e as Error).message.replace(/options\.([A-Za-z]+)/g, (_m, k: string) => `--${k.replace(/[A-Z]/g, (x) => '-' + x.toLowerCase())}`)}`);
  }
  if (json) process.stdout.write(JSON.stringify({ out: outDir, history: r.history, seconds: r.seconds }) + '\n');
  else console.log(`pre-trained ${r.history.length} epoch${r.history.length === 1 ? '' : 's'} in ${fmtSec(r.seconds)}; masked-LM model saved to ${outDir} (fine-tune it: fused-multilabel train --model ${outDir} ...)`);
}

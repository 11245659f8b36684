/**
 * Loads the native addon. Tries, in order: `FUSED_MULTILABEL_BINARY` (an explicit path), the cmake-js
 * build (`build-cmake/Release`), the node-gyp fallback build (`build/Release`), and the prebuilt binary
 * the package ships (`prebuilds/<platform>-<arch>`, made by `npm run prebuilds`). An installed package
 * has a build folder only when it was built from source on purpose (the install script builds nothing
 * when the prebuild loads), so a build wins over the prebuild. A missing binary throws ERR_NO_BINARY
 * naming the platform looked for, every path tried and the command that builds it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codedError } from './errors.js';
import type { DeviceInfo, DeviceName } from './device.js';
import type { MemoryUsage } from './encoder.js';
import type { NativeAdamWArgs, NativeSparseAdamWArgs } from './optimizer.js';
import type { EncoderConfig } from './encoder_config.js';
import type { NativeLossArgs } from './loss_contract.js';
import type { DType, TensorData } from './tensor.js';

/** The package root (the folder holding package.json), from dist/ or lib/. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A tensor owned by the addon (lib/tensor.ts wraps it). */
export interface NativeTensor {
  readonly shape: number[];
  readonly dtype: DType;
  readonly device: DeviceName;
  readonly disposed: boolean;
  toArray(): TensorData;
  dispose(): void;
}

/** The output options of bceWithLogits: a gradient into a given buffer, into the logits, or a new one. */
export interface NativeLossOutputs {
  grad: boolean;
  gradOut?: Float32Array | NativeTensor;
  inPlace: boolean;
}

export interface NativeLossResult {
  /** the reduced loss, or the per-element losses for reduction 'none' */
  loss: number | Float32Array;
  /** absent when grad is false; a tensor when the logits are one */
  grad?: Float32Array | NativeTensor;
  count: number;
}

type NativeLogits = Float32Array | NativeTensor;
type NativeTargets = Float32Array | Int8Array | Uint8Array | NativeTensor;

/** One row of the encoder's parameter table (offset and size in floats into the parameter arena). */
export interface NativeParamRow {
  name: string;
  shape: number[];
  offset: number;
  size: number;
  trainable: boolean;
}

/** The addon's encoder (native/addon/encoder_binding.cpp); lib/encoder.ts wraps it. */
export interface NativeEncoder {
  paramTable(): NativeParamRow[];
  setParameters(arena: Float32Array): void;
  /** Copies data into the parameter arena at `offset` (floats). */
  setParameterRange(offset: number, data: Float32Array): void;
  parameters(): Float32Array;
  gradients(): Float32Array;
  forward(inputIds: Int32Array, attentionMask: Uint8Array, tokenTypeIds: Int32Array | null, batchSize: number, seqLen: number, train: boolean): Promise<Float32Array>;
  backward(dlogits: Float32Array): Promise<void>;
  zeroGrad(): void;
  step(optimizer: NativeAdamWArgs): Promise<{ gradNorm: number }>;
  /** masked-LM encoders: labels (B·T) a token id to predict or -100; no optimizer: no dropout, no update */
  mlmStep(
    inputIds: Int32Array, attentionMask: Uint8Array, tokenTypeIds: Int32Array | null, batchSize: number, seqLen: number,
    labels: Int32Array, optimizer: NativeAdamWArgs | null,
  ): Promise<{ loss: number; count: number; gradNorm: number }>;
  trainStep(
    inputIds: Int32Array,
    attentionMask: Uint8Array,
    tokenTypeIds: Int32Array | null,
    batchSize: number,
    seqLen: number,
    targets: Float32Array | Int8Array | Uint8Array,
    loss: NativeLossArgs,
    optimizer: NativeAdamWArgs,
  ): Promise<{ loss: number; gradNorm: number }>;
  memory(): MemoryUsage;
  dispose(): void;
  readonly disposed: boolean;
  readonly busy: boolean;
  /** whether an inference forward skips padded tokens (native Encoder::skips_padding) */
  readonly skipsPadding: boolean;
}

/** Every function and class the addon users load exports (native/addon/*_binding.cpp). */
export interface NativeBinding {
  NativeTensor: new (data: TensorData, shape: number[], dtype: DType, device: DeviceName) => NativeTensor;
  NativeEncoder: new (config: Required<EncoderConfig>, device: DeviceName, seed: number) => NativeEncoder;
  deviceInfo(): Omit<DeviceInfo, 'version'>;
  setThreads(n: number): void;
  getThreads(): number;
  bceWithLogits(logits: NativeLogits, targets: NativeTargets, N: number, K: number, loss: NativeLossArgs, outputs: NativeLossOutputs): NativeLossResult;
  bceWithLogitsAsync(logits: NativeLogits, targets: NativeTargets, N: number, K: number, loss: NativeLossArgs, outputs: NativeLossOutputs): Promise<NativeLossResult>;
  /** native/ops/softmax_xent.h (CPU twin) through native/addon/losses_binding.cpp; dlogits may be logits itself */
  softmaxCrossEntropy(
    dlogits: Float32Array, losses: Float32Array, logits: Float32Array, targets: Int32Array, ignoreIndex: number,
    reduction: 'mean' | 'sum' | 'none', N: number, V: number,
  ): { loss: number; count: number };
  /** native/ops/embedding_bag.h through native/addon/ngram_binding.cpp (mode 0 mean, 1 sqrt-n) */
  embeddingBagForward(out: Float32Array, scale: Float32Array, weight: Float32Array, ids: Int32Array, offsets: Int32Array, mode: 0 | 1, B: number, C: number): void;
  embeddingBagBackward(drows: Float32Array, dout: Float32Array, scale: Float32Array, occBag: Int32Array, rowPtr: Int32Array, U: number, C: number): void;
  sparseAdamW(
    weight: Float32Array, m: Float32Array, v: Float32Array, drows: Float32Array, rows: Int32Array,
    options: NativeSparseAdamWArgs, U: number, C: number,
  ): void;
  /** native/ops/ngram_head.h: the n-gram model's dense layers and direct-path update, double sums in a fixed order */
  denseForward(y: Float32Array, x: Float32Array, W: Float32Array, b: Float32Array, B: number, I: number, O: number): void;
  denseBackward(dW: Float32Array, db: Float32Array, dx: Float32Array | null, dy: Float32Array, x: Float32Array, W: Float32Array, B: number, I: number, O: number): void;
  rowsSgd(p: Float32Array, g: Float32Array, rows: Int32Array, U: number, K: number, step: number): void;
  /** Σ x² in double: each array's sum in 8 lanes and a fixed tree, the arrays' sums added in order; x = float(x · s) */
  sumSquares(arrays: Float32Array[]): number;
  scaleRounded(x: Float32Array, s: number): void;
}

let cached: NativeBinding | undefined;

export function binaryCandidates(): string[] {
  const out: string[] = [];
  if (process.env.FUSED_MULTILABEL_BINARY) out.push(process.env.FUSED_MULTILABEL_BINARY);
  out.push(
    join(packageRoot, 'build-cmake/Release/fused_multilabel.node'),
    join(packageRoot, 'build/Release/fused_multilabel.node'),
    join(packageRoot, `prebuilds/${process.platform}-${process.arch}/fused_multilabel.node`),
  );
  return out;
}

export function loadBinding(): NativeBinding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const path of binaryCandidates()) {
    if (!existsSync(path)) {
      tried.push(`${path} (not found)`);
      continue;
    }
    try {
      cached = require(path) as NativeBinding;
      return cached;
    } catch (err) {
      tried.push(`${path} (${(err as Error).message.split('\n')[0]})`);
      if (process.env.FUSED_MULTILABEL_BINARY) break;
    }
  }
  throw noBinaryError(tried);
}

/** ERR_NO_BINARY: the platform looked for, the paths tried, and the one command that builds the addon here. */
export function noBinaryError(tried: readonly string[]): Error {
  const root = packageRoot;
  const platform = `${process.platform}-${process.arch}`;
  // Installed as a dependency (…/node_modules/fused-multilabel): npm rebuilds it from the user's project.
  const installed = /[\\/]node_modules[\\/]/.test(root);
  const command = installed ? 'npm rebuild fused-multilabel --build-from-source (in your project)' : `npm run build:native (in ${root})`;
  return codedError(
    'ERR_NO_BINARY',
    `The fused-multilabel native addon could not be loaded: no binary for ${platform} (Node ${process.versions.node}, N-API ${process.versions.napi}). Tried:\n  ${tried.join('\n  ')}\n` +
      `Build it from source (needs CMake and a C++17 compiler; nvcc for CUDA) with: ${command}`,
  );
}

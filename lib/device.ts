/** Device probe and CPU thread control. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBinding, packageRoot } from './binding.js';
import { checkInteger, codedError, showValue } from './errors.js';

export interface CudaDevice {
  index: number;
  name: string;
  /** "major.minor", e.g. "9.0" */
  computeCapability: string;
  /** bytes */
  totalMemory: number;
}

export interface DeviceInfo {
  version: string;
  compiledWithCuda: boolean;
  /** Real architectures compiled in, e.g. ["sm_80", "sm_86", "sm_89", "sm_90"] */
  cudaArchitectures: string[];
  /** Whether PTX is embedded for JIT on newer GPUs */
  cudaPtx: boolean;
  cuda: { available: boolean; deviceCount: number; devices: CudaDevice[]; error: string | null };
  /** 'OpenBLAS' when the build linked it (used only by the SGEMM benchmark), else 'built-in' */
  blas: string;
  /**
   * The CPU SGEMM micro-kernel every CPU matrix product uses: 'avx512 14x32', 'avx2 6x16' or 'portable 4x8' ('portable 8x8' on AArch64)
   * (FUSED_MULTILABEL_NO_AVX512=1 forces AVX2, FUSED_MULTILABEL_NO_AVX2=1 the portable one).
   */
  sgemm: string;
  /**
   * The CPU attention kernel of an inference forward at head sizes 16, 32 and 64 (every preset and BERT shape):
   * 'avx512', 'avx2' or 'generic' (SGEMM products and a portable softmax; other head sizes always take it).
   * The same environment variables force the lower paths.
   */
  attention: string;
  threads: { count: number; backend: string };
  /** Set when the native addon could not be loaded (then nothing else is usable). */
  loadError?: string;
}

export type DeviceName = 'cpu' | 'cuda';
export type DeviceOption = DeviceName | 'auto';

export const version: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

/** What this build and this machine can do. Never throws. */
export function deviceInfo(): DeviceInfo {
  try {
    const info = loadBinding().deviceInfo();
    return { version, ...info };
  } catch (err) {
    return {
      version,
      compiledWithCuda: false,
      cudaArchitectures: [],
      cudaPtx: false,
      cuda: { available: false, deviceCount: 0, devices: [], error: (err as Error).message },
      blas: 'unknown',
      sgemm: 'unknown',
      attention: 'unknown',
      threads: { count: 0, backend: 'unknown' },
      loadError: (err as Error).message,
    };
  }
}

/** Sets the CPU twins' thread count (also OpenBLAS's). The default comes from FUSED_MULTILABEL_THREADS or the core count. */
export function setThreads(n: number): void {
  checkInteger('n', n, 1, 1024);
  loadBinding().setThreads(n);
}

/** The CPU twins' current thread count. */
export function getThreads(): number {
  return loadBinding().getThreads();
}

let autoNoticeShown = false;

/**
 * Resolves a device option: 'cuda' throws ERR_CUDA with the reason when no GPU is usable; 'auto' picks
 * CUDA when available, otherwise the CPU (saying why once, when FUSED_MULTILABEL_VERBOSE is set).
 */
export function resolveDevice(option: DeviceOption = 'auto', name = 'device'): DeviceName {
  if (option !== 'auto' && option !== 'cpu' && option !== 'cuda') {
    throw Object.assign(new TypeError(`Expected 'auto' | 'cpu' | 'cuda' for ${name} but received ${showValue(option)}`), {
      code: 'ERR_INVALID_ARG',
    });
  }
  if (option === 'cpu') return 'cpu';
  const forced = process.env.FUSED_MULTILABEL_DEVICE;
  const info = deviceInfo();
  if (option === 'cuda') {
    if (!info.cuda.available) throw codedError('ERR_CUDA', `CUDA was requested but is not available: ${info.cuda.error}`);
    return 'cuda';
  }
  if (forced === 'cpu') return 'cpu';
  if (info.cuda.available) return 'cuda';
  if (!autoNoticeShown && process.env.FUSED_MULTILABEL_VERBOSE) {
    autoNoticeShown = true;
    console.error(`fused-multilabel: using the CPU (${info.cuda.error})`);
  }
  return 'cpu';
}

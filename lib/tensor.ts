/**
 * Tensor: a small device-resident buffer with a dtype and a shape (row-major). Not a tensor library:
 * it exists so data can stay on the GPU between calls. Free it with `dispose()` (or `using`); a
 * finalizer frees it if it is garbage-collected first.
 */
import { loadBinding, type NativeTensor } from './binding.js';
import { resolveDevice, type DeviceName, type DeviceOption } from './device.js';
import { checkInteger, checkOptions, disposedError, rejectUnknownKeys, typeError } from './errors.js';

export type DType = 'float32' | 'float16' | 'bfloat16' | 'int8' | 'uint8' | 'int32';
export type TensorData = Float32Array | Int8Array | Uint8Array | Int32Array;

const DTYPES: readonly DType[] = ['float32', 'float16', 'bfloat16', 'int8', 'uint8', 'int32'];
const ARRAY_FOR: Record<DType, { name: string; ctor: new (n: number | ArrayLike<number>) => TensorData }> = {
  float32: { name: 'Float32Array', ctor: Float32Array },
  float16: { name: 'Float32Array', ctor: Float32Array },
  bfloat16: { name: 'Float32Array', ctor: Float32Array },
  int8: { name: 'Int8Array', ctor: Int8Array },
  uint8: { name: 'Uint8Array', ctor: Uint8Array },
  int32: { name: 'Int32Array', ctor: Int32Array },
};

function inferDType(data: unknown): DType | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int32Array) return 'int32';
  if (Array.isArray(data)) return 'float32';
  return undefined;
}

export interface TensorOptions {
  /** 'auto' (default) picks CUDA when a GPU is usable, otherwise the CPU. */
  device?: DeviceOption;
  /** Defaults to the dtype of `data` (float32 for a number array). float16/bfloat16 take a Float32Array. */
  dtype?: DType;
}

const handles = new WeakMap<Tensor, NativeTensor>();

export class Tensor {
  private constructor(handle: NativeTensor) {
    handles.set(this, handle);
  }

  /**
   * Uploads `data` (row-major, `shape`'s product elements) to a device.
   * @param data Float32Array (float32/float16/bfloat16), Int8Array, Uint8Array, Int32Array, or a number array
   * @param shape non-negative integers
   */
  static from(data: TensorData | number[], shape: readonly number[], options?: TensorOptions): Tensor {
    const opts = checkOptions('options', options);
    rejectUnknownKeys('Tensor.from options', opts, ['device', 'dtype']);
    if (!Array.isArray(shape)) throw typeError('shape', 'an array of non-negative integers', shape);
    let numel = 1;
    shape.forEach((d, i) => {
      numel *= checkInteger(`shape[${i}]`, d, 0, 2 ** 40);
    });
    const inferred = inferDType(data);
    if (inferred === undefined) throw typeError('data', 'a Float32Array, Int8Array, Uint8Array, Int32Array or number[]', data);
    const dtype = (opts.dtype ?? inferred) as DType;
    if (!DTYPES.includes(dtype)) throw typeError('options.dtype', DTYPES.map((d) => `'${d}'`).join(' | '), opts.dtype);
    const want = ARRAY_FOR[dtype];
    let arr: TensorData;
    if (Array.isArray(data)) {
      arr = new want.ctor(data);
    } else if (!(data instanceof want.ctor)) {
      throw typeError('data', `a ${want.name} for dtype '${dtype}'`, data);
    } else {
      arr = data;
    }
    if (arr.length !== numel)
      throw Object.assign(
        new RangeError(`Expected data of length ${numel} for shape [${shape.join(', ')}] but received length ${arr.length}`),
        { code: 'ERR_INVALID_ARG' },
      );
    const device = resolveDevice((opts.device ?? 'auto') as DeviceOption, 'options.device');
    const native = loadBinding();
    return new Tensor(new native.NativeTensor(arr, [...shape], dtype, device));
  }

  /** Wraps a native tensor made by the addon (e.g. a gradient computed on the GPU). @internal */
  static fromNative(handle: NativeTensor): Tensor {
    return new Tensor(handle);
  }

  private get handle(): NativeTensor {
    const h = handles.get(this);
    if (!h || h.disposed) throw disposedError('Tensor');
    return h;
  }

  get shape(): number[] {
    return this.handle.shape;
  }
  get dtype(): DType {
    return this.handle.dtype;
  }
  get device(): DeviceName {
    return this.handle.device;
  }
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get disposed(): boolean {
    const h = handles.get(this);
    return !h || (h.disposed as boolean);
  }

  /** Copies the data to the host: a Float32Array for float dtypes, else the matching integer array. */
  toArray(): TensorData {
    return this.handle.toArray();
  }

  /** Frees the memory now. Idempotent. Throws ERR_BUSY while an async operation uses the tensor. */
  dispose(): void {
    const h = handles.get(this);
    if (h && !h.disposed) h.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** The native handle of a tensor, for bindings (throws ERR_DISPOSED). @internal */
export function nativeTensor(t: Tensor): NativeTensor {
  return (t as unknown as { handle: NativeTensor }).handle;
}

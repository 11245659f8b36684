/**
 * A small ONNX graph builder over the `onnx-proto` message classes (protobufjs, compiled from ONNX's
 * onnx.proto): nodes with generated output names, float32/int64 initializers stored as raw little-endian
 * bytes, graph inputs/outputs with named (dynamic) or fixed dimensions, and the encoded ModelProto.
 * `onnx-proto` is loaded on first use, so importing the package needs no third-party module.
 */
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import type { onnx as OnnxNs } from 'onnx-proto';
import { rangeError } from '../errors.js';
import { version } from '../device.js';

const require = createRequire(import.meta.url);
let onnxNs: typeof OnnxNs | undefined;
function proto(): typeof OnnxNs {
  onnxNs ??= (require('onnx-proto') as { onnx: typeof OnnxNs }).onnx;
  return onnxNs;
}

/** Opsets the exporter writes, and the IR version each needs (onnx/helper.py's VERSION_TABLE). */
const IR_VERSION: Record<number, number> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };
export const MIN_OPSET = 13;
export const MAX_OPSET = 21;
export const DEFAULT_OPSET = 17;

/** Checks an opset option (ERR_INVALID_ARG naming `name`). */
export function checkOpset(name: string, value: unknown): number {
  if (value === undefined) return DEFAULT_OPSET;
  if (typeof value !== 'number' || !Number.isInteger(value) || IR_VERSION[value] === undefined)
    throw rangeError(name, `an integer ONNX opset in [${MIN_OPSET}, ${MAX_OPSET}]`, value);
  return value;
}

export type Attr = { i: number } | { f: number } | { ints: number[] };
export const int = (i: number): Attr => ({ i });
export const float = (f: number): Attr => ({ f });
export const ints = (v: number[]): Attr => ({ ints: v });

/** A graph input or output: element type and dimensions (a string is a named dynamic axis). */
export interface ValueSpec {
  name: string;
  type: 'float32' | 'int64';
  dims: (number | string)[];
}

// ONNX raw_data is little-endian: a view of the array's bytes on little-endian machines (the encoder
// copies them once), converted otherwise.
function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  if (endianness() === 'LE') return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const view = new DataView(out.buffer);
  if (a instanceof Float32Array) a.forEach((x, i) => view.setFloat32(4 * i, x, true));
  else a.forEach((x, i) => view.setBigInt64(8 * i, x, true));
  return out;
}

/** What a graph builder returns: the serialized model and its inputs and outputs. */
export interface ModelGraph {
  model: Uint8Array;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

export class GraphBuilder {
  readonly opset: number;
  readonly #nodes: OnnxNs.INodeProto[] = [];
  readonly #inits: OnnxNs.ITensorProto[] = [];
  readonly #consts = new Map<string, string>();
  #next = 0;

  constructor(opset: number) {
    this.opset = opset;
  }

  /** Adds a float32 or int64 initializer (a parameter or a constant) and returns its name. */
  init(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`initializer ${name}: ${data.length} values for shape [${dims.join(', ')}]`);
    const T = proto().TensorProto.DataType;
    this.#inits.push({ name, dims, dataType: data instanceof Float32Array ? T.FLOAT : T.INT64, rawData: bytesOf(data) });
    return name;
  }

  /** A 1-D int64 constant (shared between uses). */
  i64(values: number[]): string {
    const key = `i64:${values.join(',')}`;
    let name = this.#consts.get(key);
    if (!name) this.#consts.set(key, (name = this.init(`const_i64_${this.#consts.size}`, [values.length], BigInt64Array.from(values, BigInt))));
    return name;
  }

  /** A scalar float32 constant (shared between uses). */
  f32(value: number): string {
    const key = `f32:${value}`;
    let name = this.#consts.get(key);
    if (!name) this.#consts.set(key, (name = this.init(`const_f32_${this.#consts.size}`, [], Float32Array.of(value))));
    return name;
  }

  /** A scalar int64 constant (Gather with it drops the axis). */
  scalarI64(value: number): string {
    const key = `si64:${value}`;
    let name = this.#consts.get(key);
    if (!name) this.#consts.set(key, (name = this.init(`const_i64_${this.#consts.size}`, [], BigInt64Array.of(BigInt(value)))));
    return name;
  }

  /**
   * A linear layer x·Wᵀ + b: W (PyTorch layout out×in) is stored transposed as `${prefix}.weight_T`
   * (in×out), b as `${prefix}.bias`, so it is one MatMul + Add.
   */
  linear(x: string, prefix: string, weight: Float32Array, bias: Float32Array, inDim: number, outDim: number): string {
    const w = this.init(`${prefix}.weight_T`, [inDim, outDim], transpose(weight, outDim, inDim));
    return this.op('Add', [this.op('MatMul', [x, w]), this.init(`${prefix}.bias`, [outDim], bias)]);
  }

  /** Appends a node and returns the name of its (single) output. */
  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const out = output ?? `${type}_${this.#next++}`;
    const A = proto().AttributeProto.AttributeType;
    const attribute = Object.entries(attrs).map(([name, a]) =>
      'i' in a ? { name, type: A.INT, i: a.i } : 'f' in a ? { name, type: A.FLOAT, f: a.f } : { name, type: A.INTS, ints: a.ints },
    );
    this.#nodes.push({ opType: type, name: out, input: inputs, output: [out], attribute });
    return out;
  }

  /** The serialized ModelProto (default domain at this builder's opset). */
  encode(graphName: string, inputs: ValueSpec[], outputs: ValueSpec[], docString: string): Uint8Array {
    const onnx = proto();
    const T = onnx.TensorProto.DataType;
    const valueInfo = (v: ValueSpec): OnnxNs.IValueInfoProto => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: v.type === 'float32' ? T.FLOAT : T.INT64,
          shape: { dim: v.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
        },
      },
    });
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION[this.opset],
      opsetImport: [{ domain: '', version: this.opset }],
      producerName: 'fused-multilabel',
      producerVersion: version,
      docString,
      graph: {
        name: graphName,
        node: this.#nodes,
        initializer: this.#inits,
        input: inputs.map(valueInfo),
        output: outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

// What the ONNX export tests share: the optional engines (onnxruntime-node, onnxruntime-web,
// @huggingface/transformers: dev dependencies) and the official checker (python3 with the onnx module).
// A test that needs one is skipped with the reason printed when it is missing; REQUIRE_ONNX=1 (the
// engines) and REQUIRE_ONNX_CHECKER=1 (the checker) turn that skip into a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';

async function optional(name) {
  try {
    return { mod: await import(name) };
  } catch (err) {
    return { reason: `${name} is not installed (${String(err.message).split('\n')[0]})` };
  }
}

export const ortLoad = await optional('onnxruntime-node');
export const ort = ortLoad.mod?.default;
export const tjsLoad = await optional('@huggingface/transformers');
export const tjs = tjsLoad.mod;
// onnxruntime-web (the browser engine, WebAssembly backend; it comes with @huggingface/transformers) runs in Node too
export const webLoad = await optional('onnxruntime-web');
if (webLoad.mod) webLoad.mod.env.wasm.numThreads = 1;

function pythonOnnx() {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import onnx, onnx.defs; print(onnx.defs.onnx_opset_version())'], { encoding: 'utf8' });
    if (r.status === 0) return { py, maxOpset: Number(r.stdout.trim()) };
  }
  return null;
}
const checker = pythonOnnx();
export const checkerLoad = checker ? { mod: checker } : { reason: 'no python3 with the onnx module (apt-get install python3-onnx)' };

/** A test that needs an optional module (a `...Load` above): skipped with the reason, failed under REQUIRE_ONNX=1. */
export function needs(load, name, fn) {
  const required = load === checkerLoad ? process.env.REQUIRE_ONNX_CHECKER === '1' : process.env.REQUIRE_ONNX === '1';
  if (load.mod) return test(name, fn);
  const variable = load === checkerLoad ? 'REQUIRE_ONNX_CHECKER' : 'REQUIRE_ONNX';
  if (required) return test(name, () => assert.unreachable(`${variable}=1 but ${load.reason}`));
  console.log(`skipping "${name}": ${load.reason}`);
  return test.skip(name, fn);
}

const CHECK_SCRIPT = [
  'import sys, onnx',
  'from onnx import checker, shape_inference',
  'for p in sys.argv[1:]:',
  '    m = onnx.load(p)',
  '    checker.check_model(m, full_check=True)',
  '    out = shape_inference.infer_shapes(m, strict_mode=True).graph.output[0]',
  '    print(out.name, [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim])',
].join('\n');

/**
 * The official checker (full check) and strict shape inference over model files: one line per file,
 * `logits ['batch', K]`. `opset(n)` caps an opset at what the installed onnx module knows.
 */
export const onnxChecker = checker && {
  opset: (n) => Math.min(n, checker.maxOpset),
  run(paths) {
    const r = spawnSync(checker.py, ['-c', CHECK_SCRIPT, ...paths], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n');
  },
};

export function maxDiff(a, b) {
  assert.is(a.length, b.length, 'lengths');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

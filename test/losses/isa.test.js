// The CPU twin has three builds of its kernel (portable SSE2, AVX2+FMA, AVX-512) chosen at run time;
// this runs the PyTorch fixture suite once more under each forced lower level, in child processes.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose } from '../helpers/assert.js';

const fixtures = fileURLToPath(new URL('./fixtures.test.js', import.meta.url));
const battery = fileURLToPath(new URL('./isa_battery.mjs', import.meta.url));

for (const env of ['FUSED_MULTILABEL_NO_AVX512', 'FUSED_MULTILABEL_NO_AVX2']) {
  test(`fixture suite passes with ${env}=1`, () => {
    const r = spawnSync(process.execPath, [fixtures], { env: { ...process.env, [env]: '1' }, encoding: 'utf8' });
    assert.is(r.status, 0, `${env}: ${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    assert.match(r.stdout, /Passed:\s+\d+/);
  });
}

// Every vector path the machine can run (AVX-512, AVX2 with FUSED_MULTILABEL_NO_AVX512=1, portable with
// FUSED_MULTILABEL_NO_AVX2=1) against the scalar reference (FUSED_MULTILABEL_BCE_REFERENCE=1: bce_cpu.cpp's
// rows_reference, one element at a time with bce.h's general formulas) on every configuration of the
// battery: each variant, weights, masks, ignore values, smoothing, float/int8/uint8 targets, hard, soft and
// mixed labels, special logits, rows longer than a tile, gradOut and in-place gradients.
function runBattery(env) {
  const r = spawnSync(process.execPath, [battery], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.is(r.status, 0, r.stderr.slice(-2000));
  return JSON.parse(r.stdout);
}
const PATHS = [['AVX-512 (or the best the CPU has)', {}], ['AVX2', { FUSED_MULTILABEL_NO_AVX512: '1' }], ['portable', { FUSED_MULTILABEL_NO_AVX2: '1' }]];
test('every vector path equals the scalar reference on the battery (losses and gradients)', () => {
  const ref = runBattery({ FUSED_MULTILABEL_BCE_REFERENCE: '1' });
  assert.ok(ref.length >= 150, `${ref.length} configurations`);
  const num = (v) => (Array.isArray(v) ? v.map(Number) : Number(v));
  for (const [path, env] of PATHS) {
    const got = runBattery(env);
    assert.is(got.length, ref.length);
    for (let i = 0; i < ref.length; i++) {
      const label = `${path}: ${ref[i].name}`;
      assert.is(got[i].name, ref[i].name);
      assertClose(num(got[i].loss), num(ref[i].loss), { atol: 1e-6, rtol: 1e-5, label: `${label} loss` });
      assertClose(num(got[i].grad), num(ref[i].grad), { atol: 1e-6, rtol: 1e-5, label: `${label} grad` });
    }
  }
});

test('the reference is not a vector path in disguise: it differs from them in the last bits somewhere', () => {
  const ref = runBattery({ FUSED_MULTILABEL_BCE_REFERENCE: '1' });
  const got = runBattery({});
  assert.ok(ref.some((r, i) => JSON.stringify(r.grad) !== JSON.stringify(got[i].grad)), 'the reference path did not run');
});

test.run();

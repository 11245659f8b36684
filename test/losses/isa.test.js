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

// The AVX-512 build has its own hand-written loops (BCE, focal γ=2, hard-label DB γ=2); the other builds
// run the compiler-vectorised bce_math code. Both must agree on every configuration of the battery.
function runBattery(env) {
  const r = spawnSync(process.execPath, [battery], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.is(r.status, 0, r.stderr.slice(-2000));
  return JSON.parse(r.stdout);
}
test('every ISA build gives the same losses and gradients (battery of variants, weights, masks, specials)', () => {
  const ref = runBattery({ FUSED_MULTILABEL_NO_AVX512: '1' });
  for (const env of [{}, { FUSED_MULTILABEL_NO_AVX2: '1' }]) {
    const got = runBattery(env);
    assert.is(got.length, ref.length);
    for (let i = 0; i < ref.length; i++) {
      const label = `${JSON.stringify(env)} ${ref[i].name}`;
      const num = (v) => (Array.isArray(v) ? v.map(Number) : Number(v));
      assertClose(num(got[i].loss), num(ref[i].loss), { atol: 1e-6, rtol: 1e-5, label: `${label} loss` });
      assertClose(num(got[i].grad), num(ref[i].grad), { atol: 1e-6, rtol: 1e-5, label: `${label} grad` });
    }
  }
});

test.run();

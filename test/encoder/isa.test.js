// The encoder's CPU kernels have three SGEMM paths (AVX-512, AVX2+FMA, portable; see
// native/ops/sgemm_cpu.cpp) chosen at run time. The PyTorch reference states, the finite-difference
// gradient checks, AdamW's bits and the dropout masks run here once more under each forced lower path, in child
// processes, unchanged (the default path runs them in reference.test.js, gradcheck.test.js, adamw.test.js and
// dropout.test.js themselves).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deviceInfo } from '../../dist/index.js';

const files = ['reference.test.js', 'gradcheck.test.js', 'adamw.test.js', 'dropout.test.js'].map((f) => fileURLToPath(new URL(`./${f}`, import.meta.url)));
const paths = [
  ['FUSED_MULTILABEL_NO_AVX512', /^(avx2 6x16|portable \dx8)$/],
  ['FUSED_MULTILABEL_NO_AVX2', /^portable \dx8$/],
];

for (const [env, want] of paths) {
  test(`reference states and gradient checks pass with ${env}=1`, () => {
    const childEnv = { ...process.env, [env]: '1', FUSED_MULTILABEL_DEVICE: 'cpu' };
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `import('${new URL('../../dist/index.js', import.meta.url)}').then((m) => console.log(m.deviceInfo().sgemm))`], { env: childEnv, encoding: 'utf8' });
    assert.match(probe.stdout.trim(), want, `${env} selects ${want.source}`);
    for (const f of files) {
      const r = spawnSync(process.execPath, [f], { env: childEnv, encoding: 'utf8' });
      assert.is(r.status, 0, `${env} ${f}: ${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
      assert.match(r.stdout, /Passed:\s+[1-9]\d*/);
    }
  });
}

test('the default path is the best this CPU has', () => {
  assert.match(deviceInfo().sgemm, /^(avx512 14x32|avx2 6x16|portable \dx8)$/);
});

test.run();

// The CPU twin has three builds of its kernel (portable SSE2, AVX2+FMA, AVX-512) chosen at run time;
// this runs the PyTorch fixture suite once more under each forced lower level, in child processes.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const fixtures = fileURLToPath(new URL('./fixtures.test.js', import.meta.url));

for (const env of ['FUSED_MULTILABEL_NO_AVX512', 'FUSED_MULTILABEL_NO_AVX2']) {
  test(`fixture suite passes with ${env}=1`, () => {
    const r = spawnSync(process.execPath, [fixtures], { env: { ...process.env, [env]: '1' }, encoding: 'utf8' });
    assert.is(r.status, 0, `${env}: ${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    assert.match(r.stdout, /Passed:\s+\d+/);
  });
}

test.run();

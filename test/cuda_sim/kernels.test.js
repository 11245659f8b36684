// Every CUDA kernel, executed on the CPU by the test-only CUDA simulator (native/testing/cuda_sim.h):
// each op's CUDA twin against its CPU twin, the fused loss's launches, a whole encoder trainStep, and the
// simulator's own checks. Any memcheck/racecheck/initcheck/synccheck/launch report fails the case.
// Needs only a C++ compiler (no GPU): skipped with the reason when there is none; REQUIRE_CUDA_SIM=1
// turns that skip into a failure.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { buildCudaSim, missingCompiler } from '../../scripts/build-cuda-sim.mjs';

const missing = missingCompiler();
if (missing && process.env.REQUIRE_CUDA_SIM !== '1') {
  console.log(`skipping the CUDA simulator tests: ${missing}`);
  test.skip('CUDA twins on the CUDA simulator', () => {});
} else if (missing) {
  test('CUDA twins on the CUDA simulator', () => assert.unreachable(`REQUIRE_CUDA_SIM=1 but ${missing}`));
} else {
  const bin = await buildCudaSim();
  const names = spawnSync(bin, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  const run = spawnSync(bin, [], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const lines = new Map();
  for (const l of run.stdout.split('\n')) {
    const m = /^(ok|FAIL) (.*?)(?: \(\d+ ms\)| :: (.*))?$/.exec(l);
    if (m) lines.set(m[2], { ok: m[1] === 'ok', why: m[3] });
  }
  test('the simulator lists the cases of every op', () => {
    for (const op of ['sim:', 'gelu', 'dropout', 'pooler', 'embedding', 'layernorm', 'sgemm', 'matmul', 'attention',
      'adamw', 'softmax_xent', 'loss bce', 'loss focal', 'loss asl', 'loss db', 'encoder trainStep', 'encoder mlmStep'])
      assert.ok(names.some((n) => n.startsWith(op)), `no case for ${op}`);
  });
  for (const name of names)
    test(name, () => {
      const r = lines.get(name);
      assert.ok(r, `no result (simulator exit ${run.status ?? run.signal}):\n${run.stderr.slice(-2000)}`);
      assert.ok(r.ok, r.why);
    });
}

test.run();

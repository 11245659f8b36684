// The CPU code on AArch64 (ARM servers, Apple silicon under Linux), which no machine of this project runs: with
// an AArch64 cross compiler (Debian: g++-aarch64-linux-gnu) and qemu-aarch64 (qemu-user), every source the addon
// builds from is compiled for AArch64 with warnings as errors, and native/testing/cross_check.cpp
// (scripts/build-cross-check.mjs) runs there: the portable SGEMM's AArch64 form (the 8×8 NEON kernel) against a
// double reference, and four BERT/DistilBERT encoders (inference forward, then a backward) whose logits and
// gradient norms must match the same program built for this machine (also with warnings as errors: the CPU
// sources compile without a warning with this machine's compiler too). Without the tools the tests are skipped
// with the reason printed; REQUIRE_AARCH64=1 (set by .ci/run) makes that a failure. About 35 s with a cold
// object cache (build-cross/), 5 s warm.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCrossCheck, compilerVersion, TARGETS } from '../../scripts/build-cross-check.mjs';

const missing = [];
if (!compilerVersion(TARGETS.aarch64.cxx)) missing.push(`no ${TARGETS.aarch64.cxx} (apt-get install g++-aarch64-linux-gnu)`);
if (spawnSync('qemu-aarch64', ['--version']).status !== 0) missing.push('no qemu-aarch64 (apt-get install qemu-user)');
if (!compilerVersion(TARGETS.host.cxx)) missing.push(`no ${TARGETS.host.cxx}`);
const why = missing.join('; ');

/** "<case> <what> v1 v2 ..." lines of a run, by "<case> <what>". */
function parse(stdout) {
  const out = new Map();
  for (const line of stdout.split('\n')) {
    const [name, what, ...vals] = line.trim().split(/\s+/);
    if (what === 'logits' || what === 'grad_norms') out.set(`${name} ${what}`, vals.map(Number));
  }
  return out;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20, timeout: 5 * 60 * 1000 });
  return { status: r.status, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

if (missing.length > 0 && process.env.REQUIRE_AARCH64 !== '1') {
  console.log(`skipping the AArch64 checks: ${why}`);
  test.skip('every addon source compiles for AArch64; its SGEMM and encoders are right under qemu-aarch64', () => {});
} else {
  let arm = null;
  test('every source of the addon compiles for AArch64 (warnings as errors), and the check links', async () => {
    assert.is(missing.length, 0, `REQUIRE_AARCH64=1 but ${why}`);
    arm = await buildCrossCheck(TARGETS.aarch64);
  });

  test('AArch64: the SGEMM matches a double reference; the encoders match this machine\'s build (no warnings)', async () => {
    assert.ok(arm, 'the AArch64 build failed (above)');
    const a = run('qemu-aarch64', [arm]);
    assert.is(a.status, 0, `the AArch64 check failed:\n${a.out}${a.err}`);
    assert.match(a.out, /^sgemm (\d+) checks, 0 failed$/m);
    assert.ok(Number(/^sgemm (\d+) checks/m.exec(a.out)[1]) >= 100, 'too few SGEMM checks ran');
    const host = await buildCrossCheck(TARGETS.host);
    const h = run(host, []);
    assert.is(h.status, 0, `the host check failed:\n${h.out}${h.err}`);
    const ref = parse(h.out), got = parse(a.out);
    assert.is(ref.size, 8, `expected 4 encoders' logits and gradient norms, got ${[...ref.keys()]}`);
    assert.equal([...got.keys()], [...ref.keys()]);
    for (const [key, want] of ref) {
      const have = got.get(key);
      assert.is(have.length, want.length, key);
      // float rounding in another order (NEON vs AVX-512 kernels): 1e-4 relative, against the row's scale near 0
      const scale = Math.max(...want.map(Math.abs));
      assert.ok(scale > 0.1, `${key}: values too small to compare (${scale})`);
      want.forEach((w, i) => {
        const tol = 1e-4 * Math.abs(w) + 1e-6 * scale;
        assert.ok(Math.abs(have[i] - w) <= tol, `${key}[${i}]: AArch64 ${have[i]}, this machine ${w}`);
      });
    }
  });
}

test.run();

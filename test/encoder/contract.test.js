// The optimizer and config contracts between lib/ and native/: lib/optimizer.ts (ADAMW_DEFAULTS, adamWArgs)
// and lib/encoder_config.ts (normalizeConfig) fill every field; the addon (native/addon/adamw_args.h,
// encoder_binding.cpp parse_config) requires exactly those fields, range-checks them and keeps no defaults.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadBinding } from '../../dist/binding.js';
import { normalizeEncoderConfig } from '../../dist/index.js';
import { ADAMW_DEFAULTS, adamWArgs } from '../../dist/optimizer.js';
import { assertRejectsCode, assertThrowsCode } from '../helpers/assert.js';

const b = loadBinding();
const config = normalizeEncoderConfig({
  architecture: 'bert', vocabSize: 30, hiddenSize: 16, numLayers: 1, numHeads: 4, intermediateSize: 32, maxPositions: 8, numLabels: 3,
});

test('adamWArgs fills every field from ADAMW_DEFAULTS (PyTorch AdamW, no clipping) and keeps given values', () => {
  assert.equal(adamWArgs({ lr: 0.5 }), { lr: 0.5, ...ADAMW_DEFAULTS });
  assert.equal(ADAMW_DEFAULTS, { weightDecay: 0, decayBiasAndNorm: true, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0 });
  const given = { lr: 1, weightDecay: 0.1, decayBiasAndNorm: false, beta1: 0.5, beta2: 0.6, eps: 1e-3, maxGradNorm: 2 };
  assert.equal(adamWArgs(given), given);
  assertThrowsCode(() => adamWArgs({}), 'ERR_INVALID_ARG', TypeError, /optimizer\.lr/);
  assertThrowsCode(() => adamWArgs({ lr: 1, beta2: 1 }), 'ERR_INVALID_ARG', RangeError, /optimizer\.beta2/);
  assertThrowsCode(() => adamWArgs({ lr: 1, momentum: 0.9 }), 'ERR_INVALID_ARG', TypeError, /momentum/);
});

test('the encoder step requires every AdamW field, rejects others, and range-checks each by name', async () => {
  const h = new b.NativeEncoder(config, 'cpu', 1);
  try {
    const full = adamWArgs({ lr: 0.1 });
    const r = await h.step(full);
    assert.is(r.gradNorm, 0);
    for (const f of Object.keys(full)) {
      const s = { ...full };
      delete s[f];
      await assertRejectsCode(() => h.step(s), 'ERR_INVALID_ARG', TypeError, new RegExp(`field ${f}\\b`));
    }
    await assertRejectsCode(() => h.step({ ...full, momentum: 0 }), 'ERR_INVALID_ARG', TypeError, /momentum/);
    for (const [f, v] of [['lr', -1], ['beta1', 1], ['beta2', -0.5], ['eps', 0], ['weightDecay', NaN], ['maxGradNorm', -2]])
      await assertRejectsCode(() => h.step({ ...full, [f]: v }), 'ERR_INVALID_ARG', RangeError, new RegExp(`for ${f} but received`));
    await assertRejectsCode(() => h.step({ ...full, decayBiasAndNorm: 1 }), 'ERR_INVALID_ARG', TypeError, /boolean for decayBiasAndNorm/);
  } finally {
    h.dispose();
  }
});

test('the native encoder requires the complete normalized config (no defaults in C++)', () => {
  new b.NativeEncoder(config, 'cpu', 1).dispose();
  for (const f of Object.keys(config)) {
    const c = { ...config };
    delete c[f];
    assertThrowsCode(() => new b.NativeEncoder(c, 'cpu', 1), 'ERR_INVALID_ARG', TypeError, new RegExp(`field ${f}\\b`));
  }
  assertThrowsCode(() => new b.NativeEncoder({ ...config, hiddenDropout: 1 }, 'cpu', 1), 'ERR_INVALID_ARG', RangeError, /hiddenDropout/);
  assertThrowsCode(() => new b.NativeEncoder({ ...config, sinusoidalPositions: 0 }, 'cpu', 1), 'ERR_INVALID_ARG', TypeError, /sinusoidalPositions/);
  assertThrowsCode(() => new b.NativeEncoder({ ...config, dropout: 0.1 }, 'cpu', 1), 'ERR_INVALID_ARG', TypeError, /dropout/);
});

test('sparseAdamW requires every field of its struct and range-checks each by name', () => {
  const args = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, t: 1 };
  const call = (a) => b.sparseAdamW(new Float32Array(4), new Float32Array(4), new Float32Array(4), new Float32Array(2), Int32Array.from([1]), a, 1, 2);
  call(args);
  for (const f of Object.keys(args)) {
    const s = { ...args };
    delete s[f];
    assertThrowsCode(() => call(s), 'ERR_INVALID_ARG', TypeError, new RegExp(`field ${f}\\b`));
  }
  assertThrowsCode(() => call({ ...args, decayBiasAndNorm: true }), 'ERR_INVALID_ARG', TypeError, /decayBiasAndNorm/);
  assertThrowsCode(() => call({ ...args, beta1: 1.5 }), 'ERR_INVALID_ARG', RangeError, /for beta1 but received 1.5/);
  assertThrowsCode(() => call({ ...args, t: 0 }), 'ERR_INVALID_ARG', RangeError, /for t\b/);
});

test.run();

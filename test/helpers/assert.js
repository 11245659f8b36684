// Numeric assertions for typed arrays: |a - b| <= atol + rtol * |b| elementwise, with the first
// mismatches and the largest difference in the message.
import * as assert from 'uvu/assert';

export function assertClose(actual, expected, { atol = 1e-6, rtol = 1e-5, label = 'value' } = {}) {
  if (typeof expected === 'number') {
    const ok = Number.isNaN(expected) ? Number.isNaN(actual) : Math.abs(actual - expected) <= atol + rtol * Math.abs(expected) || actual === expected;
    assert.ok(ok, `${label}: expected ${expected} but got ${actual} (atol ${atol}, rtol ${rtol})`);
    return;
  }
  assert.is(actual.length, expected.length, `${label}: length`);
  const bad = [];
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (Number.isNaN(b) ? Number.isNaN(a) : a === b) continue;
    const d = Math.abs(a - b);
    if (!(d <= atol + rtol * Math.abs(b))) {
      if (bad.length < 5) bad.push(`[${i}] ${a} vs ${b}`);
      worst = Math.max(worst, Number.isNaN(d) ? Infinity : d);
    }
  }
  assert.ok(bad.length === 0, `${label}: mismatch (max diff ${worst}): ${bad.join(', ')}`);
}

/** Asserts that fn throws an error with this code and constructor, and (optionally) a message matching re. */
export function assertThrowsCode(fn, code, Ctor = Error, re) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected an error with code ${code}, nothing was thrown`);
  assert.is(err.code, code, `error code (message: ${err.message})`);
  assert.instance(err, Ctor);
  if (re) assert.match(err.message, re);
  return err;
}

/** Async version of assertThrowsCode. */
export async function assertRejectsCode(promiseOrFn, code, Ctor = Error, re) {
  let err;
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a rejection with code ${code}`);
  assert.is(err.code, code, `error code (message: ${err.message})`);
  assert.instance(err, Ctor);
  if (re) assert.match(err.message, re);
  return err;
}

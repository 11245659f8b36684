// The request queue under every model's inference (lib/request_queue.ts), with a fake batch function that
// records what it was handed: arrival order, merging up to maxBatchSize rows, the maxWaitMs window, requests
// arriving while a batch runs forming the next one, exclusive calls alone, a failing batch rejecting only its
// callers, close() rejecting the waiting ones while the running batch completes, and the option checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RequestQueue, checkBatching } from '../../dist/request_queue.js';

const tick = () => new Promise((r) => setImmediate(r));

/** A queue whose batches echo their payloads (x → x * 10) after `delayMs`, recording each batch's payloads. */
function echoQueue(options, delayMs = 0) {
  const batches = [];
  const q = new RequestQueue(async (payloads) => {
    batches.push([...payloads]);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (payloads.includes('boom')) throw new Error('batch failed');
    return payloads.map((p) => (typeof p === 'number' ? p * 10 : p));
  }, checkBatching(options));
  return { q, batches };
}

test('calls made in one tick merge into one batch, in arrival order, each getting its own result', async () => {
  const { q, batches } = echoQueue({});
  const got = await Promise.all(Array.from({ length: 64 }, (_, i) => q.submit(i, 1)));
  assert.equal(got, Array.from({ length: 64 }, (_, i) => i * 10));
  assert.equal(batches, [Array.from({ length: 64 }, (_, i) => i)]);
});

test('maxBatchSize caps the rows of a batch; a larger request goes whole, alone', async () => {
  const { q, batches } = echoQueue({ maxBatchSize: 4 });
  await Promise.all([q.submit(0, 1), q.submit(1, 2), q.submit(2, 1), q.submit(3, 1), q.submit(4, 9), q.submit(5, 3)]);
  assert.equal(batches, [[0, 1, 2], [3], [4], [5]]);
});

test('maxWaitMs: a call that finds the queue idle waits for company arriving within the window', async () => {
  const { q, batches } = echoQueue({ maxWaitMs: 30 });
  const a = q.submit(1, 1);
  await new Promise((r) => setTimeout(r, 5));
  const b = q.submit(2, 1);
  assert.equal(await Promise.all([a, b]), [10, 20]);
  assert.equal(batches, [[1, 2]]);
  // without a window, a later tick starts its own batch
  const { q: q0, batches: b0 } = echoQueue({ maxWaitMs: 0 });
  const c = q0.submit(1, 1);
  await tick();
  await tick();
  await Promise.all([c, q0.submit(2, 1)]);
  assert.equal(b0, [[1], [2]]);
});

test('requests arriving while a batch runs form the next batch', async () => {
  const { q, batches } = echoQueue({}, 20);
  const first = q.submit(0, 1);
  await tick(); // the first batch is running
  const later = [1, 2, 3].map((i) => q.submit(i, 1));
  assert.is(q.pending, true);
  assert.equal(await Promise.all([first, ...later]), [0, 10, 20, 30]);
  assert.equal(batches, [[0], [1, 2, 3]]);
  assert.is(q.pending, false);
});

test('an exclusive call runs alone, after everything submitted before it', async () => {
  const { q, batches } = echoQueue({});
  const order = [];
  const a = q.submit(1, 1).then(() => order.push('a'));
  const x = q.exclusive(async () => (order.push('x'), batches.length));
  const b = q.submit(2, 1).then(() => order.push('b'));
  assert.is((await Promise.all([a, x, b]))[1], 1, 'x saw one batch before it');
  assert.equal(order, ['a', 'x', 'b']);
  assert.equal(batches, [[1], [2]]);
});

test('a failing batch rejects its callers only', async () => {
  const { q } = echoQueue({ maxBatchSize: 2 });
  const r = await Promise.allSettled([q.submit(1, 1), q.submit('boom', 1), q.submit(3, 1)]);
  assert.equal(r.map((x) => x.status), ['rejected', 'rejected', 'fulfilled']);
  assert.is(r[2].value, 30);
});

test('close(): waiting calls and later ones reject with its error, the running batch completes, whenIdle after it', async () => {
  const { q } = echoQueue({}, 20);
  const running = q.submit(1, 1);
  await tick();
  const waiting = Promise.allSettled([q.submit(2, 1), q.submit(3, 1)]);
  let idleAt = null;
  const err = Object.assign(new Error('gone'), { code: 'ERR_DISPOSED' });
  q.close(err);
  q.whenIdle(() => (idleAt = 'idle'));
  assert.is(idleAt, null, 'not idle while the batch runs');
  assert.is(await running, 10);
  for (const w of await waiting) assert.is(w.reason, err);
  await tick();
  assert.is(idleAt, 'idle');
  const late = await Promise.allSettled([q.submit(4, 1)]);
  assert.is(late[0].reason, err);
});

test('checkBatching: defaults and errors naming the option', () => {
  assert.equal(checkBatching({}), { maxBatchSize: 64, maxWaitMs: 0 });
  for (const [o, name, Ctor] of [
    [{ maxBatchSize: 0 }, 'maxBatchSize', RangeError],
    [{ maxBatchSize: 2.5 }, 'maxBatchSize', RangeError],
    [{ maxBatchSize: '8' }, 'maxBatchSize', TypeError],
    [{ maxWaitMs: -1 }, 'maxWaitMs', RangeError],
    [{ maxWaitMs: 'soon' }, 'maxWaitMs', TypeError],
  ]) {
    let e;
    try {
      checkBatching(o);
    } catch (x) {
      e = x;
    }
    assert.ok(e instanceof Ctor, `${JSON.stringify(o)}: ${e}`);
    assert.is(e.code, 'ERR_INVALID_ARG');
    assert.match(e.message, new RegExp(`options\\.${name}`));
    assert.match(e.message, /received/);
  }
});

test.run();

// Classifier.predict's order (lib/classifier.ts predictionsFrom): `labels` and the keys of `scores` by score,
// highest first, ties by label index, `topK` the first K of that order, `labels` those at or above their
// threshold. Checked against a comparator sort written here, on a model whose logits are given (so scores
// tie exactly), with few labels and with 1,500.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Classifier } from '../../dist/index.js';
import { mulberry32 } from '../../dist/random.js';

/** A TextModel returning fixed logits, one row per text (text i → row i mod rows). */
function fixedModel(rows, K) {
  return {
    modelType: 'fixed', numLabels: K, maxLength: 8, disposed: false,
    async logits(texts) {
      const out = new Float32Array(texts.length * K);
      texts.forEach((t, i) => out.set(rows[Number(t) % rows.length], i * K));
      return out;
    },
    async save() {},
    dispose() {},
  };
}

const sigmoid = (x) => Math.fround(1 / (1 + Math.exp(-x)));

for (const K of [5, 1500]) {
  test(`predict with ${K} labels: by score, ties by label index; topK; thresholds`, async () => {
    const r = mulberry32(K);
    // logits from a few values, so that many scores tie; one row all equal; one with -0 and +0 logits
    const values = [-3, -0.5, 0, 0.5, 2, 7];
    const rows = [
      Float32Array.from({ length: K }, () => values[Math.floor(r() * values.length)]),
      new Float32Array(K).fill(1),
      Float32Array.from({ length: K }, (_, j) => (j % 2 ? -0 : 0)),
      Float32Array.from({ length: K }, () => (r() - 0.5) * 20),
    ];
    const labels = Array.from({ length: K }, (_, j) => `label ${j}`);
    const thr = Array.from({ length: K }, () => Math.fround(0.2 + 0.6 * r()));
    const perClass = Object.fromEntries(labels.map((l, j) => [l, thr[j]]));
    const clf = new Classifier({ model: fixedModel(rows, K), labels, thresholds: { global: 0.5, perClass, objective: 'macro-f1', tuned: true } });
    const texts = rows.map((_, i) => String(i));
    const got = await clf.predict(texts);
    const probs = await clf.scores(texts);
    const top = await clf.predict(texts, { topK: 3 });
    rows.forEach((_, i) => {
      const p = probs.subarray(i * K, (i + 1) * K);
      assert.ok(p.every((x, j) => x === sigmoid(rows[i][j]) || Math.abs(x - sigmoid(rows[i][j])) < 1e-6), 'scores are the sigmoids');
      const order = Array.from({ length: K }, (_, j) => j).sort((a, b) => p[b] - p[a] || a - b);
      assert.equal(Object.keys(got[i].scores), order.map((j) => labels[j]), `row ${i}: scores' keys in order`);
      assert.equal(Object.values(got[i].scores), order.map((j) => p[j]), `row ${i}: scores' values`);
      assert.equal(got[i].labels, order.filter((j) => p[j] >= thr[j]).map((j) => labels[j]), `row ${i}: labels`);
      assert.equal(Object.keys(top[i].scores), order.slice(0, 3).map((j) => labels[j]), `row ${i}: topK 3`);
    });
    clf.dispose();
  });
}

test.run();

// The model directory's atomic save: a failure (or a kill) at any point of a save leaves the previous
// model readable, and nothing half-written is ever loaded.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { saveDirAtomic, resolveModelDir, writeFileAtomic, labelsOfConfig } from '../../dist/model_dir.js';

const fillWith = (tag) => async (tmp) => {
  writeFileSync(join(tmp, 'config.json'), JSON.stringify({ fused_multilabel: { version: '0.1.0', format: 1 }, tag }));
  writeFileSync(join(tmp, 'model.safetensors'), Buffer.alloc(1024, tag.length));
};
const tagOf = (dir) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).tag;

function scratch() {
  return mkdtempSync(join(tmpdir(), 'fml-dir-'));
}

test('save, then replace: the new files are in place and no temporary sibling is left', async () => {
  const root = scratch();
  const dir = join(root, 'model');
  await saveDirAtomic(dir, fillWith('v1'));
  assert.is(tagOf(dir), 'v1');
  await saveDirAtomic(dir, fillWith('v2'));
  assert.is(tagOf(dir), 'v2');
  assert.equal(readdirSync(root), ['model']);
  rmSync(root, { recursive: true });
});

test('a save that fails while writing leaves the previous model untouched', async () => {
  const root = scratch();
  const dir = join(root, 'model');
  await saveDirAtomic(dir, fillWith('v1'));
  let err;
  try {
    await saveDirAtomic(dir, async (tmp) => {
      writeFileSync(join(tmp, 'config.json'), '{"half":');
      throw new Error('disk full');
    });
  } catch (e) {
    err = e;
  }
  assert.match(err?.message ?? '', /disk full/);
  assert.is(tagOf(dir), 'v1');
  assert.equal(readdirSync(root), ['model']);
  rmSync(root, { recursive: true });
});

test('a failure between the two renames puts the previous model back', async () => {
  const root = scratch();
  const dir = join(root, 'model');
  await saveDirAtomic(dir, fillWith('v1'));
  let err;
  try {
    await saveDirAtomic(dir, fillWith('v2'), { betweenRenames: () => { throw new Error('crash'); } });
  } catch (e) {
    err = e;
  }
  assert.ok(err);
  assert.is(tagOf(dir), 'v1');
  assert.equal(readdirSync(root), ['model']);
  rmSync(root, { recursive: true });
});

// A child process saves over an existing model and is killed (SIGKILL, no cleanup) at a given point.
function killedSave(dir, where) {
  const script = `
    import { saveDirAtomic } from ${JSON.stringify(new URL('../../dist/model_dir.js', import.meta.url).href)};
    import { writeFileSync } from 'node:fs';
    import { join } from 'node:path';
    const die = () => process.kill(process.pid, 'SIGKILL');
    await saveDirAtomic(${JSON.stringify(dir)}, async (tmp) => {
      writeFileSync(join(tmp, 'config.json'), JSON.stringify({ fused_multilabel: { version: '0.1.0', format: 1 }, tag: 'v2' }));
      if (${JSON.stringify(where)} === 'fill') die();
    }, { beforeSwap: () => { if (${JSON.stringify(where)} === 'beforeSwap') die(); },
         betweenRenames: () => { if (${JSON.stringify(where)} === 'betweenRenames') die(); } });
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(r.signal, 'SIGKILL', `child should have been killed (status ${r.status}, ${r.stderr})`);
}

for (const where of ['fill', 'beforeSwap', 'betweenRenames']) {
  test(`a save killed at "${where}" leaves the previous model readable; the next save cleans up`, async () => {
    const root = scratch();
    const dir = join(root, 'model');
    await saveDirAtomic(dir, fillWith('v1'));
    killedSave(dir, where);
    // the kill left a sibling behind, and the model under dir (or, between renames, its set-aside copy) is v1
    assert.ok(readdirSync(root).length >= 1);
    const loadable = resolveModelDir(dir);
    assert.is(tagOf(loadable), 'v1');
    if (where === 'betweenRenames') assert.not.ok(existsSync(dir), 'the kill happened after the old model was set aside');
    // a later save succeeds and removes the dead writer's leftovers
    await saveDirAtomic(dir, fillWith('v3'));
    assert.is(tagOf(resolveModelDir(dir)), 'v3');
    assert.equal(readdirSync(root), ['model']);
    rmSync(root, { recursive: true });
  });
}

test('refuses to replace a non-empty directory that is not a model directory', async () => {
  const root = scratch();
  const dir = join(root, 'precious');
  mkdirSync(dir);
  writeFileSync(join(dir, 'thesis.tex'), 'do not delete');
  let err;
  try {
    await saveDirAtomic(dir, fillWith('v1'));
  } catch (e) {
    err = e;
  }
  assert.is(err?.code, 'ERR_INVALID_FILE');
  assert.match(err.message, /not a fused-multilabel model directory/);
  assert.is(readFileSync(join(dir, 'thesis.tex'), 'utf8'), 'do not delete');
  rmSync(root, { recursive: true });
});

test('resolveModelDir names a missing directory', () => {
  let err;
  try {
    resolveModelDir('/nonexistent/model');
  } catch (e) {
    err = e;
  }
  assert.is(err?.code, 'ERR_INVALID_FILE');
  assert.match(err.message, /not found/);
});

test('writeFileAtomic: replaces the whole file, leaves no temporary file, and a failed write changes nothing', () => {
  const root = scratch();
  const p = join(root, 'f.json');
  writeFileAtomic(p, 'old');
  writeFileAtomic(p, new Uint8Array([110, 101, 119]));
  assert.is(readFileSync(p, 'utf8'), 'new');
  assert.equal(readdirSync(root), ['f.json']);
  // a folder in the way of the rename: the write fails, the temporary file is removed
  mkdirSync(join(root, 'd'));
  writeFileSync(join(root, 'd', 'x'), '1');
  assert.throws(() => writeFileAtomic(join(root, 'd'), 'data'));
  assert.equal(readdirSync(root).sort(), ['d', 'f.json']);
  assert.throws(() => writeFileAtomic(join(root, 'missing', 'f'), 'data'), (e) => e.code === 'ENOENT');
  rmSync(root, { recursive: true });
});

test('labelsOfConfig: one parser of the label maps, strict for our directories, lenient for checkpoints from elsewhere', () => {
  const ok = { id2label: { 0: 'a', 1: 'b' }, label2id: { a: 0, b: 1 }, num_labels: 2 };
  assert.equal(labelsOfConfig(ok, 'c.json', true), ['a', 'b']);
  const stale = { id2label: { 0: 'a', 1: 'b' }, label2id: { LABEL_0: 0, LABEL_1: 1 } };
  assert.is(labelsOfConfig(stale, 'c.json', false), undefined);
  assert.throws(() => labelsOfConfig(stale, 'c.json', true), (e) => e.code === 'ERR_INVALID_FILE' && /c\.json: label2id\["a"\] is undefined but id2label says 0/.test(e.message));
  assert.throws(() => labelsOfConfig({ id2label: { 0: 'a', 2: 'b' } }, 'c.json', true), (e) => /id2label has no entry for id 1/.test(e.message));
  assert.throws(() => labelsOfConfig({ ...ok, num_labels: 3 }, 'c.json', true), (e) => /num_labels is 3 but id2label has 2 labels/.test(e.message));
  assert.throws(() => labelsOfConfig({}, 'c.json', true), (e) => /has no id2label map/.test(e.message));
  assert.is(labelsOfConfig({}, 'c.json', false), undefined);
});

test.run();

// The model directory's atomic save: a failure (or a kill) at any point of a save leaves the previous
// model readable, and nothing half-written is ever loaded.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { saveDirAtomic, resolveModelDir } from '../../dist/model_dir.js';

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

test.run();

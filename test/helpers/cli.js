// Running the fused-multilabel command in tests: a child process on the CPU, and the one-line failure check.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as assert from 'uvu/assert';

const cli = join(new URL('../..', import.meta.url).pathname, 'dist', 'cli.js');

/** A runner of the CLI in `cwd`: run(...args) → { code, out, err, signal }. */
export function cliRunner(cwd, { timeout } = {}) {
  return (...args) => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, timeout, env: { ...process.env, FUSED_MULTILABEL_DEVICE: 'cpu' } });
    return { code: r.status, out: r.stdout, err: r.stderr, signal: r.signal };
  };
}

/** Exit code `code` and exactly one line on stderr, `fused-multilabel: ...`, that matches re. */
export function fails(r, code, re) {
  assert.is(r.code, code, `exit code (stderr: ${r.err})`);
  const lines = r.err.trimEnd().split('\n');
  assert.is(lines.length, 1, `one line on stderr, got: ${r.err}`);
  assert.match(lines[0], /^fused-multilabel: /);
  assert.match(lines[0], re);
}

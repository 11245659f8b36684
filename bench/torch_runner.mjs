// Shared by the encoder benchmarks: command-line numbers and bench/torch_encoder.py runs.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** --name=N from the command line, else def. */
export const numberArg = (name, def) => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
};

/**
 * Runs bench/torch_encoder.py with args (and extra environment variables); its last JSON line, or { error }
 * saying why (torch missing, a failure).
 */
export function torchEncoder(args, env = {}) {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, [join(here, 'torch_encoder.py'), ...args.map(String)], { encoding: 'utf8', env: { ...process.env, ...env } });
    if (r.status === 0) return JSON.parse(r.stdout.trim().split('\n').pop());
    if (r.stderr && !/No module named 'torch'|ENOENT/.test(r.stderr)) return { error: r.stderr.trim().split('\n').pop() };
  }
  return { error: 'torch is not importable (apt-get install python3-torch)' };
}

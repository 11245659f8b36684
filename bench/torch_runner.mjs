// Shared by the encoder benchmarks: command-line numbers and bench/torch_encoder.py runs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/**
 * This process's peak resident memory in MB: VmHWM of /proc/self/status on Linux, the high-water mark of
 * its own address space. (getrusage's maxRSS is not: Linux carries the forking parent's peak across
 * exec, so a worker spawned by a benchmark that holds a BERT-base reported the parent's 840 MB.)
 */
export function peakRssMb() {
  try {
    const m = readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    if (m) return Number(m[1]) / 1024;
  } catch {}
  return process.resourceUsage().maxRSS / 1024;
}

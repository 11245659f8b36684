#!/usr/bin/env node
// Builds the CPU addon with AddressSanitizer + UndefinedBehaviorSanitizer into build-sanitize/ and runs
// the native-facing tests against it. Node itself is not instrumented, so the ASan runtime is preloaded;
// leak detection is off because V8 keeps allocations alive until exit by design.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, env) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

let status = run(process.execPath, ['scripts/build-native.mjs'], { FUSED_MULTILABEL_SANITIZE: '1' });
if (status !== 0) process.exit(status);

const asan = spawnSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
// The native-facing test files: everything that calls into the addon.
const suites = ['test/foundation', 'test/losses', 'test/encoder'];
status = run(process.execPath, ['test/run.mjs', ...suites], {
  FUSED_MULTILABEL_BINARY: join(root, 'build-sanitize/Debug/fused_multilabel.node'),
  FUSED_MULTILABEL_SANITIZE: '1',
  LD_PRELOAD: asan,
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:allow_user_segv_handler=1:handle_segv=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
});
process.exit(status);

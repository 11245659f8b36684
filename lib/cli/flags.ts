/** The CLI's flag parsing and checks: every bad value is a usage error naming the command, the flag, what it must be and what was given. */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseHubId } from '../hub.js';
import type { Values } from './input.js';
import { UsageError } from './paths.js';

export function parse(
  command: string,
  args: string[],
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>,
  allowPositionals = false,
): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (err) {
    // node's messages carry a second sentence about '--'; the first names the problem
    const msg = (err as Error).message.split('. To specify')[0];
    throw new UsageError(`${command}: ${msg} (see 'fused-multilabel ${command} --help')`);
  }
}

export function need(command: string, v: Values, name: string): string {
  const x = v[name];
  if (typeof x !== 'string' || x.length === 0) throw new UsageError(`${command}: --${name} is required (see 'fused-multilabel ${command} --help')`);
  return x;
}

export function int(command: string, v: Values, name: string, min: number): number | undefined {
  const x = v[name];
  if (x === undefined) return undefined;
  const n = Number(x);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${command}: --${name} must be an integer >= ${min}, got "${String(x)}"`);
  return n;
}

export function num(command: string, v: Values, name: string, min: number, max = Infinity): number | undefined {
  const x = v[name];
  if (x === undefined) return undefined;
  const n = Number(x);
  if (typeof x !== 'string' || x.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`${command}: --${name} must be a number in [${min}, ${max}], got "${String(x)}"`);
  return n;
}

export function oneOf<T extends string>(command: string, v: Values, name: string, allowed: readonly T[]): T | undefined {
  const x = v[name];
  if (x === undefined) return undefined;
  if (!allowed.includes(x as T)) throw new UsageError(`${command}: --${name} must be one of ${allowed.join(', ')}, got "${String(x)}"`);
  return x as T;
}

/** --model: one of `names`, a Hub id hf:ORG/NAME[@REV] or a model directory with config.json ({ pretrained }). */
export function modelFlag(command: string, arg: string, names: readonly string[]): string | { pretrained: string } {
  if (names.includes(arg)) return arg;
  if (arg.startsWith('hf:')) {
    try {
      parseHubId(arg, '--model');
    } catch (err) {
      throw new UsageError(`${command}: ${(err as Error).message}`);
    }
    return { pretrained: arg };
  }
  const dir = resolve(arg);
  if (!existsSync(join(dir, 'config.json')))
    throw new UsageError(`${command}: --model must be ${names.join(', ')}, a pretrained model directory with config.json or a Hub id hf:ORG/NAME; "${arg}" is neither`);
  return { pretrained: dir };
}

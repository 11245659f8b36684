/**
 * Error helpers shared by the whole API. Every error thrown for bad input carries a `code`
 * (`ERR_INVALID_ARG`, `ERR_DISPOSED`, `ERR_BUSY`, `ERR_CUDA`, `ERR_NO_BINARY`, `ERR_INVALID_FILE`, and the
 * Hub's `ERR_HUB_NOT_FOUND`, `ERR_HUB_AUTH`, `ERR_HUB_OFFLINE`, `ERR_HUB_DOWNLOAD`)
 * and names the argument, what was expected and what was received.
 */

export type ErrorCode =
  | 'ERR_INVALID_ARG'
  | 'ERR_DISPOSED'
  | 'ERR_BUSY'
  | 'ERR_CUDA'
  | 'ERR_NO_BINARY'
  | 'ERR_INVALID_FILE'
  | 'ERR_HUB_NOT_FOUND'
  | 'ERR_HUB_AUTH'
  | 'ERR_HUB_OFFLINE'
  | 'ERR_HUB_DOWNLOAD';

export interface CodedError extends Error {
  code: ErrorCode;
}

function withCode<E extends Error>(err: E, code: ErrorCode): E & CodedError {
  (err as E & CodedError).code = code;
  return err as E & CodedError;
}

export function codedError(code: ErrorCode, message: string): CodedError {
  return withCode(new Error(message), code);
}

/**
 * Text safe to print on a terminal: C0/C1 control characters, DEL, line/paragraph separators, bidi
 * overrides and isolates, BOM and lone surrogates become visible escapes (\x1b, \u202e).
 */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069\uFEFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * A value as an error message shows it: numbers as JavaScript prints them (Infinity, not JSON's null: a
 * file's 1e999 parses to Infinity), strings quoted and cut at 40 characters, anything else as JSON.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === undefined) return String(value);
  if (typeof value === 'string') return printable(JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value));
  try {
    const json = JSON.stringify(value, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? `${x}` : x));
    return printable(json === undefined ? String(value) : json.length > 80 ? json.slice(0, 80) + '…' : json);
  } catch {
    return describe(value);
  }
}

/**
 * Rejects a typed array on a SharedArrayBuffer (the native functions read plain ArrayBuffers only, and
 * another thread could change the data while a kernel reads it): TypeError ERR_INVALID_ARG naming `name`.
 */
export function rejectShared(name: string, value: unknown): void {
  if (ArrayBuffer.isView(value) && typeof SharedArrayBuffer !== 'undefined' && value.buffer instanceof SharedArrayBuffer)
    throw withCode(
      new TypeError(`Expected ${name} on an ArrayBuffer but received ${describe(value)} on a SharedArrayBuffer (copy it first: new ${value.constructor.name}(x))`),
      'ERR_INVALID_ARG',
    );
}

/** Describes a received value for an error message: `Float64Array of length 6`, `string "x"`, `number NaN`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor?.name ?? 'TypedArray';
    return 'length' in value ? `${name} of length ${(value as unknown as { length: number }).length}` : name;
  }
  if (Array.isArray(value)) return `Array of length ${value.length}`;
  switch (typeof value) {
    case 'string':
      return `string ${showValue(value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'function':
      return 'function';
    default: {
      const ctor = (value as object).constructor?.name;
      return ctor && ctor !== 'Object' ? `${ctor} object` : 'object';
    }
  }
}

/** TypeError with code ERR_INVALID_ARG: `Expected <expected> for <name> but received <describe(value)>`. */
export function typeError(name: string, expected: string, value: unknown): CodedError {
  return withCode(new TypeError(`Expected ${expected} for ${name} but received ${describe(value)}`), 'ERR_INVALID_ARG');
}

/** RangeError with code ERR_INVALID_ARG. */
export function rangeError(name: string, expected: string, value: unknown): CodedError {
  return withCode(new RangeError(`Expected ${expected} for ${name} but received ${describe(value)}`), 'ERR_INVALID_ARG');
}

/** RangeError with code ERR_INVALID_ARG and a free-form message. */
export function rangeErrorMessage(message: string): CodedError {
  return withCode(new RangeError(message), 'ERR_INVALID_ARG');
}

export function disposedError(what: string): CodedError {
  return codedError('ERR_DISPOSED', `${what} is disposed`);
}

export function busyError(what: string, detail: string): CodedError {
  return codedError('ERR_BUSY', `${what} is busy: ${detail}`);
}

export function invalidFileError(path: string, problem: string): CodedError {
  return codedError('ERR_INVALID_FILE', `${path}: ${problem}`);
}

/** A plain non-negative/positive integer check: throws the right TypeError/RangeError. */
export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw typeError(name, `an integer in [${min}, ${max}]`, value);
  if (!Number.isInteger(value) || value < min || value > max) throw rangeError(name, `an integer in [${min}, ${max}]`, value);
  return value;
}

/** A finite number check with optional bounds (inclusive). */
export function checkNumber(name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number') throw typeError(name, 'a finite number', value);
  if (!Number.isFinite(value) || value < min || value > max) {
    const range = min === -Infinity && max === Infinity ? 'a finite number' : `a finite number in [${min}, ${max}]`;
    throw rangeError(name, range, value);
  }
  return value;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** Rejects keys of `options` not in `known`, suggesting the nearest known key (`pos_weight` → `posWeight`). */
export function rejectUnknownKeys(name: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
    let best = '';
    let bestD = Infinity;
    for (const k of known) {
      const dist = norm(k) === norm(key) ? 0 : editDistance(key.toLowerCase(), k.toLowerCase());
      if (dist < bestD) {
        bestD = dist;
        best = k;
      }
    }
    const hint = bestD <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean "${best}"?` : '';
    throw withCode(new TypeError(`Unknown option "${key}" in ${name}${hint}`), 'ERR_INVALID_ARG');
  }
}

/** Checks that `options` is undefined or a plain object. */
export function checkOptions(name: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options) || ArrayBuffer.isView(options))
    throw typeError(name, 'an options object', options);
  return options as Record<string, unknown>;
}

/**
 * One request queue per model object, for calls that may arrive concurrently (a web server's requests).
 * Every call goes through it in arrival order, one at a time on the object: no call is ever rejected for
 * being concurrent (no ERR_BUSY). Mergeable requests (inference) that are waiting together are handed to
 * the object in one go, up to `maxBatchSize` rows; exclusive ones (a training step) run alone, in order.
 *
 * Timing: a request that finds the queue idle waits `maxWaitMs` for company (0: until the current
 * synchronous code is done, so calls made in one loop share a batch); requests that arrive while a batch
 * runs form the next batch, which starts once the running one ends and the event loop has had one turn
 * (so a model that computes synchronously, as the n-gram model does, never holds I/O for more than one
 * batch, and requests that I/O delivers meanwhile join the next batch). `close(err)` rejects every
 * waiting request with `err`; the running one finishes and its callers get their results.
 */
import { checkInteger, checkNumber } from './errors.js';

export interface BatchingOptions {
  /** the most rows handed over in one batch (a larger single request still goes whole); default 64 */
  maxBatchSize?: number;
  /** how long a request that finds the queue idle waits for others to share its batch; default 0 */
  maxWaitMs?: number;
}

/** Checks batching options (ERR_INVALID_ARG naming `options.<field>`) and fills in the defaults. */
export function checkBatching(o: BatchingOptions): Required<BatchingOptions> {
  return {
    maxBatchSize: o.maxBatchSize === undefined ? 64 : checkInteger('options.maxBatchSize', o.maxBatchSize, 1, 1 << 20),
    maxWaitMs: o.maxWaitMs === undefined ? 0 : checkNumber('options.maxWaitMs', o.maxWaitMs, 0, 60_000),
  };
}

interface Job<P> {
  /** rows of a mergeable request; undefined for an exclusive one */
  rows?: number;
  payload?: P;
  run?: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class RequestQueue<P, R> {
  readonly #merged: (payloads: P[]) => Promise<R[]>;
  readonly #options: Required<BatchingOptions>;
  #jobs: Job<P>[] = [];
  #running = false;
  #timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  #closed: Error | null = null;
  #idle: (() => void) | null = null;

  /** `merged(payloads)` runs one batch of mergeable requests and resolves to one result per payload, in order. */
  constructor(merged: (payloads: P[]) => Promise<R[]>, options: Required<BatchingOptions>) {
    this.#merged = merged;
    this.#options = options;
  }

  /** Whether requests are waiting or running. */
  get pending(): boolean {
    return this.#running || this.#jobs.length > 0;
  }

  /** A mergeable request of `rows` rows. */
  submit(payload: P, rows: number): Promise<R> {
    return this.#push({ rows, payload }) as Promise<R>;
  }

  /** A call that runs alone, after everything submitted before it. */
  exclusive<T>(run: () => Promise<T>): Promise<T> {
    return this.#push({ run }) as Promise<T>;
  }

  /** Calls `fn` once nothing runs: now, or when the running batch ends. */
  whenIdle(fn: () => void): void {
    if (this.#running) this.#idle = fn;
    else fn();
  }

  /** Rejects every waiting request (and every later one) with `err`. */
  close(err: Error): void {
    this.#closed = err;
    if (this.#timer) this.#clearTimer();
    for (const j of this.#jobs.splice(0)) j.reject(err);
  }

  #push(job: Omit<Job<P>, 'resolve' | 'reject'>): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#jobs.push({ ...job, resolve, reject });
      if (this.#running) return;
      const full = this.#jobs.reduce((n, j) => n + (j.rows ?? Infinity), 0) >= this.#options.maxBatchSize;
      if (full) {
        this.#clearTimer();
        this.#timer = setImmediate(() => this.#drain());
      } else if (!this.#timer) {
        const wait = this.#options.maxWaitMs;
        this.#timer = wait > 0 ? setTimeout(() => this.#drain(), wait) : setImmediate(() => this.#drain());
      }
    });
  }

  #clearTimer(): void {
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = null;
  }

  /** The next batch: an exclusive job alone, or consecutive mergeable ones up to maxBatchSize rows (at least one). */
  #take(): Job<P>[] {
    const first = this.#jobs[0];
    if (first.run) return this.#jobs.splice(0, 1);
    let n = 1;
    let rows = first.rows!;
    while (n < this.#jobs.length && !this.#jobs[n].run && rows + this.#jobs[n].rows! <= this.#options.maxBatchSize) rows += this.#jobs[n++].rows!;
    return this.#jobs.splice(0, n);
  }

  async #drain(): Promise<void> {
    this.#timer = null;
    if (this.#running) return;
    this.#running = true;
    for (let first = true; this.#jobs.length > 0; first = false) {
      if (!first) await new Promise((r) => setImmediate(r));
      if (this.#jobs.length === 0) break; // closed meanwhile
      const batch = this.#take();
      try {
        if (batch[0].run) batch[0].resolve(await batch[0].run());
        else {
          const results = await this.#merged(batch.map((j) => j.payload!));
          batch.forEach((j, i) => j.resolve(results[i]));
        }
      } catch (err) {
        for (const j of batch) j.reject(err);
      }
    }
    this.#running = false;
    const idle = this.#idle;
    this.#idle = null;
    idle?.();
  }
}

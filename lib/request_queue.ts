/**
 * One request queue per model object, for calls that may arrive concurrently (a web server's requests).
 * Every call goes through it in arrival order, one at a time on the object: no call is ever rejected for
 * being concurrent (no ERR_BUSY). Mergeable requests (inference) that are waiting together are handed to
 * the object in one go, up to `maxBatchSize` rows; exclusive ones (a training step) run alone, in order.
 *
 * Timing: a request that finds the queue idle waits `maxWaitMs` for company (0: until the current
 * synchronous code and the promise reactions it set off are done, so calls made in one loop or one promise
 * chain share a batch, at the cost of a few microtasks and no event-loop turn); requests that arrive while a batch
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
  /** rows of a mergeable request; Infinity for an exclusive one */
  rows: number;
  payload: P | undefined;
  run: (() => Promise<unknown>) | undefined;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class RequestQueue<P, R> {
  readonly #merged: (payloads: P[]) => R[] | Promise<R[]>;
  readonly #options: Required<BatchingOptions>;
  #jobs: Job<P>[] = [];
  /** rows of the waiting jobs (Infinity while an exclusive one waits) */
  #rows = 0;
  #running = false;
  /** the start of the next batch: a maxWaitMs timer, 'soon' (queued as a microtask), or none */
  #timer: NodeJS.Timeout | 'soon' | null = null;
  #closed: Error | null = null;
  #idle: (() => void) | null = null;

  /**
   * `merged(payloads)` runs one batch of mergeable requests and returns (or resolves to) one result per
   * payload, in order; a synchronous one's callers are resolved without an extra promise hop.
   */
  constructor(merged: (payloads: P[]) => R[] | Promise<R[]>, options: Required<BatchingOptions>) {
    this.#merged = merged;
    this.#options = options;
  }

  /** Whether requests are waiting or running. */
  get pending(): boolean {
    return this.#running || this.#jobs.length > 0;
  }

  /** A mergeable request of `rows` rows. */
  submit(payload: P, rows: number): Promise<R> {
    return this.#push(rows, payload, undefined) as Promise<R>;
  }

  /** A call that runs alone, after everything submitted before it. */
  exclusive<T>(run: () => Promise<T>): Promise<T> {
    return this.#push(Infinity, undefined, run) as Promise<T>;
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
    this.#rows = 0;
    for (const j of this.#jobs.splice(0)) j.reject(err);
  }

  #push(rows: number, payload: P | undefined, run: (() => Promise<unknown>) | undefined): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#jobs.push({ rows, payload, run, resolve, reject });
      this.#rows += rows;
      if (this.#running) return;
      if (this.#full() && this.#timer !== 'soon') {
        this.#clearTimer();
        this.#soon(Infinity);
      } else if (!this.#timer) {
        const wait = this.#options.maxWaitMs;
        if (wait > 0) this.#timer = setTimeout(() => this.#drain(), wait);
        else this.#soon(this.#jobs.length);
      }
    });
  }

  /**
   * Starts the batch from a microtask once no request arrived since the last one (`seen` requests were
   * waiting then) or the batch is full, for at most 16 rounds: requests that promise reactions submit join it.
   */
  #soon(seen: number, round = 0): void {
    this.#timer = 'soon';
    void Promise.resolve().then(() => {
      if (this.#timer !== 'soon') return; // closed meanwhile
      if (this.#jobs.length > seen && round < 16 && !this.#full()) this.#soon(this.#jobs.length, round + 1);
      else void this.#drain();
    });
  }

  /** Whether the waiting requests fill a batch. */
  #full(): boolean {
    return this.#rows >= this.#options.maxBatchSize;
  }

  #clearTimer(): void {
    if (this.#timer !== 'soon') clearTimeout(this.#timer ?? undefined);
    this.#timer = null;
  }

  /** The next batch: an exclusive job alone, or consecutive mergeable ones up to maxBatchSize rows (at least one). */
  #take(): Job<P>[] {
    const jobs = this.#jobs;
    let n = 1;
    let rows = jobs[0].rows;
    if (!jobs[0].run) while (n < jobs.length && !jobs[n].run && rows + jobs[n].rows <= this.#options.maxBatchSize) rows += jobs[n++].rows;
    if (n === jobs.length) {
      this.#jobs = [];
      this.#rows = 0;
      return jobs;
    }
    this.#rows = this.#jobs.reduce((r, j, i) => (i < n ? r : r + j.rows), 0);
    return jobs.splice(0, n);
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
          const out = this.#merged(batch.map((j) => j.payload as P));
          const results = out instanceof Promise ? await out : out;
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

import type { EncodedRow } from '../data/batch.js';

/** The queue is full: the caller answers 429 with Retry-After rather than letting a backlog grow. */
export class QueueFull extends Error {
  constructor(readonly depth: number) {
    super(`the queue holds ${depth} rows, its limit (serve.max_queue); retry shortly`);
  }
}

export interface BatcherOptions {
  /** Most rows in one forward pass. */
  maxBatch: number;
  /** Longest a row waits for others before its batch runs anyway. */
  maxWaitMs: number;
  /** Rows waiting (not yet in a forward pass); more are refused with QueueFull. */
  maxQueue: number;
  /** Forward passes running at once. */
  inflight: number;
  onBatch?: (rows: number, seconds: number) => void;
  onDepth?: (depth: number) => void;
}

interface Job<R> {
  row: EncodedRow;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/**
 * Micro-batching: rows of concurrent requests wait up to `maxWaitMs` to share one forward pass of
 * at most `maxBatch` rows. When more rows wait than fit, a batch is cut from rows of similar token
 * length (so padding stays low), always including the oldest row so none starves. The queue is
 * bounded: `submit` refuses a request whole when its rows would overflow it.
 */
export class MicroBatcher<R> {
  private pending: Job<R>[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];

  constructor(
    private readonly run: (rows: EncodedRow[]) => Promise<R[]>,
    private readonly opts: BatcherOptions,
  ) {}

  /** Rows waiting for a forward pass. */
  get depth(): number {
    return this.pending.length;
  }

  get busy(): boolean {
    return this.running > 0 || this.pending.length > 0;
  }

  /** One result per row, in order; rejects with QueueFull (nothing queued) when the rows do not fit. */
  submit(rows: EncodedRow[]): Promise<R[]> {
    if (this.pending.length + rows.length > this.opts.maxQueue) throw new QueueFull(this.pending.length);
    const results = rows.map((row) => new Promise<R>((resolve, reject) => this.pending.push({ row, resolve, reject })));
    this.opts.onDepth?.(this.pending.length);
    this.schedule();
    return Promise.all(results);
  }

  /** Resolves once nothing waits and no forward pass runs. */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.running >= this.opts.inflight || !this.pending.length) return;
    if (this.pending.length >= this.opts.maxBatch || this.opts.maxWaitMs <= 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      queueMicrotask(() => this.dispatch());
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.dispatch();
      }, this.opts.maxWaitMs);
    }
  }

  private dispatch(): void {
    while (this.running < this.opts.inflight && this.pending.length) {
      const jobs = this.cut();
      this.running++;
      this.opts.onDepth?.(this.pending.length);
      void this.runBatch(jobs);
    }
  }

  private async runBatch(jobs: Job<R>[]): Promise<void> {
    const t0 = performance.now();
    try {
      const out = await this.run(jobs.map((j) => j.row));
      this.opts.onBatch?.(jobs.length, (performance.now() - t0) / 1000);
      for (const [i, j] of jobs.entries()) j.resolve(out[i]);
    } catch (err) {
      for (const j of jobs) j.reject(err);
    } finally {
      this.running--;
      // Rows that queued during this pass have waited long enough: they go now, together.
      if (this.pending.length) this.dispatch();
      else if (!this.running) for (const done of this.idle.splice(0)) done();
    }
  }

  /** The next batch: all waiting rows if they fit, else `maxBatch` rows of close length around the oldest. */
  private cut(): Job<R>[] {
    const max = this.opts.maxBatch;
    if (this.pending.length <= max) return this.pending.splice(0);
    const byLength = this.pending.map((j, i) => ({ i, len: j.row.ids.length }));
    byLength.sort((a, b) => a.len - b.len || a.i - b.i);
    const oldest = byLength.findIndex((x) => x.i === 0);
    let best = Math.max(0, oldest - max + 1);
    for (let s = best; s <= Math.min(oldest, byLength.length - max); s++) {
      const spread = byLength[s + max - 1].len - byLength[s].len;
      if (spread < byLength[best + max - 1].len - byLength[best].len) best = s;
    }
    const take = new Set(byLength.slice(best, best + max).map((x) => x.i));
    const batch = this.pending.filter((_, i) => take.has(i));
    this.pending = this.pending.filter((_, i) => !take.has(i));
    return batch;
  }
}

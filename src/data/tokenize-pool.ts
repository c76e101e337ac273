import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../lib/worker.js';
import type { TextTokenizer, Truncation } from './tokenizer/index.js';

/**
 * Tokenizing for prepare, on the main thread or on a pool of worker threads. Chunks go out in
 * order and their results are taken back in the same order, so whatever the thread count the rows
 * reach the shards, the stats and rejects.csv in source order: the bytes written do not depend on
 * how many threads encoded them.
 */
export interface ChunkEncoder {
  /** Chunks that may be queued before the caller must take a result back (bounds memory). */
  readonly maxInFlight: number;
  readonly threads: number;
  encode(a: string[], b: string[] | undefined): Promise<EncodedChunk>;
  close(): Promise<void>;
}

/** One row's tokens: plain arrays from the main thread, views into a worker's packed arrays otherwise. */
export interface EncodedRow {
  ids: ArrayLike<number>;
  typeIds: ArrayLike<number>;
  fullLength: number;
}

export interface EncodedChunk {
  /** Row i of the chunk; null when only_second truncation cannot fit the pair. */
  get(i: number): EncodedRow | null;
}

/** What a worker sends back: every row's ids back to back, row i at ids[offsets[i] .. offsets[i+1]). */
export interface PackedChunk {
  ids: Int32Array;
  typeIds: Int8Array;
  offsets: Int32Array;
  /** Length before truncation, -1 for a pair that cannot fit. */
  fullLengths: Int32Array;
}

export interface ChunkRequest {
  id: number;
  a: string[];
  b?: string[];
}

export type WorkerMessage =
  | { kind: 'ready'; sha256: string }
  | { kind: 'done'; id: number; chunk: PackedChunk }
  | { kind: 'failed'; id: number; name: string; message: string };

/** Rows per chunk: large enough that messaging costs little, small enough to keep every thread busy. */
export const CHUNK_ROWS = 256;

/** Threads for `data.workers`: 0 means one per available core. */
export function resolveWorkers(configured: number): number {
  return configured > 0 ? configured : availableParallelism();
}

/** Today's single-threaded path: encode on the calling thread, results ready at once. */
export function inlineEncoder(tokenizer: TextTokenizer, maxLength: number, truncation: Truncation): ChunkEncoder {
  return {
    maxInFlight: 0,
    threads: 1,
    async encode(a, b) {
      const rows = a.map((text, i) => tokenizer.encode(text, b?.[i], maxLength, truncation));
      return { get: (i) => rows[i] };
    },
    async close() {},
  };
}

function unpack(c: PackedChunk): EncodedChunk {
  return {
    get(i) {
      const full = c.fullLengths[i];
      if (full < 0) return null;
      const from = c.offsets[i];
      const to = c.offsets[i + 1];
      return {
        ids: c.ids.subarray(from, to),
        typeIds: c.typeIds.subarray(from, to),
        fullLength: full,
      };
    },
  };
}

interface Job {
  resolve(c: EncodedChunk): void;
  reject(err: Error): void;
}

/** A fixed pool of tokenizing worker threads; each chunk goes to the worker with the fewest queued. */
export async function workerEncoder(
  tokenizer: TextTokenizer,
  threads: number,
  maxLength: number,
  truncation: Truncation,
): Promise<ChunkEncoder> {
  const workers: Worker[] = [];
  const queued: number[] = [];
  const jobs = new Map<number, Job & { worker: number }>();
  let failure: Error | undefined;
  const fail = (err: Error) => {
    failure ??= err;
    for (const job of jobs.values()) job.reject(failure);
    jobs.clear();
  };
  const ready: Promise<void>[] = [];
  for (let w = 0; w < threads; w++) {
    const worker = startWorker(import.meta.url, './tokenize-worker', { spec: tokenizer.spec, maxLength, truncation });
    workers.push(worker);
    queued.push(0);
    ready.push(
      new Promise<void>((resolve, reject) => {
        worker.on('message', (m: WorkerMessage) => {
          if (m.kind === 'ready') {
            if (m.sha256 === tokenizer.sha256) resolve();
            else reject(new Error(`${tokenizer.spec.path}: the tokenizer changed while prepare was loading it`));
            return;
          }
          const job = jobs.get(m.id);
          if (m.kind === 'failed') {
            const err = Object.assign(new Error(m.message), { name: m.name });
            if (m.id < 0) reject(err);
            else fail(err);
            return;
          }
          if (!job) return;
          jobs.delete(m.id);
          queued[job.worker]--;
          job.resolve(unpack(m.chunk));
        });
        worker.on('error', (err) => {
          reject(err);
          fail(err);
        });
        worker.on('exit', (code) => {
          const err = new Error(`a tokenizer worker thread stopped (exit code ${code})`);
          reject(err);
          if (jobs.size) fail(err);
        });
      }),
    );
  }
  const close = async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  };
  try {
    await Promise.all(ready);
  } catch (err) {
    await close();
    throw err;
  }
  let next = 0;
  return {
    maxInFlight: threads * 3,
    threads,
    encode(a, b) {
      if (failure) return Promise.reject(failure);
      const id = next++;
      const worker = queued.indexOf(Math.min(...queued));
      queued[worker]++;
      const result = new Promise<EncodedChunk>((resolve, reject) => jobs.set(id, { resolve, reject, worker }));
      result.catch(() => undefined); // taken back later, in order; until then a failure is not "unhandled"
      workers[worker].postMessage({ id, a, b } satisfies ChunkRequest);
      return result;
    },
    async close() {
      for (const w of workers) w.removeAllListeners('exit');
      await close();
    },
  };
}

import type { OutputPlot } from './head-plots.js';
import { readSplitBatches } from '../data/split-reader.js';
import { AtomicTextStream } from '../lib/atomic-stream.js';
import { DataError } from '../lib/errors.js';
import { sha256File } from '../lib/hash.js';
import { Interrupted } from '../lib/interrupt.js';
import { HEADS, type HeadTask } from './heads.js';
import type { Flat } from './regression.js';
import type { EvalModel } from './run.js';

export interface HeadSplitOptions {
  task: HeadTask;
  file: string;
  expectedRows: number;
  expectedSha256?: string;
  labels: string[];
  thresholds: number[] | null;
  maxLength: number;
  batchSize: number;
  /** One JSON line per row: row, targets, logits. */
  predictions?: string;
  onProgress?: (rows: number) => void;
  interrupted?: () => NodeJS.Signals | null;
}

export interface HeadSplitResult {
  metrics: Flat;
  /** Regression: residual histograms and scatter samples for the HTML report. */
  plots?: OutputPlot[];
  rows: number;
  seconds: number;
  sha256: string;
}

/**
 * A regression or multi-label split through the model, record batch by record batch: rows sorted
 * by length within each record batch, cut into batches with dynamic padding, logits fed with the
 * rows' target vectors to the head's accumulator (eval/heads.ts).
 */
export async function evaluateHeadSplit(model: EvalModel, opts: HeadSplitOptions): Promise<HeadSplitResult> {
  const t0 = performance.now();
  const n = opts.labels.length;
  if (model.labels.length !== n) throw new DataError(`the model has ${model.labels.length} outputs, the dataset ${n}`);
  const acc = HEADS[opts.task].accumulator(opts.labels, opts.thresholds);
  const shaPromise = sha256File(opts.file);
  shaPromise.catch(() => undefined);
  const writer = opts.predictions ? new AtomicTextStream(opts.predictions) : undefined;
  let ok = false;
  let seen = 0;
  try {
    for await (const b of readSplitBatches(opts.file)) {
      if (b.size && (!b.targets || b.width !== n))
        throw new DataError(`${opts.file}: no targets column of width ${n}; re-run recsys prepare with this task`);
      const len = (i: number) => b.offsets[i + 1] - b.offsets[i];
      for (let i = 0; i < b.size; i++)
        if (len(i) === 0 || len(i) > opts.maxLength)
          throw new DataError(`${opts.file}: row ${b.rows[i]} has ${len(i)} tokens; expected 1..${opts.maxLength}`);
      const order = Array.from({ length: b.size }, (_, i) => i).sort((x, y) => len(x) - len(y) || x - y);
      const logits = new Float32Array(b.size * n);
      for (let s = 0; s < order.length; s += opts.batchSize) {
        const signal = opts.interrupted?.();
        if (signal) throw new Interrupted(signal, `interrupted by ${signal}; no report or predictions written`);
        const idx = order.slice(s, s + opts.batchSize);
        const rows = idx.map((i) => ({
          ids: b.ids.subarray(b.offsets[i], b.offsets[i + 1]),
          typeIds: b.typeIds.subarray(b.offsets[i], b.offsets[i + 1]),
        }));
        const out = await model.forward(rows);
        if (out.length !== idx.length * n)
          throw new DataError(`the model returned ${out.length} outputs for ${idx.length} rows; expected ${n} per row`);
        idx.forEach((i, k) => {
          logits.set(out.subarray(k * n, (k + 1) * n), i * n);
        });
        opts.onProgress?.(seen + s + idx.length);
        await new Promise((resolve) => setImmediate(resolve)); // let signals and the progress bar through
      }
      acc.add(logits, b.targets ?? []);
      if (writer) {
        let text = '';
        for (let i = 0; i < b.size; i++) {
          const targets = Array.from(b.targets!.subarray(i * n, (i + 1) * n));
          const rowLogits = Array.from(logits.subarray(i * n, (i + 1) * n));
          text += `${JSON.stringify({ row: b.rows[i], targets, logits: rowLogits })}\n`;
        }
        await writer.write(text);
      }
      seen += b.size;
    }
    if (seen !== opts.expectedRows)
      throw new DataError(
        `${opts.file}: ${seen} rows, but the manifest says ${opts.expectedRows}; re-run recsys prepare`,
      );
    if (seen === 0) throw new DataError(`${opts.file}: the split has no rows; nothing to evaluate`);
    const sha256 = await shaPromise;
    if (opts.expectedSha256 && sha256 !== opts.expectedSha256)
      throw new DataError(`${opts.file}: sha256 differs from the manifest's; the split changed after recsys prepare`);
    ok = true;
    const plots = acc.plots?.();
    return {
      metrics: acc.compute(),
      ...(plots ? { plots } : {}),
      rows: seen,
      seconds: (performance.now() - t0) / 1000,
      sha256,
    };
  } finally {
    await (ok ? writer?.commit() : writer?.abort());
  }
}

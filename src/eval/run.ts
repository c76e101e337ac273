import { readSplitBatches, type SplitBatch } from '../data/split-reader.js';
import type { InferenceModel } from '../infer/model.js';
import { AtomicTextStream } from '../lib/atomic-stream.js';
import { DataError } from '../lib/errors.js';
import { Interrupted } from '../lib/interrupt.js';
import { sha256File } from '../lib/hash.js';
import type { GroupedRanking, GroupedRankingReport } from './grouped.js';
import { MetricsAccumulator, type ClassificationMetrics, type RowResult } from './metrics.js';

/** Rows sorted by length inside this window before batching (dynamic padding wastes less). */
const WINDOW_ROWS = 4096;

export interface EvalSplitOptions {
  /** The split's Arrow IPC file (input_ids, token_type_ids, label, length, row). */
  file: string;
  /** Rows and sha256 the manifest promises for that file. */
  expectedRows: number;
  expectedSha256?: string;
  labels: string[];
  maxLength: number;
  batchSize: number;
  topK?: number[];
  /** Write one JSON line per row (row, label, pred, score, logits[, positive_score]) here. */
  predictions?: string;
  onProgress?: (rows: number) => void;
  /** Checked between batches: a signal name stops the evaluation (Interrupted). */
  interrupted?: () => NodeJS.Signals | null;
  /** A grouped dataset: rank each group's rows by the model's score (per-query ranking metrics). */
  ranking?: GroupedRanking;
}

export interface EvalSplitResult {
  metrics: ClassificationMetrics;
  seconds: number;
  sha256: string;
  ranking?: GroupedRankingReport;
}

/**
 * The model side of an evaluation, whatever runs it: the run's weights on a tfjs backend
 * (`--run`) or an exported ONNX file in onnxruntime-node (`--model`). evaluateSplit only needs
 * logits for rows of token ids; everything else (streaming, metrics, predictions) is shared.
 */
export type EvalModel = Pick<InferenceModel, 'forward' | 'labels' | 'vocabSize'>;

interface Row {
  ids: Int32Array;
  typeIds: Int8Array;
  label: number;
  row: number;
  group?: string | null;
}

/** The rows of one record batch (views into its typed arrays, no copies). */
function* rowsOf(b: SplitBatch): Generator<Row> {
  for (let i = 0; i < b.size; i++) {
    const start = b.offsets[i];
    const end = b.offsets[i + 1];
    yield {
      ids: b.ids.subarray(start, end),
      typeIds: b.typeIds.subarray(start, end),
      label: b.labels[i],
      row: b.rows[i],
      group: b.groups?.[i],
    };
  }
}

/**
 * Stream a prepared split through the model: record batch by record batch (never the whole file),
 * rows sorted by length within a window and cut into batches of `batchSize` with dynamic padding.
 * Only predictions and counts are kept (MetricsAccumulator); logits live one window at a time.
 */
export async function evaluateSplit(model: EvalModel, opts: EvalSplitOptions): Promise<EvalSplitResult> {
  const t0 = performance.now();
  const n = opts.labels.length;
  if (model.labels.length !== n) throw new DataError(`the model has ${model.labels.length} labels, the dataset ${n}`);
  const acc = new MetricsAccumulator(opts.labels, { topK: opts.topK });
  const shaPromise = sha256File(opts.file);
  shaPromise.catch(() => undefined);
  const writer = opts.predictions ? new AtomicTextStream(opts.predictions) : undefined;
  let ok = false;
  let seen = 0;
  try {
    let window: Row[] = [];
    const runWindow = async () => {
      if (!window.length) return;
      const done = seen;
      const { results, logits } = await forwardWindow(model, window, opts, acc, (rows) =>
        opts.onProgress?.(done + rows),
      );
      if (opts.ranking)
        window.forEach((r, i) => {
          opts.ranking!.add(`${opts.file}: row ${r.row}`, r.group, logits.subarray(i * n, (i + 1) * n), r.label);
        });
      if (writer) {
        let text = '';
        window.forEach((r, i) => {
          text += `${predictionLine(r, results[i], logits.subarray(i * n, (i + 1) * n), opts.labels)}\n`;
        });
        await writer.write(text);
      }
      seen += window.length;
      window = [];
    };
    // readSplitBatches turns a truncated or corrupt shard into a one-line DataError naming it.
    for await (const batch of readSplitBatches(opts.file)) {
      for (const r of rowsOf(batch)) {
        if (!(r.label >= 0 && r.label < n))
          throw new DataError(
            `${opts.file}: row ${r.row} has label id ${r.label}, outside the ${n} labels of the manifest`,
          );
        if (r.ids.length === 0 || r.ids.length > opts.maxLength)
          throw new DataError(
            `${opts.file}: row ${r.row} has ${r.ids.length} tokens; expected 1..${opts.maxLength} (max_length)`,
          );
        if (r.typeIds.length !== r.ids.length)
          throw new DataError(`${opts.file}: row ${r.row}: token_type_ids and input_ids differ in length`);
        for (let k = 0; k < r.ids.length; k++) {
          if (r.ids[k] < 0 || r.ids[k] >= model.vocabSize)
            throw new DataError(
              `${opts.file}: row ${r.row} has token id ${r.ids[k]}, outside the model's vocab_size ${model.vocabSize}`,
            );
        }
        window.push(r);
        if (window.length >= WINDOW_ROWS) await runWindow();
      }
    }
    await runWindow();
    if (seen !== opts.expectedRows)
      throw new DataError(
        `${opts.file}: ${seen} rows, but the manifest says ${opts.expectedRows}; re-run recsys prepare`,
      );
    if (seen === 0) throw new DataError(`${opts.file}: the split has no rows; nothing to evaluate`);
    const sha256 = await shaPromise;
    if (opts.expectedSha256 && sha256 !== opts.expectedSha256) {
      throw new DataError(
        `${opts.file}: sha256 ${sha256.slice(0, 12)}… differs from the manifest's ` +
          `${opts.expectedSha256.slice(0, 12)}…; the split changed after recsys prepare`,
      );
    }
    ok = true;
    const seconds = (performance.now() - t0) / 1000;
    return { metrics: acc.compute(), seconds, sha256, ranking: opts.ranking?.summary() };
  } finally {
    await (ok ? writer?.commit() : writer?.abort());
  }
}

/** Run one window: sort by length, batch, forward, feed the accumulator in the file's order. */
async function forwardWindow(
  model: EvalModel,
  rows: Row[],
  opts: EvalSplitOptions,
  acc: MetricsAccumulator,
  progress: (rows: number) => void,
): Promise<{ results: RowResult[]; logits: Float32Array }> {
  const n = opts.labels.length;
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].ids.length - rows[b].ids.length || a - b);
  const logits = new Float32Array(rows.length * n);
  for (let s = 0; s < order.length; s += opts.batchSize) {
    // Ctrl-C / SIGTERM: nothing half-written is left behind (the predictions' temp file goes); exit 130 / 143.
    const signal = opts.interrupted?.();
    if (signal) throw new Interrupted(signal, `interrupted by ${signal}; no report or predictions written`);
    const idx = order.slice(s, s + opts.batchSize);
    const out = await model.forward(idx.map((i) => rows[i]));
    if (out.length !== idx.length * n)
      throw new DataError(
        `the model returned ${out.length} logits for ${idx.length} rows; expected ${n} per row (the ` +
          `labels of the manifest)`,
      );
    idx.forEach((i, k) => {
      logits.set(out.subarray(k * n, (k + 1) * n), i * n);
    });
    progress(s + idx.length);
    await new Promise((resolve) => setImmediate(resolve)); // let signals and the progress bar through
  }
  return {
    results: acc.addLogits(
      logits,
      rows.map((r) => r.label),
    ),
    logits,
  };
}

function predictionLine(r: Row, res: RowResult, logits: Float32Array, labels: string[]): string {
  const o: Record<string, unknown> = {
    row: r.row,
    label: labels[r.label],
    pred: labels[res.pred],
    label_id: r.label,
    pred_id: res.pred,
    score: res.score,
    loss: res.loss,
  };
  if (res.positiveScore !== undefined) o.positive_score = res.positiveScore;
  o.logits = Array.from(logits);
  return JSON.stringify(o);
}

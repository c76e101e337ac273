import { cellText, requireColumns } from '../data/readers/columns.js';
import { openSource, type InputFormat } from '../data/readers/index.js';
import { RejectsWriter } from '../data/rejects.js';
import type { Encoded } from '../data/tokenizer/index.js';
import type { InferenceModel } from '../infer/model.js';
import { EXTRA_COLUMNS } from './decode.js';
import { fitMessage, scoreLogits } from './scores.js';
import { PredictionWriter, type Prediction } from './writer.js';

export interface PredictOptions {
  input: string;
  format: InputFormat | 'auto';
  textColumn: string;
  pairColumn?: string;
  idColumn?: string;
  output: string;
  logits: boolean;
  topK: number;
  batchSize: number;
  onProgress?: (rows: number) => void;
}

export interface PredictSummary {
  rows: number;
  predicted: number;
  rejected: number;
  rejectsFile: string;
  seconds: number;
}

type Pending = { row: number; id?: string; enc?: Encoded; error?: string; line?: number; raw?: string };

export { softmax } from './scores.js';

/**
 * Raw text in, predictions out: one output row per input row, in input order. Rows that cannot be
 * used keep their place (label null, error set) and are also listed in the rejects file.
 */
export async function runPredict(model: InferenceModel, opts: PredictOptions): Promise<PredictSummary> {
  const t0 = performance.now();
  const source = openSource(opts.input, opts.format);
  await requireColumns(source, opts.input, [opts.textColumn, opts.pairColumn, opts.idColumn]);

  const labels = model.labels;
  const writer = new PredictionWriter(opts.output, !!opts.idColumn, EXTRA_COLUMNS[model.headKind]);
  const rejectsFile = opts.output.replace(/(\.[^./]+)?$/, '.rejects.csv');
  const rejects = new RejectsWriter(rejectsFile);
  let pending: Pending[] = [];
  let good = 0;
  let rows = 0;
  let predicted = 0;

  const flush = async () => {
    const batch = pending.filter((p) => p.enc);
    let all: Float32Array | undefined;
    if (batch.length) all = await model.forward(batch.map((p) => p.enc!));
    let k = 0;
    const n = labels.length;
    const out: Prediction[] = [];
    for (const p of pending) {
      const pred: Prediction = { row: p.row, ...(opts.idColumn ? { id: p.id } : {}), label: null, score: null };
      out.push(pred);
      if (!p.enc) {
        pred.error = p.error;
        continue;
      }
      // Scores by the model's head: softmax, sigmoid with the run's thresholds, or the raw outputs.
      Object.assign(pred, scoreLogits(all!.subarray(k * n, (k + 1) * n), labels, opts.topK, opts.logits, model));
      k++;
      predicted++;
    }
    await writer.write(out);
    pending = [];
    good = 0;
  };

  try {
    for await (const r of source.rows()) {
      rows++;
      const entry: Pending = { row: r.row, line: r.line, raw: r.raw };
      if (r.error) entry.error = r.error;
      else {
        const v = r.values!;
        entry.id = opts.idColumn ? cellText(v[opts.idColumn]) : undefined;
        const text = cellText(v[opts.textColumn]);
        const pair = opts.pairColumn ? cellText(v[opts.pairColumn]) : undefined;
        if (!text?.trim()) entry.error = `empty or missing text (column "${opts.textColumn}")`;
        else if (opts.pairColumn && !pair?.trim())
          entry.error = `empty or missing pair text (column "${opts.pairColumn}")`;
        else {
          const enc = model.tokenizer.encode(text, pair, model.maxLength, model.truncation);
          if (enc) entry.enc = enc;
          else entry.error = fitMessage(model.maxLength);
        }
      }
      if (entry.error) rejects.add({ row: r.row, line: r.line, reason: entry.error, raw: r.raw });
      pending.push(entry);
      if (entry.enc && ++good >= opts.batchSize) await flush();
      if (rows % 1000 === 0) opts.onProgress?.(rows);
    }
    await flush();
    await rejects.close();
    await writer.close();
  } catch (err) {
    // Nothing half-written stays: both temp files go.
    await Promise.all([writer.abort(), rejects.abort()]);
    throw err;
  } finally {
    await model.close();
  }
  return { rows, predicted, rejected: rejects.count, rejectsFile, seconds: (performance.now() - t0) / 1000 };
}

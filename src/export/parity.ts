import path from 'node:path';
import type { DatasetManifest } from '../data/manifest.js';
import { readSplitBatches, splitFile } from '../data/split-reader.js';
import { DataError } from '../lib/errors.js';
import { padRows, type IdBatch } from '../data/batch.js';
import type { ParityResult } from '../infer/export-record.js';
import type { LogitsRunner } from '../infer/runners.js';
import type { Decide } from './decisions.js';

/**
 * The parity gate: real rows of a prepared split, padded as the training runtime pads them, run
 * through the exported artifact in its own runtime and through the training forward pass.
 */

/**
 * Rows per parity batch. The reference forward pass runs in inference mode (one block's
 * activations alive at a time): ~0.7 GB peak for BERT-base at 32 × 128 (bench/inference-memory.ts).
 */
export const CHECK_BATCH_ROWS = 32;

export interface CheckRows {
  split: string;
  datasetDir: string;
  file: string;
  batches: Array<{ batch: IdBatch; labels: Int32Array }>;
  rows: number;
  /** Rows per length, to show padding was exercised. */
  maxSeq: number;
  pairs: boolean;
}

/** Up to `maxRows` rows of the split, in file order, in batches of `batchSize`. */
export async function loadCheckRows(
  datasetDir: string,
  manifest: DatasetManifest,
  split: string,
  maxRows: number,
  padId: number,
  batchSize = CHECK_BATCH_ROWS,
): Promise<CheckRows> {
  const file = splitFile(datasetDir, manifest, split);
  const rows: Array<{ ids: Int32Array; typeIds: Int8Array; label: number }> = [];
  for await (const b of readSplitBatches(file)) {
    for (let i = 0; i < b.size && rows.length < maxRows; i++) {
      const s = b.offsets[i];
      const e = b.offsets[i + 1];
      rows.push({ ids: b.ids.slice(s, e), typeIds: b.typeIds.slice(s, e), label: b.labels[i] });
    }
    if (rows.length >= maxRows) break;
  }
  if (rows.length === 0)
    throw new DataError(
      `${file}: the "${split}" split has no rows to check the export on; pass --split or --check-data`,
    );
  const batches: CheckRows['batches'] = [];
  for (let i = 0; i < rows.length; i += batchSize) {
    const chunk = rows.slice(i, i + batchSize);
    batches.push({ batch: padRows(chunk, padId), labels: Int32Array.from(chunk, (r) => r.label) });
  }
  return {
    split,
    datasetDir,
    file: path.relative(datasetDir, file),
    batches,
    rows: rows.length,
    maxSeq: Math.max(...rows.map((r) => r.ids.length)),
    pairs: rows.some((r) => r.typeIds.some((t) => t !== 0)),
  };
}

export type { ParityResult } from '../infer/export-record.js';

function argmax(v: Float32Array, at: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (v[at + j] > v[at + best]) best = j;
  return best;
}

export async function checkParity(
  format: string,
  rows: CheckRows,
  reference: LogitsRunner,
  candidate: LogitsRunner,
  numLabels: number,
  atol: number,
  /** The row decision both must agree on (argmax unless the head says otherwise: decisions.ts). */
  decide?: Decide,
): Promise<ParityResult> {
  let maxAbs = 0;
  let sumAbs = 0;
  let count = 0;
  let agree = 0;
  let refCorrect = 0;
  let expCorrect = 0;
  let nonFinite = false;
  let maxLogit = 0;
  const t = { reference: 0, export: 0 };
  for (const { batch, labels } of rows.batches) {
    let t0 = performance.now();
    const ref = await reference.run(batch);
    t.reference += performance.now() - t0;
    t0 = performance.now();
    const got = await candidate.run(batch);
    t.export += performance.now() - t0;
    if (got.length !== batch.batch * numLabels) {
      throw new DataError(
        `${format}: the export returned ${got.length} logits for a batch of ${batch.batch} × ${numLabels} labels`,
      );
    }
    for (let i = 0; i < ref.length; i++) {
      if (Math.abs(ref[i]) > maxLogit) maxLogit = Math.abs(ref[i]);
      const d = Math.abs(ref[i] - got[i]);
      if (!Number.isFinite(d)) nonFinite = true;
      else {
        if (d > maxAbs) maxAbs = d;
        sumAbs += d;
      }
      count++;
    }
    for (let r = 0; r < batch.batch; r++) {
      const a = argmax(ref, r * numLabels, numLabels);
      const b = argmax(got, r * numLabels, numLabels);
      const same = decide ? decide(ref, r * numLabels, numLabels) === decide(got, r * numLabels, numLabels) : a === b;
      if (same) agree++;
      if (a === labels[r]) refCorrect++;
      if (b === labels[r]) expCorrect++;
    }
  }
  if (nonFinite) maxAbs = Infinity;
  const n = rows.rows;
  const agreement = agree / n;
  const passed = maxAbs <= atol && agree === n;
  const result: ParityResult = {
    format,
    runtime: candidate.name,
    reference: reference.name,
    rows: n,
    max_abs_diff: maxAbs,
    mean_abs_diff: count ? sumAbs / count : 0,
    max_abs_logit: maxLogit,
    argmax_agreement: agreement,
    argmax_disagreements: n - agree,
    accuracy: { reference: refCorrect / n, export: expCorrect / n },
    atol,
    passed,
    seconds: { reference: t.reference / 1000, export: t.export / 1000 },
  };
  if (!passed) {
    const why = [];
    if (!(maxAbs <= atol)) why.push(`max |Δlogit| ${fmt(maxAbs)} > atol ${fmt(atol)}`);
    if (agree !== n) why.push(`argmax differs on ${n - agree} of ${n} rows`);
    result.failure = why.join('; ');
  }
  return result;
}

export const fmt = (x: number) => (x === Infinity ? 'inf (non-finite logits)' : x === 0 ? '0' : x.toExponential(2));

/** The one line per format printed on stderr. */
export function parityLine(r: ParityResult, rows: CheckRows): string {
  return (
    `parity ${r.format}: ${r.rows} rows of ${rows.split} ` +
    `(${path.basename(rows.file)}${rows.pairs ? ', pairs' : ''}, up to ${rows.maxSeq} tokens) in ` +
    `${r.runtime} vs ${r.reference}: ` +
    `max |Δlogit| ${fmt(r.max_abs_diff)}, mean ${fmt(r.mean_abs_diff)} (logits up to ` +
    `${fmt(r.max_abs_logit)}), argmax agreement ${(100 * r.argmax_agreement).toFixed(2)}% → ` +
    (r.passed ? `passed (atol ${fmt(r.atol)})` : `FAILED: ${r.failure}`)
  );
}

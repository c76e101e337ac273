import { appendFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { batchTensors, inputFeeds, padRows } from '../data/batch.js';
import { type MaskVocab, splitRows, type TokenRows } from '../data/mlm-texts.js';
import type { SplitArrays } from '../data/split-reader.js';
import { faultPoint } from '../lib/fault.js';
import { maskedLmNllSum, type BertConfig, type Params } from '../model/index.js';
import { maskRow, VALIDATION_EPOCH, type MaskSettings } from './mlm-mask.js';
import type { Objective } from './objective.js';

export interface MlmObjectiveOptions {
  modelConfig: BertConfig;
  /** The rows: the sharded corpus on disk, or a split in memory. */
  train: TokenRows | SplitArrays;
  validation: TokenRows | SplitArrays | null;
  /** Token count of each training row (the loop's length buckets); default read from an in-memory split. */
  lengths?: Int32Array;
  vocab: MaskVocab;
  mask: MaskSettings;
  seed: number;
  padId: number;
  evalBatchSize: number;
  /** Debug: append each training micro-batch's masked inputs and targets to this JSONL file. */
  dumpMasks?: string;
}

/** One masked batch: padded inputs and the flat [batch·seq] positions of its targets. */
function maskedBatch(o: MlmObjectiveOptions, split: TokenRows, rows: number[], epoch: number) {
  // maskRow copies the ids, so a reader's view may be reused by the next row.
  const masked = rows.map((i) => maskRow(split.ids(i), o.vocab, o.mask, o.seed, epoch, i));
  const ids = padRows(
    masked.map((m) => ({ ids: m.ids, typeIds: new Int8Array(m.ids.length) })),
    o.padId,
  );
  const positions = Int32Array.from(masked.flatMap((m, r) => m.positions.map((p) => r * ids.seq + p)));
  const labels = Int32Array.from(masked.flatMap((m) => m.labels));
  return { masked, ids, targets: { positions, labels } };
}

/**
 * Masked-language-model pretraining: the mean cross-entropy over a batch's masked tokens (as
 * BertForMaskedLM's loss with -100 labels elsewhere); validation reports the masked-token loss over
 * the whole held-out split and its perplexity, on one fixed set of masks.
 */
export function mlmObjective(o: MlmObjectiveOptions): Objective {
  const asRows = (s: TokenRows | SplitArrays): TokenRows => ('offsets' in s ? splitRows(s) : s);
  const train = asRows(o.train);
  const validation = o.validation ? asRows(o.validation) : null;
  const lengths = o.lengths ?? ('offsets' in o.train ? undefined : lengthsOf(train));
  /** A training micro-batch's masks (drawn per seed, epoch and row), written out when debugging. */
  const trainBatch = (rows: number[], epoch: number) => {
    const batch = maskedBatch(o, train, rows, epoch);
    if (o.dumpMasks) {
      const inputs = batch.masked.map((m) => Array.from(m.ids));
      const targets = batch.masked.map((m) => [m.positions, m.labels]);
      appendFileSync(o.dumpMasks, `${JSON.stringify({ epoch, inputs, targets })}\n`);
    }
    return batch;
  };
  return {
    lengths,
    validationRows: validation?.size ?? 0,
    note: `, masking ${o.mask.probability} of tokens${o.mask.wholeWord ? ' (whole words)' : ''}`,
    compiled: {
      batch(rows, epoch) {
        const { ids, targets } = trainBatch(rows, epoch);
        const inputs = batchTensors(ids);
        return new Map<string, tf.Tensor>([
          ...inputFeeds(inputs),
          ['mlm_positions', tf.tensor1d(targets.positions, 'int32')],
          ['mlm_labels', tf.tensor1d(targets.labels, 'int32')],
        ]);
      },
      constants: new Map(),
    },
    loss(params, rows, ctx) {
      const { ids, targets } = trainBatch(rows, ctx.epoch);
      return tf.tidy(() => {
        const inputs = batchTensors(ids);
        const nll = maskedLmNllSum(params, o.modelConfig, inputs, targets, { training: ctx.training, seed: ctx.seed });
        return tf.div(nll, targets.positions.length) as tf.Scalar;
      });
    },
    evaluate(params: Params): Record<string, number> {
      const split = validation;
      if (!split || split.size === 0) return {};
      let nll = 0;
      let count = 0;
      for (let start = 0; start < split.size; start += o.evalBatchSize) {
        faultPoint('eval');
        const rows = Array.from({ length: Math.min(o.evalBatchSize, split.size - start) }, (_, i) => start + i);
        const { ids, targets } = maskedBatch(o, split, rows, VALIDATION_EPOCH);
        const sum = tf.tidy(() =>
          maskedLmNllSum(params, o.modelConfig, batchTensors(ids), targets, { inference: true }),
        );
        nll += sum.dataSync()[0];
        sum.dispose();
        count += targets.positions.length;
      }
      const loss = nll / count;
      return { loss, perplexity: Math.exp(loss), masked_tokens: count, rows: split.size };
    },
    describe: (m) => `masked-token loss ${m.loss.toFixed(4)} perplexity ${m.perplexity.toFixed(2)}`,
    dispose() {},
  };
}

/** Every row's token count, read row by row (when the caller has not got them already). */
function lengthsOf(rows: TokenRows): Int32Array {
  return Int32Array.from({ length: rows.size }, (_, i) => rows.ids(i).length);
}

import * as tf from '@tensorflow/tfjs';
import type { RecsysConfig } from '../config/schema.js';
import { tokensOf, type TripletSplit } from '../data/triplet-shards.js';
import type { ValidationMetrics } from '../eval/metrics-record.js';
import { retrievalMetricNames, retrievalTask, scoreRetrieval } from '../eval/retrieval-split.js';
import { faultPoint } from '../lib/fault.js';
import type { BertConfig, Params } from '../model/index.js';
import { exclusionMasks, mnrlLoss, pooledEmbeddings } from './mnrl.js';
import type { Objective } from './objective.js';

/** The metric early stopping watches when the config leaves the classification default. */
export const EMBEDDING_DEFAULT_METRIC = 'ndcg@10';

/** The metric early stopping watches; a bi-encoder left at the classification default watches nDCG@10. */
export function earlyStoppingMetric(config: RecsysConfig): string {
  const metric = config.train.early_stopping.metric;
  if (metric !== 'macro_f1') return metric;
  // the default (macro_f1) is a classifier's metric: the bi-encoder and regression watch their own
  if (config.task === 'embedding') return EMBEDDING_DEFAULT_METRIC;
  return config.task === 'regression' ? 'rmse' : metric;
}

/** Parameters the bi-encoder trains: the encoder; the pooler and the classifier head are not used. */
export const embeddingTrains = (part: 'body' | 'pooler' | 'head') => part === 'body';

/** Which retrieval metrics exist, for checking train.early_stopping.metric before a run starts. */
export function embeddingMetricNames(): string[] {
  return ['loss', ...retrievalMetricNames()];
}

/** Token lengths used to cut batches: anchor plus positive. */
export function exampleLengths(s: TripletSplit): Int32Array {
  return Int32Array.from({ length: s.size }, (_, i) => {
    const a = s.anchor.offsets[i + 1] - s.anchor.offsets[i];
    return a + s.positive.offsets[i + 1] - s.positive.offsets[i];
  });
}

interface Batch {
  anchors: Int32Array[];
  positives: Int32Array[];
  negatives: Int32Array[];
}

function batchOf(s: TripletSplit, rows: number[]): Batch {
  return {
    anchors: rows.map((i) => tokensOf(s.anchor, i)),
    positives: rows.map((i) => tokensOf(s.positive, i)),
    // An example without a hard negative adds no candidate.
    negatives: rows.map((i) => tokensOf(s.negative, i)).filter((n) => n.length > 0),
  };
}

export class EmbeddingObjective {
  private readonly pooling: 'mean' | 'cls';
  private readonly opts: { scale: number; symmetric: boolean };

  constructor(
    config: RecsysConfig,
    private readonly model: BertConfig,
    private readonly padId: number,
  ) {
    this.pooling = config.train.pooling;
    this.opts = { scale: config.train.mnrl_scale, symmetric: config.train.mnrl_symmetric };
  }

  /** Mean loss over a batch of examples; each text role gets its own forward pass and dropout seed. */
  batchLoss(params: Params, s: TripletSplit, rows: number[], fwd: { training: boolean; seed: number }): tf.Scalar {
    const b = batchOf(s, rows);
    const embed = (texts: Int32Array[], k: number) =>
      pooledEmbeddings(params, this.model, texts, this.padId, this.pooling, {
        training: fwd.training,
        seed: (fwd.seed + k) >>> 0,
      });
    return tf.tidy(() => {
      const negatives = b.negatives.length ? embed(b.negatives, 2) : null;
      const masks = exclusionMasks(b.anchors, b.positives, b.negatives);
      return mnrlLoss(embed(b.anchors, 0), embed(b.positives, 1), negatives, masks, this.opts);
    });
  }

  /**
   * Validation: the loss over the split in order (batches of train.batch_size), and retrieval metrics
   * with every distinct positive and hard negative as the corpus and every distinct anchor as a query
   * whose relevant items are the positives of its rows.
   */
  validate(params: Params, s: TripletSplit, batchSize: number, evalBatch: number): ValidationMetrics {
    let lossSum = 0;
    for (let start = 0; start < s.size; start += batchSize) {
      faultPoint('eval');
      const rows = Array.from({ length: Math.min(batchSize, s.size - start) }, (_, i) => start + i);
      const loss = this.batchLoss(params, s, rows, { training: false, seed: 0 });
      lossSum += loss.dataSync()[0] * rows.length;
      loss.dispose();
    }
    const ranking = this.retrieval(params, s, evalBatch);
    return { rows: s.size, loss: lossSum / s.size, ...ranking } as unknown as ValidationMetrics;
  }

  private retrieval(params: Params, s: TripletSplit, evalBatch: number): Record<string, number> {
    const task = retrievalTask(s);
    const qv = this.vectors(params, task.queries, evalBatch);
    const dv = this.vectors(params, task.corpus, evalBatch);
    const out: Record<string, number> = {};
    const { metrics } = scoreRetrieval(task, qv, dv, this.model.hiddenSize);
    for (const [name, v] of Object.entries(metrics)) if (v !== null) out[name] = v;
    return out;
  }

  /** Unit-length sentence vectors, row-major, dropout off. */
  private vectors(params: Params, texts: Int32Array[], batch: number): Float32Array {
    const dim = this.model.hiddenSize;
    const out = new Float32Array(texts.length * dim);
    for (let start = 0; start < texts.length; start += batch) {
      faultPoint('eval');
      const part = texts.slice(start, start + batch);
      const v = tf.tidy(() => {
        const e = pooledEmbeddings(params, this.model, part, this.padId, this.pooling, { inference: true });
        return tf.div(e, tf.maximum(tf.norm(e, 'euclidean', 1, true), 1e-12));
      });
      out.set(v.dataSync() as Float32Array, start * dim);
      v.dispose();
    }
    return out;
  }
}

/** The bi-encoder as the training loop's objective: its examples are the (anchor, positive, negative) splits. */
export function embeddingObjective(
  config: RecsysConfig,
  model: BertConfig,
  padId: number,
  pairs: { train: TripletSplit; validation: TripletSplit | null },
): Objective {
  const inner = new EmbeddingObjective(config, model, padId);
  const t = config.train;
  const validation = pairs.validation;
  return {
    lengths: exampleLengths(pairs.train),
    lengthBuckets: false,
    validationRows: validation?.size ?? 0,
    trains: (spec) => embeddingTrains(spec.part),
    compiled: { eagerOnly: "the bi-encoder's in-batch loss is not compiled yet" },
    loss: (params, rows, ctx) => inner.batchLoss(params, pairs.train, rows, { training: ctx.training, seed: ctx.seed }),
    evaluate: (params) =>
      validation
        ? (inner.validate(params, validation, t.batch_size, config.eval.batch_size) as unknown as Record<
            string,
            number
          >)
        : {},
    describe: (m) => ['loss', 'ndcg@10', 'recall@10', 'mrr@10'].map((k) => `${k} ${m[k]?.toFixed(4)}`).join(' '),
    dispose: () => {},
  };
}

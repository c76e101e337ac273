import * as tf from '@tensorflow/tfjs';
import { padBatch } from '../data/batch.js';
import { bertForward, type BertConfig, type Params } from '../model/index.js';

/**
 * In-batch negatives loss, as sentence-transformers' MultipleNegativesRankingLoss computes it: for
 * anchor i, cross-entropy over scale × cosine(anchor i, candidate j), where the candidates are every
 * positive of the batch followed by every hard negative, and the right answer is positive i. The
 * symmetric variant averages it with the positive → anchors direction (positive i against every anchor).
 *
 * One deliberate difference: a candidate that is not wrong for anchor i is taken out of its softmax
 * (masked), where sentence-transformers would count it as a negative: another copy of positive i, or
 * the positive of a row with the same anchor (relevance data: a query with two relevant products).
 */
export type Pooling = 'mean' | 'cls';

export interface MnrlOptions {
  scale: number;
  symmetric: boolean;
}

/** Excluded entries are set to this before the softmax: exp() of it is exactly 0 in float32. */
const EXCLUDED = -1e9;

/** Sentence vectors [batch, hidden] of single-text rows (token type 0), differentiable. */
export function pooledEmbeddings(
  params: Params,
  config: BertConfig,
  rows: ArrayLike<number>[],
  padId: number,
  pooling: Pooling,
  forward: { training?: boolean; seed?: number; inference?: boolean },
): tf.Tensor2D {
  const inputs = padBatch(
    rows.map((ids) => ({ ids, typeIds: new Int8Array(ids.length) })),
    padId,
  );
  const out = tf.tidy(() => {
    const o = bertForward(params, config, inputs, { ...forward, returnHidden: true, headless: true });
    const h = o.lastHidden!;
    if (pooling === 'cls') return tf.squeeze(tf.slice(h, [0, 0, 0], [-1, 1, -1]), [1]) as tf.Tensor2D;
    // sentence-transformers' mean: sum over the attention mask / the mask sum clamped at 1e-9.
    const mask = tf.expandDims(tf.cast(inputs.attentionMask, 'float32'), 2);
    return tf.div(tf.sum(tf.mul(h, mask), 1), tf.maximum(tf.sum(mask, 1), 1e-9)) as tf.Tensor2D;
  });
  tf.dispose([inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds]);
  return out;
}

/** Rows scaled to unit L2 norm, as torch.nn.functional.normalize (norm clamped at 1e-12). */
function unit(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12));
}

/** Mean cross-entropy of masked score rows whose right answer is the diagonal entry i. */
function diagonalCrossEntropy(scores: tf.Tensor2D, excluded: Uint8Array): tf.Scalar {
  const [rows, cols] = scores.shape;
  const mask = tf.tensor2d(excluded, [rows, cols], 'bool');
  const logp = tf.logSoftmax(tf.where(mask, tf.fill([rows, cols], EXCLUDED), scores));
  return tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(tf.range(0, rows, 1, 'int32'), cols)), 1))) as tf.Scalar;
}

/** Token-id equality of two rows. */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Which scores leave the softmax. Forward [batch, batch + negatives]: for anchor i, positive j ≠ i when it
 * equals positive i or its anchor equals anchor i, and a hard negative equal to positive i. Backward
 * [batch, batch]: for positive i, anchor j ≠ i when it equals anchor i or positive j equals positive i.
 */
export function exclusionMasks(
  anchors: ArrayLike<number>[],
  positives: ArrayLike<number>[],
  negatives: ArrayLike<number>[],
): { forward: Uint8Array; backward: Uint8Array } {
  const b = anchors.length;
  const cols = b + negatives.length;
  const forward = new Uint8Array(b * cols);
  const backward = new Uint8Array(b * b);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      if (j === i) continue;
      const twin = same(anchors[i], anchors[j]) || same(positives[i], positives[j]);
      forward[i * cols + j] = twin ? 1 : 0;
      backward[i * b + j] = twin ? 1 : 0;
    }
    negatives.forEach((n, k) => {
      if (same(n, positives[i])) forward[i * cols + b + k] = 1;
    });
  }
  return { forward, backward };
}

/** The loss of one batch of embeddings (anchors [b, h], positives [b, h], negatives [n, h] or null). */
export function mnrlLoss(
  anchors: tf.Tensor2D,
  positives: tf.Tensor2D,
  negatives: tf.Tensor2D | null,
  masks: { forward: Uint8Array; backward: Uint8Array },
  opts: MnrlOptions,
): tf.Scalar {
  return tf.tidy(() => {
    const a = unit(anchors);
    const p = unit(positives);
    const candidates = negatives ? tf.concat([p, unit(negatives)], 0) : p;
    const forward = diagonalCrossEntropy(tf.mul(tf.matMul(a, candidates, false, true), opts.scale), masks.forward);
    if (!opts.symmetric) return forward;
    const backward = diagonalCrossEntropy(tf.mul(tf.matMul(p, a, false, true), opts.scale), masks.backward);
    return tf.div(tf.add(forward, backward), 2) as tf.Scalar;
  });
}

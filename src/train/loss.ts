import * as tf from '@tensorflow/tfjs';

/**
 * Cross-entropy as torch.nn.CrossEntropyLoss(weight=w): Σ w[y]·nll / Σ w[y] (a plain mean when
 * there are no class weights). `labels` int32 [batch].
 */
export function weightedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, classWeights?: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(labels, logits.shape[1])), 1);
    if (!classWeights) return tf.neg(tf.mean(picked)) as tf.Scalar;
    const w = tf.gather(classWeights, labels);
    return tf.neg(tf.div(tf.sum(tf.mul(picked, w)), tf.sum(w))) as tf.Scalar;
  });
}

/** sklearn's "balanced" weights: n_samples / (n_classes · count[c]); absent classes get 0 (never hit). */
export function balancedWeights(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (c > 0 ? total / (counts.length * c) : 0));
}

/** Global L2 norm over all gradients (torch.nn.utils.clip_grad_norm_'s total_norm), as a scalar tensor. */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/** Scale factor torch applies: min(1, max_norm / (norm + 1e-6)). */
export function clipCoefficient(norm: number, maxNorm: number): number {
  if (maxNorm <= 0) return 1;
  return Math.min(1, maxNorm / (norm + 1e-6));
}

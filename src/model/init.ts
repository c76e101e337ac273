import * as tf from '@tensorflow/tfjs';
import type { BertConfig } from './config.js';
import { paramSpecs, type ParamSpec, type Params } from './params.js';

/**
 * From-scratch initialisation as Hugging Face's `_init_weights` does it for BERT: Linear and
 * Embedding weights ~ N(0, initializer_range), biases 0, LayerNorm weight 1 / bias 0, and the
 * word-embedding row of pad_token_id zeroed. One difference, on purpose: the normal is truncated at
 * two standard deviations (as the original TF BERT), which HF's plain normal_ is not; it keeps a
 * seeded fresh head free of outliers and is otherwise indistinguishable.
 *
 * Seeded per parameter name, so a parameter's initial value does not depend on which others are
 * initialised with it (a fresh head is the same whether or not the body was initialised too).
 */

/** FNV-1a of the name mixed with the seed → a 31-bit seed for tf.truncatedNormal. */
export function paramSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= Math.imul(seed >>> 0, 0x9e3779b1) >>> 0;
  return (h >>> 0) % 2147483647;
}

export function initParam(config: BertConfig, spec: ParamSpec, seed: number): tf.Tensor {
  return tf.tidy(() => {
    switch (spec.kind) {
      case 'bias':
      case 'norm_bias':
        return tf.zeros(spec.shape);
      case 'norm_weight':
        return tf.ones(spec.shape);
      case 'linear':
        return tf.truncatedNormal(spec.shape, 0, config.initializerRange, 'float32', paramSeed(seed, spec.name));
      case 'embedding': {
        const w = tf.truncatedNormal(spec.shape, 0, config.initializerRange, 'float32', paramSeed(seed, spec.name));
        if (spec.name !== 'bert.embeddings.word_embeddings.weight') return w;
        const keep = tf.oneHot(config.padTokenId, spec.shape[0]).reshape([spec.shape[0], 1]);
        return tf.mul(w, tf.sub(1, keep));
      }
    }
  });
}

/** Initialise the parameters of the chosen parts (default: all) of a BertForSequenceClassification. */
export function initParams(
  config: BertConfig,
  seed: number,
  parts: ReadonlyArray<ParamSpec['part']> = ['body', 'pooler', 'head'],
): Params {
  const params: Params = new Map();
  for (const spec of paramSpecs(config)) {
    if (parts.includes(spec.part)) params.set(spec.name, initParam(config, spec, seed));
  }
  return params;
}

/** A fresh classifier head (`classifier.weight` [hidden, num_labels], `classifier.bias`). */
export function initHead(config: BertConfig, seed: number): Params {
  return initParams(config, seed, ['head']);
}

import * as tf from '@tensorflow/tfjs';
import { ACTIVATIONS, bertHidden, type BertInputs, type ForwardOptions } from './bert.js';
import type { BertConfig } from './config.js';
import { dense, geluErf, layerNorm } from './layers.js';
import type { Params } from './params.js';

/**
 * BertForMaskedLM's head (`cls.predictions`) and loss, as pure functions over the parameter map:
 * transform = dense + hidden_act + LayerNorm, decoder = hidden @ word_embeddingsᵀ + cls.predictions.bias
 * (the decoder matrix is tied to the word embeddings, so its gradient flows into them).
 */

const p = (params: Params, name: string) => {
  const t = params.get(name);
  if (!t) throw new Error(`BERT parameter ${name} is missing from the parameter map`);
  return t;
};

/** Vocabulary logits [n, vocab] for hidden states [n, hidden]. */
export function mlmLogits(params: Params, config: BertConfig, hidden: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const act = config.hiddenAct === 'gelu' ? geluErf : ACTIVATIONS[config.hiddenAct];
    const w = p(params, 'cls.predictions.transform.dense.weight') as tf.Tensor2D;
    const b = p(params, 'cls.predictions.transform.dense.bias') as tf.Tensor1D;
    const h = layerNorm(
      act(dense(hidden, w, b)) as tf.Tensor2D,
      p(params, 'cls.predictions.transform.LayerNorm.weight') as tf.Tensor1D,
      p(params, 'cls.predictions.transform.LayerNorm.bias') as tf.Tensor1D,
      config.layerNormEps,
    );
    const words = p(params, 'bert.embeddings.word_embeddings.weight') as tf.Tensor2D;
    return tf.add(tf.matMul(h, words, false, true), p(params, 'cls.predictions.bias')) as tf.Tensor2D;
  });
}

/** Masked positions of a batch: flat indices into [batch·seq] and the original token at each. */
export interface MaskedTargets {
  positions: Int32Array;
  labels: Int32Array;
}

/**
 * Summed negative log-likelihood of the original tokens at the masked positions. Only those rows
 * go through the decoder (the [n, vocab] logits are the costly part), which gives the same number
 * as Hugging Face's loss over every position with -100 elsewhere: divide by the masked count for its mean.
 */
export function maskedLmNllSum(
  params: Params,
  config: BertConfig,
  inputs: BertInputs,
  targets: MaskedTargets,
  opts: ForwardOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    const hidden = bertHidden(params, config, inputs, opts);
    const flat = hidden.reshape([-1, config.hiddenSize]) as tf.Tensor2D;
    const picked = tf.gather(flat, tf.tensor1d(targets.positions, 'int32'));
    const logp = tf.logSoftmax(mlmLogits(params, config, picked));
    const at = Int32Array.from(targets.labels, (label, i) => i * config.vocabSize + label);
    return tf.neg(tf.sum(tf.gather(logp.reshape([-1]), tf.tensor1d(at, 'int32')))) as tf.Scalar;
  });
}

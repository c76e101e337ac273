import * as tf from '@tensorflow/tfjs';
import { seedStream } from '../lib/rng.js';
import type { BertConfig, HiddenAct } from './config.js';
import { dense, geluErf, layerNorm } from './layers.js';
import { nativeOps } from './native-ops.js';
import type { Params } from './params.js';

/**
 * BERT as Hugging Face's BertModel + BertForSequenceClassification compute it, written as pure
 * functions over a parameter map keyed by HF names (Linear kernels stored [in, out], see params.ts).
 * No classes, no state: the trainer differentiates `bertForward` with respect to the map's tensors.
 */

export interface BertInputs {
  /** int32 [batch, seq] */
  inputIds: tf.Tensor2D;
  /** int32 [batch, seq], 1 = attend, 0 = padding */
  attentionMask: tf.Tensor2D;
  /** int32 [batch, seq]; all zeros when omitted */
  tokenTypeIds?: tf.Tensor2D;
}

export interface ForwardOptions {
  /** Apply dropout (training mode). Default false: the forward pass is deterministic. */
  training?: boolean;
  /** Seed for the dropout masks; the same seed and inputs give the same masks. Default 0. */
  seed?: number;
  /** Also return the last hidden state [batch, seq, hidden]. */
  returnHidden?: boolean;
  /** Skip the classifier (for checkpoints used as encoders); logits are then absent. */
  headless?: boolean;
  /**
   * No gradient will be taken (eval, predict, the export parity check): each layer's
   * intermediates are freed as soon as the next layer has its input, so peak memory is one
   * layer's activations instead of all of them (~2.5 GB for BERT-base at batch 64 x 128).
   * Must stay off under a gradient tape, which needs them.
   */
  inference?: boolean;
}

export interface BertOutputs {
  /** [batch, num_labels] (absent when `headless`) */
  logits?: tf.Tensor2D;
  /** tanh(dense(hidden[:, 0])) [batch, hidden] */
  pooled: tf.Tensor2D;
  /** [batch, seq, hidden], only when `returnHidden` */
  lastHidden?: tf.Tensor3D;
}

/** What HF adds to masked attention scores: torch.finfo(float32).min. */
export const MASK_VALUE = -3.4028234663852886e38;

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export const ACTIVATIONS: Record<HiddenAct, (x: tf.Tensor) => tf.Tensor> = {
  // 0.5 x (1 + erf(x / sqrt 2)), torch's exact GELU
  gelu: (x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)),
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  relu: (x) => tf.relu(x),
};

function geluTanh(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), SQRT_2_OVER_PI);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/**
 * Inverted dropout, x * floor(u + keep) / keep as tf.dropout computes it. On TensorFlow the uniform
 * numbers come from its stateless Philox op (multi-threaded, on the GPU when there is one) instead of
 * tfjs's per-element JavaScript generator, which cost ~20 M calls per BERT-mini step; the masks differ
 * between the two, but each is a pure function of (seed, shape), which is what resume relies on.
 */
function dropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  const native = nativeOps();
  if (!native) return tf.dropout(x, rate, undefined, seed);
  const keep = 1 - rate;
  const mask = tf.div(tf.floor(tf.add(native.statelessUniform(x.shape, seed), keep)), keep);
  return tf.mul(x, mask);
}

function get(params: Params, name: string): tf.Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`BERT parameter ${name} is missing from the parameter map`);
  return t;
}

/** x [n, in] @ W [in, out] + b, for the parameters under `prefix`. */
function linear(params: Params, prefix: string, x: tf.Tensor2D): tf.Tensor2D {
  return dense(x, get(params, `${prefix}.weight`) as tf.Tensor2D, get(params, `${prefix}.bias`) as tf.Tensor1D);
}

function norm(params: Params, prefix: string, x: tf.Tensor2D, eps: number): tf.Tensor2D {
  const weight = get(params, `${prefix}.weight`) as tf.Tensor1D;
  return layerNorm(x, weight, get(params, `${prefix}.bias`) as tf.Tensor1D, eps);
}

/** Check dtypes and shapes before any work, with messages that say what was passed. */
export function checkInputs(config: BertConfig, inputs: BertInputs): void {
  const { inputIds, attentionMask, tokenTypeIds } = inputs;
  const named: Array<[string, tf.Tensor | undefined]> = [
    ['inputIds', inputIds],
    ['attentionMask', attentionMask],
    ['tokenTypeIds', tokenTypeIds],
  ];
  for (const [name, t] of named) {
    if (!t) continue;
    if (t.rank !== 2) throw new Error(`bertForward: ${name} must be [batch, seq], got shape [${t.shape.join(', ')}]`);
    if (t.dtype !== 'int32') throw new Error(`bertForward: ${name} must be int32, got ${t.dtype}`);
    if (t.shape[0] !== inputIds.shape[0] || t.shape[1] !== inputIds.shape[1]) {
      throw new Error(
        `bertForward: ${name} has shape [${t.shape.join(', ')}] but inputIds has [${inputIds.shape.join(', ')}]`,
      );
    }
  }
  const seq = inputIds.shape[1];
  if (seq > config.maxPositionEmbeddings) {
    throw new Error(
      `bertForward: sequence length ${seq} exceeds max_position_embeddings ${config.maxPositionEmbeddings}`,
    );
  }
  if (seq < 1 || inputIds.shape[0] < 1) throw new Error(`bertForward: empty batch [${inputIds.shape.join(', ')}]`);
}

/**
 * The forward pass. Every intermediate lives in a `tf.tidy`; only the returned tensors survive
 * (the caller disposes them). Differentiable with respect to every tensor of `params`.
 */
export function bertForward(
  params: Params,
  config: BertConfig,
  inputs: BertInputs,
  opts: ForwardOptions = {},
): BertOutputs {
  checkInputs(config, inputs);
  return tf.tidy(
    () => compute(params, config, inputs, opts) as unknown as tf.TensorContainer,
  ) as unknown as BertOutputs;
}

/** Logits only [batch, num_labels]: what the trainer differentiates. */
export function bertLogits(
  params: Params,
  config: BertConfig,
  inputs: BertInputs,
  opts: ForwardOptions = {},
): tf.Tensor2D {
  checkInputs(config, inputs);
  return tf.tidy(() => compute(params, config, inputs, { ...opts, returnHidden: false, headless: false }).logits!);
}

/**
 * The encoder's last hidden state [batch, seq, hidden] without pooler or classifier: what a
 * BertForMaskedLM head reads (its parameter table has no pooler).
 */
export function bertHidden(
  params: Params,
  config: BertConfig,
  inputs: BertInputs,
  opts: ForwardOptions = {},
): tf.Tensor3D {
  checkInputs(config, inputs);
  return tf.tidy(() => compute(params, config, inputs, { ...opts, encoderOnly: true }).lastHidden!);
}

/** The forward graph without the tidy scope (callers wrap it). */
function compute(
  params: Params,
  config: BertConfig,
  inputs: BertInputs,
  opts: ForwardOptions & { encoderOnly?: boolean },
): BertOutputs {
  const training = opts.training ?? false;
  const nextSeed = seedStream(opts.seed ?? 0);
  const drop = (x: tf.Tensor, rate: number): tf.Tensor => (training && rate > 0 ? dropout(x, rate, nextSeed()) : x);
  const eps = config.layerNormEps;
  const [batch, seq] = inputs.inputIds.shape;
  const H = config.hiddenSize;
  const A = config.numAttentionHeads;
  const D = H / A;

  // Hidden states stay [batch·seq, hidden] between blocks: every dense layer is then one 2-D MatMul.
  const N = batch * seq;
  const act = config.hiddenAct === 'gelu' ? geluErf : ACTIVATIONS[config.hiddenAct];
  // Embeddings: word + token type + position, LayerNorm, dropout.
  const words = tf.gather(get(params, 'bert.embeddings.word_embeddings.weight'), inputs.inputIds.reshape([-1]));
  const typeIds = inputs.tokenTypeIds ?? tf.zeros([batch, seq], 'int32');
  const types = tf.gather(get(params, 'bert.embeddings.token_type_embeddings.weight'), typeIds.reshape([-1]));
  const positions = tf.slice(get(params, 'bert.embeddings.position_embeddings.weight'), [0, 0], [seq, H]);
  const embedded = tf.add(tf.add(words, types).reshape([batch, seq, H]), positions).reshape([N, H]) as tf.Tensor2D;
  let x = drop(norm(params, 'bert.embeddings.LayerNorm', embedded, eps), config.hiddenDropoutProb) as tf.Tensor2D;

  // Additive mask [batch, 1, 1, seq]: 0 where attended, float32 min where padded.
  const maskAdd = tf.mul(tf.sub(1, tf.cast(inputs.attentionMask, 'float32')), MASK_VALUE).reshape([batch, 1, 1, seq]);
  const scale = 1 / Math.sqrt(D);

  // One encoder layer as two blocks (self-attention, feed-forward), each x -> x.
  const blocks = (l: number): ((x: tf.Tensor2D) => tf.Tensor2D)[] => {
    const p = `bert.encoder.layer.${l}`;
    const self = (name: string, part: string) => get(params, `${p}.attention.self.${name}.${part}`);
    const attention = (x: tf.Tensor2D) => {
      // Q, K and V from one [hidden, 3·hidden] MatMul, split into heads by one transpose: [3, batch, heads, seq, D]
      const w = tf.concat([self('query', 'weight'), self('key', 'weight'), self('value', 'weight')], 1) as tf.Tensor2D;
      const b = tf.concat([self('query', 'bias'), self('key', 'bias'), self('value', 'bias')]) as tf.Tensor1D;
      const qkv = dense(x, w, b).reshape([batch, seq, 3, A, D]).transpose([2, 0, 3, 1, 4]);
      const [q, k, v] = tf.unstack(qkv);
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), scale), maskAdd);
      const probs = drop(tf.softmax(scores, -1), config.attentionProbsDropoutProb);
      const ctx = tf.matMul(probs, v).transpose([0, 2, 1, 3]).reshape([N, H]) as tf.Tensor2D;
      const attnOut = drop(linear(params, `${p}.attention.output.dense`, ctx), config.hiddenDropoutProb);
      return norm(params, `${p}.attention.output.LayerNorm`, tf.add(attnOut, x), eps);
    };
    const feedForward = (x: tf.Tensor2D) => {
      const inter = act(linear(params, `${p}.intermediate.dense`, x)) as tf.Tensor2D;
      const ffOut = drop(linear(params, `${p}.output.dense`, inter), config.hiddenDropoutProb);
      return norm(params, `${p}.output.LayerNorm`, tf.add(ffOut, x), eps);
    };
    return [attention, feedForward];
  };
  for (let l = 0; l < config.numHiddenLayers; l++) {
    for (const block of blocks(l)) {
      if (!opts.inference) {
        x = block(x);
        continue;
      }
      const input = x;
      x = tf.tidy(() => block(input));
      input.dispose(); // an intermediate of this pass (embeddings or the previous block), never a parameter
    }
  }

  const hidden = x.reshape([batch, seq, H]) as tf.Tensor3D;
  if (opts.encoderOnly) return { lastHidden: hidden } as BertOutputs;
  const cls = tf.slice(hidden, [0, 0, 0], [batch, 1, H]).reshape([batch, H]) as tf.Tensor2D;
  const pooled = tf.tanh(linear(params, 'bert.pooler.dense', cls)) as tf.Tensor2D;
  const out: BertOutputs = { pooled };
  if (!opts.headless) {
    const rate = config.classifierDropout ?? config.hiddenDropoutProb;
    out.logits = linear(params, 'classifier', drop(pooled, rate) as tf.Tensor2D);
  }
  if (opts.returnHidden) out.lastHidden = hidden;
  return out;
}

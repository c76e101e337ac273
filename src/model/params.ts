import type * as tf from '@tensorflow/tfjs';
import type { BertConfig } from './config.js';

/**
 * The parameter table of BertForSequenceClassification (or BertForMaskedLM), keyed by Hugging Face names.
 *
 * Layout decision: Linear kernels are stored as [in, out] (what tfjs `matMul(x, W)` wants) under the
 * Hugging Face name (`...query.weight`); PyTorch keeps them as [out, in], so import and HF export
 * transpose exactly the entries whose `kind` is 'linear'. Embeddings, biases and LayerNorm vectors
 * have the same layout in both worlds.
 */
export type Params = Map<string, tf.Tensor>;
export type ParamKind = 'linear' | 'bias' | 'embedding' | 'norm_weight' | 'norm_bias';

export interface ParamSpec {
  name: string;
  /** Shape in recsys's layout ([in, out] for linear kernels). */
  shape: number[];
  kind: ParamKind;
  /** Which part of the model: embeddings/encoder ('body'), pooler, or classifier head. */
  part: 'body' | 'pooler' | 'head';
}

export function paramSpecs(c: BertConfig): ParamSpec[] {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const specs: ParamSpec[] = [];
  const add = (name: string, shape: number[], kind: ParamKind, part: ParamSpec['part'] = 'body') =>
    specs.push({ name, shape, kind, part });
  const dense = (prefix: string, nIn: number, nOut: number, part: ParamSpec['part'] = 'body') => {
    add(`${prefix}.weight`, [nIn, nOut], 'linear', part);
    add(`${prefix}.bias`, [nOut], 'bias', part);
  };
  const norm = (prefix: string, part: ParamSpec['part'] = 'body') => {
    add(`${prefix}.weight`, [H], 'norm_weight', part);
    add(`${prefix}.bias`, [H], 'norm_bias', part);
  };
  add('bert.embeddings.word_embeddings.weight', [c.vocabSize, H], 'embedding');
  add('bert.embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, H], 'embedding');
  add('bert.embeddings.token_type_embeddings.weight', [c.typeVocabSize, H], 'embedding');
  norm('bert.embeddings.LayerNorm');
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `bert.encoder.layer.${l}`;
    dense(`${p}.attention.self.query`, H, H);
    dense(`${p}.attention.self.key`, H, H);
    dense(`${p}.attention.self.value`, H, H);
    dense(`${p}.attention.output.dense`, H, H);
    norm(`${p}.attention.output.LayerNorm`);
    dense(`${p}.intermediate.dense`, H, I);
    dense(`${p}.output.dense`, I, H);
    norm(`${p}.output.LayerNorm`);
  }
  if (c.head === 'masked_lm') {
    // BertForMaskedLM: no pooler; the decoder matrix is the word embeddings (tied), only its bias is a parameter.
    dense('cls.predictions.transform.dense', H, H, 'head');
    norm('cls.predictions.transform.LayerNorm', 'head');
    add('cls.predictions.bias', [c.vocabSize], 'bias', 'head');
    return specs;
  }
  dense('bert.pooler.dense', H, H, 'pooler');
  dense('classifier', H, c.id2label.length, 'head');
  return specs;
}

/** Shape in PyTorch's layout (what a safetensors file holds). */
export function torchShape(spec: ParamSpec): number[] {
  return spec.kind === 'linear' ? [spec.shape[1], spec.shape[0]] : spec.shape;
}

export function totalParams(specs: ParamSpec[]): number {
  return specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** Dispose every tensor of a parameter map (variables included). */
export function disposeParams(params: Params): void {
  for (const t of params.values()) t.dispose();
}

import { INPUT_NAMES } from '../../data/batch.js';
import { MASK_VALUE } from '../bert.js';
import type { BertConfig } from '../config.js';
import { paramSpecs } from '../params.js';

/**
 * The inference graph of BertForSequenceClassification, described once, as data.
 *
 * Built from the model's parameter map (names and shapes) and its config, this is the single
 * description of BERT that every exporter lowers: the ONNX emitter (export/onnx.ts) and the
 * TensorFlow GraphDef emitter (tf-emit.ts, which the SavedModel export and the compiled inference
 * path of infer/ share) only know how to translate the ~15 op kinds below, never the BERT structure
 * itself, and the tests run the same description with tfjs so the description can be checked
 * against the training forward pass (src/model/bert.ts).
 *
 * Values are named; each has a static rank. Integer inputs are `[batch, seq]`; the integer element
 * type is the exporter's choice (int64 in ONNX, int32 in the SavedModel). The arithmetic follows
 * bert.ts operation by operation (scores × 1/√d, LayerNorm via rsqrt, the same mask constant), so
 * that an export reproduces the training runtime's numbers, not only Hugging Face's.
 */

export type ActivationFn = 'gelu' | 'gelu_tanh' | 'relu' | 'tanh';

export type GraphOp =
  /** [batch, seq] integer graph input */
  | { op: 'input'; out: string }
  /** a float32 tensor of the parameter map */
  | { op: 'weight'; out: string; param: string; shape: number[] }
  /** table[ids]: table [V, H], ids [B, S] → [B, S, H] */
  | { op: 'embed'; out: string; table: string; ids: string }
  /** table[0:S] where S = dim 1 of `like` ([B, S]) → [S, H] */
  | { op: 'positions'; out: string; table: string; like: string }
  /** a + b with broadcasting */
  | { op: 'add'; out: string; a: string; b: string }
  /** x[..., in] @ weight[in, out] + bias[out] */
  | { op: 'dense'; out: string; x: string; weight: string; bias: string }
  /** (x − mean) · rsqrt(var + eps) · gamma + beta over the last axis */
  | { op: 'layerNorm'; out: string; x: string; gamma: string; beta: string; eps: number }
  | { op: 'activation'; out: string; x: string; fn: ActivationFn }
  /** mask [B, S] integer (1 attend, 0 pad) → (1 − mask) · value as float32 [B, 1, 1, S] */
  | { op: 'maskBias'; out: string; mask: string; value: number }
  /** [B, S, heads·headDim] → [B, heads, S, headDim] */
  | { op: 'splitHeads'; out: string; x: string; heads: number; headDim: number }
  /** [B, heads, S, headDim] → [B, S, hidden] */
  | { op: 'mergeHeads'; out: string; x: string; hidden: number }
  /** batched a @ b (or a @ bᵀ over the last two axes) */
  | { op: 'matmul'; out: string; a: string; b: string; transposeB: boolean }
  /** x · factor */
  | { op: 'scale'; out: string; x: string; factor: number }
  /** softmax over the last axis */
  | { op: 'softmax'; out: string; x: string }
  /** x[:, 0, :]: [B, S, H] → [B, H] */
  | { op: 'firstToken'; out: string; x: string }
  /** Σ_s x[:, s, :]·mask[:, s] / max(Σ_s mask[:, s], 1e-9): x [B, S, H], mask [B, S] integer → [B, H] */
  | { op: 'meanPool'; out: string; x: string; mask: string }
  /** x / max(‖x‖₂, 1e-12) over the last axis */
  | { op: 'l2Normalize'; out: string; x: string };

export type OpKind = GraphOp['op'];

export interface GraphOutput {
  /** Output name in the exported contract (`logits`). */
  name: string;
  /** The value it is; exporters name that value after the output. */
  value: string;
  /** Static dims; strings are dynamic axes. */
  dims: Array<number | string>;
}

export interface InferenceGraph {
  /** Ops in topological order (inputs and weights first). */
  ops: GraphOp[];
  /** Graph inputs in contract order, each [batch_size, sequence_length]. */
  inputs: string[];
  outputs: GraphOutput[];
  /** Rank of every value. */
  ranks: Map<string, number>;
  /** The config the graph was derived from. */
  config: BertConfig;
}

export const BATCH_AXIS = 'batch_size';
export const SEQUENCE_AXIS = 'sequence_length';

const ACTIVATION_OF: Record<BertConfig['hiddenAct'], ActivationFn> = {
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  relu: 'relu',
};

/** A bi-encoder's outputs (task embedding): how the sentence vector is made from the encoder states. */
export interface EmbeddingHead {
  pooling: 'mean' | 'cls';
  normalize: boolean;
}

/**
 * Values of the classifier graph that hold the encoder's outputs (a run can fetch them besides
 * `logits`): the last layer's hidden states [B, S, H] and the pooler's tanh output [B, H].
 */
export function encoderValues(config: BertConfig): { lastHidden: string; pooled: string } {
  return { lastHidden: `bert.encoder.layer.${config.numHiddenLayers - 1}.output.output`, pooled: 'bert.pooler.output' };
}

/** Shapes of the parameters the graph reads: from a tfjs parameter map or any name → shape map. */
export type ParamShapes = ReadonlyMap<string, { shape: readonly number[] }> | ReadonlyMap<string, readonly number[]>;

function shapeOf(params: ParamShapes, name: string): readonly number[] | undefined {
  const v = (params as ReadonlyMap<string, unknown>).get(name);
  if (v === undefined) return undefined;
  return Array.isArray(v) ? (v as number[]) : (v as { shape: number[] }).shape;
}

/**
 * Derive the inference graph from the parameter map and the config. Every parameter the
 * BertForSequenceClassification table lists must be present with the shape the config implies;
 * a missing or misshapen one is an error naming it.
 */
export function buildInferenceGraph(
  config: BertConfig,
  params: ParamShapes,
  embedding: EmbeddingHead | null = null,
): InferenceGraph {
  const ops: GraphOp[] = [];
  const ranks = new Map<string, number>();
  const emit = <T extends GraphOp>(op: T, rank: number): string => {
    if (ranks.has(op.out)) throw new Error(`inference graph: value ${op.out} defined twice`);
    ops.push(op);
    ranks.set(op.out, rank);
    return op.out;
  };
  const rankOf = (v: string) => {
    const r = ranks.get(v);
    if (r === undefined) throw new Error(`inference graph: value ${v} used before it is defined`);
    return r;
  };

  for (const name of INPUT_NAMES) emit({ op: 'input', out: name }, 2);

  const specs = paramSpecs(config);
  const problems: string[] = [];
  for (const spec of specs) {
    const shape = shapeOf(params, spec.name);
    if (!shape) problems.push(`${spec.name} is missing`);
    else if (shape.join(',') !== spec.shape.join(',')) {
      problems.push(`${spec.name} is [${shape.join(', ')}], the config implies [${spec.shape.join(', ')}]`);
    }
  }
  if (problems.length)
    throw new Error(
      `cannot build the inference graph: ` +
        `${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`,
    );
  // A bi-encoder reads the encoder only: its (untrained) pooler and head stay out of the export.
  for (const spec of specs.filter((p) => !embedding || p.part === 'body'))
    emit({ op: 'weight', out: spec.name, param: spec.name, shape: [...spec.shape] }, spec.shape.length);

  const H = config.hiddenSize;
  const A = config.numAttentionHeads;
  const D = H / A;
  const eps = config.layerNormEps;
  const act = ACTIVATION_OF[config.hiddenAct];

  const dense = (out: string, x: string, prefix: string) =>
    emit({ op: 'dense', out, x, weight: `${prefix}.weight`, bias: `${prefix}.bias` }, rankOf(x));
  const norm = (out: string, x: string, prefix: string) =>
    emit({ op: 'layerNorm', out, x, gamma: `${prefix}.weight`, beta: `${prefix}.bias`, eps }, rankOf(x));

  // Embeddings: word + token type + position, then LayerNorm.
  const e = 'bert.embeddings';
  const words = emit({ op: 'embed', out: `${e}.words`, table: `${e}.word_embeddings.weight`, ids: 'input_ids' }, 3);
  const types = emit(
    { op: 'embed', out: `${e}.types`, table: `${e}.token_type_embeddings.weight`, ids: 'token_type_ids' },
    3,
  );
  const pos = emit(
    { op: 'positions', out: `${e}.positions`, table: `${e}.position_embeddings.weight`, like: 'input_ids' },
    2,
  );
  const sum = emit({ op: 'add', out: `${e}.sum`, a: words, b: types }, 3);
  const sumPos = emit({ op: 'add', out: `${e}.sum_positions`, a: sum, b: pos }, 3);
  let x = norm(`${e}.output`, sumPos, `${e}.LayerNorm`);

  const maskBias = emit(
    { op: 'maskBias', out: 'bert.extended_attention_mask', mask: 'attention_mask', value: MASK_VALUE },
    4,
  );

  for (let l = 0; l < config.numHiddenLayers; l++) {
    const p = `bert.encoder.layer.${l}`;
    const s = `${p}.attention.self`;
    const q = emit(
      { op: 'splitHeads', out: `${s}.q_heads`, x: dense(`${s}.q`, x, `${s}.query`), heads: A, headDim: D },
      4,
    );
    const k = emit(
      { op: 'splitHeads', out: `${s}.k_heads`, x: dense(`${s}.k`, x, `${s}.key`), heads: A, headDim: D },
      4,
    );
    const v = emit(
      { op: 'splitHeads', out: `${s}.v_heads`, x: dense(`${s}.v`, x, `${s}.value`), heads: A, headDim: D },
      4,
    );
    const qk = emit({ op: 'matmul', out: `${s}.qk`, a: q, b: k, transposeB: true }, 4);
    const scaled = emit({ op: 'scale', out: `${s}.scores`, x: qk, factor: 1 / Math.sqrt(D) }, 4);
    const masked = emit({ op: 'add', out: `${s}.masked_scores`, a: scaled, b: maskBias }, 4);
    const probs = emit({ op: 'softmax', out: `${s}.probs`, x: masked }, 4);
    const ctxHeads = emit({ op: 'matmul', out: `${s}.context_heads`, a: probs, b: v, transposeB: false }, 4);
    const ctx = emit({ op: 'mergeHeads', out: `${s}.context`, x: ctxHeads, hidden: H }, 3);
    const o = `${p}.attention.output`;
    const attnOut = dense(`${o}.dense_out`, ctx, `${o}.dense`);
    const res1 = emit({ op: 'add', out: `${o}.residual`, a: attnOut, b: x }, 3);
    x = norm(`${o}.output`, res1, `${o}.LayerNorm`);
    const inter = dense(`${p}.intermediate.dense_out`, x, `${p}.intermediate.dense`);
    const activated = emit({ op: 'activation', out: `${p}.intermediate.output`, x: inter, fn: act }, 3);
    const ff = dense(`${p}.output.dense_out`, activated, `${p}.output.dense`);
    const res2 = emit({ op: 'add', out: `${p}.output.residual`, a: ff, b: x }, 3);
    // Exporters name an output's node after it: a bi-encoder's last layer is last_hidden_state itself.
    const last = embedding && l === config.numHiddenLayers - 1;
    const hiddenName = l === config.numHiddenLayers - 1 ? encoderValues(config).lastHidden : `${p}.output.output`;
    x = norm(last ? 'last_hidden_state' : hiddenName, res2, `${p}.output.LayerNorm`);
  }

  if (embedding) {
    // sentence-transformers' Transformer → Pooling (→ Normalize): last_hidden_state and sentence_embedding.
    const pooledName = embedding.normalize ? 'pooling.output' : 'sentence_embedding';
    const pooledSentence =
      embedding.pooling === 'cls'
        ? emit({ op: 'firstToken', out: pooledName, x }, 2)
        : emit({ op: 'meanPool', out: pooledName, x, mask: 'attention_mask' }, 2);
    const sentence = embedding.normalize
      ? emit({ op: 'l2Normalize', out: 'sentence_embedding', x: pooledSentence }, 2)
      : pooledSentence;
    return {
      ops,
      inputs: [...INPUT_NAMES],
      outputs: [
        { name: 'sentence_embedding', value: sentence, dims: [BATCH_AXIS, H] },
        { name: 'last_hidden_state', value: x, dims: [BATCH_AXIS, SEQUENCE_AXIS, H] },
      ],
      ranks,
      config,
    };
  }

  const cls = emit({ op: 'firstToken', out: 'bert.pooler.first_token', x }, 2);
  const pooledPre = dense('bert.pooler.dense_out', cls, 'bert.pooler.dense');
  const pooled = emit({ op: 'activation', out: encoderValues(config).pooled, x: pooledPre, fn: 'tanh' }, 2);
  const logits = dense('logits', pooled, 'classifier');

  return {
    ops,
    inputs: [...INPUT_NAMES],
    outputs: [{ name: 'logits', value: logits, dims: [BATCH_AXIS, config.id2label.length] }],
    ranks,
    config,
  };
}

/** Op kinds the graph uses, with counts (for reports and tests). */
export function opHistogram(graph: InferenceGraph): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of graph.ops) out[op.op] = (out[op.op] ?? 0) + 1;
  return out;
}

/** The values an op reads. */
export function opInputs(op: GraphOp): string[] {
  switch (op.op) {
    case 'input':
    case 'weight':
      return [];
    case 'embed':
      return [op.table, op.ids];
    case 'positions':
      return [op.table, op.like];
    case 'add':
      return [op.a, op.b];
    case 'dense':
      return [op.x, op.weight, op.bias];
    case 'layerNorm':
      return [op.x, op.gamma, op.beta];
    case 'maskBias':
      return [op.mask];
    case 'matmul':
      return [op.a, op.b];
    case 'activation':
    case 'splitHeads':
    case 'mergeHeads':
    case 'scale':
    case 'softmax':
    case 'firstToken':
    case 'l2Normalize':
      return [op.x];
    case 'meanPool':
      return [op.x, op.mask];
  }
}

/** Total float32 bytes of the weights the graph reads. */
export function weightBytes(graph: InferenceGraph): number {
  let n = 0;
  for (const op of graph.ops) if (op.op === 'weight') n += 4 * op.shape.reduce((a, b) => a * b, 1);
  return n;
}

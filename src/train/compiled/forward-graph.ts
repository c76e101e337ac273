import { GraphDefBuilder, type NodeDef, shapeAttr, T } from '../../lib/tf-graphdef.js';
import { DT } from '../../lib/tf-proto.js';
import { MASK_VALUE } from '../../model/bert.js';
import { type BertConfig, headTask } from '../../model/config.js';
import { type ParamSpec, paramSpecs } from '../../model/params.js';

/**
 * The forward pass of BERT for sequence classification and its head's loss as a TensorFlow
 * GraphDef, op for op what src/model/bert.ts computes eagerly on the tensorflow backend (fused QKV
 * matmul, 2-D hidden states, BiasAdd, erf GELU, closed-form LayerNorm, the Philox dropout masks of
 * native-ops.ts), so the compiled step's losses equal the eager step's. Parameters are resource
 * variables (VarHandleOp named after the parameter, shared_name the same) read once each by
 * `<param>/read`: the tensors the gradients are taken with respect to. Shapes are static (one graph
 * per batch and sequence length), or any [batch, seq] when no shape is given.
 *
 * Inputs: input_ids, attention_mask, token_type_ids int32 [batch, seq], labels (int32 [batch] for the
 * single-label head, float32 [batch, num_labels] targets for regression and multi-label), seeds int32
 * [dropouts, 2] (the Philox seed pair of each dropout, in the order the eager forward draws them),
 * loss_scale float32 [] (default 1; a test poisons a step with NaN). Output: loss_value. The losses are
 * train/objectives.ts's, op for op: (class-weighted) cross-entropy, MSE, BCE with logits (+ pos_weight).
 */

/** Static batch and sequence length (grappler folds every shape), or absent: any shape, one graph. */
export interface StepShape {
  batch: number;
  seq: number;
}

export interface ForwardOptions {
  /** Absent: the inputs take any [batch, seq] (the trainer's length-bucketed batches). */
  shape?: StepShape;
  /** A `class_weights` float32 [num_labels] input: torch's CrossEntropyLoss(weight=w). */
  classWeights?: boolean;
  /** A `pos_weight` float32 [num_labels] input (multi-label): torch's BCEWithLogitsLoss(pos_weight=p). */
  posWeight?: boolean;
}

export interface GraphParam {
  name: string;
  spec: ParamSpec;
  /** The VarHandleOp (a DT_RESOURCE tensor). */
  handle: string;
  /** The ReadVariableOp the forward uses: the gradient's x. */
  read: string;
}

export interface ForwardGraph {
  /** The model the graph was written for. */
  config: BertConfig;
  nodes: NodeDef[];
  params: GraphParam[];
  /** Tensor name of the scalar loss. */
  loss: string;
  /** Rows of the `seeds` input: the dropouts with a rate above 0, in the eager forward's order. */
  dropouts: number;
}

const F = DT.DT_FLOAT;
const I32 = DT.DT_INT32;
const tf32 = { T: T(F) };

/** The dropout rates the eager forward applies in training, in the order it draws their seeds. */
export function dropoutRates(config: BertConfig): number[] {
  const hidden = config.hiddenDropoutProb;
  const rates = [hidden];
  for (let l = 0; l < config.numHiddenLayers; l++) rates.push(config.attentionProbsDropoutProb, hidden, hidden);
  // the classifier's dropout (BertForMaskedLM's head has none)
  if (config.head !== 'masked_lm') rates.push(config.classifierDropout ?? hidden);
  return rates.filter((r) => r > 0);
}

export function emitForwardGraph(config: BertConfig, opts: ForwardOptions = {}): ForwardGraph {
  const b = new GraphDefBuilder();
  const H = config.hiddenSize;
  const A = config.numAttentionHeads;
  const D = H / A;
  const L = config.id2label.length;
  const op = (name: string, type: string, inputs: string[], attr: NodeDef['attr'] = tf32) =>
    b.add(b.unique(`forward/${name}`), type, inputs, attr);
  const ph = (name: string, dtype: number, dims: number[]) =>
    b.add(name, 'Placeholder', [], { dtype: T(dtype), shape: shapeAttr(dims) });
  const [pb, ps] = opts.shape ? [opts.shape.batch, opts.shape.seq] : [-1, -1];
  const ids = ph('input_ids', I32, [pb, ps]);
  const mask = ph('attention_mask', I32, [pb, ps]);
  const types = ph('token_type_ids', I32, [pb, ps]);
  const task = config.head === 'masked_lm' ? 'masked_lm' : headTask(config);
  const labels =
    task === 'masked_lm'
      ? ''
      : task === 'single_label_classification'
        ? ph('labels', I32, [pb])
        : ph('labels', F, [pb, L]);
  // batch and sequence length: numbers when static, else int32 scalars sliced from Shape(input_ids)
  const inputShape = opts.shape ? '' : op('input_shape', 'Shape', [ids], { T: T(I32), out_type: T(I32) });
  const dimOf = (k: number) =>
    op('input_dim', 'StridedSlice', [inputShape, b.i32([k]), b.i32([k + 1]), b.i32([1])], {
      T: T(I32),
      Index: T(I32),
      shrink_axis_mask: { i: 1 },
    });
  const B: number | string = opts.shape ? opts.shape.batch : dimOf(0);
  const S: number | string = opts.shape ? opts.shape.seq : dimOf(1);
  /** An int32 [k] shape from numbers and int32 scalars: a Const when all are numbers. */
  const dims = (ds: Array<number | string>) =>
    ds.every((d) => typeof d === 'number')
      ? b.i32(ds as number[])
      : op(
          'dims',
          'Pack',
          ds.map((d) => (typeof d === 'number' ? b.i32([d], []) : d)),
          {
            T: T(I32),
            N: { i: ds.length },
            axis: { i: 0 },
          },
        );
  const rates = dropoutRates(config);
  const seeds = ph('seeds', I32, [rates.length, 2]);

  const params: GraphParam[] = [];
  const reads = new Map<string, string>();
  for (const spec of paramSpecs(config)) {
    const handle = b.add(spec.name, 'VarHandleOp', [], {
      dtype: T(F),
      shape: shapeAttr(spec.shape),
      shared_name: { s: Buffer.from(spec.name, 'utf8') },
    });
    const read = b.add(`${spec.name}/read`, 'ReadVariableOp', [handle], { dtype: T(F) });
    params.push({ name: spec.name, spec, handle, read });
    reads.set(spec.name, read);
  }
  const p = (name: string) => reads.get(name)!;

  const reshape = (x: string, to: Array<number | string>, dtype: number = F) =>
    op('reshape', 'Reshape', [x, dims(to)], { T: T(dtype), Tshape: T(I32) });
  const linear = (prefix: string, x: string) =>
    op('bias_add', 'BiasAdd', [op('matmul', 'MatMul', [x, p(`${prefix}.weight`)]), p(`${prefix}.bias`)]);
  const meanLast = (x: string) => op('mean', 'Mean', [x, b.i32([-1])], { T: T(F), keep_dims: { b: true } });
  const norm = (prefix: string, x: string) => {
    const centered = op('centered', 'Sub', [x, meanLast(x)]);
    const variance = meanLast(op('squared', 'Square', [centered]));
    const rstd = op('rstd', 'Rsqrt', [op('variance_eps', 'AddV2', [variance, b.f32([config.layerNormEps])])]);
    const normed = op('normed', 'Mul', [centered, rstd]);
    return op('norm', 'AddV2', [op('scaled', 'Mul', [normed, p(`${prefix}.weight`)]), p(`${prefix}.bias`)]);
  };
  let drawn = 0;
  // x · floor(u + keep) / keep with u from StatelessRandomUniform(shape, seed pair): dropout() in bert.ts
  const drop = (x: string, rate: number) => {
    if (rate <= 0) return x;
    const i = drawn++;
    const seed = op('seed', 'StridedSlice', [seeds, b.i32([i, 0]), b.i32([i + 1, 2]), b.i32([1, 1])], {
      T: T(I32),
      Index: T(I32),
      shrink_axis_mask: { i: 1 },
    });
    const shape = op('shape', 'Shape', [x], { T: T(F), out_type: T(I32) });
    const u = op('uniform', 'StatelessRandomUniform', [shape, seed], {
      dtype: T(F),
      T: T(I32),
      Tseed: T(I32),
    });
    const keep = b.f32([1 - rate]);
    const kept = op('keep_mask', 'RealDiv', [op('floor', 'Floor', [op('shifted', 'AddV2', [u, keep])]), keep]);
    return op('dropout', 'Mul', [x, kept]);
  };
  const gather = (table: string, indices: string) =>
    op('gather', 'GatherV2', [table, reshape(indices, [-1], I32), b.i32([0], [])], {
      Tparams: T(F),
      Tindices: T(I32),
      Taxis: T(I32),
    });
  const slice = (x: string, begin: number[], end: Array<number | string>) =>
    op('slice', 'StridedSlice', [x, b.i32(begin), dims(end), b.i32(begin.map(() => 1))], {
      T: T(F),
      Index: T(I32),
    });
  const act = (x: string) => {
    switch (config.hiddenAct) {
      case 'gelu': {
        const erf = op('erf', 'Erf', [op('gelu_in', 'Mul', [x, b.f32([Math.SQRT1_2])])]);
        const onePlusErf = op('erf_plus_1', 'AddV2', [erf, b.f32([1])]);
        return op('gelu', 'Mul', [op('half', 'Mul', [x, b.f32([0.5])]), onePlusErf]);
      }
      case 'relu':
        return op('relu', 'Relu', [x]);
      default: {
        const cube = op('cube_scaled', 'Mul', [op('cube', 'Pow', [x, b.f32([3])]), b.f32([0.044715])]);
        const inner = op('inner', 'Mul', [op('inner_sum', 'AddV2', [x, cube]), b.f32([Math.sqrt(2 / Math.PI)])]);
        const onePlusTanh = op('tanh_plus_1', 'AddV2', [op('tanh', 'Tanh', [inner]), b.f32([1])]);
        return op('gelu_tanh', 'Mul', [op('half', 'Mul', [x, b.f32([0.5])]), onePlusTanh]);
      }
    }
  };

  const words = gather(p('bert.embeddings.word_embeddings.weight'), ids);
  const typeRows = gather(p('bert.embeddings.token_type_embeddings.weight'), types);
  const positions = slice(p('bert.embeddings.position_embeddings.weight'), [0, 0], [S, H]);
  const summed = reshape(op('embed_sum', 'AddV2', [words, typeRows]), [B, S, H]);
  const embedded = reshape(op('embed_pos', 'AddV2', [summed, positions]), [-1, H]);
  let x = drop(norm('bert.embeddings.LayerNorm', embedded), config.hiddenDropoutProb);

  const maskFloat = op('mask_float', 'Cast', [mask], { SrcT: T(I32), DstT: T(F) });
  const inverted = op('mask_inverted', 'Sub', [b.f32([1]), maskFloat]);
  const maskAdd = reshape(op('mask_add', 'Mul', [inverted, b.f32([MASK_VALUE])]), [B, 1, 1, S]);
  const scale = b.f32([1 / Math.sqrt(D)]);
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const pre = `bert.encoder.layer.${l}`;
    const self = (part: string) => ['query', 'key', 'value'].map((n) => p(`${pre}.attention.self.${n}.${part}`));
    const concat = (xs: string[], axis: number) =>
      op('concat', 'ConcatV2', [...xs, b.i32([axis], [])], { N: { i: xs.length }, T: T(F), Tidx: T(I32) });
    const qkvFlat = op('bias_add', 'BiasAdd', [
      op('matmul', 'MatMul', [x, concat(self('weight'), 1)]),
      concat(self('bias'), 0),
    ]);
    const qkv = op('transpose', 'Transpose', [reshape(qkvFlat, [B, S, 3, A, D]), b.i32([2, 0, 3, 1, 4])], {
      T: T(F),
      Tperm: T(I32),
    });
    const heads = op('unstack', 'Unpack', [qkv], { T: T(F), num: { i: 3 }, axis: { i: 0 } });
    const scores = op('scores', 'BatchMatMulV2', [`${heads}:0`, `${heads}:1`], { T: T(F), adj_y: { b: true } });
    const masked = op('scores_masked', 'AddV2', [op('scores_scaled', 'Mul', [scores, scale]), maskAdd]);
    const probs = drop(op('probs', 'Softmax', [masked]), config.attentionProbsDropoutProb);
    const ctx = op('context', 'BatchMatMulV2', [probs, `${heads}:2`]);
    const merged = reshape(op('transpose', 'Transpose', [ctx, b.i32([0, 2, 1, 3])], { T: T(F), Tperm: T(I32) }), [
      -1,
      H,
    ]);
    const attnOut = drop(linear(`${pre}.attention.output.dense`, merged), config.hiddenDropoutProb);
    x = norm(`${pre}.attention.output.LayerNorm`, op('residual', 'AddV2', [attnOut, x]));
    const inter = act(linear(`${pre}.intermediate.dense`, x));
    const ffOut = drop(linear(`${pre}.output.dense`, inter), config.hiddenDropoutProb);
    x = norm(`${pre}.output.LayerNorm`, op('residual', 'AddV2', [ffOut, x]));
  }
  const classifierLogits = () => {
    const cls = reshape(slice(reshape(x, [B, S, H]), [0, 0, 0], [B, 1, H]), [-1, H]);
    const pooled = op('pooled', 'Tanh', [linear('bert.pooler.dense', cls)]);
    return linear('classifier', drop(pooled, config.classifierDropout ?? config.hiddenDropoutProb));
  };
  const logits = task === 'masked_lm' ? '' : classifierLogits();

  const lossScale = b.add('loss_scale', 'PlaceholderWithDefault', [b.f32([1])], {
    dtype: T(F),
    shape: shapeAttr([]),
  });
  const value =
    task === 'masked_lm'
      ? maskedLm()
      : task === 'single_label_classification'
        ? crossEntropy()
        : task === 'regression'
          ? mse()
          : bce();
  const loss = b.add('loss_value', 'Mul', [value, lossScale], tf32);
  if (drawn !== rates.length) throw new Error(`compiled step: ${drawn} dropouts emitted, ${rates.length} expected`);
  return { config, nodes: b.nodes, params, loss: `${loss}:0`, dropouts: rates.length };

  /**
   * BertForMaskedLM's loss, as model/mlm-head.ts's maskedLmNllSum / count: only the masked positions
   * (mlm_positions, flat indices into [batch·seq]) go through the head, whose decoder is the word
   * embeddings (tied: the one variable read gets both gradients) plus cls.predictions.bias; the mean of
   * −log p(original token mlm_labels) over them.
   */
  function maskedLm(): string {
    const positions = ph('mlm_positions', I32, [-1]);
    const targets = ph('mlm_labels', I32, [-1]);
    const picked = op('mlm_picked', 'GatherV2', [x, positions, b.i32([0], [])], {
      Tparams: T(F),
      Tindices: T(I32),
      Taxis: T(I32),
    });
    const h = norm('cls.predictions.transform.LayerNorm', act(linear('cls.predictions.transform.dense', picked)));
    const decoded = op('mlm_decoder', 'MatMul', [h, p('bert.embeddings.word_embeddings.weight')], {
      T: T(F),
      transpose_b: { b: true },
    });
    const vocabLogits = op('mlm_logits', 'BiasAdd', [decoded, p('cls.predictions.bias')]);
    const logp = op('mlm_log_probs', 'LogSoftmax', [vocabLogits]);
    const oneHot = op('mlm_one_hot', 'OneHot', [targets, b.i32([config.vocabSize], []), b.f32([1]), b.f32([0])], {
      T: T(F),
      TI: T(I32),
      axis: { i: -1 },
    });
    const sumOver = (t: string, axis: number) =>
      op('mlm_sum', 'Sum', [t, b.i32([axis])], { T: T(F), Tidx: T(I32), keep_dims: { b: false } });
    const nll = op('mlm_nll', 'Neg', [sumOver(sumOver(op('mlm_picked_all', 'Mul', [logp, oneHot]), 1), 0)]);
    const count = op('mlm_count', 'Cast', [op('mlm_size', 'Size', [targets], { T: T(I32), out_type: T(I32) })], {
      SrcT: T(I32),
      DstT: T(F),
      Truncate: { b: false },
    });
    return op('mlm_mean', 'RealDiv', [nll, count]);
  }

  /** Mean over every element of a [batch, num_labels] tensor. */
  function meanAll(x: string): string {
    return op('mean_all', 'Mean', [x, b.i32([0, 1])], { T: T(F), Tidx: T(I32), keep_dims: { b: false } });
  }

  /** torch.nn.MSELoss(): objectives.ts meanSquaredError. */
  function mse(): string {
    return meanAll(op('squared_error', 'SquaredDifference', [logits, labels]));
  }

  /** BCE with logits, as objectives.ts bceWithLogits: mean(p·y·softplus(−x) + (1 − y)·softplus(x)). */
  function bce(): string {
    let positive = op('bce_positive', 'Mul', [labels, op('softplus_neg', 'Softplus', [op('neg', 'Neg', [logits])])]);
    if (opts.posWeight) positive = op('bce_weighted', 'Mul', [positive, ph('pos_weight', F, [L])]);
    const negative = op('bce_negative', 'Mul', [
      op('one_minus_y', 'Sub', [b.f32([1], []), labels]),
      op('softplus', 'Softplus', [logits]),
    ]);
    return meanAll(op('bce', 'AddV2', [positive, negative]));
  }

  /** weightedCrossEntropy: -mean(sum(logSoftmax(logits) · oneHot(labels), 1)), or weighted by class. */
  function crossEntropy(): string {
    const logp = op('log_probs', 'LogSoftmax', [logits]);
    const oneHot = op('one_hot', 'OneHot', [labels, b.i32([L], []), b.f32([1]), b.f32([0])], {
      T: T(F),
      TI: T(I32),
      axis: { i: -1 },
    });
    const picked = op('picked', 'Sum', [op('picked_all', 'Mul', [logp, oneHot]), b.i32([1])], {
      T: T(F),
      Tidx: T(I32),
      keep_dims: { b: false },
    });
    const sum = (x: string) => op('sum', 'Sum', [x, b.i32([0])], { T: T(F), Tidx: T(I32), keep_dims: { b: false } });
    let mean: string;
    if (opts.classWeights) {
      // Σ w[y]·log p[y] / Σ w[y], as weightedCrossEntropy with class weights
      const table = ph('class_weights', F, [L]);
      const w = op('weights', 'GatherV2', [table, labels, b.i32([0], [])], {
        Tparams: T(F),
        Tindices: T(I32),
        Taxis: T(I32),
      });
      mean = op('weighted_mean', 'RealDiv', [sum(op('weighted', 'Mul', [picked, w])), sum(w)]);
    } else mean = op('mean_nll', 'Mean', [picked, b.i32([0])], { T: T(F), Tidx: T(I32), keep_dims: { b: false } });
    return op('cross_entropy', 'Neg', [mean]);
  }
}

import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { GraphGradients } from '../../backend/graph-gradients.js';
import { cacheRoot } from '../../backend/native.js';
import { seedStream } from '../../lib/rng.js';
import { inputFeeds } from '../../data/batch.js';
import { cachedSavedModelDir } from '../../lib/saved-model-cache.js';
import { encodeMessage } from '../../lib/tf-proto.js';
import type { BertConfig } from '../../model/config.js';
import { philoxSeedPair } from '../../model/native-ops.js';
import { emitForwardGraph, type ForwardGraph, type ForwardOptions } from './forward-graph.js';
import { trainSavedModelBytes } from './saved-model.js';
import { emitUpdateGraph, type StepScalar, stepVariables } from './update-graph.js';

/**
 * One BERT classification training step (forward with dropout, loss, gradients, clipping, the
 * finite guard, AdamW) as one TensorFlow graph run by one session call, built without Python:
 * recsys writes the forward and loss GraphDef, the graph gradients addon adds the backward pass
 * (TF_AddGradients), recsys appends the update, and tfjs-node's SavedModel session runs it. Its
 * losses equal the eager step's (same ops, same Philox dropout masks for the same step seed).
 */

export interface CompiledStepOptions extends ForwardOptions {
  config: BertConfig;
  beta1: number;
  beta2: number;
  /** Parameters that get the decoupled weight decay (src/train/adamw.ts's `decays`). */
  decayed: Set<string>;
  addon: GraphGradients;
  /** Where the SavedModel is cached (default <cache root>/compiled-step). */
  cacheDir?: string;
  /** Gradient accumulators, for steps over several micro-batches (train.grad_accum > 1). */
  accumulate?: boolean;
}

/** A step's inputs by graph input name, or the classifier's as fields (the tests' form). */
export type StepFeeds = ClassifierFeeds | Map<string, tf.Tensor>;

export interface ClassifierFeeds {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
  /** int32 [batch] class ids (single-label), or float32 [batch, num_labels] targets (regression, multi-label). */
  labels: tf.Tensor;
  /** float32 [num_labels], when the step was built with classWeights. */
  classWeights?: tf.Tensor1D;
  /** float32 [num_labels], when the step was built with posWeight. */
  posWeight?: tf.Tensor1D;
}

export interface StepSettings {
  /** The step's dropout seed: the eager forward's `seed` option. */
  seed: number;
  lr: number;
  /** The optimizer step this update makes (1 for the first). */
  t: number;
  eps: number;
  weightDecay: number;
  /** 0 or less: no clipping. */
  maxGradNorm: number;
  /** Multiplies the loss: 1/n for one of n micro-batches (tests poison a step with NaN to check the guard). */
  lossScale?: number;
  /** With accumulators: the summed (scaled) losses of the step's earlier micro-batches. */
  priorLoss?: number;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  applied: boolean;
}

interface SessionBackend {
  loadSavedModelMetaGraph(dir: string, tags: string): number;
  runSavedModel(id: number, inputs: tf.Tensor[], info: { name: string; tfDtype: string }[], out: string[]): tf.Tensor[];
  deleteSavedModel(id: number): void;
}

export class CompiledStep {
  private constructor(
    private readonly be: SessionBackend,
    private readonly id: number,
    readonly dir: string,
    readonly graph: ForwardGraph,
    private readonly s: { beta1: number; beta2: number; accumulate?: boolean },
  ) {}

  /** Build (or find in the cache) and load the step's graph. Needs the tensorflow backend. */
  static async create(opts: CompiledStepOptions): Promise<CompiledStep> {
    if (tf.getBackend() !== 'tensorflow') throw new Error('compiled step: needs the tensorflow backend');
    const fwd = emitForwardGraph(opts.config, opts);
    const forwardBytes = encodeMessage('GraphDef', { node: fwd.nodes, versions: { producer: 1994, minConsumer: 0 } });
    const added = opts.addon.addGradients(
      forwardBytes,
      fwd.loss,
      fwd.params.map((p) => `${p.read}:0`),
    );
    const missing = fwd.params.filter((_, i) => added.grads[i] === null).map((p) => p.name);
    if (missing.length) throw new Error(`compiled step: the loss does not depend on ${missing.join(', ')}`);
    const update = emitUpdateGraph(fwd, added.grads as string[], opts);
    const bytes = trainSavedModelBytes(fwd, added.graphDef, update, opts);
    const dir = await cachedSavedModelDir(opts.cacheDir ?? path.join(cacheRoot(), 'compiled-step'), bytes);
    const be = tf.backend() as unknown as SessionBackend;
    const id = be.loadSavedModelMetaGraph(dir, 'serve');
    return new CompiledStep(be, id, dir, fwd, opts);
  }

  private run(feeds: Array<[string, tf.Tensor]>, outputs: string[]): tf.Tensor[] {
    return this.be.runSavedModel(
      this.id,
      feeds.map(([, t]) => t),
      feeds.map(([k, t]) => ({ name: `${k}:0`, tfDtype: t.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' })),
      outputs.map((k) => `${k}:0`),
    );
  }

  /** Names of every variable: each parameter, and `<param>/m`, `<param>/v` for its moments. */
  variableNames(): string[] {
    return stepVariables(this.graph, this.s.accumulate).map((v) => v.name);
  }

  /** Set every variable from `values` (by variableNames()); absent moments and accumulators start at zero. */
  init(values: Map<string, tf.Tensor>): void {
    const zeros: tf.Tensor[] = [];
    const feeds = stepVariables(this.graph, this.s.accumulate).map((v): [string, tf.Tensor] => {
      const given = values.get(v.name);
      if (given) return [`init/${v.name}`, given];
      if (!/\/(m|v|acc)$/.test(v.name)) throw new Error(`compiled step: no value for ${v.name}`);
      const z = tf.zeros(v.shape);
      zeros.push(z);
      return [`init/${v.name}`, z];
    });
    tf.dispose([...this.run(feeds, ['init/done']), ...zeros]);
  }

  /** Current values of the named variables (the caller disposes them). */
  read(names: string[]): tf.Tensor[] {
    return this.run(
      [],
      names.map((n) => `${n}/read`),
    );
  }

  private batchFeeds(batch: StepFeeds): Array<[string, tf.Tensor]> {
    if (batch instanceof Map) return [...batch];
    return [
      ...inputFeeds(batch),
      ['labels', batch.labels],
      ...(batch.classWeights ? [['class_weights', batch.classWeights] as [string, tf.Tensor]] : []),
      ...(batch.posWeight ? [['pos_weight', batch.posWeight] as [string, tf.Tensor]] : []),
    ];
  }

  /** The Philox seed pairs of every dropout of one forward pass, from the step's (micro-batch's) seed. */
  private seeds(seed: number): tf.Tensor2D {
    const next = seedStream(seed);
    return tf.tensor2d(
      Array.from({ length: this.graph.dropouts }, () => philoxSeedPair(next())),
      [this.graph.dropouts, 2],
      'int32',
    );
  }

  /**
   * Add one micro-batch's gradients to the accumulators (built with `accumulate`); the step on the
   * step's last micro-batch then applies them all. Returns the micro-batch's (scaled) loss.
   */
  async accumulate(batch: StepFeeds, s: { seed: number; lossScale: number }): Promise<number> {
    if (!this.s.accumulate) throw new Error('compiled step: built without gradient accumulators');
    const made: Array<[string, tf.Tensor]> = [
      ['seeds', this.seeds(s.seed)],
      ['loss_scale', tf.scalar(s.lossScale)],
    ];
    const [loss] = this.run([...this.batchFeeds(batch), ...made], ['accumulate/loss']);
    try {
      return (await loss.data())[0];
    } finally {
      tf.dispose([loss, ...made.map(([, t]) => t)]);
    }
  }

  /** One training step in one session call (with accumulators: on the step's last micro-batch). */
  async step(batch: StepFeeds, s: StepSettings): Promise<StepResult> {
    const { beta1, beta2 } = this.s;
    const scalars: Record<StepScalar, number> = {
      lr: s.lr,
      beta1_power: beta1 ** s.t,
      beta2_power: beta2 ** s.t,
      // ResourceApplyAdam puts eps outside the bias correction of v: eps·sqrt(1 - b2^t) there is torch's eps
      eps_hat: s.eps * Math.sqrt(1 - beta2 ** s.t),
      decay: s.lr * s.weightDecay,
      clip_norm: s.maxGradNorm > 0 ? s.maxGradNorm : Number.POSITIVE_INFINITY,
    };
    const made: Array<[string, tf.Tensor]> = [
      ['seeds', this.seeds(s.seed)],
      ...Object.entries(scalars).map(([k, v]): [string, tf.Tensor] => [k, tf.scalar(v)]),
      ...(s.lossScale !== undefined && s.lossScale !== 1 ? [['loss_scale', tf.scalar(s.lossScale)] as const] : []),
      ...(s.priorLoss !== undefined ? [['prior_loss', tf.scalar(s.priorLoss)] as const] : []),
    ] as Array<[string, tf.Tensor]>;
    const feeds = [...this.batchFeeds(batch), ...made];
    const out = this.run(feeds, ['loss', 'grad_norm', 'applied']);
    try {
      const [loss, gradNorm, applied] = await Promise.all(out.map(async (t) => (await t.data())[0]));
      return { loss, gradNorm, applied: applied === 1 };
    } finally {
      tf.dispose([...out, ...made.map(([, t]) => t)]);
    }
  }

  dispose(): void {
    this.be.deleteSavedModel(this.id);
  }
}

import * as tf from '@tensorflow/tfjs';
import { loadGraphGradients } from '../../backend/graph-gradients.js';
import { loadedNative } from '../../backend/index.js';
import type { BertConfig } from '../../model/config.js';
import type { ParamSpec } from '../../model/params.js';
import { UsageError } from '../../lib/errors.js';
import { decays } from '../adamw.js';
import type { CompiledFeeds } from '../objective.js';
import { CompiledStep, type StepResult } from './compiled-step.js';

/**
 * The trainer's seam to the compiled step: whether to take it (`train.compiled`), and keeping the
 * trainer's tf.Variables in step with the graph's variables, which own the truth while it runs (read
 * back before validation, checkpoints and the end of training). The AdamW moments live only in the
 * graph: a checkpoint reads them from it, and on resume the graph starts from the checkpoint's weights
 * and moments, so the eager optimizer never allocates a second copy.
 */

export type CompiledMode = 'auto' | 'on' | 'off';

export interface TrainerSettings {
  compiled: CompiledMode;
  grad_accum: number;
  dropout: boolean;
  adam_beta1: number;
  adam_beta2: number;
  adam_eps: number;
  weight_decay: number;
  decay_embeddings: boolean;
  clip_norm: number;
}

/** One micro-batch of a step: its rows (indices into the train split) and its dropout seed. */
export interface MicroBatch {
  rows: number[];
  seed: number;
}

export interface TrainerStep {
  /**
   * One optimizer step over its micro-batches (train.grad_accum of them; each loss divided by their
   * number, gradients summed); not applied (and `applied` false) when loss or norm is not finite.
   */
  step(micro: MicroBatch[], epoch: number, lr: number, t: number): Promise<StepResult>;
  /** Copy the graph's parameters into `vars`. */
  sync(): void;
  /** The graph's moments as a checkpoint names them (`m/<param>`, `v/<param>`); the caller disposes them. */
  moments(): Map<string, tf.Tensor>;
  dispose(): void;
}

/** Why the compiled step cannot run here, or undefined when it can. */
function unavailable(): string | undefined {
  if (tf.getBackend() !== 'tensorflow') return `the backend is ${tf.getBackend()}, not tensorflow`;
  if (!loadGraphGradients(loadedNative())) return 'the graph gradients addon is not built (`npm run setup:native`)';
  return undefined;
}

/**
 * The compiled step for this run, or undefined for the eager one (`off`, or `auto` when it cannot run
 * here, said through `log`). `on` when it cannot run is a UsageError.
 */
export async function compiledTrainerStep(
  s: TrainerSettings,
  modelConfig: BertConfig,
  specs: Map<string, ParamSpec>,
  vars: Map<string, tf.Variable>,
  /** A resumed run's moments (`m/<param>`, `v/<param>`); absent ones start at zero. */
  moments: tf.NamedTensorMap | null | undefined,
  /** The objective's compiled feeds, or why its loss is not compiled. */
  compiled: CompiledFeeds | { eagerOnly: string },
  log?: (msg: string) => void,
): Promise<TrainerStep | undefined> {
  if (s.compiled === 'off') return undefined;
  const feeds = 'eagerOnly' in compiled ? undefined : compiled;
  const why = 'eagerOnly' in compiled ? compiled.eagerOnly : unavailable();
  if (why) {
    if (s.compiled === 'on') throw new UsageError(`train.compiled: on, but ${why}`);
    log?.(`eager training step (${why})`);
    return undefined;
  }
  const config = s.dropout
    ? modelConfig
    : { ...modelConfig, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0, classifierDropout: 0 };
  const decayed = new Set(
    [...specs.values()].filter((p) => s.weight_decay > 0 && decays(p, s.decay_embeddings)).map((p) => p.name),
  );
  const t0 = performance.now();
  const graph = await CompiledStep.create({
    config,
    classWeights: feeds!.constants.has('class_weights'),
    posWeight: feeds!.constants.has('pos_weight'),
    beta1: s.adam_beta1,
    beta2: s.adam_beta2,
    decayed,
    addon: loadGraphGradients(loadedNative())!,
    accumulate: s.grad_accum > 1,
  });
  const names = [...vars.keys()];
  // a checkpoint names a moment `m/<param>`; the graph's variable is `<param>/m`
  const resumedMoments = names.flatMap((n) =>
    (['m', 'v'] as const).flatMap((k) => {
      const value = moments?.[`${k}/${n}`];
      return value ? [[`${n}/${k}`, value] as const] : [];
    }),
  );
  graph.init(new Map<string, tf.Tensor>([...vars, ...resumedMoments]));
  log?.(`compiled training step (one TensorFlow graph per step, built in ${(performance.now() - t0).toFixed(0)} ms)`);
  return {
    async step(micro, epoch, lr, t) {
      const lossScale = 1 / micro.length;
      const inputs = (m: MicroBatch) => new Map([...feeds!.batch(m.rows, epoch), ...feeds!.constants]);
      const free = (f: Map<string, tf.Tensor>) =>
        tf.dispose([...f].filter(([k]) => !feeds!.constants.has(k)).map(([, v]) => v));
      let priorLoss = 0;
      for (const m of micro.slice(0, -1)) {
        const f = inputs(m);
        try {
          priorLoss += await graph.accumulate(f, { seed: m.seed, lossScale });
        } finally {
          free(f);
        }
      }
      const last = micro[micro.length - 1];
      const f = inputs(last);
      try {
        const settings = {
          seed: last.seed,
          lr,
          t,
          eps: s.adam_eps,
          weightDecay: s.weight_decay,
          maxGradNorm: s.clip_norm,
        };
        const accumulated = micro.length > 1 ? { lossScale, priorLoss } : {};
        return await graph.step(f, { ...settings, ...accumulated });
      } finally {
        free(f);
      }
    },
    sync() {
      const values = graph.read(names);
      for (const [i, n] of names.entries()) vars.get(n)!.assign(values[i]);
      tf.dispose(values);
    },
    moments() {
      // the eager optimizer's order: every first moment, then every second one
      const keys = [...names.map((n) => `m/${n}`), ...names.map((n) => `v/${n}`)];
      const values = graph.read([...names.map((n) => `${n}/m`), ...names.map((n) => `${n}/v`)]);
      return new Map(keys.map((k, i) => [k, values[i]]));
    },
    dispose: () => graph.dispose(),
  };
}

import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { BertConfig, Params } from '../model/index.js';
import { graphRunner } from './graph-runner.js';
import type { LogitsRunner } from './runners.js';

/**
 * Whether a run or Hugging Face dir runs its forward pass as one TensorFlow graph (graph-runner.ts) or
 * op by op on the tfjs backend (`eval.compiled`, `predict.compiled`, as `train.compiled`): auto takes the
 * graph on the tensorflow backend and says why once when it cannot build it; on refuses to go without
 * it; off keeps the eager forward pass.
 */

export type CompiledMode = 'auto' | 'on' | 'off';

export interface CompiledChoice {
  mode: CompiledMode;
  /** The config key that chose the mode, for messages (e.g. `eval.compiled`). */
  key: string;
}

/** The graph runner, or undefined for the eager forward pass. */
export async function compiledRunner(
  params: Params,
  config: BertConfig,
  choice: CompiledChoice,
  log: Logger,
): Promise<LogitsRunner | undefined> {
  if (choice.mode === 'off') return undefined;
  const backend = tf.getBackend();
  if (backend !== 'tensorflow') {
    if (choice.mode === 'on') throw new UsageError(`${choice.key}: on, but the backend is ${backend}, not tensorflow`);
    log.debug(`eager forward pass (the ${backend} backend runs no TensorFlow graph)`);
    return undefined;
  }
  try {
    return await graphRunner(params, config);
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    if (choice.mode === 'on') throw new UsageError(`${choice.key}: on, but the TensorFlow graph failed: ${why}`);
    log.warn(`eager forward pass: the TensorFlow graph failed (${why}); ${choice.key}: off skips trying`);
    return undefined;
  }
}

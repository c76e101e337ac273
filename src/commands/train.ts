import { flagOverrides, type CommonOptions } from './options.js';
import { loadConfig } from '../config/load.js';
import { Interrupted } from '../lib/interrupt.js';
import { progressBar, type ProgressBar } from '../lib/progress.js';
import { makeLogger } from '../lib/log.js';
import type { RecsysConfig } from '../config/schema.js';
import { type FineTuneRequest, type FineTuneResult, fineTune } from '../train/fine-tune.js';
import type { TrainEvents } from '../train/loop.js';

const FLAGS = {
  data: 'data.out',
  model: 'model.path',
  out: 'train.out',
  epochs: 'train.epochs',
  maxSteps: 'train.max_steps',
  batchSize: 'train.batch_size',
  lr: 'train.lr',
  backend: 'backend',
  seed: 'seed',
};

export interface TrainFlags extends CommonOptions {
  resume?: boolean;
  offline?: boolean;
  dumpBatches?: string;
  progress?: boolean;
  [k: string]: unknown;
}

export function progressEvents(enabled: boolean, log: (m: string) => void): TrainEvents {
  let bar: ProgressBar | undefined;
  const format = (epoch: number) =>
    `epoch ${epoch + 1} [{bar}] {value}/{total} steps | loss {loss} | lr {lr} | {sps} samples/s | ETA {eta_formatted}`;
  return {
    log,
    epochStart(epoch, steps, fromStep) {
      const fields = { loss: '-', lr: '-', sps: '-' };
      bar = progressBar({ format: format(epoch), total: steps, start: fromStep, fields, keep: true, enabled });
    },
    step: (i) =>
      bar?.increment({ loss: i.loss.toFixed(4), lr: i.lr.toExponential(2), sps: i.samplesPerSec.toFixed(1) }),
    epochEnd: () => bar?.stop(),
  };
}

/**
 * What `train` and `pretrain` share: flags → config → the run, then the summary (or --json), and on an
 * interruption the command line that resumes it.
 */
export async function runTraining(
  opts: TrainFlags,
  flags: Record<string, string>,
  command: 'train' | 'pretrain',
  run: (req: FineTuneRequest) => Promise<FineTuneResult>,
  outOf: (config: RecsysConfig) => string | undefined,
): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose, quiet: false });
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts, flags) });
  const result = await run({
    config,
    resume: !!opts.resume,
    overwrite: !!opts.overwrite,
    offline: !!opts.offline,
    dumpBatches: opts.dumpBatches,
    verbose: opts.verbose,
    log,
    events: progressEvents(opts.progress !== false && !opts.json, log.info),
  });
  if (opts.json) process.stdout.write(`${JSON.stringify(result.summary, null, 2)}\n`);
  else log.info(result.line);
  if (result.failure) throw result.failure;
  if (result.interrupted) {
    const configs = opts.config?.map((c) => `-c ${c} `).join('') ?? '';
    log.info(`interrupted: resume with  recsys ${command} ${configs}--out ${outOf(config)} --resume`);
    throw new Interrupted(result.interrupted);
  }
}

/** `recsys train`: flags → config → train/fine-tune.ts; prints the summary. */
export async function trainCommand(opts: TrainFlags): Promise<void> {
  await runTraining(opts, FLAGS, 'train', fineTune, (c) => c.train.out);
}

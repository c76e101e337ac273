import cliProgress from 'cli-progress';
import { flagOverrides, type CommonOptions } from './options.js';
import { loadConfig } from '../config/load.js';
import { Interrupted } from '../lib/interrupt.js';
import { makeLogger } from '../lib/log.js';
import { fineTune } from '../train/fine-tune.js';
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

interface TrainFlags extends CommonOptions {
  resume?: boolean;
  offline?: boolean;
  dumpBatches?: string;
  progress?: boolean;
  [k: string]: unknown;
}

function progressEvents(enabled: boolean, log: (m: string) => void): TrainEvents {
  if (!enabled || !process.stderr.isTTY) return { log };
  let bar: cliProgress.SingleBar | undefined;
  return {
    log,
    epochStart(epoch, steps, fromStep) {
      bar = new cliProgress.SingleBar(
        {
          format: `epoch ${epoch + 1} [{bar}] {value}/{total} steps | loss {loss} | lr {lr} | {sps} samples/s | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(steps, fromStep, { loss: '-', lr: '-', sps: '-' });
    },
    step(i) {
      bar?.increment(1, { loss: i.loss.toFixed(4), lr: i.lr.toExponential(2), sps: i.samplesPerSec.toFixed(1) });
    },
    epochEnd() {
      bar?.stop();
    },
  };
}

/** `recsys train`: flags → config → train/fine-tune.ts; prints the summary. */
export async function trainCommand(opts: TrainFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose, quiet: false });
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts, FLAGS) });
  const result = await fineTune({
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
    log.info(`interrupted: resume with  recsys train ${configs}--out ${config.train.out} --resume`);
    throw new Interrupted(result.interrupted);
  }
}

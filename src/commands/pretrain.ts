import { flagOverrides, type CommonOptions } from './options.js';
import { loadConfig } from '../config/load.js';
import { Interrupted } from '../lib/interrupt.js';
import { makeLogger } from '../lib/log.js';
import { pretrain } from '../train/pretrain.js';
import { progressEvents } from './train.js';

const FLAGS = {
  input: 'pretrain.input',
  textColumn: 'pretrain.text_column',
  model: 'model.path',
  tokenizer: 'tokenizer.path',
  out: 'pretrain.out',
  maxLength: 'pretrain.max_length',
  epochs: 'pretrain.epochs',
  maxSteps: 'pretrain.max_steps',
  batchSize: 'pretrain.batch_size',
  lr: 'pretrain.lr',
  backend: 'backend',
  seed: 'seed',
};

interface PretrainFlags extends CommonOptions {
  resume?: boolean;
  offline?: boolean;
  dumpBatches?: string;
  progress?: boolean;
  [k: string]: unknown;
}

/** `recsys pretrain`: flags → config → train/pretrain.ts; prints the summary. */
export async function pretrainCommand(opts: PretrainFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose, quiet: false });
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts, FLAGS) });
  const result = await pretrain({
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
    log.info(`interrupted: resume with  recsys pretrain ${configs}--out ${config.pretrain.out} --resume`);
    throw new Interrupted(result.interrupted);
  }
}

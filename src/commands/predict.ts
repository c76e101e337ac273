import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { type CommonOptions, flagOverrides, requiredFlag } from './options.js';
import type { InputFormat } from '../data/readers/index.js';
import { openModel } from '../infer/model.js';
import { ensureWritableFile } from '../lib/fs-errors.js';
import { makeLogger } from '../lib/log.js';
import { rowsProgress } from '../lib/progress.js';
import { runPredict, type PredictSummary } from '../predict/run.js';

interface PredictFlags extends CommonOptions {
  model?: string;
  input?: string;
  format?: string;
  textColumn?: string;
  pairColumn?: string;
  idColumn?: string;
  output?: string;
  logits?: boolean;
  topK?: number;
  batchSize?: number;
  maxLength?: number;
  backend?: string;
  compiled?: string;
  offline?: boolean;
  progress?: boolean;
}

/** Plain flags that are config keys: the schema checks them as it checks every key. */
const FLAGS = {
  topK: 'predict.top_k',
  batchSize: 'predict.batch_size',
  maxLength: 'predict.max_length',
  compiled: 'predict.compiled',
  backend: 'backend',
};

export async function predictCommand(opts: PredictFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  const ref = requiredFlag(opts.model, 'predict', '--model');
  const input = path.resolve(requiredFlag(opts.input, 'predict', '--input'));
  const output = path.resolve(requiredFlag(opts.output, 'predict', '--output'));
  const config = loadConfig({ overrides: flagOverrides(opts as Record<string, unknown>, FLAGS) });
  const { top_k: topK, batch_size: batchSize, max_length: maxLength, compiled } = config.predict;
  ensureWritableFile(output, 'predictions');
  // An export dir runs in onnxruntime (no tfjs backend); run and HF dirs on the chosen tfjs backend.
  const model = await openModel(ref, {
    backend: config.backend,
    offline: opts.offline,
    maxLength: maxLength ?? undefined,
    compiled: { mode: compiled, key: 'predict.compiled' },
    verbose: opts.verbose,
    log,
  });
  for (const m of model.messages) log.info(m);
  const bar = rowsProgress('predicting', opts.progress !== false && !opts.json);
  let summary: PredictSummary;
  try {
    summary = await runPredict(model, {
      input,
      format: (opts.format ?? 'auto') as InputFormat | 'auto',
      textColumn: opts.textColumn ?? 'text',
      pairColumn: opts.pairColumn,
      idColumn: opts.idColumn,
      output,
      logits: !!opts.logits,
      topK,
      batchSize,
      onProgress: bar?.tick,
    });
  } finally {
    bar?.stop();
  }
  const line =
    `predicted ${summary.predicted} of ${summary.rows} rows in ${summary.seconds.toFixed(1)} s → ${output}` +
    (summary.rejected ? `; ${summary.rejected} rejected (see ${summary.rejectsFile})` : '');
  if (opts.json) process.stdout.write(`${JSON.stringify({ ...summary, output })}\n`);
  else log.info(line);
}

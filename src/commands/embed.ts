import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { type CommonOptions, flagOverrides, requiredFlag } from './options.js';
import type { InputFormat } from '../data/readers/index.js';
import { recordedPooling } from '../embed/pooling.js';
import { runEmbed, type EmbedSummary } from '../embed/run.js';
import { openModel } from '../infer/model.js';
import { makeLogger } from '../lib/log.js';
import { rowsProgress } from '../lib/progress.js';

interface EmbedFlags extends CommonOptions {
  model?: string;
  input?: string;
  format?: string;
  textColumn?: string;
  idColumn?: string;
  out?: string;
  pooling?: string;
  normalize?: boolean;
  batchSize?: number;
  maxLength?: number;
  maxBadRows?: number;
  backend?: string;
  offline?: boolean;
  progress?: boolean;
}

/** Plain flags that are config keys: the schema checks them as it checks every key. */
const FLAGS = {
  pooling: 'embed.pooling',
  normalize: 'embed.normalize',
  batchSize: 'embed.batch_size',
  maxLength: 'embed.max_length',
  maxBadRows: 'embed.max_bad_rows',
  backend: 'backend',
};

export async function embedCommand(opts: EmbedFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  const ref = requiredFlag(opts.model, 'embed', '--model');
  const input = path.resolve(requiredFlag(opts.input, 'embed', '--input'));
  const out = path.resolve(requiredFlag(opts.out, 'embed', '--out'));
  const overrides = flagOverrides(opts as Record<string, unknown>, FLAGS);
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides });
  const { normalize, batch_size: batchSize, max_length: maxLength, max_bad_rows: maxBadRows } = config.embed;
  // An export dir runs in onnxruntime (no tfjs backend); run and HF dirs on the chosen tfjs backend.
  const model = await openModel(ref, {
    backend: config.backend,
    offline: opts.offline,
    maxLength: maxLength ?? undefined,
    verbose: opts.verbose,
    log,
  });
  for (const m of model.messages) log.info(m);
  // A bi-encoder run's vectors are pooled as it was trained, unless --pooling / embed.pooling says otherwise.
  const pooling = config.embed.pooling ?? recordedPooling(ref, model) ?? 'mean';
  const bar = rowsProgress('embedding', opts.progress !== false && !opts.json);
  let summary: EmbedSummary;
  try {
    summary = await runEmbed(model, {
      ref,
      input,
      format: (opts.format ?? 'auto') as InputFormat | 'auto',
      textColumn: opts.textColumn ?? 'text',
      idColumn: opts.idColumn,
      out,
      pooling,
      normalize,
      batchSize,
      maxBadRows,
      overwrite: !!opts.overwrite,
      onProgress: bar?.tick,
    });
  } finally {
    bar?.stop();
  }
  const line =
    `embedded ${summary.embedded} of ${summary.rows} rows (${pooling} pooling, dim ${summary.dimension}` +
    `${normalize ? ', L2-normalised' : ''}) in ${summary.seconds.toFixed(1)} s → ${summary.embeddingsFile}` +
    (summary.rejected ? `; ${summary.rejected} rejected (see ${summary.rejectsFile})` : '');
  if (opts.json) process.stdout.write(`${JSON.stringify({ ...summary, out })}\n`);
  else log.info(line);
}

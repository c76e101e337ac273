import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Pooling } from '../embed/pooling.js';
import { UsageError } from '../lib/errors.js';
import { makeLogger } from '../lib/log.js';
import type { ModelSpec } from '../serve/registry.js';
import { runServe } from '../serve/run.js';
import { type CommonOptions, flagOverrides } from './options.js';

interface ServeFlags extends CommonOptions {
  model?: string[];
}

/** Plain flags that are config keys: the schema checks them as it checks every key. */
const FLAGS = {
  host: 'serve.host',
  port: 'serve.port',
  quantized: 'serve.quantized',
  threads: 'serve.threads',
  workers: 'serve.workers',
  maxBatchSize: 'serve.max_batch_size',
  maxWaitMs: 'serve.max_wait_ms',
  maxQueue: 'serve.max_queue',
  index: 'serve.index',
  logLevel: 'serve.log_level',
};

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `--model DIR` (named after the directory) or `--model NAME=DIR`, repeatable; names are unique. */
export function modelSpecs(values: string[]): ModelSpec[] {
  if (!values.length) throw new UsageError('recsys serve: --model EXPORT_DIR is required (or NAME=EXPORT_DIR)');
  const specs = values.map((v) => {
    const eq = v.indexOf('=');
    const dir = path.resolve(eq > 0 ? v.slice(eq + 1) : v);
    const name = eq > 0 ? v.slice(0, eq) : path.basename(dir);
    if (!NAME.test(name))
      throw new UsageError(`recsys serve: --model ${v}: the name "${name}" must be letters, digits, . _ - (≤ 64)`);
    return { name, dir };
  });
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name))
      throw new UsageError(`recsys serve: two models are named "${s.name}"; name them with --model NAME=DIR`);
    seen.add(s.name);
  }
  return specs;
}

/** `recsys serve --model [NAME=]EXPORT_DIR … [--host H] [--port P]`: runs until SIGTERM/SIGINT. */
export async function serveCommand(opts: ServeFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  const models = modelSpecs(opts.model ?? []);
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts as never, FLAGS) });
  const s = config.serve;
  const apiKey = s.api_key ?? process.env[s.api_key_env] ?? null;
  if (apiKey !== null && apiKey.length < 16)
    throw new UsageError('serve.api_key: a bearer token shorter than 16 characters is too easy to guess');
  if (s.host !== '127.0.0.1' && s.host !== 'localhost' && !apiKey)
    log.warn(`serving on ${s.host} without a bearer token (serve.api_key or $${s.api_key_env})`);
  await runServe({
    models,
    host: s.host,
    port: s.port,
    quantized: s.quantized,
    threads: s.threads,
    workers: s.workers,
    maxBatchSize: s.max_batch_size,
    maxWaitMs: s.max_wait_ms,
    maxQueue: s.max_queue,
    inflightBatches: s.inflight_batches,
    maxItems: s.max_items,
    maxChars: s.max_chars,
    bodyLimit: s.body_limit,
    cacheBytes: s.cache_bytes,
    cacheTtlSeconds: s.cache_ttl_s,
    apiKey,
    drainTimeoutSeconds: s.drain_timeout_s,
    index: s.index,
    pooling: s.pooling as Pooling,
    normalize: s.normalize,
    search: {
      exact: config.search.exact,
      ann: { nprobes: config.search.nprobes, ef: config.search.ef, refineFactor: config.search.refine_factor },
      kMax: s.search_k_max,
    },
    logLevel: s.log_level,
    // stdout carries one line: where the service listens (a script or test reads the port from it).
    onListening: (url) => process.stdout.write(`${opts.json ? JSON.stringify({ listening: url }) : url}\n`),
  });
}

import type { Pooling } from '../embed/pooling.js';
import { encoderIdentity } from '../embed/encoder.js';
import { Interrupted } from '../lib/interrupt.js';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../lib/log.js';
import { identityDifferences } from '../retrieval/manifest.js';
import { VectorStore, type AnnQueryOptions } from '../retrieval/store.js';
import { buildApp, type ServiceState } from './app.js';
import { RowCache } from './cache.js';
import type { SearchContext } from './inference.js';
import { serveMetrics } from './metrics.js';
import type { LoadedModel } from './models.js';
import { ModelRegistry, type ModelSpec } from './registry.js';
import { haltWorkers } from './worker-pool.js';

export interface ServeOptions {
  models: ModelSpec[];
  host: string;
  port: number;
  quantized: boolean;
  threads: number | null;
  workers: number;
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
  inflightBatches: number;
  maxItems: number;
  maxChars: number;
  bodyLimit: number;
  cacheBytes: number;
  cacheTtlSeconds: number;
  apiKey: string | null;
  drainTimeoutSeconds: number;
  index: string | null;
  pooling: Pooling;
  normalize: boolean;
  search: { exact: boolean; ann: AnnQueryOptions; kMax: number };
  logLevel: string;
  /** Called once the port is bound (before the models are ready): the address to print. */
  onListening?: (url: string) => void;
}

/** /search answers with models whose identity matches the index manifest; others get the difference. */
async function searchContext(opts: ServeOptions): Promise<SearchContext | undefined> {
  if (!opts.index) return undefined;
  const store = await VectorStore.open(opts.index);
  // Checked once per model file: a reload brings another sha256 and gets its own verdict.
  const verdicts = new Map<string, Promise<string | null>>();
  const matches = (m: LoadedModel) => {
    let verdict = verdicts.get(m.sha256);
    if (!verdict) {
      verdict = encoderIdentity(m.dir, m.model, opts.pooling, opts.normalize).then((id) => {
        const differs = identityDifferences(store.manifest, id);
        return differs.length ? differs.join('; ') : null;
      });
      verdicts.set(m.sha256, verdict);
    }
    return verdict;
  };
  return { store, exact: opts.search.exact, ann: opts.search.ann, kMax: opts.search.kMax, matches };
}

/** The service's parts, assembled but not listening: `runServe` binds them to a port and to signals. */
export function createService(opts: ServeOptions) {
  // One log for the service: Fastify's JSON lines (with request ids), bound once the app exists.
  let app: FastifyInstance | undefined;
  const log: Logger = {
    info: (m) => app?.log.info(m),
    warn: (m) => app?.log.warn(m),
    debug: (m) => app?.log.debug(m),
  };
  const cache = new RowCache(opts.cacheBytes, opts.cacheTtlSeconds);
  const metrics = serveMetrics(cache);
  const state: ServiceState = { ready: false, draining: false, inflight: 0 };
  const registry = new ModelRegistry(
    opts.models,
    {
      quantized: opts.quantized,
      threads: opts.threads,
      workers: opts.workers,
      batching: {
        maxBatch: opts.maxBatchSize,
        maxWaitMs: opts.maxWaitMs,
        maxQueue: opts.maxQueue,
        inflight: opts.inflightBatches,
      },
      pooling: opts.pooling,
      normalize: opts.normalize,
      observe: (model, kind) => {
        // A reloaded model's batcher takes the entry over; /metrics reads it (a number, not a gauge call per change).
        const queue = { model, kind, depth: 0 };
        metrics.queueDepths.set(`${model}\0${kind}`, queue);
        return {
          onBatch: (rows, seconds) => {
            metrics.batchSize.observe({ model, kind }, rows);
            metrics.batchSeconds.observe({ model, kind }, seconds);
          },
          onDepth: (depth) => {
            queue.depth = depth;
          },
        };
      },
    },
    log,
    metrics,
  );
  const deps = {
    registry,
    cache,
    metrics,
    state,
    limits: { maxItems: opts.maxItems, maxChars: opts.maxChars, bodyLimit: opts.bodyLimit },
    apiKey: opts.apiKey,
    logLevel: opts.logLevel,
  };
  app = buildApp(deps);
  return {
    app,
    log,
    registry,
    cache,
    metrics,
    state,
    /** Load and warm up every model (and open the index); ready only then. */
    async load() {
      await registry.loadAll();
      // The app reads deps.search per request: the index opens with the models, before ready.
      Object.assign(deps, { search: await searchContext(opts) });
      state.ready = true;
      metrics.ready.set(1);
    },
  };
}

/**
 * `recsys serve`: bind the port first (so /healthz answers while models load), load and warm up
 * every model, then report ready. SIGHUP reloads every model; SIGTERM/SIGINT drain (no new
 * requests, those in flight finish, sessions close) and return; a second signal or a drain past
 * `drainTimeoutSeconds` ends the process with 143/130.
 */
export async function runServe(opts: ServeOptions): Promise<void> {
  const { app, log, registry, metrics, state, load } = createService(opts);
  let stop!: (signal: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    stop = resolve;
  });
  let reject!: (err: Interrupted) => void;
  const forcedStop = new Promise<never>((_, r) => {
    reject = r;
  });
  forcedStop.catch(() => {});
  // The process exits right after: the inference workers finish the batch they are in first.
  const forced = (signal: NodeJS.Signals, why: string) =>
    void haltWorkers().then(() => reject(new Interrupted(signal, why, { exitNow: true })));
  const onSignal = (signal: NodeJS.Signals) => {
    if (state.draining) forced(signal, `${signal} again while draining: stopped`);
    state.draining = true;
    stop(signal);
  };
  const onHangup = () => void registry.reload();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onHangup);
  try {
    const url = await app.listen({ host: opts.host, port: opts.port });
    opts.onListening?.(url);
    const loading = load().then(() => log.info(`ready: ${opts.models.map((m) => m.name).join(', ')} on ${url}`));
    // A model that cannot load ends the service (exit code of its error), unless a signal came first.
    const signal = await Promise.race([stopped, loading.then(() => stopped)]);
    log.info(`${signal}: draining requests in flight`);
    metrics.ready.set(0);
    const timer = setTimeout(
      () => forced(signal, `drain took over ${opts.drainTimeoutSeconds} s: stopped`),
      opts.drainTimeoutSeconds * 1000,
    );
    try {
      const drain = async () => {
        // Listening goes on until the requests in flight are answered: closing the server first would
        // reset connections whose request is still arriving (Node counts them idle).
        while (state.inflight > 0) await new Promise((r) => setTimeout(r, 10));
        await app.close();
        await loading.catch(() => {});
        await registry.closeAll();
      };
      await Promise.race([drain(), forcedStop]);
    } finally {
      clearTimeout(timer);
    }
    log.info('drained: stopped');
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGHUP', onHangup);
    if (!state.draining) await app.close();
  }
}

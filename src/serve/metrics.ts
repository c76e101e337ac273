import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RowCache } from './cache.js';

/** What GET /metrics exports (Prometheus text format), on a registry of its own. */
export interface ServeMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route'>;
  batchSize: Histogram<'model' | 'kind'>;
  batchSeconds: Histogram<'model' | 'kind'>;
  queueDepth: Gauge<'model' | 'kind'>;
  /**
   * The latest queue depth of each model's batchers, kept as plain numbers (they change twice per
   * request) and copied into `recsys_queue_depth` when /metrics is read.
   */
  queueDepths: Map<string, { model: string; kind: string; depth: number }>;
  rejected: Counter<'model' | 'reason'>;
  loadSeconds: Gauge<'model'>;
  reloads: Counter<'model' | 'result'>;
  ready: Gauge;
}

export function serveMetrics(cache: RowCache): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'recsys_' });
  const registers = [registry];
  const queueDepths: ServeMetrics['queueDepths'] = new Map();
  const metrics: ServeMetrics = {
    registry,
    requests: new Counter({
      name: 'recsys_http_requests_total',
      help: 'HTTP requests by route, method and status code',
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
    latency: new Histogram({
      name: 'recsys_http_request_duration_seconds',
      help: 'Time from request to response, by route',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    batchSize: new Histogram({
      name: 'recsys_batch_size',
      help: 'Rows per forward pass (micro-batching)',
      labelNames: ['model', 'kind'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'recsys_batch_duration_seconds',
      help: 'Time of one forward pass',
      labelNames: ['model', 'kind'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'recsys_queue_depth',
      help: 'Rows waiting for a forward pass',
      labelNames: ['model', 'kind'],
      registers,
      collect() {
        for (const q of queueDepths.values()) this.set({ model: q.model, kind: q.kind }, q.depth);
      },
    }),
    queueDepths,
    rejected: new Counter({
      name: 'recsys_rejected_total',
      help: 'Requests refused before inference: queue full (429) or not ready/draining (503)',
      labelNames: ['model', 'reason'],
      registers,
    }),
    loadSeconds: new Gauge({
      name: 'recsys_model_load_seconds',
      help: 'Seconds the current model took to load and warm up',
      labelNames: ['model'],
      registers,
    }),
    reloads: new Counter({
      name: 'recsys_model_reloads_total',
      help: 'Model reloads by result (ok, failed)',
      labelNames: ['model', 'result'],
      registers,
    }),
    ready: new Gauge({ name: 'recsys_ready', help: '1 when every model is loaded and warmed up', registers }),
  };
  new Counter({
    name: 'recsys_cache_hits_total',
    help: 'Rows answered from the cache',
    registers,
    collect() {
      this.reset();
      this.inc(cache.hits);
    },
  });
  new Counter({
    name: 'recsys_cache_misses_total',
    help: 'Rows that needed a forward pass',
    registers,
    collect() {
      this.reset();
      this.inc(cache.misses);
    },
  });
  new Gauge({
    name: 'recsys_cache_hit_ratio',
    help: 'Cache hits / lookups since start',
    registers,
    collect() {
      const n = cache.hits + cache.misses;
      this.set(n ? cache.hits / n : 0);
    },
  });
  new Gauge({
    name: 'recsys_cache_bytes',
    help: 'Bytes held by the answer cache',
    registers,
    collect() {
      this.set(cache.bytes);
    },
  });
  return metrics;
}

import { z } from 'zod';
import { bool, nonNegInt, nonNegNumber, oneOf, path, posInt, posNumber, str } from './fields.js';

/** `recsys serve` (the HTTP inference service) and `recsys rank` (re-ranking and ranking metrics). */
export const serveSchema = z
  .strictObject({
    host: str().default('127.0.0.1').describe('Address to bind; 0.0.0.0 exposes the service beyond this machine'),
    port: nonNegInt().default(8080).describe('TCP port (0: any free port, printed at start)'),
    quantized: bool().default(false).describe('Serve onnx/model_quantized.onnx instead of the float model'),
    workers: nonNegInt()
      .default(1)
      .describe('Inference worker threads per model, one onnxruntime session each (0: on the main thread)'),
    threads: posInt()
      .nullable()
      .default(null)
      .describe('onnxruntime intra-op threads per session; null: the cores but one, shared by the workers'),
    max_batch_size: posInt().default(32).describe('Micro-batching: most rows in one forward pass'),
    max_wait_ms: nonNegNumber()
      .default(0)
      .describe(
        'Micro-batching: longest a row waits for others when no batch is running ' +
          '(rows that arrive during a batch join the next)',
      ),
    max_queue: posInt().default(1024).describe('Rows waiting per model; more are refused with 429 and Retry-After'),
    inflight_batches: posInt().default(1).describe('Forward passes run at once per model'),
    max_items: posInt().default(64).describe('Most inputs in one request (more: 413)'),
    max_chars: posInt().default(2000).describe('Longest text or pair in characters (longer: 413)'),
    body_limit: posInt().default(1_048_576).describe('Largest request body in bytes (larger: 413)'),
    cache_bytes: nonNegInt()
      .default(64 * 1024 * 1024)
      .describe('Answer cache size in bytes (0: no cache)'),
    cache_ttl_s: posNumber().default(600).describe('Seconds a cached answer stays valid'),
    api_key: str().nullable().default(null).describe('Bearer token required on every endpoint but /healthz'),
    api_key_env: str()
      .default('RECSYS_API_KEY')
      .describe('Environment variable read for the bearer token when serve.api_key is null'),
    drain_timeout_s: posNumber().default(30).describe('SIGTERM: longest wait for requests in flight before exit 143'),
    index: path().nullable().default(null).describe('Vector index (recsys index) searched by /search'),
    pooling: oneOf(['mean', 'cls', 'pooler']).default('mean').describe('/embed and /search pooling'),
    normalize: bool().default(true).describe('/embed and /search: L2-normalise vectors'),
    search_k_max: posInt().default(100).describe('Largest k a /search request may ask for'),
    log_level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('JSON log level (stderr)'),
  })
  .describe('HTTP inference service (recsys serve)');

/** How a pair classifier's class probabilities become a ranking score, and how rankings are judged. */
export const rankSchema = z
  .strictObject({
    score: oneOf(['expected_gain', 'label_probability'])
      .default('expected_gain')
      .describe('expected_gain: sum of p(label) × gain(label); label_probability: p(rank.score_label)'),
    score_label: str().default('Exact').describe('The label whose probability is the score (score: label_probability)'),
    gains: z
      .record(z.string(), nonNegNumber())
      .default({ Exact: 1, Substitute: 0.1, Complement: 0.01, Irrelevant: 0 })
      .describe('Label → gain for nDCG and expected_gain (default: the ESCI gains of the KDD Cup 2022 task)'),
    k: z
      .array(posInt())
      .min(1)
      .default([1, 3, 5, 10])
      .describe('Cut-offs of the ranking metrics (nDCG@k, recall@k, …)'),
    without_relevant: oneOf(['zero', 'exclude'])
      .default('zero')
      .describe('Queries with no relevant item: zero (kept in the averages, scored 0) or exclude (counted only)'),
    batch_size: posInt().default(64).describe('Pairs per forward pass (recsys rank)'),
    top: posInt().nullable().default(null).describe("Candidates kept per query in rank's output; null: all"),
    max_bad_rows: nonNegInt()
      .nullable()
      .default(null)
      .describe('Rejected candidate rows (no query, text or group) tolerated before rank fails; null: no limit'),
    min: z
      .record(z.string(), z.number())
      .default({})
      .describe('Quality gates of recsys rank --qrels: ranking metric → minimum value'),
  })
  .describe('Re-ranking with a pair classifier (recsys rank) and per-query ranking metrics (rank, grouped eval)');

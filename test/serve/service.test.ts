import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerMatches } from '../../src/serve/app.js';
import { createService } from '../../src/serve/run.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { makeExport, QUERIES, serveOptions } from './fixture.js';
import { parsePrometheusText, sampleValue } from './prom-text.js';

/** recsys serve in process (Fastify inject): answers equal predict's, validation, cache, queue, auth, metrics. */

const root = tempDir('recsys-serve-');
let exp: string;
const PAIRS = QUERIES.map((q, i) => ({ text: q, pair: QUERIES[(i + 3) % QUERIES.length] }));
let predicted: { single: unknown[]; pairs: unknown[] };

type Service = ReturnType<typeof createService>;
const services: Service[] = [];
async function start(over: Parameters<typeof serveOptions>[1] = {}, load = true): Promise<Service> {
  const svc = createService(serveOptions(exp, over));
  services.push(svc);
  if (load) await svc.load();
  return svc;
}
const post = (svc: Service, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  svc.app.inject({ method: 'POST', url, payload: payload as object, headers });
const classify = (svc: Service, payload: unknown) => post(svc, '/v1/models/intent/classify', payload);

/** `recsys predict` on the same rows, --top-k 3 --logits: what every classify answer must equal. */
function predict(rows: { text: string; pair?: string }[], pairs: boolean): unknown[] {
  const file = path.join(root, `rows-${pairs}.jsonl`);
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
  const out = path.join(root, `pred-${pairs}.jsonl`);
  const args = ['predict', '--model', exp, '--input', file, '--output', out, '--top-k', '3', '--logits'];
  const r = runCli([...args, ...(pairs ? ['--pair-column', 'pair'] : [])]);
  if (r.code !== 0) throw new Error(r.stderr);
  return readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { row: _row, ...rest } = JSON.parse(l);
      return rest;
    });
}

beforeAll(async () => {
  exp = await makeExport(root, 'export', 7);
  predicted = {
    single: predict(
      QUERIES.map((text) => ({ text })),
      false,
    ),
    pairs: predict(PAIRS, true),
  };
}, 240_000);

afterAll(async () => {
  for (const s of services) {
    await s.app.close();
    await s.registry.closeAll();
  }
});

describe('classify answers equal recsys predict whatever the batch composition', () => {
  const opts = { top_k: 3, logits: true };
  it('one request with every row, and pairs', async () => {
    const svc = await start({ cacheBytes: 0, workers: 1 });
    const all = await classify(svc, { inputs: QUERIES, ...opts });
    expect(all.statusCode, all.body).toBe(200);
    expect(all.json().results).toEqual(predicted.single);
    const pairs = await classify(svc, { inputs: PAIRS, ...opts });
    expect(pairs.json().results).toEqual(predicted.pairs);
  });

  it('each row alone, concurrently, and mixed groups of singles and pairs in batches of 3', async () => {
    const svc = await start({ cacheBytes: 0, maxBatchSize: 3, maxWaitMs: 20, workers: 1 });
    const alone = await Promise.all(QUERIES.map((q) => classify(svc, { inputs: [q], ...opts })));
    expect(alone.map((r) => r.json().results[0])).toEqual(predicted.single);
    const mixed = await Promise.all(
      QUERIES.map((q, i) => classify(svc, { inputs: [PAIRS[(i * 7) % 10], q], ...opts })),
    );
    mixed.forEach((r, i) => {
      expect(r.json().results).toEqual([predicted.pairs[(i * 7) % 10], predicted.single[i]]);
    });
    const batches = parsePrometheusText(await svc.metrics.registry.metrics());
    expect(sampleValue(batches, 'recsys_batch_size_count', { model: 'intent' })).toBeLessThan(30);
  });

  it('a row over max_length is truncated as predict truncates it; by default: the best label, no logits', async () => {
    const svc = await start();
    const r = await classify(svc, { inputs: [QUERIES[7]] });
    const { top_k: _t, logits: _l, ...best } = predicted.single[7] as Record<string, unknown>;
    expect(r.json().results).toEqual([best]);
  });
});

describe('validation', () => {
  const cases: [string, unknown, number, RegExp][] = [
    ['no inputs', {}, 400, /request body must have required property 'inputs'/],
    ['inputs not a list', { inputs: 'x' }, 400, /inputs must be array/],
    ['empty list', { inputs: [] }, 400, /inputs must NOT have fewer than 1 items/],
    ['a number as text', { inputs: [3] }, 400, /inputs\/0/],
    ['a file path field', { inputs: ['x'], path: '/etc/passwd' }, 400, /additional properties \("path"\)/],
    ['a file field in an input', { inputs: [{ text: 'x', file: '/etc/passwd' }] }, 400, /inputs\/0/],
    ['top_k as a string (no coercion)', { inputs: ['x'], top_k: '3' }, 400, /top_k must be integer/],
    ['top_k 0', { inputs: ['x'], top_k: 0 }, 400, /top_k must be >= 1/],
    ['an empty text', { inputs: ['ok', '  '] }, 400, /^inputs\[1\]: empty text$/],
    ['too many items', { inputs: Array(9).fill('x') }, 413, /^inputs: 9 items; the limit is 8 \(serve.max_items\)$/],
    ['a text too long', { inputs: ['x'.repeat(51)] }, 413, /^inputs\[0\]: 51 characters; the limit is 50/],
    ['a pair too long', { inputs: [{ text: 'a', pair: 'y'.repeat(60) }] }, 413, /^inputs\[0\]\.pair: 60 characters/],
  ];
  it.each(cases)('%s', async (_name, payload, status, message) => {
    const svc = await limited();
    const r = await classify(svc, payload);
    expect(r.statusCode, r.body).toBe(status);
    expect(r.json().error).toMatch(message);
  });

  let small: Service | undefined;
  async function limited() {
    small ??= await start({ maxItems: 8, maxChars: 50, bodyLimit: 2000 });
    return small;
  }

  it('a body over the limit is 413; unknown models, routes and methods are 404; no path reaches a file', async () => {
    const svc = await limited();
    expect((await classify(svc, { inputs: ['x'.repeat(3000)] })).statusCode).toBe(413);
    const unknown = await post(svc, '/v1/models/..%2F..%2Fetc/classify', { inputs: ['x'] });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatch(/^no model named "\.\.\/\.\.\/etc"; served: intent$/);
    expect((await svc.app.inject({ method: 'GET', url: '/v1/models/intent/classify' })).statusCode).toBe(404);
    const reload = await post(svc, '/admin/reload', { dir: '/tmp' });
    expect(reload.statusCode).toBe(400);
    expect((await post(svc, '/admin/reload', { models: ['other'] })).json().error).toBe('no model named "other"');
  });

  it('a logits-only export cannot embed or search, and says so', async () => {
    const svc = await limited();
    const r = await post(svc, '/v1/models/intent/embed', { inputs: ['x'] });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('model intent has logits only (no last_hidden_state output): it cannot embed');
    const s = await post(svc, '/v1/models/intent/search', { inputs: ['x'] });
    expect(s.json().error).toBe('no index is served (start recsys serve with --index DIR)');
  });
});

describe('cache', () => {
  it('a repeated row (or one that tokenises alike) is a hit with the same answer; hits, misses exported', async () => {
    const svc = await start({ maxBatchSize: 4 });
    const first = await classify(svc, { inputs: [QUERIES[0], QUERIES[3]], logits: true });
    expect([svc.cache.hits, svc.cache.misses]).toEqual([0, 2]);
    const again = await classify(svc, { inputs: [QUERIES[3], 'Usb  C Charger'], logits: true });
    expect([svc.cache.hits, svc.cache.misses]).toEqual([2, 2]);
    expect(again.json().results).toEqual([first.json().results[1], first.json().results[0]]);
    const m = parsePrometheusText(await svc.metrics.registry.metrics());
    expect(sampleValue(m, 'recsys_cache_hits_total')).toBe(2);
    expect(sampleValue(m, 'recsys_cache_misses_total')).toBe(2);
    expect(sampleValue(m, 'recsys_cache_hit_ratio')).toBe(0.5);
    expect(sampleValue(m, 'recsys_cache_bytes')).toBeGreaterThan(0);
  });

  it('cache_bytes 0 turns it off', async () => {
    const svc = await start({ cacheBytes: 0 });
    await classify(svc, { inputs: [QUERIES[0], QUERIES[0]] });
    expect([svc.cache.hits, svc.cache.entries]).toEqual([0, 0]);
  });
});

describe('a bounded queue', () => {
  it('a full queue answers 429 with Retry-After; under 10x overload every request gets 200 or 429', async () => {
    const svc = await start({ cacheBytes: 0, maxQueue: 4, maxBatchSize: 2, maxWaitMs: 5 });
    const many = await Promise.all(
      Array.from({ length: 40 }, (_, i) => classify(svc, { inputs: [`${QUERIES[i % 10]} ${i}`] })),
    );
    const codes = many.map((r) => r.statusCode);
    expect(codes.every((c) => c === 200 || c === 429)).toBe(true);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThan(0);
    expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(4);
    const refused = many.find((r) => r.statusCode === 429)!;
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json().error).toMatch(/limit \(serve\.max_queue\); retry shortly$/);
    const m = parsePrometheusText(await svc.metrics.registry.metrics());
    expect(sampleValue(m, 'recsys_rejected_total', { reason: 'queue_full' })).toBe(
      codes.filter((c) => c === 429).length,
    );
    expect(sampleValue(m, 'recsys_queue_depth', { model: 'intent' })).toBe(0);
  });
});

describe('readiness and auth', () => {
  it('not ready before the models are loaded and warmed up; /healthz answers all along', async () => {
    const svc = await start({}, false);
    expect((await svc.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const before = await svc.app.inject({ url: '/readyz' });
    expect([before.statusCode, before.json()]).toEqual([503, { ready: false, reason: 'loading models' }]);
    const early = await classify(svc, { inputs: ['x'] });
    expect([early.statusCode, early.headers['retry-after']]).toEqual([503, '1']);
    await svc.load();
    expect((await svc.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    expect((await classify(svc, { inputs: ['x'] })).statusCode).toBe(200);
  });

  it('a bearer token guards everything but /healthz', async () => {
    const key = 'k'.repeat(24);
    const svc = await start({ apiKey: key });
    const get = (url: string, auth?: string) =>
      svc.app.inject({ url, headers: auth ? { authorization: auth } : {} }).then((r) => r.statusCode);
    expect(await get('/healthz')).toBe(200);
    for (const url of ['/readyz', '/metrics', '/v1/models']) {
      expect(await get(url)).toBe(401);
      expect(await get(url, `Bearer ${key}x`)).toBe(401);
      expect(await get(url, key)).toBe(401);
      expect(await get(url, `Bearer ${key}`)).toBe(200);
    }
    const r = await post(svc, '/v1/models/intent/classify', { inputs: ['x'] }, { authorization: 'Bearer nope' });
    expect([r.statusCode, r.headers['www-authenticate']]).toEqual([401, 'Bearer']);
    expect(bearerMatches(undefined, key)).toBe(false);
    expect(bearerMatches('Bearer ', key)).toBe(false);
  });
});

describe('/metrics and /v1/models', () => {
  it('parses as Prometheus text with the service families, and the parser rejects broken text', async () => {
    const svc = await start();
    await classify(svc, { inputs: QUERIES.slice(0, 3) });
    await classify(svc, { inputs: [] });
    const r = await svc.app.inject({ url: '/metrics' });
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parsePrometheusText(r.body);
    const route = '/v1/models/:name/classify';
    expect(sampleValue(m, 'recsys_http_requests_total', { route, status: '200' })).toBe(1);
    expect(sampleValue(m, 'recsys_http_requests_total', { route, status: '400' })).toBe(1);
    expect(sampleValue(m, 'recsys_http_request_duration_seconds_count', { route })).toBe(2);
    expect(m.get('recsys_batch_size')?.type).toBe('histogram');
    expect(sampleValue(m, 'recsys_batch_size_sum', { model: 'intent', kind: 'classify' })).toBe(3);
    expect(sampleValue(m, 'recsys_model_load_seconds', { model: 'intent' })).toBeGreaterThan(0);
    expect(sampleValue(m, 'recsys_ready')).toBe(1);
    expect(sampleValue(m, 'recsys_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(() => parsePrometheusText('# TYPE a counter\na{x="1} 2\n')).toThrow(/unterminated/);
    expect(() => parsePrometheusText('b 1\n')).toThrow(/no declared family/);
    expect(() => parsePrometheusText('# TYPE c gauge\nc one\n')).toThrow(/bad value/);
    const hist = '# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n';
    expect(() => parsePrometheusText(hist)).toThrow(/not cumulative/);
  });

  it('lists each model with labels, sha256 and export time', async () => {
    const svc = await start();
    const { models } = (await svc.app.inject({ url: '/v1/models' })).json();
    const record = JSON.parse(readFileSync(path.join(exp, 'export.json'), 'utf8'));
    expect(models).toEqual([
      {
        name: 'intent',
        labels: record.model.labels,
        sha256: record.formats.onnx.sha256['onnx/model.onnx'],
        created: record.created,
        max_length: 32,
        truncation: 'longest_first',
        endpoints: ['classify'],
      },
    ]);
  });
});

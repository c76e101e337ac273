import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { RowCache } from './cache.js';
import { classify, embed, HttpError, search, type InputLimits, type SearchContext } from './inference.js';
import type { ServeMetrics } from './metrics.js';
import type { ModelRegistry } from './registry.js';
import { adminReloadSchema, classifySchema, embedSchema, searchSchema } from './schemas.js';

export interface ServiceState {
  /** Every model loaded and warmed up. */
  ready: boolean;
  /** SIGTERM received: finishing requests in flight, taking no new ones. */
  draining: boolean;
  /** Requests received and not yet answered (or abandoned by their client). */
  inflight: number;
}

export interface AppDeps {
  registry: ModelRegistry;
  cache: RowCache;
  metrics: ServeMetrics;
  state: ServiceState;
  limits: InputLimits & { bodyLimit: number };
  apiKey: string | null;
  search?: SearchContext;
  logLevel: string;
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: { additionalProperty?: string };
}

/** The first schema problem as one line naming the field, e.g. `request body: inputs/0 must be string`. */
function validationMessage(issues: unknown): string {
  const first = (issues as AjvIssue[])[0] ?? {};
  const where = first.instancePath ? first.instancePath.slice(1) : 'body';
  const extra = first.params?.additionalProperty;
  return `request ${where === 'body' ? 'body' : `body: ${where}`} ${first.message}${extra ? ` ("${extra}")` : ''}`;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Bearer token check in constant time: both sides hashed to 32 bytes, so neither length nor content leaks. */
export function bearerMatches(header: string | undefined, key: string): boolean {
  const given = header?.startsWith('Bearer ') ? header.slice(7) : '';
  return timingSafeEqual(digest(given), digest(key)) && given.length > 0;
}

/**
 * The HTTP service: versioned JSON endpoints validated by schema (unknown fields refused, nothing
 * coerced), a bearer token on everything but /healthz, one JSON error shape `{error}`, and a
 * metrics hook on every response.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const { registry, cache, metrics, state, limits } = deps;
  const app = Fastify({
    logger: { level: deps.logLevel, stream: process.stderr },
    // Fastify logs two lines a request (on arrival and on answer); the onResponse hook writes one.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
  });

  // Both hooks take a callback rather than being async: they run on every request, and an async hook
  // costs a promise and a microtask turn each time.
  app.addHook('onRequest', (req, reply, done) => {
    state.inflight++;
    reply.raw.once('close', () => state.inflight--);
    reply.header('x-request-id', req.id);
    // While draining, every answer ends its connection: keep-alive clients reconnect to another replica.
    if (state.draining) reply.header('connection', 'close');
    if (deps.apiKey && req.url !== '/healthz' && !bearerMatches(req.headers.authorization, deps.apiKey)) {
      reply.header('www-authenticate', 'Bearer');
      return done(new HttpError(401, 'missing or wrong bearer token (Authorization: Bearer …)'));
    }
    done();
  });
  // One access line a request, with its id: each line is a synchronous write to stderr, which at
  // thousands of requests a second is a good part of the main thread's time.
  const accessLog = ['trace', 'debug', 'info'].includes(app.log.level);
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
    if (accessLog)
      req.log.info(
        {
          req: { method: req.method, url: req.url, remoteAddress: req.ip },
          res: { statusCode: reply.statusCode },
          responseTime: reply.elapsedTime,
        },
        'request completed',
      );
    done();
  });
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, req, reply) => {
    const status = err instanceof HttpError ? err.statusCode : err.validation ? 400 : (err.statusCode ?? 500);
    if (err instanceof HttpError) reply.headers(err.headers);
    // An HttpError is an answer the service chose (503 while draining, 429): Fastify's response log says
    // it; only an unexpected failure is logged as an error, with its stack.
    if (status >= 500 && !(err instanceof HttpError)) req.log.error({ err }, 'request failed');
    const message = err.validation ? validationMessage(err.validation) : err.message;
    return reply
      .code(status)
      .send({ error: status >= 500 && !(err instanceof HttpError) ? 'internal error' : message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url}` }));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (state.draining) return reply.code(503).send({ ready: false, reason: 'draining' });
    if (!state.ready) return reply.code(503).send({ ready: false, reason: 'loading models' });
    return { ready: true };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/v1/models', async () => ({
    models: registry.list().map((m) => ({
      name: m.name,
      labels: m.model.labels,
      sha256: m.sha256,
      created: m.created,
      max_length: m.model.maxLength,
      truncation: m.model.truncation,
      endpoints: [m.classify && 'classify', m.embed && 'embed', m.embed && deps.search && 'search'].filter(Boolean),
      ...(m.dimension ? { dimension: m.dimension } : {}),
    })),
  }));

  /** Answer with the named model, held for the whole request so a reload never closes it underneath. */
  const withModel =
    <B>(fn: (m: NonNullable<ReturnType<ModelRegistry['acquire']>>, body: B) => Promise<unknown>) =>
    async (req: FastifyRequest<{ Params: { name: string }; Body: B }>, _reply: FastifyReply) => {
      if (state.draining || !state.ready) {
        metrics.rejected.inc({ model: req.params.name, reason: state.draining ? 'draining' : 'not_ready' });
        throw new HttpError(503, state.draining ? 'shutting down' : 'models are loading', { 'retry-after': '1' });
      }
      const m = registry.acquire(req.params.name);
      if (!m) {
        const names = registry.list().map((x) => x.name);
        throw new HttpError(404, `no model named "${req.params.name.slice(0, 80)}"; served: ${names.join(', ')}`);
      }
      try {
        return await fn(m, req.body as B);
      } catch (err) {
        if (err instanceof HttpError && err.statusCode === 429)
          metrics.rejected.inc({ model: m.name, reason: 'queue_full' });
        throw err;
      } finally {
        registry.release(m);
      }
    };

  type Body<T> = { Params: { name: string }; Body: T };
  app.post<Body<Parameters<typeof classify>[1]>>(
    '/v1/models/:name/classify',
    { schema: { body: classifySchema } },
    withModel((m, body: Parameters<typeof classify>[1]) => classify(m, body, limits, cache)),
  );
  app.post<Body<Parameters<typeof embed>[1]>>(
    '/v1/models/:name/embed',
    { schema: { body: embedSchema } },
    withModel((m, body: Parameters<typeof embed>[1]) => embed(m, body, limits, cache)),
  );
  app.post<Body<Parameters<typeof search>[1]>>(
    '/v1/models/:name/search',
    { schema: { body: searchSchema } },
    withModel((m, body: Parameters<typeof search>[1]) => search(m, body, limits, cache, deps.search)),
  );
  app.post<{ Body: { models?: string[] } | undefined }>(
    '/admin/reload',
    { schema: { body: adminReloadSchema } },
    async (req, reply) => {
      const names = req.body?.models;
      const unknown = names?.filter((n) => !registry.specs.some((s) => s.name === n)) ?? [];
      if (unknown.length) throw new HttpError(404, `no model named ${unknown.map((n) => `"${n}"`).join(', ')}`);
      const results = await registry.reload(names);
      return reply.code(results.every((r) => r.ok) ? 200 : 422).send({ results });
    },
  );
  return app;
}

/**
 * The HTTP floor for bench/serve: a bare Fastify route at recsys serve's classify URL, with its body
 * schema, answering each input with a fixed label and score and no model. What the main thread
 * spends per request here is what Fastify and Node's HTTP cost on the machine; recsys serve's main
 * thread spends that plus tokenising, batching, metrics and logging. Prints its URL on stdout.
 *
 *   npx tsx bench/serve-floor.ts
 */
import Fastify from 'fastify';
import { classifySchema } from '../src/serve/schemas.js';

const app = Fastify({ logger: { level: 'warn' } });
app.post<{ Body: { inputs: unknown[] } }>(
  '/v1/models/intent/classify',
  { schema: { body: classifySchema } },
  async (req) => ({
    model: 'intent',
    sha256: '0'.repeat(64),
    results: req.body.inputs.map(() => ({ label: 'electronics', score: 0.9 })),
  }),
);
console.log(await app.listen({ host: '127.0.0.1', port: 0 }));

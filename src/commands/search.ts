import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { InputFormat } from '../data/readers/index.js';
import { openQueryEncoder } from '../embed/encoder.js';
import type { Pooling } from '../embed/pooling.js';
import { evaluateGates, gateLines, gateSummary } from '../eval/gates.js';
import { readQrels } from '../eval/qrels.js';
import { GateError, UsageError } from '../lib/errors.js';
import { makeLogger } from '../lib/log.js';
import { rankingGates } from '../retrieval/gates.js';
import { embeddedQueries, type QueryVector, storedItemQueries } from '../retrieval/queries.js';
import { runSearch } from '../retrieval/search.js';
import { VectorStore } from '../retrieval/store.js';
import { type CommonOptions, flagOverrides } from './options.js';

interface SearchFlags extends CommonOptions {
  index?: string;
  model?: string;
  queries?: string;
  format?: string;
  textColumn?: string;
  idColumn?: string;
  similarTo?: string[];
  output?: string;
  qrels?: string;
  min?: string[];
  offline?: boolean;
}

const FLAGS = {
  k: 'search.k',
  exact: 'search.exact',
  nprobes: 'search.nprobes',
  ef: 'search.ef',
  refineFactor: 'search.refine_factor',
  batchSize: 'search.batch_size',
  pooling: 'search.pooling',
  normalize: 'search.normalize',
  backend: 'backend',
};

/** `recsys search --index INDEX (--model M --queries FILE | --similar-to ID) [--qrels FILE --min m=v]`. */
export async function searchCommand(opts: SearchFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  if (!opts.index) throw new UsageError('recsys search: --index is required (the --out dir of recsys index)');
  const similar = opts.similarTo ?? [];
  if (similar.length && (opts.queries || opts.model))
    throw new UsageError('recsys search: --similar-to searches with stored item vectors; drop --queries and --model');
  if (!similar.length && (!opts.queries || !opts.model))
    throw new UsageError('recsys search: give --model and --queries (text queries), or --similar-to ITEM_ID');
  if (opts.json && !opts.output) throw new UsageError('recsys search: --json needs --output (hits go to the file)');
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts as never, FLAGS) });
  const s = config.search;
  const gates = opts.qrels || opts.min?.length ? rankingGates(s.min, opts.min ?? [], s.k) : undefined;
  if (gates?.specs.length && !opts.qrels) throw new UsageError('recsys search: --min gates need --qrels FILE');
  const qrels = opts.qrels ? await readQrels(path.resolve(opts.qrels)) : undefined;
  const dir = path.resolve(opts.index);
  const store = await VectorStore.open(dir, opts.verbose);
  let close = async () => {};
  try {
    let queries: AsyncIterable<QueryVector>;
    if (similar.length) queries = storedItemQueries(store, similar);
    else {
      const { model, encode } = await openQueryEncoder(opts.model!, dir, store.manifest, {
        pooling: s.pooling as Pooling | null,
        normalize: s.normalize,
        backend: config.backend,
        offline: opts.offline,
        verbose: opts.verbose,
        log,
      });
      close = () => model.close();
      const file = path.resolve(opts.queries!);
      const { textColumn = 'text', idColumn } = opts;
      const format = (opts.format ?? 'auto') as InputFormat | 'auto';
      const q = { file, format, textColumn, idColumn, batchSize: s.batch_size, dimension: store.manifest.dimension };
      queries = embeddedQueries(q, encode);
    }
    const keyName = similar.length ? 'item_id' : opts.idColumn ? 'query_id' : 'row';
    const summary = await runSearch(store, queries, {
      k: s.k,
      exact: s.exact,
      ann: { nprobes: s.nprobes, ef: s.ef, refineFactor: s.refine_factor },
      output: opts.output ? path.resolve(opts.output) : undefined,
      keyName,
      qrels,
      cutoffs: gates?.cutoffs,
      write: (line) => process.stdout.write(line),
    });
    if (summary.ranking?.n_queries === 0)
      log.info(`warning: no query matched a query id of ${opts.qrels} (queries are keyed by ${keyName})`);
    const report = summary.ranking && gates ? evaluateGates(gates.specs, summary.ranking.metrics) : undefined;
    const out = opts.output ? process.stdout : process.stderr;
    if (opts.json) out.write(`${JSON.stringify({ ...summary, gates: report }, null, 2)}\n`);
    else {
      log.info(
        `searched ${summary.queries} queries (${summary.mode}, k ${summary.k}) in ${summary.seconds.toFixed(2)} s` +
          ` (${summary.queries_per_second.toFixed(1)} queries/s)${opts.output ? ` → ${opts.output}` : ''}`,
      );
      const r = summary.ranking;
      if (r) {
        const m = r.metrics;
        const f = (name: string) => `${name} ${m[name] === null ? 'n/a' : (m[name] as number).toFixed(4)}`;
        out.write(`${[`recall@${s.k}`, `ndcg@${s.k}`, `mrr@${s.k}`, 'map'].map(f).join('  ')}\n`);
        out.write(
          `judged queries ${r.n_queries} (${r.n_without_relevant} without relevant), unjudged ${r.n_unjudged}\n`,
        );
      }
    }
    if (report && !report.passed) {
      for (const line of gateLines(report).filter((l) => l.startsWith('gate FAIL'))) process.stderr.write(`${line}\n`);
      throw new GateError(gateSummary(report));
    }
  } finally {
    store.close();
    await close();
  }
}

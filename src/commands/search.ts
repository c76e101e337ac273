import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { InputFormat } from '../data/readers/index.js';
import { openQueryEncoder } from '../embed/encoder.js';
import type { Pooling } from '../embed/pooling.js';
import { evaluateGates, gateLines, gateSummary } from '../eval/gates.js';
import { readQrels } from '../eval/qrels.js';
import { maxDropOf } from '../eval/ranking-baseline.js';
import { GateError, UsageError } from '../lib/errors.js';
import { makeLogger } from '../lib/log.js';
import { textRetrievers } from '../retrieval/fusion.js';
import { searchGates } from '../retrieval/gates.js';
import { embeddedQueries, type QueryVector, storedItemQueries } from '../retrieval/queries.js';
import { rankingLines, runSearch, searchedLine } from '../retrieval/search.js';
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
  baseline?: string;
  maxDrop?: string;
  baselineMetrics?: string;
  fts?: boolean;
  hybrid?: boolean;
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

/** `recsys search --index INDEX (--model M --queries FILE | --similar-to ID) [--fts|--hybrid] [--qrels FILE gates]`. */
export async function searchCommand(opts: SearchFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  if (!opts.index) throw new UsageError('recsys search: --index is required (the --out dir of recsys index)');
  const similar = opts.similarTo ?? [];
  if (opts.fts && opts.hybrid) throw new UsageError('recsys search: --fts and --hybrid are exclusive');
  if (similar.length && (opts.queries || opts.model || opts.fts || opts.hybrid))
    throw new UsageError('recsys search: --similar-to searches with stored item vectors; drop --queries and --model');
  if (!similar.length && (!opts.queries || (!opts.model && !opts.fts)))
    throw new UsageError('recsys search: give --model and --queries (text queries), or --similar-to ITEM_ID');
  if (opts.json && !opts.output) throw new UsageError('recsys search: --json needs --output (hits go to the file)');
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts as never, FLAGS) });
  const s = config.search;
  const gateFlags = { ...opts, maxDrop: maxDropOf(opts.maxDrop, !!opts.baseline) };
  const gates = opts.qrels || opts.min?.length || opts.baseline ? searchGates(s.min, gateFlags, s.k) : undefined;
  if (gates?.specs.length && !opts.qrels) throw new UsageError('recsys search: --min/--baseline gates need --qrels');
  const qrels = opts.qrels ? await readQrels(path.resolve(opts.qrels)) : undefined;
  const dir = path.resolve(opts.index);
  const store = await VectorStore.open(dir, opts.verbose);
  let close = async () => {};
  try {
    let queries: AsyncIterable<QueryVector>;
    if (similar.length) queries = storedItemQueries(store, similar);
    else {
      let encode = null;
      if (!opts.fts) {
        const q = { pooling: s.pooling as Pooling | null, normalize: s.normalize, backend: config.backend };
        const more = { offline: opts.offline, verbose: opts.verbose, log };
        const enc = await openQueryEncoder(opts.model!, dir, store.manifest, { ...q, ...more });
        close = () => enc.model.close();
        encode = enc.encode;
      }
      const { textColumn = 'text', idColumn } = opts;
      const format = (opts.format ?? 'auto') as InputFormat | 'auto';
      const file = path.resolve(opts.queries!);
      const q = { file, format, textColumn, idColumn, batchSize: s.batch_size, dimension: store.manifest.dimension };
      queries = embeddedQueries(q, encode);
    }
    const ann = { nprobes: s.nprobes, ef: s.ef, refineFactor: s.refine_factor };
    const mode = opts.fts ? 'fts' : opts.hybrid ? 'hybrid' : undefined;
    const text = textRetrievers(store, s.k, (v, depth) => store.search(v, depth, s.exact, ann));
    const summary = await runSearch(store, queries, {
      k: s.k,
      exact: s.exact,
      ann,
      output: opts.output ? path.resolve(opts.output) : undefined,
      keyName: similar.length ? 'item_id' : opts.idColumn ? 'query_id' : 'row',
      qrels,
      cutoffs: gates?.cutoffs,
      write: (line) => process.stdout.write(line),
      mode,
      retrieve: mode ? text[mode] : undefined,
    });
    if (summary.ranking?.n_queries === 0) log.info(`warning: no query matched a query id of ${opts.qrels}`);
    const report =
      summary.ranking && gates ? evaluateGates(gates.specs, summary.ranking.metrics, gates.skipped) : undefined;
    const out = opts.output ? process.stdout : process.stderr;
    if (opts.json) out.write(`${JSON.stringify({ ...summary, gates: report }, null, 2)}\n`);
    else {
      log.info(searchedLine(summary));
      out.write(rankingLines(summary));
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

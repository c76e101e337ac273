import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { UsageError } from '../lib/errors.js';
import { makeLogger } from '../lib/log.js';
import { rowsProgress } from '../lib/progress.js';
import { buildIndex } from '../retrieval/build.js';
import type { TextSource } from '../retrieval/fulltext.js';
import { readVectorsManifest } from '../retrieval/vectors.js';
import { type CommonOptions, flagOverrides } from './options.js';

interface IndexFlags extends CommonOptions {
  vectors?: string;
  out?: string;
  ann?: string;
  texts?: string;
  textColumn?: string;
  textIdColumn?: string;
  progress?: boolean;
}

const FLAGS = { ann: 'index.ann' };

/** `recsys index --vectors DIR --out INDEX [--ann auto|none|ivf_pq|hnsw]`: a LanceDB index of embeddings. */
export async function indexCommand(opts: IndexFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  if (!opts.vectors) throw new UsageError('recsys index: --vectors is required (the --out dir of recsys embed)');
  if (!opts.out) throw new UsageError('recsys index: --out is required (the index directory)');
  if (!!opts.texts !== !!opts.textColumn)
    throw new UsageError('recsys index: --texts FILE and --text-column C go together (a full-text index of the items)');
  const config = loadConfig({
    files: opts.config,
    sets: opts.set,
    overrides: flagOverrides(opts as Record<string, unknown>, FLAGS),
  });
  const c = config.index;
  const bar = rowsProgress('indexing', opts.progress !== false && !opts.json);
  const t0 = performance.now();
  let manifest: Awaited<ReturnType<typeof buildIndex>>;
  try {
    manifest = await buildIndex({
      vectors: path.resolve(opts.vectors),
      out: path.resolve(opts.out),
      ann: c.ann,
      annMinRows: c.ann_min_rows,
      partitions: c.partitions,
      subVectors: c.sub_vectors,
      hnswM: c.hnsw_m,
      efConstruction: c.ef_construction,
      overwrite: !!opts.overwrite,
      texts: opts.texts ? textSource(opts, path.resolve(opts.vectors)) : undefined,
      verbose: opts.verbose,
      onProgress: bar?.tick,
    });
  } finally {
    bar?.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...manifest, out: path.resolve(opts.out), seconds })}\n`);
    return;
  }
  const ann =
    (manifest.ann.kind === 'none' ? 'exact search only' : `${manifest.ann.kind} index`) +
    (manifest.text ? `, BM25 full-text index on ${manifest.text.column}` : '');
  log.info(
    `indexed ${manifest.count} vectors (dim ${manifest.dimension}, cosine, ${ann}) in ${seconds.toFixed(1)} s` +
      ` → ${opts.out}`,
  );
}

/** The texts file's id column: --text-id-column, else the id column the vectors were embedded with. */
function textSource(opts: IndexFlags, vectors: string): TextSource {
  const key = readVectorsManifest(vectors).key;
  const idColumn = key.column === 'row' ? null : (opts.textIdColumn ?? key.source_column);
  if (key.column === 'id' && !idColumn)
    throw new UsageError('recsys index: --text-id-column is required (the embeddings do not record their id column)');
  return { file: path.resolve(opts.texts!), format: 'auto', textColumn: opts.textColumn!, idColumn };
}

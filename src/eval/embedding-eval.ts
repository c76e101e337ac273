/**
 * `recsys eval` of a bi-encoder (`task: embedding`): the retrieval metrics of a prepared split, as
 * training's validation computes them (eval/retrieval-split.ts: the split's anchors as queries, its
 * positives and hard negatives as the corpus), with the sentence vectors of the evaluated model (a
 * run on a tfjs backend, or an export in onnxruntime) pooled as the run records (`embedding_head`).
 */
import type { DatasetManifest } from '../data/manifest.js';
import { loadTripletSplit } from '../data/triplet-shards.js';
import type { InferenceModel } from '../infer/model.js';
import { type Pooling, poolBatch } from '../infer/pooling.js';
import { DataError, UsageError } from '../lib/errors.js';
import { formatFixed } from './format.js';
import type { GateReport } from './gates.js';
import type { GroupedRankingReport } from './grouped.js';
import { parseRankingMetric } from './ranking.js';
import type { REPORT_FORMAT, REPORT_VERSION, EvalReport } from './report.js';
import { RETRIEVAL_K, retrievalMetricNames, retrievalTask, scoreRetrieval } from './retrieval-split.js';

/** What `recsys eval --json` prints for a bi-encoder: the retrieval block sits where grouped eval has it. */
export interface EmbeddingEvalReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  task: 'embedding';
  created: string;
  split: string;
  /** Rows (anchor, positive[, negative]) of the split. */
  rows: number;
  /** Distinct texts ranked for every query: the split's positives and hard negatives. */
  corpus: number;
  pooling: Pooling;
  source: EvalReport['source'];
  backend: string;
  seconds: number;
  rows_per_second: number;
  ranking: GroupedRankingReport;
  gates: GateReport | null;
}

export function isEmbeddingReport(r: object): r is EmbeddingEvalReport {
  return (r as { task?: unknown }).task === 'embedding';
}

/** Metrics compared with a baseline by default. */
export const EMBEDDING_BASELINE_METRICS = ['ndcg@10', 'recall@10', 'mrr@10', 'map@10'];

/** The names a gate on a bi-encoder may use: the retrieval metrics at the cut-offs computed. */
export function checkEmbeddingGateNames(metrics: Array<[string, string]>): void {
  const names = [...retrievalMetricNames(), ...RETRIEVAL_K.map((k) => `dcg@${k}`)];
  for (const [metric, where] of metrics) {
    if (names.includes(metric)) continue;
    const ranking = parseRankingMetric(metric);
    const why = ranking
      ? `cut-offs computed on a bi-encoder split are ${RETRIEVAL_K.join(', ')}`
      : 'a bi-encoder run is judged by retrieval metrics only';
    throw new UsageError(`${where}: ${metric}: ${why}; valid metrics: ${names.join(', ')}`);
  }
}

/** The run's sentence pooling (recorded by training as `embedding_head`); mean when it records none. */
export function recordedPooling(manifest: DatasetManifest): Pooling {
  const head = (manifest as { embedding_head?: { pooling?: Pooling } }).embedding_head;
  return head?.pooling ?? 'mean';
}

export interface EmbeddingSplitResult {
  rows: number;
  corpus: number;
  seconds: number;
  ranking: GroupedRankingReport;
}

/** Unit-length vectors of token-id texts, in batches, row-major [texts, hidden]. */
async function vectorsOf(
  model: InferenceModel,
  texts: Int32Array[],
  pooling: Pooling,
  batchSize: number,
  where: string,
): Promise<{ vectors: Float32Array; dim: number }> {
  if (!model.hidden) throw new UsageError(`${model.modelPath}: this model gives logits only (no last_hidden_state)`);
  const parts: Float32Array[] = [];
  let dim = 0;
  for (let start = 0; start < texts.length; start += batchSize) {
    const rows = texts.slice(start, start + batchSize).map((ids) => {
      for (const id of ids)
        if (id < 0 || id >= model.vocabSize)
          throw new DataError(`${where}: token id ${id} is outside the model's vocab_size ${model.vocabSize}`);
      return { ids, typeIds: new Int8Array(ids.length) };
    });
    const h = await model.hidden(rows);
    dim = h.hiddenSize;
    parts.push(
      poolBatch(
        h,
        rows.map((r) => r.ids.length),
        pooling,
        true,
      ),
    );
  }
  const vectors = new Float32Array(texts.length * dim);
  let at = 0;
  for (const p of parts) {
    vectors.set(p, at);
    at += p.length;
  }
  return { vectors, dim };
}

/** Retrieval metrics of one prepared bi-encoder split with the model's sentence vectors. */
export async function evaluateEmbeddingSplit(
  model: InferenceModel,
  opts: { file: string; expectedRows: number; pooling: Pooling; batchSize: number },
): Promise<EmbeddingSplitResult> {
  const t0 = performance.now();
  const s = await loadTripletSplit(opts.file);
  if (s.size !== opts.expectedRows)
    throw new DataError(
      `${opts.file}: ${s.size} rows, but the manifest says ${opts.expectedRows}; re-run recsys prepare`,
    );
  if (s.size === 0) throw new DataError(`${opts.file}: the split has no rows; nothing to evaluate`);
  const task = retrievalTask(s);
  const q = await vectorsOf(model, task.queries, opts.pooling, opts.batchSize, opts.file);
  const d = await vectorsOf(model, task.corpus, opts.pooling, opts.batchSize, opts.file);
  const summary = scoreRetrieval(task, q.vectors, d.vectors, q.dim);
  return {
    rows: s.size,
    corpus: task.corpus.length,
    seconds: (performance.now() - t0) / 1000,
    ranking: { ...summary, score: `cosine of ${opts.pooling}-pooled vectors`, group_column: null },
  };
}

/** The text report: what was ranked, then one line of metrics per cut-off. */
export function embeddingReportText(r: EmbeddingEvalReport, digits = 4): string {
  const m = r.ranking.metrics;
  const f = (name: string) => (m[name] === null || m[name] === undefined ? 'n/a' : formatFixed(m[name]!, digits));
  const lines = [
    `${r.split} split: ${r.rows} rows, ${r.backend} backend, ${formatFixed(r.seconds, 1)} s`,
    `retrieval (${r.ranking.score}): ${r.ranking.n_queries} queries (the split's anchors) over ${r.corpus} ` +
      "texts (its positives and hard negatives); relevant: the query's positives",
  ];
  for (const k of r.ranking.k)
    lines.push(
      `  @${String(k).padEnd(3)} ndcg ${f(`ndcg@${k}`)}  recall ${f(`recall@${k}`)}  mrr ${f(`mrr@${k}`)}  ` +
        `map ${f(`map@${k}`)}`,
    );
  return `${lines.join('\n')}\n`;
}

/** The markdown report (CI job summaries): gates, then the metrics table. */
export function embeddingReportMarkdown(r: EmbeddingEvalReport, digits = 4): string {
  const out = [`### recsys eval: ${r.split} split, ${r.rows} rows (bi-encoder retrieval)`, ''];
  if (r.gates) {
    out.push('| | metric | value | condition |', '|---|---|---:|---|');
    for (const g of r.gates.results)
      out.push(
        `| ${g.passed ? '✅' : '❌'} | ${g.metric} | ${g.value === null ? 'n/a' : formatFixed(g.value, 6)} | ` +
          `${g.condition} |`,
      );
    out.push('');
  }
  out.push('| k | nDCG | recall | MRR | MAP |', '|---:|---:|---:|---:|---:|');
  const m = r.ranking.metrics;
  const f = (name: string) => (m[name] === null || m[name] === undefined ? 'n/a' : formatFixed(m[name]!, digits));
  for (const k of r.ranking.k)
    out.push(`| ${k} | ${f(`ndcg@${k}`)} | ${f(`recall@${k}`)} | ${f(`mrr@${k}`)} | ${f(`map@${k}`)} |`);
  return `${out.join('\n')}\n`;
}

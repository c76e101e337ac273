import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../backend/index.js';
import type { RecsysConfig } from '../config/schema.js';
import type { InferenceModel } from '../infer/model.js';
import { readManifest, type DatasetManifest } from '../data/manifest.js';
import { writeFileAtomic, writeJsonAtomic } from '../lib/atomic.js';
import { UsageError } from '../lib/errors.js';
import { ensureWritableDir, ensureWritableFile } from '../lib/fs-errors.js';
import { catchInterrupts } from '../lib/interrupt.js';
import type { Logger } from '../lib/log.js';
import { rowsProgress } from '../lib/progress.js';
import { checkDatasetMatchesRun } from '../run/compat.js';
import { buildGates, evaluateGates, gateTopKs, parseBaseline, parseGateArg, type GateReport } from './gates.js';
import { GroupedRanking, pairScoring } from './grouped.js';
import { parseRankingMetric } from './ranking.js';
import { htmlReport, readTrainingCurves } from './html.js';
import { defaultTopK, flatMetrics } from './metrics.js';
import { buildReport, REPORT_FORMAT, REPORT_VERSION } from './report.js';
import { evaluateHeadModel } from './head-evaluation.js';
import type { HeadReport } from './head-report.js';
import { isHeadTask } from './heads.js';
import type { EvalSplitResult } from './run.js';
import {
  checkEmbeddingGateNames,
  EMBEDDING_BASELINE_METRICS,
  type EmbeddingEvalReport,
  type EmbeddingSplitResult,
  evaluateEmbeddingSplit,
  recordedPooling,
} from './embedding-eval.js';
import { exportSource, runSource, type EvalSource } from './source.js';

/** What `recsys eval` is asked: the resolved config plus the options that are not config keys. */
export interface EvalRequest {
  config: RecsysConfig;
  /** An export directory (or an .onnx file in one); otherwise the run dir is config.train.out. */
  model?: string;
  threads?: number;
  /** Gates from flags, on top of eval.min / eval.max. */
  min?: string[];
  max?: string[];
  baselineMetrics?: string;
  topK?: string;
  /** Write DIR/index.html and DIR/report.json. */
  report?: string;
  predictions?: string;
  progress: boolean;
  verbose?: boolean;
  log: Logger;
}

export interface Evaluation {
  /** A classification report, a regression / multi-label one (head-report.ts) or a bi-encoder's. */
  report: ReturnType<typeof buildReport> | HeadReport | EmbeddingEvalReport;
  gates: GateReport | null;
}

/** A previous report to compare with (eval.baseline / --baseline), read before any model work. */
function baselineOf(config: RecsysConfig): { file: string; report: ReturnType<typeof parseBaseline> } | null {
  const file = config.eval.baseline;
  if (!file) return null;
  if (!existsSync(file)) throw new UsageError(`${file}: baseline report not found`);
  return { file, report: parseBaseline(file, readFileSync(file, 'utf8')) };
}

/**
 * A bi-encoder run or export: the retrieval metrics of the split (eval/embedding-eval.ts), gated on
 * those metrics only. No predictions file: there is no label per row.
 */
async function evaluateEmbedding(
  req: EvalRequest,
  source: EvalSource,
  data: { dir: string; manifest: DatasetManifest },
  split: string,
): Promise<Evaluation> {
  const { config } = req;
  const info = data.manifest.splits[split as keyof DatasetManifest['splits']]!;
  if (req.predictions)
    throw new UsageError('recsys eval: --predictions needs a classifier; a bi-encoder has no labels');
  const flagBaselineMetrics = req.baselineMetrics
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const baselineMetrics = flagBaselineMetrics ?? config.eval.baseline_metrics ?? undefined;
  const parse = (spec: string, flag: string) => [parseGateArg(spec, flag).metric, `${flag} ${spec}`];
  checkEmbeddingGateNames([
    ...Object.keys(config.eval.min).map((m): [string, string] => [m, `eval.min.${m}`]),
    ...Object.keys(config.eval.max).map((m): [string, string] => [m, `eval.max.${m}`]),
    ...(req.min ?? []).map((g) => parse(g, '--min') as [string, string]),
    ...(req.max ?? []).map((g) => parse(g, '--max') as [string, string]),
    ...(baselineMetrics ?? []).map((m): [string, string] => [m, 'baseline metrics']),
  ]);
  const gateMetrics = [...Object.keys(config.eval.min), ...(req.min ?? []).map((g) => parseGateArg(g, '--min').metric)];
  const { specs, skipped } = buildGates(
    {
      configMin: config.eval.min,
      configMax: config.eval.max,
      min: req.min,
      max: req.max,
      baseline: baselineOf(config),
      maxDrop: config.eval.max_drop,
      baselineMetrics: baselineMetrics ?? [...new Set([...EMBEDDING_BASELINE_METRICS, ...gateMetrics])],
      baselineMetricsSource: flagBaselineMetrics ? '--baseline-metrics' : 'eval.baseline_metrics',
    },
    { labels: [], ranking: EMBEDDING_BASELINE_METRICS },
  );
  const pooling = recordedPooling(source.manifest);
  const interrupts = catchInterrupts();
  let model: InferenceModel | undefined;
  let result: EmbeddingSplitResult;
  try {
    model = await source.open();
    if (source.kind === 'export') req.log.info(`model: ${model.modelPath} in ${model.runtime}`);
    const file = path.join(data.dir, info.file);
    result = await evaluateEmbeddingSplit(model, {
      file,
      expectedRows: info.rows,
      pooling,
      batchSize: config.eval.batch_size,
    });
  } finally {
    await model?.close();
    interrupts.release();
  }
  const gates = specs.length || skipped.length ? evaluateGates(specs, result.ranking.metrics, skipped) : null;
  const report: EmbeddingEvalReport = {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    task: 'embedding',
    created: new Date().toISOString(),
    split,
    rows: result.rows,
    corpus: result.corpus,
    pooling,
    source: {
      run: source.kind === 'run' ? source.dir : null,
      export: source.kind === 'export' ? source.dir : null,
      model: model.modelPath,
      model_sha256: model.modelSha256,
      dataset: data.dir,
      dataset_sha256: data.manifest.dataset_sha256,
      split_file: info.file,
      split_sha256: info.sha256,
    },
    backend: model.backend,
    seconds: result.seconds,
    rows_per_second: result.seconds > 0 ? result.rows / result.seconds : 0,
    ranking: result.ranking,
    gates,
  };
  if (req.report) {
    const dir = path.resolve(req.report);
    await writeJsonAtomic(path.join(dir, 'report.json'), report);
    req.log.info(`report: ${path.join(dir, 'report.json')}`);
  }
  return { report, gates };
}

/** The run or export the request names. */
async function sourceOf(req: EvalRequest): Promise<EvalSource> {
  if (req.model !== undefined) return exportSource(path.resolve(req.model), req.threads, req.log);
  const runDir = req.config.train.out;
  if (!runDir)
    throw new UsageError(
      'recsys eval: --run RUN_DIR or --model EXPORT_DIR is required (or train.out in a config file)',
    );
  return runSource(runDir, {
    backend: req.config.backend as BackendName,
    compiled: { mode: req.config.eval.compiled, key: 'eval.compiled' },
    verbose: req.verbose,
    log: req.log,
  });
}

/** The dataset: data.out, else the one the run or export records; checked against the model's manifest. */
function datasetOf(req: EvalRequest, source: EvalSource): { dir: string; manifest: DatasetManifest } {
  const found = source.recordedData.find(([d]) => d);
  const dir = req.config.data.out ?? found?.[0];
  if (!dir) {
    throw new UsageError(
      `recsys eval: --data DATASET_DIR is required: ${source.dir} does not record its dataset ` +
        `(${source.recordedData.map(([, where]) => where).join(', ')})`,
    );
  }
  if (!req.config.data.out) req.log.info(`dataset: ${dir} (recorded in ${source.dir})`);
  const manifest = readManifest(dir);
  checkDatasetMatchesRun(source.dir, source.manifest, dir, manifest);
  return { dir, manifest };
}

/** k values for top-k accuracy: --top-k, else eval.top_k, else 2, 3, 5 below the class count. */
function topKOf(req: EvalRequest, labels: string[]): number[] {
  const { config } = req;
  const from =
    req.topK !== undefined
      ? `--top-k ${req.topK}`
      : config.eval.top_k
        ? `eval.top_k ${JSON.stringify(config.eval.top_k)}`
        : null;
  if (!from) return defaultTopK(labels.length);
  if (labels.length <= 2)
    throw new UsageError(
      `recsys eval: ${from}: top-k accuracy needs more than 2 classes (this task has ${labels.length})`,
    );
  const topK =
    req.topK !== undefined
      ? String(req.topK)
          .split(',')
          .map((s) => Number(s.trim()))
      : config.eval.top_k!;
  const bad = topK.find((k) => !Number.isInteger(k) || k < 2 || k >= labels.length);
  if (bad !== undefined)
    throw new UsageError(
      `recsys eval: ${from}: each k must be an integer with 1 < k < ${labels.length} (the number of classes)`,
    );
  return topK;
}

/**
 * Metrics of a run's model (on a tfjs backend) or of an exported ONNX model (in onnxruntime-node,
 * the artifact that is deployed) on a prepared split, the report files, and the quality gates.
 * Usage and data errors (gates, dataset, split) come before any model work.
 */
export async function evaluateModel(req: EvalRequest): Promise<Evaluation> {
  const { config, log } = req;
  // Output locations are checked before the model is loaded, not after the whole split ran.
  if (req.report) ensureWritableDir(path.resolve(req.report), 'report', { keep: false });
  if (req.predictions) ensureWritableFile(path.resolve(req.predictions), 'predictions');
  const source = await sourceOf(req);
  const data = datasetOf(req, source);
  const split = config.eval.split;
  const info = data.manifest.splits[split];
  if (!info || info.rows === 0) {
    const withRows = Object.entries(data.manifest.splits)
      .filter(([, s]) => s && s.rows > 0)
      .map(([name, s]) => `${name} (${s!.rows})`);
    throw new UsageError(
      `${data.dir}: ${info ? `the "${split}" split is empty` : `no "${split}" split`}; splits with ` +
        `rows: ${withRows.join(', ') || 'none'} (choose one with --split)`,
    );
  }

  if (data.manifest.task === 'embedding') return evaluateEmbedding(req, source, data, split);

  // Regression and multi-label heads: their own metrics, report and gates.
  const task = source.manifest.task;
  if (isHeadTask(task)) return evaluateHeadModel(req, task, source, data, info);

  // Gates are checked before any model work, so a typo fails in a second.
  const labels = source.manifest.labels;
  const groupColumn = data.manifest.columns.group;
  const rankK = groupColumn ? Math.max(...config.rank.k) : 0;
  const rankingSpace = groupColumn ? [`ndcg@${rankK}`, `mrr@${rankK}`, `recall@${rankK}`] : undefined;
  const baseline = baselineOf(config);
  const flagBaselineMetrics = req.baselineMetrics
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const { specs, skipped } = buildGates(
    {
      configMin: config.eval.min,
      configMax: config.eval.max,
      min: req.min,
      max: req.max,
      baseline,
      maxDrop: config.eval.max_drop,
      baselineMetrics: flagBaselineMetrics ?? config.eval.baseline_metrics ?? undefined,
      baselineMetricsSource: flagBaselineMetrics ? '--baseline-metrics' : 'eval.baseline_metrics',
    },
    { labels, ranking: rankingSpace },
  );
  // A label without a gain fails here rather than after the split ran.
  const scoring = groupColumn ? pairScoring(labels, config.rank) : undefined;
  const cutoffs = specs.map((g) => parseRankingMetric(g.metric)?.k).filter((k): k is number => k !== undefined);
  const rankConfig = { ...config.rank, k: [...new Set([...config.rank.k, ...cutoffs])].sort((a, b) => a - b) };
  const ranking = scoring ? new GroupedRanking(labels, scoring, rankConfig, groupColumn) : undefined;
  if (baseline) {
    const b = baseline.report;
    if (b.split !== split)
      log.warn(`baseline ${baseline.file} is from the ${b.split} split, this evaluation is on ${split}`);
    if (b.source?.split_sha256 && b.source.split_sha256 !== info.sha256)
      log.warn(`baseline ${baseline.file} was computed on other data (split sha256 differs)`);
  }
  const topK = [...new Set([...topKOf(req, labels), ...gateTopKs(specs)])];

  // Ctrl-C / SIGTERM from here on: stop between batches, write nothing, exit 130 / 143.
  const interrupts = catchInterrupts();
  let result: EvalSplitResult;
  let model: InferenceModel;
  try {
    const { evaluateSplit } = await import('./run.js');
    model = await source.open();
    if (source.kind === 'export') log.info(`model: ${model.modelPath} in ${model.runtime}`);
    const bar = rowsProgress('evaluating', req.progress, info.rows);
    try {
      result = await evaluateSplit(model, {
        file: path.join(data.dir, info.file),
        expectedRows: info.rows,
        expectedSha256: info.sha256,
        labels,
        maxLength: data.manifest.max_length,
        batchSize: config.eval.batch_size,
        topK,
        predictions: req.predictions ? path.resolve(req.predictions) : undefined,
        onProgress: bar?.tick,
        interrupted: () => interrupts.signal,
        ranking,
      });
    } finally {
      bar?.stop();
      await model.close();
    }
  } finally {
    interrupts.release();
  }

  const report = buildReport(result.metrics, {
    split,
    run: source.kind === 'run' ? source.dir : null,
    export: source.kind === 'export' ? source.dir : null,
    model: model.modelPath,
    modelSha256: model.modelSha256,
    dataset: data.dir,
    datasetSha256: data.manifest.dataset_sha256,
    splitFile: info.file,
    splitSha256: result.sha256,
    backend: model.backend,
    seconds: result.seconds,
  });
  if (result.ranking) report.ranking = result.ranking;
  else if (ranking)
    log.warn(
      `${data.dir}: the manifest names group column "${groupColumn}" but the shards do not carry it ` +
        '(prepared by an older recsys); re-run recsys prepare for per-query ranking metrics',
    );
  let gates: GateReport | null = null;
  if (specs.length || skipped.length) {
    gates = evaluateGates(specs, { ...flatMetrics(result.metrics), ...result.ranking?.metrics }, skipped);
    report.gates = gates;
  }
  if (req.report) {
    const dir = path.resolve(req.report);
    await writeJsonAtomic(path.join(dir, 'report.json'), report);
    const curves = source.metricsFile ? readTrainingCurves(source.metricsFile) : [];
    await writeFileAtomic(path.join(dir, 'index.html'), htmlReport(report, { curves }));
    log.info(`report: ${path.join(dir, 'index.html')} (+ report.json)`);
  }
  if (req.predictions) log.info(`predictions: ${path.resolve(req.predictions)}`);
  return { report, gates };
}

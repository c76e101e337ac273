import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { BackendName } from '../backend/index.js';
import { flagOverrides, type CommonOptions } from '../cli.js';
import { loadConfig } from '../config/load.js';
import { MANIFEST_FILE, readManifest, type DatasetManifest } from '../data/manifest.js';
import { checkDatasetMatchesRun } from '../eval/compat.js';
import {
  buildGates,
  evaluateGates,
  gateLines,
  gateSummary,
  gateTopKs,
  parseBaseline,
  type GateReport,
} from '../eval/gates.js';
import { htmlReport, readTrainingCurves } from '../eval/html.js';
import { defaultTopK, flatMetrics } from '../eval/metrics.js';
import type { ExportDir, OpenedModel } from '../eval/models.js';
import { buildReport, markdownReport, textReport } from '../eval/report.js';
import { writeFileAtomic, writeJsonAtomic } from '../lib/atomic.js';
import { GateError, UsageError } from '../lib/errors.js';
import { ensureWritableDir, ensureWritableFile } from '../lib/fs-errors.js';
import { makeLogger } from '../lib/log.js';
import { rowsProgress } from '../lib/progress.js';

export interface EvalFlags extends CommonOptions {
  run?: string;
  model?: string;
  threads?: number | string;
  data?: string;
  split?: string;
  backend?: string;
  batchSize?: number | string;
  topK?: string;
  markdown?: boolean;
  report?: string;
  predictions?: string;
  min?: string[];
  max?: string[];
  baseline?: string;
  maxDrop?: number | string;
  baselineMetrics?: string;
  digits?: number | string;
  progress?: boolean;
}

/** Plain flags that are config keys (relative paths are cwd-relative). */
const FLAGS = {
  run: 'train.out',
  data: 'data.out',
  split: 'eval.split',
  backend: 'backend',
  batchSize: 'eval.batch_size',
  baseline: 'eval.baseline',
  maxDrop: 'eval.max_drop',
};

function intFlag(v: unknown, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`recsys eval: ${flag} expects an integer >= ${min}, got "${v}"`);
  return n;
}

/** The dataset the run was trained on, as its resolved config.yaml names it (data.out). */
function datasetFromRunConfig(runDir: string): string | undefined {
  const file = path.join(runDir, 'config.yaml');
  if (!existsSync(file)) return undefined;
  try {
    const out = (YAML.parse(readFileSync(file, 'utf8')) as { data?: { out?: unknown } } | null)?.data?.out;
    return typeof out === 'string' && out ? path.resolve(runDir, out) : undefined;
  } catch {
    return undefined;
  }
}

function readRunManifest(runDir: string): DatasetManifest {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory())
    throw new UsageError(`${runDir}: run directory not found`);
  for (const f of [path.join('model', 'config.json'), MANIFEST_FILE]) {
    if (!existsSync(path.join(runDir, f))) {
      throw new UsageError(
        `${runDir}: no ${f}; not a recsys run directory (see docs/run-dir.md), or a run that has not saved a model yet`,
      );
    }
  }
  return readManifest(runDir);
}

/** What is evaluated: a run directory's model (tfjs), or an export directory's ONNX file (onnxruntime). */
interface Source {
  kind: 'run' | 'export';
  /** RUN_DIR or EXPORT_DIR. */
  dir: string;
  /** The preprocessing contract the model was trained with. */
  manifest: DatasetManifest;
  /** Where the dataset is recorded, in order of preference: [dir, where it was found]. */
  recordedData: Array<[string | undefined, string]>;
  /** Training curves for the HTML report (run dirs only). */
  metricsFile: string | null;
  open(): Promise<OpenedModel>;
}

function runSource(
  runDir: string,
  config: ReturnType<typeof loadConfig>,
  opts: EvalFlags,
  log: ReturnType<typeof makeLogger>,
): Source {
  const manifest = readRunManifest(runDir);
  if (!existsSync(path.join(runDir, 'train_summary.json'))) {
    log.warn(
      `${runDir} has no train_summary.json: the run is incomplete or still running; evaluating its current model/`,
    );
  }
  const recorded = (manifest as { dataset_dir?: unknown }).dataset_dir;
  return {
    kind: 'run',
    dir: runDir,
    manifest,
    recordedData: [
      [
        typeof recorded === 'string' && recorded ? path.resolve(runDir, recorded) : undefined,
        'manifest.json dataset_dir',
      ],
      [datasetFromRunConfig(runDir), 'config.yaml data.out'],
    ],
    metricsFile: path.join(runDir, 'metrics.jsonl'),
    open: async () => {
      const { openRunModel } = await import('../eval/models.js');
      return openRunModel(runDir, manifest, { backend: config.backend as BackendName, verbose: opts.verbose, log });
    },
  };
}

function exportSource(exp: ExportDir, threads: number | undefined, log: ReturnType<typeof makeLogger>): Source {
  const recorded = exp.manifest.dataset_dir;
  return {
    kind: 'export',
    dir: exp.dir,
    manifest: exp.manifest,
    recordedData: [
      [
        typeof recorded === 'string' && recorded ? path.resolve(exp.dir, recorded) : undefined,
        'manifest.json dataset_dir',
      ],
      [
        exp.record.check?.dataset_dir ? path.resolve(exp.dir, exp.record.check.dataset_dir) : undefined,
        'export.json check.dataset_dir',
      ],
    ],
    metricsFile: null,
    open: async () => {
      const { openExportModel } = await import('../eval/models.js');
      return openExportModel(exp, log, { threads });
    },
  };
}

/**
 * `recsys eval --run RUN_DIR | --model EXPORT_DIR [--data DATASET_DIR] [--split test]`: metrics of
 * a run's model (on a tfjs backend) or of an exported ONNX model (in onnxruntime-node, the
 * artifact that is deployed) on a prepared split, reports (text / JSON / markdown / HTML) and
 * quality gates. Exit codes: 0 ok (gates passed), 1 a gate failed, 2 usage/config error, 3 data
 * error (among them a dataset prepared differently from the model's training data).
 */
export async function evalCommand(opts: EvalFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  if (opts.json && opts.markdown)
    throw new UsageError('recsys eval: --json and --markdown are exclusive (use --report DIR to also get the JSON)');
  if (opts.run !== undefined && opts.model !== undefined) {
    throw new UsageError(
      'recsys eval: --run and --model are exclusive (--run RUN_DIR evaluates a run on a tfjs backend, --model EXPORT_DIR its ONNX export)',
    );
  }
  if (opts.model !== undefined && opts.backend !== undefined) {
    throw new UsageError(
      'recsys eval: --backend chooses the tfjs backend of --run; --model runs the ONNX file in onnxruntime-node (CPU) (use --threads N for its threads)',
    );
  }
  if (opts.threads !== undefined && opts.model === undefined)
    throw new UsageError(
      "recsys eval: --threads applies to --model (onnxruntime); --run uses the tfjs backend's threads",
    );
  const config = loadConfig({
    files: opts.config,
    sets: opts.set,
    overrides: flagOverrides(opts as unknown as Record<string, unknown>, FLAGS),
  });
  const digits = intFlag(opts.digits, '--digits', 0) ?? 4;
  const threads = intFlag(opts.threads, '--threads', 1);
  // Output locations are checked before the model is loaded, not after the whole split ran.
  if (opts.report) ensureWritableDir(path.resolve(opts.report), 'report', { keep: false });
  if (opts.predictions) ensureWritableFile(path.resolve(opts.predictions), 'predictions');

  let source: Source;
  if (opts.model !== undefined) {
    const { readExportDir } = await import('../eval/models.js');
    source = exportSource(await readExportDir(path.resolve(opts.model)), threads, log);
  } else {
    const runDir = config.train.out;
    if (!runDir)
      throw new UsageError(
        'recsys eval: --run RUN_DIR or --model EXPORT_DIR is required (or train.out in a config file)',
      );
    source = runSource(runDir, config, opts, log);
  }
  const found = source.recordedData.find(([d]) => d);
  const datasetDir = config.data.out ?? found?.[0];
  if (!datasetDir) {
    throw new UsageError(
      `recsys eval: --data DATASET_DIR is required: ${source.dir} does not record its dataset (${source.recordedData.map(([, where]) => where).join(', ')})`,
    );
  }
  if (!config.data.out) log.info(`dataset: ${datasetDir} (recorded in ${source.dir})`);
  const dataManifest = readManifest(datasetDir);
  checkDatasetMatchesRun(source.dir, source.manifest, datasetDir, dataManifest);
  const split = config.eval.split;
  const info = dataManifest.splits[split];
  if (!info || info.rows === 0) {
    const withRows = Object.entries(dataManifest.splits)
      .filter(([, s]) => s && s.rows > 0)
      .map(([name, s]) => `${name} (${s!.rows})`);
    throw new UsageError(
      `${datasetDir}: ${info ? `the "${split}" split is empty` : `no "${split}" split`}; splits with rows: ${withRows.join(', ') || 'none'} (choose one with --split)`,
    );
  }

  // Gates are checked before any model work, so a typo fails in a second.
  const labels = source.manifest.labels;
  const space = { labels };
  let baseline: { file: string; report: ReturnType<typeof parseBaseline> } | null = null;
  if (config.eval.baseline) {
    const file = config.eval.baseline;
    if (!existsSync(file)) throw new UsageError(`${file}: baseline report not found`);
    baseline = { file, report: parseBaseline(file, readFileSync(file, 'utf8')) };
  }
  const flagBaselineMetrics = opts.baselineMetrics
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const { specs, skipped } = buildGates(
    {
      configMin: config.eval.min,
      configMax: config.eval.max,
      min: opts.min,
      max: opts.max,
      baseline,
      maxDrop: config.eval.max_drop,
      baselineMetrics: flagBaselineMetrics ?? config.eval.baseline_metrics ?? undefined,
      baselineMetricsSource: flagBaselineMetrics ? '--baseline-metrics' : 'eval.baseline_metrics',
    },
    space,
  );
  if (baseline) {
    const b = baseline.report;
    if (b.split !== split)
      log.warn(`baseline ${baseline.file} is from the ${b.split} split, this evaluation is on ${split}`);
    if (b.source?.split_sha256 && b.source.split_sha256 !== info.sha256)
      log.warn(`baseline ${baseline.file} was computed on other data (split sha256 differs)`);
  }
  let topK: number[];
  const topKFrom =
    opts.topK !== undefined
      ? `--top-k ${opts.topK}`
      : config.eval.top_k
        ? `eval.top_k ${JSON.stringify(config.eval.top_k)}`
        : null;
  if (topKFrom) {
    if (labels.length <= 2)
      throw new UsageError(
        `recsys eval: ${topKFrom}: top-k accuracy needs more than 2 classes (this task has ${labels.length})`,
      );
    topK =
      opts.topK !== undefined
        ? String(opts.topK)
            .split(',')
            .map((s) => Number(s.trim()))
        : config.eval.top_k!;
    const bad = topK.find((k) => !Number.isInteger(k) || k < 2 || k >= labels.length);
    if (bad !== undefined)
      throw new UsageError(
        `recsys eval: ${topKFrom}: each k must be an integer with 1 < k < ${labels.length} (the number of classes)`,
      );
  } else topK = defaultTopK(labels.length);
  topK = [...new Set([...topK, ...gateTopKs(specs)])];

  // Ctrl-C / SIGTERM from here on: stop between batches, write nothing, exit 130 / 143.
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => (interrupted = signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await evaluateAndReport(
      opts,
      { config, source, datasetDir, dataManifest, split, info, labels, specs, skipped, topK, digits, log },
      () => interrupted,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

interface Prepared {
  config: ReturnType<typeof loadConfig>;
  source: Source;
  datasetDir: string;
  dataManifest: DatasetManifest;
  split: string;
  info: NonNullable<DatasetManifest['splits']['test']>;
  labels: string[];
  specs: ReturnType<typeof buildGates>['specs'];
  skipped: string[];
  topK: number[];
  digits: number;
  log: ReturnType<typeof makeLogger>;
}

async function evaluateAndReport(
  opts: EvalFlags,
  p: Prepared,
  interrupted: () => NodeJS.Signals | null,
): Promise<void> {
  const { config, source, datasetDir, dataManifest, split, info, labels, specs, skipped, topK, digits, log } = p;
  const { evaluateSplit } = await import('../eval/run.js');
  const model = await source.open();
  if (source.kind === 'export') log.info(`model: ${model.modelPath} in ${model.runtime}`);

  const file = path.join(datasetDir, info.file);
  const bar = rowsProgress('evaluating', opts.progress !== false, info.rows);
  let result;
  try {
    result = await evaluateSplit(model, {
      file,
      expectedRows: info.rows,
      expectedSha256: info.sha256,
      labels,
      padId: dataManifest.tokenizer.special_ids.pad ?? model.padId,
      maxLength: dataManifest.max_length,
      batchSize: config.eval.batch_size,
      topK,
      predictions: opts.predictions ? path.resolve(opts.predictions) : undefined,
      onProgress: bar?.tick,
      interrupted,
    });
  } finally {
    bar?.stop();
    await model.close();
  }

  const report = buildReport(result.metrics, {
    split,
    run: source.kind === 'run' ? source.dir : null,
    export: source.kind === 'export' ? source.dir : null,
    model: model.modelPath,
    modelSha256: model.modelSha256,
    dataset: datasetDir,
    datasetSha256: dataManifest.dataset_sha256,
    splitFile: info.file,
    splitSha256: result.sha256,
    backend: model.backend,
    seconds: result.seconds,
  });
  let gates: GateReport | null = null;
  if (specs.length || skipped.length) {
    gates = evaluateGates(specs, flatMetrics(result.metrics), skipped);
    report.gates = gates;
  }

  if (opts.report) {
    const dir = path.resolve(opts.report);
    await writeJsonAtomic(path.join(dir, 'report.json'), report);
    const curves = source.metricsFile ? readTrainingCurves(source.metricsFile) : [];
    await writeFileAtomic(path.join(dir, 'index.html'), htmlReport(report, { curves }));
    log.info(`report: ${path.join(dir, 'index.html')} (+ report.json)`);
  }
  if (opts.predictions) log.info(`predictions: ${path.resolve(opts.predictions)}`);

  const lines = gates ? gateLines(gates) : [];
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (opts.markdown) process.stdout.write(markdownReport(report, digits));
  else process.stdout.write(textReport(report, digits));
  if (gates) {
    // In text mode the gate lines are part of the report on stdout; with --json/--markdown stdout
    // stays machine-readable and the lines go to stderr (the JSON/markdown carry them too).
    const write =
      opts.json || opts.markdown ? (s: string) => process.stderr.write(s) : (s: string) => process.stdout.write(s);
    write(`\n${lines.join('\n')}\n`);
    if (!gates.passed) throw new GateError(gateSummary(gates));
    write(`${gateSummary(gates)}\n`);
  }
}

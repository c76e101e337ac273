import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import YAML from 'yaml';
import type { BackendName } from '../backend/index.js';
import { flagOverrides, type CommonOptions } from '../cli.js';
import { loadConfig } from '../config/load.js';
import { MANIFEST_FILE, readManifest, type DatasetManifest } from '../data/manifest.js';
import { checkDatasetMatchesRun, checkModelMatchesManifest } from '../eval/compat.js';
import { buildGates, evaluateGates, gateLines, gateSummary, gateTopKs, parseBaseline, type GateReport } from '../eval/gates.js';
import { htmlReport, readTrainingCurves } from '../eval/html.js';
import { defaultTopK, flatMetrics } from '../eval/metrics.js';
import { buildReport, markdownReport, textReport } from '../eval/report.js';
import { writeFileAtomic, writeJsonAtomic } from '../lib/atomic.js';
import { GateError, UsageError } from '../lib/errors.js';
import { makeLogger } from '../lib/log.js';

export interface EvalFlags extends CommonOptions {
  run?: string;
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

function progressBar(enabled: boolean, total: number) {
  if (!enabled || !process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    { format: 'evaluating [{bar}] {value}/{total} rows | {speed} rows/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  bar.start(total, 0, { speed: 0 });
  return {
    tick: (rows: number) => bar.update(rows, { speed: Math.round(rows / Math.max(1e-3, (Date.now() - t0) / 1000)) }),
    stop: () => bar.stop(),
  };
}

function intFlag(v: unknown, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`recsys eval: ${flag} expects an integer >= ${min}, got "${v}"`);
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
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new UsageError(`${runDir}: run directory not found`);
  for (const f of [path.join('model', 'config.json'), MANIFEST_FILE]) {
    if (!existsSync(path.join(runDir, f))) {
      throw new UsageError(`${runDir}: no ${f}; not a recsys run directory (see docs/run-dir.md), or a run that has not saved a model yet`);
    }
  }
  return readManifest(runDir);
}

/**
 * `recsys eval --run RUN_DIR [--data DATASET_DIR] [--split test]`: metrics of a run's model on a
 * prepared split, reports (text / JSON / markdown / HTML) and quality gates.
 * Exit codes: 0 ok (gates passed), 1 a gate failed, 2 usage/config error, 3 data error (among
 * them a dataset prepared differently from the run's training data).
 */
export async function evalCommand(opts: EvalFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  if (opts.json && opts.markdown) throw new UsageError('recsys eval: --json and --markdown are exclusive (use --report DIR to also get the JSON)');
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts as unknown as Record<string, unknown>, FLAGS) });
  const digits = intFlag(opts.digits, '--digits', 0) ?? 4;

  const runDir = config.train.out;
  if (!runDir) throw new UsageError('recsys eval: --run RUN_DIR is required (or train.out in a config file)');
  const runManifest = readRunManifest(runDir);
  if (!existsSync(path.join(runDir, 'train_summary.json'))) {
    log.warn(`${runDir} has no train_summary.json: the run is incomplete or still running; evaluating its current model/`);
  }
  const recorded = (runManifest as { dataset_dir?: unknown }).dataset_dir;
  const datasetDir =
    config.data.out ?? (typeof recorded === 'string' && recorded ? path.resolve(runDir, recorded) : undefined) ?? datasetFromRunConfig(runDir);
  if (!datasetDir) {
    throw new UsageError(`recsys eval: --data DATASET_DIR is required: ${runDir} does not record its dataset (manifest.json dataset_dir, config.yaml data.out)`);
  }
  if (!config.data.out) log.info(`dataset: ${datasetDir} (recorded in ${runDir})`);
  const dataManifest = readManifest(datasetDir);
  checkDatasetMatchesRun(runDir, runManifest, datasetDir, dataManifest);
  const split = config.eval.split;
  const info = dataManifest.splits[split];
  if (!info || info.rows === 0) {
    const withRows = Object.entries(dataManifest.splits).filter(([, s]) => s && s.rows > 0).map(([name, s]) => `${name} (${s!.rows})`);
    throw new UsageError(
      `${datasetDir}: ${info ? `the "${split}" split is empty` : `no "${split}" split`}; splits with rows: ${withRows.join(', ') || 'none'} (choose one with --split)`,
    );
  }

  // Gates are checked before any model work, so a typo fails in a second.
  const labels = runManifest.labels;
  const space = { labels };
  let baseline: { file: string; report: ReturnType<typeof parseBaseline> } | null = null;
  if (config.eval.baseline) {
    const file = config.eval.baseline;
    if (!existsSync(file)) throw new UsageError(`${file}: baseline report not found`);
    baseline = { file, report: parseBaseline(file, readFileSync(file, 'utf8')) };
  }
  const { specs, skipped } = buildGates(
    {
      configMin: config.eval.min,
      min: opts.min,
      max: opts.max,
      baseline,
      maxDrop: config.eval.max_drop,
      baselineMetrics: opts.baselineMetrics?.split(',').map((s) => s.trim()).filter(Boolean),
    },
    space,
  );
  if (baseline) {
    const b = baseline.report;
    if (b.split !== split) log.warn(`baseline ${baseline.file} is from the ${b.split} split, this evaluation is on ${split}`);
    if (b.source?.split_sha256 && b.source.split_sha256 !== info.sha256) log.warn(`baseline ${baseline.file} was computed on other data (split sha256 differs)`);
  }
  let topK: number[];
  if (opts.topK !== undefined) {
    if (labels.length <= 2) throw new UsageError(`recsys eval: --top-k needs more than 2 classes (this task has ${labels.length})`);
    topK = String(opts.topK).split(',').map((s) => Number(s.trim()));
    const bad = topK.find((k) => !Number.isInteger(k) || k < 2 || k >= labels.length);
    if (bad !== undefined) throw new UsageError(`recsys eval: --top-k ${opts.topK}: each k must be an integer with 1 < k < ${labels.length} (the number of classes)`);
  } else topK = defaultTopK(labels.length);
  topK = [...new Set([...topK, ...gateTopKs(specs)])];

  // Ctrl-C / SIGTERM from here on: stop between batches, write nothing, exit 130 / 143.
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => (interrupted = signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await evaluateAndReport(opts, { config, runDir, runManifest, datasetDir, dataManifest, split, info, labels, specs, skipped, topK, digits, log }, () => interrupted);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

interface Prepared {
  config: ReturnType<typeof loadConfig>;
  runDir: string;
  runManifest: DatasetManifest;
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

async function evaluateAndReport(opts: EvalFlags, p: Prepared, interrupted: () => NodeJS.Signals | null): Promise<void> {
  const { config, runDir, runManifest, datasetDir, dataManifest, split, info, labels, specs, skipped, topK, digits, log } = p;
  // TensorFlow.js and the model code load only now: usage and data errors above come fast.
  const [{ initBackend }, { loadInferenceModel }, { evaluateSplit }] = await Promise.all([
    import('../backend/index.js'),
    import('../predict/model-source.js'),
    import('../eval/run.js'),
  ]);
  const backend = await initBackend(config.backend as BackendName, { log: log.info, verbose: opts.verbose });
  const modelDir = path.join(runDir, 'model');
  const model = await loadInferenceModel(modelDir, { maxLength: runManifest.max_length });
  for (const m of model.messages) log.debug(m);
  checkModelMatchesManifest(modelDir, model.config, runManifest);

  const file = path.join(datasetDir, info.file);
  const bar = progressBar(opts.progress !== false, info.rows);
  let result;
  try {
    result = await evaluateSplit(model, {
      file,
      expectedRows: info.rows,
      expectedSha256: info.sha256,
      labels,
      padId: dataManifest.tokenizer.special_ids.pad ?? model.tokenizer.specialIds.pad,
      maxLength: dataManifest.max_length,
      batchSize: config.eval.batch_size,
      topK,
      predictions: opts.predictions ? path.resolve(opts.predictions) : undefined,
      onProgress: bar?.tick,
      interrupted,
    });
  } finally {
    bar?.stop();
  }

  const report = buildReport(result.metrics, {
    split,
    run: runDir,
    model: modelDir,
    dataset: datasetDir,
    datasetSha256: dataManifest.dataset_sha256,
    splitFile: info.file,
    splitSha256: result.sha256,
    backend: backend.name,
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
    const curves = readTrainingCurves(path.join(runDir, 'metrics.jsonl'));
    await writeFileAtomic(path.join(dir, 'index.html'), htmlReport(report, { curves }));
    log.info(`report: ${path.join(dir, 'index.html')} (+ report.json)`);
  }
  if (opts.predictions) log.info(`predictions: ${path.resolve(opts.predictions)}`);

  const lines = gates ? gateLines(gates) : [];
  if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else if (opts.markdown) process.stdout.write(markdownReport(report, digits));
  else process.stdout.write(textReport(report, digits));
  if (gates) {
    // In text mode the gate lines are part of the report on stdout; with --json/--markdown stdout
    // stays machine-readable and the lines go to stderr (the JSON/markdown carry them too).
    const write = opts.json || opts.markdown ? (s: string) => process.stderr.write(s) : (s: string) => process.stdout.write(s);
    write('\n' + lines.join('\n') + '\n');
    if (!gates.passed) throw new GateError(gateSummary(gates));
    write(gateSummary(gates) + '\n');
  }
}

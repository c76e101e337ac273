import { flagOverrides, type CommonOptions } from './options.js';
import { loadConfig } from '../config/load.js';
import { embeddingReportMarkdown, embeddingReportText, isEmbeddingReport } from '../eval/embedding-eval.js';
import { evaluateModel } from '../eval/evaluation.js';
import { gateLines, gateSummary } from '../eval/gates.js';
import { headReportText, isHeadReport } from '../eval/head-report.js';
import { markdownReport, textReport } from '../eval/report.js';
import { GateError, UsageError } from '../lib/errors.js';
import { makeLogger } from '../lib/log.js';

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
  digits: 'eval.digits',
  threads: 'eval.threads',
};

/** Flags that only make sense together or apart, checked before anything is read. */
function checkFlagCombinations(opts: EvalFlags): void {
  if (opts.json && opts.markdown)
    throw new UsageError('recsys eval: --json and --markdown are exclusive (use --report DIR to also get the JSON)');
  if (opts.run !== undefined && opts.model !== undefined)
    throw new UsageError(
      'recsys eval: --run and --model are exclusive (--run RUN_DIR evaluates a run on a tfjs ' +
        'backend, --model EXPORT_DIR its ONNX export)',
    );
  if (opts.model !== undefined && opts.backend !== undefined)
    throw new UsageError(
      'recsys eval: --backend chooses the tfjs backend of --run; --model runs the ONNX file in ' +
        'onnxruntime-node (CPU) (use --threads N for its threads)',
    );
  if (opts.threads !== undefined && opts.model === undefined)
    throw new UsageError(
      "recsys eval: --threads applies to --model (onnxruntime); --run uses the tfjs backend's threads",
    );
}

/**
 * `recsys eval --run RUN_DIR | --model EXPORT_DIR [--data DATASET_DIR] [--split test]`: the report
 * of eval/evaluation.ts as text, JSON or markdown, and the gates. Exit codes: 0 ok (gates passed),
 * 1 a gate failed, 2 usage/config error, 3 data error.
 */
export async function evalCommand(opts: EvalFlags): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  checkFlagCombinations(opts);
  const config = loadConfig({
    files: opts.config,
    sets: opts.set,
    overrides: flagOverrides(opts as unknown as Record<string, unknown>, FLAGS),
  });
  const digits = config.eval.digits;
  const { report, gates } = await evaluateModel({
    config,
    model: opts.model,
    threads: config.eval.threads ?? undefined,
    min: opts.min,
    max: opts.max,
    baselineMetrics: opts.baselineMetrics,
    topK: opts.topK,
    report: opts.report,
    predictions: opts.predictions,
    progress: opts.progress !== false,
    verbose: opts.verbose,
    log,
  });
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (isEmbeddingReport(report))
    process.stdout.write((opts.markdown ? embeddingReportMarkdown : embeddingReportText)(report, digits));
  else if (isHeadReport(report)) process.stdout.write(headReportText(report, digits));
  else if (opts.markdown) process.stdout.write(markdownReport(report, digits));
  else process.stdout.write(textReport(report, digits));
  if (!gates) return;
  // In text mode the gate lines are part of the report on stdout; with --json/--markdown stdout
  // stays machine-readable and the lines go to stderr (the JSON/markdown carry them too).
  const out = opts.json || opts.markdown ? process.stderr : process.stdout;
  out.write(`\n${gateLines(gates).join('\n')}\n`);
  if (!gates.passed) throw new GateError(gateSummary(gates));
  out.write(`${gateSummary(gates)}\n`);
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DatasetManifest, SplitInfo } from '../data/manifest.js';
import { writeFileAtomic, writeJsonAtomic } from '../lib/atomic.js';
import { UsageError } from '../lib/errors.js';
import { catchInterrupts } from '../lib/interrupt.js';
import { rowsProgress } from '../lib/progress.js';
import type { EvalRequest } from './evaluation.js';
import { headHtmlReport } from './head-html.js';
import { evaluateHeadSplit } from './head-run.js';
import { buildHeadGates, buildHeadReport, headGateReport, type HeadReport } from './head-report.js';
import type { HeadTask } from './heads.js';
import { readTrainingCurves } from './html.js';
import type { EvalSource } from './source.js';

/**
 * `recsys eval` for a regression or multi-label model: gates checked first, then the split through
 * the model (eval/head-run.ts), the report and its gates. A multi-label model applies the
 * thresholds saved with its run (0.5 when it has none, with a warning).
 */
export async function evaluateHeadModel(
  req: EvalRequest,
  task: HeadTask,
  source: EvalSource,
  data: { dir: string; manifest: DatasetManifest },
  info: SplitInfo,
): Promise<{ report: HeadReport; gates: HeadReport['gates'] }> {
  const { config, log } = req;
  const labels = source.manifest.labels;
  if (req.topK !== undefined || config.eval.top_k)
    throw new UsageError(`recsys eval: top-k accuracy is for single-label classification (this task is ${task})`);
  const baselineFile = config.eval.baseline;
  const specs = buildHeadGates(task, labels, {
    configMin: config.eval.min,
    configMax: config.eval.max,
    min: req.min,
    max: req.max,
    baseline: baselineFile ? { file: baselineFile, report: JSON.parse(readFileSync(baselineFile, 'utf8')) } : null,
    maxDrop: config.eval.max_drop,
    baselineMetrics:
      req.baselineMetrics
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean) ??
      config.eval.baseline_metrics ??
      undefined,
  });
  const interrupts = catchInterrupts();
  try {
    const model = await source.open();
    if (source.kind === 'export') log.info(`model: ${model.modelPath} in ${model.runtime}`);
    if (task === 'multi_label_classification' && !model.thresholds)
      log.warn(`${source.dir}: no thresholds.json; every label is decided at 0.5`);
    const bar = rowsProgress('evaluating', req.progress, info.rows);
    try {
      const r = await evaluateHeadSplit(model, {
        task,
        file: path.join(data.dir, info.file),
        expectedRows: info.rows,
        expectedSha256: info.sha256,
        labels,
        thresholds: model.thresholds,
        maxLength: data.manifest.max_length,
        batchSize: config.eval.batch_size,
        predictions: req.predictions ? path.resolve(req.predictions) : undefined,
        onProgress: bar?.tick,
        interrupted: () => interrupts.signal,
      });
      const report = buildHeadReport({
        task,
        split: config.eval.split,
        labels,
        rows: r.rows,
        thresholds: model.thresholds,
        metrics: r.metrics,
        ...(r.plots ? { plots: r.plots } : {}),
        source: {
          run: source.kind === 'run' ? source.dir : null,
          export: source.kind === 'export' ? source.dir : null,
          model: model.modelPath,
          model_sha256: model.modelSha256,
          dataset: data.dir,
          dataset_sha256: data.manifest.dataset_sha256,
          split_file: info.file,
          split_sha256: r.sha256,
        },
        backend: model.backend,
        seconds: r.seconds,
      });
      report.gates = headGateReport(specs, r.metrics);
      if (req.report) {
        const dir = path.resolve(req.report);
        await writeJsonAtomic(path.join(dir, 'report.json'), report);
        const curves = source.metricsFile ? readTrainingCurves(source.metricsFile) : [];
        await writeFileAtomic(path.join(dir, 'index.html'), headHtmlReport(report, { curves }));
        log.info(`report: ${path.join(dir, 'index.html')} (+ report.json)`);
      }
      return { report, gates: report.gates };
    } finally {
      bar?.stop();
      await model.close();
    }
  } finally {
    interrupts.release();
  }
}

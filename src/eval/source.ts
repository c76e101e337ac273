import path from 'node:path';
import type { DatasetManifest } from '../data/manifest.js';
import { readExportDir } from '../infer/export-dir.js';
import type { InferenceModel, TfjsOptions } from '../infer/model.js';
import type { Logger } from '../lib/log.js';
import { runPaths } from '../run/layout.js';
import { isFinishedRun, readRunManifest, recordedDatasets } from '../run/read.js';

/** What is evaluated: a run directory's model (tfjs), or an export directory's ONNX file (onnxruntime). */
export interface EvalSource {
  kind: 'run' | 'export';
  /** RUN_DIR or EXPORT_DIR. */
  dir: string;
  /** The preprocessing contract the model was trained with. */
  manifest: DatasetManifest;
  /** Where the dataset is recorded, in order of preference: [dir, where it was found]. */
  recordedData: Array<[string | undefined, string]>;
  /** Training curves for the HTML report (run dirs only). */
  metricsFile: string | null;
  open(): Promise<InferenceModel>;
}

/** `--run RUN_DIR`: the run's model on a tfjs backend. */
export function runSource(runDir: string, opts: TfjsOptions): EvalSource {
  const manifest = readRunManifest(runDir);
  if (!isFinishedRun(runDir)) {
    opts.log.warn(
      `${runDir} has no train_summary.json: the run is incomplete or still running; evaluating its current model/`,
    );
  }
  return {
    kind: 'run',
    dir: runDir,
    manifest,
    recordedData: recordedDatasets(runDir, manifest).map((d) => [d.dir, `${path.basename(d.file)} ${d.key}`]),
    metricsFile: runPaths(runDir).metrics,
    open: async () => {
      // TensorFlow.js and the model code load only now: usage and data errors before this come fast.
      const { openRunModel } = await import('../infer/model.js');
      return openRunModel(runDir, manifest, opts);
    },
  };
}

/** `--model EXPORT_DIR` (or an .onnx file inside one): the ONNX file in onnxruntime-node. */
export async function exportSource(target: string, threads: number | undefined, log: Logger): Promise<EvalSource> {
  const exp = await readExportDir(target);
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
      const { openExportModel } = await import('../infer/model.js');
      return openExportModel(exp, log, { threads });
    },
  };
}

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../backend/index.js';
import { MANIFEST_FILE, readManifest, type DatasetManifest } from '../data/manifest.js';
import type { ExportRecord } from '../export/export.js';
import { EXPORT_FILE, EXPORT_FORMAT, exportStateOf, incompleteExportMessage } from '../export/record.js';
import { DataError, UsageError } from '../lib/errors.js';
import { sha256File } from '../lib/hash.js';
import type { Logger } from '../lib/log.js';
import { readBertConfig, type BertConfig } from '../model/config.js';
import { checkModelMatchesManifest } from './compat.js';
import type { EvalModel } from './run.js';
import { readJsonObject } from '../lib/json-file.js';

/**
 * The two models `recsys eval` can evaluate, behind one interface (EvalModel: logits for a padded
 * batch): a run directory's weights on a tfjs backend (`--run`), and the ONNX file of an export
 * directory in onnxruntime-node on the CPU (`--model`), the artifact that gets deployed.
 */

export interface OpenedModel extends EvalModel {
  /** The report's `backend`: the tfjs backend name, or "onnxruntime". */
  backend: string;
  /** One line for the logs, e.g. "onnxruntime-node 1.30.0 (cpu), 2 intra-op threads". */
  runtime: string;
  /** What was evaluated (the report's source.model). */
  modelPath: string;
  /** sha256 of the evaluated model file (ONNX), when known. */
  modelSha256: string | null;
  /** [PAD] id of the model's tokenizer (used when the dataset manifest does not name one). */
  padId: number;
  close(): Promise<void>;
}

const DEFAULT_ONNX = path.join('onnx', 'model.onnx');

// ------------------------------------------------------------------ --run: tfjs

/** The run's `model/` on a tfjs backend, checked against the run manifest. */
export async function openRunModel(
  runDir: string,
  runManifest: DatasetManifest,
  opts: { backend: BackendName; verbose?: boolean; log: Logger },
): Promise<OpenedModel> {
  // TensorFlow.js and the model code load only now: usage and data errors before this come fast.
  const [{ initBackend }, { loadInferenceModel }, { tfjsRunner }, { disposeParams }] = await Promise.all([
    import('../backend/index.js'),
    import('../predict/model-source.js'),
    import('../export/runners.js'),
    import('../model/index.js'),
  ]);
  const backend = await initBackend(opts.backend, { log: opts.log.info, verbose: opts.verbose });
  const modelDir = path.join(runDir, 'model');
  const model = await loadInferenceModel(modelDir, { maxLength: runManifest.max_length });
  for (const m of model.messages) opts.log.debug(m);
  checkModelMatchesManifest(modelDir, model.config, runManifest);
  const runner = tfjsRunner(model.params, model.config);
  return {
    runner,
    numLabels: model.config.id2label.length,
    vocabSize: model.config.vocabSize,
    backend: backend.name,
    runtime: runner.name,
    modelPath: modelDir,
    modelSha256: null,
    padId: model.tokenizer.specialIds.pad,
    async close() {
      disposeParams(model.params);
    },
  };
}

// ------------------------------------------------------------------ --model: an export dir, in onnxruntime

export interface ExportDir {
  /** The export directory (holds manifest.json, config.json, export.json). */
  dir: string;
  /** The ONNX file evaluated: DIR/onnx/model.onnx, or the file given (e.g. onnx/model_quantized.onnx). */
  onnxFile: string;
  manifest: DatasetManifest & { dataset_dir?: string };
  config: BertConfig;
  record: ExportRecord;
}

/**
 * `--model` names an export directory (recsys export), or one ONNX file inside one
 * (EXPORT/onnx/model_quantized.onnx). The directory must carry the preprocessing contract
 * (manifest.json), the model config (labels) and a complete export.json.
 */
export async function readExportDir(target: string): Promise<ExportDir> {
  if (!existsSync(target))
    throw new UsageError(`${target}: not found (--model expects an export directory written by recsys export)`);
  let dir = target;
  let onnxFile = path.join(target, DEFAULT_ONNX);
  if (statSync(target).isFile()) {
    if (!target.endsWith('.onnx'))
      throw new UsageError(
        `${target}: --model expects an export directory (recsys export) or an .onnx file inside one`,
      );
    onnxFile = target;
    dir = path.basename(path.dirname(target)) === 'onnx' ? path.dirname(path.dirname(target)) : path.dirname(target);
  } else if (existsSync(path.join(target, 'model', 'config.json')) && existsSync(path.join(target, MANIFEST_FILE))) {
    throw new UsageError(
      `${target} is a run directory; evaluate it with --run ${target}, or export it first (recsys export --run ${target} --format onnx --out DIR) and pass --model DIR`,
    );
  }
  if (exportStateOf(dir) === 'incomplete') throw new UsageError(incompleteExportMessage(dir));
  if (!existsSync(path.join(dir, MANIFEST_FILE))) {
    throw new UsageError(
      `${dir}: no ${MANIFEST_FILE}; not a recsys export directory (recsys export --format onnx writes one), so the data it was trained on cannot be checked`,
    );
  }
  if (!existsSync(onnxFile)) {
    throw new UsageError(
      `${dir}: no ${path.relative(dir, onnxFile)}; export the run to ONNX first (recsys export --format onnx)`,
    );
  }
  const recordFile = path.join(dir, EXPORT_FILE);
  if (!existsSync(recordFile)) throw new UsageError(incompleteExportMessage(dir));
  const record = readJsonObject(recordFile) as unknown as ExportRecord;
  if (record.format !== EXPORT_FORMAT)
    throw new DataError(`${recordFile}: not a recsys export record (expected "format": "${EXPORT_FORMAT}")`);
  if (!record.formats?.onnx)
    throw new UsageError(
      `${dir}: the export has no ONNX model (formats: ${Object.keys(record.formats ?? {}).join(', ') || 'none'}); re-export with --format onnx`,
    );
  const manifest = readManifest(dir) as ExportDir['manifest'];
  const configFile = path.join(dir, 'config.json');
  if (!existsSync(configFile)) throw new UsageError(`${dir}: no config.json; not a recsys export directory`);
  const config = await readBertConfig(configFile);
  checkModelMatchesManifest(dir, config, manifest);
  return { dir, onnxFile, manifest, config, record };
}

/**
 * The files of the evaluated ONNX model must be the ones export.json recorded (sha256): CI
 * evaluates the artifact that was exported and checked, not a file swapped in afterwards.
 * Returns the model file's sha256.
 */
export async function checkExportFiles(exp: ExportDir, log: Logger): Promise<string> {
  const onnx = exp.record.formats.onnx!;
  const rel = path.relative(exp.dir, exp.onnxFile);
  const recorded = onnx.sha256 ?? {};
  const quantized = onnx.quantized as { file?: string } | undefined;
  if (rel === DEFAULT_ONNX && onnx.status === 'failed') {
    log.warn(
      `${path.join(exp.dir, EXPORT_FILE)}: this ONNX model failed the export's parity check (see parity.json); evaluating it anyway`,
    );
  }
  if (!(rel in recorded)) {
    const known = quantized?.file === rel;
    if (!known)
      log.warn(`${exp.onnxFile} is not listed in ${path.join(exp.dir, EXPORT_FILE)}; its sha256 cannot be checked`);
  }
  let modelSha = '';
  for (const file of [rel, `${rel}_data`]) {
    if (!(file in recorded) && file !== rel) continue;
    const abs = path.join(exp.dir, file);
    if (!existsSync(abs)) throw new DataError(`${abs}: missing, but ${EXPORT_FILE} lists it; re-run recsys export`);
    const sha = await sha256File(abs);
    if (file === rel) modelSha = sha;
    if (file in recorded && recorded[file] !== sha) {
      throw new DataError(
        `${abs}: sha256 ${sha.slice(0, 12)}… differs from ${EXPORT_FILE}'s ${recorded[file].slice(0, 12)}…; the file changed after recsys export (re-export the run)`,
      );
    }
  }
  return modelSha;
}

export interface OnnxOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's, one per physical core). */
  threads?: number;
}

/** The export's ONNX file in onnxruntime-node (CPU execution provider). */
export async function openExportModel(exp: ExportDir, log: Logger, opts: OnnxOptions = {}): Promise<OpenedModel> {
  const [{ onnxRunner }, modelSha256] = await Promise.all([import('../export/runners.js'), checkExportFiles(exp, log)]);
  let runner;
  try {
    runner = await onnxRunner(exp.onnxFile, { threads: opts.threads });
  } catch (err) {
    throw new DataError(`${exp.onnxFile}: onnxruntime cannot load it (${(err as Error).message.split('\n')[0]})`);
  }
  return {
    runner,
    numLabels: exp.config.id2label.length,
    vocabSize: exp.config.vocabSize,
    backend: 'onnxruntime',
    runtime: runner.name,
    modelPath: exp.onnxFile,
    modelSha256,
    padId: exp.manifest.tokenizer.special_ids?.pad ?? 0,
    close: () => runner.close(),
  };
}

import { existsSync } from 'node:fs';
import path from 'node:path';
import { initBackend, type BackendName } from '../backend/index.js';
import { padRows, type EncodedRow, type IdBatch } from '../data/batch.js';
import { readManifest, MANIFEST_FILE } from '../data/manifest.js';
import { loadModelDirTokenizer, type TextTokenizer, type Truncation } from '../data/tokenizer/index.js';
import { resolveModelDir } from '../hub/index.js';
import { DataError, UsageError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { disposeParams, headTask, readBertConfig, type BertConfig, type ProblemType } from '../model/index.js';
import { checkModelMatchesManifest } from '../run/compat.js';
import { runPaths } from '../run/layout.js';
import type { RunManifest } from '../run/read.js';
import { checkExportFiles, type ExportDir } from './export-dir.js';
import { exportStateOf, incompleteExportMessage, onnxStatusOf } from './export-record.js';
import { loadModelDir } from './model-dir.js';
import { readThresholds } from './thresholds.js';
import { type CompiledChoice, compiledRunner } from './compiled.js';
import { onnxRunner, tfjsRunner, type HiddenStates, type LogitsRunner } from './runners.js';

/**
 * One model, whatever it was opened from (a run dir, a Hugging Face model dir, an export dir, a
 * hub id) and whatever runs it (a tfjs backend, onnxruntime-node): the labels and preprocessing
 * it was trained with, and logits for a batch of token ids, padded here and nowhere else.
 */
export interface InferenceModel {
  /** What was opened: a run dir, a Hugging Face model dir, or an export dir's ONNX file. */
  kind: 'run' | 'hf' | 'export';
  labels: string[];
  /** The head (Hugging Face problem_type): predict turns logits into scores by it (activation.ts). */
  headKind: ProblemType;
  /** Multi-label: the per-label decision thresholds saved with the run (thresholds.json); else null. */
  thresholds: number[] | null;
  /** Token ids must be below this (the model's vocab_size). */
  vocabSize: number;
  padId: number;
  maxLength: number;
  truncation: Truncation;
  /** The model's own tokenizer (loaded on first use: eval feeds prepared token ids). */
  readonly tokenizer: TextTokenizer;
  /** The report's `backend`: the tfjs backend name, or "onnxruntime". */
  backend: string;
  /** One line for the logs, e.g. "onnxruntime-node 1.30.0 (cpu)". */
  runtime: string;
  /** What runs: the model dir, or the ONNX file. */
  modelPath: string;
  /** sha256 of the ONNX file when it was checked against export.json. */
  modelSha256: string | null;
  /** Lines for the log (import notes, warnings about the artifact). */
  messages: string[];
  /** Logits of rows of token ids, row-major [rows, labels]: padded to the longest row, one forward pass. */
  forward(rows: EncodedRow[]): Promise<Float32Array>;
  /** The encoder's outputs (last hidden states, pooled) when the runtime has them. */
  hidden?(rows: EncodedRow[]): Promise<HiddenStates>;
  close(): Promise<void>;
}

interface Parts {
  kind: InferenceModel['kind'];
  config: BertConfig;
  padId: number;
  maxLength: number;
  truncation: Truncation;
  tokenizer: () => TextTokenizer;
  backend: string;
  modelPath: string;
  modelSha256?: string | null;
  messages: string[];
  runner: LogitsRunner;
  dispose?: () => void;
  /** Directory that may hold thresholds.json (the model dir or the export dir). */
  thresholdsDir: string;
}

function assemble(p: Parts): InferenceModel {
  const pad = (rows: EncodedRow[]): IdBatch => padRows(rows, p.padId);
  let tokenizer: TextTokenizer | undefined;
  const { runner } = p;
  return {
    kind: p.kind,
    labels: p.config.id2label,
    headKind: headTask(p.config),
    thresholds:
      p.config.problemType === 'multi_label_classification' ? readThresholds(p.thresholdsDir, p.config.id2label) : null,
    vocabSize: p.config.vocabSize,
    padId: p.padId,
    maxLength: p.maxLength,
    truncation: p.truncation,
    get tokenizer() {
      tokenizer ??= p.tokenizer();
      return tokenizer;
    },
    backend: p.backend,
    runtime: runner.name,
    modelPath: p.modelPath,
    modelSha256: p.modelSha256 ?? null,
    messages: p.messages,
    forward: (rows) => runner.run(pad(rows)),
    ...(runner.hidden ? { hidden: (rows: EncodedRow[]) => runner.hidden!(pad(rows)) } : {}),
    async close() {
      p.dispose?.();
      await runner.close();
    },
  };
}

/** A run dir or a Hugging Face model dir, on the tfjs backend already initialised. */
async function openTfjs(
  dir: string,
  kind: 'run' | 'hf',
  backend: string,
  opts: { maxLength?: number; check?: RunManifest; compiled?: CompiledChoice; log: Logger },
) {
  const m = await loadModelDir(dir, { maxLength: opts.maxLength });
  if (opts.check) checkModelMatchesManifest(m.dir, m.config, opts.check);
  const graph = await compiledRunner(m.params, m.config, opts.compiled ?? { mode: 'auto', key: 'compiled' }, opts.log);
  // The graph's session holds the weights from now on: the tfjs copies would only double the memory.
  if (graph) {
    disposeParams(m.params);
    m.messages.push(`forward pass: ${graph.name}`);
  }
  const model = assemble({
    kind,
    config: m.config,
    padId: m.tokenizer.specialIds.pad,
    maxLength: m.maxLength,
    truncation: m.truncation,
    tokenizer: () => m.tokenizer,
    backend,
    modelPath: m.dir,
    messages: m.messages,
    runner: graph ?? tfjsRunner(m.params, m.config),
    dispose: () => disposeParams(m.params),
    thresholdsDir: m.dir,
  });
  // An encoder without a trained head still embeds (hidden states); its logits are refused.
  const untrained = m.untrainedHead;
  if (untrained) model.forward = () => Promise.reject(new UsageError(untrained));
  return model;
}

export interface TfjsOptions {
  backend: BackendName;
  /** The forward pass as one TensorFlow graph (graph-runner.ts) or op by op; default auto. */
  compiled?: CompiledChoice;
  verbose?: boolean;
  log: Logger;
}

/** A run's `model/` on a tfjs backend, checked against the run manifest (labels, max_length). */
export async function openRunModel(runDir: string, manifest: RunManifest, opts: TfjsOptions): Promise<InferenceModel> {
  const backend = await initBackend(opts.backend, { log: opts.log.info, verbose: opts.verbose });
  const model = await openTfjs(runPaths(runDir).model, 'run', backend.name, {
    maxLength: manifest.max_length,
    check: manifest,
    compiled: opts.compiled,
    log: opts.log,
  });
  for (const m of model.messages) opts.log.debug(m);
  return model;
}

/** An export's ONNX file in onnxruntime-node (CPU), its files checked against export.json first. */
export async function openExportModel(
  exp: ExportDir,
  log: Logger,
  opts: { threads?: number } = {},
): Promise<InferenceModel> {
  const modelSha256 = await checkExportFiles(exp, log);
  let runner: LogitsRunner;
  try {
    runner = await onnxRunner(exp.onnxFile, { threads: opts.threads });
  } catch (err) {
    throw new DataError(`${exp.onnxFile}: onnxruntime cannot load it (${(err as Error).message.split('\n')[0]})`);
  }
  return assemble({
    kind: 'export',
    config: exp.config,
    padId: exp.manifest.tokenizer.special_ids?.pad ?? 0,
    maxLength: exp.manifest.max_length,
    truncation: exp.manifest.truncation,
    tokenizer: () => loadModelDirTokenizer(exp.dir),
    backend: 'onnxruntime',
    modelPath: exp.onnxFile,
    modelSha256,
    messages: [],
    runner,
    thresholdsDir: exp.dir,
  });
}

/** An export dir (`recsys export`): onnx/model.onnx + export.json + manifest.json + tokenizer files. */
export function isExportDir(dir: string): boolean {
  return exportStateOf(dir) !== 'none';
}

/** An export dir for predict: its ONNX file, with a warning when its parity check did not pass. */
async function openExportForPredict(dir: string, opts: { maxLength?: number; threads?: number }) {
  const onnx = path.join(dir, 'onnx', 'model.onnx');
  if (!existsSync(onnx))
    throw new UsageError(`${dir}: no onnx/model.onnx; predict runs the ONNX export (export with --format onnx)`);
  const trained = existsSync(path.join(dir, MANIFEST_FILE)) ? readManifest(dir) : undefined;
  const config = await readBertConfig(path.join(dir, 'config.json'));
  const messages = [`model: ${onnx} in onnxruntime-node (cpu)`];
  const status = onnxStatusOf(dir);
  // A failed parity gate keeps the artifact for inspection; predicting with it is allowed, not silent.
  if (status !== 'passed')
    messages.push(`warning: ${path.join(dir, 'export.json')} records the ONNX parity check as ${status}`);
  const tokenizer = loadModelDirTokenizer(dir);
  return assemble({
    kind: 'export',
    config,
    padId: tokenizer.specialIds.pad,
    maxLength: opts.maxLength ?? trained?.max_length ?? Math.min(512, config.maxPositionEmbeddings),
    truncation: trained?.truncation ?? 'longest_first',
    tokenizer: () => tokenizer,
    backend: 'onnxruntime',
    modelPath: onnx,
    messages,
    runner: await onnxRunner(onnx, { threads: opts.threads }),
    thresholdsDir: dir,
  });
}

export interface OpenOptions {
  /** tfjs backend for run and Hugging Face dirs (an export runs in onnxruntime). */
  backend?: BackendName;
  /** Never touch the network when resolving a hub id. */
  offline?: boolean;
  /** Max tokens per row (default: the run's, else the tokenizer's/model's limit). */
  maxLength?: number;
  /** onnxruntime intra-op threads. */
  threads?: number;
  /** Run and Hugging Face dirs on the tensorflow backend: the forward pass as one graph (default auto). */
  compiled?: CompiledChoice;
  verbose?: boolean;
  log: Logger;
}

/**
 * Any model reference: a run dir, a Hugging Face model dir, an export dir (ONNX in
 * onnxruntime-node), or a hub id org/name (downloaded to the cache unless offline).
 */
export async function openModel(ref: string, opts: OpenOptions): Promise<InferenceModel> {
  const dir = await resolveModelDir(ref, opts.offline ? { offline: true } : {});
  if (isExportDir(dir)) {
    // An interrupted export is refused, not mistaken for a (broken) Hugging Face dir.
    if (exportStateOf(dir) === 'incomplete') throw new UsageError(incompleteExportMessage(dir));
    return openExportForPredict(dir, opts);
  }
  const backend = await initBackend(opts.backend ?? 'auto', { log: opts.log.info, verbose: opts.verbose });
  const kind = existsSync(runPaths(dir).manifest) ? 'run' : 'hf';
  return openTfjs(dir, kind, backend.name, { maxLength: opts.maxLength, compiled: opts.compiled, log: opts.log });
}

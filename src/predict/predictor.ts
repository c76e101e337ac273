import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE, readManifest } from '../data/manifest.js';
import { loadModelDirTokenizer, type TextTokenizer, type Truncation } from '../data/tokenizer/index.js';
import { exportStateOf, incompleteExportMessage } from '../export/record.js';
import { onnxRunner, tfjsRunner, type LogitsRunner } from '../export/runners.js';
import { UsageError } from '../lib/errors.js';
import { readBertConfig } from '../model/index.js';
import { loadInferenceModel } from './model-source.js';

/** What predict needs, whichever runtime computes the logits. */
export interface Predictor {
  labels: string[];
  tokenizer: TextTokenizer;
  maxLength: number;
  truncation: Truncation;
  runner: LogitsRunner;
  /** Whether the logits come from a tfjs backend (then one must be initialised first). */
  usesTfjs: boolean;
  messages: string[];
}

/** An export dir (`recsys export`): onnx/model.onnx + export.json + manifest.json + tokenizer files. */
export function isExportDir(dir: string): boolean {
  return exportStateOf(dir) !== 'none';
}

function onnxStatusOf(dir: string): string {
  try {
    const record = JSON.parse(readFileSync(path.join(dir, 'export.json'), 'utf8')) as {
      formats?: { onnx?: { status?: string } };
    };
    return record.formats?.onnx?.status ?? 'missing';
  } catch {
    return 'unreadable';
  }
}

async function exportPredictor(dir: string, opts: { maxLength?: number; threads?: number }): Promise<Predictor> {
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
  return {
    labels: config.id2label,
    tokenizer: loadModelDirTokenizer(dir),
    maxLength: opts.maxLength ?? trained?.max_length ?? Math.min(512, config.maxPositionEmbeddings),
    truncation: trained?.truncation ?? 'longest_first',
    runner: await onnxRunner(onnx, { threads: opts.threads }),
    usesTfjs: false,
    messages,
  };
}

/** A run dir, a Hugging Face model dir (tfjs), or an export dir (ONNX in onnxruntime-node). */
export async function openPredictor(
  dir: string,
  opts: { maxLength?: number; threads?: number } = {},
): Promise<Predictor> {
  if (isExportDir(dir)) {
    // An interrupted export is refused, not mistaken for a (broken) Hugging Face dir.
    if (exportStateOf(dir) === 'incomplete') throw new UsageError(incompleteExportMessage(dir));
    return exportPredictor(dir, opts);
  }
  const m = await loadInferenceModel(dir, { maxLength: opts.maxLength });
  return {
    labels: m.config.id2label,
    tokenizer: m.tokenizer,
    maxLength: m.maxLength,
    truncation: m.truncation,
    runner: tfjsRunner(m.params, m.config),
    usesTfjs: true,
    messages: m.messages,
  };
}

import { readFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ExportFormat } from '../infer/export-record.js';
import { onnxRunner, type LogitsRunner } from '../infer/runners.js';
import type { Logger } from '../lib/log.js';
import type { InferenceGraph } from './graph.js';
import { IR_VERSION_FOR, writeOnnxModel, type OnnxOpset } from './onnx.js';
import { checkParity, type CheckRows, type ParityResult } from './parity.js';
import type { RunSource } from './run-source.js';
import { SIGNATURE_KEY, writeSavedModel } from './tf/savedmodel.js';
import { savedModelTfjsRunner } from './tf/tfjs-runner.js';

/**
 * The artifacts of an export, each written into the stage directory with a runner that loads it
 * back in its own runtime for the parity check.
 */

/** transformers.js loads it with dtype 'q8'. */
export const QUANTIZED_FILE = 'model_quantized.onnx';

export interface Artifact {
  format: ExportFormat;
  /** Relative to OUT. */
  path: string;
  runner: (stage: string) => Promise<LogitsRunner>;
  extra: Record<string, unknown>;
}

export interface OnnxWriteOptions {
  opset?: OnnxOpset;
  quantize?: 'int8';
  externalDataThreshold?: number;
}

export async function writeOnnx(
  stage: string,
  run: RunSource,
  graph: InferenceGraph,
  opts: OnnxWriteOptions,
): Promise<Artifact> {
  const opset = opts.opset ?? 17;
  await mkdir(path.join(stage, 'onnx'), { recursive: true });
  const file = path.join(stage, 'onnx', 'model.onnx');
  const metadata = {
    'recsys.manifest': JSON.stringify(run.manifest),
    'recsys.weights_sha256': run.weightsSha256,
    'recsys.labels': JSON.stringify(run.config.id2label),
    'recsys.max_length': String(run.manifest.max_length),
  };
  const r = await writeOnnxModel(file, graph, run.params, {
    opset,
    externalDataThreshold: opts.externalDataThreshold,
    producerVersion: recsysVersion(),
    metadata,
  });
  if (opts.quantize) {
    await writeOnnxModel(path.join(stage, 'onnx', QUANTIZED_FILE), graph, run.params, {
      opset,
      quantize: opts.quantize,
      externalDataThreshold: opts.externalDataThreshold,
      producerVersion: recsysVersion(),
      metadata: { ...metadata, 'recsys.quantization': 'int8 dynamic (MatMul weights, per-column symmetric)' },
    });
  }
  return {
    format: 'onnx',
    path: 'onnx',
    runner: (s) => onnxRunner(path.join(s, 'onnx', 'model.onnx')),
    extra: {
      opset,
      ir_version: IR_VERSION_FOR[opset],
      external_data: r.externalData,
      inputs: 'int64 [batch_size, sequence_length]',
      output: 'logits float32 [batch_size, num_labels]',
    },
  };
}

export async function writeSm(stage: string, run: RunSource, graph: InferenceGraph): Promise<Artifact> {
  const dir = path.join(stage, 'savedmodel');
  const r = await writeSavedModel(dir, graph, run.params, {
    assetsExtra: { 'manifest.json': `${JSON.stringify(run.manifest, null, 2)}\n`, ...run.tokenizerFiles },
  });
  return {
    format: 'savedmodel',
    path: 'savedmodel',
    runner: (s) => savedModelTfjsRunner(path.join(s, 'savedmodel')),
    extra: {
      tags: ['serve'],
      signature: SIGNATURE_KEY,
      method: 'tensorflow/serving/predict',
      inputs: 'int32 [-1, -1]',
      output: 'logits float32 [-1, num_labels]',
      nodes: r.nodes,
      variables: r.variables,
    },
  };
}

/**
 * The int8 model is not gated by --atol (quantization moves logits by far more than 1e-4): its
 * accuracy change on the check rows is reported next to its size and speed change.
 */
export async function reportQuantized(
  stage: string,
  rows: CheckRows,
  reference: LogitsRunner,
  run: RunSource,
  float: ParityResult,
  atol: number,
  log: Logger,
): Promise<Record<string, unknown>> {
  const file = path.join(stage, 'onnx', QUANTIZED_FILE);
  const runner = await onnxRunner(file);
  let q: ParityResult;
  try {
    q = await checkParity('onnx-int8', rows, reference, runner, run.config.id2label.length, atol);
  } finally {
    await runner.close();
  }
  const floatBytes = (await stat(path.join(stage, 'onnx', 'model.onnx'))).size;
  const bytes = (await stat(file)).size;
  const doc = {
    status: 'reported',
    file: path.join('onnx', QUANTIZED_FILE),
    quantization:
      'int8 dynamic: MatMul weights per-column symmetric, activations per batch (DynamicQuantizeLinear + MatMulInteger)',
    bytes,
    float_bytes: floatBytes,
    size_ratio: bytes / floatBytes,
    seconds: q.seconds.export,
    float_seconds: float.seconds.export,
    speedup: q.seconds.export > 0 ? float.seconds.export / q.seconds.export : null,
    accuracy: {
      reference: q.accuracy.reference,
      float: float.accuracy.export,
      int8: q.accuracy.export,
      change: q.accuracy.export - float.accuracy.export,
    },
    max_abs_diff: q.max_abs_diff,
    mean_abs_diff: q.mean_abs_diff,
    argmax_agreement: q.argmax_agreement,
    rows: q.rows,
    runtime: q.runtime,
  };
  log.info(
    `quantized onnx (int8): ${(bytes / 1e6).toFixed(1)} MB vs ${(floatBytes / 1e6).toFixed(1)} MB (×${doc.size_ratio.toFixed(2)}), ` +
      `${q.seconds.export.toFixed(2)} s vs ${float.seconds.export.toFixed(2)} s on ${q.rows} rows (×${doc.speedup?.toFixed(2) ?? '-'} speed), ` +
      `accuracy ${(100 * doc.accuracy.int8).toFixed(2)}% vs ${(100 * doc.accuracy.float).toFixed(2)}% (${doc.accuracy.change >= 0 ? '+' : ''}${(100 * doc.accuracy.change).toFixed(2)} pts), ` +
      `argmax agreement ${(100 * q.argmax_agreement).toFixed(2)}%, max |Δlogit| ${q.max_abs_diff.toExponential(2)} (reported, not gated)`,
  );
  return doc;
}

let cachedVersion: string | undefined;
function recsysVersion(): string {
  if (cachedVersion === undefined) {
    try {
      cachedVersion = String(
        JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version ?? '',
      );
    } catch {
      cachedVersion = '';
    }
  }
  return cachedVersion;
}

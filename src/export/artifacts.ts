import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ExportFormat } from '../infer/export-record.js';
import { onnxRunner, type LogitsRunner } from '../infer/runners.js';
import type { InferenceGraph } from '../model/graph/inference-graph.js';
import { QUANTIZATION_DESCRIPTION, QUANTIZED_FILE } from './int8-gate.js';
import { IR_VERSION_FOR, writeOnnxModel, type OnnxOpset } from './onnx.js';
import type { RunSource } from './run-source.js';
import { SIGNATURE_KEY, writeSavedModel } from './tf/savedmodel.js';
import { savedModelTfjsRunner } from './tf/tfjs-runner.js';

/**
 * The artifacts of an export, each written into the stage directory with a runner that loads it
 * back in its own runtime for the parity check.
 */

/** transformers.js loads it with dtype 'q8'. */

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
      metadata: { ...metadata, 'recsys.quantization': QUANTIZATION_DESCRIPTION },
    });
  }
  return {
    format: 'onnx',
    path: 'onnx',
    runner: (s) => onnxRunner(path.join(s, 'onnx', 'model.onnx'), { output: graph.outputs[0].name }),
    extra: {
      opset,
      ir_version: IR_VERSION_FOR[opset],
      external_data: r.externalData,
      inputs: 'int64 [batch_size, sequence_length]',
      output: describeOutputs(graph, 'batch_size'),
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
    runner: (s) => savedModelTfjsRunner(path.join(s, 'savedmodel'), graph.outputs[0].name),
    extra: {
      tags: ['serve'],
      signature: SIGNATURE_KEY,
      method: 'tensorflow/serving/predict',
      inputs: 'int32 [-1, -1]',
      output: describeOutputs(graph, '-1'),
      nodes: r.nodes,
      variables: r.variables,
    },
  };
}

/** What the artifact outputs, e.g. "logits float32 [batch_size, num_labels]" (`dynamic`: the batch axis's name). */
function describeOutputs(graph: InferenceGraph, dynamic: string): string {
  return graph.outputs
    .map((o) => {
      const dims =
        o.name === 'logits'
          ? [dynamic, 'num_labels']
          : o.dims.map((d) => (typeof d === 'string' ? (dynamic === '-1' ? -1 : d) : d));
      return `${o.name} float32 [${dims.join(', ')}]`;
    })
    .join('; ');
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

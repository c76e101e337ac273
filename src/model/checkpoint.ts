import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../lib/atomic.js';
import { DataError } from '../lib/errors.js';
import { parseBertConfig, toHfConfig, type BertConfig } from './config.js';
import { paramSpecs, torchShape, type ParamSpec, type Params } from './params.js';
import { encodeSafetensors } from './safetensors.js';

/**
 * recsys's native checkpoint: the tfjs weights container (export-formats.md §4).
 *   model.json   {format: "recsys-bert", formatVersion, modelTopology: {config: <HF config.json>},
 *                 weightsManifest: [{paths: ["weights.bin"], weights: [{name, shape, dtype}]}],
 *                 userDefinedMetadata: {weightsBytes, weightsSha256, ...caller's metadata}}
 *   weights.bin  the tensors in paramSpecs order, Linear kernels [in, out], float32 little-endian
 * weights.bin is written first and model.json last, each to a temporary name renamed into place;
 * model.json carries the sha256 of weights.bin, so a pair from two different saves is refused.
 */

export const CHECKPOINT_FORMAT = 'recsys-bert';
export const CHECKPOINT_VERSION = 1;
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export interface Checkpoint {
  config: BertConfig;
  params: Params;
  metadata: Record<string, unknown>;
}

function orderedTensors(
  config: BertConfig,
  params: Params,
): Array<{ name: string; tensor: tf.Tensor; spec: ParamSpec }> {
  const specs = paramSpecs(config);
  const known = new Set(specs.map((s) => s.name));
  const extra = [...params.keys()].filter((k) => !known.has(k));
  if (extra.length > 0) throw new Error(`cannot save: parameters not in the BERT table: ${extra.join(', ')}`);
  return specs.map((s) => {
    const t = params.get(s.name);
    if (!t) throw new Error(`cannot save: parameter ${s.name} is missing`);
    if (t.shape.join(',') !== s.shape.join(',')) {
      throw new Error(
        `cannot save: parameter ${s.name} has shape [${t.shape.join(', ')}], config implies [${s.shape.join(', ')}]`,
      );
    }
    return { name: s.name, tensor: t, spec: s };
  });
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

export async function saveCheckpoint(
  dir: string,
  config: BertConfig,
  params: Params,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(
    orderedTensors(config, params).map(({ name, tensor }) => ({ name, tensor })),
  );
  const bytes = new Uint8Array(data as ArrayBuffer);
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, WEIGHTS_BIN), bytes);
  await writeJsonAtomic(path.join(dir, MODEL_JSON), {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_VERSION,
    generatedBy: 'recsys',
    modelTopology: { config: toHfConfig(config), kernelLayout: '[in, out]' },
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: specs }],
    userDefinedMetadata: { ...metadata, weightsBytes: bytes.byteLength, weightsSha256: sha256(bytes) },
  });
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const modelJson = path.join(dir, MODEL_JSON);
  let manifest: {
    format?: unknown;
    formatVersion?: unknown;
    modelTopology?: { config?: unknown };
    weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
    userDefinedMetadata?: Record<string, unknown>;
  };
  try {
    manifest = JSON.parse(await fsp.readFile(modelJson, 'utf8'));
  } catch (e) {
    throw new DataError(`${modelJson}: cannot read the checkpoint (${(e as Error).message})`);
  }
  if (manifest === null || typeof manifest !== 'object')
    throw new DataError(`${modelJson}: not a recsys checkpoint (not a JSON object)`);
  if (manifest.format !== CHECKPOINT_FORMAT) {
    throw new DataError(
      `${modelJson}: not a recsys checkpoint (format ${JSON.stringify(manifest.format)}, expected ` +
        `"${CHECKPOINT_FORMAT}")`,
    );
  }
  if (manifest.formatVersion !== CHECKPOINT_VERSION) {
    throw new DataError(
      `${modelJson}: checkpoint format version ${String(manifest.formatVersion)} is not supported ` +
        `(expected ${CHECKPOINT_VERSION})`,
    );
  }
  const topology = manifest.modelTopology?.config as { architectures?: unknown } | undefined;
  const parsed = parseBertConfig(topology, `${modelJson} (modelTopology.config)`);
  // recsys writes the architecture it saved, so the head of its own checkpoints is known from it.
  const masked = Array.isArray(topology?.architectures) && topology.architectures[0] === 'BertForMaskedLM';
  const config: BertConfig = masked ? { ...parsed, head: 'masked_lm' } : parsed;
  const groups = manifest.weightsManifest ?? [];
  const meta = manifest.userDefinedMetadata ?? {};
  const chunks: Buffer[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  for (const g of groups) {
    for (const p of g.paths)
      chunks.push(
        await fsp.readFile(path.join(dir, p)).catch((e: NodeJS.ErrnoException) => {
          throw new DataError(`${path.join(dir, p)}: cannot read the checkpoint weights (${e.code ?? e.message})`);
        }),
      );
    specs.push(...g.weights);
  }
  const all = Buffer.concat(chunks);
  if (meta.weightsBytes !== undefined && meta.weightsBytes !== all.byteLength) {
    throw new DataError(
      `${dir}: ${WEIGHTS_BIN} has ${all.byteLength} bytes, model.json says ` +
        `${String(meta.weightsBytes)}: incomplete or from another save`,
    );
  }
  if (meta.weightsSha256 !== undefined && meta.weightsSha256 !== sha256(all)) {
    throw new DataError(`${dir}: ${WEIGHTS_BIN} does not match the sha256 in model.json: corrupt or from another save`);
  }
  const buf = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const named = tf.io.decodeWeights(buf, specs);
  const params: Params = new Map();
  for (const s of paramSpecs(config)) {
    const t = named[s.name];
    if (!t || t.shape.join(',') !== s.shape.join(',')) {
      tf.dispose(Object.values(named));
      throw new DataError(
        `${modelJson}: weight ${s.name} is ${t ? `[${t.shape.join(', ')}]` : 'missing'}, config ` +
          `implies [${s.shape.join(', ')}]`,
      );
    }
    params.set(s.name, t);
  }
  const extra = Object.keys(named).filter((k) => !params.has(k));
  if (extra.length > 0) {
    tf.dispose(Object.values(named));
    throw new DataError(`${modelJson}: weights not in the BERT table for this config: ${extra.slice(0, 8).join(', ')}`);
  }
  const { weightsBytes: _b, weightsSha256: _s, ...metadata } = meta;
  return { config, params, metadata };
}

/**
 * Save as a Hugging Face BertForSequenceClassification directory: `config.json` (with id2label,
 * label2id, problem_type) and `model.safetensors` (float32, PyTorch [out, in] kernels, `bert.` names),
 * loadable by `BertForSequenceClassification.from_pretrained(dir)`. With the masked-LM head it is a
 * BertForMaskedLM dir (`cls.predictions.*`, the decoder tied to the word embeddings, no pooler).
 */
export async function saveHfModel(dir: string, config: BertConfig, params: Params): Promise<void> {
  const entries = [];
  for (const { name, tensor, spec } of orderedTensors(config, params)) {
    const t = spec.kind === 'linear' ? tf.transpose(tensor) : tensor;
    const values = (await t.data()) as Float32Array;
    if (t !== tensor) t.dispose();
    entries.push({ name, shape: torchShape(spec), values });
  }
  await fsp.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, 'model.safetensors'), encodeSafetensors(entries, { format: 'pt' }));
  await writeJsonAtomic(path.join(dir, 'config.json'), toHfConfig(config));
}

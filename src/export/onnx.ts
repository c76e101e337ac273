import { createWriteStream } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import onnxProto from 'onnx-proto';
import type { Params } from '../model/index.js';
import { BATCH_AXIS, SEQUENCE_AXIS, type InferenceGraph } from '../model/graph/inference-graph.js';
import { bytesOf, F32, I64, OnnxGraphBuilder } from './onnx-builder.js';
import { weightValues } from './weights.js';
import { lower, type Lowering } from './onnx-lower.js';

/**
 * The ONNX emitter: lowers the inference graph description (model/graph/inference-graph.ts) to an ONNX ModelProto with
 * the contract optimum's BertOnnxConfig produces (export-formats.md §2.1): int64 inputs
 * input_ids / attention_mask / token_type_ids [batch_size, sequence_length], float32 output
 * logits [batch_size, num_labels].
 *
 * Opset 17 (IR 8) uses LayerNormalization; opset 14 (IR 7) decomposes it. GELU is built from Erf
 * (Gelu only exists from opset 20), gelu_new from Tanh. The attention mask becomes an additive
 * bias before Softmax. Initializers carry the weights as raw little-endian float32 under their
 * Hugging Face names; above `externalDataThreshold` bytes they go to an external data file.
 */

const { onnx } = onnxProto;
type ITensor = onnxProto.onnx.ITensorProto;

export type OnnxOpset = 14 | 17;
export const ONNX_OPSETS: readonly OnnxOpset[] = [14, 17];
export const IR_VERSION_FOR: Record<OnnxOpset, number> = { 14: 7, 17: 8 };
/** Protobuf's hard limit is 2 GiB; stay clear of it. */
export const DEFAULT_EXTERNAL_DATA_THRESHOLD = 1.8 * 1024 ** 3;
export const EXTERNAL_DATA_SUFFIX = '_data';

const U8 = onnx.TensorProto.DataType.UINT8;
/** Names of a quantized weight's initializers: `<param>_quantized`, `_scale`, `_zero_point`. */
export const Q_SUFFIX = { weight: '_quantized', scale: '_scale', zeroPoint: '_zero_point' } as const;

export interface OnnxBuildOptions {
  opset?: OnnxOpset;
  /**
   * 'int8': dynamic 8-bit quantization of the dense layers' MatMul weights (as onnxruntime's
   * quantize_dynamic with weight_type QUInt8): weights stored as uint8 with a per-output-column
   * scale, symmetric around zero point 128; at run time DynamicQuantizeLinear quantizes the
   * activation to uint8 and MatMulInteger multiplies, the int32 result is rescaled by activation
   * scale × weight scale. Embeddings, LayerNorm and the attention products stay float32.
   * Why uint8 and not int8 weights: onnxruntime's uint8 × int8 kernel on x86 CPUs without VNNI
   * (AVX2, AVX-512 without VNNI) adds pairs of products in saturating 16-bit lanes (vpmaddubsw),
   * so full-range int8 weights overflow there and the logits move by several times the
   * quantization error; its uint8 × uint8 kernel widens to 16 bits first and gives the same
   * integers on every CPU. 7-bit int8 weights (reduce_range) also avoid the overflow but double the
   * weight step.
   */
  quantize?: 'int8';
  /** metadata_props entries (e.g. the run manifest as JSON). */
  metadata?: Record<string, string>;
  producerVersion?: string;
  docString?: string;
}

const valueInfo = (name: string, elemType: number, dims: Array<number | string>) => ({
  name,
  type: {
    tensorType: {
      elemType,
      shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
    },
  },
});

export interface OnnxModelParts {
  model: onnxProto.onnx.ModelProto;
  /** Weight initializers in graph order (name, float32 values), kept apart so a writer can externalise them. */
  weights: Array<{ name: string; dims: number[] }>;
}

interface WeightSlot {
  name: string;
  dims: number[];
  /** Written as uint8 + per-column scale + zero point instead of float32. */
  quantized: boolean;
}

/** Build the graph without weights data (weight initializers are filled by the writer). */
function buildSkeleton(graph: InferenceGraph, opts: OnnxBuildOptions): { g: OnnxGraphBuilder; weights: WeightSlot[] } {
  const opset = opts.opset ?? 17;
  if (!ONNX_OPSETS.includes(opset)) throw new Error(`ONNX export: opset ${String(opset)} not supported (use 14 or 17)`);
  if (opts.quantize !== undefined && opts.quantize !== 'int8')
    throw new Error(`ONNX export: quantization ${String(opts.quantize)} not supported (use int8)`);
  const g = new OnnxGraphBuilder();
  const L: Lowering = {
    g,
    opset,
    ranks: graph.ranks,
    shapeOf: new Map(),
    quantize: opts.quantize,
    quantized: new Map(),
  };
  const weights: WeightSlot[] = [];
  for (const op of graph.ops) {
    if (op.op === 'input') g.claim(op.out);
    else if (op.op === 'weight') {
      g.claim(op.out);
      weights.push({ name: op.out, dims: op.shape, quantized: false });
    } else lower(op, L);
  }
  const floatUse = new Set(g.nodes.flatMap((n) => n.input ?? []));
  for (const w of weights) {
    w.quantized = L.quantized.has(w.name);
    if (w.quantized && floatUse.has(w.name))
      throw new Error(`ONNX export: weight ${w.name} is read both quantized and as float`);
  }
  return { g, weights };
}

/** The zero point of every quantized weight column: uint8 codes 1..255 stand for -127..127 steps. */
export const WEIGHT_ZERO_POINT = 128;

/**
 * Symmetric per-column 8-bit: W [in, out] → q [in, out] uint8 = round(w / scale) + 128, scale [out]
 * = max |w| of the column / 127 (zero point 128 for every column).
 */
export function quantizeColumns(w: Float32Array, dims: number[]): { q: Uint8Array; scale: Float32Array } {
  const [rows, cols] = dims;
  const scale = new Float32Array(cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) scale[c] = Math.max(scale[c], Math.abs(w[r * cols + c]));
  for (let c = 0; c < cols; c++) scale[c] = scale[c] > 0 ? scale[c] / 127 : 1;
  const q = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++)
      q[r * cols + c] = WEIGHT_ZERO_POINT + Math.max(-127, Math.min(127, Math.round(w[r * cols + c] / scale[c])));
  }
  return { q, scale };
}

async function weightInitializers(params: Params, w: WeightSlot): Promise<ITensor[]> {
  const values = await weightValues(params, w.name, w.dims);
  if (!w.quantized) return [{ name: w.name, dims: w.dims, dataType: F32, rawData: bytesOf(values) }];
  if (w.dims.length !== 2) throw new Error(`ONNX export: cannot quantize ${w.name} of rank ${w.dims.length}`);
  const { q, scale } = quantizeColumns(values, w.dims);
  const cols = w.dims[1];
  return [
    { name: `${w.name}${Q_SUFFIX.weight}`, dims: w.dims, dataType: U8, rawData: q },
    { name: `${w.name}${Q_SUFFIX.scale}`, dims: [cols], dataType: F32, rawData: bytesOf(scale) },
    {
      name: `${w.name}${Q_SUFFIX.zeroPoint}`,
      dims: [cols],
      dataType: U8,
      rawData: new Uint8Array(cols).fill(WEIGHT_ZERO_POINT),
    },
  ];
}

function modelProto(
  graph: InferenceGraph,
  g: OnnxGraphBuilder,
  initializers: ITensor[],
  opts: OnnxBuildOptions,
): onnxProto.onnx.ModelProto {
  const opset = opts.opset ?? 17;
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION_FOR[opset],
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'recsys',
    producerVersion: opts.producerVersion ?? '',
    modelVersion: 1,
    docString: opts.docString ?? 'BertForSequenceClassification exported by recsys',
    graph: {
      name: 'bert_sequence_classification',
      node: g.nodes,
      initializer: [...initializers, ...g.initializers],
      input: graph.inputs.map((n) => valueInfo(n, I64, [BATCH_AXIS, SEQUENCE_AXIS])),
      output: graph.outputs.map((o) => valueInfo(o.name, F32, o.dims)),
    },
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`ONNX export: invalid ModelProto: ${err}`);
  return model;
}

/** The whole model in memory, weights inline (models below the protobuf limit; tests). */
export async function buildOnnxModel(
  graph: InferenceGraph,
  params: Params,
  opts: OnnxBuildOptions = {},
): Promise<Uint8Array> {
  checkEndianness();
  const { g, weights } = buildSkeleton(graph, opts);
  const inits: ITensor[] = [];
  for (const w of weights) inits.push(...(await weightInitializers(params, w)));
  return onnx.ModelProto.encode(modelProto(graph, g, inits, opts)).finish();
}

export interface OnnxWriteResult {
  files: string[];
  externalData: boolean;
  bytes: number;
}

/**
 * Write `file` (and `file` + "_data" when the weights exceed the threshold). The external data
 * file is streamed tensor by tensor, so a multi-GB model never sits in one buffer.
 */
export async function writeOnnxModel(
  file: string,
  graph: InferenceGraph,
  params: Params,
  opts: OnnxBuildOptions & { externalDataThreshold?: number } = {},
): Promise<OnnxWriteResult> {
  checkEndianness();
  const { g, weights } = buildSkeleton(graph, opts);
  const total = weights.reduce((n, w) => n + 4 * w.dims.reduce((a, b) => a * b, 1), 0);
  const threshold = opts.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD;
  const { writeFile } = await import('node:fs/promises');
  if (total <= threshold) {
    const bytes = await buildOnnxModel(graph, params, opts);
    await writeFile(file, bytes);
    return { files: [file], externalData: false, bytes: bytes.byteLength };
  }
  const dataName = `${path.basename(file)}${EXTERNAL_DATA_SUFFIX}`;
  const dataFile = path.join(path.dirname(file), dataName);
  const stream = createWriteStream(dataFile);
  const inits: ITensor[] = [];
  let offset = 0;
  const ALIGN = 4096;
  for (const w of weights) {
    for (const t of await weightInitializers(params, w)) {
      const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
      if (pad) {
        if (!stream.write(new Uint8Array(pad))) await new Promise<void>((r) => stream.once('drain', () => r()));
        offset += pad;
      }
      const bytes = t.rawData as Uint8Array;
      if (!stream.write(bytes)) await new Promise<void>((r) => stream.once('drain', () => r()));
      inits.push({
        name: t.name,
        dims: t.dims,
        dataType: t.dataType,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: dataName },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(bytes.byteLength) },
        ],
      });
      offset += bytes.byteLength;
    }
  }
  stream.end();
  await finished(stream);
  const bytes = onnx.ModelProto.encode(modelProto(graph, g, inits, opts)).finish();
  await writeFile(file, bytes);
  return { files: [file, dataFile], externalData: true, bytes: bytes.byteLength + offset };
}

function checkEndianness(): void {
  if (endianness() !== 'LE')
    throw new Error('ONNX export: raw tensor data is little-endian; this machine is big-endian');
}

/** Decode a model file (tests, reports). */
export function decodeOnnxModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

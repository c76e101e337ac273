import { createWriteStream } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import onnxProto from 'onnx-proto';
import type { Params } from '../model/index.js';
import { BATCH_AXIS, SEQUENCE_AXIS, type GraphOp, type InferenceGraph } from './graph.js';
import { weightValues } from './weights.js';

/**
 * The ONNX emitter: lowers the inference graph description (graph.ts) to an ONNX ModelProto with
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
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
type IAttr = onnxProto.onnx.IAttributeProto;

export type OnnxOpset = 14 | 17;
export const ONNX_OPSETS: readonly OnnxOpset[] = [14, 17];
export const IR_VERSION_FOR: Record<OnnxOpset, number> = { 14: 7, 17: 8 };
/** Protobuf's hard limit is 2 GiB; stay clear of it. */
export const DEFAULT_EXTERNAL_DATA_THRESHOLD = 1.8 * 1024 ** 3;
export const EXTERNAL_DATA_SUFFIX = '_data';

const F32 = onnx.TensorProto.DataType.FLOAT;
const I64 = onnx.TensorProto.DataType.INT64;
const U8 = onnx.TensorProto.DataType.UINT8;
/** Names of a quantized weight's initializers: `<param>_quantized`, `_scale`, `_zero_point`. */
export const Q_SUFFIX = { weight: '_quantized', scale: '_scale', zeroPoint: '_zero_point' } as const;
const AT = onnx.AttributeProto.AttributeType;

const attrI = (name: string, i: number): IAttr => ({ name, type: AT.INT, i });
const attrF = (name: string, f: number): IAttr => ({ name, type: AT.FLOAT, f });
const attrInts = (name: string, ints: number[]): IAttr => ({ name, type: AT.INTS, ints });

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  // A fresh copy: never hand protobuf a view into a larger (possibly pooled) buffer.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

/** Nodes and initializers under construction, with de-duplicated constants. */
class OnnxGraphBuilder {
  readonly nodes: INode[] = [];
  readonly initializers: ITensor[] = [];
  private readonly consts = new Map<string, string>();
  private readonly names = new Set<string>();

  unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph: name ${name} used twice`);
    this.names.add(name);
    return name;
  }

  node(opType: string, inputs: string[], out: string, attribute: IAttr[] = []): string {
    this.nodes.push({ opType, input: inputs, output: [out], name: out, attribute });
    return out;
  }

  nodeMulti(opType: string, inputs: string[], outs: string[], attribute: IAttr[] = []): string[] {
    this.nodes.push({ opType, input: inputs, output: outs, name: outs[0], attribute });
    return outs;
  }

  constF32(values: number[], dims: number[]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.unique(
        `const_f32_${values.length === 1 ? String(values[0]).replace(/[^0-9a-zA-Z]/g, '_') : this.consts.size}`,
      );
      this.initializers.push({ name, dims, dataType: F32, rawData: bytesOf(Float32Array.from(values)) });
      this.consts.set(key, name);
    }
    return name;
  }

  constI64(values: number[], dims: number[]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.unique(
        `const_i64_${values.map((v) => String(v).replace('-', 'm')).join('_')}${dims.length ? '' : '_scalar'}`,
      );
      this.initializers.push({ name, dims, dataType: I64, rawData: bytesOf(BigInt64Array.from(values.map(BigInt))) });
      this.consts.set(key, name);
    }
    return name;
  }
}

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

interface Lowering {
  g: OnnxGraphBuilder;
  opset: OnnxOpset;
  quantize?: 'int8';
  /** Weights the graph reads in 8-bit form (their float initializer is then not written). */
  quantized: Map<string, number[]>;
  ranks: Map<string, number>;
  shapeOf: Map<string, string>;
}

/** Lower one op; its final node output is named `op.out`. */
function lower(op: Exclude<GraphOp, { op: 'input' } | { op: 'weight' }>, L: Lowering): void {
  const { g } = L;
  const tmp = (suffix: string) => g.unique(`${op.out}/${suffix}`);
  const out = g.claim(op.out);
  const f = (v: number) => g.constF32([v], []);
  switch (op.op) {
    case 'embed':
      g.node('Gather', [op.table, op.ids], out, [attrI('axis', 0)]);
      return;
    case 'positions': {
      let shape = L.shapeOf.get(op.like);
      if (!shape) {
        shape = g.node('Shape', [op.like], g.unique(`${op.like}/shape`));
        L.shapeOf.set(op.like, shape);
      }
      const seq = g.node(
        'Slice',
        [shape, g.constI64([1], [1]), g.constI64([2], [1]), g.constI64([0], [1])],
        tmp('seq_len'),
      );
      g.node('Slice', [op.table, g.constI64([0], [1]), seq, g.constI64([0], [1])], out);
      return;
    }
    case 'add':
      g.node('Add', [op.a, op.b], out);
      return;
    case 'dense': {
      if (L.quantize === 'int8') {
        const w = op.weight;
        L.quantized.set(w, []);
        const [xq, xs, xzp] = g.nodeMulti(
          'DynamicQuantizeLinear',
          [op.x],
          [tmp('x_quantized'), tmp('x_scale'), tmp('x_zero_point')],
        );
        const acc = g.node(
          'MatMulInteger',
          [xq, `${w}${Q_SUFFIX.weight}`, xzp, `${w}${Q_SUFFIX.zeroPoint}`],
          tmp('matmul_int32'),
        );
        const f = g.node('Cast', [acc], tmp('matmul_float'), [attrI('to', F32)]);
        const scale = g.node('Mul', [xs, `${w}${Q_SUFFIX.scale}`], tmp('scale'));
        const mm = g.node('Mul', [f, scale], tmp('matmul'));
        g.node('Add', [mm, op.bias], out);
        return;
      }
      const mm = g.node('MatMul', [op.x, op.weight], tmp('matmul'));
      g.node('Add', [mm, op.bias], out);
      return;
    }
    case 'layerNorm': {
      if (L.opset >= 17) {
        g.node('LayerNormalization', [op.x, op.gamma, op.beta], out, [attrI('axis', -1), attrF('epsilon', op.eps)]);
        return;
      }
      // opset 14: ReduceMean takes `axes` as an attribute (an input only from opset 18).
      const mean = g.node('ReduceMean', [op.x], tmp('mean'), [attrInts('axes', [-1]), attrI('keepdims', 1)]);
      const d = g.node('Sub', [op.x, mean], tmp('centered'));
      const sq = g.node('Mul', [d, d], tmp('squared'));
      const variance = g.node('ReduceMean', [sq], tmp('variance'), [attrInts('axes', [-1]), attrI('keepdims', 1)]);
      const std = g.node('Sqrt', [g.node('Add', [variance, f(op.eps)], tmp('variance_eps'))], tmp('std'));
      const normed = g.node('Div', [d, std], tmp('normed'));
      g.node('Add', [g.node('Mul', [normed, op.gamma], tmp('scaled')), op.beta], out);
      return;
    }
    case 'activation': {
      const x = op.x;
      switch (op.fn) {
        case 'gelu': {
          // (x (1 + erf(x / √2))) 0.5, in the op order torch.onnx emits: onnxruntime's GeluFusion
          // matches exactly this chain (Div, Erf, Add, Mul, Mul) and, with the dense bias before it,
          // BiasGeluFusion; a Mul by 1/√2 or an early 0.5 leaves five separate element-wise ops.
          const erf = g.node('Erf', [g.node('Div', [x, f(Math.SQRT2)], tmp('scaled'))], tmp('erf'));
          const scaled = g.node('Mul', [x, g.node('Add', [erf, f(1)], tmp('erf_plus_1'))], tmp('x_erf'));
          g.node('Mul', [scaled, f(0.5)], out);
          return;
        }
        case 'gelu_tanh': {
          // 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
          const cube = g.node('Pow', [x, f(3)], tmp('cube'));
          const inner = g.node('Add', [x, g.node('Mul', [cube, f(0.044715)], tmp('cube_scaled'))], tmp('inner'));
          const t = g.node(
            'Tanh',
            [g.node('Mul', [inner, f(Math.sqrt(2 / Math.PI))], tmp('inner_scaled'))],
            tmp('tanh'),
          );
          const half = g.node('Mul', [x, f(0.5)], tmp('half'));
          g.node('Mul', [half, g.node('Add', [t, f(1)], tmp('tanh_plus_1'))], out);
          return;
        }
        case 'relu':
          g.node('Relu', [x], out);
          return;
        case 'tanh':
          g.node('Tanh', [x], out);
          return;
      }
      throw new Error(`ONNX export: activation ${String((op as { fn: string }).fn)} not supported`);
    }
    case 'maskBias': {
      const m = g.node('Cast', [op.mask], tmp('float'), [attrI('to', F32)]);
      const inv = g.node('Sub', [f(1), m], tmp('inverted'));
      const bias = g.node('Mul', [inv, f(op.value)], tmp('bias'));
      g.node('Unsqueeze', [bias, g.constI64([1, 2], [2])], out);
      return;
    }
    case 'splitHeads': {
      // Reshape's 0 copies the input dim: [B, S, heads, headDim].
      const r = g.node('Reshape', [op.x, g.constI64([0, 0, op.heads, op.headDim], [4])], tmp('reshaped'));
      g.node('Transpose', [r], out, [attrInts('perm', [0, 2, 1, 3])]);
      return;
    }
    case 'mergeHeads': {
      const t = g.node('Transpose', [op.x], tmp('transposed'), [attrInts('perm', [0, 2, 1, 3])]);
      g.node('Reshape', [t, g.constI64([0, 0, op.hidden], [3])], out);
      return;
    }
    case 'matmul': {
      let b = op.b;
      if (op.transposeB) {
        const r = L.ranks.get(op.b)!;
        const perm = [...Array(r - 2).keys(), r - 1, r - 2];
        b = g.node('Transpose', [op.b], tmp('b_transposed'), [attrInts('perm', perm)]);
      }
      g.node('MatMul', [op.a, b], out);
      return;
    }
    case 'scale':
      g.node('Mul', [op.x, f(op.factor)], out);
      return;
    case 'softmax':
      g.node('Softmax', [op.x], out, [attrI('axis', -1)]);
      return;
    case 'firstToken':
      g.node('Gather', [op.x, g.constI64([0], [])], out, [attrI('axis', 1)]);
      return;
  }
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

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Params } from '../../model/index.js';
import type { InferenceGraph } from '../../model/graph/inference-graph.js';
import { weightValues } from '../weights.js';
import { BUNDLE_DATA_SUFFIX, BUNDLE_INDEX_SUFFIX, writeBundle } from './bundle.js';
import {
  emitGraphDef,
  GraphDefBuilder,
  stringTensor,
  type IntDtype,
  type NodeDef,
  type TfGraph,
} from '../../model/graph/tf-emit.js';
import { decodeMessage, DT, encodeMessage } from './proto.js';
import { checkGraphDef } from './schema.js';

/**
 * A TF1-style SavedModel (export-formats.md §3): saved_model.pb holds one MetaGraphDef (tag
 * "serve", signature "serving_default" with method tensorflow/serving/predict, no
 * object_graph_def, which makes TF 2.x load it through load_v1_in_v2), the weights are resource
 * variables restored by a TF1 Saver subgraph from a Node-written TensorBundle in variables/, and
 * assets.extra/ carries the manifest and the tokenizer files. TF Serving loads the directory as
 * a model version (<base>/<n>/).
 */

export const SAVED_MODEL_PB = 'saved_model.pb';
export const VARIABLES_PREFIX = path.join('variables', 'variables');
export const SERVE_TAG = 'serve';
export const SIGNATURE_KEY = 'serving_default';
export const PREDICT_METHOD = 'tensorflow/serving/predict';
/** GraphDef producer version; any value ≥ 0 loads when min_consumer is 0. */
const GRAPH_PRODUCER = 1994;

/** Add the TF1 Saver subgraph (names as tf.compat.v1.train.Saver(sharded=False) makes them). */
function addSaver(b: GraphDefBuilder, g: TfGraph): Record<string, unknown> {
  const keys = g.variables.map((v) => v.key);
  const n = keys.length;
  const dtypes = { list: { type: keys.map(() => DT.DT_FLOAT) } };
  const filenameInput = b.add('save/filename/input', 'Const', [], {
    dtype: { type: DT.DT_STRING },
    value: { tensor: stringTensor([], ['model']) },
  });
  const filename = b.add('save/Const', 'PlaceholderWithDefault', [filenameInput], {
    dtype: { type: DT.DT_STRING },
    shape: { shape: { dim: [] } },
  });
  const names = (base: string) =>
    b.add(base, 'Const', [], { dtype: { type: DT.DT_STRING }, value: { tensor: stringTensor([n], keys) } });
  const slices = (base: string) =>
    b.add(base, 'Const', [], {
      dtype: { type: DT.DT_STRING },
      value: {
        tensor: stringTensor(
          [n],
          keys.map(() => ''),
        ),
      },
    });
  const save = b.add(
    'save/SaveV2',
    'SaveV2',
    [
      filename,
      names('save/SaveV2/tensor_names'),
      slices('save/SaveV2/shape_and_slices'),
      ...g.variables.map((v) => v.read),
    ],
    { dtypes },
  );
  b.add('save/control_dependency', 'Identity', [filename, `^${save}`], { T: { type: DT.DT_STRING } });
  const restore = b.add(
    'save/RestoreV2',
    'RestoreV2',
    [filename, names('save/RestoreV2/tensor_names'), slices('save/RestoreV2/shape_and_slices')],
    { dtypes },
  );
  const assigns = g.variables.map((v, i) =>
    b.add(`save/AssignVariableOp${i ? `_${i}` : ''}`, 'AssignVariableOp', [v.handle, `${restore}:${i}`], {
      dtype: { type: DT.DT_FLOAT },
    }),
  );
  b.add(
    'save/restore_all',
    'NoOp',
    assigns.map((a) => `^${a}`),
  );
  return {
    filenameTensorName: 'save/Const:0',
    saveTensorName: 'save/control_dependency:0',
    restoreOpName: 'save/restore_all',
    maxToKeep: 5,
    sharded: false,
    version: 2,
  };
}

export interface SavedModelOptions {
  inputDtype?: IntDtype;
  /** Files written under assets.extra/ (name → content). */
  assetsExtra?: Record<string, string>;
}

export interface SavedModelWriteResult {
  files: string[];
  nodes: number;
  variables: number;
  bytes: number;
}

/** The SavedModel proto object for a lowered graph (weights as variables, saver included). */
export function savedModelProto(
  graph: InferenceGraph,
  opts: SavedModelOptions = {},
): { proto: Record<string, unknown>; tf: TfGraph } {
  const tf = emitGraphDef(graph, { weights: 'variables', inputDtype: opts.inputDtype });
  const b = new GraphDefBuilder();
  for (const n of tf.nodes) b.add(n.name, n.op, n.input, n.attr);
  const saverDef = addSaver(b, tf);
  const nodes = b.nodes;
  const tensorInfo = (name: string, dtype: number, dims: number[]) => ({
    name,
    dtype,
    tensorShape: { dim: dims.map((size) => ({ size })) },
  });
  const signature = {
    methodName: PREDICT_METHOD,
    inputs: Object.fromEntries(tf.inputs.map((i) => [i.name, tensorInfo(i.tensor, i.dtype, [-1, -1])])),
    outputs: Object.fromEntries(tf.outputs.map((o) => [o.name, tensorInfo(o.tensor, DT.DT_FLOAT, o.dims)])),
  };
  const problems = checkGraphDef(nodes, [
    ...tf.inputs.map((i) => i.tensor),
    ...tf.outputs.map((o) => o.tensor),
    'save/Const:0',
    'save/control_dependency:0',
    '^save/restore_all',
  ]);
  if (problems.length) throw new Error(`SavedModel export: malformed GraphDef: ${problems.slice(0, 3).join('; ')}`);
  const proto = {
    savedModelSchemaVersion: 1,
    metaGraphs: [
      {
        metaInfoDef: { tags: [SERVE_TAG], strippedDefaultAttrs: true },
        graphDef: { node: nodes, versions: { producer: GRAPH_PRODUCER, minConsumer: 0 } },
        saverDef,
        signatureDef: { [SIGNATURE_KEY]: signature },
      },
    ],
  };
  return { proto, tf: { ...tf, nodes } };
}

/** Write `dir`/saved_model.pb, variables/, assets.extra/. `dir` must be new or empty. */
export async function writeSavedModel(
  dir: string,
  graph: InferenceGraph,
  params: Params,
  opts: SavedModelOptions = {},
): Promise<SavedModelWriteResult> {
  const { proto, tf } = savedModelProto(graph, opts);
  await mkdir(path.join(dir, 'variables'), { recursive: true });
  const prefix = path.join(dir, VARIABLES_PREFIX);
  const { dataBytes } = await writeBundle(
    prefix,
    tf.variables.map((v) => ({
      name: v.key,
      dtype: 'float32' as const,
      shape: v.shape,
      values: () => weightValues(params, v.key, v.shape),
    })),
  );
  const pb = encodeMessage('SavedModel', proto);
  await writeFile(path.join(dir, SAVED_MODEL_PB), pb);
  const files = [SAVED_MODEL_PB, VARIABLES_PREFIX + BUNDLE_INDEX_SUFFIX, VARIABLES_PREFIX + BUNDLE_DATA_SUFFIX];
  if (opts.assetsExtra && Object.keys(opts.assetsExtra).length) {
    await mkdir(path.join(dir, 'assets.extra'), { recursive: true });
    for (const [name, content] of Object.entries(opts.assetsExtra)) {
      await writeFile(path.join(dir, 'assets.extra', name), content);
      files.push(path.join('assets.extra', name));
    }
  }
  return { files, nodes: tf.nodes.length, variables: tf.variables.length, bytes: pb.byteLength + dataBytes };
}

// ---------------------------------------------------------------- reading back

export interface DecodedMetaGraph {
  metaInfoDef?: { tags?: string[]; strippedDefaultAttrs?: boolean };
  graphDef: { node: DecodedNode[]; versions?: { producer?: number; minConsumer?: number } };
  saverDef?: { filenameTensorName?: string; saveTensorName?: string; restoreOpName?: string; version?: string };
  signatureDef: Record<
    string,
    { methodName?: string; inputs?: Record<string, DecodedTensorInfo>; outputs?: Record<string, DecodedTensorInfo> }
  >;
}
export interface DecodedTensorInfo {
  name: string;
  dtype: string;
  tensorShape?: { dim?: Array<{ size?: number }> };
}
export interface DecodedNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, Record<string, unknown>>;
}

/** Decode saved_model.pb and return the "serve" meta graph. */
export async function readSavedModel(
  dir: string,
): Promise<{ schemaVersion: number; metaGraph: DecodedMetaGraph; count: number }> {
  const file = path.join(dir, SAVED_MODEL_PB);
  const sm = decodeMessage<{ savedModelSchemaVersion?: number; metaGraphs?: DecodedMetaGraph[] }>(
    'SavedModel',
    await readFile(file),
  );
  const metaGraph = (sm.metaGraphs ?? []).find((m) => m.metaInfoDef?.tags?.includes(SERVE_TAG));
  if (!metaGraph) throw new Error(`${file}: no meta graph tagged "${SERVE_TAG}"`);
  metaGraph.graphDef.node ??= [];
  metaGraph.signatureDef ??= {};
  return { schemaVersion: sm.savedModelSchemaVersion ?? 0, metaGraph, count: sm.metaGraphs?.length ?? 0 };
}

/** Decoded nodes in the writer's NodeDef shape (dtype enums as numbers), for checkGraphDef. */
export function asNodeDefs(nodes: DecodedNode[]): NodeDef[] {
  const dt: Record<string, number> = {
    DT_FLOAT: 1,
    DT_INT32: 3,
    DT_STRING: 7,
    DT_INT64: 9,
    DT_BOOL: 10,
    DT_RESOURCE: 20,
  };
  const fix = (v: unknown): unknown => (typeof v === 'string' && v in dt ? dt[v] : v);
  return nodes.map((n) => ({
    name: n.name,
    op: n.op,
    input: n.input ?? [],
    attr: Object.fromEntries(
      Object.entries(n.attr ?? {}).map(([k, v]) => {
        const a = { ...v } as Record<string, unknown>;
        if ('type' in a) a.type = fix(a.type);
        if (a.tensor) a.tensor = { ...(a.tensor as object), dtype: fix((a.tensor as { dtype: unknown }).dtype) };
        return [k, a];
      }),
    ),
  })) as NodeDef[];
}

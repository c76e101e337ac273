import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadedNative } from '../backend/index.js';
import { cacheRoot } from '../backend/native.js';
import { batchTensors, type IdBatch, inputFeeds } from '../data/batch.js';
import { cachedSavedModelDir } from '../lib/saved-model-cache.js';
import { GraphDefBuilder, shapeAttr, T } from '../lib/tf-graphdef.js';
import { DT, encodeMessage } from '../lib/tf-proto.js';
import { buildInferenceGraph, encoderValues } from '../model/graph/inference-graph.js';
import { emitGraphDef, type TfGraph } from '../model/graph/tf-emit.js';
import type { BertConfig, Params } from '../model/index.js';
import type { LogitsRunner } from './runners.js';

/**
 * The forward pass as one TensorFlow graph, run by one session call per batch through tfjs-node's own
 * SavedModel session, instead of op by op: grappler sees the whole pass (matmul + bias fusion, constant
 * folding, memory planning) and ~20 ops of per-op dispatch and JavaScript per layer are gone.
 *
 * The graph is the inference graph the SavedModel export writes (model/graph/: one description of BERT,
 * one TensorFlow emitter), with the dense layers as 2-D MatMul + BiasAdd. Its weights are resource
 * variables set once from the loaded parameters through `init/` feeds, so the graph depends on the
 * config only: it is cached by content under `<cache>/compiled-infer/<sha256>/` (a few hundred KB
 * whatever the model size, no 2 GB protobuf limit), and the weights exist once, in the session, after
 * the caller disposes its tfjs copies. Inputs take any [batch, seq].
 */

/** Bumped when the runner's graph changes in a way its bytes would not show (they show every node). */
const GRAPH_VERSION = 1;

interface SessionBackend {
  loadSavedModelMetaGraph(dir: string, tags: string): number;
  runSavedModel(id: number, inputs: tf.Tensor[], info: { name: string; tfDtype: string }[], out: string[]): tf.Tensor[];
  deleteSavedModel(id: number): void;
}

interface InferenceSavedModel {
  bytes: Uint8Array;
  variables: TfGraph['variables'];
}

const tensorInfo = (name: string, dtype: number, dims: number[]) => ({
  name,
  dtype,
  tensorShape: { dim: dims.map((size) => ({ size })) },
});

/** The classifier's inference graph with an `init/` subgraph, framed as a TF1 SavedModel (tag "serve"). */
export function inferenceSavedModel(config: BertConfig, params: Params): InferenceSavedModel {
  const graph = emitGraphDef(buildInferenceGraph(config, params), { weights: 'variables', flatDense: true });
  const b = new GraphDefBuilder();
  const assigns = graph.variables.map((v) => {
    const value = b.add(`init/${v.key}`, 'Placeholder', [], { dtype: T(DT.DT_FLOAT), shape: shapeAttr(v.shape) });
    return b.add(`init/${v.key}/assign`, 'AssignVariableOp', [v.handle, value], { dtype: T(DT.DT_FLOAT) });
  });
  const one = b.const('init/one', DT.DT_INT32, [], Int32Array.of(GRAPH_VERSION));
  b.add('init/done', 'Identity', [one, ...assigns.map((a) => `^${a}`)], { T: T(DT.DT_INT32) });
  const signature = {
    methodName: 'tensorflow/serving/predict',
    inputs: Object.fromEntries(graph.inputs.map((i) => [i.name, tensorInfo(i.tensor, i.dtype, [-1, -1])])),
    outputs: Object.fromEntries(graph.outputs.map((o) => [o.name, tensorInfo(o.tensor, DT.DT_FLOAT, o.dims)])),
  };
  const bytes = encodeMessage('SavedModel', {
    savedModelSchemaVersion: 1,
    metaGraphs: [
      {
        metaInfoDef: { tags: ['serve'], strippedDefaultAttrs: true },
        graphDef: { node: [...graph.nodes, ...b.nodes], versions: { producer: 1994, minConsumer: 0 } },
        signatureDef: { serving_default: signature },
      },
    ],
  });
  return { bytes, variables: graph.variables };
}

/**
 * Build (or find in the cache), load and initialise the graph of this model on the tensorflow backend.
 * The weights are copied into the session: the caller may dispose `params` afterwards.
 */
export async function graphRunner(
  params: Params,
  config: BertConfig,
  opts: { cacheDir?: string } = {},
): Promise<LogitsRunner> {
  if (tf.getBackend() !== 'tensorflow') throw new Error(`the backend is ${tf.getBackend()}, not tensorflow`);
  const built = inferenceSavedModel(config, params);
  const dir = await cachedSavedModelDir(opts.cacheDir ?? path.join(cacheRoot(), 'compiled-infer'), built.bytes);
  const be = tf.backend() as unknown as SessionBackend;
  const id = be.loadSavedModelMetaGraph(dir, 'serve');
  const run = (feeds: Array<[string, tf.Tensor]>, outputs: string[]) =>
    be.runSavedModel(
      id,
      feeds.map(([, t]) => t),
      feeds.map(([k, t]) => ({ name: `${k}:0`, tfDtype: t.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' })),
      outputs.map((k) => `${k}:0`),
    );
  const setWeights = (weights: Params) =>
    tf.dispose(
      run(
        built.variables.map((v) => [`init/${v.key}`, weights.get(v.key)!]),
        ['init/done'],
      ),
    );
  try {
    setWeights(params);
  } catch (err) {
    be.deleteSavedModel(id);
    throw err;
  }
  const forward = async (batch: IdBatch, outputs: string[]): Promise<Float32Array[]> => {
    const inputs = batchTensors(batch);
    const feeds = inputFeeds(inputs);
    let out: tf.Tensor[] = [];
    try {
      out = run(feeds, outputs);
      return (await Promise.all(out.map((t) => t.data()))) as Float32Array[];
    } finally {
      tf.dispose([...out, inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds]);
    }
  };
  const hiddenValues = encoderValues(config);
  const tfVersion = loadedNative()?.tfVersion;
  return {
    name: `TensorFlow${tfVersion ? ` ${tfVersion}` : ''} graph (one session call per batch, ${dir})`,
    async run(b) {
      return (await forward(b, ['logits']))[0];
    },
    async hidden(b) {
      const [lastHidden, pooled] = await forward(b, [hiddenValues.lastHidden, hiddenValues.pooled]);
      return { hiddenSize: config.hiddenSize, lastHidden, pooled };
    },
    setWeights,
    async close() {
      be.deleteSavedModel(id);
    },
  };
}

import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { IdBatch } from '../../data/batch.js';
import type { LogitsRunner } from '../../infer/runners.js';
import { readBundle } from './bundle.js';
import { readSavedModel, SIGNATURE_KEY, VARIABLES_PREFIX, type DecodedNode } from './savedmodel.js';

/**
 * Run a SavedModel as written — saved_model.pb plus its variables/ TensorBundle — with
 * @tensorflow/tfjs-converter (export-formats.md §3.6): each ReadVariableOp becomes a Const holding
 * the bundle's tensor for its VarHandleOp's shared_name, the saver subgraph is dropped, every Const
 * goes into the weight manifest, and the GraphDef runs as an in-memory tfjs graph model.
 */

const DTYPES: Record<string, 'float32' | 'int32'> = { DT_FLOAT: 'float32', DT_INT32: 'int32' };

export async function loadSavedModelAsGraphModel(dir: string): Promise<{ model: tf.GraphModel; inputDtype: string }> {
  const { metaGraph } = await readSavedModel(dir);
  const signature = metaGraph.signatureDef[SIGNATURE_KEY];
  if (!signature) throw new Error(`${dir}: no "${SIGNATURE_KEY}" signature`);
  const bundle = await readBundle(path.join(dir, VARIABLES_PREFIX));
  const nodes = metaGraph.graphDef.node;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const kept: DecodedNode[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const addWeight = (name: string, dtype: 'float32' | 'int32', shape: number[], bytes: Uint8Array) => {
    weightSpecs.push({ name, shape, dtype });
    chunks.push(bytes);
  };
  for (const n of nodes) {
    if (n.name.startsWith('save/') || n.op === 'VarHandleOp') continue;
    if (n.op === 'ReadVariableOp') {
      const handle = byName.get((n.input ?? [])[0] ?? '');
      const key = handle?.attr?.shared_name?.s
        ? Buffer.from(handle.attr.shared_name.s as Uint8Array).toString('utf8')
        : handle?.name;
      const t = key ? bundle.get(key) : undefined;
      if (!t) throw new Error(`${dir}: variable ${key ?? n.name} is not in the TensorBundle`);
      addWeight(
        n.name,
        t.dtype === 'DT_FLOAT' ? 'float32' : 'int32',
        t.shape,
        new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength),
      );
      kept.push({ name: n.name, op: 'Const', input: [], attr: { dtype: { type: t.dtype } } });
      continue;
    }
    if (n.op === 'Const') {
      const tensor = n.attr?.value?.tensor as
        | { dtype?: string; tensorShape?: { dim?: Array<{ size?: number }> }; tensorContent?: Uint8Array }
        | undefined;
      const dtype = DTYPES[tensor?.dtype ?? ''];
      if (!tensor || !dtype)
        throw new Error(`${dir}: Const ${n.name} has dtype ${tensor?.dtype}; only DT_FLOAT and DT_INT32 run in tfjs`);
      const shape = (tensor.tensorShape?.dim ?? []).map((d) => Number(d.size ?? 0));
      addWeight(n.name, dtype, shape, tensor.tensorContent ?? new Uint8Array(0));
      kept.push({ name: n.name, op: 'Const', input: [], attr: { dtype: { type: tensor.dtype } } });
      continue;
    }
    kept.push(n);
  }
  const data = Buffer.concat(chunks);
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: { node: kept, versions: metaGraph.graphDef.versions ?? { producer: 0 }, library: {} },
      weightSpecs,
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      format: 'graph-model',
      signature,
    } as unknown as tf.io.ModelArtifacts),
  );
  return { model, inputDtype: Object.values(signature.inputs ?? {})[0]?.dtype ?? 'DT_INT32' };
}

/** The SavedModel in tfjs-converter, as a parity-gate runtime. */
export async function savedModelTfjsRunner(dir: string, output = 'logits'): Promise<LogitsRunner> {
  const { model, inputDtype } = await loadSavedModelAsGraphModel(dir);
  if (inputDtype !== 'DT_INT32')
    throw new Error(`${dir}: inputs are ${inputDtype}; the tfjs runtime runs int32 inputs only`);
  return {
    name: `tfjs-converter ${tf.version.tfjs} (${tf.getBackend()} backend, SavedModel GraphDef + TensorBundle)`,
    async run(b: IdBatch) {
      const shape: [number, number] = [b.batch, b.seq];
      const feeds = {
        input_ids: tf.tensor2d(b.inputIds, shape, 'int32'),
        attention_mask: tf.tensor2d(b.attentionMask, shape, 'int32'),
        token_type_ids: tf.tensor2d(b.tokenTypeIds, shape, 'int32'),
      };
      try {
        const out = model.execute(feeds, output) as tf.Tensor;
        const v = Float32Array.from(await out.data());
        out.dispose();
        return v;
      } finally {
        tf.dispose(Object.values(feeds));
      }
    },
    async close() {
      model.dispose();
    },
  };
}

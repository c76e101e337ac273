import type { NodeDef } from '../../lib/tf-graphdef.js';
import { DT, encodeMessage } from '../../lib/tf-proto.js';
import { headTask } from '../../model/config.js';
import type { ForwardGraph, ForwardOptions } from './forward-graph.js';
import { STEP_SCALARS } from './update-graph.js';

/**
 * The compiled step as a TF1-style SavedModel (tag "serve", a `train` signature, no variables/: the
 * variables are set through the graph's init/ feeds), so tfjs-node's own session path loads and runs
 * it. The GraphDef the addon returned is kept as TensorFlow wrote it: the update nodes are appended
 * as a second encoded GraphDef and the messages around it are framed by hand (protobuf merges
 * repeated fields across concatenated encodings), so nothing recsys's proto subset lacks is lost.
 */

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A length-delimited field (wire type 2): an embedded message. */
function embedded(field: number, bytes: Uint8Array): Uint8Array {
  return Buffer.concat([Uint8Array.from([...varint((field << 3) | 2), ...varint(bytes.length)]), bytes]);
}

const info = (name: string, dtype: number, dims: number[]) => ({
  name,
  dtype,
  tensorShape: { dim: dims.map((size) => ({ size })) },
});

export function trainSavedModelBytes(
  fwd: ForwardGraph,
  withGradients: Uint8Array,
  update: NodeDef[],
  opts: ForwardOptions,
): Uint8Array {
  const [B, S] = opts.shape ? [opts.shape.batch, opts.shape.seq] : [-1, -1];
  const signature = {
    methodName: 'tensorflow/serving/predict',
    inputs: {
      ...Object.fromEntries(
        ['input_ids', 'attention_mask', 'token_type_ids'].map((k) => [k, info(`${k}:0`, DT.DT_INT32, [B, S])]),
      ),
      ...(fwd.config.head === 'masked_lm'
        ? {
            mlm_positions: info('mlm_positions:0', DT.DT_INT32, [-1]),
            mlm_labels: info('mlm_labels:0', DT.DT_INT32, [-1]),
          }
        : {
            labels:
              headTask(fwd.config) === 'single_label_classification'
                ? info('labels:0', DT.DT_INT32, [B])
                : info('labels:0', DT.DT_FLOAT, [B, fwd.config.id2label.length]),
          }),
      seeds: info('seeds:0', DT.DT_INT32, [fwd.dropouts, 2]),
      ...Object.fromEntries(STEP_SCALARS.map((k) => [k, info(`${k}:0`, DT.DT_FLOAT, [])])),
      ...(opts.classWeights ? { class_weights: info('class_weights:0', DT.DT_FLOAT, [-1]) } : {}),
      ...(opts.posWeight ? { pos_weight: info('pos_weight:0', DT.DT_FLOAT, [-1]) } : {}),
    },
    outputs: {
      loss: info('loss:0', DT.DT_FLOAT, []),
      grad_norm: info('grad_norm:0', DT.DT_FLOAT, []),
      applied: info('applied:0', DT.DT_INT32, []),
    },
  };
  const graphDef = Buffer.concat([withGradients, encodeMessage('GraphDef', { node: update })]);
  const metaGraph = Buffer.concat([
    encodeMessage('MetaGraphDef', {
      metaInfoDef: { tags: ['serve'], strippedDefaultAttrs: true },
      signatureDef: { train: signature },
    }),
    embedded(2, graphDef),
  ]);
  return Buffer.concat([encodeMessage('SavedModel', { savedModelSchemaVersion: 1 }), embedded(2, metaGraph)]);
}

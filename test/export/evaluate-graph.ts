import * as tf from '@tensorflow/tfjs';
import type { Params } from '../../src/model/index.js';
import type { GraphOp, InferenceGraph } from '../../src/model/graph/inference-graph.js';

/**
 * Test helper: run the inference graph description with tfjs ops. Not an exporter: it checks the description
 * itself against the training forward pass (bertLogits), so a failing export can be blamed on the
 * description or on the exporter's lowering, not both at once.
 */
export function evaluateGraph(
  graph: InferenceGraph,
  params: Params,
  feeds: Record<string, tf.Tensor2D>,
): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const values = new Map<string, tf.Tensor>();
    const get = (name: string) => {
      const t = values.get(name);
      if (!t) throw new Error(`evaluateGraph: value ${name} is not defined`);
      return t;
    };
    for (const op of graph.ops) values.set(op.out, run(op, get, params, feeds));
    const out: Record<string, tf.Tensor> = {};
    for (const o of graph.outputs) out[o.name] = get(o.value);
    return out;
  });
}

const dims = (t: tf.Tensor) => t.shape as number[];

function run(
  op: GraphOp,
  get: (n: string) => tf.Tensor,
  params: Params,
  feeds: Record<string, tf.Tensor2D>,
): tf.Tensor {
  switch (op.op) {
    case 'input': {
      const t = feeds[op.out];
      if (!t) throw new Error(`evaluateGraph: no feed for input ${op.out}`);
      return t;
    }
    case 'weight': {
      const t = params.get(op.param);
      if (!t) throw new Error(`evaluateGraph: parameter ${op.param} missing`);
      return t;
    }
    case 'embed': {
      const ids = get(op.ids);
      const table = get(op.table);
      return tf.gather(table, ids.reshape([-1])).reshape([...dims(ids), dims(table)[1]]);
    }
    case 'positions': {
      const seq = dims(get(op.like))[1];
      const table = get(op.table);
      return tf.slice(table, [0, 0], [seq, dims(table)[1]]);
    }
    case 'add':
      return tf.add(get(op.a), get(op.b));
    case 'dense': {
      const x = get(op.x);
      const w = get(op.weight) as tf.Tensor2D;
      const inDim = x.shape[x.rank - 1];
      const y = tf.add(tf.matMul(x.reshape([-1, inDim]) as tf.Tensor2D, w), get(op.bias));
      return y.reshape([...x.shape.slice(0, -1), w.shape[1]]);
    }
    case 'layerNorm': {
      const x = get(op.x);
      const axis = x.rank - 1;
      const mean = tf.mean(x, axis, true);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), axis, true);
      return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, op.eps))), get(op.gamma)), get(op.beta));
    }
    case 'activation': {
      const x = get(op.x);
      switch (op.fn) {
        case 'gelu':
          return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
        case 'gelu_tanh': {
          const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
          return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
        }
        case 'relu':
          return tf.relu(x);
        case 'tanh':
          return tf.tanh(x);
      }
      throw new Error(`evaluateGraph: unknown activation ${String((op as { fn: string }).fn)}`);
    }
    case 'maskBias': {
      const m = get(op.mask);
      return tf.mul(tf.sub(1, tf.cast(m, 'float32')), op.value).reshape([dims(m)[0], 1, 1, dims(m)[1]]);
    }
    case 'splitHeads': {
      const x = get(op.x);
      return x.reshape([dims(x)[0], dims(x)[1], op.heads, op.headDim]).transpose([0, 2, 1, 3]);
    }
    case 'mergeHeads': {
      const x = get(op.x);
      return x.transpose([0, 2, 1, 3]).reshape([dims(x)[0], dims(x)[2], op.hidden]);
    }
    case 'matmul':
      return tf.matMul(get(op.a), get(op.b), false, op.transposeB);
    case 'scale':
      return tf.mul(get(op.x), op.factor);
    case 'softmax':
      return tf.softmax(get(op.x), -1);
    case 'firstToken': {
      const x = get(op.x);
      const [b, , h] = dims(x);
      return tf.slice(x, [0, 0, 0], [b, 1, h]).reshape([b, h]);
    }
    case 'meanPool': {
      const mask = tf.expandDims(tf.cast(get(op.mask), 'float32'), 2);
      return tf.div(tf.sum(tf.mul(get(op.x), mask), 1), tf.maximum(tf.sum(mask, 1), 1e-9));
    }
    case 'l2Normalize': {
      const x = get(op.x);
      return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12));
    }
  }
}

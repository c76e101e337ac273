import { attrF, attrI, attrInts, F32, type OnnxGraphBuilder } from './onnx-builder.js';
import type { GraphOp } from '../model/graph/inference-graph.js';
import { Q_SUFFIX, type OnnxOpset } from './onnx.js';

/**
 * Lowering of one op of the inference graph description (model/graph/inference-graph.ts) to ONNX
 * nodes: the op-by-op half of the ONNX emitter (onnx.ts builds the model around it).
 */

export interface Lowering {
  g: OnnxGraphBuilder;
  opset: OnnxOpset;
  quantize?: 'int8';
  /** Weights the graph reads in 8-bit form (their float initializer is then not written). */
  quantized: Map<string, number[]>;
  ranks: Map<string, number>;
  shapeOf: Map<string, string>;
}

/** Lower one op; its final node output is named `op.out`. */
export function lower(op: Exclude<GraphOp, { op: 'input' } | { op: 'weight' }>, L: Lowering): void {
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
    case 'meanPool': {
      // ReduceSum takes its axes as an input from opset 13, so 14 and 17 lower alike.
      const m = g.node('Cast', [op.mask], tmp('mask_float'), [attrI('to', F32)]);
      const m3 = g.node('Unsqueeze', [m, g.constI64([2], [1])], tmp('mask_expanded'));
      const summed = g.node('ReduceSum', [g.node('Mul', [op.x, m3], tmp('masked')), g.constI64([1], [1])], tmp('sum'), [
        attrI('keepdims', 0),
      ]);
      const count = g.node('ReduceSum', [m3, g.constI64([1], [1])], tmp('count'), [attrI('keepdims', 0)]);
      g.node('Div', [summed, g.node('Max', [count, f(1e-9)], tmp('count_clamped'))], out);
      return;
    }
    case 'l2Normalize': {
      const sq = g.node('Mul', [op.x, op.x], tmp('squared'));
      const ss = g.node('ReduceSum', [sq, g.constI64([-1], [1])], tmp('sum_squares'), [attrI('keepdims', 1)]);
      const norm = g.node('Max', [g.node('Sqrt', [ss], tmp('norm')), f(1e-12)], tmp('norm_clamped'));
      g.node('Div', [op.x, norm], out);
      return;
    }
  }
}

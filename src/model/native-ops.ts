import * as tf from '@tensorflow/tfjs';

/**
 * TensorFlow ops that tfjs does not expose, run by name through the tensorflow backend (tfjs-node and
 * tfjs-node-gpu register the same backend, so the CPU and GPU builds take this same path). Callers
 * check `nativeOps()` and keep a plain-tfjs fallback for the wasm and cpu backends.
 *
 * Ops run here bypass tfjs's kernel registry: the engine tracks their outputs (tidy and dispose work),
 * but the gradient tape does not see them, so they are used only for values that need no gradient
 * (dropout masks) or inside a tf.customGrad that supplies the gradient.
 */

interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

interface TensorflowBackend {
  binding: {
    TF_ATTR_TYPE: number;
    TF_ATTR_BOOL: number;
    TF_ATTR_STRING: number;
    TF_ATTR_SHAPE: number;
    TF_FLOAT: number;
    TF_INT32: number;
  };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], n: number): tf.Tensor[];
}

export interface NativeOps {
  /** Uniform [0, 1) floats from TensorFlow's counter-based Philox generator: same seed, same values. */
  statelessUniform(shape: number[], seed: number): tf.Tensor;
  /**
   * a @ b for 2-D a and b without tf.matMul's reshapes to 3-D and back. Run as BatchMatMulV2 (which
   * takes 2-D inputs), tf.matMul's kernel: timed against MatMul on the dense layers' shapes it was as
   * fast or faster, most of all with b transposed (the input gradient).
   */
  matMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor;
  /** x [..., n] + bias [n] (BiasAdd), and its gradient: dy summed over every axis but the last. */
  biasAdd(x: tf.Tensor, bias: tf.Tensor): tf.Tensor;
  biasAddGrad(dy: tf.Tensor): tf.Tensor;
  /**
   * A float32 TensorFlow resource variable set to `value`, as its handle (a tensor the engine counts;
   * disposing it frees the variable). Updates of a variable whose buffer a tfjs tensor still shares
   * (after assign or read) copy it first, so tensors read earlier keep their values.
   */
  variable(value: tf.Tensor): tf.Tensor;
  assignVariable(handle: tf.Tensor, value: tf.Tensor): void;
  /** The variable's current value; shares its buffer until the next update. */
  readVariable(handle: tf.Tensor): tf.Tensor;
  /**
   * TensorFlow's fused Adam (ResourceApplyAdam), in place on three variables:
   * m += (g - m)(1 - b1); v += (g² - v)(1 - b2); p -= lr·sqrt(1 - b2^t)/(1 - b1^t) · m / (sqrt(v) + eps).
   */
  applyAdam(handles: [tf.Tensor, tf.Tensor, tf.Tensor], s: AdamScalars, grad: tf.Tensor): void;
  /** p -= alpha · delta, in place (ResourceApplyGradientDescent). */
  applyGradientDescent(handle: tf.Tensor, alpha: tf.Scalar, delta: tf.Tensor): void;
}

export interface AdamScalars {
  beta1Power: tf.Scalar;
  beta2Power: tf.Scalar;
  lr: tf.Scalar;
  beta1: tf.Scalar;
  beta2: tf.Scalar;
  eps: tf.Scalar;
}

/**
 * The int32 seed pair StatelessRandomUniform takes for a dropout seed: its two 31-bit halves (the
 * compiled training step feeds the same pairs, so its masks are the same draws).
 */
export function philoxSeedPair(seed: number): [number, number] {
  return [seed & 0x7fffffff, Math.floor(seed / 0x80000000) | 0x5eed];
}

/** TensorFlow's name for "a variable owned by its handle" (deleted with the last handle). */
const ANONYMOUS_NAME = 'cd2c89b7-88b7-44c8-ad83-06c2a9158347';

function make(be: TensorflowBackend): NativeOps {
  const type = (name: string, dtype: number): OpAttr => ({ name, type: be.binding.TF_ATTR_TYPE, value: dtype });
  const { TF_FLOAT, TF_INT32, TF_ATTR_STRING, TF_ATTR_SHAPE, TF_ATTR_BOOL } = be.binding;
  const dtype = [type('dtype', TF_FLOAT)];
  const update = [type('T', TF_FLOAT), { name: 'use_locking', type: TF_ATTR_BOOL, value: false }];
  const run0 = (name: string, attrs: OpAttr[], inputs: tf.Tensor[]) =>
    be.executeMultipleOutputs(name, attrs, inputs, 0);
  const ops: NativeOps = {
    statelessUniform(shape, seed) {
      return tf.tidy(() => {
        const seeds = tf.tensor1d(philoxSeedPair(seed), 'int32');
        return be.executeSingleOutput(
          'StatelessRandomUniform',
          [type('dtype', TF_FLOAT), type('T', TF_INT32), type('Tseed', TF_INT32)],
          [tf.tensor1d(shape, 'int32'), seeds],
        );
      });
    },
    matMul(a, b, transposeA, transposeB) {
      const flags = [
        { name: 'adj_x', type: TF_ATTR_BOOL, value: transposeA },
        { name: 'adj_y', type: TF_ATTR_BOOL, value: transposeB },
      ];
      return be.executeSingleOutput('BatchMatMulV2', [type('T', TF_FLOAT), ...flags], [a, b]);
    },
    biasAdd(x, bias) {
      return be.executeSingleOutput('BiasAdd', [type('T', TF_FLOAT)], [x, bias]);
    },
    biasAddGrad(dy) {
      return be.executeSingleOutput('BiasAddGrad', [type('T', TF_FLOAT)], [dy]);
    },
    variable(value) {
      const handle = be.executeSingleOutput(
        'VarHandleOp',
        [
          { name: 'container', type: TF_ATTR_STRING, value: '' },
          { name: 'shared_name', type: TF_ATTR_STRING, value: ANONYMOUS_NAME },
          ...dtype,
          { name: 'shape', type: TF_ATTR_SHAPE, value: value.shape },
        ],
        [],
      );
      ops.assignVariable(handle, value);
      return handle;
    },
    assignVariable(handle, value) {
      run0('AssignVariableOp', dtype, [handle, value]);
    },
    readVariable(handle) {
      return be.executeSingleOutput('ReadVariableOp', dtype, [handle]);
    },
    applyAdam([p, m, v], s, grad) {
      const nesterov = { name: 'use_nesterov', type: TF_ATTR_BOOL, value: false };
      run0(
        'ResourceApplyAdam',
        [...update, nesterov],
        [p, m, v, s.beta1Power, s.beta2Power, s.lr, s.beta1, s.beta2, s.eps, grad],
      );
    },
    applyGradientDescent(handle, alpha, delta) {
      run0('ResourceApplyGradientDescent', update, [handle, alpha, delta]);
    },
  };
  return ops;
}

let cached: { backend: tf.KernelBackend; ops: NativeOps } | undefined;
let enabled = true;

/** Benchmarks and tests: compare the native path with the plain-tfjs one in the same process. */
export function setNativeOpsEnabled(on: boolean): void {
  enabled = on;
}

/** The native ops when the active backend is TensorFlow, else undefined. */
export function nativeOps(): NativeOps | undefined {
  if (!enabled || tf.getBackend() !== 'tensorflow') return undefined;
  const be = tf.backend();
  if (cached?.backend !== be) cached = { backend: be, ops: make(be as unknown as TensorflowBackend) };
  return cached.ops;
}

import * as tf from '@tensorflow/tfjs';
import { nativeOps } from './native-ops.js';

/**
 * BERT's building blocks with hand-written gradients. tfjs's autodiff of LayerNorm and the erf GELU
 * emits ~30 and ~11 element-wise kernels per call (broadcast reductions, reshapes, rsqrt and erf
 * chains); the closed forms below need 11 and 6, each a pass over a [tokens, width] tensor. Forward
 * values are computed exactly as before, so outputs do not change.
 */

/** x [n, in] @ W [in, out] + b [out]. On TensorFlow: a 2-D matmul + BiasAdd; gradients matmuls and BiasAddGrad. */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  const native = nativeOps();
  if (!native) return tf.add(tf.matMul(x, w), b);
  const op = tf.customGrad((...args: unknown[]) => {
    const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([x, w]);
    return {
      value: tf.tidy(() => native.biasAdd(native.matMul(x, w, false, false), b)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved;
        return [native.matMul(dy, ws, false, true), native.matMul(xs, dy, true, false), native.biasAddGrad(dy)];
      },
    };
  });
  return op(x, w, b) as tf.Tensor2D;
}

/** x [n, h] summed over rows; BiasAddGrad on TensorFlow, several times faster than Sum over axis 0 there. */
function sumRows(x: tf.Tensor): tf.Tensor {
  const native = nativeOps();
  return native ? native.biasAddGrad(x) : tf.sum(x, 0);
}

/** LayerNorm over the last axis of x [n, h] (biased variance, as torch), weight and bias [h]. */
export function layerNorm(x: tf.Tensor2D, weight: tf.Tensor1D, bias: tf.Tensor1D, eps: number): tf.Tensor2D {
  const op = tf.customGrad((...args: unknown[]) => {
    const [x, g, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const centered = tf.sub(x, tf.mean(x, -1, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps));
    const normed = tf.mul(centered, rstd);
    save([normed, rstd, g]);
    return {
      value: tf.add(tf.mul(normed, g), b),
      // dx = rstd · (dn - mean(dn) - n · mean(dn · n)) with dn = dy · g and n the normalized x
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [n, r, gs] = saved;
        const dn = tf.mul(dy, gs);
        const dx = tf.mul(tf.sub(tf.sub(dn, tf.mean(dn, -1, true)), tf.mul(n, tf.mean(tf.mul(dn, n), -1, true))), r);
        return [dx, sumRows(tf.mul(dy, n)), sumRows(dy)];
      },
    };
  });
  return op(x, weight, bias) as tf.Tensor2D;
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** torch's exact GELU, 0.5 x (1 + erf(x / sqrt 2)); derivative Φ(x) + x φ(x). */
export function geluErf(x: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: unknown[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const half = tf.mul(x, 0.5);
    const onePlusErf = tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1);
    save([x, onePlusErf]);
    return {
      value: tf.mul(half, onePlusErf),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ope] = saved;
        const density = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), INV_SQRT_2PI);
        return tf.mul(dy, tf.add(tf.mul(ope, 0.5), tf.mul(xs, density)));
      },
    };
  });
  return op(x);
}

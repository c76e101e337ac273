import * as tf from '@tensorflow/tfjs';
import type { ParamSpec } from '../model/index.js';
import { type NativeOps, nativeOps } from '../model/native-ops.js';

export interface AdamWSettings {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decayEmbeddings: boolean;
}

/** Decoupled weight decay goes to weight matrices only: never biases or LayerNorm, embeddings by choice. */
export function decays(spec: ParamSpec, decayEmbeddings: boolean): boolean {
  return spec.kind === 'linear' || (decayEmbeddings && spec.kind === 'embedding');
}

/** TensorFlow resource variables of one parameter (native path), and which tfjs data the parameter held last. */
interface Slot {
  p?: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
  pData?: object;
}

type Moments = { m: Map<string, tf.Variable>; v: Map<string, tf.Variable>; data: Map<tf.Variable, object> };

/**
 * AdamW as torch.optim.AdamW computes it (decay, then moments, bias corrections, update).
 *
 * On TensorFlow the moments live in TensorFlow resource variables and each parameter is updated by
 * the fused ResourceApplyAdam kernel (one multi-threaded pass instead of ~14 element-wise ops, each
 * a separate kernel launch and a pass over memory) plus ResourceApplyGradientDescent for the decay;
 * the parameter's tf.Variable is then pointed at the updated buffer (no copy). Elsewhere (wasm, cpu)
 * the same update runs as tfjs element-wise ops over tf.Variables.
 *
 * `m` and `v` are tf.Variable maps on both paths (for checkpoints and resume). On the native path they
 * are snapshots made when first read after a step and valid until the next step, which takes over
 * any value assigned to them and disposes them.
 */
export class AdamW {
  /** Optimizer steps taken (torch's `step` state). */
  t = 0;
  private readonly native: NativeOps | undefined = nativeOps();
  private readonly slots = new Map<string, Slot>();
  private moments: Moments | null = null;

  constructor(
    private readonly params: Map<string, tf.Variable>,
    private readonly specs: Map<string, ParamSpec>,
    private readonly s: AdamWSettings,
  ) {}

  /**
   * The moment buffers, made (zeros) when first needed: a run whose compiled step keeps the moments in
   * its own graph never steps this optimizer nor reads its moments, so it never pays for a second copy.
   */
  private ensureState(): void {
    if (this.moments || this.slots.size > 0) return;
    const native = this.native;
    if (!native) {
      this.moments = { m: new Map(), v: new Map(), data: new Map() };
      const { m, v } = this.moments;
      // in a tidy: the zero tensors the variables are made from are freed, the variables kept
      tf.tidy(() => {
        for (const [name, p] of this.params) {
          m.set(name, tf.variable(tf.zerosLike(p), false));
          v.set(name, tf.variable(tf.zerosLike(p), false));
        }
      });
      return;
    }
    for (const [name, p] of this.params) {
      const zeros = tf.zerosLike(p);
      this.slots.set(name, { m: tf.keep(native.variable(zeros)), v: tf.keep(native.variable(zeros)) });
      zeros.dispose();
    }
  }

  /** First moments by parameter name. */
  get m(): Map<string, tf.Variable> {
    return this.snapshot().m;
  }

  /** Second moments by parameter name. */
  get v(): Map<string, tf.Variable> {
    return this.snapshot().v;
  }

  step(grads: Map<string, tf.Tensor>, lr: number): void {
    this.ensureState();
    this.t++;
    if (this.native) this.nativeStep(this.native, grads, lr);
    else this.tfjsStep(grads, lr);
  }

  dispose(): void {
    if (!this.native && this.moments) tf.dispose([...this.moments.m.values(), ...this.moments.v.values()]);
    this.releaseSnapshot(false);
    for (const s of this.slots.values()) tf.dispose([s.m, s.v, ...(s.p ? [s.p] : [])]);
    this.slots.clear();
  }

  private decays(name: string): boolean {
    return this.s.weightDecay > 0 && decays(this.specs.get(name)!, this.s.decayEmbeddings);
  }

  private tfjsStep(grads: Map<string, tf.Tensor>, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.s;
    const bc1 = 1 - beta1 ** this.t;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.t);
    const { m: ms, v: vs } = this.moments!;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads.get(name);
        if (!g) continue;
        const m = ms.get(name)!;
        const v = vs.get(name)!;
        const mNew = m.mul(beta1).add(g.mul(1 - beta1));
        const vNew = v.mul(beta2).add(g.square().mul(1 - beta2));
        m.assign(mNew);
        v.assign(vNew);
        const base: tf.Tensor = this.decays(name) ? p.mul(1 - lr * weightDecay) : p;
        const denom = vNew.sqrt().div(bc2Sqrt).add(eps);
        p.assign(base.sub(mNew.div(denom).mul(lr / bc1)));
      }
    });
  }

  private nativeStep(native: NativeOps, grads: Map<string, tf.Tensor>, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.s;
    this.releaseSnapshot(true);
    tf.tidy(() => {
      // ResourceApplyAdam puts eps outside the bias correction of v: eps·sqrt(1 - b2^t) there is torch's eps.
      const scalars = {
        beta1Power: tf.scalar(beta1 ** this.t),
        beta2Power: tf.scalar(beta2 ** this.t),
        lr: tf.scalar(lr),
        beta1: tf.scalar(beta1),
        beta2: tf.scalar(beta2),
        eps: tf.scalar(eps * Math.sqrt(1 - beta2 ** this.t)),
      };
      const decay = tf.scalar(lr * weightDecay);
      for (const [name, p] of this.params) {
        const g = grads.get(name);
        if (!g) continue;
        const slot = this.slots.get(name)!;
        // the parameter's variable was pointed elsewhere (or this is the first step): take its value
        if (!slot.p) slot.p = tf.keep(native.variable(p));
        else if (slot.pData !== p.dataId) native.assignVariable(slot.p, p);
        // TensorFlow copies the buffer p still shares before updating it, so p keeps the old weights
        native.applyAdam([slot.p, slot.m, slot.v], scalars, g);
        // decay from the old weights, as torch does: p·(1 - lr·wd) - u = (p - u) - lr·wd·p
        if (this.decays(name)) native.applyGradientDescent(slot.p, decay, p);
        p.assign(native.readVariable(slot.p));
        slot.pData = p.dataId;
      }
    });
  }

  /** Native path: tf.Variables sharing the moments' current buffers, kept until the next step. */
  private snapshot(): Moments {
    this.ensureState();
    if (this.moments) return this.moments;
    const native = this.native!;
    const moments: Moments = { m: new Map(), v: new Map(), data: new Map() };
    for (const [name, slot] of this.slots) {
      for (const [map, handle] of [
        [moments.m, slot.m],
        [moments.v, slot.v],
      ] as const) {
        const value = native.readVariable(handle);
        const variable = tf.variable(value, false);
        value.dispose();
        map.set(name, variable);
        moments.data.set(variable, variable.dataId);
      }
    }
    this.moments = moments;
    return moments;
  }

  /** Native path: write back snapshot values the caller assigned (resume), then free the snapshot. */
  private releaseSnapshot(writeBack: boolean): void {
    if (!this.native || !this.moments) return;
    const { m, v, data } = this.moments;
    for (const [name, slot] of this.slots) {
      for (const [variable, handle] of [
        [m.get(name)!, slot.m],
        [v.get(name)!, slot.v],
      ] as const) {
        if (writeBack && data.get(variable) !== variable.dataId) this.native.assignVariable(handle, variable);
        variable.dispose();
      }
    }
    this.moments = null;
  }
}

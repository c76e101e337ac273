import * as tf from '@tensorflow/tfjs';
import type { ParamSpec } from '../model/index.js';

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

/**
 * AdamW as torch.optim.AdamW computes it (decay, then moments, bias corrections, update), over
 * tf.Variables updated in place so a step allocates no lasting tensors.
 */
export class AdamW {
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  /** Optimizer steps taken (torch's `step` state). */
  t = 0;

  constructor(
    private readonly params: Map<string, tf.Variable>,
    private readonly specs: Map<string, ParamSpec>,
    private readonly s: AdamWSettings,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  step(grads: Map<string, tf.Tensor>, lr: number): void {
    this.t++;
    const { beta1, beta2, eps, weightDecay } = this.s;
    const bc1 = 1 - beta1 ** this.t;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** this.t);
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads.get(name);
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const mNew = m.mul(beta1).add(g.mul(1 - beta1));
        const vNew = v.mul(beta2).add(g.square().mul(1 - beta2));
        m.assign(mNew);
        v.assign(vNew);
        let base: tf.Tensor = p;
        if (weightDecay > 0 && decays(this.specs.get(name)!, this.s.decayEmbeddings))
          base = p.mul(1 - lr * weightDecay);
        const denom = vNew.sqrt().div(bc2Sqrt).add(eps);
        p.assign(base.sub(mNew.div(denom).mul(lr / bc1)));
      }
    });
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

import { GraphDefBuilder, type NodeDef, shapeAttr, T } from '../../lib/tf-graphdef.js';
import { DT } from '../../lib/tf-proto.js';
import type { ForwardGraph } from './forward-graph.js';

/**
 * What the compiled step runs after the gradients (which TF_AddGradients adds to the forward graph):
 * global-norm clipping, the finite guard and AdamW on resource variables, as src/train/adamw.ts's
 * native path does eagerly (ResourceApplyAdam, then ResourceApplyGradientDescent from the old
 * weights for the decoupled decay). Plus an `init/` subgraph that assigns every variable from a fed
 * value (parameters on a fresh start, parameters and moments on resume) and a read op per moment.
 *
 * The guard is a v1 cond made of plain Switch/Merge nodes: each clipped gradient passes through
 * Switch(g, finite):1, so when the loss or the gradient norm is not finite the update ops get dead
 * inputs and do not run, and the step leaves every variable as it was, inside the one session call.
 *
 * These nodes reference the forward graph's and the gradients' tensors by name; their GraphDef is
 * appended to the one the addon returns (repeated fields of concatenated messages merge).
 *
 * Feeds: lr, beta1_power, beta2_power, eps_hat (eps·sqrt(1 - beta2^t), ResourceApplyAdam's eps),
 * decay (lr·weight_decay), clip_norm (Infinity: no clipping). Fetches: loss, grad_norm, applied (int32
 * 1 or 0), init/done, `<param>/read`, `<param>/m/read`, `<param>/v/read`.
 *
 * With `accumulate` (train.grad_accum > 1) every parameter also has a gradient accumulator,
 * `<param>/acc`: fetching `accumulate/loss` adds one micro-batch's gradients to them (the micro-batch
 * loss scaled by 1/n through loss_scale, as the eager step divides it), and the step on the last
 * micro-batch takes acc + its own gradients, guards on prior_loss + its loss (prior_loss: the earlier
 * micro-batches' losses, fed), and zeroes the accumulators after the update.
 */

export interface UpdateOptions {
  beta1: number;
  beta2: number;
  /** Parameters that get the decoupled weight decay. */
  decayed: Set<string>;
  /** Gradient accumulators for train.grad_accum > 1. */
  accumulate?: boolean;
}

export const STEP_SCALARS = ['lr', 'beta1_power', 'beta2_power', 'eps_hat', 'decay', 'clip_norm'] as const;
export type StepScalar = (typeof STEP_SCALARS)[number];

const F = DT.DT_FLOAT;
const I32 = DT.DT_INT32;

/** Every variable of the step: each parameter and its two moments (name, handle node, read node, shape). */
export function stepVariables(
  fwd: ForwardGraph,
  accumulate = false,
): Array<{ name: string; handle: string; read: string; shape: number[] }> {
  return fwd.params.flatMap((p) => [
    { name: p.name, handle: p.handle, read: p.read, shape: p.spec.shape },
    ...(accumulate ? ['m', 'v', 'acc'] : ['m', 'v']).map((k) => ({
      name: `${p.name}/${k}`,
      handle: `${p.name}/${k}`,
      read: `${p.name}/${k}/read`,
      shape: p.spec.shape,
    })),
  ]);
}

export function emitUpdateGraph(fwd: ForwardGraph, gradients: string[], opts: UpdateOptions): NodeDef[] {
  let grads = gradients;
  const b = new GraphDefBuilder();
  const tf32 = { T: T(F) };
  const op = (name: string, type: string, inputs: string[], attr: NodeDef['attr'] = tf32) =>
    b.add(b.unique(`step/${name}`), type, inputs, attr);
  const scalar = (v: number) => b.const('step/const', F, [], Float32Array.of(v));
  const fed = Object.fromEntries(
    STEP_SCALARS.map((k) => [k, b.add(k, 'Placeholder', [], { dtype: T(F), shape: shapeAttr([]) })]),
  ) as Record<StepScalar, string>;

  const slots = opts.accumulate ? ['m', 'v', 'acc'] : ['m', 'v'];
  for (const p of fwd.params) {
    for (const k of slots) {
      const handle = b.add(`${p.name}/${k}`, 'VarHandleOp', [], {
        dtype: T(F),
        shape: shapeAttr(p.spec.shape),
        shared_name: { s: Buffer.from(`${p.name}/${k}`, 'utf8') },
      });
      b.add(`${handle}/read`, 'ReadVariableOp', [handle], { dtype: T(F) });
    }
  }
  const assigns = stepVariables(fwd, opts.accumulate).map((v) => {
    const value = b.add(`init/${v.name}`, 'Placeholder', [], { dtype: T(F), shape: shapeAttr(v.shape) });
    return b.add(`init/${v.name}/assign`, 'AssignVariableOp', [v.handle, value], { dtype: T(F) });
  });
  b.add('init/done', 'Identity', [b.const('init/one', I32, [], Int32Array.of(1)), ...assigns.map((a) => `^${a}`)], {
    T: T(I32),
  });

  let loss = fwd.loss;
  if (opts.accumulate) {
    const added = fwd.params.map((p, i) =>
      op('accumulate', 'AssignAddVariableOp', [`${p.name}/acc`, grads[i]], { dtype: T(F) }),
    );
    b.add('accumulate/loss', 'Identity', [fwd.loss, ...added.map((a) => `^${a}`)], tf32);
    // the step's gradients: the earlier micro-batches' (acc) plus this one's, in the eager step's order
    grads = fwd.params.map((p, i) => op('grad_total', 'AddV2', [`${p.name}/acc/read`, grads[i]]));
    const prior = b.add('prior_loss', 'PlaceholderWithDefault', [scalar(0)], { dtype: T(F), shape: shapeAttr([]) });
    loss = op('loss_total', 'AddV2', [prior, fwd.loss]);
  }

  // torch's clip_grad_norm_: total = sqrt(Σ Σ g²), coefficient min(1, clip / (total + 1e-6))
  const squares = grads.map((g, i) => {
    const rank = fwd.params[i].spec.shape.length;
    const axes = b.const(
      'step/axes',
      I32,
      [rank],
      Int32Array.from({ length: rank }, (_, k) => k),
    );
    return op('grad_sq_sum', 'Sum', [op('grad_sq', 'Square', [g]), axes], { T: T(F), Tidx: T(I32) });
  });
  const gradNorm = b.add(
    'grad_norm_value',
    'Sqrt',
    [op('grad_sq_total', 'AddN', squares, { N: { i: grads.length }, T: T(F) })],
    tf32,
  );
  const shifted = op('grad_norm_eps', 'AddV2', [gradNorm, scalar(1e-6)]);
  const coef = op('clip_coef', 'Minimum', [scalar(1), op('clip_ratio', 'RealDiv', [fed.clip_norm, shifted])]);
  const finite = op(
    'finite',
    'LogicalAnd',
    [op('loss_finite', 'IsFinite', [loss]), op('norm_finite', 'IsFinite', [gradNorm])],
    {},
  );
  const pred = op('switch_pred', 'Switch', [finite, finite], { T: T(DT.DT_BOOL) });
  const pivotTrue = op('pivot_t', 'Identity', [`${pred}:1`], { T: T(DT.DT_BOOL) });
  const pivotFalse = op('pivot_f', 'Identity', [`${pred}:0`], { T: T(DT.DT_BOOL) });
  const [beta1, beta2] = [scalar(opts.beta1), scalar(opts.beta2)];
  const flags = { T: T(F), use_locking: { b: false } };
  const lastUpdates = fwd.params.map((p, i) => {
    const clipped = op('grad_clipped', 'Mul', [grads[i], coef]);
    const live = op('grad_live', 'Switch', [clipped, finite]);
    const decayed = opts.decayed.has(p.name);
    const old = decayed ? op('old', 'ReadVariableOp', [p.handle, `^${pivotTrue}`], { dtype: T(F) }) : undefined;
    const adam = op(
      'adam',
      'ResourceApplyAdam',
      [
        ...[p.handle, `${p.name}/m`, `${p.name}/v`, fed.beta1_power, fed.beta2_power, fed.lr],
        ...[beta1, beta2, fed.eps_hat, `${live}:1`, ...(old ? [`^${old}`] : [])],
      ],
      { ...flags, use_nesterov: { b: false } },
    );
    // decay from the old weights, as torch does: p·(1 - lr·wd) - u = (p - u) - lr·wd·p
    return old ? op('decay', 'ResourceApplyGradientDescent', [p.handle, fed.decay, old, `^${adam}`], flags) : adam;
  });
  const appliedTrue = b.const('step/applied_t', I32, [], Int32Array.of(1), false);
  const appliedFalse = b.const('step/applied_f', I32, [], Int32Array.of(0), false);
  // control inputs on Consts: they live only in their branch (a dead control input makes them dead)
  b.nodes.find((n) => n.name === appliedTrue)!.input.push(`^${pivotTrue}`, ...lastUpdates.map((u) => `^${u}`));
  b.nodes.find((n) => n.name === appliedFalse)!.input.push(`^${pivotFalse}`);
  const merged = op('applied_merge', 'Merge', [appliedFalse, appliedTrue], { T: T(I32), N: { i: 2 } });
  // the accumulators start the next step at zero, once the update has read them (applied or not)
  const resets = opts.accumulate
    ? fwd.params.map((p, i) =>
        op('reset', 'AssignVariableOp', [`${p.name}/acc`, op('zeros', 'ZerosLike', [grads[i]]), `^${merged}`], {
          dtype: T(F),
        }),
      )
    : [`${merged}`];
  const after = resets.map((r) => `^${r}`);
  b.add('applied', 'Identity', [`${merged}:0`, ...(opts.accumulate ? after : [])], { T: T(I32) });
  b.add('loss', 'Identity', [loss, ...after], tf32);
  b.add('grad_norm', 'Identity', [gradNorm, ...after], tf32);
  return b.nodes;
}

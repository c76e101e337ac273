// Kernels the tfjs wasm backend (4.22) lacks, or runs slowly, when training BERT.
//
// - UnsortedSegmentSum: missing in wasm; the gradient of tf.gather (embedding lookup) needs it.
// - BatchMatMul: wasm sends only a single [m,k]x[k,p] product without transposes to XNNPACK
//   (~35 GFLOP/s here); transposed operands and batched products (attention) take a naive loop at
//   1-3 GFLOP/s. Every matmul gradient (dA = dC·Bᵀ, dB = Aᵀ·dC) and attention's Q·Kᵀ hit it.
//   fastBatchMatMul transposes explicitly (cheap, O(n²)) and splits batches so each product takes
//   the fast path. _FusedMatMul gets the explicit-transpose part.
// Each kernel is checked against the cpu backend in test/backend/wasm-kernels.test.ts.
import * as tf from '@tensorflow/tfjs';

type TypedArray = Float32Array | Int32Array | Uint8Array;

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackendLike {
  readSync(dataId: object): unknown;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): TypedArray;
  disposeData(dataId: object): boolean;
}

const WRAPPED = Symbol.for('recsys.wasm.transposeWrapped');

function sizeFromShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * UnsortedSegmentSum for wasm: out[ids[i], ...] += x[i, ...]. Ids outside [0, numSegments) are
 * dropped, as in TensorFlow. x: float32 or int32; segmentIds: int32 with shape x.shape[:rank(ids)].
 */
export function unsortedSegmentSumKernel(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const x = args.inputs.x as tf.TensorInfo;
  const segmentIds = args.inputs.segmentIds as tf.TensorInfo;
  const numSegments = Number((args.attrs as { numSegments: number }).numSegments);
  const idsRank = segmentIds.shape.length;
  for (let d = 0; d < idsRank; d++) {
    if (x.shape[d] !== segmentIds.shape[d]) {
      throw new Error(
        `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`,
      );
    }
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32')
    throw new Error(`UnsortedSegmentSum on wasm: unsupported dtype ${x.dtype}`);
  const innerShape = x.shape.slice(idsRank);
  const inner = sizeFromShape(innerShape);
  const xv = backend.readSync(x.dataId) as Float32Array | Int32Array;
  const idv = backend.readSync(segmentIds.dataId) as Int32Array | Float32Array;
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  // Read the heap view after makeOutput: allocating may grow (and detach) wasm memory.
  const ov = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  ov.fill(0);
  const n = idv.length;
  for (let i = 0; i < n; i++) {
    const s = idv[i];
    if (!(s >= 0 && s < numSegments)) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) ov[dst + j] += xv[src + j];
  }
  if (x.dtype === 'int32') for (let i = 0; i < ov.length; i++) ov[i] |= 0;
  return out;
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

function arraysEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Runs the backend's Transpose kernel to swap the last two axes; the caller disposes the result. */
function transposeLastTwo(x: tf.TensorInfo, backend: unknown, backendName: string): tf.TensorInfo {
  const transpose = tf.getKernel('Transpose', backendName);
  if (!transpose) throw new Error(`no Transpose kernel for ${backendName}`);
  return transpose.kernelFunc({
    inputs: { x },
    backend: backend as never,
    attrs: { perm: swapLastTwo(x.shape.length) },
  }) as tf.TensorInfo;
}

function marked(config: tf.KernelConfig): boolean {
  return Boolean((config as unknown as Record<symbol, boolean>)[WRAPPED]);
}

function mark(config: tf.KernelConfig): tf.KernelConfig {
  (config as unknown as Record<symbol, boolean>)[WRAPPED] = true;
  return config;
}

/**
 * Wrap a wasm matmul kernel (_FusedMatMul) so transposed operands are transposed explicitly and
 * the kernel's fast (no-transpose) path runs.
 */
export function withExplicitTransposes(config: tf.KernelConfig): tf.KernelConfig {
  if (marked(config)) return config;
  const original = config.kernelFunc;
  const kernelFunc: tf.KernelFunc = (args) => {
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return original(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const temps: tf.TensorInfo[] = [];
    const t = (x: tf.TensorInfo): tf.TensorInfo => {
      const r = transposeLastTwo(x, args.backend, config.backendName);
      temps.push(r);
      return r;
    };
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const inputs = { ...args.inputs, a: attrs.transposeA ? t(a) : a, b: attrs.transposeB ? t(b) : b };
    try {
      return original({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const x of temps) backend.disposeData(x.dataId);
    }
  };
  return mark({ ...config, kernelFunc });
}

/**
 * BatchMatMul for wasm that keeps every product on XNNPACK's fast path, which in tfjs-backend-wasm
 * 4.22 only covers one [m,k]x[k,p] product without transposes:
 * - transposed operands are transposed explicitly first (O(n²));
 * - b with batch 1 (e.g. a dense layer on [batch, seq, hidden]): the batch is folded into a's rows,
 *   one [batch·m,k]x[k,p] product;
 * - batched a and b (attention scores and context): one fast product per batch entry.
 * Other broadcasts go to the stock kernel. Same products, summed in a different order.
 */
export function fastBatchMatMul(config: tf.KernelConfig): tf.KernelConfig {
  if (marked(config)) return config;
  const original = config.kernelFunc;
  const kernelFunc: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2)
      return original(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const temps: tf.TensorInfo[] = [];
    try {
      const a2 = attrs.transposeA ? transposeLastTwo(a, args.backend, config.backendName) : a;
      if (a2 !== a) temps.push(a2);
      const b2 = attrs.transposeB ? transposeLastTwo(b, args.backend, config.backendName) : b;
      if (b2 !== b) temps.push(b2);
      const [m, k] = a2.shape.slice(-2);
      const [k2, p] = b2.shape.slice(-2);
      if (k !== k2) return original(args); // the stock kernel reports the shape error
      const outerA = a2.shape.slice(0, -2);
      const outerB = b2.shape.slice(0, -2);
      const batchA = sizeFromShape(outerA);
      const batchB = sizeFromShape(outerB);
      const call = (x: tf.TensorInfo, y: tf.TensorInfo): tf.TensorInfo =>
        original({
          inputs: { a: x, b: y },
          backend: args.backend,
          attrs: { transposeA: false, transposeB: false },
        }) as tf.TensorInfo;

      if (batchA <= 1 && batchB <= 1) return call(a2, b2);
      const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
      if (batchB === 1) {
        const out = call({ ...a2, shape: [1, batchA * m, k] }, { ...b2, shape: [1, k, p] });
        out.shape = [...outer, m, p];
        return out;
      }
      // Batch dims that broadcast other than "one side has batch 1": stock kernel.
      if (!(batchA === 1 || arraysEqual(outerA, outerB))) return call(a2, b2);
      const n = batchB;
      const out = backend.makeOutput([...outer, m, p], 'float32');
      for (let i = 0; i < n; i++) {
        const local: tf.TensorInfo[] = [];
        try {
          let ai: tf.TensorInfo = { ...a2, shape: [1, m, k] };
          if (batchA !== 1) {
            ai = backend.makeOutput([1, m, k], 'float32');
            local.push(ai);
            backend.typedArrayFromHeap(ai).set(backend.typedArrayFromHeap(a2).subarray(i * m * k, (i + 1) * m * k));
          }
          const bi = backend.makeOutput([1, k, p], 'float32');
          local.push(bi);
          // Views are taken after each allocation: growing wasm memory detaches older ones.
          backend.typedArrayFromHeap(bi).set(backend.typedArrayFromHeap(b2).subarray(i * k * p, (i + 1) * k * p));
          const ci = call(ai, bi);
          local.push(ci);
          backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(ci), i * m * p);
        } finally {
          for (const x of local) backend.disposeData(x.dataId);
        }
      }
      return out;
    } finally {
      for (const x of temps) backend.disposeData(x.dataId);
    }
  };
  return mark({ ...config, kernelFunc });
}

/** Kernel names this module adds to (or replaces in) the wasm backend. */
export const WASM_EXTRA_KERNELS = ['UnsortedSegmentSum'] as const;
export const WASM_WRAPPED_KERNELS = ['BatchMatMul', '_FusedMatMul'] as const;

/**
 * Register the extra kernels for `backendName` (default 'wasm'). Call after importing
 * @tensorflow/tfjs-backend-wasm and before the first tf.setBackend('wasm'). Idempotent.
 * `fastMatMul: false` (or env RECSYS_WASM_FAST_MATMUL=0) keeps the stock matmul kernels.
 */
export function registerWasmKernels(backendName = 'wasm', opts: { fastMatMul?: boolean } = {}): string[] {
  const fastMatMul = opts.fastMatMul ?? process.env.RECSYS_WASM_FAST_MATMUL !== '0';
  const changed: string[] = [];
  if (!tf.getKernel('UnsortedSegmentSum', backendName)) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName,
      kernelFunc: unsortedSegmentSumKernel as unknown as tf.KernelFunc,
    });
    changed.push('UnsortedSegmentSum');
  }
  if (!fastMatMul) return changed;
  for (const name of WASM_WRAPPED_KERNELS) {
    const cfg = tf.getKernel(name, backendName);
    if (!cfg || marked(cfg)) continue;
    const wrapped = name === 'BatchMatMul' ? fastBatchMatMul(cfg) : withExplicitTransposes(cfg);
    tf.unregisterKernel(name, backendName);
    tf.registerKernel(wrapped);
    changed.push(name);
  }
  return changed;
}

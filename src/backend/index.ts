// Compute backend selection for recsys. This is the only module that imports @tensorflow/tfjs-node,
// @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-backend-wasm. Model code imports
// `* as tf from '@tensorflow/tfjs'`; every backend registers into that same tfjs-core engine.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';

import { collapseWhitespace } from '../lib/errors.js';
import { BackendUnavailableError } from './errors.js';
import {
  NATIVE_PACKAGES,
  type LoadedNative,
  type NativePackage,
  type NativeStatus,
  loadNativePackage,
  nativeProblem,
  nativeStatus,
} from './native.js';
import { loadWasm, wasmDir } from './wasm.js';

export { BackendUnavailableError } from './errors.js';
export {
  cacheRoot,
  nativeCacheDir,
  listCacheEntries,
  nativeStatus,
  nativeStatusAt,
  linkFromCache,
  nativeProblem,
  type NativeStatus,
  type NativePackage,
  type NativeCacheEntry,
} from './native.js';
export {
  registerWasmKernels,
  unsortedSegmentSumKernel,
  WASM_EXTRA_KERNELS,
  WASM_WRAPPED_KERNELS,
} from './wasm-kernels.js';

export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type ActiveBackendName = Exclude<BackendName, 'auto'>;
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  name: ActiveBackendName;
  /** Why this backend: 'requested', or for 'auto' what was tried and why it was (not) taken. */
  reason: string;
  /** TensorFlow version of the native library (tensorflow backend only). */
  tfVersion?: string;
  /** True when TensorFlow runs ops on a GPU. */
  gpu: boolean;
  /** The native package that provides the tensorflow backend. */
  package?: NativePackage;
  /** wasm only */
  simd?: boolean;
  threads?: number;
}

export interface InitBackendOptions {
  /** One line per decision; default: write to stderr. */
  log?: (msg: string) => void;
  /** Keep TensorFlow's native logs (otherwise TF_CPP_MIN_LOG_LEVEL=2 and the load-time oneDNN line muted). */
  verbose?: boolean;
  /** Testing hook: how to find the native packages (default: nativeStatus, i.e. node_modules + cache). */
  nativeStatus?: (pkg: NativePackage) => NativeStatus;
}

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(s);
}

const require = createRequire(import.meta.url);
let native: LoadedNative | undefined;

function defaultLog(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function unregisterBackendKernels(backendName: string): void {
  for (const k of tf.getKernelsForBackend(backendName)) tf.unregisterKernel(k.kernelName, backendName);
}

/**
 * Load native TensorFlow: @tensorflow/tfjs-node-gpu if installed, else @tensorflow/tfjs-node.
 * Returns the loaded package or the list of problems ("<package>: <problem>; <what to do>").
 */
function tryNative(opts: InitBackendOptions): { loaded?: LoadedNative; problems: string[] } {
  if (native) return { loaded: native, problems: [] };
  const problems: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    const status = (opts.nativeStatus ?? nativeStatus)(pkg);
    if (pkg === '@tensorflow/tfjs-node-gpu' && !status.installed) continue; // optional; nothing to report
    const problem = nativeProblem(status);
    if (problem) {
      problems.push(problem);
      continue;
    }
    try {
      native = loadNativePackage(status, { verbose: opts.verbose });
      return { loaded: native, problems };
    } catch (e) {
      problems.push(collapseWhitespace((e as Error).message));
      // A failed require may have registered the package's kernels without its backend.
      if (!tf.findBackend('tensorflow')) unregisterBackendKernels('tensorflow');
    }
  }
  return { problems };
}

/** The native package initBackend loaded, if any (the compiled training step finds its addon through it). */
export function loadedNative(): LoadedNative | undefined {
  return native;
}

async function useNative(): Promise<void> {
  if (tf.getBackend() !== 'tensorflow' && !(await tf.setBackend('tensorflow'))) {
    throw new Error('the tensorflow backend is registered but could not be activated');
  }
  await tf.ready();
}

async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  // The cpu backend prints a banner ("Hi, looks like you are running TensorFlow.js in Node.js…") on
  // first use; recsys already says which backend it picked and why.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

function nativeInfo(n: LoadedNative, reason: string): BackendInfo {
  return { name: 'tensorflow', reason, tfVersion: n.tfVersion, gpu: n.gpu, package: n.package };
}

/**
 * Pick and activate the compute backend.
 * - 'auto': tfjs-node-gpu, then tfjs-node (relinking a cached binding if node_modules lost it),
 *   else wasm, else cpu; logs one line saying which and why.
 * - 'tensorflow' | 'wasm' | 'cpu': that backend or a BackendUnavailableError (exit code 2) whose
 *   one-line message says what to install or run.
 */
export async function initBackend(requested: BackendName, opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const log = opts.log ?? defaultLog;
  if (!isBackendName(requested)) {
    throw new BackendUnavailableError(`unknown backend '${String(requested)}'; use one of ${BACKEND_NAMES.join(', ')}`);
  }

  if (requested === 'cpu') {
    await useCpu();
    log('backend: cpu (requested; pure JavaScript, too slow to train BERT)');
    return { name: 'cpu', reason: 'requested', gpu: false };
  }

  if (requested === 'tensorflow') {
    const { loaded, problems } = tryNative(opts);
    if (!loaded)
      throw new BackendUnavailableError(
        `backend 'tensorflow' unavailable: ${problems.join(' / ') || 'no native TensorFlow package'}`,
      );
    await useNative();
    const info = nativeInfo(loaded, 'requested');
    const gpu = loaded.gpu ? ', GPU' : '';
    log(`backend: tensorflow (requested; TensorFlow ${loaded.tfVersion} via ${loaded.package}${gpu})`);
    return info;
  }

  if (requested === 'wasm') {
    try {
      const w = await loadWasm();
      log(`backend: wasm (requested; SIMD ${w.simd ? 'on' : 'off'}, ${w.threads} thread)`);
      return { name: 'wasm', reason: 'requested', gpu: false, simd: w.simd, threads: w.threads };
    } catch (e) {
      throw new BackendUnavailableError(`backend 'wasm' unavailable: ${(e as Error).message}`);
    }
  }

  // auto
  const { loaded, problems } = tryNative(opts);
  if (loaded) {
    try {
      await useNative();
      const from = loaded.relinked
        ? 'binding relinked from the setup:native cache'
        : loaded.status.source === 'cache'
          ? 'binding from the setup:native cache'
          : 'binding in node_modules';
      const skipped = problems.length ? `; @tensorflow/tfjs-node-gpu skipped: ${problems.join(' / ')}` : '';
      const gpu = loaded.gpu ? ', GPU in use' : '';
      const reason = `native TensorFlow ${loaded.tfVersion} via ${loaded.package} (${from})${gpu}${skipped}`;
      log(`backend: tensorflow (${reason})`);
      return nativeInfo(loaded, reason);
    } catch (e) {
      problems.push(collapseWhitespace((e as Error).message));
    }
  }
  const nativeWhy = `native TensorFlow unavailable: ${problems.join(' / ')}`;
  try {
    const w = await loadWasm();
    const reason = `${nativeWhy}; wasm is ~10-20x slower than native for training`;
    log(`backend: wasm (${reason})`);
    return { name: 'wasm', reason, gpu: false, simd: w.simd, threads: w.threads };
  } catch (e) {
    const reason = `${nativeWhy}; wasm unavailable: ${collapseWhitespace((e as Error).message)}`;
    await useCpu();
    log(`backend: cpu (${reason})`);
    return { name: 'cpu', reason, gpu: false };
  }
}

// ---------------------------------------------------------------- descriptions (no loading)

export interface BackendAvailability {
  name: ActiveBackendName;
  /** Whether it looks loadable without trying (the doctor's probes try for real). */
  available: boolean;
  detail: string;
}

export interface BackendsDescription {
  /** What initBackend('auto') would most likely pick, judged from the files present. */
  auto: ActiveBackendName;
  backends: BackendAvailability[];
  native: NativeStatus[];
  tfjsVersion: string;
  /** The backend active in this process right now (undefined if none initialised yet). */
  active?: string;
}

/** Static description of the backends (looks at files; loads nothing). */
export function describeBackends(): BackendsDescription {
  const statuses = NATIVE_PACKAGES.map((p) => nativeStatus(p));
  const usable = statuses.find((s) => s.installed && !nativeProblem(s));
  const cpuPkg = statuses.find((s) => s.package === '@tensorflow/tfjs-node')!;
  let tfDetail: string;
  if (native) tfDetail = `loaded: TensorFlow ${native.tfVersion} via ${native.package}`;
  else if (usable) {
    const where = usable.source === 'cache' ? `linked from ${usable.linkedTo}` : 'in node_modules';
    tfDetail = usable.bindingPresent
      ? `${usable.package} binding at ${usable.bindingPath} (${where})`
      : `${usable.package} binding will be relinked from the cache ${usable.cacheEntry?.dir}`;
  } else tfDetail = nativeProblem(cpuPkg) ?? 'unavailable';

  let wasmOk = false;
  let wasmDetail: string;
  try {
    const dir = wasmDir();
    wasmOk = fs.existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm'));
    wasmDetail = wasmOk ? `binaries in ${dir}` : `tfjs-backend-wasm-simd.wasm missing in ${dir}; run \`npm ci\``;
  } catch {
    wasmDetail = '@tensorflow/tfjs-backend-wasm is not installed; run `npm ci`';
  }
  const tfOk = Boolean(native || usable);
  return {
    auto: tfOk ? 'tensorflow' : wasmOk ? 'wasm' : 'cpu',
    backends: [
      { name: 'tensorflow', available: tfOk, detail: tfDetail },
      { name: 'wasm', available: wasmOk, detail: wasmDetail },
      { name: 'cpu', available: true, detail: 'pure JavaScript (always available; ~1 GFLOP/s)' },
    ],
    native: statuses,
    tfjsVersion: tf.version.tfjs ?? tf.version['tfjs-core'],
    active: safeGetBackend(),
  };
}

function safeGetBackend(): string | undefined {
  try {
    // getBackend() would initialise the best registered backend as a side effect; only report one that is set.
    const engine = tf.engine() as unknown as { backendName?: string | null };
    return engine.backendName ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every installed copy of @tensorflow/tfjs-core under the project's node_modules (path + version).
 * More than one copy would mean separate engines unless they share the global one; there should be one.
 */
export function tfjsCoreCopies(): { path: string; version: string }[] {
  let root: string;
  try {
    const pj = require.resolve('@tensorflow/tfjs-core/package.json');
    root = path.resolve(path.dirname(pj), '..', '..'); // …/node_modules
  } catch {
    return [];
  }
  const found: { path: string; version: string }[] = [];
  const seen = new Set<string>();
  const visitPkg = (dir: string, name: string, depth: number): void => {
    if (name === '@tensorflow/tfjs-core') {
      try {
        found.push({ path: dir, version: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version });
      } catch {
        /* not a package */
      }
    }
    const nested = path.join(dir, 'node_modules');
    if (depth < 6 && fs.existsSync(nested)) walk(nested, depth + 1);
  };
  const walk = (nm: string, depth: number): void => {
    let real: string;
    try {
      real = fs.realpathSync(nm);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(nm, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(nm, e.name);
      if (e.name.startsWith('@')) {
        let subs: string[] = [];
        try {
          subs = fs.readdirSync(p);
        } catch {
          /* ignore */
        }
        for (const s of subs) visitPkg(path.join(p, s), `${e.name}/${s}`, depth);
      } else if (e.isDirectory() || e.isSymbolicLink()) {
        visitPkg(p, e.name, depth);
      }
    }
  };
  walk(root, 0);
  return found;
}

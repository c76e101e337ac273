// `recsys doctor`: what the compute backends look like on this machine. The CLI wiring lives
// elsewhere; this module only gathers (runDoctor) and formats (formatDoctorReport).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { type ActiveBackendName, describeBackends, tfjsCoreCopies } from './index.js';
import { nativeCacheDir, type NativeStatus } from './native.js';
import type { ProbeChildResult } from './probe-child.js';

const require = createRequire(import.meta.url);

export interface ProbeResult {
  backend: ActiveBackendName;
  ok: boolean;
  /** float32 n×n matmul throughput */
  gflops?: number;
  n?: number;
  iterations?: number;
  seconds?: number;
  tfVersion?: string;
  gpu?: boolean;
  package?: string;
  simd?: boolean;
  error?: string;
}

export interface LibraryProbe {
  library: 'libcudart' | 'libcudnn';
  /** Found in the dynamic linker cache (ldconfig -p), LD_LIBRARY_PATH or the setup:native cache. */
  found: boolean;
  path?: string;
  /** dlopen() of the library succeeded (tried in a child process). */
  loaded: boolean;
  soname?: string;
  error?: string;
}

export interface NativeReport {
  package: string;
  installed: boolean;
  version?: string;
  bindingPresent: boolean;
  /** Where the binding comes from: 'cache' (linked by setup:native), 'node_modules', or 'none'. */
  source: NativeStatus['source'];
  bindingPath?: string;
  linkedTo?: string;
  /** A usable cached build for this package version. */
  cache?: { dir: string; tfSpec: string; tfVersion: string; builtAt: string };
}

export interface DoctorReport {
  auto: { backend: ActiveBackendName; reason: string };
  tfjsVersion: string;
  tfjsCoreCopies: { path: string; version: string }[];
  /** TensorFlow version of the native library (from the tensorflow probe, else the cache manifest). */
  tfVersion?: string;
  native: NativeReport[];
  cacheDir: string;
  gpu: { tensorflowUsesGpu: boolean; devices: string[]; note: string };
  cuda: LibraryProbe[];
  /** One per probed backend, in the order tensorflow, wasm, cpu (empty if probes were off). */
  probes: ProbeResult[];
  node: string;
  platform: string;
}

export interface DoctorOptions {
  /** Run the matmul probes (default true). */
  probe?: boolean;
  /** Seconds per probe (default 1). */
  probeSeconds?: number;
  /** Backends to probe (default all three). */
  backends?: ActiveBackendName[];
}

const PROBE_SIZE: Record<ActiveBackendName, number> = { tensorflow: 1024, wasm: 1024, cpu: 256 };

/** Command prefix that runs a sibling module of this file (through tsx when running from .ts sources). */
function siblingCommand(base: string): { args: string[]; file: string } {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const file = path.join(path.dirname(here), `${base}${ext}`);
  const args: string[] = [];
  if (ext === '.ts' || ext === '.mts') {
    const loader = require.resolve('tsx');
    args.push('--import', pathToFileURL(loader).href);
  }
  return { args, file };
}

function runChild(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: String(e) });
    });
  });
}

/** Time matmuls on one backend in a child process. */
export async function probeBackend(backend: ActiveBackendName, seconds = 1): Promise<ProbeResult> {
  const { args, file } = siblingCommand('probe-child');
  const r = await runChild(
    [...args, file, backend, String(seconds), String(PROBE_SIZE[backend])],
    60_000 + seconds * 10_000,
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let res: ProbeChildResult | undefined;
  try {
    res = JSON.parse(line) as ProbeChildResult;
  } catch {
    res = undefined;
  }
  if (!res) {
    const err = r.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${r.code}`;
    return { backend, ok: false, error: `probe process failed: ${err.slice(0, 300)}` };
  }
  return {
    backend,
    ok: res.ok,
    gflops: res.gflops,
    n: res.n,
    iterations: res.iterations,
    seconds: res.seconds,
    tfVersion: res.tfVersion,
    gpu: res.gpu,
    package: res.package,
    simd: res.simd,
    error: res.error,
  };
}

// ---------------------------------------------------------------- CUDA / cuDNN

const CUDA_LIBS: { library: LibraryProbe['library']; sonames: string[] }[] = [
  { library: 'libcudart', sonames: ['libcudart.so.12', 'libcudart.so.13', 'libcudart.so.11.0', 'libcudart.so'] },
  { library: 'libcudnn', sonames: ['libcudnn.so.9', 'libcudnn.so.8', 'libcudnn.so'] },
];

function ldconfigCache(): Map<string, string> {
  const map = new Map<string, string>();
  for (const cmd of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const r = spawnSync(cmd, ['-p'], { encoding: 'utf8' });
    if (r.status !== 0 || !r.stdout) continue;
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
      if (m && !map.has(m[1]) && (process.arch !== 'x64' || m[2].includes('x86-64'))) map.set(m[1], m[3]);
    }
    break;
  }
  return map;
}

function searchDirs(statuses: NativeStatus[]): string[] {
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  for (const s of statuses) {
    const nv = s.cacheEntry ? path.join(s.cacheEntry.dir, 'deps', 'nvidia') : undefined;
    if (nv && fs.existsSync(nv)) {
      for (const d of fs.readdirSync(nv)) dirs.push(path.join(nv, d, 'lib'));
    }
  }
  return dirs;
}

/** Look the CUDA runtime and cuDNN up (ldconfig -p, LD_LIBRARY_PATH, cache) and dlopen them in a child. */
export async function probeCudaLibraries(
  statuses: NativeStatus[] = describeBackends().native,
): Promise<LibraryProbe[]> {
  const cache = ldconfigCache();
  const dirs = searchDirs(statuses);
  const candidates = CUDA_LIBS.map(({ library, sonames }) => {
    for (const soname of sonames) {
      if (cache.has(soname)) return { library, soname, path: cache.get(soname)! };
      for (const d of dirs) {
        const p = path.join(d, soname);
        if (fs.existsSync(p)) return { library, soname, path: p };
      }
    }
    return { library, soname: undefined, path: undefined };
  });
  // process.dlopen loads the library and then fails with "did not self-register" because it is not
  // a Node addon: that failure means dlopen itself worked.
  const script = `
    const out = [];
    for (const c of JSON.parse(process.argv[1])) {
      const targets = c.path ? [c.path] : c.sonames;
      let loaded = false, error, soname;
      for (const t of targets) {
        try { process.dlopen({ exports: {} }, t); loaded = true; soname = t; break; }
        catch (e) {
          const m = String(e && e.message || e);
          if (/self-register|napi_register_module/.test(m)) { loaded = true; soname = t; break; }
          error = m.split('\\n')[0];
        }
      }
      out.push({ library: c.library, loaded, soname, error });
    }
    process.stdout.write(JSON.stringify(out));`;
  const payload = candidates.map((c) => ({ ...c, sonames: CUDA_LIBS.find((l) => l.library === c.library)!.sonames }));
  const r = await runChild(['-e', script, JSON.stringify(payload)], 30_000);
  let loadedInfo: { library: string; loaded: boolean; soname?: string; error?: string }[] = [];
  try {
    loadedInfo = JSON.parse(r.stdout);
  } catch {
    loadedInfo = [];
  }
  return candidates.map((c) => {
    const l = loadedInfo.find((x) => x.library === c.library);
    const loaded = Boolean(l?.loaded);
    const soname = c.soname ?? (loaded && l?.soname ? path.basename(l.soname) : undefined);
    return {
      library: c.library,
      found: Boolean(c.path) || loaded,
      path: c.path,
      loaded,
      soname,
      error: loaded ? undefined : c.path ? l?.error : 'not found (ldconfig -p, LD_LIBRARY_PATH)',
    };
  });
}

function nvidiaSmiDevices(): string[] {
  const r = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0 || !r.stdout) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('GPU'));
}

// ---------------------------------------------------------------- report

export async function runDoctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  const desc = describeBackends();
  const probeOn = opts.probe ?? true;
  const seconds = opts.probeSeconds ?? 1;
  const backends = opts.backends ?? (['tensorflow', 'wasm', 'cpu'] as ActiveBackendName[]);

  const probes: ProbeResult[] = [];
  if (probeOn) {
    // One at a time: concurrent probes would share the cores and understate each other.
    for (const b of backends) probes.push(await probeBackend(b, seconds));
  }
  const cuda = await probeCudaLibraries(desc.native);

  const tfProbe = probes.find((p) => p.backend === 'tensorflow');
  const native: NativeReport[] = desc.native.map((s) => ({
    package: s.package,
    installed: s.installed,
    version: s.version,
    bindingPresent: s.bindingPresent,
    source: s.source,
    bindingPath: s.bindingPath,
    linkedTo: s.linkedTo,
    cache: s.cacheEntry
      ? {
          dir: s.cacheEntry.dir,
          tfSpec: s.cacheEntry.manifest.tfSpec,
          tfVersion: s.cacheEntry.manifest.tfVersion,
          builtAt: s.cacheEntry.manifest.builtAt,
        }
      : undefined,
  }));
  const usable = native.find((n) => n.installed && (n.bindingPresent || n.cache));
  const tfVersion = tfProbe?.ok ? tfProbe.tfVersion : usable?.cache?.tfVersion;

  // What 'auto' picks: the same order initBackend uses, confirmed by the probes when they ran.
  let auto: DoctorReport['auto'];
  const okProbe = (b: ActiveBackendName) => probes.find((p) => p.backend === b);
  const tfOk = tfProbe ? tfProbe.ok : desc.backends[0].available;
  const wasmProbe = okProbe('wasm');
  const wasmOk = wasmProbe ? wasmProbe.ok : desc.backends[1].available;
  if (tfOk) {
    const nativePackage = tfProbe?.package ?? usable?.package ?? '@tensorflow/tfjs-node';
    auto = {
      backend: 'tensorflow',
      reason: `native TensorFlow ${tfVersion ?? ''} via ${nativePackage}`.replace('  ', ' '),
    };
  } else if (wasmOk) {
    auto = { backend: 'wasm', reason: `native TensorFlow unavailable: ${tfProbe?.error ?? desc.backends[0].detail}` };
  } else {
    auto = {
      backend: 'cpu',
      reason:
        `native and wasm unavailable: ${tfProbe?.error ?? desc.backends[0].detail}; ` +
        `${wasmProbe?.error ?? desc.backends[1].detail}`,
    };
  }

  const gpuPkg = native.find((n) => n.package === '@tensorflow/tfjs-node-gpu');
  const devices = nvidiaSmiDevices();
  const tensorflowUsesGpu = Boolean(tfProbe?.gpu);
  let note: string;
  if (tensorflowUsesGpu) note = `TensorFlow runs ops on the GPU (${tfProbe?.package})`;
  else if (!gpuPkg?.installed)
    note = 'none: CPU build (@tensorflow/tfjs-node; @tensorflow/tfjs-node-gpu is not installed)';
  else if (tfProbe?.package === '@tensorflow/tfjs-node-gpu')
    note =
      'none: @tensorflow/tfjs-node-gpu loaded but TensorFlow uses no GPU (CPU-only TensorFlow ' +
      'build, or CUDA/cuDNN/driver not found)';
  else note = 'none: @tensorflow/tfjs-node-gpu is installed but was not loaded';

  return {
    auto,
    tfjsVersion: desc.tfjsVersion,
    tfjsCoreCopies: tfjsCoreCopies(),
    tfVersion,
    native,
    cacheDir: nativeCacheDir(),
    gpu: { tensorflowUsesGpu, devices, note },
    cuda,
    probes,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

function pad(label: string): string {
  return `  ${label.padEnd(20)}`;
}

export function formatDoctorReport(r: DoctorReport): string {
  const lines: string[] = ['recsys doctor'];
  const cont = ' '.repeat(22);
  lines.push(`${pad('backend (auto)')}${r.auto.backend} (${r.auto.reason})`);
  const copies = r.tfjsCoreCopies.length;
  const where = r.tfjsCoreCopies.map((c) => `${c.version} at ${c.path}`).join(', ');
  lines.push(
    `${pad('tfjs')}${r.tfjsVersion} (${copies} cop${copies === 1 ? 'y' : 'ies'} of ` +
      `@tensorflow/tfjs-core${copies > 1 ? `: ${where}` : ''})`,
  );
  lines.push(`${pad('TensorFlow')}${r.tfVersion ?? 'not available (run `npm run setup:native`)'}`);
  r.native.forEach((n, i) => {
    const label = i === 0 ? 'native binding' : '';
    let text: string;
    if (!n.installed) text = `${n.package}: not installed`;
    else if (n.bindingPresent) {
      const from = n.source === 'cache' ? `linked from the cache ${n.linkedTo}` : `in node_modules (${n.bindingPath})`;
      text = `${n.package}@${n.version}: present, ${from}${n.cache ? ` [${n.cache.tfSpec}]` : ''}`;
    } else if (n.cache)
      text = `${n.package}@${n.version}: missing in node_modules; will be relinked from the cache ${n.cache.dir}`;
    else text = `${n.package}@${n.version}: not built (run \`npm run setup:native\`)`;
    lines.push(i === 0 ? `${pad(label)}${text}` : `${cont}${text}`);
  });
  lines.push(`${pad('native cache')}${r.cacheDir}`);
  lines.push(`${pad('GPU devices (TF)')}${r.gpu.tensorflowUsesGpu ? 'in use' : r.gpu.note}`);
  if (r.gpu.devices.length) for (const d of r.gpu.devices) lines.push(`${cont}nvidia-smi: ${d}`);
  for (const c of r.cuda) {
    const label = c.library === 'libcudart' ? 'CUDA runtime' : 'cuDNN';
    const text = c.loaded
      ? `${c.soname ?? c.library} loads${c.path ? ` (${c.path})` : ''}`
      : c.found
        ? `${c.soname ?? c.library} found at ${c.path} but does not load: ${c.error ?? 'unknown error'}`
        : `${c.library}: not found`;
    lines.push(`${pad(label)}${text}`);
  }
  if (r.probes.length === 0) lines.push(`${pad('matmul probe')}skipped`);
  r.probes.forEach((p, i) => {
    const text = p.ok
      ? `${p.backend.padEnd(11)}${String(p.gflops?.toFixed(1)).padStart(7)} GFLOP/s  (float32 ` +
        `${p.n}x${p.n}, ${p.iterations} in ${p.seconds?.toFixed(2)} ` +
        `s${p.backend === 'wasm' && p.simd !== undefined ? `, SIMD ${p.simd ? 'on' : 'off'}` : ''})`
      : `${p.backend.padEnd(11)}unavailable: ${p.error}`;
    lines.push(i === 0 ? `${pad('matmul probe')}${text}` : `${cont}${text}`);
  });
  lines.push(`${pad('node')}${r.node} ${r.platform}`);
  return lines.join('\n');
}

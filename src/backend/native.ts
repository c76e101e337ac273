// Native TensorFlow (tfjs-node / tfjs-node-gpu): where its binding is, the build cache that
// `npm run setup:native` (scripts/setup-native.mjs) fills, relinking from that cache, and loading.
//
// Cache layout, written by scripts/setup-native.mjs:
//   <cacheRoot>/native/<package>-<version>__<tf spec>__<platform>-<arch>/
//     manifest.json  lib/napi-v8/tfjs_binding.node  deps/lib/libtensorflow{,_framework}.so.2 …
// and node_modules/<package>/{lib,deps} are symlinks into that directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

import { collapseWhitespace } from '../lib/errors.js';

export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
export type NativePackage = (typeof NATIVE_PACKAGES)[number];

const MANIFEST_FORMAT = 1;
/**
 * The binding change setup-native.mjs applies before compiling (scripts/native/binding-patch.mjs: tensors
 * made from JavaScript arrays own their memory). A build without it is not used: `npm run setup:native`
 * builds it again.
 */
export const BINDING_PATCH = 'own-memory-1';
const require = createRequire(import.meta.url);

export interface NativeManifest {
  format: number;
  package: string;
  packageVersion: string;
  tfSpec: string;
  tfVersion: string;
  napi: number;
  binding: string;
  /** The binding patch compiled in (BINDING_PATCH); absent in builds from before it. */
  bindingPatch?: string;
  /** Optional N-API helper that mutes fd 2 while libtensorflow loads (see setup-native.mjs). */
  stderrGate?: string;
  /** Optional N-API addon running TF_AddGradients, for the compiled training step (see setup-native.mjs). */
  graphGradients?: string;
  platform: string;
  arch: string;
  builtAt: string;
  buildSeconds?: number;
}

export interface NativeCacheEntry {
  dir: string;
  manifest: NativeManifest;
}

export interface NativeStatus {
  package: NativePackage;
  installed: boolean;
  version?: string;
  packageDir?: string;
  /** Where the package itself loads its binding from (node_modules/<pkg>/lib/napi-vN/tfjs_binding.node). */
  bindingPath?: string;
  bindingPresent: boolean;
  /** 'cache': node_modules links into the setup:native cache; 'node_modules': real files there; 'none': missing. */
  source: 'cache' | 'node_modules' | 'none';
  /** Real directory the binding comes from, when it is a link into the cache. */
  linkedTo?: string;
  /** A usable cached build for this package version (whether linked or not). */
  cacheEntry?: NativeCacheEntry;
}

/** $RECSYS_CACHE, else $XDG_CACHE_HOME/recsys, else ~/.cache/recsys (same rule as setup-native.mjs). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RECSYS_CACHE) return path.resolve(env.RECSYS_CACHE);
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), 'recsys');
  return path.join(os.homedir(), '.cache', 'recsys');
}

export function nativeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), 'native');
}

interface PackageJson {
  name: string;
  version: string;
  binary?: { napi_versions?: number[] };
}

function readPackage(pkg: string): { dir: string; json: PackageJson } | undefined {
  try {
    const pj = require.resolve(`${pkg}/package.json`);
    return { dir: path.dirname(pj), json: JSON.parse(fs.readFileSync(pj, 'utf8')) as PackageJson };
  } catch {
    return undefined;
  }
}

/** The N-API version node-pre-gyp (inside tfjs-node) picks: the highest napi_versions entry this Node supports. */
export function napiVersionFor(json: PackageJson): number {
  const node = Number(process.versions.napi);
  const supported = (json.binary?.napi_versions ?? [8]).filter((v) => v <= node);
  return supported.length ? Math.max(...supported) : 8;
}

function validEntry(dir: string): NativeCacheEntry | undefined {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as NativeManifest;
    if (manifest.format !== MANIFEST_FORMAT || manifest.bindingPatch !== BINDING_PATCH) return undefined;
    if (!fs.existsSync(path.join(dir, manifest.binding))) return undefined;
    if (!fs.existsSync(path.join(dir, 'deps', 'lib', 'libtensorflow.so.2'))) return undefined;
    return { dir, manifest };
  } catch {
    return undefined;
  }
}

/** Complete cached builds, newest first; optionally only those for one package (and version). */
export function listCacheEntries(
  pkg?: string,
  version?: string,
  env: NodeJS.ProcessEnv = process.env,
): NativeCacheEntry[] {
  const root = nativeCacheDir(env);
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const out: NativeCacheEntry[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const e = validEntry(path.join(root, name));
    if (!e) continue;
    if (e.manifest.platform !== process.platform || e.manifest.arch !== process.arch) continue;
    if (pkg && e.manifest.package !== pkg) continue;
    if (version && e.manifest.packageVersion !== version) continue;
    out.push(e);
  }
  return out.sort((a, b) => b.manifest.builtAt.localeCompare(a.manifest.builtAt));
}

function realpathOrUndefined(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

export function nativeStatus(pkg: NativePackage, env: NodeJS.ProcessEnv = process.env): NativeStatus {
  return nativeStatusAt(pkg, readPackage(pkg)?.dir, env);
}

/** nativeStatus for a package installed at `packageDir` (undefined: not installed). */
export function nativeStatusAt(
  pkg: NativePackage,
  packageDir: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): NativeStatus {
  let json: PackageJson | undefined;
  try {
    json = packageDir
      ? (JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as PackageJson)
      : undefined;
  } catch {
    json = undefined;
  }
  if (!packageDir || !json) return { package: pkg, installed: false, bindingPresent: false, source: 'none' };
  const napi = napiVersionFor(json);
  const bindingPath = path.join(packageDir, 'lib', `napi-v${napi}`, 'tfjs_binding.node');
  const bindingPresent = fs.existsSync(bindingPath);
  const entries = listCacheEntries(pkg, json.version, env).filter((e) => e.manifest.napi === napi);
  let source: NativeStatus['source'] = 'none';
  let linkedTo: string | undefined;
  let cacheEntry: NativeCacheEntry | undefined;
  if (bindingPresent) {
    const libReal = realpathOrUndefined(path.join(packageDir, 'lib'));
    const pkgReal = realpathOrUndefined(packageDir);
    if (libReal && pkgReal && path.dirname(libReal) !== pkgReal) {
      source = 'cache';
      linkedTo = path.dirname(libReal);
      cacheEntry = validEntry(linkedTo) ?? entries[0];
    } else {
      source = 'node_modules';
      cacheEntry = entries[0];
    }
  } else {
    cacheEntry = entries[0];
  }
  return {
    package: pkg,
    installed: true,
    version: json.version,
    packageDir,
    bindingPath,
    bindingPresent,
    source,
    linkedTo,
    cacheEntry,
  };
}

function symlinkReplace(target: string, linkPath: string): void {
  const tmp = `${linkPath}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.symlinkSync(target, tmp);
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(linkPath);
  } catch {
    st = undefined;
  }
  if (st && !st.isSymbolicLink()) fs.rmSync(linkPath, { recursive: true, force: true });
  fs.renameSync(tmp, linkPath);
}

/**
 * Link <packageDir>/{lib,deps} to a cached build (what setup:native does after building) and
 * return the updated status.
 */
export function linkFromCache(
  status: NativeStatus,
  entry: NativeCacheEntry,
  env: NodeJS.ProcessEnv = process.env,
): NativeStatus {
  if (!status.packageDir) throw new Error(`${status.package} is not installed`);
  for (const name of ['lib', 'deps']) symlinkReplace(path.join(entry.dir, name), path.join(status.packageDir, name));
  return nativeStatusAt(status.package, status.packageDir, env);
}

// ---------------------------------------------------------------- loading

/** What the loaded tfjs-node module looks like (the parts used here). */
export interface TfjsNodeModule {
  getBackend(): string;
  backend(): unknown;
  version: Record<string, string>;
}

export interface LoadedNative {
  package: NativePackage;
  tfVersion: string;
  gpu: boolean;
  status: NativeStatus;
  /** The binding was missing from node_modules (e.g. after `npm ci`) and was relinked from the cache. */
  relinked: boolean;
}

interface StderrGate {
  mute(): number;
  unmute(saved: number): void;
}

function loadStderrGate(status: NativeStatus): StderrGate | undefined {
  const entry = status.source === 'cache' ? status.cacheEntry : undefined;
  if (!entry?.manifest.stderrGate) return undefined;
  try {
    return require(path.join(entry.dir, entry.manifest.stderrGate)) as StderrGate;
  } catch {
    return undefined;
  }
}

/** Why a native package cannot be loaded, phrased as "<problem>; <what to do>". */
export function nativeProblem(status: NativeStatus): string | undefined {
  if (!status.installed) {
    return status.package === '@tensorflow/tfjs-node'
      ? '@tensorflow/tfjs-node is not installed; run `npm ci`, then `npm run setup:native`'
      : `${status.package} is not installed`;
  }
  if (!status.bindingPresent && !status.cacheEntry) {
    const gpu =
      status.package === '@tensorflow/tfjs-node-gpu'
        ? ' -- --package @tensorflow/tfjs-node-gpu --tf-spec <CUDA TF spec>'
        : '';
    return `the native binding is not built; run \`npm run setup:native${gpu}\``;
  }
  return undefined;
}

/**
 * Require a native package, relinking its binding from the cache first if node_modules lost it
 * (e.g. after `npm ci`). Throws an Error with a one-line message on failure.
 */
export function loadNativePackage(
  pkgOrStatus: NativePackage | NativeStatus,
  opts: { verbose?: boolean } = {},
): LoadedNative {
  let status = typeof pkgOrStatus === 'string' ? nativeStatus(pkgOrStatus) : pkgOrStatus;
  const pkg = status.package;
  let relinked = false;
  const problem = nativeProblem(status);
  if (problem) throw new Error(problem);
  if (!status.bindingPresent && status.cacheEntry) {
    const entry = status.cacheEntry;
    try {
      status = linkFromCache(status, entry);
    } catch (e) {
      const why = collapseWhitespace((e as Error).message, 200);
      throw new Error(`relinking the cached binding ${entry.dir} failed (${why}); run \`npm run setup:native\``);
    }
    relinked = true;
    if (!status.bindingPresent)
      throw new Error('the cached native binding could not be linked; run `npm run setup:native -- --force`');
  }
  if (!opts.verbose && process.env.TF_CPP_MIN_LOG_LEVEL === undefined) process.env.TF_CPP_MIN_LOG_LEVEL = '2';
  let mod: TfjsNodeModule;
  // libtensorflow logs "oneDNN custom operations are on…" while it loads, before it reads
  // TF_CPP_MIN_LOG_LEVEL; mute fd 2 for the duration of the require unless verbose.
  const gate = opts.verbose ? undefined : loadStderrGate(status);
  const saved = gate ? gate.mute() : -1;
  try {
    mod = require(pkg) as TfjsNodeModule;
  } catch (e) {
    if (gate) gate.unmute(saved);
    const msg = (e as Error).message ?? String(e);
    const first = msg.split('\n').find((l) => l.trim()) ?? msg;
    throw new Error(
      `loading ${pkg} failed (${collapseWhitespace(first, 240)}); rebuild with \`npm run setup:native -- --force\``,
    );
  }
  if (gate) gate.unmute(saved);
  const be = mod.backend() as { binding?: { TF_Version?: string }; isUsingGpuDevice?: boolean };
  return {
    package: pkg,
    tfVersion: be?.binding?.TF_Version ?? 'unknown',
    gpu: Boolean(be?.isUsingGpuDevice),
    status,
    relinked,
  };
}

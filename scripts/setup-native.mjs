#!/usr/bin/env node
// Build @tensorflow/tfjs-node's N-API binding against the TensorFlow C API that ships inside a pip
// TensorFlow wheel, keep the result in a cache directory outside node_modules (so `npm ci` does not
// wipe it), and link it into node_modules/<package>. Re-running with the cache present only relinks
// and verifies.
//
//   npm run setup:native [-- --tf-spec tensorflow-cpu==2.21.0] [--package @tensorflow/tfjs-node]
//                           [--force] [--verbose] [--cache-dir DIR] [--print-cache-dir]
//
// Plain Node ESM on purpose: it has to run before anything is compiled.
// The cache layout and manifest.json written here are read by src/backend/native.ts.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BINDING_PATCH, patchBinding } from './native/binding-patch.mjs';

const DEFAULT_TF_SPEC = 'tensorflow-cpu==2.21.0';
const DEFAULT_PACKAGE = '@tensorflow/tfjs-node';
const PACKAGES = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];
const MANIFEST = 'manifest.json';
const MANIFEST_FORMAT = 1;

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = process.hrtime.bigint();

class SetupError extends Error {
  /** @param {string} what what failed  @param {string} todo what the user should do */
  constructor(what, todo) {
    super(`${what}${todo ? `; ${todo}` : ''}`);
  }
}

function usage() {
  return `usage: npm run setup:native [-- options]

Builds ${DEFAULT_PACKAGE}'s native binding against the TensorFlow C library from a pip wheel,
caches it outside node_modules and links it in. Idempotent: a second run relinks and verifies.

options:
  --tf-spec SPEC     pip requirement for TensorFlow (default ${DEFAULT_TF_SPEC});
                     GPU: 'tensorflow[and-cuda]==2.21.0' with --package @tensorflow/tfjs-node-gpu
  --package NAME     ${PACKAGES.join(' | ')} (default ${DEFAULT_PACKAGE})
  --cache-dir DIR    cache root (default $RECSYS_CACHE, else $XDG_CACHE_HOME/recsys, else ~/.cache/recsys)
  --force            rebuild even if the cache already has this build
  --verbose          show the full output of pip, node-gyp and TensorFlow
  --print-cache-dir  print the cache directory this build would use, and exit
  -h, --help         this text`;
}

function parseArgs(argv) {
  const opts = {
    tfSpec: DEFAULT_TF_SPEC,
    pkg: DEFAULT_PACKAGE,
    force: false,
    verbose: false,
    cacheDir: undefined,
    printCacheDir: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new SetupError(`option ${flag} needs a value`, 'see --help');
      return v;
    };
    switch (flag) {
      case '--tf-spec':
        opts.tfSpec = value();
        break;
      case '--package':
        opts.pkg = value();
        break;
      case '--cache-dir':
        opts.cacheDir = path.resolve(value());
        break;
      case '--force':
        opts.force = true;
        break;
      case '--verbose':
      case '-v':
        opts.verbose = true;
        break;
      case '--print-cache-dir':
        opts.printCacheDir = true;
        break;
      case '--help':
      case '-h':
        console.log(usage());
        process.exit(0);
        break;
      default:
        throw new SetupError(`unknown option '${a}'`, 'see `npm run setup:native -- --help`');
    }
  }
  if (!PACKAGES.includes(opts.pkg))
    throw new SetupError(`--package must be one of ${PACKAGES.join(', ')} (got '${opts.pkg}')`, '');
  if (!/^[A-Za-z0-9._-]+(\[[A-Za-z0-9_,.-]+\])?\s*([=<>!~]=?.+)?$/.test(opts.tfSpec)) {
    throw new SetupError(
      `--tf-spec '${opts.tfSpec}' is not a pip requirement`,
      'pass e.g. --tf-spec tensorflow-cpu==2.21.0',
    );
  }
  return opts;
}

// ---------------------------------------------------------------- cache layout (shared with src/backend/native.ts)

function cacheRoot(explicit) {
  if (explicit) return explicit;
  if (process.env.RECSYS_CACHE) return path.resolve(process.env.RECSYS_CACHE);
  if (process.env.XDG_CACHE_HOME) return path.join(path.resolve(process.env.XDG_CACHE_HOME), 'recsys');
  return path.join(os.homedir(), '.cache', 'recsys');
}

function cacheKey(pkgName, pkgVersion, tfSpec) {
  const spec = tfSpec.replace(/\s+/g, '').replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${pkgName.replace(/^@tensorflow\//, '')}-${pkgVersion}__${spec}__${process.platform}-${process.arch}`;
}

/** The N-API version node-pre-gyp picks for this package: its highest napi_versions entry this Node supports. */
function napiVersionFor(pkgJson) {
  const node = Number(process.versions.napi);
  const supported = (pkgJson.binary?.napi_versions ?? []).filter((v) => v <= node);
  if (supported.length === 0)
    throw new SetupError(
      `${pkgJson.name} supports no N-API version of this Node (${process.version})`,
      'use Node 20 or newer',
    );
  return Math.max(...supported);
}

// ---------------------------------------------------------------- helpers

let verbose = false;
let logFile; // path of the build log (all sub-step output ends up there)

function info(msg) {
  process.stdout.write(`setup:native: ${msg}\n`);
}
function detail(msg) {
  if (verbose) process.stdout.write(`setup:native: ${msg}\n`);
}
function appendLog(text) {
  if (logFile) fs.appendFileSync(logFile, text);
}
function seconds(fromNs) {
  return Number(process.hrtime.bigint() - fromNs) / 1e9;
}

/**
 * Run a command; its output goes to the terminal with --verbose and to the build log always.
 * Resolves with the captured stdout+stderr; rejects with a one-line SetupError.
 */
function run(cmd, args, { cwd, env, what, todo, timeoutMs = 10 * 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    appendLog(`\n$ ${[cmd, ...args].join(' ')}${cwd ? `   (in ${cwd})` : ''}\n`);
    detail(`$ ${[cmd, ...args].join(' ')}`);
    let child;
    try {
      child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      reject(new SetupError(`${what}: cannot start ${cmd} (${e.message})`, todo));
      return;
    }
    let out = '';
    const onData = (stream) => (chunk) => {
      const s = chunk.toString();
      out += s;
      if (out.length > 4_000_000) out = out.slice(-2_000_000);
      appendLog(s);
      if (verbose) stream.write(s);
    };
    child.stdout.on('data', onData(process.stdout));
    child.stderr.on('data', onData(process.stderr));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new SetupError(`${what}: cannot start ${cmd} (${e.code === 'ENOENT' ? 'not found' : e.message})`, todo));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(out);
        return;
      }
      const last =
        out
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .filter((l) => /error|not found|no matching|fatal|cannot/i.test(l))
          .pop() ??
        out
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .pop() ??
        '';
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      reject(new SetupError(`${what} failed (${why}${last ? `: ${last.slice(0, 300)}` : ''})`, todo));
    });
  });
}

function runSync(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function rmrf(p) {
  fs.rmSync(p, { recursive: true, force: true });
}

/** Move a file or directory, falling back to copy when rename crosses devices. */
function move(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.renameSync(from, to);
  } catch (e) {
    if (e.code !== 'EXDEV') throw e;
    fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
    rmrf(from);
  }
}

/** Create or replace a symlink atomically (link next to it, then rename over). */
function symlinkReplace(target, linkPath) {
  const tmp = `${linkPath}.tmp-${process.pid}`;
  rmrf(tmp);
  fs.symlinkSync(target, tmp);
  let st;
  try {
    st = fs.lstatSync(linkPath);
  } catch {
    st = undefined;
  }
  if (st && !st.isSymbolicLink()) rmrf(linkPath); // a real dir/file (e.g. from the package's own installer)
  fs.renameSync(tmp, linkPath);
}

// ---------------------------------------------------------------- prerequisites

function locatePackage(pkg) {
  const req = createRequire(path.join(projectRoot, 'package.json'));
  let pj;
  try {
    pj = req.resolve(`${pkg}/package.json`);
  } catch {
    const version =
      JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')).dependencies?.[
        '@tensorflow/tfjs-node'
      ] ?? '4.22.0';
    throw new SetupError(
      `${pkg} is not installed in node_modules`,
      pkg === DEFAULT_PACKAGE
        ? 'run `npm ci` (or `npm install`) first'
        : `run \`npm install --no-save --ignore-scripts ${pkg}@${version}\` first`,
    );
  }
  const pkgJson = JSON.parse(fs.readFileSync(pj, 'utf8'));
  const dir = path.dirname(pj);
  if (!fs.existsSync(path.join(dir, 'binding.gyp')) || !fs.existsSync(path.join(dir, 'binding'))) {
    throw new SetupError(
      `${pkg} in node_modules has no binding.gyp/binding sources`,
      `reinstall it: \`npm install ${pkg}@${pkgJson.version}\``,
    );
  }
  return { dir, pkgJson };
}

function findPython() {
  for (const py of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    const r = runSync(py, ['-c', 'import sys, venv; print(sys.version_info[0])']);
    if (r.ok && r.stdout.trim() === '3') return py;
  }
  throw new SetupError(
    'no usable python3 with the venv module found',
    'install Python 3 with venv (Debian: `apt-get install python3-venv`) or set $PYTHON',
  );
}

/**
 * pip's configured package sources (`pip config list`), turned into command-line flags.
 * If an index is configured it is passed as --index-url so pip never falls back to the default
 * index; with only extra indexes configured, the first one becomes the index.
 */
function pipSourceArgs(python) {
  const r = runSync(python, ['-m', 'pip', 'config', 'list']);
  const conf = { 'index-url': [], 'extra-index-url': [], 'find-links': [] };
  if (r.ok) {
    for (const line of r.stdout.split('\n')) {
      const m = /^[^.]*\.([a-z-]+)='(.*)'$/.exec(line.trim());
      if (!m || !(m[1] in conf)) continue;
      for (const v of m[2].split(/\s+/).filter(Boolean)) if (!conf[m[1]].includes(v)) conf[m[1]].push(v);
    }
  }
  appendLog(`pip config: ${JSON.stringify(conf)}\n`);
  const args = [];
  const index = [...conf['index-url'], ...conf['extra-index-url']];
  if (index.length > 0) {
    args.push('--index-url', index[0]);
    for (const x of index.slice(1)) args.push('--extra-index-url', x);
  }
  for (const x of conf['find-links']) args.push('--find-links', x);
  return args;
}

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath)
    candidates.push(
      path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    );
  const npm = runSync('npm', ['root', '-g']);
  if (npm.ok) candidates.push(path.join(npm.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  // npm's own bundled copy, next to the npm that is on PATH
  const whichNpm = runSync('sh', ['-c', 'command -v npm']);
  if (whichNpm.ok && whichNpm.stdout.trim()) {
    try {
      const real = fs.realpathSync(whichNpm.stdout.trim());
      candidates.push(path.join(path.dirname(real), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    } catch {
      /* ignore */
    }
  }
  candidates.push(path.join(projectRoot, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of candidates) if (c.endsWith('.js') && fs.existsSync(c)) return { cmd: process.execPath, args: [c] };
  return { cmd: 'npx', args: ['--yes', 'node-gyp'] }; // last resort: from the npm registry
}

/** Node's headers: npm's `nodedir` setting, else the headers installed next to this node binary. */
function findNodeDir() {
  const cands = [];
  if (process.env.npm_config_nodedir) cands.push(process.env.npm_config_nodedir);
  const r = runSync('npm', ['config', 'get', 'nodedir']);
  const v = r.ok ? r.stdout.trim() : '';
  if (v && v !== 'undefined' && v !== 'null') cands.push(v);
  cands.push(path.resolve(path.dirname(process.execPath), '..'));
  for (const dir of cands) {
    if (fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  return undefined; // node-gyp will try to download headers (needs internet)
}

function checkCompiler() {
  for (const tool of [
    ['make', ['--version']],
    [process.env.CXX || 'c++', ['--version']],
  ]) {
    const r = runSync(tool[0], tool[1]);
    if (!r.ok)
      throw new SetupError(
        `${tool[0]} not found (needed to compile the binding)`,
        'install a C++ toolchain (Debian: `apt-get install build-essential`)',
      );
  }
}

// ---------------------------------------------------------------- stderr gate
// libtensorflow 2.21 prints "oneDNN custom operations are on…" through absl logging while it is
// being loaded (static initialisation), before TF_CPP_MIN_LOG_LEVEL is consulted. A tiny N-API addon
// lets src/backend/native.ts point fd 2 at /dev/null around `require('@tensorflow/tfjs-node')`
// (skipped with --verbose). Optional: if it cannot be built, loading works, just with that line.
const GATE_SOURCE = `#define NAPI_VERSION 8
#include <node_api.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
static napi_value Mute(napi_env env, napi_callback_info info) {
  fflush(stderr);
  int saved = dup(2);
  int devnull = open("/dev/null", O_WRONLY);
  if (saved >= 0 && devnull >= 0) dup2(devnull, 2);
  if (devnull >= 0) close(devnull);
  napi_value r;
  napi_create_int32(env, saved, &r);
  return r;
}
static napi_value Unmute(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t saved = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc > 0) napi_get_value_int32(env, argv[0], &saved);
  fflush(stderr);
  if (saved >= 0) { dup2(saved, 2); close(saved); }
  return NULL;
}
NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "mute", NAPI_AUTO_LENGTH, Mute, NULL, &f);
  napi_set_named_property(env, exports, "mute", f);
  napi_create_function(env, "unmute", NAPI_AUTO_LENGTH, Unmute, NULL, &f);
  napi_set_named_property(env, exports, "unmute", f);
  return exports;
}
`;
const GATE_PATH = 'lib/stderr_gate.node';

/** Build lib/stderr_gate.node into dir; returns its relative path, or undefined if that failed. */
async function buildGate(dir, nodedir) {
  if (!nodedir) return undefined;
  const src = path.join(dir, 'stderr_gate.c');
  try {
    fs.mkdirSync(path.join(dir, 'lib'), { recursive: true });
    fs.writeFileSync(src, GATE_SOURCE);
    await run(
      process.env.CC || 'cc',
      ['-O2', '-shared', '-fPIC', `-I${path.join(nodedir, 'include', 'node')}`, '-o', path.join(dir, GATE_PATH), src],
      {
        what: 'compiling the stderr gate',
        todo: '',
      },
    );
    const probe = runSync(process.execPath, [
      '-e',
      `const g=require(${JSON.stringify(path.join(dir, GATE_PATH))}); g.unmute(g.mute())`,
    ]);
    if (!probe.ok) throw new Error(probe.stderr.trim().split('\n')[0]);
    return GATE_PATH;
  } catch (e) {
    appendLog(`stderr gate not built: ${e.message}\n`);
    detail(`stderr gate not built (${e.message}); TensorFlow's oneDNN line will show at load`);
    fs.rmSync(path.join(dir, GATE_PATH), { force: true });
    return undefined;
  } finally {
    fs.rmSync(src, { force: true });
  }
}

// ---------------------------------------------------------------- graph gradients addon
// scripts/native/graph_gradients.c: TF_AddGradients for the compiled training step (src/train/compiled/),
// so its backward graph needs no Python. Linked against the cached libtensorflow (RUNPATH
// $ORIGIN/../deps/lib); compiled against the wheel's include/ on a fresh build, and against the
// declarations in the source when a cached build has no headers left. Optional: without it
// training takes the eager path.
const GRAD_ADDON_PATH = 'lib/graph_gradients.node';

/** Build lib/graph_gradients.node into dir; returns its relative path, or undefined if that failed. */
async function buildGradAddon(dir, nodedir, includeDir) {
  if (!nodedir) return undefined;
  const out = path.join(dir, GRAD_ADDON_PATH);
  try {
    fs.mkdirSync(path.join(dir, 'lib'), { recursive: true });
    const headers = includeDir && fs.existsSync(includeDir) ? [`-I${includeDir}`] : [];
    await run(
      process.env.CC || 'cc',
      [
        ...['-O2', '-shared', '-fPIC', `-I${path.join(nodedir, 'include', 'node')}`, ...headers],
        ...['-o', `${out}.tmp`, path.join(projectRoot, 'scripts', 'native', 'graph_gradients.c')],
        ...[`-L${path.join(dir, 'deps', 'lib')}`, '-l:libtensorflow.so.2', '-l:libtensorflow_framework.so.2'],
        '-Wl,-rpath,$ORIGIN/../deps/lib',
      ],
      { what: 'compiling the graph gradients addon', todo: '' },
    );
    fs.renameSync(`${out}.tmp`, out);
    const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' };
    const probe = runSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(out)}).version())`], {
      env,
    });
    if (!probe.ok) throw new Error(probe.stderr.trim().split('\n')[0]);
    detail(`graph gradients addon built (TensorFlow ${probe.stdout.trim()})`);
    return GRAD_ADDON_PATH;
  } catch (e) {
    appendLog(`graph gradients addon not built: ${e.message}\n`);
    detail(`graph gradients addon not built (${e.message}); training keeps the eager step`);
    fs.rmSync(out, { force: true });
    fs.rmSync(`${out}.tmp`, { force: true });
    return undefined;
  }
}

// ---------------------------------------------------------------- build

function readDistVersion(sitePackages) {
  for (const d of fs.readdirSync(sitePackages)) {
    const m = /^(tensorflow(?:[-_][a-z_]+)?)-([^-]+)\.dist-info$/.exec(d);
    if (
      m &&
      ['tensorflow', 'tensorflow_cpu', 'tensorflow-cpu', 'tensorflow_gpu', 'tf_nightly', 'tf_nightly_cpu'].includes(
        m[1],
      )
    )
      return { dist: m[1], version: m[2] };
  }
  return { dist: 'tensorflow', version: 'unknown' };
}

async function build({ pkg, pkgDir, pkgJson, napi, tfSpec, finalDir, nativeRoot }) {
  const t0 = process.hrtime.bigint();
  checkCompiler();
  const python = findPython();
  const nodeGyp = findNodeGyp();
  const nodedir = findNodeDir();
  if (!nodedir)
    throw new SetupError(
      "Node's C headers (include/node/node_api.h) not found",
      'set `npm config set nodedir <dir containing include/node>` or install Node with its headers',
    );

  const staging = path.join(nativeRoot, `.build-${path.basename(finalDir)}-${process.pid}`);
  rmrf(staging);
  fs.mkdirSync(staging, { recursive: true });
  const out = path.join(staging, 'out'); // becomes finalDir
  const venv = path.join(staging, 'venv');
  try {
    // 1. TensorFlow wheel into a throwaway venv
    info(`installing ${tfSpec} into a throwaway venv (pip)…`);
    let t = process.hrtime.bigint();
    await run(python, ['-m', 'venv', venv], { what: 'creating a Python venv', todo: 'install python3-venv' });
    const vpy = path.join(venv, 'bin', 'python');
    const withExtras = /\[/.test(tfSpec);
    const pipArgs = [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--no-input',
      '--no-compile',
      '--only-binary=:all:',
      ...(withExtras ? [] : ['--no-deps']),
      ...pipSourceArgs(python),
      tfSpec,
    ];
    await run(vpy, pipArgs, {
      what: `pip install ${tfSpec}`,
      todo:
        'check the spec and that pip can reach an index that has it (`pip config list`; `pip ' +
        'download --no-deps <spec>`)',
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
    const libDir = fs.readdirSync(path.join(venv, 'lib')).find((d) => d.startsWith('python'));
    const site = path.join(venv, 'lib', libDir ?? 'python3', 'site-packages');
    const tfDir = path.join(site, 'tensorflow');
    const { version: tfVersion } = fs.existsSync(site) ? readDistVersion(site) : { version: 'unknown' };
    info(`got TensorFlow ${tfVersion} from pip (${seconds(t).toFixed(1)} s)`);

    const cc = path.join(tfDir, 'libtensorflow_cc.so.2');
    const fw = path.join(tfDir, 'libtensorflow_framework.so.2');
    const inc = path.join(tfDir, 'include');
    for (const [p, name] of [
      [cc, 'libtensorflow_cc.so.2'],
      [fw, 'libtensorflow_framework.so.2'],
      [path.join(inc, 'tensorflow', 'c', 'eager', 'c_api.h'), 'include/tensorflow/c/eager/c_api.h'],
    ]) {
      if (!fs.existsSync(p))
        throw new SetupError(
          `the wheel for ${tfSpec} has no tensorflow/${name}`,
          `use a Linux TensorFlow 2.x wheel that ships the C API (e.g. --tf-spec ${DEFAULT_TF_SPEC})`,
        );
    }

    // 2. deps/ laid out the way binding.gyp expects
    const depsLib = path.join(out, 'deps', 'lib');
    fs.mkdirSync(depsLib, { recursive: true });
    move(inc, path.join(out, 'deps', 'include'));
    move(cc, path.join(depsLib, 'libtensorflow.so.2'));
    move(fw, path.join(depsLib, 'libtensorflow_framework.so.2'));
    fs.symlinkSync('libtensorflow.so.2', path.join(depsLib, 'libtensorflow.so'));
    fs.symlinkSync('libtensorflow.so.2', path.join(depsLib, 'libtensorflow_cc.so.2')); // its SONAME
    fs.symlinkSync('libtensorflow_framework.so.2', path.join(depsLib, 'libtensorflow_framework.so'));
    // CUDA builds (tensorflow[and-cuda]) find the CUDA/cuDNN pip libraries through RUNPATH
    // $ORIGIN/../nvidia/*/lib; keep that tree at the same place relative to deps/lib.
    if (fs.existsSync(path.join(site, 'nvidia'))) {
      move(path.join(site, 'nvidia'), path.join(out, 'deps', 'nvidia'));
      detail('kept the nvidia/* CUDA libraries from the wheel set under deps/nvidia');
    }
    rmrf(venv); // throwaway

    // 3. compile the binding (sources copied from the installed package)
    fs.copyFileSync(path.join(pkgDir, 'binding.gyp'), path.join(out, 'binding.gyp'));
    fs.cpSync(path.join(pkgDir, 'binding'), path.join(out, 'binding'), { recursive: true });
    try {
      patchBinding(path.join(out, 'binding'));
    } catch (e) {
      throw new SetupError(e.message, `use the ${pkg} version package.json pins`);
    }
    info(`compiling the ${pkg} binding (node-gyp)…`);
    t = process.hrtime.bigint();
    const modulePath = `lib/napi-v${napi}`;
    await run(
      nodeGyp.cmd,
      [
        ...nodeGyp.args,
        'rebuild',
        `--nodedir=${nodedir}`,
        '--jobs=max',
        '--module_name=tfjs_binding',
        `--module_path=${modulePath}`,
        `--napi_build_version=${napi}`,
      ],
      {
        cwd: out,
        what: 'compiling the binding with node-gyp',
        todo: 'rerun with --verbose to see the compiler output',
        env: { ...process.env, npm_config_nodedir: nodedir, JOBS: 'max' },
      },
    );
    const binding = path.join(out, modulePath, 'tfjs_binding.node');
    if (!fs.existsSync(binding)) {
      const built = path.join(out, 'build', 'Release', 'tfjs_binding.node');
      if (!fs.existsSync(built))
        throw new SetupError('node-gyp finished but produced no tfjs_binding.node', 'rerun with --verbose');
      fs.mkdirSync(path.dirname(binding), { recursive: true });
      fs.copyFileSync(built, binding);
    }
    info(`compiled the binding (${seconds(t).toFixed(1)} s)`);
    rmrf(path.join(out, 'build'));
    const graphGradients = await buildGradAddon(out, nodedir, path.join(out, 'deps', 'include'));
    rmrf(path.join(out, 'deps', 'include')); // only needed to compile; keeps the cache small
    const stderrGate = await buildGate(out, nodedir);

    const manifest = {
      format: MANIFEST_FORMAT,
      package: pkg,
      packageVersion: pkgJson.version,
      tfSpec,
      tfVersion,
      napi,
      binding: `${modulePath}/tfjs_binding.node`,
      bindingPatch: BINDING_PATCH,
      ...(stderrGate ? { stderrGate } : {}),
      ...(graphGradients ? { graphGradients } : {}),
      platform: process.platform,
      arch: process.arch,
      node: process.version,
      builtAt: new Date().toISOString(),
      buildSeconds: Number(seconds(t0).toFixed(1)),
    };
    fs.writeFileSync(path.join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);

    // 4. publish atomically
    if (fs.existsSync(finalDir)) {
      const old = `${finalDir}.old-${process.pid}`;
      fs.renameSync(finalDir, old);
      rmrf(old);
    }
    fs.renameSync(out, finalDir);
    return manifest;
  } finally {
    rmrf(staging);
  }
}

function readManifest(dir) {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8'));
    if (
      m.format !== MANIFEST_FORMAT ||
      m.bindingPatch !== BINDING_PATCH || // built before the binding kept its own memory: build again
      !fs.existsSync(path.join(dir, m.binding)) ||
      !fs.existsSync(path.join(dir, 'deps', 'lib', 'libtensorflow.so.2'))
    )
      return undefined;
    return m;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- link + verify

function link(cacheDir, pkgDir) {
  // The binding is loaded through its real path, so its RUNPATH $ORIGIN/../../deps/lib resolves
  // inside the cache directory; deps is linked too for anything that looks for it in the package.
  const replaced = [];
  for (const name of ['lib', 'deps']) {
    const p = path.join(pkgDir, name);
    let st;
    try {
      st = fs.lstatSync(p);
    } catch {
      st = undefined;
    }
    if (st && !st.isSymbolicLink()) replaced.push(name);
    symlinkReplace(path.join(cacheDir, name), p);
  }
  if (replaced.length) info(`replaced ${replaced.join(', ')} that the package's own installer had put in node_modules`);
}

function verify(pkg, pkgDir, cacheDir) {
  const script = `
    const { createRequire } = require('node:module');
    const tf = require(${JSON.stringify(pkgDir)});
    const b = tf.backend();
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const r = Array.from(tf.matMul(a, a).dataSync());
    process.stdout.write(JSON.stringify({
      backend: tf.getBackend(),
      tfVersion: b.binding && b.binding.TF_Version,
      tfjs: tf.version['tfjs-core'],
      gpu: Boolean(b.isUsingGpuDevice),
      matmul: r,
    }));`;
  const env = { ...process.env };
  if (!verbose && env.TF_CPP_MIN_LOG_LEVEL === undefined) env.TF_CPP_MIN_LOG_LEVEL = '2';
  const r = spawnSync(process.execPath, ['-e', script], { cwd: projectRoot, env, encoding: 'utf8', timeout: 120_000 });
  appendLog(`\n$ node -e <verify ${pkg}>\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (verbose && r.stderr) process.stderr.write(r.stderr);
  if (r.status !== 0) {
    const line =
      (r.stderr || '')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /Error|error while loading|undefined symbol|cannot open/.test(l))[0] ??
      (r.error ? r.error.message : `exit code ${r.status}`);
    throw new SetupError(
      `loading ${pkg} with the cached binding failed (${line.slice(0, 300)})`,
      `rebuild with \`npm run setup:native -- --force\` (cache: ${cacheDir})`,
    );
  }
  let res;
  try {
    res = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    res = undefined;
  }
  if (res?.backend !== 'tensorflow') {
    throw new SetupError(
      `${pkg} loaded but the active backend is '${res?.backend}', not 'tensorflow'`,
      'rerun with --verbose',
    );
  }
  if (JSON.stringify(res.matmul) !== JSON.stringify([7, 10, 15, 22])) {
    throw new SetupError(
      `${pkg} loaded but a 2x2 matmul gave ${JSON.stringify(res.matmul)}`,
      'rebuild with `npm run setup:native -- --force`',
    );
  }
  return res;
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  verbose = opts.verbose;
  if (process.platform !== 'linux') {
    throw new SetupError(
      `setup:native supports Linux only (this is ${process.platform})`,
      `install ${opts.pkg} normally (its install script downloads libtensorflow)`,
    );
  }
  const { dir: pkgDir, pkgJson } = locatePackage(opts.pkg);
  const napi = napiVersionFor(pkgJson);
  const nativeRoot = path.join(cacheRoot(opts.cacheDir), 'native');
  const cacheDir = path.join(nativeRoot, cacheKey(opts.pkg, pkgJson.version, opts.tfSpec));
  if (opts.printCacheDir) {
    console.log(cacheDir);
    return;
  }
  fs.mkdirSync(nativeRoot, { recursive: true });

  let manifest = opts.force ? undefined : readManifest(cacheDir);
  let built = false;
  if (manifest) {
    info(`using cached build ${cacheDir}`);
    if (!manifest.stderrGate) {
      const gate = await buildGate(cacheDir, findNodeDir());
      if (gate) {
        manifest = { ...manifest, stderrGate: gate };
        fs.writeFileSync(path.join(cacheDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
      }
    }
    if (!manifest.graphGradients || !fs.existsSync(path.join(cacheDir, manifest.graphGradients))) {
      const graphGradients = await buildGradAddon(cacheDir, findNodeDir());
      if (graphGradients) {
        manifest = { ...manifest, graphGradients };
        fs.writeFileSync(path.join(cacheDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
      }
    }
  } else {
    logFile = path.join(nativeRoot, `setup-${path.basename(cacheDir)}.log`);
    fs.writeFileSync(logFile, `setup:native ${new Date().toISOString()} ${process.argv.slice(2).join(' ')}\n`);
    info(`building ${opts.pkg}@${pkgJson.version} against ${opts.tfSpec} into ${cacheDir} (log: ${logFile})`);
    manifest = await build({
      pkg: opts.pkg,
      pkgDir,
      pkgJson,
      napi,
      tfSpec: opts.tfSpec,
      finalDir: cacheDir,
      nativeRoot,
    });
    built = true;
  }
  link(cacheDir, pkgDir);
  const res = verify(opts.pkg, pkgDir, cacheDir);
  const total = seconds(started).toFixed(1);
  info(`linked into ${path.relative(projectRoot, pkgDir) || pkgDir} -> ${cacheDir}`);
  console.log(
    `TensorFlow ${res.tfVersion} native backend ready: ${opts.pkg}@${pkgJson.version} on tfjs ` +
      `${res.tfjs}, backend '${res.backend}'${res.gpu ? ', GPU in use' : ''} ` +
      `(${built ? 'built' : 'cached'}, ${total} s)`,
  );
}

main().catch((e) => {
  const msg = e instanceof SetupError ? e.message : `unexpected error: ${e?.stack?.split('\n')[0] ?? e}`;
  const hint = logFile && !verbose && fs.existsSync(logFile) ? ` (full log: ${logFile})` : '';
  process.stderr.write(`setup:native: error: ${msg}${hint}\n`);
  process.exit(1);
});

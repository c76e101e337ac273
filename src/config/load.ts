import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML, { LineCounter } from 'yaml';
import type { z } from 'zod';
import { ConfigError, UsageError } from '../lib/errors.js';
import { configSchema, HUB_ID_KEYS, PATH_KEYS, type RecsysConfig } from './schema.js';
import { closest } from './suggest.js';

type Tree = Record<string, unknown>;

/** One override: a dotted key, a value, and the directory its relative paths are relative to. */
export interface Override {
  key: string;
  value: unknown;
  baseDir: string;
}

export interface LoadOptions {
  files?: string[];
  /** `--set a.b=c` strings, values parsed as YAML scalars/flow collections (typed). */
  sets?: string[];
  /** Plain CLI flags already mapped to dotted keys. */
  overrides?: Override[];
  cwd?: string;
}

const MAX_CONFIG_BYTES = 1 << 20;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readYamlFile(file: string): Tree {
  if (!existsSync(file)) throw new UsageError(`${file}: config file not found`);
  const stat = statSync(file);
  if (!stat.isFile()) throw new UsageError(`${file}: not a file (expected a YAML config file)`);
  // Size first: a huge file is refused without reading it.
  if (stat.size > MAX_CONFIG_BYTES)
    throw new ConfigError([`${file}: config file larger than 1 MiB (${stat.size} bytes)`]);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file));
  } catch {
    throw new ConfigError([`${file}: not valid UTF-8 text (expected a YAML config file)`]);
  }
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const { line, col } = lineCounter.linePos(e.pos[0]);
    throw new ConfigError([`${file}:${line}:${col}: YAML does not parse: ${e.message.split('\n')[0]}`]);
  }
  let value: unknown;
  try {
    // maxAliasCount bounds alias expansion, so a "billion laughs" file fails fast.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError([`${file}: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (value == null) return {};
  if (!isTree(value)) throw new ConfigError([`${file}: expected a mapping of config keys at the top level`]);
  return value;
}

function getDotted(tree: Tree, key: string): unknown {
  let node: unknown = tree;
  for (const part of key.split('.')) {
    if (!isTree(node)) return undefined;
    node = node[part];
  }
  return node;
}

function setDotted(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    if (!isTree(node[part])) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]] = value;
}

function resolvePathValue(key: string, value: unknown, baseDir: string): unknown {
  if (typeof value !== 'string' || value === '' || path.isAbsolute(value)) return value;
  const resolved = path.resolve(baseDir, value);
  if (HUB_ID_KEYS.has(key) && !existsSync(resolved) && !value.startsWith('.') && /^[\w.-]+\/[\w.-]+$/.test(value)) {
    return value; // a hub id such as org/name
  }
  return resolved;
}

function resolvePaths(tree: Tree, baseDir: string): void {
  for (const key of PATH_KEYS) {
    const v = getDotted(tree, key);
    if (v !== undefined) setDotted(tree, key, resolvePathValue(key, v, baseDir));
  }
}

function deepMerge(into: Tree, from: Tree): Tree {
  for (const [k, v] of Object.entries(from)) {
    if (isTree(v) && isTree(into[k])) deepMerge(into[k] as Tree, v);
    else into[k] = v;
  }
  return into;
}

export function parseSet(spec: string, baseDir: string): Override {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set ${spec}: expected key.path=value`);
  const key = spec.slice(0, eq).trim();
  const raw = spec.slice(eq + 1);
  let value: unknown;
  try {
    value = raw === '' ? '' : YAML.parse(raw);
  } catch {
    value = raw;
  }
  return { key, value, baseDir };
}

function describeInput(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v); // JSON would say null
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Walk the schema along `path` to list the keys an object there accepts. */
function keysAt(schema: z.ZodType, at: PropertyKey[]): string[] {
  // zod's internal definition objects are untyped here: walk them structurally.
  // biome-ignore lint/suspicious/noExplicitAny: zod internals have no public type for this walk
  let node: any = schema;
  const unwrap = () => {
    while (node?._zod?.def && ['default', 'optional', 'nullable', 'prefault', 'pipe'].includes(node._zod.def.type)) {
      node = node._zod.def.innerType ?? node._zod.def.in;
    }
  };
  unwrap();
  for (const part of at) {
    const shape = node?._zod?.def?.shape;
    if (!shape) return [];
    node = shape[part as string];
    unwrap();
  }
  return Object.keys(node?._zod?.def?.shape ?? {});
}

function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  const reported = new Set<string>();
  for (const issue of issues) {
    const where = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(configSchema, issue.path);
      for (const key of issue.keys) {
        const full = where ? `${where}.${key}` : key;
        const hint = closest(key, known);
        out.push(
          `${full}: unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of ${known.join(', ')}`,
        );
      }
      continue;
    }
    if (reported.has(where)) continue; // one problem per key: the first is the most basic
    reported.add(where);
    const got = 'input' in issue ? describeInput(issue.input) : 'an invalid value';
    // zod's own wording for a section given as a scalar/list ("Invalid input: expected object, received number").
    const message =
      issue.code === 'invalid_type' && issue.expected === 'object' ? 'expected a mapping of keys' : issue.message;
    out.push(`${where || '(top level)'}: ${message}, got ${got}`);
  }
  return out;
}

/** Rules between keys that each look valid alone; one line per problem, naming the key. */
function crossKeyProblems(config: RecsysConfig): string[] {
  const out: string[] = [];
  if (config.task === 'regression' && config.data.labels)
    out.push(
      'data.labels: a regression run has numeric targets, not a label map; remove it ' +
        '(several outputs are named by data.label_columns)',
    );
  return out;
}

export function validateConfig(raw: Tree): RecsysConfig {
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues));
  const problems = crossKeyProblems(result.data);
  if (problems.length) throw new ConfigError(problems);
  return result.data;
}

/** YAML file(s) → defaults → plain-flag overrides → --set overrides → validation. */
export function loadConfig(opts: LoadOptions = {}): RecsysConfig {
  const cwd = opts.cwd ?? process.cwd();
  const raw: Tree = {};
  for (const file of opts.files ?? []) {
    const abs = path.resolve(cwd, file);
    const tree = readYamlFile(abs);
    resolvePaths(tree, path.dirname(abs));
    deepMerge(raw, tree);
  }
  const overrides = [...(opts.overrides ?? []), ...(opts.sets ?? []).map((s) => parseSet(s, cwd))];
  for (const o of overrides) {
    setDotted(
      raw,
      o.key,
      (PATH_KEYS as readonly string[]).includes(o.key) ? resolvePathValue(o.key, o.value, o.baseDir) : o.value,
    );
  }
  return validateConfig(raw);
}

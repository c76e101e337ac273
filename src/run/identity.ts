import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { UsageError } from '../lib/errors.js';
import { readJsonObject } from '../lib/json-file.js';
import { runPaths } from './layout.js';

/**
 * A resumed (or restarted) run must be the run its directory holds: the same settings and the
 * same data. Keys that only say where, on what and how often (the run dir, the backend, checkpoint
 * cadence, worker threads) may change between the two command lines; anything else is refused.
 */
const MAY_CHANGE = [
  'backend',
  'train.out',
  'pretrain.out',
  // Where the tokenized text is kept and how it is cut into files do not change its rows.
  'pretrain.corpus_dir',
  'pretrain.shard_rows',
  'pretrain.max_bad_rows',
  'train.checkpoint_every',
  'train.checkpoint_every_minutes',
  'train.keep_checkpoints',
  'data.workers',
];

function flatten(value: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) out.set(prefix, JSON.stringify(value));
  return out;
}

/**
 * Refuse to continue `runDir` when its config.yaml differs from `config` in the given top-level
 * sections, or its manifest.json names another dataset than `datasetSha256`. A dir that has neither
 * file yet (stopped before writing them) has nothing to compare and is accepted.
 */
export function checkSameRun(
  runDir: string,
  config: unknown,
  sections: readonly string[],
  datasetSha256: string,
): void {
  const p = runPaths(runDir);
  if (existsSync(p.config)) {
    const before = flatten(YAML.parse(readFileSync(p.config, 'utf8')), '', new Map());
    const now = flatten(YAML.parse(YAML.stringify(config)), '', new Map());
    const relevant = (k: string) =>
      sections.some((s) => k === s || k.startsWith(`${s}.`)) &&
      !MAY_CHANGE.some((m) => k === m || k.startsWith(`${m}.`));
    const keys = [...new Set([...before.keys(), ...now.keys()])].filter(relevant).sort();
    const diffs = keys.filter((k) => before.get(k) !== now.get(k));
    if (diffs.length)
      throw new UsageError(
        `${runDir}: holds a run made with another config (${diffs
          .slice(0, 4)
          .map((k) => `${k}: ${before.get(k) ?? 'unset'} there, ${now.get(k) ?? 'unset'} now`)
          .join('; ')}${diffs.length > 4 ? `; ${diffs.length - 4} more` : ''}); resume with the same settings, ` +
          `or choose another --out`,
      );
  }
  if (existsSync(p.manifest)) {
    const was = readJsonObject(p.manifest).dataset_sha256;
    if (typeof was === 'string' && was !== datasetSha256)
      throw new UsageError(
        `${runDir}: holds a run made on another dataset (dataset_sha256 ${was.slice(0, 12)}… there, ` +
          `${datasetSha256.slice(0, 12)}… now); resume with the same data, or choose another --out`,
      );
  }
}

import path from 'node:path';

/**
 * The run directory's layout (docs/run-dir.md): the one place that names its entries. `recsys train`
 * writes them, eval/export/predict read them through src/run/ and src/infer/.
 */
export const RUN_FILES = {
  model: 'model',
  checkpoints: 'checkpoints',
  last: 'last',
  metrics: 'metrics.jsonl',
  summary: 'train_summary.json',
  config: 'config.yaml',
  manifest: 'manifest.json',
  /** recsys pretrain: the tokenized text (Arrow shards, manifest, rejects.csv). */
  corpus: 'corpus',
} as const;

export type RunPaths = { -readonly [K in keyof typeof RUN_FILES]: string } & { dir: string };

/** Absolute (or cwd-relative, as given) paths of a run directory's entries. */
export function runPaths(runDir: string): RunPaths {
  const out = { dir: runDir } as RunPaths;
  for (const [k, f] of Object.entries(RUN_FILES)) out[k as keyof typeof RUN_FILES] = path.join(runDir, f);
  return out;
}

/** What a run writes in its dir. Replacing a run removes these (and temp names), never anything else. */
export const RUN_ENTRIES: ReadonlySet<string> = new Set(Object.values(RUN_FILES));

/** A directory that holds a run's model and its manifest (a finished run or one that saved a model). */
export function looksLikeRunDir(dir: string, exists: (p: string) => boolean): boolean {
  const p = runPaths(dir);
  return exists(path.join(p.model, 'config.json')) && exists(p.manifest);
}

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RecsysConfig } from '../config/schema.js';
import { faultPoint } from '../lib/fault.js';
import { removeStaleTemps, tempNameFor, writeFileAtomic, writeJsonAtomic } from '../lib/atomic.js';
import { DataError, UsageError } from '../lib/errors.js';
import { describeFsError, ensureWritableDir, fsErrorReason } from '../lib/fs-errors.js';
import { sha256File, sha256Text } from '../lib/hash.js';
import { Rng } from '../lib/rng.js';
import { buildLabelList, checkEvalLabelsInTrain } from './labels.js';
import { buildManifest, MANIFEST_FILE, type DatasetManifest } from './manifest.js';
import { openSource, detectFormat, type RowSource } from './readers/index.js';
import { RejectsWriter } from './rejects.js';
import { examineRow } from './row.js';
import { ShardWriter } from './shards.js';
import { SplitPlanner, SPLITS, type SplitName } from './split.js';
import { targetCounts, targetNames, targetSpecOf, targetsOf } from './targets.js';
import { LengthStats } from './stats.js';
import { loadTokenizer, type TextTokenizer } from './tokenizer/index.js';
import { type ChunkEncoder, inlineEncoder, resolveWorkers, workerEncoder } from './tokenize-pool.js';
import { ChunkPipeline, writeSpilledRows } from './tokenize-pass.js';
import { TokenSpill } from './token-spill.js';
import { tripletPasses } from './prepare-triplets.js';
import { tripletConfigProblem } from './triplet-row.js';

export interface PrepareProgress {
  phase(name: 'scan' | 'write', total?: number): void;
  tick(rows: number): void;
  done(): void;
}

export interface PrepareOptions {
  overwrite?: boolean;
  progress?: PrepareProgress;
  /** Smaller inputs tokenize on the main thread: starting workers would cost more than it saves. */
  minBytesForWorkers?: number;
}

const MIN_BYTES_FOR_WORKERS = 512 * 1024;

/** `data.workers` threads (1: the main thread, as ever), unless the input is too small to gain from them. */
async function openEncoder(
  tokenizer: TextTokenizer,
  data: RecsysConfig['data'],
  inputBytes: number,
  minBytes: number,
): Promise<ChunkEncoder> {
  const threads = resolveWorkers(data.workers);
  if (threads <= 1 || inputBytes < minBytes) return inlineEncoder(tokenizer, data.max_length, data.truncation);
  return workerEncoder(tokenizer, threads, data.max_length, data.truncation);
}

const OWN_FILES = new Set([...SPLITS.map((s) => `${s}.arrow`), 'rejects.csv', 'tokenizer', MANIFEST_FILE]);

/** Settings that define a dataset: re-running with the same ones may replace it without asking. */
function fingerprintOf(config: RecsysConfig, tokenizerSha: string): string {
  // Output location, tolerance and thread count do not change the dataset's bytes.
  const { out: _out, max_bad_rows: _m, workers: _w, ...data } = config.data;
  const base = { data, tokenizer: tokenizerSha, lowercase: config.tokenizer.lowercase, seed: config.seed };
  // The task joins the fingerprint only when it is not the default, so older datasets keep theirs.
  return sha256Text(
    JSON.stringify(config.task === 'single_label_classification' ? base : { ...base, task: config.task }),
  );
}

function checkOutputDir(out: string, fingerprint: string, overwrite: boolean): void {
  if (!existsSync(out)) return;
  const manifestFile = path.join(out, MANIFEST_FILE);
  if (existsSync(manifestFile)) {
    let previous: Partial<DatasetManifest> = {};
    try {
      previous = JSON.parse(readFileSync(manifestFile, 'utf8'));
    } catch {
      /* unreadable manifest: treat as a different dataset */
    }
    if (previous.fingerprint !== fingerprint && !overwrite) {
      throw new UsageError(`${out}: holds a dataset prepared with other settings; pass --overwrite to replace it`);
    }
    return;
  }
  const foreign = readdirSync(out).filter((f) => !OWN_FILES.has(f) && !f.includes('.tmp-'));
  if (foreign.length && !overwrite) {
    throw new UsageError(
      `${out}: not empty and not a recsys dataset (${foreign.slice(0, 3).join(', ')}…); pass ` +
        `--overwrite or choose another --out`,
    );
  }
}

function required<T>(value: T | undefined | null, key: string, flag: string): T {
  if (value === undefined || value === null)
    throw new UsageError(`${key} is required (set it in the config or pass ${flag})`);
  return value;
}

function tooManyRejects(rejects: RejectsWriter, max: number, input: string): DataError {
  const lines = rejects.first.map((r) => `row ${r.row}${r.line ? ` (line ${r.line})` : ''}: ${r.reason}`);
  return new DataError(
    `${input}: ${rejects.count} bad row(s), more than data.max_bad_rows=${max}; all are listed in ${rejects.file}`,
    lines,
  );
}

/** CSV/JSONL/Arrow → tokenized Arrow shards per split + manifest.json, in two streaming passes. */
export async function prepareDataset(config: RecsysConfig, opts: PrepareOptions = {}): Promise<DatasetManifest> {
  const data = config.data;
  const input = required(data.input, 'data.input', '--input');
  const out = required(data.out, 'data.out', '--out');
  const tokenizerPath = required(config.tokenizer.path, 'tokenizer.path', '--tokenizer');
  const source = openSource(input, data.format, data.delimiter);
  const format = detectFormat(input, data.format);

  const columns = await source.columns();
  const targets = targetSpecOf(config);
  const embedding = config.task === 'embedding';
  if (embedding) {
    const problem = tripletConfigProblem(data);
    if (problem) throw new UsageError(problem);
  }
  if (config.tokenizer.mark_matches && (embedding || !data.pair_column)) {
    throw new UsageError(
      'tokenizer.mark_matches marks the words a text pair shares: it needs a pair classifier ' +
        `(data.pair_column${embedding ? ', not task embedding, whose texts are encoded apart' : ''})`,
    );
  }
  const wanted = [
    data.text_column,
    data.pair_column,
    data.negative_column,
    ...(targets ? targets.columns : [!embedding || data.positive_labels ? data.label_column : null]),
    data.id_column,
    data.split_column,
    data.group_column,
  ].filter((c): c is string => !!c);
  const missing = wanted.filter((c) => !columns.includes(c));
  if (missing.length) {
    throw new UsageError(
      `${input}: column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} ` +
        `not found; columns are ${columns.join(', ')}`,
    );
  }

  const tokenizer = loadTokenizer({
    path: tokenizerPath,
    lowercase: config.tokenizer.lowercase,
    stripAccents: config.tokenizer.strip_accents,
    markMatches: config.tokenizer.mark_matches,
  });
  const fingerprint = fingerprintOf(config, tokenizer.sha256);
  checkOutputDir(out, fingerprint, !!opts.overwrite);
  ensureWritableDir(out, 'dataset');
  await removeStaleTemps(out);
  try {
    return await writeDataset(config, source, format, input, out, tokenizer, fingerprint, opts);
  } catch (err) {
    // Nothing half-written stays behind: temp shards go, and the reason names the output dir.
    await removeStaleTemps(out);
    const fs = describeFsError(err);
    if (fs) throw new UsageError(`${out}: writing the dataset failed: ${fsErrorReason(err)}`);
    throw err;
  }
}

async function writeDataset(
  config: RecsysConfig,
  source: RowSource,
  format: string,
  input: string,
  out: string,
  tokenizer: TextTokenizer,
  fingerprint: string,
  opts: PrepareOptions,
): Promise<DatasetManifest> {
  // Workers load the tokenizer while pass 1 reads, so their start-up is off the critical path.
  const minBytes = opts.minBytesForWorkers ?? MIN_BYTES_FOR_WORKERS;
  const encoder = openEncoder(tokenizer, config.data, statSync(input).size, minBytes);
  encoder.catch(() => undefined); // awaited at the first chunk; an earlier error must not leave it "unhandled"
  const spill = new TokenSpill(tempNameFor(path.join(out, 'tokens.spill')), tokenizer.vocabSize);
  try {
    return await writeDatasetWith(encoder, spill, config, source, format, input, out, fingerprint, opts, tokenizer);
  } finally {
    await (await encoder.catch(() => null))?.close();
    spill.close();
    await rm(spill.file, { force: true });
  }
}

async function writeDatasetWith(
  encoderReady: Promise<ChunkEncoder>,
  spill: TokenSpill,
  config: RecsysConfig,
  source: RowSource,
  format: string,
  input: string,
  out: string,
  fingerprint: string,
  opts: PrepareOptions,
  tokenizer: TextTokenizer,
): Promise<DatasetManifest> {
  const data = config.data;
  const targets = targetSpecOf(config);
  const allowed = data.labels && !targets ? new Set(data.labels) : null;
  const rejects = new RejectsWriter(path.join(out, 'rejects.csv'));
  const progress = opts.progress;
  const inputSha = sha256File(input);
  if (config.task === 'embedding') {
    const r = await tripletPasses({ config, source, out, encoderReady, spill, rejects, progress });
    const publishAs = { config, format, input, inputSha, out, fingerprint, tokenizer, rejects, rowsRead: r.rowsRead };
    return finishDataset({ ...publishAs, writers: r.writers, written: r.written, lengths: r.lengths, labels: [] });
  }

  // Pass 1: validate rows, count labels per split or plan the seeded split, and tokenize (on the
  // workers) into the spill file: the input is parsed once. Hash the input alongside.
  const pipeline = new ChunkPipeline(encoderReady, !!data.pair_column, (rows, chunk) => spill.append(rows, chunk));
  const planner = new SplitPlanner();
  const columnSplitCounts: Record<string, Map<string, number>> = {};
  const seenLabels = new Set<string>();
  let rowsRead = 0;
  progress?.phase('scan');
  for await (const r of source.rows()) {
    rowsRead++;
    if (rowsRead % 1000 === 0) progress?.tick(rowsRead);
    const e = examineRow(r, data, allowed, targets);
    if (!e.ok) {
      rejects.add({ row: r.row, line: r.line, reason: e.reason, raw: r.raw });
      continue;
    }
    seenLabels.add(e.label);
    if (e.split) {
      columnSplitCounts[e.split] ??= new Map();
      const m = columnSplitCounts[e.split];
      m.set(e.label, (m.get(e.label) ?? 0) + 1);
    } else {
      planner.observe(e.label, e.group);
    }
    const meta = { row: r.row, line: r.line, raw: r.raw, label: e.label, group: e.group, split: e.split, id: e.id };
    await pipeline.add(meta, e.text, e.pair);
  }
  await pipeline.finish();
  progress?.done();
  if (rowsRead === 0) {
    await rejects.close();
    throw new DataError(`${input}: no data rows (only a header?)`);
  }
  if (rejects.count > data.max_bad_rows) {
    await rejects.close();
    throw tooManyRejects(rejects, data.max_bad_rows, input);
  }
  if (seenLabels.size === 0) {
    await rejects.close();
    throw new DataError(`${input}: no usable rows`);
  }
  const labels = targets ? targetNames(targets, seenLabels) : buildLabelList(seenLabels, data.labels);
  if (labels.length < (targets?.task === 'regression' ? 1 : 2)) {
    await rejects.close();
    throw new DataError(
      `${input}: every usable row has the label ${JSON.stringify(labels[0])} (column ` +
        `"${data.label_column}"); a classifier needs at least two labels`,
    );
  }
  const labelId = new Map(labels.map((l, i) => [l, i]));
  if (data.split_column && !targets) {
    try {
      checkEvalLabelsInTrain(columnSplitCounts, input);
    } catch (err) {
      await rejects.close(); // the rows rejected so far stay listed, as for the other data errors
      throw err;
    }
  }
  const assigner = data.split_column
    ? null
    : planner.plan(data.split, { stratify: data.stratify, grouped: !!data.group_column }, new Rng(config.seed));

  // Pass 2: stream each spilled row into its split's shard (temp names until the end).
  const writers = Object.fromEntries(
    SPLITS.map((s) => [
      s,
      new ShardWriter(tempNameFor(path.join(out, `${s}.arrow`)), !!data.id_column, !!data.group_column, !!targets),
    ]),
  ) as Record<SplitName, ShardWriter>;
  const labelCounts = Object.fromEntries(SPLITS.map((s) => [s, new Map<string, number>()])) as Record<
    SplitName,
    Map<string, number>
  >;
  const lengths = new LengthStats();
  progress?.phase('write', rowsRead);
  const written = await writeSpilledRows(
    spill,
    data,
    assigner,
    { writers, labelCounts, labelId, lengths, rejects, targetsOf: targets ? targetsOf(targets, labels) : undefined },
    (rows) => progress?.tick(rows),
  );
  progress?.done();
  for (const w of Object.values(writers)) await w.close();
  await rejects.close();
  const cleanup = () => Promise.all(Object.values(writers).map((w) => rm(w.file, { force: true })));
  if (rejects.count > data.max_bad_rows) {
    await cleanup();
    throw tooManyRejects(rejects, data.max_bad_rows, input);
  }
  if (!data.split_column && !targets) {
    try {
      checkEvalLabelsInTrain(labelCounts, input);
    } catch (err) {
      await cleanup();
      throw err;
    }
  }

  return publishDataset({
    config,
    format,
    input,
    inputSha,
    out,
    fingerprint,
    tokenizer,
    rejects,
    rowsRead,
    writers,
    written,
    lengths,
    labels,
    labelCounts,
  });
}

interface PublishInputs {
  config: RecsysConfig;
  format: string;
  input: string;
  inputSha: Promise<string>;
  out: string;
  fingerprint: string;
  tokenizer: TextTokenizer;
  rejects: RejectsWriter;
  rowsRead: number;
  writers: Record<SplitName, { file: string; rows: number; close(): Promise<void> }>;
  written: number;
  lengths: LengthStats;
  labels: string[];
  labelCounts?: Record<SplitName, Map<string, number>>;
}

/** The end of both passes for a dataset without label checks (task embedding): close, check rejects, publish. */
async function finishDataset(p: PublishInputs): Promise<DatasetManifest> {
  for (const w of Object.values(p.writers)) await w.close();
  await p.rejects.close();
  const max = p.config.data.max_bad_rows;
  if (p.rejects.count > max) {
    await Promise.all(Object.values(p.writers).map((w) => rm(w.file, { force: true })));
    throw tooManyRejects(p.rejects, max, p.input);
  }
  if (p.written === 0) throw new DataError(`${p.input}: no usable examples (every row was rejected or skipped)`);
  return publishDataset(p);
}

/** Rename the shards into place, copy the tokenizer, and write the manifest last. */
async function publishDataset(p: PublishInputs): Promise<DatasetManifest> {
  const { config, out, writers, labels, tokenizer, rejects } = p;
  const targets = targetSpecOf(config);
  // Publish: drop the old manifest first, so a crash in between never pairs it with new shards.
  await rm(path.join(out, MANIFEST_FILE), { force: true });
  const splitInfo: DatasetManifest['splits'] = {};
  for (const s of SPLITS) {
    const file = path.join(out, `${s}.arrow`);
    await rename(writers[s].file, file);
    faultPoint('prepare-publish');
    splitInfo[s] = {
      file: `${s}.arrow`,
      rows: writers[s].rows,
      sha256: await sha256File(file),
      label_counts: targets
        ? targetCounts(targets, labels, p.labelCounts?.[s] ?? new Map())
        : Object.fromEntries(labels.map((l) => [l, p.labelCounts?.[s].get(l) ?? 0])),
    };
  }
  await rm(path.join(out, 'tokenizer'), { recursive: true, force: true });
  for (const [name, content] of Object.entries(tokenizer.files()))
    await writeFileAtomic(path.join(out, 'tokenizer', name), content);

  faultPoint('prepare-publish');
  const manifest = buildManifest({
    config,
    format: p.format,
    input: p.input,
    inputSha: await p.inputSha,
    fingerprint: p.fingerprint,
    labels,
    tokenizer,
    splits: splitInfo,
    rows: { read: p.rowsRead, written: p.written, rejected: rejects.count },
    lengths: p.lengths.summary(),
  });
  await writeJsonAtomic(path.join(out, MANIFEST_FILE), manifest);
  return manifest;
}

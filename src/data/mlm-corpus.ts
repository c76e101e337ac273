import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleTemps, writeJsonAtomic } from '../lib/atomic.js';
import { DataError, UsageError } from '../lib/errors.js';
import { Rng } from '../lib/rng.js';
import type { Packing } from './mlm-texts.js';
import { CorpusShardWriter, type CorpusSplitInfo, ShardedRows } from './mlm-shards.js';
import { cellText, requireColumns } from './readers/columns.js';
import { openSource } from './readers/index.js';
import { RejectsWriter } from './rejects.js';
import type { TextTokenizer } from './tokenizer/index.js';
import { inlineEncoder, resolveWorkers, workerEncoder, type ChunkEncoder } from './tokenize-pool.js';
import { ChunkPipeline } from './tokenize-pass.js';

/**
 * The unlabelled text of `recsys pretrain`, tokenized in one streaming pass into Arrow shards on
 * disk (mlm-shards.ts), the way `recsys prepare` streams a labelled file: rows are read one by one,
 * tokenized in chunks on `data.workers` threads and taken back in source order (so the shards do not
 * depend on the thread count), and written out as they come; a bad row goes to rejects.csv.
 *  - group_texts: every text is encoded with [CLS] … [SEP] and no truncation, the texts of a split are
 *    concatenated and cut into max_length blocks, the remainder dropped unless it is all there is
 *    (Hugging Face's run_mlm.py).
 *  - one_per_row: one text per row, truncated to max_length (run_mlm.py --line_by_line).
 * The held-out split is drawn per source row from the seed before packing, so no text is in both.
 * The manifest (written last) records the settings: a later run with the same ones reuses the shards.
 */

export const CORPUS_MANIFEST = 'manifest.json';

/** What the tokens on disk depend on; a corpus made with other values is never reused. */
export interface CorpusSettings {
  input_sha256: string;
  text_column: string;
  tokenizer_sha256: string;
  max_length: number;
  packing: Packing;
  validation_split: number;
  seed: number;
  shard_rows: number;
}

export interface CorpusManifest {
  kind: 'mlm-corpus';
  settings: CorpusSettings;
  input: string;
  /** Source rows: texts per split, and rows rejected (listed in rejects.csv). */
  texts: { train: number; validation: number; rejected: number };
  /** Tokens of the texts before packing. */
  tokens: number;
  splits: { train: CorpusSplitInfo; validation: CorpusSplitInfo };
}

export interface MlmCorpusOptions {
  input: string;
  textColumn: string;
  maxLength: number;
  packing: Packing;
  /** Share of texts held out for validation (0 = none). */
  validationShare: number;
  seed: number;
  tokenizer: TextTokenizer;
  inputSha256: string;
  /** Where the shards go (the run's corpus/ by default). */
  dir: string;
  shardRows: number;
  workers: number;
  /** More rejected rows than this fail the run (null: no limit, they are only counted and listed). */
  maxBadRows: number | null;
  /** Replace a corpus made with other settings (else refuse it). */
  replace: boolean;
  /** Smaller inputs tokenize on the main thread: starting workers would cost more than it saves. */
  minBytesForWorkers?: number;
  /** Record batches each reader keeps decoded (default mlm-shards' CACHED_BATCHES). */
  cachedBatches?: number;
}

export interface MlmCorpus {
  manifest: CorpusManifest;
  reused: boolean;
  train: ShardedRows;
  validation: ShardedRows | null;
  /** Token count of every training row, for the loop's length buckets. */
  trainLengths: Int32Array;
}

/** No length cap when texts are packed: blocks are cut after concatenation. */
const UNTRUNCATED = 2 ** 31 - 1;
const MIN_BYTES_FOR_WORKERS = 512 * 1024;
const OWN_FILE = /^((train|validation)-\d{5}\.arrow|rejects\.csv|manifest\.json)$/;

/** The corpus for these settings: the one already in o.dir when it matches, else tokenized now. */
export async function mlmCorpus(o: MlmCorpusOptions): Promise<MlmCorpus> {
  if (o.maxLength < 2) throw new UsageError(`pretrain.max_length: ${o.maxLength} leaves no room for a token`);
  const settings: CorpusSettings = {
    input_sha256: o.inputSha256,
    text_column: o.textColumn,
    tokenizer_sha256: o.tokenizer.sha256,
    max_length: o.maxLength,
    packing: o.packing,
    validation_split: o.validationShare,
    seed: o.seed,
    shard_rows: o.shardRows,
  };
  let manifest = previousCorpus(o.dir, settings, o.replace);
  const reused = manifest !== null;
  if (!manifest) {
    await mkdir(o.dir, { recursive: true });
    await removeLeftovers(o.dir);
    try {
      manifest = await tokenizeCorpus(o, settings);
    } catch (err) {
      await removeStaleTemps(o.dir); // rejects.csv stays: a data error points to it
      throw err;
    }
  }
  const train = await ShardedRows.open(o.dir, manifest.splits.train, o.shardRows, o.cachedBatches);
  const v = manifest.splits.validation;
  const validation = v.rows > 0 ? await ShardedRows.open(o.dir, v, o.shardRows, o.cachedBatches) : null;
  const u = manifest.splits.train.uniform_length;
  const trainLengths = u !== null ? new Int32Array(train.size).fill(u) : train.lengths();
  return { manifest, reused, train, validation, trainLengths };
}

/** The complete corpus in dir if it was made with these settings; a different one is refused or removed. */
function previousCorpus(dir: string, settings: CorpusSettings, replace: boolean): CorpusManifest | null {
  const file = path.join(dir, CORPUS_MANIFEST);
  if (!existsSync(file)) return null;
  let was: Partial<CorpusManifest> = {};
  try {
    was = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    /* unreadable: a different corpus */
  }
  const before = (was.settings ?? {}) as Partial<CorpusSettings>;
  const diff = (Object.keys(settings) as (keyof CorpusSettings)[]).find((k) => before[k] !== settings[k]);
  if (was.kind === 'mlm-corpus' && diff === undefined) return was as CorpusManifest;
  if (replace) return null;
  const what = diff
    ? `${diff} ${JSON.stringify(before[diff] ?? null)} there, ${JSON.stringify(settings[diff])} now`
    : '';
  throw new UsageError(
    `pretrain.corpus_dir: ${dir} holds a corpus tokenized with other settings${what ? ` (${what})` : ''}; ` +
      'pass --overwrite to replace it or choose another pretrain.corpus_dir',
  );
}

/** Remove an interrupted or replaced corpus: its own files and temp names, nothing else. */
async function removeLeftovers(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (OWN_FILE.test(f)) await rm(path.join(dir, f), { force: true });
  await removeStaleTemps(dir);
}

async function openEncoder(o: MlmCorpusOptions, maxLength: number): Promise<ChunkEncoder> {
  const threads = resolveWorkers(o.workers);
  if (threads <= 1 || statSync(o.input).size < (o.minBytesForWorkers ?? MIN_BYTES_FOR_WORKERS))
    return inlineEncoder(o.tokenizer, maxLength, 'longest_first');
  return workerEncoder(o.tokenizer, threads, maxLength, 'longest_first');
}

/** Cuts a split's token stream into max_length blocks (group_texts) or writes one row per text. */
class Packer {
  private readonly block: Int32Array;
  private filled = 0;

  constructor(
    private readonly writer: CorpusShardWriter,
    private readonly packing: Packing,
    maxLength: number,
  ) {
    this.block = new Int32Array(maxLength);
  }

  add(ids: ArrayLike<number>, row: number): void {
    if (this.packing === 'one_per_row') {
      this.writer.write(Int32Array.from(ids), row);
      return;
    }
    for (let at = 0; at < ids.length; ) {
      const n = Math.min(ids.length - at, this.block.length - this.filled);
      for (let k = 0; k < n; k++) this.block[this.filled + k] = ids[at + k];
      this.filled += n;
      at += n;
      if (this.filled === this.block.length) {
        this.writer.write(this.block.slice(), this.writer.rows + 1);
        this.filled = 0;
      }
    }
  }

  /** The remainder is dropped, unless the split has no full block: then it is the one block. */
  finish(): void {
    if (this.packing === 'group_texts' && this.writer.rows === 0 && this.filled > 0)
      this.writer.write(this.block.slice(0, this.filled), 1);
  }
}

function missingText(value: unknown, column: string): string {
  if (value === null || value === undefined) return `missing text (column "${column}")`;
  if (cellText(value) === undefined) return `text is not a string (column "${column}")`;
  return `empty text (column "${column}")`;
}

async function tokenizeCorpus(o: MlmCorpusOptions, settings: CorpusSettings): Promise<CorpusManifest> {
  const source = openSource(o.input, 'auto'); // by extension: data.format describes the labelled file
  await requireColumns(source, o.input, [o.textColumn]);
  const encoderReady = openEncoder(o, o.packing === 'group_texts' ? UNTRUNCATED : o.maxLength);
  encoderReady.catch(() => undefined); // awaited at the first chunk
  const rejects = new RejectsWriter(path.join(o.dir, 'rejects.csv'));
  const writers = {
    train: new CorpusShardWriter(o.dir, 'train', o.shardRows, o.maxLength),
    validation: new CorpusShardWriter(o.dir, 'validation', o.shardRows, o.maxLength),
  };
  const packers = {
    train: new Packer(writers.train, o.packing, o.maxLength),
    validation: new Packer(writers.validation, o.packing, o.maxLength),
  };
  const texts = { train: 0, validation: 0, rejected: 0 };
  let tokens = 0;
  const pipeline = new ChunkPipeline(encoderReady, false, (rows, chunk) => {
    rows.forEach((m, k) => {
      const enc = chunk.get(k)!;
      tokens += enc.ids.length;
      packers[m.split as 'train' | 'validation'].add(enc.ids, m.row);
    });
  });
  const rng = new Rng(o.seed ^ 0x6d6c6d);
  try {
    let read = 0;
    for await (const r of source.rows()) {
      // One draw per row, good or bad, so the split of a row never depends on the rows around it.
      const split = rng.next() < o.validationShare ? 'validation' : 'train';
      // Let the shard streams write out what they hold: reading and tokenizing can outrun a disk.
      if (++read % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
      const value = r.values?.[o.textColumn];
      const text = r.error ? undefined : cellText(value)?.trim();
      if (!text) {
        rejects.add({ row: r.row, line: r.line, reason: r.error ?? missingText(value, o.textColumn), raw: r.raw });
        continue;
      }
      texts[split]++;
      await pipeline.add({ row: r.row, label: '', split }, text, undefined);
    }
    await pipeline.finish();
    packers.train.finish();
    packers.validation.finish();
    texts.rejected = rejects.count;
    if (texts.train === 0 || (o.maxBadRows !== null && rejects.count > o.maxBadRows)) await rejects.close();
    if (texts.train === 0)
      throw new DataError(
        `${o.input}: no text in column "${o.textColumn}" for training (${rejects.count} rejected rows)`,
      );
    if (o.maxBadRows !== null && rejects.count > o.maxBadRows)
      throw new DataError(
        `${o.input}: ${rejects.count} bad row(s), more than pretrain.max_bad_rows=${o.maxBadRows}; ` +
          `all are listed in ${rejects.file}`,
        rejects.first.map((b) => `row ${b.row}${b.line ? ` (line ${b.line})` : ''}: ${b.reason}`),
      );
    const splits = { train: await writers.train.commit(), validation: await writers.validation.commit() };
    await rejects.close();
    const manifest: CorpusManifest = {
      kind: 'mlm-corpus',
      settings,
      input: path.resolve(o.input),
      texts,
      tokens,
      splits,
    };
    await writeJsonAtomic(path.join(o.dir, CORPUS_MANIFEST), manifest);
    return manifest;
  } catch (err) {
    await Promise.all([writers.train.abort(), writers.validation.abort(), rejects.abort()]);
    throw err;
  } finally {
    await (await encoderReady.catch(() => null))?.close();
  }
}

/** The input exists, its format is known and it has the text column (before anything is hashed or cleared). */
export async function checkCorpusInput(input: string, textColumn: string): Promise<void> {
  await requireColumns(openSource(input, 'auto'), input, [textColumn]);
}

import type { RecsysConfig } from '../config/schema.js';
import { tempNameFor } from '../lib/atomic.js';
import { Rng } from '../lib/rng.js';
import path from 'node:path';
import type { RowSource } from './readers/index.js';
import type { RejectsWriter } from './rejects.js';
import { SplitPlanner, SPLITS, type SplitAssigner, type SplitName } from './split.js';
import { LengthStats } from './stats.js';
import type { ChunkEncoder, EncodedChunk } from './tokenize-pool.js';
import { ChunkPipeline } from './tokenize-pass.js';
import type { RowMeta, SpilledRow, TokenSpill } from './token-spill.js';
import { examineTripletRow } from './triplet-row.js';
import { TripletShardWriter } from './triplet-shards.js';

/** A query's hard negatives (relevance mode) come as part 3; an example's own texts are parts 0, 1, 2. */
const POOLED_NEGATIVE = 3;

export interface TripletPassInputs {
  config: RecsysConfig;
  source: RowSource;
  out: string;
  encoderReady: Promise<ChunkEncoder>;
  spill: TokenSpill;
  rejects: RejectsWriter;
  progress?: { phase(name: 'scan' | 'write', total?: number): void; tick(rows: number): void; done(): void };
}

export interface TripletPassResult {
  rowsRead: number;
  written: number;
  skipped: number;
  writers: Record<SplitName, TripletShardWriter>;
  lengths: LengthStats;
}

const negativeKey = (split: SplitName | undefined, group: string | undefined) => `${split ?? ''}\u0000${group ?? ''}`;

/**
 * Both passes of prepare for `task: embedding`. Pass 1 tokenizes each text of a row on its own (anchor,
 * positive, negative as separate single-text encodings, in that order, through the same pool as
 * classification, so the thread count never changes the bytes), and keeps each query's hard-negative
 * tokens (relevance mode: one token list per negative judgement, nothing else). Pass 2 reassembles each
 * example from its consecutive spilled parts, gives it its split and writes it.
 */
export async function tripletPasses(inp: TripletPassInputs): Promise<TripletPassResult> {
  const { config, spill, rejects, progress } = inp;
  const data = config.data;
  const negatives = new Map<string, Int32Array[]>();
  const take = (rows: RowMeta[], chunk: EncodedChunk) => {
    rows.forEach((m, i) => {
      if (m.part !== POOLED_NEGATIVE) return;
      const key = negativeKey(m.split, m.group);
      const list = negatives.get(key) ?? [];
      list.push(Int32Array.from(chunk.get(i)!.ids));
      negatives.set(key, list);
    });
    spill.append(rows, chunk);
  };
  const pipeline = new ChunkPipeline(inp.encoderReady, false, take);
  const planner = new SplitPlanner();
  let rowsRead = 0;
  let skipped = 0;
  progress?.phase('scan');
  for await (const r of inp.source.rows()) {
    rowsRead++;
    if (rowsRead % 1000 === 0) progress?.tick(rowsRead);
    const e = examineTripletRow(r, data);
    if (!e.ok) {
      rejects.add({ row: r.row, line: r.line, reason: e.reason, raw: r.raw });
      continue;
    }
    if (e.role === 'skip') {
      skipped++;
      continue;
    }
    if (e.role === 'example' && !e.split) planner.observe('', e.group);
    const meta: RowMeta = { row: r.row, line: r.line, label: '', group: e.group, split: e.split, id: e.id };
    for (const [k, text] of e.texts.entries())
      await pipeline.add({ ...meta, part: e.role === 'negative' ? POOLED_NEGATIVE : k }, text, undefined);
  }
  await pipeline.finish();
  progress?.done();
  const grouped = !!data.group_column || !!data.positive_labels;
  const assigner = data.split_column
    ? null
    : planner.plan(data.split, { stratify: false, grouped }, new Rng(config.seed));
  const writers = Object.fromEntries(
    SPLITS.map((s) => [s, new TripletShardWriter(tempNameFor(path.join(inp.out, `${s}.arrow`)), !!data.id_column)]),
  ) as Record<SplitName, TripletShardWriter>;
  const lengths = new LengthStats();
  progress?.phase('write', rowsRead);
  const written = writeExamples(spill, assigner, negatives, writers, lengths, data.max_length, progress?.tick);
  progress?.done();
  return { rowsRead, written, skipped, writers, lengths };
}

function writeExamples(
  spill: TokenSpill,
  assigner: SplitAssigner | null,
  negatives: Map<string, Int32Array[]>,
  writers: Record<SplitName, TripletShardWriter>,
  lengths: LengthStats,
  maxLength: number,
  tick?: (rows: number) => void,
): number {
  const used = new Map<string, number>();
  let written = 0;
  let current: { meta: SpilledRow; texts: Int32Array[] } | null = null;
  const flush = () => {
    if (!current) return;
    const { meta, texts } = current;
    const split = meta.split ?? assigner!.assign('', meta.group);
    // Relevance mode: the k-th positive of a query takes its (k mod n)-th hard negative.
    const pool = negatives.get(negativeKey(meta.split, meta.group));
    if (pool && texts.length === 2) {
      const k = used.get(meta.group!) ?? 0;
      used.set(meta.group!, k + 1);
      texts.push(pool[k % pool.length]);
    }
    writers[split].write({ texts, row: meta.row, id: meta.id });
    written++;
  };
  let seen = 0;
  for (const m of spill.rows()) {
    if (++seen % 1000 === 0) tick?.(seen);
    if (m.part === POOLED_NEGATIVE) continue;
    // Single texts always fit (they are truncated), so every part has tokens.
    lengths.add(m.enc!.fullLength, maxLength);
    const ids = Int32Array.from(m.enc!.ids);
    if (m.part === 0) {
      flush();
      current = { meta: m, texts: [ids] };
    } else current!.texts.push(ids);
  }
  flush();
  return written;
}

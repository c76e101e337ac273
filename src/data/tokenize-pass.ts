import type { DataConfig } from '../config/schema.js';
import type { RowSource } from './readers/index.js';
import type { RejectsWriter } from './rejects.js';
import { examineRow } from './row.js';
import type { ShardWriter } from './shards.js';
import type { SplitAssigner, SplitName } from './split.js';
import type { LengthStats } from './stats.js';
import { CHUNK_ROWS, type ChunkEncoder, type EncodedChunk } from './tokenize-pool.js';

/** What the writer needs of a row once its tokens come back (its text has gone to the encoder). */
interface RowMeta {
  row: number;
  line?: number;
  raw?: string;
  split: SplitName;
  label: string;
  id?: string;
}

interface Chunk {
  rows: RowMeta[];
  a: string[];
  b: string[] | undefined;
}

export interface TokenizePassTargets {
  writers: Record<SplitName, ShardWriter>;
  labelCounts: Record<SplitName, Map<string, number>>;
  labelId: Map<string, number>;
  lengths: LengthStats;
  rejects: RejectsWriter;
}

/**
 * Pass 2 of prepare: read the rows again, give each usable row its split, tokenize (in chunks, on
 * the encoder's threads) and write the rows to their shards strictly in source order. At most
 * `encoder.maxInFlight` chunks wait for their tokens, and the reader waits while they do, so memory
 * stays flat however large the input. Returns the number of rows written.
 */
export async function tokenizePass(
  source: RowSource,
  data: DataConfig,
  allowed: Set<string> | null,
  assigner: SplitAssigner | null,
  encoder: ChunkEncoder,
  out: TokenizePassTargets,
  tick?: (rows: number) => void,
): Promise<number> {
  let written = 0;
  const take = (meta: RowMeta[], encoded: EncodedChunk) => {
    meta.forEach((m, i) => {
      const enc = encoded.get(i);
      if (!enc) {
        out.rejects.add({
          row: m.row,
          line: m.line,
          reason: `first text alone exceeds max_length ${data.max_length}; only_second truncation cannot fit the pair`,
          raw: m.raw,
        });
        return;
      }
      out.lengths.add(enc.fullLength, data.max_length);
      out.writers[m.split].write({
        ids: enc.ids,
        typeIds: enc.typeIds,
        label: out.labelId.get(m.label)!,
        row: m.row,
        id: m.id,
      });
      out.labelCounts[m.split].set(m.label, (out.labelCounts[m.split].get(m.label) ?? 0) + 1);
      written++;
    });
  };
  const inFlight: { rows: RowMeta[]; result: Promise<EncodedChunk> }[] = [];
  const takeOldest = async () => {
    const c = inFlight.shift()!;
    take(c.rows, await c.result);
  };
  const fresh = (): Chunk => ({ rows: [], a: [], b: data.pair_column ? [] : undefined });
  let chunk = fresh();
  const send = async () => {
    inFlight.push({ rows: chunk.rows, result: encoder.encode(chunk.a, chunk.b) });
    chunk = fresh();
    while (inFlight.length > encoder.maxInFlight) await takeOldest();
  };

  let seen = 0;
  for await (const r of source.rows()) {
    if (++seen % 1000 === 0) tick?.(seen);
    const e = examineRow(r, data, allowed);
    if (!e.ok) continue; // already in rejects.csv from pass 1
    const split = e.split ?? assigner!.assign(e.label, e.group);
    chunk.rows.push({ row: r.row, line: r.line, raw: r.raw, split, label: e.label, id: e.id });
    chunk.a.push(e.text);
    chunk.b?.push(e.pair!);
    if (chunk.rows.length === CHUNK_ROWS) await send();
  }
  if (chunk.rows.length) await send();
  while (inFlight.length) await takeOldest();
  return written;
}

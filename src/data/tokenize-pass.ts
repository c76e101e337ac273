import type { DataConfig } from '../config/schema.js';
import type { RejectsWriter } from './rejects.js';
import type { ShardWriter } from './shards.js';
import type { SplitAssigner, SplitName } from './split.js';
import type { LengthStats } from './stats.js';
import type { RowMeta, TokenSpill } from './token-spill.js';
import { CHUNK_ROWS, type ChunkEncoder, type EncodedChunk } from './tokenize-pool.js';

/**
 * Rows on their way to the tokenizer, in chunks, taken back strictly in the order they came: at
 * most `encoder.maxInFlight` chunks wait for their tokens, and `add` waits while they do, so the
 * reader upstream pauses and memory stays flat however large the input.
 */
export class ChunkPipeline {
  private encoder?: ChunkEncoder;
  private rows: RowMeta[] = [];
  private a: string[] = [];
  private b: string[] | undefined;
  private readonly inFlight: { rows: RowMeta[]; result: Promise<EncodedChunk> }[] = [];

  constructor(
    private readonly encoderReady: Promise<ChunkEncoder>,
    private readonly pairs: boolean,
    private readonly take: (rows: RowMeta[], chunk: EncodedChunk) => void,
  ) {
    this.b = pairs ? [] : undefined;
  }

  async add(meta: RowMeta, a: string, b: string | undefined): Promise<void> {
    this.rows.push(meta);
    this.a.push(a);
    this.b?.push(b!);
    if (this.rows.length === CHUNK_ROWS) await this.send();
  }

  /** Send what is left and take every result back. */
  async finish(): Promise<void> {
    if (this.rows.length) await this.send();
    while (this.inFlight.length) await this.takeOldest();
  }

  private async send(): Promise<void> {
    this.encoder ??= await this.encoderReady;
    this.inFlight.push({ rows: this.rows, result: this.encoder.encode(this.a, this.b) });
    this.rows = [];
    this.a = [];
    this.b = this.pairs ? [] : undefined;
    while (this.inFlight.length > this.encoder.maxInFlight) await this.takeOldest();
  }

  private async takeOldest(): Promise<void> {
    const c = this.inFlight.shift()!;
    this.take(c.rows, await c.result);
  }
}

export interface ShardTargets {
  writers: Record<SplitName, ShardWriter>;
  labelCounts: Record<SplitName, Map<string, number>>;
  labelId: Map<string, number>;
  /** Regression and multi-label tasks: the row's target vector from its key (the label id is then 0). */
  targetsOf?: (key: string) => Float32Array;
  lengths: LengthStats;
  rejects: RejectsWriter;
}

/**
 * Pass 2 of prepare: give each spilled row its split (in source order, as the seeded plan expects)
 * and write it to that split's shard; a pair that could not fit goes to rejects.csv. Returns the
 * number of rows written.
 */
export async function writeSpilledRows(
  spill: TokenSpill,
  data: DataConfig,
  assigner: SplitAssigner | null,
  out: ShardTargets,
  tick?: (rows: number) => void,
): Promise<number> {
  let written = 0;
  let seen = 0;
  for (const m of spill.rows()) {
    if (++seen % 1000 === 0) {
      tick?.(seen);
      // Let the shard streams write out what they hold: the spill reads faster than a disk writes.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const split = m.split ?? assigner!.assign(m.label, m.group);
    if (!m.enc) {
      out.rejects.add({
        row: m.row,
        line: m.line,
        reason: `first text alone exceeds max_length ${data.max_length}; only_second truncation cannot fit the pair`,
        raw: m.raw,
      });
      continue;
    }
    out.lengths.add(m.enc.fullLength, data.max_length);
    out.writers[split].write({
      ids: m.enc.ids,
      typeIds: m.enc.typeIds,
      label: out.targetsOf ? 0 : out.labelId.get(m.label)!,
      targets: out.targetsOf?.(m.label),
      row: m.row,
      id: m.id,
      group: m.group,
    });
    out.labelCounts[split].set(m.label, (out.labelCounts[split].get(m.label) ?? 0) + 1);
    written++;
  }
  return written;
}

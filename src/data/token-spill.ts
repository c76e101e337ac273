import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import type { SplitName } from './split.js';
import type { EncodedChunk, EncodedRow } from './tokenize-pool.js';

/** What pass 2 needs of a usable row once pass 1 has read it. */
export interface RowMeta {
  row: number;
  line?: number;
  raw?: string;
  label: string;
  group?: string;
  split?: SplitName;
  id?: string;
  /** task embedding: which of the row's texts (0 anchor, 1 positive, 2 negative, 3 a query's hard negative). */
  part?: number;
}

export interface SpilledRow extends RowMeta {
  /** null: only_second truncation could not fit the pair. */
  enc: EncodedRow | null;
}

interface ChunkHeader {
  rows: RowMeta[];
  /** Tokens per row, -1 for a pair that cannot fit. */
  lengths: number[];
  fullLengths: number[];
  /** Leading type-0 tokens of each row; the rest are type 1 (the [CLS] A [SEP] B [SEP] template). */
  typeZero: number[];
}

/**
 * Tokenized rows in source order, in a temp file between pass 1 (which reads the input and
 * tokenizes) and pass 2 (which needs the split plan that only the end of pass 1 knows). Parsing
 * the input once instead of twice is the point; memory holds one chunk at a time. Record per
 * chunk: header bytes and token bytes (uint32 each), the JSON header, the token ids (uint16 when
 * the vocabulary fits, else int32).
 */
export class TokenSpill {
  private readonly fd: number;
  private readonly wide: boolean;
  private written = 0;

  constructor(
    readonly file: string,
    vocabSize: number,
  ) {
    this.fd = openSync(file, 'w+');
    this.wide = vocabSize > 0x10000;
  }

  append(rows: RowMeta[], chunk: EncodedChunk): void {
    const header: ChunkHeader = { rows, lengths: [], fullLengths: [], typeZero: [] };
    const encoded = rows.map((_, i) => chunk.get(i));
    let tokens = 0;
    encoded.forEach((e, i) => {
      header.lengths.push(e ? e.ids.length : -1);
      header.fullLengths.push(e ? e.fullLength : -1);
      if (!e) return;
      tokens += e.ids.length;
      let zeros = 0;
      while (zeros < e.typeIds.length && e.typeIds[zeros] === 0) zeros++;
      header.typeZero.push(zeros);
      rows[i].raw = undefined; // the raw excerpt is only ever quoted for a pair that cannot fit
    });
    const json = Buffer.from(JSON.stringify(header));
    const ids = this.wide ? new Int32Array(tokens) : new Uint16Array(tokens);
    let at = 0;
    for (const e of encoded) {
      if (!e) continue;
      ids.set(e.ids, at);
      at += e.ids.length;
    }
    const sizes = Buffer.alloc(8);
    sizes.writeUInt32LE(json.length, 0);
    sizes.writeUInt32LE(ids.byteLength, 4);
    this.write(sizes);
    this.write(json);
    this.write(new Uint8Array(ids.buffer, 0, ids.byteLength));
  }

  private write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, this.written + done);
    this.written += bytes.length;
  }

  /** `aligned`: a buffer of its own (offset 0), so typed arrays of any width can view it. */
  private read(length: number, position: number, aligned = false): Buffer {
    const buf = aligned ? Buffer.allocUnsafeSlow(length) : Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, position + done);
      if (n === 0) throw new Error(`${this.file}: token spill ends early`);
      done += n;
    }
    return buf;
  }

  /** Every spilled row, in the order appended. */
  *rows(): Generator<SpilledRow> {
    let position = 0;
    while (position < this.written) {
      const sizes = this.read(8, position);
      const jsonBytes = sizes.readUInt32LE(0);
      const idBytes = sizes.readUInt32LE(4);
      const header = JSON.parse(this.read(jsonBytes, position + 8).toString('utf8')) as ChunkHeader;
      const raw = this.read(idBytes, position + 8 + jsonBytes, true);
      position += 8 + jsonBytes + idBytes;
      const ids = this.wide
        ? new Int32Array(raw.buffer, raw.byteOffset, idBytes / 4)
        : new Uint16Array(raw.buffer, raw.byteOffset, idBytes / 2);
      let at = 0;
      let withTokens = 0;
      for (let i = 0; i < header.rows.length; i++) {
        const n = header.lengths[i];
        if (n < 0) {
          yield { ...header.rows[i], enc: null };
          continue;
        }
        const typeIds = new Int8Array(n).fill(1, header.typeZero[withTokens++]);
        yield { ...header.rows[i], enc: { ids: ids.subarray(at, at + n), typeIds, fullLength: header.fullLengths[i] } };
        at += n;
      }
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

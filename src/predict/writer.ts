import { createWriteStream, type WriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { tempNameFor } from '../lib/atomic.js';

export interface Prediction {
  row: number;
  id?: string;
  label: string | null;
  score: number | null;
  top_k?: { label: string; score: number }[];
  logits?: number[];
  error?: string;
}

const csvField = (v: unknown) => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Predictions as JSONL or CSV (by extension), written to a temp name and renamed when complete. */
export class PredictionWriter {
  private readonly tmp: string;
  private readonly out: WriteStream;
  private readonly csv: boolean;
  private header?: string[];

  constructor(readonly file: string, private readonly withId: boolean) {
    this.csv = /\.(csv|tsv)$/i.test(file);
    this.tmp = tempNameFor(file);
    this.out = createWriteStream(this.tmp);
  }

  write(p: Prediction): void {
    if (!this.csv) {
      this.out.write(JSON.stringify(p) + '\n');
      return;
    }
    if (!this.header) {
      this.header = ['row', ...(this.withId ? ['id'] : []), 'label', 'score', 'top_k', 'logits', 'error'];
      this.out.write(this.header.join(',') + '\n');
    }
    this.out.write(this.header.map((k) => csvField((p as unknown as Record<string, unknown>)[k])).join(',') + '\n');
  }

  async close(): Promise<void> {
    this.out.end();
    await finished(this.out);
    await rename(this.tmp, this.file);
  }
}

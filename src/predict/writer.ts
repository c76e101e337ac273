import { AtomicTextStream } from '../lib/atomic-stream.js';

export interface Prediction {
  row: number;
  id?: string;
  label: string | null;
  score: number | null;
  top_k?: { label: string; score: number }[];
  /** Multi-label: the labels predicted (sigmoid ≥ threshold) and every label's probability. */
  labels?: string[];
  scores?: Record<string, number>;
  /** Regression: the outputs by name. */
  values?: Record<string, number>;
  logits?: number[];
  error?: string;
}

const csvField = (v: unknown) => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Predictions as JSONL or CSV (by extension), written to a temp name and renamed when complete. */
export class PredictionWriter {
  private readonly out: AtomicTextStream;
  private readonly csv: boolean;
  private header?: string[];

  constructor(
    readonly file: string,
    private readonly withId: boolean,
    private readonly extraColumns: string[] = [],
  ) {
    this.csv = /\.(csv|tsv)$/i.test(file);
    this.out = new AtomicTextStream(file);
  }

  /** Lines of one batch, written at once (waiting while the output stream is full). */
  async write(batch: Prediction[]): Promise<void> {
    let text = '';
    for (const p of batch) text += this.line(p);
    await this.out.write(text);
  }

  private line(p: Prediction): string {
    if (!this.csv) return `${JSON.stringify(p)}\n`;
    let head = '';
    if (!this.header) {
      const id = this.withId ? ['id'] : [];
      this.header = ['row', ...id, 'label', 'score', 'top_k', ...this.extraColumns, 'logits', 'error'];
      head = `${this.header.join(',')}\n`;
    }
    return `${head + this.header.map((k) => csvField((p as unknown as Record<string, unknown>)[k])).join(',')}\n`;
  }

  async close(): Promise<void> {
    await this.out.commit();
  }

  async abort(): Promise<void> {
    await this.out.abort();
  }
}

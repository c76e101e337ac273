import { AtomicTextStream } from '../lib/atomic-stream.js';

export interface Reject {
  row: number;
  line?: number;
  reason: string;
  raw?: string;
}

// NUL is shown as \0: Python's csv module (before 3.11) refuses a file that contains it.
const csvField = (raw: string) => {
  const v = raw.includes('\0') ? raw.replace(/\0/g, '\\0') : raw;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
};

/** rejects.csv: every row prepare could not use, with its source row number and the reason. */
export class RejectsWriter {
  private readonly out: AtomicTextStream;
  readonly first: Reject[] = [];
  count = 0;

  constructor(readonly file: string) {
    this.out = new AtomicTextStream(file);
    this.out.push('row,line,reason,raw\n');
  }

  add(r: Reject): void {
    this.count++;
    if (this.first.length < 5) this.first.push(r);
    this.out.push(`${r.row},${r.line ?? ''},${csvField(r.reason)},${csvField(r.raw ?? '')}\n`);
  }

  async close(): Promise<void> {
    await this.out.commit();
  }

  /** Remove the temp file (the command failed). */
  async abort(): Promise<void> {
    await this.out.abort();
  }
}

import { createWriteStream, type WriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { tempNameFor } from '../lib/atomic.js';

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
  private readonly tmp: string;
  private readonly out: WriteStream;
  readonly first: Reject[] = [];
  count = 0;

  constructor(readonly file: string) {
    this.tmp = tempNameFor(file);
    this.out = createWriteStream(this.tmp);
    this.out.write('row,line,reason,raw\n');
  }

  add(r: Reject): void {
    this.count++;
    if (this.first.length < 5) this.first.push(r);
    this.out.write(`${r.row},${r.line ?? ''},${csvField(r.reason)},${csvField(r.raw ?? '')}\n`);
  }

  async close(): Promise<void> {
    this.out.end();
    await finished(this.out);
    await rename(this.tmp, this.file);
  }
}

import { closeSync, existsSync, fsyncSync, openSync, statSync, truncateSync, writeSync } from 'node:fs';

/** metrics.jsonl, append-only; on resume it is cut back to the checkpoint's length. */
export class MetricsLog {
  private fd: number;

  constructor(
    readonly file: string,
    resumeAtBytes?: number,
  ) {
    if (resumeAtBytes !== undefined && existsSync(file) && statSync(file).size > resumeAtBytes)
      truncateSync(file, resumeAtBytes);
    this.fd = openSync(file, resumeAtBytes === undefined ? 'w' : 'a');
  }

  write(entry: Record<string, unknown>): void {
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
  }

  get bytes(): number {
    fsyncSync(this.fd);
    return statSync(this.file).size;
  }

  close(): void {
    closeSync(this.fd);
  }
}

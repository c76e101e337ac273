import { closeSync, existsSync, fsyncSync, openSync, statSync, truncateSync, writeSync } from 'node:fs';
import { metricsLine, type MetricsRecord } from '../eval/metrics-record.js';

/**
 * metrics.jsonl, append-only, one record per line in the format of eval/metrics-record.ts; on
 * resume it is cut back to the checkpoint's length.
 */
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

  write(record: MetricsRecord): void {
    writeSync(this.fd, metricsLine(record));
  }

  get bytes(): number {
    fsyncSync(this.fd);
    return statSync(this.file).size;
  }

  close(): void {
    closeSync(this.fd);
  }
}

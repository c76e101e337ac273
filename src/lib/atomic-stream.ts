import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { tempNameFor } from './atomic.js';

/**
 * A text file written as a stream to a temp name and renamed into place by `commit()`, so readers
 * see the complete file or none. A write error (disk full, a file system gone read-only) is kept
 * and thrown at the next call, naming the target file rather than its temp name, instead of
 * surfacing as an unhandled 'error' event. `abort()` removes the temp file.
 */
export class AtomicTextStream {
  private readonly tmp: string;
  private readonly out: WriteStream;
  private failure?: Error;
  private closed = false;

  constructor(readonly target: string) {
    this.tmp = tempNameFor(target);
    mkdirSync(path.dirname(target), { recursive: true });
    this.out = createWriteStream(this.tmp);
    this.out.on('error', (err: NodeJS.ErrnoException) => {
      err.path = target;
      this.failure ??= err;
    });
  }

  /** Queue text without waiting (small side files); errors come back at the next call or commit. */
  push(text: string): void {
    if (this.failure) throw this.failure;
    this.out.write(text);
  }

  /** Write and wait while the stream is full, so a large output never piles up in memory. */
  async write(text: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.out.write(text)) await once(this.out, 'drain').catch(() => undefined);
    if (this.failure) throw this.failure;
  }

  async commit(): Promise<void> {
    if (this.failure) return this.fail();
    this.closed = true;
    this.out.end();
    try {
      await finished(this.out);
    } catch {
      return this.fail();
    }
    if (this.failure) return this.fail();
    await rename(this.tmp, this.target);
  }

  /** Give up: close the stream and remove the temp file (idempotent, never throws). */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (!this.out.closed) {
        const closing = once(this.out, 'close').catch(() => undefined);
        this.out.destroy();
        await closing;
      }
    }
    await rm(this.tmp, { force: true }).catch(() => undefined);
  }

  private async fail(): Promise<never> {
    await this.abort();
    throw this.failure!;
  }
}

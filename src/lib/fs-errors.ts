import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './errors.js';

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a parent path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  EIO: 'input/output error',
};

/** A one-line reason for a filesystem error, or undefined when it is not one. */
export function fsErrorReason(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? REASONS[code] : undefined;
}

/** `path: reason` for a filesystem error (Node puts the path on most of them). */
export function describeFsError(err: unknown, fallbackPath?: string): string | undefined {
  const reason = fsErrorReason(err);
  if (!reason) return undefined;
  const where = (err as { path?: string }).path ?? fallbackPath;
  return where ? `${where}: ${reason}` : reason;
}

/**
 * Make sure `dir` can be created and written before any work starts, so a bad output location
 * is a one-line error up front instead of a failure halfway through.
 */
export function ensureWritableDir(dir: string, what: string, opts: { keep?: boolean } = {}): void {
  const reason = unwritableReason(dir, opts.keep ?? true);
  if (reason) throw new UsageError(`${dir}: cannot write the ${what} here: ${reason}`);
}

/**
 * The same for an output file: its directory must take a new file. Directories made for the check
 * are removed again (an interrupted command leaves nothing); the writer makes them when it writes.
 */
export function ensureWritableFile(file: string, what: string): void {
  const reason = unwritableReason(path.dirname(file), false);
  if (reason) throw new UsageError(`${file}: cannot write the ${what} here: ${reason}`);
}

function unwritableReason(dir: string, keep: boolean): string | undefined {
  try {
    const created = mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `.write-probe-${randomBytes(4).toString('hex')}`);
    writeFileSync(probe, '');
    rmSync(probe);
    if (created && !keep) rmSync(created, { recursive: true, force: true });
    return undefined;
  } catch (err) {
    // mkdir -p on a read-only filesystem can surface as ENOENT: ask the nearest existing parent why.
    return fsErrorReason(err) ?? ancestorReason(dir) ?? (err as Error).message;
  }
}

function ancestorReason(dir: string): string | undefined {
  let at = path.dirname(path.resolve(dir));
  while (!existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  try {
    accessSync(at, constants.W_OK);
    return undefined;
  } catch (err) {
    return fsErrorReason(err);
  }
}

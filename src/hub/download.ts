import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UsageError } from '../lib/errors.js';
import { repoCacheDir, type HubSettings } from './cache.js';

/** Files a BERT classifier needs; the first two must exist, the others are taken when present. */
export const REQUIRED_FILES = ['config.json', 'model.safetensors'];
export const OPTIONAL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json'];

export class HubError extends UsageError {}

export interface DownloadEvents {
  start?(file: string, bytes: number | undefined, resumedFrom: number): void;
  progress?(file: string, received: number): void;
  done?(file: string): void;
}

interface Resolved {
  commit: string;
  etag: string;
  size?: number;
}

function authHeaders(s: HubSettings): Record<string, string> {
  return s.token ? { authorization: `Bearer ${s.token}` } : {};
}

function describeStatus(status: number, url: string): string {
  if (status === 401 || status === 403)
    return `${url}: access denied (HTTP ${status}); set HF_TOKEN for private or gated models`;
  if (status === 404) return `${url}: not found (HTTP 404)`;
  return `${url}: HTTP ${status}`;
}

/** HEAD the resolve URL without following the CDN redirect: the hub puts commit and checksum on it. */
async function resolveFile(
  s: HubSettings,
  repo: string,
  revision: string,
  file: string,
): Promise<Resolved | undefined> {
  const url = `${s.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'HEAD',
      redirect: 'manual',
      headers: { ...authHeaders(s), 'accept-encoding': 'identity' },
    });
  } catch (err) {
    throw new HubError(
      `${url}: cannot reach the hub (${(err as Error).cause ?? (err as Error).message}); set ` +
        `HF_HUB_OFFLINE=1 to use the local cache only`,
    );
  }
  if (res.status === 404) return undefined;
  if (res.status >= 400) throw new HubError(describeStatus(res.status, url));
  const etag = (res.headers.get('x-linked-etag') ?? res.headers.get('etag') ?? '')
    .replace(/^W\//, '')
    .replace(/"/g, '');
  const commit = res.headers.get('x-repo-commit');
  if (!etag || !commit)
    throw new HubError(`${url}: the server did not send the X-Repo-Commit and ETag headers a Hugging Face hub sends`);
  // Both become cache path components: accept only what the hub sends (hex/word characters).
  if (!/^[\w-]{1,128}$/.test(etag) || !/^[\w-]{1,128}$/.test(commit))
    throw new HubError(`${url}: unexpected ETag or X-Repo-Commit header (not a hash)`);
  const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length'));
  return { commit, etag, size: Number.isFinite(size) && size > 0 ? size : undefined };
}

/** LFS files carry their sha256 as ETag; small git files the git blob sha1. Verify whichever it is. */
async function verify(file: string, etag: string): Promise<boolean> {
  if (/^[0-9a-f]{64}$/.test(etag)) {
    const h = createHash('sha256');
    for await (const c of createReadStream(file)) h.update(c as Buffer);
    return h.digest('hex') === etag;
  }
  if (/^[0-9a-f]{40}$/.test(etag)) {
    const h = createHash('sha1');
    h.update(`blob ${statSync(file).size}\0`);
    for await (const c of createReadStream(file)) h.update(c as Buffer);
    return h.digest('hex') === etag;
  }
  return true; // an etag that is not a content hash: nothing to check against
}

/** Download one blob, resuming a partial `.incomplete` file with a Range request. */
async function fetchBlob(
  s: HubSettings,
  repo: string,
  commit: string,
  file: string,
  target: string,
  ev: DownloadEvents,
): Promise<void> {
  const url = `${s.endpoint}/${repo}/resolve/${commit}/${file}`;
  const partial = `${target}.incomplete`;
  const have = existsSync(partial) ? statSync(partial).size : 0;
  const res = await fetch(url, {
    headers: { ...authHeaders(s), 'accept-encoding': 'identity', ...(have ? { range: `bytes=${have}-` } : {}) },
  });
  if (res.status >= 400 && res.status !== 416) throw new HubError(describeStatus(res.status, url));
  const resumed = res.status === 206 ? have : 0;
  const total = Number(res.headers.get('content-length'));
  ev.start?.(file, Number.isFinite(total) ? total + resumed : undefined, resumed);
  if (res.status !== 416 && res.body) {
    let received = resumed;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    body.on('data', (c: Buffer) => {
      received += c.length;
      ev.progress?.(file, received);
    });
    await pipeline(body, createWriteStream(partial, { flags: resumed ? 'a' : 'w' }));
  }
  ev.done?.(file);
  await rename(partial, target);
}

/**
 * Make `org/name@revision` available locally in the huggingface_hub cache layout
 * (`blobs/`, `snapshots/<commit>/`, `refs/<revision>`) and return the snapshot directory.
 * Offline (HF_HUB_OFFLINE=1) no request is made: the cached snapshot is used or the error says so.
 */
export async function snapshotDownload(
  s: HubSettings,
  repo: string,
  revision = 'main',
  ev: DownloadEvents = {},
): Promise<string> {
  const root = repoCacheDir(s.cacheDir, repo);
  const refFile = path.join(root, 'refs', revision);
  const cachedSnapshot = () => {
    const ref = existsSync(refFile)
      ? readFileSync(refFile, 'utf8').trim()
      : /^[0-9a-f]{40}$/.test(revision)
        ? revision
        : undefined;
    // The ref names a snapshot directory: only a hash may, never a path.
    const commit = ref !== undefined && /^[\w-]{1,128}$/.test(ref) ? ref : undefined;
    const dir = commit && path.join(root, 'snapshots', commit);
    return dir && REQUIRED_FILES.every((f) => existsSync(path.join(dir, f))) ? dir : undefined;
  };
  if (s.offline) {
    const dir = cachedSnapshot();
    if (!dir) throw new HubError(`${repo}@${revision}: not in the local cache ${s.cacheDir} and HF_HUB_OFFLINE is set`);
    return dir;
  }
  const resolved = new Map<string, Resolved>();
  for (const file of [...REQUIRED_FILES, ...OPTIONAL_FILES]) {
    const r = await resolveFile(s, repo, revision, file);
    if (r) resolved.set(file, r);
    else if (REQUIRED_FILES.includes(file)) {
      const hint = file === 'model.safetensors' ? ' (recsys reads safetensors weights only)' : '';
      throw new HubError(`${repo}@${revision}: has no ${file}${hint}`);
    }
  }
  const commit = resolved.get('config.json')!.commit;
  const snapshot = path.join(root, 'snapshots', commit);
  await mkdir(path.join(root, 'blobs'), { recursive: true });
  await mkdir(snapshot, { recursive: true });
  for (const [file, r] of resolved) {
    const blob = path.join(root, 'blobs', r.etag);
    if (!existsSync(blob)) {
      await fetchBlob(s, repo, commit, file, blob, ev);
      if (!(await verify(blob, r.etag))) {
        await rm(blob, { force: true });
        throw new HubError(
          `${repo}/${file}: checksum mismatch after download (expected ${r.etag}); the partial file ` +
            `was removed, try again`,
        );
      }
    }
    const link = path.join(snapshot, file);
    const want = path.relative(snapshot, blob);
    const current = existsSync(link) ? await readlink(link).catch(() => undefined) : undefined;
    if (current !== want) {
      await rm(link, { force: true });
      await symlink(want, link);
    }
  }
  await mkdir(path.dirname(refFile), { recursive: true });
  await writeFile(refFile, commit);
  return snapshot;
}

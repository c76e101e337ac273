import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubSettings, parseRepoId } from '../../src/hub/cache.js';
import { snapshotDownload } from '../../src/hub/download.js';
import { repoRoot, tempDir } from '../helpers/cli.js';

const COMMIT = 'a'.repeat(40);
const fixture = path.join(repoRoot, 'test/fixtures/reference/cls-l2-h64');
const FILES: Record<string, Buffer> = {
  'config.json': readFileSync(path.join(fixture, 'config.json')),
  'model.safetensors': readFileSync(path.join(fixture, 'model.safetensors')),
  'vocab.txt': Buffer.from('[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n'),
};
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A local server with the hub's URL layout and headers: /{repo}/resolve/{rev}/{file}. */
let server: Server;
let endpoint = '';
const log: string[] = [];
let cutNextDownload = false;
let corrupt = false;
/** Headers a hostile (or broken) server sends instead of the real ones. */
let hostile: { commit?: string; etag?: string } = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    log.push(`${req.method} ${req.url} ${req.headers.range ?? ''} ${req.headers.authorization ?? ''}`);
    if (!m) return void res.writeHead(404).end();
    const [, repo, , file] = m;
    if (repo === 'private/model' && req.headers.authorization !== 'Bearer secret') return void res.writeHead(401).end();
    const body = FILES[file];
    if (!body) return void res.writeHead(404).end();
    const lfs = file.endsWith('.safetensors');
    const headers: Record<string, string> = {
      'x-repo-commit': hostile.commit ?? COMMIT,
      etag: `"${hostile.etag ?? (lfs ? sha256(body) : gitSha1(body))}"`,
    };
    if (req.method === 'HEAD')
      return void res.writeHead(200, { ...headers, 'content-length': String(body.length) }).end();
    let data = body;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      data = body.subarray(Number(range[1]));
      status = 206;
    }
    if (corrupt && lfs) data = Buffer.from(data.map((x) => x ^ 1));
    res.writeHead(status, { ...headers, 'content-length': String(data.length) });
    if (cutNextDownload && lfs) {
      cutNextDownload = false;
      res.flushHeaders();
      // the connection drops mid-file
      res.write(data.subarray(0, Math.floor(data.length / 2)), () => setTimeout(() => res.destroy(), 50));
      return;
    }
    res.end(data);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const settings = (cacheDir: string, extra = {}) => hubSettings({}, { endpoint, cacheDir, offline: false, ...extra });

describe('hub downloads (against a local server with the hub URL layout)', () => {
  it('parses hub ids and reads HF_* settings', () => {
    expect(parseRepoId('google/bert_uncased_L-2_H-128_A-2')).toEqual({
      repo: 'google/bert_uncased_L-2_H-128_A-2',
      revision: 'main',
    });
    expect(parseRepoId('org/name@v1.0')).toEqual({ repo: 'org/name', revision: 'v1.0' });
    expect(parseRepoId('./local/dir')).toBeUndefined();
    const s = hubSettings({ HF_HOME: '/h', HF_ENDPOINT: 'http://mirror/', HF_TOKEN: 't', HF_HUB_OFFLINE: '1' });
    expect(s).toEqual({ endpoint: 'http://mirror', token: 't', offline: true, cacheDir: '/h/hub' });
  });

  it('downloads into the huggingface_hub cache layout, verifies checksums, and uses the cache offline', async () => {
    const cache = tempDir();
    const dir = await snapshotDownload(settings(cache), 'org/tiny-bert');
    expect(dir).toBe(path.join(cache, 'models--org--tiny-bert', 'snapshots', COMMIT));
    for (const [f, body] of Object.entries(FILES)) {
      expect(lstatSync(path.join(dir, f)).isSymbolicLink()).toBe(true);
      expect(readFileSync(path.join(dir, f)).equals(body)).toBe(true);
    }
    expect(readFileSync(path.join(cache, 'models--org--tiny-bert', 'refs', 'main'), 'utf8')).toBe(COMMIT);
    log.length = 0;
    expect(await snapshotDownload(settings(cache, { offline: true }), 'org/tiny-bert')).toBe(dir);
    expect(log).toEqual([]); // offline: not one request
    await expect(snapshotDownload(settings(tempDir(), { offline: true }), 'org/tiny-bert')).rejects.toThrow(
      /not in the local cache .* HF_HUB_OFFLINE is set/,
    );
  });

  it('resumes a download cut off mid-file with a Range request', async () => {
    const cache = tempDir();
    cutNextDownload = true;
    await expect(snapshotDownload(settings(cache), 'org/resume')).rejects.toThrow();
    const blob = path.join(cache, 'models--org--resume', 'blobs', sha256(FILES['model.safetensors']));
    const partial = readFileSync(`${blob}.incomplete`);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(FILES['model.safetensors'].length);
    log.length = 0;
    const dir = await snapshotDownload(settings(cache), 'org/resume');
    expect(log.some((l) => l.includes(`bytes=${partial.length}-`))).toBe(true);
    expect(readFileSync(path.join(dir, 'model.safetensors')).equals(FILES['model.safetensors'])).toBe(true);
    expect(existsSync(`${blob}.incomplete`)).toBe(false);
  });

  it('rejects a corrupted download and removes it', async () => {
    const cache = tempDir();
    corrupt = true;
    try {
      await expect(snapshotDownload(settings(cache), 'org/corrupt')).rejects.toThrow(
        /model\.safetensors: checksum mismatch/,
      );
    } finally {
      corrupt = false;
    }
    expect(existsSync(path.join(cache, 'models--org--corrupt', 'blobs', sha256(FILES['model.safetensors'])))).toBe(
      false,
    );
  });

  it('sends HF_TOKEN, and says so when a model needs one', async () => {
    await expect(snapshotDownload(settings(tempDir()), 'private/model')).rejects.toThrow(
      /access denied \(HTTP 401\); set HF_TOKEN/,
    );
    const dir = await snapshotDownload(settings(tempDir(), { token: 'secret' }), 'private/model');
    expect(existsSync(path.join(dir, 'config.json'))).toBe(true);
  });

  it('a model without safetensors weights is a clear error', async () => {
    const saved = FILES['model.safetensors'];
    delete FILES['model.safetensors'];
    try {
      await expect(snapshotDownload(settings(tempDir()), 'org/bin-only')).rejects.toThrow(
        /has no model\.safetensors \(recsys reads safetensors weights only\)/,
      );
    } finally {
      FILES['model.safetensors'] = saved;
    }
  });

  it('a hostile server or cache cannot turn headers, revisions or refs into paths outside the cache', async () => {
    for (const ref of ['org/name@../../etc', 'org/name@main/../../x', '../org/name', 'org/..', 'org/name/extra'])
      expect(parseRepoId(ref), ref).toBeUndefined();
    const parent = tempDir();
    const cache = path.join(parent, 'cache');
    for (const h of [
      { commit: '../../../escaped' },
      { commit: '..' },
      { etag: '../../../escaped' },
      { etag: 'x/../../y' },
    ]) {
      hostile = h;
      try {
        await expect(snapshotDownload(settings(cache), 'org/hostile'), JSON.stringify(h)).rejects.toThrow(
          /unexpected ETag or X-Repo-Commit header \(not a hash\)/,
        );
      } finally {
        hostile = {};
      }
    }
    // nothing was written anywhere: not outside the cache, not even inside it
    expect(readdirSync(parent)).toEqual([]);
    // a refs file that names a path is not followed offline
    const good = await snapshotDownload(settings(cache), 'org/hostile');
    const outside = path.join(parent, 'outside');
    mkdirSync(outside);
    for (const f of Object.keys(FILES)) writeFileSync(path.join(outside, f), 'planted');
    writeFileSync(
      path.join(cache, 'models--org--hostile', 'refs', 'main'),
      path.relative(path.join(cache, 'models--org--hostile', 'snapshots'), outside),
    );
    await expect(snapshotDownload(settings(cache, { offline: true }), 'org/hostile')).rejects.toThrow(
      /not in the local cache/,
    );
    writeFileSync(path.join(cache, 'models--org--hostile', 'refs', 'main'), COMMIT);
    expect(await snapshotDownload(settings(cache, { offline: true }), 'org/hostile')).toBe(good);
  });
});

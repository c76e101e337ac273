import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { makeExport, QUERIES } from './fixture.js';

/** The real `recsys serve` process: readiness after warm-up, SIGHUP and POST reload, SIGTERM drain and exit codes. */

const root = tempDir('recsys-serve-cli-');
let first: string;
let second: string;

beforeAll(async () => {
  first = await makeExport(root, 'first', 7);
  second = await makeExport(root, 'second', 8);
}, 240_000);

interface Served {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function serve(dir: string, sets: string[] = []): Promise<Served> {
  const args = ['serve', '--model', `intent=${dir}`, '--port', '0', '--threads', '1'];
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin/recsys.js'), ...args, ...sets.flatMap((s) => ['--set', s])],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  let out = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ child, url: out.trim(), stderr: () => err, exit });
    });
    exit.then((code) => reject(new Error(`recsys serve exited ${code}: ${err}`)));
  });
}

const classify = (url: string, inputs: string[]) =>
  fetch(`${url}/v1/models/intent/classify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs, logits: true }),
  });

const shaOf = (dir: string) =>
  JSON.parse(readFileSync(path.join(dir, 'export.json'), 'utf8')).formats.onnx.sha256['onnx/model.onnx'] as string;

async function until<T>(probe: () => Promise<T | undefined>, seconds = 30): Promise<T> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('timed out');
}

describe('recsys serve (the process)', () => {
  const lifecycle =
    'is ready only after warm-up; SIGHUP and POST /admin/reload swap exports; a broken one keeps the old; ' +
    'SIGTERM drains and exits 0';
  it(lifecycle, async () => {
    const dir = path.join(root, 'served');
    cpSync(first, dir, { recursive: true });
    const s = await serve(dir, ['serve.cache_bytes=0', 'serve.max_batch_size=8']);
    const seen: number[] = [];
    await until(async () => {
      const r = await fetch(`${s.url}/readyz`);
      seen.push(r.status);
      return r.status === 200 ? true : undefined;
    });
    expect(seen[0]).toBe(503);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    const before = await (await classify(s.url, QUERIES)).json();
    expect(before.sha256).toBe(shaOf(first));

    cpSync(second, dir, { recursive: true, force: true });
    s.child.kill('SIGHUP');
    const after = await until(async () => {
      const r = await (await classify(s.url, QUERIES)).json();
      return r.sha256 === shaOf(second) ? r : undefined;
    });
    expect(after.results).not.toEqual(before.results);

    // A model file that is not the one export.json records: refused, the loaded model keeps serving.
    writeFileSync(path.join(dir, 'onnx', 'model.onnx'), 'not a model');
    const bad = await fetch(`${s.url}/admin/reload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ models: ['intent'] }),
    });
    expect(bad.status).toBe(422);
    const { results } = await bad.json();
    expect(results).toEqual([
      {
        name: 'intent',
        ok: false,
        sha256: shaOf(second),
        error: expect.stringMatching(/model\.onnx: sha256 .* differs from export\.json's .*; the file changed/),
      },
    ]);
    expect(await (await classify(s.url, QUERIES)).json()).toEqual(after);

    // Requests in flight when SIGTERM arrives (960 rows, so some are still running when the drain begins)
    // are answered; the process then exits 0.
    const inflight = Array.from({ length: 24 }, (_, i) =>
      classify(
        s.url,
        Array.from({ length: 40 }, (_, j) => `${QUERIES[(i + j) % 10]} ${i} ${j}`),
      ).then((r) => r.status),
    );
    await new Promise((r) => setTimeout(r, 50));
    s.child.kill('SIGTERM');
    // A request once the drain has begun is refused (503) while those in flight are still being answered.
    await until(async () => (/SIGTERM: draining/.test(s.stderr()) ? true : undefined));
    const late = await classify(s.url, QUERIES).then((r) => r.status);
    expect(late).toBe(503);
    const statuses = [...(await Promise.all(inflight)), late];
    expect(statuses.every((c) => c === 200 || c === 503)).toBe(true);
    expect(statuses.filter((c) => c === 200).length).toBeGreaterThan(0);
    expect(await s.exit).toBe(0);
    expect(s.stderr()).toMatch(/SIGTERM: draining requests in flight[\s\S]*drained: stopped/);
    // Structured logs: one JSON object a line, each request's lines carrying its id.
    const lines = s
      .stderr()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // One access line a request, with its id, method, URL and status.
    expect(
      lines.some(
        (l) => l.msg === 'request completed' && l.reqId && l.req.method === 'POST' && l.res.statusCode === 200,
      ),
    ).toBe(true);
    expect(lines.filter((l) => l.msg === 'incoming request')).toEqual([]);
    // A 503 while draining is an answer, not a failure: no error line, no stack trace.
    const refused = statuses.filter((c) => c === 503).length;
    const answered503 = lines.filter((l) => l.msg === 'request completed' && l.res.statusCode === 503);
    expect(refused).toBeGreaterThan(0);
    expect(answered503.length).toBeGreaterThanOrEqual(refused);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(s.stderr()).toMatch(/reload failed, the loaded model keeps serving/);
  }, 120_000);

  it('a drain that outlasts serve.drain_timeout_s ends with 143', async () => {
    const s = await serve(first, ['serve.cache_bytes=0', 'serve.max_batch_size=4', 'serve.drain_timeout_s=0.001']);
    await until(async () => ((await fetch(`${s.url}/readyz`)).status === 200 ? true : undefined));
    const inflight = Array.from({ length: 16 }, (_, i) =>
      classify(
        s.url,
        Array.from({ length: 64 }, (_, j) => `${QUERIES[j % 10]} ${i} ${j}`),
      ).catch(() => 'reset'),
    );
    await new Promise((r) => setTimeout(r, 50));
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(143);
    expect(s.stderr()).toMatch(/recsys: error: drain took over 0\.001 s: stopped/);
    await Promise.all(inflight);
  }, 60_000);

  it('refuses a missing export and a bad flag before binding anything', () => {
    const missing = path.join(root, 'nope');
    const r = runCli(['serve', '--model', missing, '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nope: not found \(--model expects an export directory written by recsys export\)/);
    const bad = runCli(['serve', '--model', first, '--set', 'serve.max_queue=0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/serve\.max_queue/);
    const noModel = runCli(['serve']);
    expect(noModel.stderr.trim()).toBe(
      'recsys: error: recsys serve: --model EXPORT_DIR is required (or NAME=EXPORT_DIR)',
    );
  });
});

/**
 * bench/serve: `recsys serve` against the same ONNX export behind FastAPI + uvicorn + onnxruntime
 * (bench/serve_fastapi.py, a plain per-request handler with the export's tokenizer.json), with
 * autocannon at concurrency 1, 8 and 64: requests/s and p50/p95/p99 latency, one query per request,
 * queries drawn in turn from data/intent.csv. The cache is off for this table (serve.cache_bytes=0)
 * so both sides run the model for every request. Then: recsys's micro-batched rows/s at the
 * highest concurrency next to onnxruntime-node's offline batch rows/s on the same model (tokenise +
 * forward, batches of 32, no HTTP; in file order, in file order run as length groups as the service
 * runs a micro-batch, and sorted by length as the best an offline job can pad), and recsys's
 * resident memory over many requests with the cache on (distinct queries, so the cache fills to its
 * byte limit).
 *
 * The load generator runs in this process on the same cores as the services: each row says how
 * much CPU it took (cores busy, averaged over the run) next to the service's own. Request bodies
 * are serialised once before the runs so the generator spends its CPU on HTTP only. `--nice N`
 * lowers this process's priority once the services have started (they keep theirs): the
 * generator then only takes CPU the service leaves, as one on another machine would.
 *
 *   npx tsx bench/serve.ts [--export DIR] [--duration 10] [--connections 1,8,64] [--memory-requests 100000]
 *                          [--serve-set serve.workers=2,serve.inflight_batches=2]   (serve.* keys for recsys serve)
 *                          [--nice 10] [--shape tiny|mini] [--rounds 1]
 *
 * `--rounds N` measures N (offline, served at the highest concurrency) pairs back to back and prints each
 * ratio and their median: the machine's speed drifts within minutes, a ratio of neighbours less. For
 * each pair it also prints where the CPU went (Linux, from /proc): µs per served request on the
 * service's main thread (HTTP, tokenising, batching), on its other threads (mostly the inference
 * worker) and in the load generator, next to µs per row of each offline mode.
 *
 * Without --export, the sample intent export is built in a temp dir: recsys prepare -c
 * configs/intent.yaml, train 30 steps from scratch, export --format onnx. `--shape` picks the model:
 * tiny (the config's BERT-tiny, L2 H128, default) or mini (BERT-mini, L4 H256 A4, I1024), whose forward
 * pass costs about 8× tiny's, so HTTP's fixed cost per request weighs less next to it.
 * Needs the reference Python env (fastapi, uvicorn, onnxruntime, tokenizers).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, setPriority, tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';
import { type OfflineMode, offlineRowsPerSecond } from './serve-offline.js';

const root = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const duration = Number(arg('duration', '10'));
const connections = arg('connections', '1,8,64').split(',').map(Number);
const memoryRequests = Number(arg('memory-requests', '100000'));
const serveSets = arg('serve-set', '').split(',').filter(Boolean);
const nice = Number(arg('nice', '0'));
const rounds = Number(arg('rounds', '1'));
const python = process.env.RECSYS_PYTHON ?? path.join(root, '.venv/bin/python');
const cli = path.join(root, 'bin/recsys.js');

function recsys(args: string[]): void {
  const r = spawnSync(process.execPath, [cli, ...args, '--no-progress'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`recsys ${args[0]} failed: ${r.stderr}`);
}

/** Model shapes for the sample export (the rest of data/tiny-bert/config.json stays). */
const SHAPES = {
  tiny: {},
  mini: { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024 },
};

function sampleExport(): string {
  const work = mkdtempSync(path.join(tmpdir(), 'recsys-bench-serve-'));
  const [ds, run, exp] = ['ds', 'run', 'export'].map((d) => path.join(work, d));
  const config = path.join(root, 'configs/intent.yaml');
  recsys(['prepare', '-c', config, '--out', ds]);
  const shape = arg('shape', 'tiny');
  if (!(shape in SHAPES)) throw new Error(`--shape: tiny or mini, not ${shape}`);
  const model = path.join(work, 'config.json');
  const tiny = JSON.parse(readFileSync(path.join(root, 'data/tiny-bert/config.json'), 'utf8'));
  writeFileSync(model, JSON.stringify({ ...tiny, ...SHAPES[shape as keyof typeof SHAPES] }));
  recsys(['train', '-c', config, '--data', ds, '--out', run, '--max-steps', '30', '--model', model]);
  const e = spawnSync(process.execPath, [cli, 'export', '--run', run, '--format', 'onnx', '--out', exp], {
    encoding: 'utf8',
  });
  if (e.status !== 0) throw new Error(`recsys export failed: ${e.stderr}`);
  return exp;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function waitFor(url: string, seconds = 120): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}: not ready after ${seconds} s`);
}

/** A service started with `node ARGS` that prints its URL on its first stdout line. */
async function startPrintingUrl(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.trim());
    });
  });
  return { child, url };
}

async function startRecsys(exp: string, sets: string[]): Promise<{ child: ChildProcess; url: string }> {
  const args = ['serve', '--model', `intent=${exp}`, '--port', '0', '--log-level', 'warn'];
  const started = await startPrintingUrl([cli, ...args, ...sets.flatMap((s) => ['--set', s])]);
  await waitFor(`${started.url}/readyz`);
  return started;
}

/** bench/serve-floor.ts: Fastify with recsys serve's classify schema and no model. */
const startFloor = () => startPrintingUrl(['--import', 'tsx', path.join(root, 'bench/serve-floor.ts')]);

async function startFastapi(exp: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const script = path.join(root, 'bench/serve_fastapi.py');
  const child = spawn(python, [script, '--export', exp, '--port', String(port)], { stdio: 'inherit' });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`);
  return { child, url };
}

const queries = readFileSync(path.join(root, 'data/intent.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(',')[1]);

/** One body per query, serialised once: the load generator's CPU goes to HTTP, not to JSON.stringify. */
const bodies = queries.map((q) => JSON.stringify({ inputs: [q] }));

/**
 * CPU seconds of a process's main thread and of its other threads together (the inference worker,
 * V8's GC and compiler threads, libuv's pool), from /proc/PID/task (Linux; NaN elsewhere).
 */
function threadCpuOf(pid: number | undefined): { main: number; others: number } {
  try {
    let others = 0;
    let main = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in ticks (USER_HZ 100)
      if (tid === String(pid)) main = seconds;
      else others += seconds;
    }
    return { main, others };
  } catch {
    return { main: Number.NaN, others: Number.NaN };
  }
}

interface Load {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  statuses: Record<string, number>;
  /** Cores busy on average during the run: the load generator (this process) and the service. */
  cpu: { loadgen: number; service: number };
  /** CPU µs per answered request: the service's main thread, its other threads, the load generator. */
  perRequest: { main: number; others: number; loadgen: number };
}

/** autocannon at `c` connections for `seconds` (or `amount` requests); latencies of every response. */
async function load(
  url: string,
  c: number,
  /** `distinctFrom`: each request's query gets a number from there on, so no two requests repeat. */
  opts: { seconds?: number; amount?: number; distinctFrom?: number; pid?: number },
): Promise<Load> {
  let next = 0;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const t0 = performance.now();
  const cpu0 = { own: process.cpuUsage(), service: threadCpuOf(opts.pid) };
  const instance = autocannon({
    url: `${url}/v1/models/intent/classify`,
    connections: c,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.seconds }),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req: object) => {
          const i = next++;
          if (opts.distinctFrom === undefined) return { ...req, body: bodies[i % bodies.length] };
          const n = opts.distinctFrom + i;
          return { ...req, body: JSON.stringify({ inputs: [`${queries[n % queries.length]} ${n}`] }) };
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === 200) latencies.push(ms);
  });
  const result = await instance;
  const seconds = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(cpu0.own);
  const loadgen = (own.user + own.system) / 1e6;
  const threads = threadCpuOf(opts.pid);
  const main = threads.main - cpu0.service.main;
  const others = threads.others - cpu0.service.others;
  const cpu = { loadgen: loadgen / seconds, service: (main + others) / seconds };
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  const perRequest = {
    main: (main * 1e6) / answered,
    others: (others * 1e6) / answered,
    loadgen: (loadgen * 1e6) / answered,
  };
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return {
    rps: latencies.length / seconds,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    errors: result.errors + result.timeouts,
    statuses,
    cpu,
    perRequest,
  };
}

async function rssOf(url: string): Promise<{ rss: number; cache: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: value('recsys_process_resident_memory_bytes'), cache: value('recsys_cache_bytes') };
}

const stop = (p: { child: ChildProcess }) =>
  new Promise<void>((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.kill('SIGTERM');
  });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

async function main() {
  const exp = path.resolve(arg('export', '') || sampleExport());
  console.log(
    `export ${exp}; ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ${duration} s per run`,
  );
  const rows: string[] = [];
  const cpuRows: string[] = [];
  // Offline first, on an idle machine (and before --nice lowers this process's priority).
  const offline = await offlineRowsPerSecond(exp, queries, 32, duration);
  const rec = await startRecsys(exp, ['serve.cache_bytes=0', ...serveSets]);
  const py = await startFastapi(exp);
  if (nice) setPriority(nice);
  let recAtMax: Load | undefined;
  const pairs: { served: number; perRequest: Load['perRequest']; offline: typeof offline }[] = [];
  try {
    for (const side of [rec, py]) await load(side.url, 8, { seconds: 1 }); // warm-up, not counted
    for (const c of connections) {
      const r = await load(rec.url, c, { seconds: duration, pid: rec.child.pid });
      const f = await load(py.url, c, { seconds: duration, pid: py.child.pid });
      if (c === Math.max(...connections)) recAtMax = r;
      rows.push(
        `| ${c} | ${fmt(r.rps, 0)} | ${fmt(r.p50)} / ${fmt(r.p95)} / ${fmt(r.p99)} | ${fmt(f.rps, 0)} | ` +
          `${fmt(f.p50)} / ${fmt(f.p95)} / ${fmt(f.p99)} | ×${fmt(r.rps / f.rps, 2)} | ` +
          `${fmt(r.p99 / f.p99, 2)} |`,
      );
      cpuRows.push(
        `| ${c} | ${fmt(r.cpu.service, 2)} | ${fmt(r.cpu.loadgen, 2)} | ${fmt(f.cpu.service, 2)} | ` +
          `${fmt(f.cpu.loadgen, 2)} |`,
      );
      const bad = [r, f].filter((x) => x.errors || Object.keys(x.statuses).some((s) => s !== '200'));
      for (const b of bad) console.log(`  c=${c}: statuses ${JSON.stringify(b.statuses)}, errors ${b.errors}`);
    }
    // More (offline, served) pairs back to back: this machine's speed drifts within minutes, and a ratio
    // of two rates measured side by side drifts less than either rate.
    for (let k = 1; k < rounds; k++) {
      const o = await offlineRowsPerSecond(exp, queries, 32, duration);
      const r = await load(rec.url, Math.max(...connections), { seconds: duration, pid: rec.child.pid });
      pairs.push({ served: r.rps, perRequest: r.perRequest, offline: o });
    }
  } finally {
    await Promise.all([stop(rec), stop(py)]);
  }
  console.log(
    '\n| concurrency | recsys req/s | recsys p50/p95/p99 ms | FastAPI req/s | FastAPI p50/p95/p99 ms ' +
      '| throughput ratio | p99 ratio |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('\ncores busy (average over each run; the load generator is this process):');
  console.log('| concurrency | recsys | its load generator | FastAPI | its load generator |');
  console.log('|---|---|---|---|---|');
  for (const r of cpuRows) console.log(r);

  const served = recAtMax?.rps ?? Number.NaN;
  const nan = { main: Number.NaN, others: Number.NaN, loadgen: Number.NaN };
  pairs.unshift({ served, perRequest: recAtMax?.perRequest ?? nan, offline });
  console.log(
    `\nmicro-batched (recsys serve, c=${Math.max(...connections)}${nice ? `, load generator at nice ${nice}` : ''}): ` +
      `${fmt(served, 0)} rows/s; onnxruntime-node offline batches of 32 (${offline.passes} passes each): ` +
      `${fmt(offline.fileOrder, 0)} rows/s ` +
      `in file order (ratio ${fmt(served / offline.fileOrder, 2)}), ${fmt(offline.grouped, 0)} rows/s with ` +
      `each batch run as length groups (ratio ${fmt(served / offline.grouped, 2)}), ${fmt(offline.sorted, 0)} ` +
      `rows/s sorted by length (ratio ${fmt(served / offline.sorted, 2)}); length groups on one ` +
      `onnxruntime thread (the worker's default share of 2 cores): ${fmt(offline.oneThread, 0)} rows/s ` +
      `(ratio ${fmt(served / offline.oneThread, 2)})`,
  );
  if (pairs.length > 1) {
    console.log(
      '\n| round | served rows/s | offline file order | ratio | length groups | ratio | sorted | ratio ' +
        '| groups, 1 thread | ratio |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const [i, p] of pairs.entries()) {
      const o = p.offline;
      console.log(
        `| ${i + 1} | ${fmt(p.served, 0)} | ${fmt(o.fileOrder, 0)} | ${fmt(p.served / o.fileOrder, 2)} | ` +
          `${fmt(o.grouped, 0)} | ${fmt(p.served / o.grouped, 2)} | ` +
          `${fmt(o.sorted, 0)} | ${fmt(p.served / o.sorted, 2)} | ` +
          `${fmt(o.oneThread, 0)} | ${fmt(p.served / o.oneThread, 2)} |`,
      );
    }
    const ratio = (k: OfflineMode) => fmt(median(pairs.map((p) => p.served / p.offline[k])), 2);
    console.log(
      `median ratio over ${pairs.length} rounds: ${ratio('fileOrder')} file order, ${ratio('grouped')} length ` +
        `groups, ${ratio('sorted')} sorted by length, ${ratio('oneThread')} length groups on one thread`,
    );
  }

  cpuTable(pairs);
  const floor = await startFloor();
  try {
    const c = Math.max(...connections);
    await load(floor.url, c, { seconds: 1 });
    const f = await load(floor.url, c, { seconds: duration, pid: floor.child.pid });
    console.log(
      `HTTP floor (bench/serve-floor.ts: the same route and body schema in Fastify, no model), c=${c}: ` +
        `${fmt(f.rps, 0)} req/s, main thread ${fmt(f.perRequest.main, 0)} µs CPU per request`,
    );
  } finally {
    await stop(floor);
  }

  const mem = await startRecsys(exp, serveSets);
  try {
    const samples = [await rssOf(mem.url)];
    // autocannon needs at least one request per connection.
    const chunk = Math.max(64, Math.ceil(memoryRequests / 5));
    for (let i = 0; i < 5; i++) {
      await load(mem.url, 64, { amount: chunk, distinctFrom: i * chunk });
      samples.push(await rssOf(mem.url));
    }
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
    console.log(
      `\nmemory over ${5 * chunk} requests (cache on, distinct queries): RSS ` +
        `${samples.map((s) => mb(s.rss)).join(' → ')}; cache ${samples.map((s) => mb(s.cache)).join(' → ')}`,
    );
  } finally {
    await stop(mem);
  }
}

/**
 * Where the CPU goes, per served request against per offline row: the service's other threads are
 * mostly its inference worker (one onnxruntime thread by default), so next to the offline session
 * on one thread they say what micro-batching costs the model; the main thread and the load generator
 * are what HTTP costs, which an offline job does not pay.
 */
function cpuTable(pairs: { perRequest: Load['perRequest']; offline: { cpuPerRow: Record<OfflineMode, number> } }[]) {
  console.log(
    '\nCPU µs per served request (service main thread, its other threads, load generator) and per offline row:',
  );
  console.log(
    '| round | main thread | other threads | load generator | file order | length groups | sorted | groups, 1 thread |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [i, { perRequest: r, offline: o }] of pairs.entries()) {
    const c = o.cpuPerRow;
    console.log(
      `| ${i + 1} | ${fmt(r.main, 0)} | ${fmt(r.others, 0)} | ${fmt(r.loadgen, 0)} | ${fmt(c.fileOrder, 0)} | ` +
        `${fmt(c.grouped, 0)} | ${fmt(c.sorted, 0)} | ${fmt(c.oneThread, 0)} |`,
    );
  }
  const ratio = median(pairs.map((p) => p.perRequest.others / p.offline.cpuPerRow.oneThread));
  console.log(
    `median CPU of the service's other threads per served row over offline length groups on one thread: ` +
      `${fmt(ratio, 2)}`,
  );
}

await main();

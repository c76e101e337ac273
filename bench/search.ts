/**
 * bench/search: recall@10 of recsys's ANN indexes (LanceDB ivf_pq and hnsw, with and without
 * refine) against its exact search, and queries/s, next to faiss-cpu on the same vectors in the
 * same run (IndexFlatIP exact, IndexHNSWFlat, IndexIVFPQ with and without IndexRefineFlat;
 * bench/search_faiss.py), one query at a time.
 *
 *   npx tsx bench/search.ts [--n 20000] [--dim 128] [--queries 200] [--clusters 200] [--k 10]
 *
 * The vectors: --n L2-normalised points around --clusters Gaussian centres (noise 0.5 per
 * dimension), written as `recsys embed` writes them (embeddings.arrow + manifest.json, a fixed
 * model identity); queries are fresh points from the same centres. Parameters on both sides: IVF
 * lists √n, PQ dim/8 sub-vectors of 8 bits, 20 probes; HNSW M 20, efConstruction 150, efSearch
 * 100. recsys's recall is against its exact search; faiss's against IndexFlatIP, and the two
 * exact searches are compared too. Needs the reference Python env with faiss-cpu and pyarrow.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddingWriter } from '../src/embed/writer.js';
import { Rng } from '../src/lib/rng.js';
import { buildIndex } from '../src/retrieval/build.js';
import type { AnnKind } from '../src/retrieval/manifest.js';
import { type AnnQueryOptions, VectorStore } from '../src/retrieval/store.js';

const root = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i > 0 ? process.argv[i + 1] : fallback);
};
const N = arg('n', '20000');
const DIM = arg('dim', '128');
const Q = arg('queries', '200');
const CLUSTERS = arg('clusters', '200');
const K = arg('k', '10');
const NLIST = Math.round(Math.sqrt(N));
const PARAMS = { nprobes: 20, m: 20, efConstruction: 150, ef: 100 };
const python = process.env.RECSYS_PYTHON ?? path.join(root, '.venv/bin/python');

const rng = new Rng(7);
const gauss = () => Math.sqrt(-2 * Math.log(rng.next() + 1e-12)) * Math.cos(2 * Math.PI * rng.next());
const centres = Array.from({ length: CLUSTERS }, () => Float32Array.from({ length: DIM }, gauss));
function points(n: number): Float32Array {
  const out = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    const c = centres[rng.int(CLUSTERS)];
    let ss = 0;
    for (let d = 0; d < DIM; d++) {
      out[i * DIM + d] = c[d] + 0.5 * gauss();
      ss += out[i * DIM + d] ** 2;
    }
    for (let d = 0; d < DIM; d++) out[i * DIM + d] /= Math.sqrt(ss);
  }
  return out;
}

const work = mkdtempSync(path.join(tmpdir(), 'recsys-bench-search-'));
const vectorsDir = path.join(work, 'vectors');
const vectors = points(N);
const queries = points(Q);
const writer = new EmbeddingWriter(path.join(vectorsDir, 'embeddings.arrow'), DIM, true);
for (let at = 0; at < N; at += 1000)
  writer.add(
    Array.from({ length: Math.min(1000, N - at) }, (_, i) => `item-${at + i}`),
    vectors.subarray(at * DIM, Math.min(N, at + 1000) * DIM),
  );
await writer.commit();
const model = { ref: 'bench', kind: 'hf', weights_file: '-', weights_sha256: '0'.repeat(64) };
const manifest = { kind: 'embeddings', model, pooling: 'mean', normalize: true, dimension: DIM, count: N };
const rest = { key: { column: 'id', source_column: 'id' }, max_length: 0, truncation: '-', tokenizer_sha256: '-' };
writeFileSync(path.join(vectorsDir, 'manifest.json'), JSON.stringify({ ...manifest, ...rest }));
writeFileSync(path.join(work, 'queries.f32'), queries);

interface Row {
  name: string;
  recall: number;
  qps: number;
  build_s: number;
}

async function measure(ann: AnnKind, runs: { name: string; exact: boolean; opts: AnnQueryOptions }[]) {
  const out = path.join(work, `index-${ann}`);
  const base = { vectors: vectorsDir, out, ann, annMinRows: 1, partitions: NLIST, subVectors: DIM / 8 };
  const t0 = performance.now();
  await buildIndex({ ...base, hnswM: PARAMS.m, efConstruction: PARAMS.efConstruction, overwrite: true });
  const build_s = (performance.now() - t0) / 1000;
  const store = await VectorStore.open(out);
  const results: { name: string; ids: (string | number)[][]; qps: number }[] = [];
  for (const r of runs) {
    const q = (i: number) => queries.subarray(i * DIM, (i + 1) * DIM);
    await store.search(q(0), K, r.exact, r.opts);
    const t1 = performance.now();
    const ids = [];
    for (let i = 0; i < Q; i++) ids.push((await store.search(q(i), K, r.exact, r.opts)).map((h) => h.id));
    results.push({ name: r.name, ids, qps: Q / ((performance.now() - t1) / 1000) });
  }
  store.close();
  return { build_s, results };
}

const opts = (refineFactor: number): AnnQueryOptions => ({ nprobes: PARAMS.nprobes, ef: PARAMS.ef, refineFactor });
const exact = await measure('none', [{ name: 'exact', exact: true, opts: opts(0) }]);
const truth = exact.results[0].ids;
const recall = (ids: (string | number)[][]) =>
  ids.reduce((s, hits, i) => s + hits.filter((h) => truth[i].includes(h)).length / K, 0) / Q;
const rows: Row[] = [{ name: 'exact (flat)', recall: 1, qps: exact.results[0].qps, build_s: exact.build_s }];
for (const ann of ['ivf_pq', 'hnsw'] as const) {
  const m = await measure(ann, [
    { name: `${ann}`, exact: false, opts: opts(0) },
    { name: `${ann} + refine 10`, exact: false, opts: opts(10) },
  ]);
  for (const r of m.results) rows.push({ name: r.name, recall: recall(r.ids), qps: r.qps, build_s: m.build_s });
}

const args = [path.join(root, 'bench/search_faiss.py'), path.join(vectorsDir, 'embeddings.arrow')];
args.push(path.join(work, 'queries.f32'), ...[DIM, K, NLIST, DIM / 8, PARAMS.nprobes].map(String));
args.push(...[PARAMS.m, PARAMS.efConstruction, PARAMS.ef].map(String));
const py = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
if (py.status !== 0) throw new Error(`faiss side failed: ${py.stderr}`);
const faiss = JSON.parse(py.stdout);
const faissIds = (faiss.exact_ids as number[][]).map((r) => r.map((i) => `item-${i}`));
const agree = faissIds.reduce((s, f, i) => s + f.filter((id) => truth[i].includes(id)).length / K, 0) / Q;

const pad = (s: string, n: number) => s.padEnd(n);
const num = (x: number, d = 3) => x.toFixed(d).padStart(8);
console.log(`bench/search: ${N} × ${DIM} vectors, ${CLUSTERS} clusters, ${Q} queries one at a time, k ${K}`);
console.log(
  `machine: ${cpus().length} cores, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; faiss ${faiss.faiss}`,
);
console.log(`exact searches agree (recsys vs faiss IndexFlatIP top-${K}): ${agree.toFixed(4)}\n`);
console.log(`${pad('recsys (LanceDB)', 24)}${pad('recall@10', 10)}${pad('q/s', 9)}${pad('build s', 9)}`);
for (const r of rows) console.log(`${pad(r.name, 22)}${num(r.recall)}${num(r.qps, 1)}${num(r.build_s, 2)}`);
const pairs: [string, string][] = [
  ['exact (flat)', 'flat'],
  ['ivf_pq', 'ivf_pq'],
  ['ivf_pq + refine 10', 'ivf_pq_refine'],
  ['hnsw', 'hnsw'],
  ['hnsw + refine 10', 'hnsw'],
];
console.log(`\n${pad('recsys | faiss-cpu', 36)}recall(faiss)  q/s(faiss) build s(faiss)  q/s recsys/faiss`);
for (const [ours, theirs] of pairs) {
  const a = rows.find((r) => r.name === ours)!;
  const b = faiss.rows[theirs];
  const ratio = num(a.qps / b.qps, 4).padStart(16);
  console.log(
    `${pad(`${ours} | ${theirs}`, 36)}${num(b.recall)}${num(b.qps, 1).padStart(12)}${num(b.build_s, 2)}${ratio}`,
  );
}
rmSync(work, { recursive: true, force: true });

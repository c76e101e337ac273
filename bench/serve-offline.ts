/**
 * bench/serve's offline side: onnxruntime-node tokenising and running the same queries in batches in
 * process, no HTTP, in the modes the service's micro-batched rate is compared with.
 */
import type { EncodedRow } from '../src/data/batch.js';
import { readExportDir } from '../src/infer/export-dir.js';
import { openExportModel } from '../src/infer/model.js';
import { type ForwardMany, forwardGrouped } from '../src/serve/groups.js';

const quiet = { info: () => {}, warn: () => {}, debug: () => {} };

/**
 * onnxruntime-node offline: tokenise + forward every query in batches, no HTTP, onnxruntime's default
 * threads. In file order; in file order with each batch run as length groups (as recsys serve runs a
 * micro-batch); and sorted by token length first (batches then pad little: the best an offline job over
 * a known set of rows can do). A pass over the 3,000 queries takes a few tenths of a second, so one pass
 * (or the best of a few) says more about the moment than the model: after a warm-up pass each, the three
 * take turns, pass by pass, until each has run `seconds`, and each rate is its rows over its time.
 * A fourth mode runs the length groups on a session with one onnxruntime thread: the compute the service's
 * inference worker has by default on 2 cores (serve.threads: the cores but one), its own ceiling.
 */
export type OfflineMode = 'fileOrder' | 'grouped' | 'sorted' | 'oneThread';

export async function offlineRowsPerSecond(exp: string, queries: string[], batch: number, seconds: number) {
  const model = await openExportModel(await readExportDir(exp), quiet);
  const single = await openExportModel(await readExportDir(exp), quiet, { threads: 1 });
  const encode = (q: string) => model.tokenizer.encode(q, undefined, model.maxLength, model.truncation)!;
  const length = new Map(queries.map((q) => [q, encode(q).ids.length]));
  const sorted = [...queries].sort((a, b) => length.get(a)! - length.get(b)!);
  const oneByOne =
    (m: typeof model): ForwardMany =>
    async (groups) => {
      const out: Float32Array[] = [];
      for (const g of groups) out.push(await m.forward(g));
      return out;
    };
  const forward = (rows: EncodedRow[]) => model.forward(rows);
  type Mode = { texts: string[]; run: (rows: EncodedRow[]) => Promise<unknown> };
  const modes: Record<OfflineMode, Mode> = {
    fileOrder: { texts: queries, run: forward },
    grouped: { texts: queries, run: (rows: EncodedRow[]) => forwardGrouped(oneByOne(model), rows) },
    sorted: { texts: sorted, run: forward },
    oneThread: { texts: queries, run: (rows: EncodedRow[]) => forwardGrouped(oneByOne(single), rows) },
  };
  // Each pass's wall time and the CPU time of this process's threads during it (onnxruntime's included).
  const pass = async ({ texts, run }: Mode) => {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let at = 0; at < texts.length; at += batch) await run(texts.slice(at, at + batch).map(encode));
    const cpu = process.cpuUsage(cpu0);
    return { wall: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
  };
  for (const mode of Object.values(modes)) await pass(mode); // warm-up, not counted
  const zero = () => ({ fileOrder: 0, grouped: 0, sorted: 0, oneThread: 0 });
  const spent: Record<OfflineMode, number> = zero();
  const cpu: Record<OfflineMode, number> = zero();
  let passes = 0;
  while (Math.min(...Object.values(spent)) < seconds) {
    for (const [name, mode] of Object.entries(modes)) {
      const t = await pass(mode);
      spent[name as OfflineMode] += t.wall;
      cpu[name as OfflineMode] += t.cpu;
    }
    passes++;
  }
  await Promise.all([model.close(), single.close()]);
  const rows = passes * queries.length;
  const rates = Object.fromEntries(Object.entries(spent).map(([name, t]) => [name, rows / t])) as Record<
    OfflineMode,
    number
  >;
  const cpuPerRow = Object.fromEntries(Object.entries(cpu).map(([name, t]) => [name, (t * 1e6) / rows])) as Record<
    OfflineMode,
    number
  >;
  return { ...rates, cpuPerRow, passes };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExportDir } from '../../src/infer/export-dir.js';
import { openExportModel } from '../../src/infer/model.js';
import { makeLogger } from '../../src/lib/log.js';
import { haltWorkers, onWorkers } from '../../src/serve/worker-pool.js';
import { tempDir } from '../helpers/cli.js';
import { makeExport, QUERIES } from './fixture.js';

/** The inference worker pool: answers equal the in-process session's; a halt lets the running batch finish. */

const root = tempDir('recsys-pool-');
let exp: string;
const closers: (() => Promise<void>)[] = [];

async function open() {
  const model = await openExportModel(await readExportDir(exp), makeLogger({ quiet: true }), { threads: 1 });
  const rows = QUERIES.map((q) => model.tokenizer.encode(q, undefined, model.maxLength, model.truncation)!);
  return { model, rows };
}

beforeAll(async () => {
  exp = await makeExport(root, 'export', 11);
}, 240_000);

afterAll(async () => {
  for (const close of closers) await close();
});

describe('inference workers', () => {
  it('give the logits of the session they replace', async () => {
    const { model, rows } = await open();
    const expected = await model.forward(rows);
    const pooled = await onWorkers(model, 2, 1);
    closers.push(() => pooled.close());
    expect(await pooled.forward(rows)).toEqual(expected);
    const [a, b] = await pooled.forwardMany([rows.slice(0, 4), rows.slice(4)]);
    expect([...a, ...b]).toEqual([...expected]);
  });

  it('a halt waits for the batch in hand, refuses the queued ones, and ends with no batch pending', async () => {
    const { model, rows } = await open();
    const expected = await model.forward(rows);
    const pooled = await onWorkers(model, 1, 1);
    closers.push(() => pooled.close());
    // Six batches of 512 rows queue on the one worker; the halt comes as the first one is answered.
    const big = Array.from({ length: 512 }, (_, i) => rows[i % rows.length]);
    const settled: ('done' | 'refused')[] = [];
    const runs = Array.from({ length: 6 }, () =>
      pooled.forward(big).then(
        (logits) => {
          expect(logits.slice(0, expected.length)).toEqual(expected);
          settled.push('done');
        },
        (err: Error) => {
          expect(err.message).toBe('the service is stopping');
          settled.push('refused');
        },
      ),
    );
    await runs[0];
    await haltWorkers();
    // Every batch has been answered by the time the halt resolves: none is inside onnxruntime.
    expect(settled).toHaveLength(6);
    expect(settled[0]).toBe('done');
    expect(settled.at(-1)).toBe('refused');
    await Promise.all(runs);
    await expect(pooled.forward(rows)).rejects.toThrow('the service is stopping');
  });
});

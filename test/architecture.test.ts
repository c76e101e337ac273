import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/cli.js';
import {
  filesUnder,
  importEdges,
  longFiles,
  orderViolations,
  roomCycles,
  roomOf,
  type ImportEdge,
} from './helpers/import-graph.js';

/**
 * The shape of src/: rooms import downwards only (lib ← config ← hub/backend ← data ← model ← run
 * ← infer ← eval ← train ← export/retrieval ← predict/embed/serve ← commands ← cli ← main), no two
 * rooms import each other, and files stay small.
 */

const src = path.join(repoRoot, 'src');
const edges = importEdges(src);

describe('import graph of src/', () => {
  it('finds the imports (static, type-only, re-exports and dynamic)', () => {
    const has = (from: string, to: string) => edges.some((e) => e.from === from && e.to === to);
    expect(edges.length).toBeGreaterThan(200);
    expect(has('main.ts', 'cli.ts')).toBe(true); // static
    // a dynamic import('./commands/train.js')
    expect(has(path.join('cli.ts'), path.join('commands', 'train.ts'))).toBe(true);
    expect(has(path.join('eval', 'source.ts'), path.join('infer', 'model.ts'))).toBe(true); // dynamic and type-only
    expect(has(path.join('export', 'parity.ts'), path.join('infer', 'export-record.ts'))).toBe(true); // export … from
  });

  it('every import points to a lower room', () => {
    expect(orderViolations(edges)).toEqual([]);
  });

  it('no cycle between rooms', () => {
    expect(roomCycles(edges)).toEqual([]);
  });

  it('commands import nothing from cli.ts', () => {
    expect(edges.filter((e) => roomOf(e.from) === 'commands' && e.to === 'cli.ts')).toEqual([]);
  });
});

describe('file sizes', () => {
  it('no file in src/commands over 120 lines', () => {
    expect(longFiles(filesUnder(path.join(src, 'commands')), 120)).toEqual([]);
  });

  it('no file in src over 400 lines', () => {
    expect(longFiles(filesUnder(src), 400)).toEqual([]);
  });
});

describe('the checker fails on a violating graph', () => {
  const edge = (from: string, to: string): ImportEdge => ({ from, to });

  it('reports a lower room importing a higher one, and rooms beside each other', () => {
    const bad = [
      edge('infer/model.ts', 'eval/run.ts'),
      edge('hub/index.ts', 'backend/index.ts'),
      edge('commands/eval.ts', 'cli.ts'),
      edge('lib/log.ts', 'lib/errors.ts'),
      edge('eval/run.ts', 'infer/model.ts'),
    ];
    expect(orderViolations(bad)).toEqual([
      'infer/model.ts → eval/run.ts: infer (rank 6) imports the higher room eval',
      'hub/index.ts → backend/index.ts: hub imports backend, a room beside it',
      'commands/eval.ts → cli.ts: commands (rank 11) imports the higher room cli',
    ]);
  });

  it('reports a room that is not in the order', () => {
    expect(orderViolations([edge('widgets/run.ts', 'lib/log.ts')])).toEqual([
      'widgets/run.ts → lib/log.ts: room widgets is not in the room order',
    ]);
  });

  it('reports a cycle between rooms', () => {
    const cyclic = [
      edge('export/run-source.ts', 'predict/model-source.ts'),
      edge('predict/predictor.ts', 'export/runners.ts'),
      edge('predict/run.ts', 'lib/log.ts'),
    ];
    expect(roomCycles(cyclic)).toEqual(['export → predict → export']);
  });

  it('parses dynamic, type-only and re-export imports, not those quoted in comments', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'recsys-graph-'));
    mkdirSync(path.join(dir, 'infer'));
    writeFileSync(
      path.join(dir, 'infer', 'a.ts'),
      [
        "import type { X } from '../eval/x.js';",
        "export { Y } from '../export/y.js';",
        "const m = await import('../predict/z.js');",
        "// import { W } from '../serve/w.js';",
        "/* import('../train/t.js') */",
      ].join('\n'),
    );
    expect(importEdges(dir).map((e) => e.to)).toEqual(['eval/x.ts', 'export/y.ts', 'predict/z.ts']);
  });
});

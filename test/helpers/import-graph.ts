import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The rooms of src/ from the bottom up: a room may import rooms of a lower rank only. Rooms of the
 * same rank stand beside each other and import neither one another.
 */
export const ROOM_RANKS: Record<string, number> = {
  lib: 0,
  config: 1,
  hub: 2,
  backend: 2,
  data: 3,
  model: 4,
  run: 5,
  infer: 6,
  eval: 7,
  train: 8,
  export: 9,
  retrieval: 9,
  predict: 10,
  embed: 10,
  // The service answers what predict and embed compute, with their code: it sits just above them.
  serve: 10.5,
  commands: 11,
  cli: 12,
  main: 13,
};

/** One import: the file that imports, and the file (relative to src/) it names. */
export interface ImportEdge {
  from: string;
  to: string;
}

/** Static imports, re-exports (`export … from`), `import type`, and dynamic `import('…')` of relative paths. */
const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every relative import of every .ts file under srcDir, as paths relative to srcDir. */
export function importEdges(srcDir: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of filesUnder(srcDir)) {
    const from = path.relative(srcDir, file);
    // Comments may quote import statements; strip them before matching.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|(^|[^:'"`])\/\/.*$/gm, '$1');
    for (const m of text.matchAll(IMPORT_RE)) {
      const to = path.normalize(path.join(path.dirname(from), m[1])).replace(/\.js$/, '.ts');
      edges.push({ from, to });
    }
  }
  return edges;
}

/** The room of a file relative to src/: its top folder, or the file's name for cli.ts and main.ts. */
export function roomOf(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.ts$/, '');
}

/** Imports that break the order: into a higher or a sibling room, or from/to a room not in the order. */
export function orderViolations(edges: ImportEdge[], ranks = ROOM_RANKS): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const a = roomOf(from);
    const b = roomOf(to);
    if (a === b) continue;
    if (!(a in ranks) || !(b in ranks)) {
      out.push(`${from} → ${to}: room ${!(a in ranks) ? a : b} is not in the room order`);
      continue;
    }
    if (ranks[b] > ranks[a]) out.push(`${from} → ${to}: ${a} (rank ${ranks[a]}) imports the higher room ${b}`);
    else if (ranks[b] === ranks[a]) out.push(`${from} → ${to}: ${a} imports ${b}, a room beside it`);
  }
  return out;
}

/** Cycles between rooms (folders), each as "a → b → … → a". */
export function roomCycles(edges: ImportEdge[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const a = roomOf(from);
    const b = roomOf(to);
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(b);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (room: string) => {
    state.set(room, 'open');
    stack.push(room);
    for (const next of [...(graph.get(room) ?? [])].sort()) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(room, 'done');
  };
  for (const room of [...graph.keys()].sort()) if (!state.has(room)) visit(room);
  return cycles;
}

/** Files longer than `max` lines. */
export function longFiles(files: string[], max: number): string[] {
  return files
    .map((f) => [f, readFileSync(f, 'utf8').split('\n').length - 1] as const)
    .filter(([, n]) => n > max)
    .map(([f, n]) => `${f}: ${n} lines (at most ${max})`);
}

export { filesUnder };

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { py, reference, referencePython } from '../helpers/python.js';
import { FIXTURES, fixtureNames, ROOT } from './parity-suite.js';

// The committed fixtures are what scripts/make_reference.py makes: regenerate them (≈10 s) into a
// temp dir and compare, so a hand-edited or stale fixture cannot pass the parity tests.
const torch = reference(py('torch', 'transformers', 'safetensors'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'recsys-ref-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Vectors computed by torch differ in their last bits from one CPU to another (other SIMD kernels sum
 * in another order). Measured against the committed vectors (made on AVX-512): regenerated on AVX2
 * (no AVX-512), every numeric vector (a case's logits, pooled or hidden states, a gradient) differs by
 * at most 6.8e-6 of its largest |value| (cls-l4-h128 pooled; 2.3e-6 for the 2-layer fixtures). So each
 * numeric vector must agree within RTOL of its largest |value| — 3× that, and 5× tighter than the
 * parity tests' 1e-4, so a stale or edited fixture still shows — and everything else (names, token ids,
 * shapes, versions) must be equal. The checkpoints themselves are compared byte for byte.
 */
const RTOL = 2e-5;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** All numbers of a (nested) numeric array, or null when it holds anything else. */
function numbersOf(x: Json): number[] | null {
  if (typeof x === 'number') return [x];
  if (!Array.isArray(x)) return null;
  const out: number[] = [];
  for (const e of x) {
    const n = numbersOf(e);
    if (!n) return null;
    out.push(...n);
  }
  return out;
}

/** The first difference between regenerated and committed vectors (null: none), as `path: got vs want`. */
function firstDifference(got: Json, want: Json, at = ''): string | null {
  const w = numbersOf(want);
  const g = numbersOf(got);
  if (w && g && JSON.stringify(shapeOf(got)) === JSON.stringify(shapeOf(want))) {
    const tol = RTOL * Math.max(...w.map(Math.abs));
    const i = w.findIndex((v, j) => !(Math.abs(g[j] - v) <= tol));
    return i < 0 ? null : `${at}: ${g[i]} vs ${w[i]} (element ${i}, tolerance ${tol.toExponential(1)})`;
  }
  if (Array.isArray(want) && Array.isArray(got)) {
    if (got.length !== want.length) return `${at}: length ${got.length} vs ${want.length}`;
    for (let i = 0; i < want.length; i++) {
      const d = firstDifference(got[i], want[i], `${at}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (want && got && typeof want === 'object' && typeof got === 'object' && !Array.isArray(got)) {
    const keys = Object.keys(want);
    if (JSON.stringify(Object.keys(got).sort()) !== JSON.stringify([...keys].sort()))
      return `${at}: keys ${Object.keys(got)} vs ${keys}`;
    for (const k of keys) {
      const d = firstDifference(got[k], (want as Record<string, Json>)[k], `${at}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return got === want ? null : `${at}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`;
}

function shapeOf(x: Json): number[] {
  return Array.isArray(x) ? [x.length, ...(x.length ? shapeOf(x[0]) : [])] : [];
}

describe('firstDifference (the fixture comparison)', () => {
  it('accepts last-bit float differences within each vector, and nothing else', () => {
    const want = { name: 'a', ids: [[1, 2]], v: [0.5, -1.25e-3] };
    expect(firstDifference({ name: 'a', ids: [[1, 2]], v: [0.5 + 5e-6, -1.25e-3 + 5e-6] }, want)).toBeNull();
    expect(firstDifference({ name: 'a', ids: [[1, 2]], v: [0.5 + 1e-4, -1.25e-3] }, want)).toMatch(
      /^\.v: 0\.5001 vs 0\.5 \(element 0/,
    );
    expect(firstDifference({ name: 'a', ids: [[1, 3]], v: [0.5, -1.25e-3] }, want)).toMatch(/^\.ids: 3 vs 2/);
    expect(firstDifference({ name: 'b', ids: [[1, 2]], v: [0.5, -1.25e-3] }, want)).toBe('.name: "b" vs "a"');
    expect(firstDifference({ name: 'a', ids: [[1, 2]], v: [0.5] }, want)).toBe('.v: length 1 vs 2');
    expect(firstDifference({ name: 'a', ids: [[1, 2]] }, want)).toMatch(/^: keys/);
  });
});

describe.skipIf(torch.skip)('test/fixtures/reference is reproducible', () => {
  it('make_reference.py generate writes the committed checkpoints (same bytes) and vectors (within RTOL)', () => {
    torch.require();
    execFileSync(referencePython(), [path.join(ROOT, 'scripts', 'make_reference.py'), 'generate', '--out', tmp], {
      stdio: 'pipe',
      timeout: 180_000,
    });
    expect(readdirSync(tmp).sort()).toEqual(fixtureNames());
    for (const name of fixtureNames()) {
      const st = (d: string) => readFileSync(path.join(d, name, 'model.safetensors'));
      expect(st(tmp).equals(st(FIXTURES)), `${name}/model.safetensors`).toBe(true);
      const read = (d: string, f: string) => JSON.parse(readFileSync(path.join(d, name, f), 'utf8'));
      expect(read(tmp, 'config.json'), `${name}/config.json`).toEqual(read(FIXTURES, 'config.json'));
      expect(
        firstDifference(read(tmp, 'vectors.json'), read(FIXTURES, 'vectors.json')),
        `${name}/vectors.json`,
      ).toBeNull();
    }
  });
});

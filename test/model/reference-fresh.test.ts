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
 * Vectors computed by torch differ in the last bits from one CPU to another (other SIMD kernels
 * sum in another order: ~1e-7 on AVX2 vs AVX-512), so computed numbers agree within 1e-6 relative;
 * everything else (names, token ids, shapes, versions) must be equal. Returns the first difference.
 */
function firstDifference(got: unknown, want: unknown, at = '', rtol = 1e-6): string | null {
  if (typeof want === 'number' && typeof got === 'number') {
    // Token ids and counts are integers far below 1e6: the relative tolerance keeps them exact.
    return Math.abs(got - want) <= rtol * Math.abs(want) + 1e-12 ? null : `${at}: ${got} vs ${want}`;
  }
  if (Array.isArray(want) && Array.isArray(got)) {
    if (got.length !== want.length) return `${at}: length ${got.length} vs ${want.length}`;
    for (let i = 0; i < want.length; i++) {
      const d = firstDifference(got[i], want[i], `${at}[${i}]`, rtol);
      if (d) return d;
    }
    return null;
  }
  if (want && got && typeof want === 'object' && typeof got === 'object') {
    const keys = Object.keys(want as object);
    if (JSON.stringify(Object.keys(got as object).sort()) !== JSON.stringify([...keys].sort()))
      return `${at}: keys ${Object.keys(got as object)} vs ${keys}`;
    for (const k of keys) {
      const d = firstDifference(
        (got as Record<string, unknown>)[k],
        (want as Record<string, unknown>)[k],
        `${at}.${k}`,
        rtol,
      );
      if (d) return d;
    }
    return null;
  }
  return got === want ? null : `${at}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`;
}

describe('firstDifference (the fixture comparison)', () => {
  it('accepts last-bit float differences, and nothing else', () => {
    const want = { name: 'a', ids: [1, 2], v: [0.5, -1.25e-3] };
    expect(firstDifference({ name: 'a', ids: [1, 2], v: [0.5 + 1e-7, -1.25e-3 * (1 + 5e-7)] }, want)).toBeNull();
    expect(firstDifference({ name: 'a', ids: [1, 2], v: [0.5 + 1e-5, -1.25e-3] }, want)).toBe('.v[0]: 0.50001 vs 0.5');
    expect(firstDifference({ name: 'a', ids: [1, 3], v: [0.5, -1.25e-3] }, want)).toBe('.ids[1]: 3 vs 2');
    expect(firstDifference({ name: 'b', ids: [1, 2], v: [0.5, -1.25e-3] }, want)).toBe('.name: "b" vs "a"');
    expect(firstDifference({ name: 'a', ids: [1, 2], v: [0.5] }, want)).toBe('.v: length 1 vs 2');
    expect(firstDifference({ name: 'a', ids: [1, 2] }, want)).toMatch(/^: keys/);
  });
});

describe.skipIf(torch.skip)('test/fixtures/reference is reproducible', () => {
  it('make_reference.py generate writes the same checkpoints (byte for byte) and vectors (1e-6) as committed', () => {
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

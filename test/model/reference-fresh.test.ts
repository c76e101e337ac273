import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixtureNames, referencePython, ROOT } from './parity-suite.js';

// The committed fixtures are what scripts/make_reference.py makes: regenerate them (≈10 s) into a
// temp dir and compare, so a hand-edited or stale fixture cannot pass the parity tests.
const python = referencePython();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'recsys-ref-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
if (!python) console.log('[reference] skipping the fixture regeneration check: no reference venv');

// CI makes the venv (.ci/run → scripts/setup-python.sh), so there a missing one fails instead of skipping.
describe.skipIf(!python && !process.env.CI)('test/fixtures/reference is reproducible', () => {
  it('make_reference.py generate writes the same checkpoints and vectors as committed', () => {
    if (!python) expect.fail('no reference venv: run bash scripts/setup-python.sh');
    execFileSync(python!, [path.join(ROOT, 'scripts', 'make_reference.py'), 'generate', '--out', tmp], {
      stdio: 'pipe',
      timeout: 180_000,
    });
    expect(readdirSync(tmp).sort()).toEqual(fixtureNames());
    for (const name of fixtureNames()) {
      const st = (d: string) => readFileSync(path.join(d, name, 'model.safetensors'));
      expect(st(tmp).equals(st(FIXTURES)), `${name}/model.safetensors`).toBe(true);
      for (const f of ['config.json', 'vectors.json']) {
        const read = (d: string) => JSON.parse(readFileSync(path.join(d, name, f), 'utf8'));
        expect(read(tmp), `${name}/${f}`).toEqual(read(FIXTURES));
      }
    }
  });
});

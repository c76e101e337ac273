import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('test temp root', () => {
  it('gives every test file a temp dir inside one per-run root that the run removes', () => {
    expect(basename(tmpdir())).toMatch(/^recsys-tests-/);
    expect(dirname(tmpdir())).not.toBe(tmpdir());
  });
});

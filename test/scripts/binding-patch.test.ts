import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BINDING_PATCH as LOADER_PATCH } from '../../src/backend/native.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { BINDING_PATCH, patchBinding } from '../../scripts/native/binding-patch.mjs';
import { repoRoot } from '../helpers/cli.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'recsys-binding-patch-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const installed = path.join(repoRoot, 'node_modules/@tensorflow/tfjs-node/binding');

describe('the tfjs-node binding patch (scripts/native/binding-patch.mjs)', () => {
  it('replaces the shared-memory tensor constructor of the installed tfjs-node with a copy', () => {
    const dir = path.join(work, 'binding');
    cpSync(installed, dir, { recursive: true });
    patchBinding(dir);
    const patched = readFileSync(path.join(dir, 'tfjs_backend.cc'), 'utf8');
    const fn = patched.slice(patched.indexOf('CreateTFE_TensorHandleFromTypedArray('));
    const body = fn.slice(0, fn.indexOf('\n}\n'));
    expect(body).toContain('TF_AllocateTensor(dtype, shape, shape_length, byte_size)');
    expect(body).toContain('memcpy(TF_TensorData(tensor.tensor), array_data, byte_size)');
    expect(body).not.toMatch(/TF_NewTensor|DeallocTensor|NapiAutoRef/);
    // everything else is untouched
    const original = readFileSync(path.join(installed, 'tfjs_backend.cc'), 'utf8');
    expect(patched.slice(0, patched.indexOf('CreateTFE_TensorHandleFromTypedArray('))).toBe(
      original.slice(0, original.indexOf('CreateTFE_TensorHandleFromTypedArray(')),
    );
    expect(patched.slice(patched.indexOf('// Creates a TFE_TensorHandle from a JS array of Uint8Array'))).toBe(
      original.slice(original.indexOf('// Creates a TFE_TensorHandle from a JS array of Uint8Array')),
    );
  });

  it('refuses a source it was not written for, and the loader asks for the same patch level', () => {
    const dir = path.join(work, 'other');
    cpSync(installed, dir, { recursive: true });
    writeFileSync(path.join(dir, 'tfjs_backend.cc'), '// another version\n');
    expect(() => patchBinding(dir)).toThrow(/tfjs_backend\.cc: CreateTFE_TensorHandleFromTypedArray is not the one/);
    expect(LOADER_PATCH).toBe(BINDING_PATCH);
  });
});

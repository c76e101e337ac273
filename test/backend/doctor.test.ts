import { describe, expect, it } from 'vitest';

import { formatDoctorReport, runDoctor } from '../../src/backend/doctor.js';
import { nativeStatus } from '../../src/backend/index.js';

const status = nativeStatus('@tensorflow/tfjs-node');
const nativeExpected = Boolean(process.env.CI) || status.bindingPresent || Boolean(status.cacheEntry);

describe('doctor', () => {
  it('reports backends, versions, native binding, GPU/CUDA and a matmul probe per backend', async () => {
    const r = await runDoctor({ probeSeconds: 0.2 });

    expect(r.tfjsVersion).toBe('4.22.0');
    expect(r.tfjsCoreCopies).toHaveLength(1);
    expect(r.native.map((n) => n.package)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(r.cuda.map((c) => c.library)).toEqual(['libcudart', 'libcudnn']);
    for (const c of r.cuda) {
      expect(typeof c.found).toBe('boolean');
      expect(typeof c.loaded).toBe('boolean');
      if (c.loaded) expect(c.found).toBe(true);
    }
    expect(r.probes.map((p) => p.backend)).toEqual(['tensorflow', 'wasm', 'cpu']);
    const wasm = r.probes[1];
    const cpu = r.probes[2];
    expect(wasm.ok, wasm.error).toBe(true);
    expect(wasm.n).toBe(1024);
    expect(wasm.gflops).toBeGreaterThan(0.5);
    expect(wasm.simd).toBe(true);
    expect(cpu.ok, cpu.error).toBe(true);
    expect(cpu.gflops).toBeGreaterThan(0.01);

    const tfProbe = r.probes[0];
    if (nativeExpected) {
      expect(tfProbe.ok, tfProbe.error).toBe(true);
      expect(tfProbe.gflops).toBeGreaterThan(wasm.gflops!);
      expect(r.tfVersion).toMatch(/^2\.\d+\.\d+/);
      expect(r.auto.backend).toBe('tensorflow');
      const node = r.native[1];
      expect(node.installed).toBe(true);
      expect(node.bindingPresent || Boolean(node.cache)).toBe(true);
      expect(r.gpu.tensorflowUsesGpu).toBe(false);
      expect(r.gpu.note).toMatch(/^none: CPU build/);
    } else {
      expect(tfProbe.ok).toBe(false);
      expect(tfProbe.error).toMatch(/setup:native/);
      expect(r.auto.backend).toBe('wasm');
    }

    const text = formatDoctorReport(r);
    for (const label of [
      'backend (auto)',
      'tfjs',
      'TensorFlow',
      'native binding',
      'GPU devices (TF)',
      'CUDA runtime',
      'cuDNN',
      'matmul probe',
    ]) {
      expect(text).toContain(label);
    }
    expect(text).toMatch(/wasm\s+\d+(\.\d+)? GFLOP\/s/);
    expect(text.split('\n')[1]).toMatch(new RegExp(`backend \\(auto\\)\\s+${r.auto.backend} `));
  });

  it('skips the probes when asked and still reports the static facts', async () => {
    const r = await runDoctor({ probe: false });
    expect(r.probes).toEqual([]);
    expect(formatDoctorReport(r)).toMatch(/matmul probe\s+skipped/);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(r.auto.backend);
  });
});

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRunDirForTraining } from '../../src/run/claim.js';
import { RUN_ENTRIES, runPaths } from '../../src/run/layout.js';
import { readFinishedRun, readRunManifest, recordedDatasets } from '../../src/run/read.js';
import { makeRun, type RunFixture } from '../export/run-fixture.js';
import { tempDir } from '../helpers/cli.js';

const root = tempDir('recsys-run-');
let run: RunFixture;

beforeAll(async () => {
  run = await makeRun(root, { sample: 'intent', datasetDir: path.join(root, 'intent-dataset') });
}, 240_000);

describe('run/: the run directory', () => {
  it('names every entry of docs/run-dir.md in one place', () => {
    const p = runPaths('/r');
    expect(p.model).toBe(path.join('/r', 'model'));
    expect(p.summary).toBe(path.join('/r', 'train_summary.json'));
    expect([...RUN_ENTRIES].sort()).toEqual(
      [
        'checkpoints',
        'config.yaml',
        'corpus',
        'last',
        'manifest.json',
        'metrics.jsonl',
        'model',
        'train_summary.json',
      ].sort(),
    );
  });

  it('reads a run and finds its dataset: manifest dataset_dir first, then config.yaml data.out', () => {
    const manifest = readRunManifest(run.runDir);
    expect(manifest.labels).toEqual(run.labels);
    const found = recordedDatasets(run.runDir, manifest);
    expect(found.map((d) => [d.dir, path.basename(d.file), d.key])).toEqual([
      [path.resolve(run.datasetDir), 'manifest.json', 'dataset_dir'],
      [path.resolve(run.datasetDir), 'config.yaml', 'data.out'],
    ]);
    expect(readFinishedRun(run.runDir).summary.steps).toBe(0);
  });

  it('refuses what is not a run, or not finished, with one line naming it', () => {
    expect(() => readRunManifest(path.join(root, 'nope'))).toThrow(
      `${path.join(root, 'nope')}: run directory not found`,
    );
    expect(() => readRunManifest(run.datasetDir)).toThrow(/no model\/config.json; not a recsys run directory/);
    const unfinished = path.join(root, 'unfinished');
    mkdirSync(unfinished, { recursive: true });
    expect(() => readFinishedRun(unfinished)).toThrow(/no train_summary.json; the run is incomplete/);
  });

  it('decides whether train may write into a dir', () => {
    expect(checkRunDirForTraining(path.join(root, 'fresh'), false, false)).toBe('fresh');
    expect(() => checkRunDirForTraining(run.runDir, false, false)).toThrow(/holds a finished run/);
    expect(checkRunDirForTraining(run.runDir, false, true)).toBe('fresh');
    // no last/ checkpoint (preempted before the first one, or never started): --resume starts from step 0
    expect(checkRunDirForTraining(run.runDir, true, false)).toBe('restart');
    expect(checkRunDirForTraining(path.join(root, 'never-started'), true, false)).toBe('restart');
    const other = path.join(root, 'other');
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(other, 'notes.txt'), 'mine');
    expect(() => checkRunDirForTraining(other, false, false)).toThrow(/not empty and not a recsys run/);
    expect(() => checkRunDirForTraining(other, true, false)).toThrow(/not empty and not a recsys run/);
    rmSync(other, { recursive: true });
  });
});

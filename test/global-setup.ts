import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every test file makes its run dirs, shards and exports with `mkdtemp(tmpdir())`, and many of them
 * (the kill tests' runs are hundreds of megabytes) are never removed one by one. One temp root per test
 * run, exported as TMPDIR before the test processes start (they and the CLIs they spawn inherit it), is
 * removed as a whole when the run ends, so repeated runs do not fill the disk.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'recsys-tests-'));
  process.env.TMPDIR = root;
  return () => {
    if (process.env.RECSYS_KEEP_TEST_TMP === '1') return;
    rmSync(root, { recursive: true, force: true });
  };
}

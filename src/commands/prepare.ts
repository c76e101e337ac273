import { flagOverrides, type CommonOptions } from './options.js';
import { loadConfig } from '../config/load.js';
import type { DatasetManifest } from '../data/manifest.js';
import { prepareDataset, type PrepareProgress } from '../data/prepare.js';
import { type Progress, rowsProgress } from '../lib/progress.js';
import { makeLogger } from '../lib/log.js';

const FLAGS = {
  input: 'data.input',
  format: 'data.format',
  textColumn: 'data.text_column',
  pairColumn: 'data.pair_column',
  labelColumn: 'data.label_column',
  idColumn: 'data.id_column',
  splitColumn: 'data.split_column',
  split: 'data.split',
  stratify: 'data.stratify',
  groupColumn: 'data.group_column',
  tokenizer: 'tokenizer.path',
  maxLength: 'data.max_length',
  truncation: 'data.truncation',
  out: 'data.out',
  seed: 'seed',
  maxBadRows: 'data.max_bad_rows',
};

function prepareProgress(enabled: boolean): PrepareProgress {
  let bar: Progress | undefined;
  return {
    phase(name, total) {
      bar = rowsProgress(name === 'scan' ? 'scanning' : 'tokenizing', enabled, total);
    },
    tick: (rows) => bar?.tick(rows),
    done: () => bar?.stop(),
  };
}

export function formatSummary(m: DatasetManifest, seconds: number): string {
  const lines = [
    `prepared ${m.rows.written} rows from ${m.source.file} in ${seconds.toFixed(1)} s ` +
      `(${Math.round(m.rows.read / Math.max(seconds, 1e-3))} rows/s)`,
    `  read ${m.rows.read}, written ${m.rows.written}, rejected ` +
      `${m.rows.rejected}${m.rows.rejected ? ' (see rejects.csv)' : ''}`,
  ];
  for (const [name, s] of Object.entries(m.splits)) {
    const dist = Object.entries(s!.label_counts)
      .map(([l, c]) => `${l}=${c}`)
      .join(' ');
    lines.push(`  ${name.padEnd(10)} ${String(s!.rows).padStart(8)} rows  ${dist}`);
  }
  const t = m.token_lengths;
  lines.push(
    `  tokens p50=${t.p50} p90=${t.p90} p95=${t.p95} p99=${t.p99} max=${t.max}; truncated ` +
      `${t.truncated} (${(100 * t.truncation_rate).toFixed(1)}%) at max_length ${m.max_length}`,
  );
  if (m.tokenizer.mark_matches)
    lines.push('  pairs: [unused0] marks each word the two texts share (tokenizer.mark_matches)');
  return lines.join('\n');
}

export async function prepareCommand(opts: CommonOptions & Record<string, unknown>): Promise<void> {
  const log = makeLogger({ verbose: opts.verbose });
  const config = loadConfig({ files: opts.config, sets: opts.set, overrides: flagOverrides(opts, FLAGS) });
  const t0 = performance.now();
  const manifest = await prepareDataset(config, {
    overwrite: !!opts.overwrite,
    progress: prepareProgress(opts.progress !== false),
  });
  const seconds = (performance.now() - t0) / 1000;
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  if (opts.json) process.stdout.write(`${JSON.stringify({ ...manifest, seconds, peak_rss_mb: peakRssMb }, null, 2)}\n`);
  else log.info(`${formatSummary(manifest, seconds)}\n  peak memory ${peakRssMb} MB\n  dataset: ${config.data.out}`);
}

import { existsSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { hubSettings, parseRepoId, type HubSettings } from './cache.js';
import { snapshotDownload, type DownloadEvents } from './download.js';

export { hubSettings, parseRepoId } from './cache.js';
export { HubError, snapshotDownload } from './download.js';

function progressEvents(): DownloadEvents {
  if (!process.stderr.isTTY) return {};
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(file, bytes, resumedFrom) {
      bar = new cliProgress.SingleBar(
        {
          format: `${file} [{bar}] {percentage}% | {value}/{total} bytes${resumedFrom ? ' (resumed)' : ''}`,
          stream: process.stderr,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(bytes ?? 0, resumedFrom);
    },
    progress: (_f, received) => bar?.update(received),
    done: () => bar?.stop(),
  };
}

/**
 * A model reference is a local directory, or a hub id `org/name[@revision]` that is downloaded
 * into the Hugging Face cache. Only a hub id ever touches the network.
 */
export async function resolveModelDir(ref: string, overrides: Partial<HubSettings> = {}): Promise<string> {
  if (existsSync(ref) || ref.startsWith('.') || path.isAbsolute(ref)) return path.resolve(ref);
  const id = parseRepoId(ref);
  if (!id) return path.resolve(ref);
  return snapshotDownload(hubSettings(process.env, overrides), id.repo, id.revision, progressEvents());
}

import { existsSync } from 'node:fs';
import path from 'node:path';
import { progressBar, type ProgressBar } from '../lib/progress.js';
import { hubSettings, parseRepoId, type HubSettings } from './cache.js';
import { snapshotDownload, type DownloadEvents } from './download.js';

export { hubSettings, parseRepoId } from './cache.js';
export { HubError, snapshotDownload } from './download.js';

/** One bar per downloaded file (on a terminal only), starting where a resumed download left off. */
function progressEvents(): DownloadEvents {
  let bar: ProgressBar | undefined;
  return {
    start(file, bytes, resumedFrom) {
      const format = `${file} [{bar}] {percentage}% | {value}/{total} bytes${resumedFrom ? ' (resumed)' : ''}`;
      bar = progressBar({ format, total: bytes, start: resumedFrom });
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

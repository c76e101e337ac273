import { createRequire } from 'node:module';
import { type RecordBatch, Table, tableFromIPC, tableToIPC } from 'apache-arrow';

/**
 * The one place that loads LanceDB. It is CommonJS and requires apache-arrow's CommonJS build, while
 * recsys imports the ESM build: the same version, but two sets of classes. An ESM-built Table handed
 * to LanceDB is silently stored as zero rows, so Arrow always crosses the boundary as IPC bytes,
 * rebuilt by LanceDB's own apache-arrow instance (`toLance`) and read back the same way (`fromLance`).
 */
export type Lance = typeof import('@lancedb/lancedb');
type ArrowModule = typeof import('apache-arrow');

let loaded: { lance: Lance; arrow: ArrowModule } | undefined;

/** LanceDB's Rust core logs WARN lines on stderr (e.g. "No existing dataset"); quiet unless verbose. */
export async function loadLance(verbose = false): Promise<Lance> {
  if (!loaded) {
    if (process.env.LANCEDB_LOG === undefined) process.env.LANCEDB_LOG = verbose ? 'warn' : 'error';
    const require = createRequire(import.meta.url);
    const lanceMain = require.resolve('@lancedb/lancedb');
    const arrow = createRequire(lanceMain)('apache-arrow') as ArrowModule;
    const lance = (await import('@lancedb/lancedb')) as Lance;
    loaded = { lance, arrow };
  }
  return loaded.lance;
}

function lanceArrow(): ArrowModule {
  if (!loaded) throw new Error('loadLance() must run before Arrow crosses into LanceDB');
  return loaded.arrow;
}

/** Record batches of recsys's Arrow as a Table of LanceDB's Arrow (an IPC stream in between). */
export function toLance(batches: RecordBatch[]): InstanceType<ArrowModule['Table']> {
  return lanceArrow().tableFromIPC(tableToIPC(new Table(batches), 'stream'));
}

/** A LanceDB result (its Arrow) as a Table of recsys's Arrow. */
export function fromLance(table: { schema: unknown }): Table {
  return tableFromIPC(lanceArrow().tableToIPC(table as never, 'stream'));
}

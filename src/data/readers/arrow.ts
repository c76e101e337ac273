import { createReadStream } from 'node:fs';
import { RecordBatchReader } from 'apache-arrow';
import { DataError } from '../../lib/errors.js';
import type { RowSource, SourceRow } from './types.js';
import { excerpt, nulColumn } from './utf8.js';

/** A short JSON excerpt of a row, for the rejects file (Arrow has no raw text to quote). */
function rawOf(values: Record<string, unknown>): string {
  try {
    return excerpt(JSON.stringify(values, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
  } catch {
    return '';
  }
}

/** Arrow IPC (file or stream format), read batch by batch. */
export function arrowSource(file: string): RowSource {
  // apache-arrow reports a corrupt file as a JS TypeError ("Cannot read properties of null"):
  // say what it means instead of quoting it.
  const unreadable = (err: unknown) => {
    const msg =
      err instanceof TypeError ? 'truncated or corrupt' : String((err as Error)?.message ?? err).split('\n')[0];
    return new DataError(`${file}: not a readable Arrow IPC file (${msg})`);
  };
  async function open() {
    let reader: RecordBatchReader;
    try {
      reader = await RecordBatchReader.from(createReadStream(file));
      await reader.open();
    } catch (err) {
      throw unreadable(err);
    }
    if (!reader.schema?.fields)
      throw new DataError(`${file}: not a readable Arrow IPC file (no schema; is it Arrow IPC/Feather v2?)`);
    return reader;
  }
  return {
    async columns() {
      const reader = await open();
      const names = reader.schema.fields.map((f) => f.name);
      await reader.cancel();
      return names;
    },
    async *rows(): AsyncGenerator<SourceRow> {
      const reader = await open();
      let row = 0;
      const batches = reader[Symbol.asyncIterator]();
      for (;;) {
        let next: Awaited<ReturnType<typeof batches.next>>;
        try {
          next = await batches.next();
        } catch (err) {
          throw unreadable(err);
        }
        if (next.done) break;
        const batch = next.value;
        const cols = batch.schema.fields.map((f) => ({ name: f.name, vector: batch.getChild(f.name)! }));
        for (let i = 0; i < batch.numRows; i++) {
          row++;
          const values: Record<string, unknown> = {};
          for (const c of cols) {
            const v = c.vector.get(i);
            values[c.name] = typeof v === 'bigint' ? Number(v) : v;
          }
          const nul = nulColumn(values);
          if (nul !== undefined) yield { row, error: `NUL character in column "${nul}"`, raw: rawOf(values) };
          else yield { row, values, raw: rawOf(values) };
        }
      }
    },
  };
}

import { createReadStream } from 'node:fs';
import { RecordBatchReader } from 'apache-arrow';
import { DataError } from '../../lib/errors.js';
import type { RowSource, SourceRow } from './types.js';
import { excerpt } from './utf8.js';

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
  async function open() {
    try {
      const reader = await RecordBatchReader.from(createReadStream(file));
      await reader.open();
      return reader;
    } catch (err) {
      throw new DataError(`${file}: not a readable Arrow IPC file (${(err as Error).message.split('\n')[0]})`);
    }
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
      for await (const batch of reader) {
        const cols = batch.schema.fields.map((f) => ({ name: f.name, vector: batch.getChild(f.name)! }));
        for (let i = 0; i < batch.numRows; i++) {
          row++;
          const values: Record<string, unknown> = {};
          for (const c of cols) {
            const v = c.vector.get(i);
            values[c.name] = typeof v === 'bigint' ? Number(v) : v;
          }
          yield { row, values, raw: rawOf(values) };
        }
      }
    },
  };
}

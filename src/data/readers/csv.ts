import { createReadStream } from 'node:fs';
import { parse, type Info } from 'csv-parse';
import { DataError } from '../../lib/errors.js';
import type { RowSource, SourceRow } from './types.js';
import { decodeUtf8, excerpt, nulColumn } from './utf8.js';

/**
 * Streaming CSV/TSV reader: quoted fields, embedded newlines, BOM, CRLF. Fields arrive as raw
 * bytes so invalid UTF-8 is caught per row (and the row rejected) instead of silently replaced.
 * A quote inside an unquoted field (`55" tv`) is kept as a literal character, as Python's csv
 * module and pandas do. A quoted field that is never closed makes the rest of the file
 * unreadable: that is a one-line error naming the row and line where the quote opened.
 */
/** csv-parse hands back Buffers with encoding:null, except where it already decoded (after a BOM). */
function decodeField(f: Buffer | string): string | undefined {
  return typeof f === 'string' ? f : decodeUtf8(f);
}

const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export function csvSource(file: string, delimiter: string): RowSource {
  let header: string[] | undefined;

  function parser() {
    return parse({
      encoding: null,
      bom: true,
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      info: true,
      max_record_size: MAX_RECORD_BYTES,
    });
  }

  async function* records(): AsyncGenerator<{ fields: (Buffer | string)[]; info: Info }> {
    const stream = createReadStream(file).pipe(parser());
    // Where the last complete record ended: a record that fails to parse starts on the next line.
    let lastLine = 0;
    let records = 0;
    try {
      for await (const r of stream as AsyncIterable<{ record: (Buffer | string)[]; info: Info }>) {
        lastLine = r.info.lines;
        records++;
        yield { fields: r.record, info: r.info };
      }
    } catch (err) {
      const e = err as Error & { code?: string; lines?: number };
      if (typeof e.code !== 'string') throw err;
      const start = lastLine + 1;
      const where = records === 0 ? 'the header' : `row ${records}`;
      if (e.code === 'CSV_QUOTE_NOT_CLOSED') {
        throw new DataError(
          `${file}:${start}: CSV does not parse: ${where} has an opening quote that is never closed ` +
            `(the field runs to the end of the file at line ${e.lines ?? '?'})`,
        );
      }
      if (e.code === 'CSV_MAX_RECORD_SIZE') {
        throw new DataError(
          `${file}:${start}: CSV does not parse: ${where} is longer than ` +
            `${MAX_RECORD_BYTES / (1024 * 1024)} MiB (an unbalanced quote?)`,
        );
      }
      // Any other csv-parse error: its message without the Buffer dumps it sometimes carries.
      const reason = e.message.replace(/, value is \{"type":"Buffer".*$/, '').replace(/^[^:]*: /, '');
      throw new DataError(`${file}:${e.lines ?? start}: CSV does not parse: ${reason}`);
    }
  }

  async function readHeader(): Promise<string[]> {
    if (header) return header;
    for await (const { fields } of records()) {
      const names = fields.map(decodeField);
      if (names.some((n) => n === undefined)) throw new DataError(`${file}:1: header is not valid UTF-8`);
      header = (names as string[]).map((n) => n.trim());
      const dup = header.find((n, i) => header!.indexOf(n) !== i);
      if (dup !== undefined) throw new DataError(`${file}:1: duplicate column "${dup}" in the header`);
      return header;
    }
    throw new DataError(`${file}: empty file (no header row)`);
  }

  return {
    columns: readHeader,
    async *rows(): AsyncGenerator<SourceRow> {
      const cols = await readHeader();
      let row = 0;
      let first = true;
      for await (const { fields, info } of records()) {
        if (first) {
          first = false;
          continue;
        }
        row++;
        const line = info.lines;
        const decoded = fields.map(decodeField);
        const raw = excerpt(fields.map((f) => (typeof f === 'string' ? f : f.toString('utf8'))).join(delimiter));
        if (decoded.some((d) => d === undefined)) {
          const bad = cols[decoded.indexOf(undefined)] ?? `#${decoded.indexOf(undefined) + 1}`;
          yield { row, line, error: `invalid UTF-8 in column "${bad}"`, raw };
          continue;
        }
        if (fields.length !== cols.length) {
          yield { row, line, error: `expected ${cols.length} columns, found ${fields.length}`, raw };
          continue;
        }
        const values: Record<string, unknown> = {};
        for (const [i, c] of cols.entries()) values[c] = decoded[i];
        const nul = nulColumn(values);
        if (nul !== undefined) {
          yield { row, line, error: `NUL character in column "${nul}"`, raw };
          continue;
        }
        yield { row, line, values, raw };
      }
    },
  };
}

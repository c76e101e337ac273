import { createReadStream } from 'node:fs';
import { DataError } from '../../lib/errors.js';
import type { RowSource, SourceRow } from './types.js';
import { decodeUtf8, excerpt, nulColumn } from './utf8.js';

/** Split a byte stream on \n without decoding, so invalid UTF-8 is caught per line. */
async function* lines(file: string): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      yield buf.subarray(start, nl > start && buf[nl - 1] === 13 ? nl - 1 : nl);
      start = nl + 1;
    }
    rest = Buffer.from(buf.subarray(start));
    buf = rest;
  }
  if (rest.length) yield rest[rest.length - 1] === 13 ? rest.subarray(0, rest.length - 1) : rest;
}

/** JSON Lines: one object per line; blank lines are skipped, anything else unparseable is rejected. */
export function jsonlSource(file: string): RowSource {
  return {
    async columns() {
      let lineNo = 0;
      for await (const bytes of lines(file)) {
        lineNo++;
        const text = decodeUtf8(bytes)?.replace(/^\ufeff/, '');
        if (!text?.trim()) continue;
        try {
          const obj = JSON.parse(text);
          if (obj && typeof obj === 'object' && !Array.isArray(obj)) return Object.keys(obj);
        } catch {
          /* the row reader reports it */
        }
      }
      if (lineNo === 0) throw new DataError(`${file}: empty file`);
      throw new DataError(
        `${file}: none of its ${lineNo} line(s) is a JSON object (expected JSON Lines: one {...} per line)`,
      );
    },
    async *rows(): AsyncGenerator<SourceRow> {
      let line = 0;
      let row = 0;
      for await (const bytes of lines(file)) {
        line++;
        const decoded = decodeUtf8(bytes);
        if (decoded === undefined) {
          yield { row: ++row, line, error: 'invalid UTF-8', raw: excerpt(bytes.toString('utf8')) };
          continue;
        }
        const text = line === 1 ? decoded.replace(/^\ufeff/, '') : decoded;
        if (!text.trim()) continue;
        row++;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (err) {
          yield { row, line, error: `not valid JSON (${(err as Error).message.split('\n')[0]})`, raw: excerpt(text) };
          continue;
        }
        if (!value || typeof value !== 'object' || Array.isArray(value)) {
          yield { row, line, error: 'expected a JSON object', raw: excerpt(text) };
          continue;
        }
        const nul = nulColumn(value as Record<string, unknown>);
        if (nul !== undefined) {
          yield { row, line, error: `NUL character in column "${nul}"`, raw: excerpt(text) };
          continue;
        }
        yield { row, line, values: value as Record<string, unknown>, raw: excerpt(text) };
      }
    },
  };
}

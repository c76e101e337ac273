import { promises as fsp } from 'node:fs';
import os from 'node:os';
import { DataError } from '../lib/errors.js';

/**
 * safetensors: 8-byte little-endian header length N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`,
 * then the data buffer (offsets are relative to its start). Floats of any width come out as
 * Float32Array, integers and booleans as Int32Array.
 */

export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface StEntry {
  name: string;
  /** dtype as stored in the file (F32, F16, BF16, I64, …) */
  dtype: string;
  shape: number[];
  /** Decoded values: float dtypes → Float32Array, integer/bool dtypes → Int32Array. */
  values: Float32Array | Int32Array;
}

export interface StFile {
  tensors: Map<string, StEntry>;
  metadata: Record<string, string>;
}

if (os.endianness() !== 'LE') throw new Error('safetensors support assumes a little-endian machine');

const f16Table = (() => {
  // value of every half-precision bit pattern
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
})();

function decode(dtype: string, bytes: Uint8Array, count: number): Float32Array | Int32Array {
  // Copy into a fresh, aligned buffer (file offsets need not be aligned to the element size).
  // `new Uint8Array(view)` always copies; Buffer#slice would not.
  const buf = new Uint8Array(bytes).buffer;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf, 0, count);
    case 'F64':
      return Float32Array.from(new Float64Array(buf, 0, count));
    case 'F16': {
      const h = new Uint16Array(buf, 0, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = f16Table[h[i]];
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(buf, 0, count);
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = h[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I64': {
      const v = new BigInt64Array(buf, 0, count);
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        if (v[i] > 2147483647n || v[i] < -2147483648n) throw new RangeError(`int64 value ${v[i]} does not fit int32`);
        out[i] = Number(v[i]);
      }
      return out;
    }
    case 'I32':
      return new Int32Array(buf, 0, count);
    case 'I16':
      return Int32Array.from(new Int16Array(buf, 0, count));
    case 'I8':
      return Int32Array.from(new Int8Array(buf, 0, count));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(new Uint8Array(buf, 0, count));
    default:
      throw new Error(`unsupported dtype ${dtype}`);
  }
}

/** Parse a whole safetensors file held in memory; `source` names it in every error. */
export function parseSafetensors(data: Uint8Array, source: string): StFile {
  const fail = (msg: string) => new DataError(`${source}: ${msg}`);
  if (data.byteLength < 8)
    throw fail(`not a safetensors file: ${data.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    throw fail(`safetensors header length ${n} exceeds the 100 MB limit (corrupt or not a safetensors file)`);
  const headerLen = Number(n);
  if (8 + headerLen > data.byteLength) {
    throw fail(
      `safetensors header length ${headerLen} is larger than the file (${data.byteLength} bytes): truncated or corrupt`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw fail(`safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw fail('safetensors header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = data.byteLength - dataStart;
  const tensors = new Map<string, StEntry>();
  let metadata: Record<string, string> = {};
  const ranges: Array<[number, number, string]> = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (info ?? {}) as Record<string, string>;
      continue;
    }
    const e = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) throw fail(`tensor ${name}: header entry is not an object`);
    const dtype = e.dtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw fail(
        `tensor ${name}: unsupported dtype ${JSON.stringify(dtype)} (supported: ` +
          `${Object.keys(DTYPE_BYTES).join(', ')})`,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw fail(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isInteger(o) && o >= 0) ||
      offs[0] > offs[1]
    ) {
      throw fail(`tensor ${name}: data_offsets ${JSON.stringify(offs)} are not [begin, end] with 0 ≤ begin ≤ end`);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataLen) {
      throw fail(
        `tensor ${name}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLen} ` +
          `bytes): truncated or corrupt`,
      );
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * DTYPE_BYTES[dtype]) {
      throw fail(
        `tensor ${name}: ${end - begin} bytes for ${dtype} shape [${shape.join(', ')}], expected ` +
          `${count * DTYPE_BYTES[dtype]}`,
      );
    }
    ranges.push([begin, end, name]);
    let values: Float32Array | Int32Array;
    try {
      values = decode(dtype, data.subarray(dataStart + begin, dataStart + end), count);
    } catch (err) {
      throw fail(`tensor ${name}: ${(err as Error).message}`);
    }
    tensors.set(name, { name, dtype, shape: shape as number[], values });
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1])
      throw fail(`tensors ${ranges[i - 1][2]} and ${ranges[i][2]} overlap in the data buffer`);
  }
  return { tensors, metadata };
}

export async function readSafetensors(file: string): Promise<StFile> {
  let data: Buffer;
  try {
    // The 8-byte header length is checked against the limit and the file size before the file
    // is read, so a corrupt or hostile length fails at once whatever the file's size.
    const handle = await fsp.open(file, 'r');
    try {
      const size = (await handle.stat()).size;
      const head = Buffer.alloc(8);
      const { bytesRead } = await handle.read(head, 0, 8, 0);
      if (bytesRead === 8) {
        const n = head.readBigUInt64LE(0);
        if (n > BigInt(MAX_HEADER_BYTES))
          throw new DataError(
            `${file}: safetensors header length ${n} exceeds the 100 MB limit (corrupt or not a safetensors file)`,
          );
        if (8 + Number(n) > size)
          throw new DataError(
            `${file}: safetensors header length ${n} is larger than the file (${size} bytes): truncated or corrupt`,
          );
      }
      data = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseSafetensors(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), file);
}

export interface StWriteEntry {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Encode float32 tensors (in the given order) as a safetensors file; header padded to 8 bytes. */
export function encodeSafetensors(
  entries: StWriteEntry[],
  metadata: Record<string, string> = { format: 'pt' },
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const e of entries) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (count !== e.values.length)
      throw new Error(`safetensors: ${e.name} has ${e.values.length} values for shape [${e.shape.join(', ')}]`);
    header[e.name] = { dtype: 'F32', shape: e.shape, data_offsets: [offset, offset + count * 4] };
    offset += count * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const e of entries) {
    out.set(new Uint8Array(e.values.buffer, e.values.byteOffset, e.values.byteLength), pos);
    pos += e.values.byteLength;
  }
  return out;
}

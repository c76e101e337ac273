import { createWriteStream } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { decodeMessage, DT, DT_NAME, encodeMessage } from './proto.js';

/**
 * TensorFlow's checkpoint format (TensorBundle, "V2"), written from Node (export-formats.md §3.4):
 *   <prefix>.data-00000-of-00001   the tensors' bytes back to back, little-endian
 *   <prefix>.index                 a LevelDB-format table, keys sorted bytewise:
 *                                    ""      → BundleHeaderProto {num_shards 1, LITTLE, version {producer 1}}
 *                                    <name>  → BundleEntryProto {dtype, shape, shard_id 0, offset, size, crc32c}
 * Table: one data block (restart interval 1, no compression), an empty metaindex block, an index
 * block and the 48-byte footer. Every block has a trailer: type byte 0 + masked crc32c. TF checks
 * both the block checksums and each tensor's crc32c on restore.
 */

// ---------------------------------------------------------------- crc32c (Castagnoli)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** crc32c of `data`, continuing from `crc` (0 to start). crc32c("123456789") = 0xe3069283. */
export function crc32c(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const MASK_DELTA = 0xa282ead8;
/** LevelDB/TF masked crc: rotate right by 15, add a constant. */
export function maskCrc(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + MASK_DELTA) >>> 0;
}
export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}

// ---------------------------------------------------------------- LevelDB table

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function readVarint(buf: Uint8Array, at: number): [number, number] {
  let n = 0;
  let mul = 1;
  for (;;) {
    if (at >= buf.length) throw new Error('TensorBundle index: truncated varint');
    const b = buf[at++];
    n += (b & 0x7f) * mul;
    if (!(b & 0x80)) return [n, at];
    mul *= 0x80;
  }
}

function u32le(n: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** A block: entries with restart interval 1 (no shared prefixes), restart offsets, restart count. */
function block(entries: Array<[Uint8Array, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [];
  const restarts: number[] = [];
  let off = 0;
  for (const [k, v] of entries) {
    restarts.push(off);
    const head = Uint8Array.from([...varint(0), ...varint(k.length), ...varint(v.length)]);
    parts.push(head, k, v);
    off += head.length + k.length + v.length;
  }
  if (restarts.length === 0) restarts.push(0);
  for (const r of restarts) parts.push(u32le(r));
  parts.push(u32le(restarts.length));
  return Buffer.concat(parts);
}

const TABLE_MAGIC_LO = 0x8b80fb57;
const TABLE_MAGIC_HI = 0xdb477524;

export function writeTable(entries: Array<[Uint8Array, Uint8Array]>): Uint8Array {
  for (let i = 1; i < entries.length; i++) {
    if (Buffer.compare(entries[i - 1][0], entries[i][0]) >= 0)
      throw new Error('TensorBundle index: keys must be unique and sorted bytewise');
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const put = (contents: Uint8Array): number[] => {
    const type = Uint8Array.from([0]);
    const crc = maskCrc(crc32c(type, crc32c(contents)));
    chunks.push(contents, type, u32le(crc));
    const handle = [...varint(offset), ...varint(contents.length)];
    offset += contents.length + 5;
    return handle;
  };
  const dataHandle = put(block(entries));
  const metaHandle = put(block([]));
  const lastKey = entries.length ? entries[entries.length - 1][0] : new Uint8Array(0);
  const indexHandle = put(block([[lastKey, Uint8Array.from(dataHandle)]]));
  const footer = Buffer.alloc(48);
  Buffer.from([...metaHandle, ...indexHandle]).copy(footer, 0);
  footer.writeUInt32LE(TABLE_MAGIC_LO, 40);
  footer.writeUInt32LE(TABLE_MAGIC_HI, 44);
  return Buffer.concat([...chunks, footer]);
}

/** Read a table written by any LevelDB-format writer with uncompressed blocks (TF's included). */
export function readTable(buf: Uint8Array): Array<[Uint8Array, Uint8Array]> {
  if (buf.length < 48) throw new Error('TensorBundle index: shorter than a table footer');
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const f = buf.length - 48;
  if (b.readUInt32LE(f + 40) !== TABLE_MAGIC_LO || b.readUInt32LE(f + 44) !== TABLE_MAGIC_HI)
    throw new Error('TensorBundle index: bad table magic');
  // The footer holds two block handles (metaindex, index), each two varints; only the index is read.
  const [, afterMetaOff] = readVarint(buf, f);
  const [, afterMetaSize] = readVarint(buf, afterMetaOff);
  const [indexOff, afterIndexOff] = readVarint(buf, afterMetaSize);
  const [indexSize] = readVarint(buf, afterIndexOff);
  const readBlock = (off: number, size: number): Array<[Uint8Array, Uint8Array]> => {
    const contents = buf.subarray(off, off + size);
    const type = buf[off + size];
    if (type !== 0) throw new Error(`TensorBundle index: compressed block (type ${type}) not supported`);
    const want = b.readUInt32LE(off + size + 1);
    if (maskCrc(crc32c(buf.subarray(off + size, off + size + 1), crc32c(contents))) !== want)
      throw new Error('TensorBundle index: block checksum mismatch');
    const nRestarts = Buffer.from(contents.buffer, contents.byteOffset, contents.byteLength).readUInt32LE(size - 4);
    const end = size - 4 - 4 * nRestarts;
    const out: Array<[Uint8Array, Uint8Array]> = [];
    let p = 0;
    let prev = new Uint8Array(0);
    while (p < end) {
      const [shared, p1] = readVarint(contents, p);
      const [nonShared, p2] = readVarint(contents, p1);
      const [valLen, p3] = readVarint(contents, p2);
      p = p3;
      const key = Buffer.concat([prev.subarray(0, shared), contents.subarray(p, p + nonShared)]);
      p += nonShared;
      out.push([key, contents.slice(p, p + valLen)]);
      p += valLen;
      prev = key;
    }
    return out;
  };
  const entries: Array<[Uint8Array, Uint8Array]> = [];
  for (const [, handle] of readBlock(indexOff, indexSize)) {
    const [off, q] = readVarint(handle, 0);
    const [size] = readVarint(handle, q);
    entries.push(...readBlock(off, size));
  }
  return entries;
}

// ---------------------------------------------------------------- bundle

export interface BundleTensor {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  values: () => Promise<Float32Array | Int32Array>;
}

export const BUNDLE_DATA_SUFFIX = '.data-00000-of-00001';
export const BUNDLE_INDEX_SUFFIX = '.index';

const dtypeCode = { float32: DT.DT_FLOAT, int32: DT.DT_INT32 } as const;

/**
 * Write `<prefix>.index` and `<prefix>.data-00000-of-00001`. Tensors are streamed one at a time
 * into the data file, in key order (TF's own writer order); values() is called once per tensor.
 */
export async function writeBundle(prefix: string, tensors: BundleTensor[]): Promise<{ dataBytes: number }> {
  const sorted = [...tensors].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const stream = createWriteStream(prefix + BUNDLE_DATA_SUFFIX);
  const entries: Array<[Uint8Array, Uint8Array]> = [
    [new Uint8Array(0), encodeMessage('BundleHeaderProto', { numShards: 1, endianness: 0, version: { producer: 1 } })],
  ];
  let offset = 0;
  for (const t of sorted) {
    const v = await t.values();
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (v.length !== expected)
      throw new Error(
        `TensorBundle: ${t.name} has ${v.length} values, shape [${t.shape.join(', ')}] needs ${expected}`,
      );
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    if (!stream.write(Buffer.from(bytes))) await new Promise<void>((r) => stream.once('drain', () => r()));
    entries.push([
      Buffer.from(t.name, 'utf8'),
      encodeMessage('BundleEntryProto', {
        dtype: dtypeCode[t.dtype],
        shape: { dim: t.shape.map((size) => ({ size })) },
        shardId: 0,
        offset,
        size: bytes.byteLength,
        crc32c: maskCrc(crc32c(bytes)),
      }),
    ]);
    offset += bytes.byteLength;
  }
  stream.end();
  await finished(stream);
  await writeFile(prefix + BUNDLE_INDEX_SUFFIX, writeTable(entries));
  return { dataBytes: offset };
}

export interface BundleEntry {
  name: string;
  dtype: string;
  shape: number[];
  offset: number;
  size: number;
  crc32c: number;
}

/** Read the index (header checked) → entries, without tensor data. */
export async function readBundleIndex(prefix: string): Promise<BundleEntry[]> {
  const table = readTable(await readFile(prefix + BUNDLE_INDEX_SUFFIX));
  if (table.length === 0 || table[0][0].length !== 0)
    throw new Error(`${prefix}${BUNDLE_INDEX_SUFFIX}: no bundle header`);
  const header = decodeMessage<{ numShards?: number; endianness?: string }>('BundleHeaderProto', table[0][1]);
  if ((header.numShards ?? 0) !== 1)
    throw new Error(`${prefix}${BUNDLE_INDEX_SUFFIX}: ${header.numShards} shards; only 1 is supported`);
  if (header.endianness && header.endianness !== 'LITTLE')
    throw new Error(`${prefix}${BUNDLE_INDEX_SUFFIX}: big-endian bundle`);
  return table.slice(1).map(([k, v]) => {
    const e = decodeMessage<{
      dtype?: string;
      shape?: { dim?: Array<{ size?: number }> };
      offset?: number;
      size?: number;
      crc32c?: number;
    }>('BundleEntryProto', v);
    return {
      name: Buffer.from(k).toString('utf8'),
      dtype: e.dtype ?? DT_NAME[0],
      shape: (e.shape?.dim ?? []).map((d) => Number(d.size ?? 0)),
      offset: e.offset ?? 0,
      size: e.size ?? 0,
      crc32c: e.crc32c ?? 0,
    };
  });
}

/** Read every tensor, verifying each crc32c. float32 and int32 only. */
export async function readBundle(
  prefix: string,
): Promise<Map<string, { dtype: string; shape: number[]; values: Float32Array | Int32Array }>> {
  const entries = await readBundleIndex(prefix);
  const fh = await open(prefix + BUNDLE_DATA_SUFFIX, 'r');
  const out = new Map<string, { dtype: string; shape: number[]; values: Float32Array | Int32Array }>();
  try {
    for (const e of entries) {
      const buf = new Uint8Array(e.size);
      const { bytesRead } = await fh.read(buf, 0, e.size, e.offset);
      if (bytesRead !== e.size) throw new Error(`${prefix}${BUNDLE_DATA_SUFFIX}: ${e.name} is truncated`);
      if (maskCrc(crc32c(buf)) !== e.crc32c)
        throw new Error(`${prefix}${BUNDLE_DATA_SUFFIX}: ${e.name} fails its crc32c check`);
      const values =
        e.dtype === 'DT_FLOAT'
          ? new Float32Array(buf.buffer)
          : e.dtype === 'DT_INT32'
            ? new Int32Array(buf.buffer)
            : null;
      if (!values)
        throw new Error(
          `${prefix}${BUNDLE_INDEX_SUFFIX}: ${e.name} has dtype ${e.dtype}; only DT_FLOAT and DT_INT32 are read`,
        );
      out.set(e.name, { dtype: e.dtype, shape: e.shape, values });
    }
  } finally {
    await fh.close();
  }
  return out;
}

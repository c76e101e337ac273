import { DT } from './tf-proto.js';

/**
 * Writing TensorFlow GraphDefs: NodeDefs as plain objects in protobufjs's camelCase form, and a
 * builder that keeps node names unique and shares identical Consts. Used by the SavedModel exporter
 * (export/tf/) and the compiled training step (train/compiled/).
 */

export interface AttrValue {
  type?: number;
  i?: number;
  f?: number;
  b?: boolean;
  s?: Uint8Array;
  shape?: { dim?: Array<{ size: number }>; unknownRank?: boolean };
  tensor?: TensorValue;
  list?: { type?: number[]; s?: Uint8Array[]; i?: number[] };
}

export interface TensorValue {
  dtype: number;
  tensorShape: { dim: Array<{ size: number }> };
  tensorContent?: Uint8Array;
  stringVal?: Uint8Array[];
}

export interface NodeDef {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, AttrValue>;
}

export const T = (dt: number): AttrValue => ({ type: dt });
export const shapeAttr = (dims: number[]): AttrValue => ({ shape: { dim: dims.map((size) => ({ size })) } });

function bytesOf(a: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

export function tensorValue(dtype: number, dims: number[], values: Float32Array | Int32Array): TensorValue {
  return { dtype, tensorShape: { dim: dims.map((size) => ({ size })) }, tensorContent: bytesOf(values) };
}

export function stringTensor(dims: number[], values: string[]): TensorValue {
  return {
    dtype: DT.DT_STRING,
    tensorShape: { dim: dims.map((size) => ({ size })) },
    stringVal: values.map((v) => Buffer.from(v, 'utf8')),
  };
}

export class GraphDefBuilder {
  readonly nodes: NodeDef[] = [];
  private readonly names = new Set<string>();
  private readonly consts = new Map<string, string>();

  unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    return name;
  }

  add(name: string, op: string, input: string[], attr: Record<string, AttrValue> = {}): string {
    if (this.names.has(name)) throw new Error(`GraphDef: node name ${name} used twice`);
    if (!/^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$/.test(name))
      throw new Error(`GraphDef: invalid node name ${JSON.stringify(name)}`);
    this.names.add(name);
    this.nodes.push({ name, op, input, attr });
    return name;
  }

  const(base: string, dtype: number, dims: number[], values: Float32Array | Int32Array, dedup = true): string {
    const key = `${dtype}:${dims.join('x')}:${Array.from(values).join(',')}`;
    const hit = dedup ? this.consts.get(key) : undefined;
    if (hit) return hit;
    const name = this.add(this.unique(base), 'Const', [], {
      dtype: T(dtype),
      value: { tensor: tensorValue(dtype, dims, values) },
    });
    if (dedup) this.consts.set(key, name);
    return name;
  }

  f32(values: number[], dims: number[] = []): string {
    const label = values.length === 1 ? String(values[0]).replace(/[^0-9a-zA-Z]/g, '_') : `${values.length}`;
    return this.const(`const/f32_${label}`, DT.DT_FLOAT, dims, Float32Array.from(values));
  }

  i32(values: number[], dims: number[] = [values.length]): string {
    return this.const(
      `const/i32_${values.map((v) => String(v).replace('-', 'm')).join('_')}${dims.length ? '' : '_scalar'}`,
      DT.DT_INT32,
      dims,
      Int32Array.from(values),
    );
  }
}

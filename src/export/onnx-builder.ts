import onnxProto from 'onnx-proto';

/** The ONNX emitter's building blocks (onnx.ts lowers the inference graph with them). */

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
type IAttr = onnxProto.onnx.IAttributeProto;

export const F32 = onnx.TensorProto.DataType.FLOAT;
export const I64 = onnx.TensorProto.DataType.INT64;
const AT = onnx.AttributeProto.AttributeType;

export const attrI = (name: string, i: number): IAttr => ({ name, type: AT.INT, i });
export const attrF = (name: string, f: number): IAttr => ({ name, type: AT.FLOAT, f });
export const attrInts = (name: string, ints: number[]): IAttr => ({ name, type: AT.INTS, ints });

export function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  // A fresh copy: never hand protobuf a view into a larger (possibly pooled) buffer.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}

/** Nodes and initializers under construction, with de-duplicated constants. */
export class OnnxGraphBuilder {
  readonly nodes: INode[] = [];
  readonly initializers: ITensor[] = [];
  private readonly consts = new Map<string, string>();
  private readonly names = new Set<string>();

  unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph: name ${name} used twice`);
    this.names.add(name);
    return name;
  }

  node(opType: string, inputs: string[], out: string, attribute: IAttr[] = []): string {
    this.nodes.push({ opType, input: inputs, output: [out], name: out, attribute });
    return out;
  }

  nodeMulti(opType: string, inputs: string[], outs: string[], attribute: IAttr[] = []): string[] {
    this.nodes.push({ opType, input: inputs, output: outs, name: outs[0], attribute });
    return outs;
  }

  constF32(values: number[], dims: number[]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.unique(
        `const_f32_${values.length === 1 ? String(values[0]).replace(/[^0-9a-zA-Z]/g, '_') : this.consts.size}`,
      );
      this.initializers.push({ name, dims, dataType: F32, rawData: bytesOf(Float32Array.from(values)) });
      this.consts.set(key, name);
    }
    return name;
  }

  constI64(values: number[], dims: number[]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.unique(
        `const_i64_${values.map((v) => String(v).replace('-', 'm')).join('_')}${dims.length ? '' : '_scalar'}`,
      );
      this.initializers.push({ name, dims, dataType: I64, rawData: bytesOf(BigInt64Array.from(values.map(BigInt))) });
      this.consts.set(key, name);
    }
    return name;
  }
}

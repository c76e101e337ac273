import type { NodeDef } from '../../model/graph/tf-emit.js';

/**
 * A static check of a GraphDef against the op signatures TF 2.21 registers (export-formats.md
 * §3.3): every op known, every attr without a default present, the data-input count right, every
 * input resolving to an existing node (and output index), names unique, Const shapes matching
 * their bytes. TF fails loudly on a missing `T` ("NodeDef missing attr"), but tfjs-converter
 * ignores type attrs, so the export runs this before writing and the tests run it on what was
 * written.
 */

interface OpSig {
  /** Attrs with no default in TF's op registry. */
  required: string[];
  /** Attrs the op has (required or with a default); anything else is an error. */
  optional?: string[];
  /** Data inputs: a number, or a function of the attrs (variadic ops). */
  inputs: number | ((n: NodeDef) => number);
  /** Outputs a consumer may reference as name:k. */
  outputs?: number | ((n: NodeDef) => number);
}

const unary = (extra: string[] = []): OpSig => ({ required: ['T', ...extra], inputs: 1 });
const binary: OpSig = { required: ['T'], inputs: 2 };

export const OP_SIGNATURES: Record<string, OpSig> = {
  Placeholder: { required: ['dtype'], optional: ['shape'], inputs: 0 },
  PlaceholderWithDefault: { required: ['dtype', 'shape'], inputs: 1 },
  Const: { required: ['dtype', 'value'], inputs: 0 },
  Identity: unary(),
  VarHandleOp: { required: ['dtype', 'shape'], optional: ['container', 'shared_name', 'allowed_devices'], inputs: 0 },
  ReadVariableOp: { required: ['dtype'], inputs: 1 },
  AssignVariableOp: { required: ['dtype'], optional: ['validate_shape'], inputs: 2 },
  SaveV2: { required: ['dtypes'], inputs: (n) => 3 + (n.attr.dtypes?.list?.type?.length ?? 0), outputs: 0 },
  RestoreV2: { required: ['dtypes'], inputs: 3, outputs: (n) => n.attr.dtypes?.list?.type?.length ?? 0 },
  NoOp: { required: [], inputs: 0, outputs: 0 },
  GatherV2: { required: ['Tparams', 'Tindices', 'Taxis'], optional: ['batch_dims'], inputs: 3 },
  AddV2: binary,
  Sub: binary,
  Mul: binary,
  RealDiv: binary,
  Maximum: binary,
  Pow: binary,
  SquaredDifference: binary,
  Square: unary(),
  Rsqrt: unary(),
  Sqrt: unary(),
  Erf: unary(),
  Tanh: unary(),
  Relu: unary(),
  Softmax: unary(),
  MatMul: { required: ['T'], optional: ['transpose_a', 'transpose_b'], inputs: 2 },
  BatchMatMulV2: { required: ['T'], optional: ['adj_x', 'adj_y'], inputs: 2 },
  Reshape: { required: ['T'], optional: ['Tshape'], inputs: 2 },
  Transpose: { required: ['T'], optional: ['Tperm'], inputs: 2 },
  Mean: { required: ['T'], optional: ['Tidx', 'keep_dims'], inputs: 2 },
  Sum: { required: ['T'], optional: ['Tidx', 'keep_dims'], inputs: 2 },
  Cast: { required: ['SrcT', 'DstT'], optional: ['Truncate'], inputs: 1 },
  StridedSlice: {
    required: ['T', 'Index'],
    optional: ['begin_mask', 'end_mask', 'ellipsis_mask', 'new_axis_mask', 'shrink_axis_mask'],
    inputs: 4,
  },
  ExpandDims: { required: ['T'], optional: ['Tdim'], inputs: 2 },
  Shape: { required: ['T'], optional: ['out_type'], inputs: 1 },
  ConcatV2: { required: ['N', 'T'], optional: ['Tidx'], inputs: (n) => Number(n.attr.N?.i ?? 0) + 1 },
};

const DTYPE_BYTES: Record<string, number> = { '1': 4, DT_FLOAT: 4, '3': 4, DT_INT32: 4, '9': 8, DT_INT64: 8 };

/** Every problem found, one line each naming the node; empty when the graph is well formed. */
export function checkGraphDef(nodes: NodeDef[], extraTensors: string[] = []): string[] {
  const problems: string[] = [];
  const byName = new Map<string, NodeDef>();
  for (const n of nodes) {
    if (byName.has(n.name)) problems.push(`${n.name}: node name used twice`);
    byName.set(n.name, n);
  }
  const outputsOf = (n: NodeDef): number => {
    const sig = OP_SIGNATURES[n.op];
    if (!sig || sig.outputs === undefined) return 1;
    return typeof sig.outputs === 'number' ? sig.outputs : sig.outputs(n);
  };
  const resolve = (ref: string, who: string) => {
    const control = ref.startsWith('^');
    const [name, idx] = (control ? ref.slice(1) : ref).split(':');
    const target = byName.get(name);
    if (!target) return problems.push(`${who}: input ${ref} names no node`);
    const k = idx === undefined ? 0 : Number(idx);
    if (!control && (!Number.isInteger(k) || k < 0 || k >= outputsOf(target)))
      problems.push(`${who}: input ${ref}: ${target.op} ${name} has no output ${k}`);
  };
  for (const n of nodes) {
    const sig = OP_SIGNATURES[n.op];
    if (!sig) {
      problems.push(`${n.name}: op ${n.op} is not in the supported op list`);
      continue;
    }
    const attrs = Object.keys(n.attr ?? {});
    for (const a of sig.required)
      if (!attrs.includes(a)) problems.push(`${n.name}: ${n.op} is missing required attr '${a}'`);
    for (const a of attrs) {
      if (!sig.required.includes(a) && !(sig.optional ?? []).includes(a))
        problems.push(`${n.name}: ${n.op} has no attr '${a}'`);
    }
    const data = n.input.filter((i) => !i.startsWith('^'));
    const want = typeof sig.inputs === 'number' ? sig.inputs : sig.inputs(n);
    if (data.length !== want) problems.push(`${n.name}: ${n.op} takes ${want} data input(s), has ${data.length}`);
    if (
      n.input.findIndex((i) => i.startsWith('^')) !== -1 &&
      n.input.findIndex((i) => i.startsWith('^')) < data.length
    ) {
      problems.push(`${n.name}: control inputs must come after data inputs`);
    }
    for (const i of n.input) resolve(i, n.name);
    if (n.op === 'Const') {
      const t = n.attr.value?.tensor;
      if (!t) continue;
      const dims = (t.tensorShape?.dim ?? []).map((d) => Number(d.size));
      if (dims.some((d) => !Number.isInteger(d) || d < 0))
        problems.push(`${n.name}: Const shape [${dims.join(', ')}] is not fully defined`);
      const count = dims.reduce((a, b) => a * b, 1);
      if (t.tensorContent) {
        const per = DTYPE_BYTES[String(t.dtype)];
        if (per && t.tensorContent.length !== count * per)
          problems.push(`${n.name}: Const has ${t.tensorContent.length} bytes for shape [${dims.join(', ')}]`);
      } else if (t.stringVal && t.stringVal.length !== count)
        problems.push(`${n.name}: Const has ${t.stringVal.length} strings for shape [${dims.join(', ')}]`);
      if (String(n.attr.dtype?.type) !== String(t.dtype))
        problems.push(`${n.name}: Const dtype attr ${n.attr.dtype?.type} differs from its tensor's ${t.dtype}`);
    }
  }
  for (const t of extraTensors) resolve(t, 'signature');
  return problems;
}

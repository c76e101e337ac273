import type { Params } from '../model/index.js';

/** A parameter's float32 values, checked against the shape the graph expects. */
export async function weightValues(params: Params, name: string, dims: readonly number[]): Promise<Float32Array> {
  const t = params.get(name);
  if (!t) throw new Error(`export: parameter ${name} is missing`);
  if (t.dtype !== 'float32') throw new Error(`export: parameter ${name} is ${t.dtype}, expected float32`);
  if (t.shape.join(',') !== dims.join(','))
    throw new Error(`export: parameter ${name} is [${t.shape.join(', ')}], expected [${dims.join(', ')}]`);
  return (await t.data()) as Float32Array;
}

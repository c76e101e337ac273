// The graph gradients addon that `npm run setup:native` builds next to the tfjs-node binding
// (scripts/native/graph_gradients.c): TF_AddGradients over a GraphDef, for the compiled training step.
import path from 'node:path';
import { createRequire } from 'node:module';
import type { LoadedNative } from './native.js';

const require = createRequire(import.meta.url);

export interface GraphGradients {
  /** Import `graphDef`, add d y / d xs, return the whole graph and each gradient's tensor name (null: none). */
  addGradients(graphDef: Uint8Array, y: string, xs: string[]): { graphDef: Uint8Array; grads: Array<string | null> };
  /** TF_Version() of the libtensorflow it is linked against. */
  version(): string;
}

/**
 * The addon of the loaded native package's cached build, or undefined when there is none (a build
 * from before the addon existed, a binding not from the cache, the wasm or cpu backend): callers
 * then keep the eager step. Never throws.
 */
export function loadGraphGradients(loaded: LoadedNative | undefined): GraphGradients | undefined {
  const entry = loaded?.status.source === 'cache' ? loaded.status.cacheEntry : undefined;
  const file = entry?.manifest.graphGradients;
  if (!entry || !file) return undefined;
  try {
    return require(path.join(entry.dir, file)) as GraphGradients;
  } catch {
    return undefined;
  }
}

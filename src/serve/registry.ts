import type { Logger } from '../lib/log.js';
import type { ServeMetrics } from './metrics.js';
import { closeWhenIdle, loadServedModel, type LoadedModel, type RuntimeOptions } from './models.js';

export interface ModelSpec {
  name: string;
  /** The export directory, fixed at start: a request names a model, never a path. */
  dir: string;
}

export interface ReloadResult {
  name: string;
  ok: boolean;
  sha256: string;
  /** Why the new export was refused (the old one keeps serving). */
  error?: string;
}

/**
 * The served models by name. A reload loads and warms the new export beside the old one and swaps
 * it in with one assignment: requests that hold the old model finish on it, and it closes when the
 * last of them ends. A reload that fails leaves the old model serving and says why.
 */
export class ModelRegistry {
  private readonly current = new Map<string, LoadedModel>();
  private retiring: Promise<void>[] = [];
  private reloading: Promise<unknown> = Promise.resolve();

  constructor(
    readonly specs: ModelSpec[],
    private readonly rt: RuntimeOptions,
    private readonly log: Logger,
    private readonly metrics: ServeMetrics,
  ) {}

  /** Load every model (start-up): any failure is the service's failure. */
  async loadAll(): Promise<void> {
    for (const spec of this.specs) {
      const m = await loadServedModel(spec.name, spec.dir, this.rt, this.log);
      this.install(m);
      this.log.info(`model ${spec.name}: ${m.model.modelPath} (sha256 ${m.sha256.slice(0, 12)}…) ready`);
    }
  }

  get ready(): boolean {
    return this.current.size === this.specs.length;
  }

  list(): LoadedModel[] {
    return [...this.current.values()];
  }

  /** The model to answer one request with; `release` it when the answer is sent. */
  acquire(name: string): LoadedModel | undefined {
    const m = this.current.get(name);
    if (m) m.active++;
    return m;
  }

  release(m: LoadedModel): void {
    m.active--;
    if (m.retired && m.active === 0) this.retire(m);
  }

  /** Reload the named models (all when none named), one reload at a time. */
  reload(names?: string[]): Promise<ReloadResult[]> {
    const specs = names?.length ? this.specs.filter((s) => names.includes(s.name)) : this.specs;
    const next = this.reloading.then(() => Promise.all(specs.map((s) => this.reloadOne(s))));
    this.reloading = next.catch(() => {});
    return next;
  }

  private async reloadOne(spec: ModelSpec): Promise<ReloadResult> {
    const old = this.current.get(spec.name);
    try {
      const m = await loadServedModel(spec.name, spec.dir, this.rt, this.log);
      this.install(m);
      if (old) {
        old.retired = true;
        if (old.active === 0) this.retire(old);
      }
      this.metrics.reloads.inc({ model: spec.name, result: 'ok' });
      this.log.info(`model ${spec.name}: reloaded (sha256 ${m.sha256.slice(0, 12)}…)`);
      return { name: spec.name, ok: true, sha256: m.sha256 };
    } catch (err) {
      const error = (err as Error).message.split('\n')[0];
      this.metrics.reloads.inc({ model: spec.name, result: 'failed' });
      this.log.warn(`model ${spec.name}: reload failed, the loaded model keeps serving: ${error}`);
      return { name: spec.name, ok: false, sha256: old?.sha256 ?? '', error };
    }
  }

  private install(m: LoadedModel): void {
    this.current.set(m.name, m);
    this.metrics.loadSeconds.set({ model: m.name }, m.loadSeconds);
  }

  private retire(m: LoadedModel): void {
    this.retiring.push(closeWhenIdle(m).catch((err) => this.log.warn(`model ${m.name}: close failed: ${err}`)));
  }

  /** After the server stopped taking requests: let the batches run out, then close every session. */
  async closeAll(): Promise<void> {
    await this.reloading;
    for (const m of this.current.values()) this.retire(m);
    this.current.clear();
    await Promise.all(this.retiring);
  }
}
